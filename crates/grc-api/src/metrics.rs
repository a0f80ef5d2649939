//! Prometheus metrics, served at `/metrics` in the text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::Mutex;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    status: String,
}

/// Distinct operation names kept as labels; later ones are counted as `other`, so a client
/// cannot blow up the series count with made-up names.
const MAX_OPERATION_LABELS: usize = 200;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

/// The process's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<OperationLabels, Counter>,
    latency: Family<OperationLabels, Histogram, fn() -> Histogram>,
    errors: Family<CodeLabels, Counter>,
    http: Family<HttpLabels, Counter>,
    seen_operations: Mutex<HashSet<String>>,
    /// Registries of other parts of the process (the worker's, when `grc serve` runs it),
    /// encoded after this one.
    attached: Mutex<Vec<Registry>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("grc");
        let requests = Family::<OperationLabels, Counter>::default();
        let latency = Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let errors = Family::<CodeLabels, Counter>::default();
        let http = Family::<HttpLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL requests by operation name",
            requests.clone(),
        );
        registry.register(
            "graphql_request_duration_seconds",
            "GraphQL request latency by operation name",
            latency.clone(),
        );
        registry.register("graphql_errors", "GraphQL errors by code", errors.clone());
        registry.register("http_responses", "HTTP responses by status", http.clone());
        Self {
            registry,
            requests,
            latency,
            errors,
            http,
            seen_operations: Mutex::new(HashSet::new()),
            attached: Mutex::new(Vec::new()),
        }
    }
}

impl Metrics {
    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| {
            !n.is_empty()
                && n.len() <= 64
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }) else {
            return "anonymous".into();
        };
        let mut seen = self
            .seen_operations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.contains(name) || seen.len() < MAX_OPERATION_LABELS {
            seen.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Records one GraphQL request.
    pub fn graphql(&self, operation: Option<&str>, seconds: f64, error_codes: &[&str]) {
        let labels = OperationLabels {
            operation: self.operation_label(operation),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
        for code in error_codes {
            self.errors
                .get_or_create(&CodeLabels {
                    code: (*code).to_owned(),
                })
                .inc();
        }
    }

    /// Records an error answered before the schema ran (authentication, limits).
    pub fn error(&self, code: &str) {
        self.errors
            .get_or_create(&CodeLabels {
                code: code.to_owned(),
            })
            .inc();
    }

    pub fn http_status(&self, status: u16) {
        self.http
            .get_or_create(&HttpLabels {
                status: status.to_string(),
            })
            .inc();
    }

    /// Adds a registry of another part of the process (its metrics take the `grc` prefix
    /// when `registry` was made with it) to the exposition.
    pub fn attach(&self, registry: Registry) {
        if let Ok(mut a) = self.attached.lock() {
            a.push(registry);
        }
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        use prometheus_client::encoding::text::{encode_eof, encode_registry};
        let mut out = String::new();
        let attached = self.attached.lock().ok();
        let ok = encode_registry(&mut out, &self.registry).is_ok()
            && attached
                .iter()
                .flat_map(|a| a.iter())
                .all(|r| encode_registry(&mut out, r).is_ok())
            && encode_eof(&mut out).is_ok();
        if !ok {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        let m = Metrics::default();
        m.graphql(Some("Viewer"), 0.001, &[]);
        m.graphql(Some("bad name!"), 0.001, &["BAD_USER_INPUT"]);
        for i in 0..(MAX_OPERATION_LABELS + 10) {
            m.graphql(Some(&format!("Op{i}")), 0.001, &[]);
        }
        let text = m.encode();
        assert!(
            text.contains("grc_graphql_requests_total{operation=\"Viewer\"} 1"),
            "{text}"
        );
        assert!(text.contains("operation=\"anonymous\""));
        assert!(text.contains("operation=\"other\""));
        assert!(text.contains("grc_graphql_errors_total{code=\"BAD_USER_INPUT\"} 1"));
        assert!(text.contains("grc_graphql_request_duration_seconds_bucket"));
    }
}
