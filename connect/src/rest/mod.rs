//! Kafka Connect's REST API on axum: `/connectors` and below (create, config, status, tasks, pause, resume,
//! stop, restart, topics, offsets (KIP-875), delete) and `/connector-plugins` (list, settings, validate), with Kafka
//! Connect's shapes and `{"error_code", "message"}` errors, plus `/openapi.json` (`openapi.json`, the document of
//! every path here). Secrets are hidden in every answer.

mod answer;
mod connectors;
mod offsets;
mod plugins;
mod views;

use std::sync::Arc;

use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;

use crate::worker::Worker;

pub use answer::RestError;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// The worker.
    pub worker: Arc<Worker>,
}

/// The routes.
pub fn router(worker: Arc<Worker>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/connectors", get(connectors::list).post(connectors::create))
        .route("/connectors/{name}", get(connectors::get).delete(connectors::delete))
        .route(
            "/connectors/{name}/config",
            get(connectors::get_config).put(connectors::put_config).patch(connectors::patch_config),
        )
        .route("/connectors/{name}/status", get(connectors::status))
        .route("/connectors/{name}/tasks", get(connectors::tasks))
        .route("/connectors/{name}/tasks/{task}/status", get(connectors::task_status))
        .route("/connectors/{name}/tasks/{task}/restart", post(connectors::restart_task))
        .route("/connectors/{name}/restart", post(connectors::restart))
        .route("/connectors/{name}/pause", put(connectors::pause))
        .route("/connectors/{name}/resume", put(connectors::resume))
        .route("/connectors/{name}/stop", put(connectors::stop))
        .route("/connectors/{name}/topics", get(connectors::topics))
        .route("/connectors/{name}/topics/reset", put(connectors::reset_topics))
        .route("/connectors/{name}/offsets", get(offsets::get).patch(offsets::patch).delete(offsets::delete))
        .route("/connector-plugins", get(plugins::list))
        .route("/connector-plugins/{name}/config", get(plugins::config))
        .route("/connector-plugins/{name}/config/validate", put(plugins::validate))
        .with_state(AppState { worker })
}

async fn root() -> impl IntoResponse {
    Json(json!({ "version": env!("CARGO_PKG_VERSION") }))
}

/// The OpenAPI 3 document of this API.
async fn openapi() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], include_str!("openapi.json"))
}

/// Prometheus metrics.
async fn metrics(axum::extract::State(app): axum::extract::State<AppState>) -> impl IntoResponse {
    let text = app.worker.metrics_text().await;
    ([(axum::http::header::CONTENT_TYPE, crate::metrics::OPENMETRICS_CONTENT_TYPE)], text)
}

async fn health() -> impl IntoResponse {
    Json(json!({ "status": "healthy", "message": "Worker has completed startup and is ready to handle requests." }))
}
