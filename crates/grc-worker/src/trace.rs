//! Trace links from the scheduler to delivery (issue 7, "Operations"): the scheduler's tick
//! span writes its W3C trace context into each `reminder.due` event (`traceparent`), and each
//! delivery attempt's span links to it. A link, not a parent: one tick fans out into many
//! attempts, possibly days later (retries), in other processes.
//!
//! Without an OpenTelemetry exporter (`OTEL_EXPORTER_OTLP_ENDPOINT` unset) spans carry no
//! context, nothing is written and nothing is linked.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The current span's `traceparent`, if it has a valid trace context.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    carrier.remove("traceparent")
}

/// Links the current span to the trace context in `traceparent` (if it parses).
pub fn link_current(traceparent: &str) {
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let cx = opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
    let sc = cx.span().span_context().clone();
    if sc.is_valid() {
        tracing::Span::current().add_link(sc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    #[test]
    fn a_traceparent_round_trips_through_the_propagator() {
        // W3C Trace Context, "traceparent Header": version 00, 16-byte trace id, 8-byte parent
        // id, flags 01 (sampled).
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let carrier = HashMap::from([("traceparent".to_owned(), tp.to_owned())]);
        let cx = opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
        let sc = cx.span().span_context().clone();
        assert_eq!(
            sc,
            SpanContext::new(
                TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex"),
                SpanId::from_hex("00f067aa0ba902b7").expect("hex"),
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            )
        );
        // No exporter in tests: the current span has no context, so nothing is written.
        assert_eq!(current_traceparent(), None);
        // A malformed value links nothing (and does not panic).
        link_current("not-a-traceparent");
    }
}
