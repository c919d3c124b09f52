//! A small client of the connect worker's REST API (Kafka Connect's): create and delete connectors, read their
//! status and scrape `GET /metrics`. Blocking calls over reqwest on a runtime of their own.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// How long one REST call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The REST API of one connect worker.
pub struct ConnectApi {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    /// `http://host:port`.
    base: String,
}

impl ConnectApi {
    /// A client of the worker listening on `address` (`host:port`).
    pub fn new(address: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("creating the REST client's runtime")?;
        let client = tidemark_connect::http_client::builder(None)?
            .timeout(CALL_TIMEOUT)
            .build()
            .context("creating the REST client")?;
        Ok(Self { runtime, client, base: format!("http://{address}") })
    }

    /// `POST /connectors` with `name` and `config`; fails unless the worker answers 201.
    pub fn create(&self, name: &str, config: &[(&str, String)]) -> Result<()> {
        let config: serde_json::Map<String, Value> =
            config.iter().map(|(key, value)| ((*key).to_owned(), Value::String(value.clone()))).collect();
        let body = json!({ "name": name, "config": config });
        let url = format!("{}/connectors", self.base);
        let (status, text) = self.runtime.block_on(async {
            let response = self.client.post(&url).json(&body).send().await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.text().await?))
        })?;
        if status != reqwest::StatusCode::CREATED {
            bail!("creating connector {name}: {status} {text}");
        }
        Ok(())
    }

    /// `DELETE /connectors/<name>`.
    pub fn delete(&self, name: &str) -> Result<()> {
        let url = format!("{}/connectors/{name}", self.base);
        let status = self.runtime.block_on(async { self.client.delete(&url).send().await.map(|r| r.status()) })?;
        if !status.is_success() {
            bail!("deleting connector {name}: {status}");
        }
        Ok(())
    }

    /// `PUT /connectors/<name>/stop`: the tasks stop, the connector stays (its offsets can then be altered).
    pub fn stop(&self, name: &str) -> Result<()> {
        self.put(&format!("{}/connectors/{name}/stop", self.base))
    }

    /// `PUT /connectors/<name>/resume`: a paused or stopped connector's tasks start again.
    pub fn resume(&self, name: &str) -> Result<()> {
        self.put(&format!("{}/connectors/{name}/resume", self.base))
    }

    /// `PATCH /connectors/<name>/offsets` (KIP-875) of a stopped source connector: `offset` for `partition`.
    pub fn alter_offset(&self, name: &str, partition: &Value, offset: &Value) -> Result<()> {
        let url = format!("{}/connectors/{name}/offsets", self.base);
        let body = json!({ "offsets": [{ "partition": partition, "offset": offset }] });
        let (status, text) = self.runtime.block_on(async {
            let response = self.client.patch(&url).json(&body).send().await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.text().await?))
        })?;
        if !status.is_success() {
            bail!("altering the offsets of {name}: {status} {text}");
        }
        Ok(())
    }

    /// A `PUT` without a body; fails unless the worker answers with success.
    fn put(&self, url: &str) -> Result<()> {
        let (status, text) = self.runtime.block_on(async {
            let response = self.client.put(url).send().await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.text().await?))
        })?;
        if !status.is_success() {
            bail!("PUT {url}: {status} {text}");
        }
        Ok(())
    }

    /// `GET /connectors/<name>/status` as JSON.
    pub fn status(&self, name: &str) -> Result<Value> {
        let url = format!("{}/connectors/{name}/status", self.base);
        self.runtime
            .block_on(async { self.client.get(&url).send().await?.error_for_status()?.json::<Value>().await })
            .with_context(|| format!("reading the status of {name}"))
    }

    /// Fails when a task of connector `name` has failed, with its trace.
    pub fn check_not_failed(&self, name: &str) -> Result<()> {
        let status = self.status(name)?;
        let failed = status["tasks"].as_array().into_iter().flatten().find(|t| t["state"] == "FAILED");
        if let Some(task) = failed {
            bail!("a task of {name} failed: {}", task["trace"].as_str().unwrap_or("(no trace)"));
        }
        Ok(())
    }

    /// `GET /metrics`: the worker's Prometheus text.
    pub fn metrics(&self) -> Result<Metrics> {
        let url = format!("{}/metrics", self.base);
        let text = self
            .runtime
            .block_on(async { self.client.get(&url).send().await?.error_for_status()?.text().await })
            .context("scraping /metrics")?;
        Ok(Metrics(text))
    }
}

/// One scrape of the worker's metrics.
#[derive(Debug, Clone, Default)]
pub struct Metrics(String);

impl Metrics {
    /// The sum of the samples of `name` whose labels include `connector="<connector>"` (0 when there are none).
    pub fn of(&self, name: &str, connector: &str) -> f64 {
        let label = format!("connector=\"{connector}\"");
        self.0
            .lines()
            .filter(|line| line.strip_prefix(name).is_some_and(|rest| rest.starts_with('{')))
            .filter(|line| line.contains(&label))
            .filter_map(|line| line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    #[test]
    fn sums_a_connectors_samples() {
        let text = "# TYPE connect_source_records_written counter\n\
                    connect_source_records_written_total{connector=\"a\",task=\"0\"} 1000\n\
                    connect_source_records_written_total{connector=\"a\",task=\"1\"} 500\n\
                    connect_source_records_written_total{connector=\"b\",task=\"0\"} 7\n\
                    connect_batch_seconds_sum{connector=\"a\",task=\"0\"} 1.5\n";
        let metrics = Metrics(text.to_owned());
        assert_eq!(metrics.of("connect_source_records_written_total", "a"), 1500.0);
        assert_eq!(metrics.of("connect_source_records_written_total", "c"), 0.0);
        assert_eq!(metrics.of("connect_batch_seconds_sum", "a"), 1.5);
        assert_eq!(metrics.of("connect_batch_seconds", "a"), 0.0);
    }
}
