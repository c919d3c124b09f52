//! `GET/PATCH/DELETE /connectors/{c}/offsets` (KIP-875).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{RestError, RestResult};
use super::AppState;
use crate::worker::OffsetEntry;

/// The body of `PATCH /connectors/{c}/offsets`.
#[derive(Debug, Deserialize)]
pub struct OffsetsRequest {
    offsets: Option<Vec<OffsetRequest>>,
}

/// One entry of that body.
#[derive(Debug, Deserialize)]
pub struct OffsetRequest {
    partition: Option<Value>,
    offset: Option<Value>,
}

/// `GET /connectors/{c}/offsets`.
pub async fn get(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    let offsets = app.worker.offsets(&name).await?;
    let offsets: Vec<Value> = offsets.iter().map(OffsetEntry::to_json).collect();
    Ok(Json(json!({ "offsets": offsets })).into_response())
}

/// `PATCH /connectors/{c}/offsets`.
pub async fn patch(
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<OffsetsRequest>, axum::extract::rejection::JsonRejection>,
) -> RestResult {
    let Json(request) = body.map_err(|e| RestError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let requested = request
        .offsets
        .filter(|o| !o.is_empty())
        .ok_or_else(|| RestError::new(StatusCode::BAD_REQUEST, "The offsets to alter must be given"))?;
    let mut entries = Vec::with_capacity(requested.len());
    for entry in requested {
        let partition = entry
            .partition
            .filter(|p| !p.is_null())
            .ok_or_else(|| RestError::new(StatusCode::BAD_REQUEST, "Partitions may not be null"))?;
        entries.push(OffsetEntry { partition, offset: entry.offset.filter(|o| !o.is_null()) });
    }
    let message = app.worker.alter_offsets(&name, entries).await?;
    Ok(Json(json!({ "message": message })).into_response())
}

/// `DELETE /connectors/{c}/offsets`.
pub async fn delete(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    let message = app.worker.reset_offsets(&name).await?;
    Ok(Json(json!({ "message": message })).into_response())
}
