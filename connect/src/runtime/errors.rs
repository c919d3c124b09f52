//! Error handling as Kafka Connect's `errors.*` settings describe it: retries with exponential backoff for
//! failures that may pass, then per `errors.tolerance` either the task fails with the error, or the record is
//! skipped — logged when `errors.log.enable`, and written to `errors.deadletterqueue.topic.name` with the
//! `__connect.errors.*` headers when set. Kafka Connect has dead letters only for sinks; here sources have them too.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use crate::config::{ConfigDef, ConfigKey, ConfigType};
use crate::connector::TaskError;

/// The first wait before a retry; each further wait doubles, up to `errors.retry.delay.max.ms`.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(300);

/// Where a record failed (Kafka Connect's `Stage`, the value of the `__connect.errors.stage` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Converting the key.
    KeyConverter,
    /// Converting the value.
    ValueConverter,
    /// Converting a header.
    HeaderConverter,
    /// A transform.
    Transformation,
    /// The sink task writing it.
    TaskPut,
    /// Writing it to the log.
    KafkaProduce,
}

impl Stage {
    /// The name Kafka Connect gives the stage.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
            Stage::TaskPut => "TASK_PUT",
            Stage::KafkaProduce => "KAFKA_PRODUCE",
        }
    }
}

/// Why one record could not be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFailure {
    /// Where.
    pub stage: Stage,
    /// What was running: the converter's, transform's or connector's class.
    pub class_name: String,
    /// The error.
    pub message: String,
}

impl RecordFailure {
    /// The task error it becomes when not tolerated.
    pub fn into_task_error(self) -> TaskError {
        TaskError::Definite(format!("{} failed in stage {}: {}", self.class_name, self.stage.as_str(), self.message))
    }
}

impl RecordFailure {
    /// A transform's failure (named by the transform's alias in the chain).
    pub fn in_transform(error: &crate::transforms::TransformError) -> Self {
        RecordFailure {
            stage: Stage::Transformation,
            class_name: error.transform.clone().unwrap_or_else(|| "transforms".to_owned()),
            message: error.message.clone(),
        }
    }
}

/// The dead-letter topic's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterSettings {
    /// The topic.
    pub topic: String,
    /// Its replication factor when created (-1: the cluster's default).
    pub replication_factor: i16,
    /// Whether to add the `__connect.errors.*` headers.
    pub context_headers: bool,
}

/// A connector's `errors.*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPolicy {
    /// `errors.tolerance=all`: skip failed records instead of failing the task.
    pub tolerate_all: bool,
    /// How long to retry a failure that may pass (`errors.retry.timeout`); `None` retries without end.
    pub retry_timeout: Option<Duration>,
    /// The longest wait between retries (`errors.retry.delay.max.ms`).
    pub retry_delay_max: Duration,
    /// Log each tolerated failure (`errors.log.enable`).
    pub log: bool,
    /// Include the record's topic, partition and offset in that log line (`errors.log.include.messages`).
    pub log_messages: bool,
    /// Where tolerated failures go, if anywhere.
    pub dead_letter: Option<DeadLetterSettings>,
}

/// The `errors.*` settings every connector has.
pub fn errors_def() -> ConfigDef {
    ConfigDef::new([
        ConfigKey::optional(
            "errors.tolerance",
            ConfigType::String,
            "none",
            "none fails the task on a bad record; all skips it.",
        )
        .one_of(&["none", "all"]),
        ConfigKey::optional(
            "errors.retry.timeout",
            ConfigType::Long,
            "0",
            "Milliseconds to retry a failure that may pass; -1 without end.",
        )
        .checked(|v| match v.trim().parse::<i64>() {
            Ok(n) if n >= -1 => Ok(()),
            _ => Err("must be -1 or more".into()),
        }),
        ConfigKey::optional(
            "errors.retry.delay.max.ms",
            ConfigType::Long,
            "60000",
            "The longest wait between retries.",
        )
        .checked(|v| match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Ok(()),
            _ => Err("must be at least 1".into()),
        }),
        ConfigKey::optional("errors.log.enable", ConfigType::Boolean, "false", "Log every failed record."),
        ConfigKey::optional(
            "errors.log.include.messages",
            ConfigType::Boolean,
            "false",
            "Name the failed record in the log.",
        ),
        ConfigKey::optional(
            "errors.deadletterqueue.topic.name",
            ConfigType::String,
            "",
            "The dead-letter topic; empty for none.",
        ),
        ConfigKey::optional(
            "errors.deadletterqueue.topic.replication.factor",
            ConfigType::Int,
            "-1",
            "The dead-letter topic's replication factor when created; -1 for the cluster's default.",
        ),
        ConfigKey::optional(
            "errors.deadletterqueue.context.headers.enable",
            ConfigType::Boolean,
            "false",
            "Add the __connect.errors.* headers to dead letters.",
        ),
    ])
}

