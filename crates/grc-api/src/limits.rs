//! Query limits, checked in one extension: tokens before parsing, aliases after parsing, depth
//! and complexity from the validation result. Each failure is `QUERY_TOO_COMPLEX`; a document
//! that does not parse or validate is `BAD_USER_INPUT`. The extension also records which phase
//! failed, so the HTTP layer can answer 400.

use crate::errors::ErrorCode;
use crate::graphql::SchemaLimits;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Whether a request failed before execution (0: no; 1: rejected).
#[derive(Debug, Default)]
pub struct RequestPhase(AtomicU8);

impl RequestPhase {
    const REJECTED: u8 = 1;

    /// Whether the document was rejected before execution (parse, validation or a limit).
    pub fn rejected(&self) -> bool {
        self.0.load(Ordering::Relaxed) == Self::REJECTED
    }
    fn reject(&self) {
        self.0.store(Self::REJECTED, Ordering::Relaxed);
    }
}

fn error(code: ErrorCode, message: impl Into<String>) -> ServerError {
    let mut e = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code.as_str());
    e.extensions = Some(ext);
    e
}

/// The extension factory.
#[derive(Debug, Clone, Copy)]
pub struct Limits(SchemaLimits);

impl Limits {
    pub fn new(limits: SchemaLimits) -> Self {
        Self(limits)
    }
}

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension(self.0))
    }
}

struct LimitsExtension(SchemaLimits);

fn mark(ctx: &ExtensionContext<'_>) {
    if let Some(p) = ctx.data_opt::<Arc<RequestPhase>>() {
        p.reject();
    }
}

/// Codes for errors async-graphql raised itself (parse and validation errors carry none).
fn with_code(mut errors: Vec<ServerError>, code: ErrorCode) -> Vec<ServerError> {
    for e in &mut errors {
        let has = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if !has {
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", code.as_str());
        }
    }
    errors
}

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if count_tokens(query, self.0.max_tokens).is_none() {
            mark(ctx);
            return Err(error(
                ErrorCode::QueryTooComplex,
                format!("the document has more than {} tokens", self.0.max_tokens),
            ));
        }
        let doc = next.run(ctx, query, variables).await.map_err(|mut e| {
            mark(ctx);
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::BadUserInput.as_str());
            e
        })?;
        let aliases = count_aliases(&doc);
        if aliases > self.0.max_aliases {
            mark(ctx);
            return Err(error(
                ErrorCode::QueryTooComplex,
                format!(
                    "the document has {aliases} aliases; at most {} are allowed",
                    self.0.max_aliases
                ),
            ));
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            mark(ctx);
            with_code(errors, ErrorCode::BadUserInput)
        })?;
        if result.depth > self.0.max_depth {
            mark(ctx);
            return Err(vec![error(
                ErrorCode::QueryTooComplex,
                format!(
                    "the query is {} levels deep; at most {} are allowed",
                    result.depth, self.0.max_depth
                ),
            )]);
        }
        if result.complexity > self.0.max_complexity {
            mark(ctx);
            return Err(vec![error(
                ErrorCode::QueryTooComplex,
                format!(
                    "the query's complexity is {}; at most {} is allowed",
                    result.complexity, self.0.max_complexity
                ),
            )]);
        }
        Ok(result)
    }
}

fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + walk(&f.node.selection_set.node)
                }
                Selection::InlineFragment(i) => walk(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    doc.operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .chain(
            doc.fragments
                .values()
                .map(|f| walk(&f.node.selection_set.node)),
        )
        .sum()
}

/// Counts the lexical tokens of a GraphQL document, stopping at `max`: `None` when there are
/// more. Ignored tokens (white space, commas, comments) do not count; a malformed document is
/// counted as far as it goes and left for the parser to refuse.
pub fn count_tokens(src: &str, max: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut n = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                if b[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                        i += if b[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if b[i..].starts_with(b"...") => i += 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'0'..=b'9' => {
                i += 1;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        n += 1;
        if n > max {
            return None;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(count_tokens("{ viewer { user { id } } }", 100), Some(9));
        assert_eq!(
            count_tokens("query Q($a: Int = -1.5e3) { f(a: $a) }", 100),
            Some(19)
        );
        assert_eq!(count_tokens("# comment\n{ a, b }", 100), Some(4));
        assert_eq!(
            count_tokens(r#"{ f(s: "a \" b", t: """x "" y""") }"#, 100),
            Some(11)
        );
        assert_eq!(count_tokens("{ ...F }", 100), Some(4));
        assert_eq!(count_tokens(&"{ a ".repeat(50), 99), None);
        assert_eq!(count_tokens("", 1), Some(0));
    }

    #[test]
    fn aliases() {
        let doc = async_graphql::parser::parse_query(
            "{ a: viewer { b: user { id } } ...F } fragment F on Query { c: tenant { id } }",
        )
        .expect("parses");
        assert_eq!(count_aliases(&doc), 3);
    }
}
