//! Request bodies and answers in Confluent's media types, and errors as `{"error_code", "message"}`.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use crate::error::RegistryError;

/// The media type of every answer.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
/// The request media types read (a missing content type is read as JSON too, as Confluent's registry does).
const ACCEPTED: &[&str] = &[
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
];

/// A JSON answer with status 200.
pub fn ok(value: impl Serialize) -> Response {
    answer(StatusCode::OK, &value)
}

fn answer(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], body).into_response(),
        Err(e) => RegistryError::BadRequest(format!("the answer could not be encoded: {e}")).into_response(),
    }
}

/// A plain schema text answer (`.../schema` endpoints return the schema itself).
pub fn raw_schema(schema: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], schema).into_response()
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let (status, code) = self.codes();
        let message = match &self {
            // Internals stay in the log; the client learns that the store failed.
            RegistryError::Store(e) => {
                tracing::error!(error = %e, "schema registry store error");
                "Error in the backend data store".to_owned()
            }
            other => other.to_string(),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        answer(status, &json!({ "error_code": code, "message": message }))
    }
}

/// Reads a JSON body of at most `limit` bytes in one of Confluent's media types.
pub async fn read_json<T: DeserializeOwned>(headers: &HeaderMap, body: Body, limit: usize) -> Result<T, RegistryError> {
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let text = content_type.to_str().unwrap_or_default();
        let essence = text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !ACCEPTED.contains(&essence.as_str()) {
            return Err(RegistryError::UnsupportedMediaType(text.to_owned()));
        }
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        RegistryError::InvalidSchema(format!("the request body is larger than {limit} bytes (--max-schema-bytes)"))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| RegistryError::BadRequest(format!("invalid request body: {e}")))
}