impl ErrorPolicy {
    /// The policy of a connector config (validated by [`errors_def`]).
    pub fn from_props(props: &BTreeMap<String, String>) -> Self {
        let def = errors_def();
        let text = |name: &str| def.value(props, name).unwrap_or_default().trim().to_owned();
        let flag = |name: &str| text(name).eq_ignore_ascii_case("true");
        let number = |name: &str| text(name).parse::<i64>().unwrap_or(0);
        let retry_timeout = match number("errors.retry.timeout") {
            -1 => None,
            ms => Some(Duration::from_millis(ms.max(0) as u64)),
        };
        let topic = text("errors.deadletterqueue.topic.name");
        let dead_letter = (!topic.is_empty()).then(|| DeadLetterSettings {
            topic,
            replication_factor: i16::try_from(number("errors.deadletterqueue.topic.replication.factor")).unwrap_or(-1),
            context_headers: flag("errors.deadletterqueue.context.headers.enable"),
        });
        ErrorPolicy {
            tolerate_all: text("errors.tolerance").eq_ignore_ascii_case("all"),
            retry_timeout,
            retry_delay_max: Duration::from_millis(number("errors.retry.delay.max.ms").max(1) as u64),
            log: flag("errors.log.enable"),
            log_messages: flag("errors.log.include.messages"),
            dead_letter,
        }
    }

    /// Runs `operation` until it succeeds, fails definitely, or fails transiently past `errors.retry.timeout`.
    pub async fn retry<T, F, Fut>(&self, operation: F) -> Result<T, TaskError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, TaskError>>,
    {
        retry_transient(self.retry_timeout, self.retry_delay_max, operation).await
    }
}

/// Exponential backoff between attempts of an operation that failed transiently: 300 ms, doubling up to a
/// maximum, for at most a time limit (`None`: without end).
#[derive(Debug)]
pub struct Backoff {
    started: tokio::time::Instant,
    limit: Option<Duration>,
    delay: Duration,
    max_delay: Duration,
}

impl Backoff {
    /// Backoff up to `max_delay` between attempts, giving up after `limit`.
    pub fn new(limit: Option<Duration>, max_delay: Duration) -> Self {
        let delay = FIRST_RETRY_DELAY.min(max_delay);
        Backoff { started: tokio::time::Instant::now(), limit, delay, max_delay }
    }

    /// Waits before the next attempt after `error`; `false` (without waiting) when the time limit would pass.
    pub async fn wait(&mut self, error: &str) -> bool {
        if self.limit.is_some_and(|limit| self.started.elapsed() + self.delay > limit) {
            return false;
        }
        tracing::warn!(error, retry_in_ms = self.delay.as_millis() as u64, "retrying after a transient failure");
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(self.max_delay);
        true
    }
}

/// Runs `operation` until it succeeds, fails definitely, or fails transiently after `limit` (`None`: never gives
/// up on transient failures), waiting with [`Backoff`] between attempts.
pub async fn retry_transient<T, F, Fut>(
    limit: Option<Duration>,
    max_delay: Duration,
    mut operation: F,
) -> Result<T, TaskError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, TaskError>>,
{
    let mut backoff = Backoff::new(limit, max_delay);
    loop {
        match operation().await {
            Err(TaskError::Transient(message)) if backoff.wait(&message).await => {}
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_fail_fast_without_dead_letters() {
        let policy = ErrorPolicy::from_props(&BTreeMap::new());
        assert!(!policy.tolerate_all);
        assert_eq!(policy.retry_timeout, Some(Duration::ZERO));
        assert_eq!(policy.dead_letter, None);
    }

    #[test]
    fn dead_letter_settings_are_read() {
        let policy = ErrorPolicy::from_props(&props(&[
            ("errors.tolerance", "all"),
            ("errors.retry.timeout", "-1"),
            ("errors.deadletterqueue.topic.name", "dlq"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ]));
        assert!(policy.tolerate_all);
        assert_eq!(policy.retry_timeout, None);
        let expected = DeadLetterSettings { topic: "dlq".into(), replication_factor: -1, context_headers: true };
        assert_eq!(policy.dead_letter, Some(expected));
    }

    #[test]
    fn bad_values_are_named() {
        let errors = errors_def().validate(&props(&[("errors.tolerance", "some"), ("errors.retry.timeout", "-5")]));
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["errors.tolerance", "errors.retry.timeout"]);
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_until_the_timeout() {
        let attempts = AtomicU32::new(0);
        let outcome: Result<(), TaskError> =
            retry_transient(Some(Duration::from_secs(2)), Duration::from_secs(1), || async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err(TaskError::Transient("down".into()))
            })
            .await;
        assert_eq!(outcome, Err(TaskError::Transient("down".into())));
        // Waits of 300 ms, 600 ms and 1 s fit in 2 s; the next 1 s would not.
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn definite_failures_are_not_retried() {
        let attempts = AtomicU32::new(0);
        let outcome: Result<(), TaskError> = retry_transient(None, Duration::from_secs(1), || async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err(TaskError::Definite("bad".into()))
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }
}
