//! Answers in Kafka Connect's shapes: JSON bodies, and errors as `{"error_code": <HTTP status>, "message"}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::worker::WorkerError;

/// A REST failure.
#[derive(Debug)]
pub struct RestError {
    status: StatusCode,
    message: String,
}

impl RestError {
    /// A failure with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        RestError { status, message: message.into() }
    }
}

impl From<WorkerError> for RestError {
    fn from(error: WorkerError) -> Self {
        let status = match &error {
            WorkerError::Invalid(_) => StatusCode::BAD_REQUEST,
            WorkerError::NotFound(_) => StatusCode::NOT_FOUND,
            WorkerError::AlreadyExists(_) => StatusCode::CONFLICT,
            WorkerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WorkerError::Log(e) => {
                tracing::error!(error = %e, "the log failed");
                return RestError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
            }
            WorkerError::State(e) => {
                tracing::error!(error = %e, "connect state topics failed");
                return RestError::new(StatusCode::INTERNAL_SERVER_ERROR, "The worker's state topics failed");
            }
        };
        RestError::new(status, error.to_string())
    }
}

impl From<axum::extract::rejection::QueryRejection> for RestError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        RestError::new(StatusCode::BAD_REQUEST, rejection.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for RestError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        RestError::new(StatusCode::BAD_REQUEST, rejection.body_text())
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error_code": self.status.as_u16(), "message": self.message }))).into_response()
    }
}

/// A handler's result.
pub type RestResult = Result<Response, RestError>;
