//! [`RegistryClient`]: the part of Confluent's Schema Registry HTTP API the Avro converter needs, over reqwest.
//!
//! - `POST /subjects/{subject}/versions` registers a schema (or finds it registered) and answers its id;
//! - `POST /subjects/{subject}` looks a schema up without registering it (id and version);
//! - `GET /schemas/ids/{id}` fetches the schema behind an id.
//!
//! Several registry URLs may be given: a request that cannot reach one (connection refused, timeout) goes to the
//! next, and the one that answered is tried first next time, as Confluent's `RestService` does. Failures are
//! typed so the runtime can act: [`SchemaRegistryError::is_transient`] is true for an unreachable registry and for
//! its 5xx (and 408/429) answers, which a retry may cure; a 4xx answer (an incompatible schema, 409; an invalid
//! one, 422; a missing subject, 404; bad credentials, 401/403) is definite and keeps the registry's own message.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Client, Method, StatusCode, Url};
use serde::Deserialize;
use thiserror::Error;

use crate::http_client::{self, error_chain, HttpClientError};

/// Confluent's media type, sent and accepted.
const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";
/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for a whole answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A schema registry request that failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchemaRegistryError {
    /// No registry URL could be reached (connection refused, timed out, broken connection). Transient.
    #[error("the schema registry is unreachable ({urls}): {reason}")]
    Unreachable {
        /// The URLs tried.
        urls: String,
        /// The last failure.
        reason: String,
    },
    /// The registry answered that it cannot serve the request now (5xx, 408, 429). Transient.
    #[error("the schema registry at {url} is unavailable (HTTP {status}, error code {code}): {message}")]
    Unavailable {
        /// The URL that answered.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Confluent's `error_code` (the HTTP status when the body has none).
        code: i64,
        /// The registry's message.
        message: String,
    },
    /// The registry refused the request (4xx): an incompatible or invalid schema, a missing subject or schema,
    /// bad credentials. Definite.
    #[error("the schema registry refused the request (HTTP {status}, error code {code}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Confluent's `error_code` (40901 incompatible, 42201 invalid schema, 40401 subject not found, ...).
        code: i64,
        /// The registry's message, as it gave it.
        message: String,
    },
    /// An answer that is not what the API promises. Definite.
    #[error("unexpected answer from the schema registry at {url}: {reason}")]
    InvalidAnswer {
        /// The URL that answered.
        url: String,
        /// What was wrong.
        reason: String,
    },
}

impl SchemaRegistryError {
    /// Whether retrying later may succeed (the registry was unreachable or temporarily unable to answer).
    pub fn is_transient(&self) -> bool {
        matches!(self, SchemaRegistryError::Unreachable { .. } | SchemaRegistryError::Unavailable { .. })
    }

