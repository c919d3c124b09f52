//! Sending records: requests built from a batch's values, each retried while the answer says it may pass later.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use reqwest::StatusCode;

use super::config::{Auth, HttpSinkConfig, NullValues};
use crate::connector::{Rejected, SinkRecord, SinkTask, TaskError};
use crate::converters::{Converter, ConverterType, JsonConverter, JsonConverterConfig};
use crate::http_client::{self, error_chain, HttpClientError};

/// How much of an error answer's body a rejection quotes.
const QUOTED_BODY: usize = 512;

/// What one request came to.
enum Outcome {
    /// 2xx.
    Delivered,
    /// A 4xx other than 408 and 429: the request itself is wrong and will stay wrong.
    Refused(String),
}

/// One running `http` sink task.
pub struct HttpSinkTask {
    config: HttpSinkConfig,
    client: reqwest::Client,
    json: JsonConverter,
}

impl HttpSinkTask {
    /// A task for `config`.
    pub fn new(config: HttpSinkConfig) -> Result<Self, TaskError> {
        let client = http_client::builder(config.truststore.as_deref())
            .and_then(|b| Ok(b.connect_timeout(config.connect_timeout).timeout(config.request_timeout).build()?))
            .map_err(|e: HttpClientError| TaskError::Definite(e.to_string()))?;
        let mut json = JsonConverterConfig::new(ConverterType::Value);
        json.schemas_enable = false;
        Ok(HttpSinkTask { config, client, json: JsonConverter::new(json) })
    }

    /// A record's value as JSON bytes; `None` for a null value.
    fn body_of(&self, record: &SinkRecord) -> Result<Option<Vec<u8>>, String> {
        let r = &record.record;
        if r.value.is_null() {
            return Ok(None);
        }
        let bytes =
            self.json.to_bytes(&r.topic, r.value_schema.as_ref(), &r.value).map_err(|e| format!("value: {e}"))?;
        Ok(bytes.map(|b| b.to_vec()))
    }

    /// Sends `bodies` (values) as one request: alone, or as a JSON array.
    async fn send(&self, bodies: &[&[u8]]) -> Result<Outcome, TaskError> {
        let mut payload = Vec::new();
        if bodies.len() == 1 && !self.config.array_always {
            payload.extend_from_slice(bodies[0]);
        } else {
            payload.push(b'[');
            for (index, body) in bodies.iter().enumerate() {
                if index > 0 {
                    payload.push(b',');
                }
                payload.extend_from_slice(body);
            }
            payload.push(b']');
        }
        let started = Instant::now();
        let mut wait = self.config.retry_backoff;
        let mut attempt = 0u32;
        loop {
            let failure = match self.request(payload.clone()).await {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        return Ok(Outcome::Delivered);
                    }
                    let body = response.text().await.unwrap_or_default();
                    let reason = answer(status, &body);
                    if status.is_client_error()
                        && status != StatusCode::REQUEST_TIMEOUT
                        && status != StatusCode::TOO_MANY_REQUESTS
                    {
                        return Ok(Outcome::Refused(reason));
                    }
                    reason
                }
                Err(error) => {
                    let failure = format!("sending to {}: {}", self.config.url, error_chain(&error));
                    if is_untrusted_certificate(&error) {
                        // Retrying cannot help: the server's certificate stays what it is.
                        return Err(TaskError::Definite(format!(
                            "{failure} (the server's certificate is not trusted: give its CA in \
                             https.ssl.truststore.location)"
                        )));
                    }
                    failure
                }
            };
            attempt += 1;
            let within_timeout = match self.config.retry_timeout {
                None => true,
                Some(timeout) => started.elapsed() < timeout,
            };
            if attempt > self.config.max_retries && !within_timeout {
                return Err(TaskError::Transient(format!("{failure} (after {attempt} attempts)")));
            }
            tracing::debug!(attempt, %failure, "retrying an HTTP request");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.config.retry_delay_max).max(Duration::from_millis(1));
        }
    }

    /// One attempt.
    async fn request(&self, payload: Vec<u8>) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self
            .client
            .request(self.config.method.clone(), self.config.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .headers(self.config.headers.clone())
            .body(payload);
        request = match &self.config.auth {
            Auth::None => request,
            Auth::Basic { user, password } => request.basic_auth(user, Some(password)),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        request.send().await
    }

    /// Sends `records` in log order, `batch.max.size` values per request; answers the records refused. A refused
    /// batch is sent again record by record, so only the culprits are refused.
    async fn deliver(&self, records: &[SinkRecord]) -> Result<Vec<Rejected>, TaskError> {
        let mut rejected = Vec::new();
        let mut pending: Vec<(usize, Vec<u8>)> = Vec::with_capacity(self.config.batch_size);
        for (index, record) in records.iter().enumerate() {
            match self.body_of(record) {
                Ok(Some(body)) => pending.push((index, body)),
                Ok(None) if self.config.null_values == NullValues::Fail => {
                    rejected.push(Rejected { index, reason: "a null value (behavior.on.null.values=fail)".into() })
                }
                Ok(None) => {}
                Err(reason) => rejected.push(Rejected { index, reason }),
            }
            if pending.len() >= self.config.batch_size {
                rejected.extend(self.send_batch(std::mem::take(&mut pending)).await?);
            }
        }
        if !pending.is_empty() {
            rejected.extend(self.send_batch(pending).await?);
        }
        rejected.sort_by_key(|r| r.index);
        Ok(rejected)
    }

    async fn send_batch(&self, batch: Vec<(usize, Vec<u8>)>) -> Result<Vec<Rejected>, TaskError> {
        let bodies: Vec<&[u8]> = batch.iter().map(|(_, body)| body.as_slice()).collect();
        match self.send(&bodies).await? {
            Outcome::Delivered => Ok(Vec::new()),
            Outcome::Refused(reason) if batch.len() == 1 => Ok(vec![Rejected { index: batch[0].0, reason }]),
            Outcome::Refused(_) => {
                let mut rejected = Vec::new();
                for (index, body) in &batch {
                    if let Outcome::Refused(reason) = self.send(&[body.as_slice()]).await? {
                        rejected.push(Rejected { index: *index, reason });
                    }
                }
                Ok(rejected)
            }
        }
    }
}

/// Whether a request failed because TLS did not trust the server's certificate. The rustls error sits inside
/// I/O errors, which `source()` steps over, so those are opened with `get_ref()`.
fn is_untrusted_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if matches!(current.downcast_ref::<rustls::Error>(), Some(rustls::Error::InvalidCertificate(_))) {
            return true;
        }
        cause = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    false
}

/// An error answer, quoted: `HTTP 400 Bad Request: <body>`.
fn answer(status: StatusCode, body: &str) -> String {
    let mut quoted: String = body.chars().take(QUOTED_BODY).collect();
    if quoted.len() < body.len() {
        quoted.push('…');
    }
    if quoted.trim().is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {}", quoted.trim())
    }
}

impl SinkTask for HttpSinkTask {
    fn start(&mut self) -> BoxFuture<'_, Result<(), TaskError>> {
        Box::pin(async { Ok(()) })
    }

    fn put<'a>(&'a mut self, records: &'a [SinkRecord]) -> BoxFuture<'a, Result<Vec<Rejected>, TaskError>> {
        Box::pin(self.deliver(records))
    }

    /// Every record was delivered (or rejected) before `put` returned.
    fn flush(&mut self) -> BoxFuture<'_, Result<(), TaskError>> {
        Box::pin(async { Ok(()) })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
