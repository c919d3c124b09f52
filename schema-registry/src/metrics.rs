//! The registry's Prometheus metrics:
//!
//! - `tidemark_registry_requests_total{endpoint, method, status}`: HTTP requests by route (its path template, such
//!   as `/subjects/{subject}/versions`, or `unmatched`), method and status,
//! - `tidemark_registry_compatibility_failures_total{request}`: schemas found incompatible, by registrations refused
//!   with 409 (`request="register"`) and compatibility checks answering `is_compatible: false` (`request="check"`).
//!
//! [`RegistryMetrics::register`] adds them to a registry that may hold other components' metrics too (`tidemark up`
//! serves them all on the connect listener); [`RegistryMetrics::render`] is the registry's own `GET /metrics`.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// The media type of [`RegistryMetrics::render`]'s text.
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which request found a schema incompatible.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum CompatibilityRequest {
    /// `POST /subjects/{subject}/versions`, refused with 409.
    Register,
    /// `POST /compatibility/...`, answered `is_compatible: false`.
    Check,
}

impl EncodeLabelValue for CompatibilityRequest {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        let name = match self {
            CompatibilityRequest::Register => "register",
            CompatibilityRequest::Check => "check",
        };
        EncodeLabelValue::encode(&name, encoder)
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    request: CompatibilityRequest,
}

/// Every metric of one registry.
#[derive(Debug, Default)]
pub struct RegistryMetrics {
    requests: Family<RequestLabels, Counter>,
    compatibility_failures: Family<FailureLabels, Counter>,
}

impl RegistryMetrics {
    /// Adds every registry metric to `registry` (the same series: registering into several registries is fine).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tidemark_registry_requests",
            "HTTP requests by endpoint, method and status",
            self.requests.clone(),
        );
        registry.register(
            "tidemark_registry_compatibility_failures",
            "Schemas found incompatible, by request (register or check)",
            self.compatibility_failures.clone(),
        );
    }

    /// The registry's metrics alone, as OpenMetrics text.
    pub fn render(&self) -> String {
        let mut registry = Registry::default();
        self.register(&mut registry);
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &registry) {
            tracing::warn!(error = %e, "encoding metrics failed");
        }
        text
    }

    /// A request to `endpoint` (a route's path template) with `method` was answered with `status`.
    pub fn request(&self, endpoint: &str, method: &str, status: u16) {
        let labels = RequestLabels { endpoint: endpoint.to_owned(), method: method.to_owned(), status };
        self.requests.get_or_create(&labels).inc();
    }

    /// A schema was found incompatible by `request`.
    pub fn incompatible(&self, request: CompatibilityRequest) {
        self.compatibility_failures.get_or_create(&FailureLabels { request }).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_failures_are_rendered() {
        let metrics = RegistryMetrics::default();
        metrics.request("/subjects/{subject}/versions", "POST", 409);
        metrics.incompatible(CompatibilityRequest::Register);
        metrics.incompatible(CompatibilityRequest::Check);
        let text = metrics.render();
        for line in [
            r#"tidemark_registry_requests_total{endpoint="/subjects/{subject}/versions",method="POST",status="409"} 1"#,
            r#"tidemark_registry_compatibility_failures_total{request="register"} 1"#,
            r#"tidemark_registry_compatibility_failures_total{request="check"} 1"#,
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }
}
