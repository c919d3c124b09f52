//! The `http` sink (webhooks): each record's value as JSON in the body of a request to `http.api.url`, one request
//! per record or, with `batch.max.size` above 1, a JSON array of up to that many values per request. Property names
//! are those of Confluent's HTTP Sink connector where it has them.
//!
//! Delivery (`task.rs`): a 2xx answer delivers; a connection failure, a timeout, 408, 429 and 5xx are retried with
//! exponential backoff (from `retry.backoff.ms`, doubling up to `errors.retry.delay.max.ms`) at least `max.retries`
//! times and for at least `errors.retry.timeout` (-1: until it works), after which the batch fails transiently and
//! the runtime tries it again; any other 4xx rejects the record (a batch answered with one is resent record by
//! record to find the culprit), which the runtime dead-letters under `errors.tolerance=all`. Records are sent in
//! log order and `put` returns only when every one is delivered or rejected: at least once, nothing to flush.

mod config;
mod task;

use std::collections::BTreeMap;

use crate::config::ConfigDef;
use crate::connector::{Connector, SinkConnector, SinkTask, TaskError};

pub use config::HttpSinkConfig;

/// The HTTP sink's class name.
pub const HTTP_SINK_CLASS: &str = "io.tidemark.connect.http.HttpSinkConnector";
/// Its short name, and Confluent's class name for the same connector.
pub const HTTP_SINK_ALIASES: &[&str] = &["http", "io.confluent.connect.http.HttpSinkConnector"];

/// The `http` sink connector.
#[derive(Debug, Default)]
pub struct HttpSinkConnector;

impl Connector for HttpSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }

    /// `tasks.max` tasks: they share the connector's consumer group, each sending its partitions' records.
    fn task_configs(&self, props: &BTreeMap<String, String>, max_tasks: usize) -> Vec<BTreeMap<String, String>> {
        vec![props.clone(); max_tasks.max(1)]
    }
}

impl SinkConnector for HttpSinkConnector {
    fn create_task(&self, config: &BTreeMap<String, String>) -> Result<Box<dyn SinkTask>, TaskError> {
        let config = HttpSinkConfig::from_props(config).map_err(TaskError::Definite)?;
        Ok(Box::new(task::HttpSinkTask::new(config)?))
    }
}
