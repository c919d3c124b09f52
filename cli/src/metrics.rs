//! Metrics wiring: which components' metrics are served where. `tidemark up` serves every component's on the
//! connect listener's `GET /metrics` (one text), `tidemark registry` its own on the registry listener, and
//! `tidemark broker --metrics-listen` the broker's on a listener of their own ([`serve`]).

use std::future::Future;
use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use prometheus_client::registry::Registry;
use tidemark_broker::Broker;
use tidemark_connect::metrics::OPENMETRICS_CONTENT_TYPE;
use tokio::net::TcpListener;

/// The broker's and the schema registry's metrics in one registry, for the connect worker to serve with its own.
pub fn embedded(broker: &Broker, registry: &tidemark_schema_registry::Registry) -> Registry {
    let mut metrics = Registry::default();
    broker.metrics().register(&mut metrics);
    registry.metrics().register(&mut metrics);
    metrics
}

/// Serves the broker's metrics on `GET /metrics` of an already-bound listener until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    broker: &Broker,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut registry = Registry::default();
    broker.metrics().register(&mut registry);
    let registry = Arc::new(registry);
    let route = get(move || async move {
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &registry) {
            tracing::warn!(error = %e, "encoding metrics failed");
        }
        ([(CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)], text)
    });
    tracing::info!(address = %listener.local_addr()?, "metrics listener ready");
    axum::serve(listener, Router::new().route("/metrics", route)).with_graceful_shutdown(shutdown).await
}
