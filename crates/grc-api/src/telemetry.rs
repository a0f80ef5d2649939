//! Telemetry in one place: JSON logs on standard error (pretty on a terminal), `RUST_LOG` filtering, and
//! OpenTelemetry OTLP/gRPC trace export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. The exporter
//! batches in the background: the server runs whether or not the collector is up.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::io::IsTerminal;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes traces when dropped (at shutdown).
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take()
            && let Err(e) = p.shutdown()
        {
            eprintln!("telemetry: flushing traces at shutdown failed: {e}");
        }
    }
}

/// Installs the global subscriber. Call once, inside the Tokio runtime.
pub fn init(otel_endpoint: Option<&str>) -> Result<TelemetryGuard, String> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new("info"))
        .map_err(|e| format!("RUST_LOG: {e}"))?;
    // Logs go to standard error, so that commands' output (a token, the SDL) stays clean.
    let fmt: Box<dyn Layer<_> + Send + Sync> = if std::io::stderr().is_terminal() {
        Box::new(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .pretty(),
        )
    } else {
        Box::new(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .json()
                .with_current_span(true)
                .with_span_list(false),
        )
    };
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let (otel, provider) = match otel_endpoint.filter(|e| !e.is_empty()) {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT {endpoint}: {e}"))?;
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name("grc").build())
                .build();
            let tracer = provider.tracer("grc");
            opentelemetry::global::set_tracer_provider(provider.clone());
            (
                Some(tracing_opentelemetry::layer().with_tracer(tracer)),
                Some(provider),
            )
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .map_err(|e| format!("telemetry: {e}"))?;
    Ok(TelemetryGuard { provider })
}