    /// Confluent's error code of a refusal (`None` for other failures).
    pub fn error_code(&self) -> Option<i64> {
        match self {
            SchemaRegistryError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A schema as `GET /schemas/ids/{id}` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FetchedSchema {
    /// The schema text.
    pub(crate) schema: String,
    /// `AVRO` when absent.
    #[serde(default)]
    pub(crate) schema_type: Option<String>,
    /// Named types from other subjects.
    #[serde(default)]
    pub(crate) references: Vec<serde_json::Value>,
}

/// A lookup's answer: the schema's id and its version under the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) struct Registered {
    /// The schema id.
    pub(crate) id: i32,
    /// The version under the subject.
    pub(crate) version: i32,
}

#[derive(Deserialize)]
struct IdAnswer {
    id: i32,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error_code: Option<i64>,
    message: Option<String>,
}

/// An HTTP client of one or more schema registry URLs.
#[derive(Debug)]
pub(crate) struct RegistryClient {
    http: Client,
    urls: Vec<Url>,
    credentials: Option<(String, String)>,
    /// The URL to try first (the last one that answered).
    first: AtomicUsize,
}

impl RegistryClient {
    /// A client of `urls` (http or https URLs, at least one), sending `credentials` as HTTP basic authentication,
    /// trusting the system's CAs and those of the PEM file `truststore`.
    pub(crate) fn new(
        urls: Vec<Url>,
        credentials: Option<(String, String)>,
        truststore: Option<&Path>,
    ) -> Result<Self, HttpClientError> {
        let http = http_client::builder(truststore)?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()?;
        Ok(RegistryClient { http, urls, credentials, first: AtomicUsize::new(0) })
    }

    /// Registers `schema` under `subject` (`POST /subjects/{subject}/versions`) and returns its id.
    pub(crate) async fn register(&self, subject: &str, schema: &str) -> Result<i32, SchemaRegistryError> {
        let body = serde_json::json!({ "schema": schema }).to_string();
        let (url, bytes) = self.call(Method::POST, &["subjects", subject, "versions"], Some(body)).await?;
        parse::<IdAnswer>(&url, &bytes).map(|answer| answer.id)
    }

    /// The id and version of `schema` under `subject` (`POST /subjects/{subject}`); `None` when the subject or
    /// the schema under it is not found (40401, 40403).
    pub(crate) async fn lookup(&self, subject: &str, schema: &str) -> Result<Option<Registered>, SchemaRegistryError> {
        let body = serde_json::json!({ "schema": schema }).to_string();
        match self.call(Method::POST, &["subjects", subject], Some(body)).await {
            Ok((url, bytes)) => parse::<Registered>(&url, &bytes).map(Some),
            Err(SchemaRegistryError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The schema with id `id` (`GET /schemas/ids/{id}`).
    pub(crate) async fn schema_by_id(&self, id: i32) -> Result<FetchedSchema, SchemaRegistryError> {
        let (url, bytes) = self.call(Method::GET, &["schemas", "ids", &id.to_string()], None).await?;
        parse::<FetchedSchema>(&url, &bytes)
    }

    /// One request, to each URL in turn until one can be reached; the URL that answered and its body.
    async fn call(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<String>,
    ) -> Result<(String, ::bytes::Bytes), SchemaRegistryError> {
        let first = self.first.load(Ordering::Relaxed);
        let mut last_failure = String::from("no schema registry URL");
        for attempt in 0..self.urls.len() {
            let index = (first + attempt) % self.urls.len();
            let url = endpoint(&self.urls[index], segments);
            let mut request =
                self.http.request(method.clone(), url.clone()).header(ACCEPT, HeaderValue::from_static(MEDIA_TYPE));
            if let Some(body) = &body {
                request = request.header(CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE)).body(body.clone());
            }
            if let Some((user, password)) = &self.credentials {
                request = request.basic_auth(user, Some(password));
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) => {
                    last_failure = format!("{}: {}", redacted(&url), error_chain(&e));
                    continue;
                }
            };
            self.first.store(index, Ordering::Relaxed);
            let status = response.status();
            let bytes = match response.bytes().await {
                Ok(bytes) => bytes,
                Err(e) => {
                    last_failure = format!("{}: {}", redacted(&url), error_chain(&e));
                    continue;
                }
            };
            if status.is_success() {
                return Ok((redacted(&url), bytes));
            }
            return Err(failure(&redacted(&url), status, &bytes));
        }
        let urls = self.urls.iter().map(redacted).collect::<Vec<_>>().join(", ");
        Err(SchemaRegistryError::Unreachable { urls, reason: last_failure })
    }
}

/// `base` with the path segments appended (each percent-encoded, so a subject may hold any character).
fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// A URL without its credentials, for messages.
fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// The error of a non-2xx answer, with the registry's `error_code` and `message` when its body has them.
fn failure(url: &str, status: StatusCode, body: &[u8]) -> SchemaRegistryError {
    let answer = serde_json::from_slice::<ErrorAnswer>(body).ok();
    let code = answer.as_ref().and_then(|a| a.error_code).unwrap_or(i64::from(status.as_u16()));
    let message = answer
        .and_then(|a| a.message)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned());
    let transient =
        status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::TOO_MANY_REQUESTS;
    match transient {
        true => SchemaRegistryError::Unavailable { url: url.to_owned(), status: status.as_u16(), code, message },
        false => SchemaRegistryError::Refused { status: status.as_u16(), code, message },
    }
}

fn parse<T: serde::de::DeserializeOwned>(url: &str, bytes: &[u8]) -> Result<T, SchemaRegistryError> {
    serde_json::from_slice(bytes)
        .map_err(|e| SchemaRegistryError::InvalidAnswer { url: url.to_owned(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("url")
    }

    #[test]
    fn endpoints_encode_subjects_and_keep_a_base_path() {
        assert_eq!(
            endpoint(&url("http://localhost:8081"), &["subjects", "a/b c-value", "versions"]).as_str(),
            "http://localhost:8081/subjects/a%2Fb%20c-value/versions"
        );
        assert_eq!(
            endpoint(&url("http://h:1/registry/"), &["schemas", "ids", "7"]).as_str(),
            "http://h:1/registry/schemas/ids/7"
        );
        assert_eq!(redacted(&url("http://u:p@h:1/")), "http://h:1/");
    }

    #[test]
    fn answers_are_classified() {
        let refused = failure("u", StatusCode::CONFLICT, br#"{"error_code":40901,"message":"incompatible"}"#);
        assert_eq!(refused, SchemaRegistryError::Refused { status: 409, code: 40901, message: "incompatible".into() });
        assert!(!refused.is_transient());
        assert_eq!(refused.error_code(), Some(40901));
        let down = failure("u", StatusCode::SERVICE_UNAVAILABLE, b"busy");
        assert!(down.is_transient());
        assert!(down.to_string().contains("busy"));
        assert!(failure("u", StatusCode::TOO_MANY_REQUESTS, b"").is_transient());
        let unauthorized = failure("u", StatusCode::UNAUTHORIZED, b"");
        assert!(matches!(unauthorized, SchemaRegistryError::Refused { status: 401, code: 401, .. }));
    }
}
