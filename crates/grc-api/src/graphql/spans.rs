//! GraphQL spans for tracing (and so OpenTelemetry): one span each for parsing, validation and
//! execution of a request, with the operation's name. No span per field: a crosswalk answer
//! resolves thousands of fields, and a span for each would cost more than the answer and flood
//! the trace collector. A slow field shows up inside its request's `graphql.execute` span.

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Variables};
use std::sync::Arc;
use tracing::Instrument;

/// The extension factory.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpans;

impl ExtensionFactory for RequestSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestSpansExtension)
    }
}

struct RequestSpansExtension;

#[async_trait::async_trait]
impl Extension for RequestSpansExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .instrument(tracing::info_span!("graphql.parse"))
            .await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx)
            .instrument(tracing::info_span!("graphql.validate"))
            .await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let span = tracing::info_span!(
            "graphql.execute",
            operation = operation_name.unwrap_or(""),
            errors = tracing::field::Empty
        );
        let response = next.run(ctx, operation_name).instrument(span.clone()).await;
        span.record("errors", response.errors.len());
        response
    }
}
