//! Confluent's Schema Registry HTTP API on axum: paths, query flags, media types and error bodies as Confluent's
//! clients expect them. Handlers translate; [`crate::registry::Registry`] decides. Every request counts in the
//! registry's metrics (by route, method and status), which `GET /metrics` serves.

mod body;
mod handlers;

use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

use crate::registry::Registry;

pub use body::CONTENT_TYPE;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// The registry.
    pub registry: Arc<Registry>,
    /// Largest request body read.
    pub body_limit: usize,
}

/// The routes of the API.
pub fn router(registry: Arc<Registry>, max_schema_bytes: usize) -> Router {
    use handlers::*;
    // A schema is a JSON string inside the JSON body: escaping can double it, plus room for references.
    let body_limit = max_schema_bytes.saturating_mul(2).saturating_add(64 * 1024);
    let state = AppState { registry, body_limit };
    Router::new()
        .route("/", get(root))
        .route("/metrics", get(metrics))
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/versions", get(list_versions).post(register))
        .route("/subjects/{subject}/versions/{version}", get(get_version).delete(delete_version))
        .route("/subjects/{subject}/versions/{version}/schema", get(get_version_schema))
        .route("/subjects/{subject}/versions/{version}/referencedby", get(referenced_by))
        .route("/schemas/types", get(schema_types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_by_id))
        .route("/schemas/ids/{id}/versions", get(versions_by_id))
        .route("/compatibility/subjects/{subject}/versions", post(compatible_with_all))
        .route("/compatibility/subjects/{subject}/versions/{version}", post(compatible_with_version))
        .route("/config", get(get_global_config).put(put_global_config).delete(delete_global_config))
        .route("/config/{subject}", get(get_subject_config).put(put_subject_config).delete(delete_subject_config))
        .route("/mode", get(get_global_mode).put(put_global_mode))
        .route("/mode/{subject}", get(get_subject_mode).put(put_subject_mode).delete(delete_subject_mode))
        .fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// Counts a request in the registry's metrics once it is answered.
async fn count_request(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let endpoint = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = request.method().clone();
    let response = next.run(request).await;
    app.registry.metrics().request(&endpoint, method.as_str(), response.status().as_u16());
    response
}

/// Serves the API on an already-bound listener until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    max_schema_bytes: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "schema registry listener ready");
    axum::serve(listener, router(registry, max_schema_bytes)).with_graceful_shutdown(shutdown).await
}
