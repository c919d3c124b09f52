//! The connector runtime: running tasks under the delivery contracts of [`crate::connector`], with the error
//! handling of the `errors.*` settings.
//!
//! - [`source`]: poll, convert, write, store positions, then tell the task they are durable.
//! - [`sink`]: read as a consumer group, convert, transform, put, flush, then commit offsets.
//! - [`pipeline`]: what both share: converters, transforms, error handling, metrics.
//! - [`errors`] and [`dead_letter`]: retries with backoff, `errors.tolerance`, dead letters.

pub mod dead_letter;
pub mod errors;
pub mod pipeline;
pub mod sink;
pub mod source;

pub use dead_letter::DeadLetters;
pub use errors::{errors_def, ErrorPolicy};
pub use pipeline::{named_converter, NamedConverter, Pipeline};
pub use sink::{run_sink_task, sink_group, SinkTaskContext};
pub use source::{run_source_task, SourceTaskContext};

use tidemark_log_client::LogError;

use crate::connector::TaskError;
use crate::converters::ConvertError;

/// A log failure as a task error: unavailability may pass, anything else will not.
pub fn log_failure(error: LogError) -> TaskError {
    match error {
        LogError::Unavailable(_) => TaskError::Transient(error.to_string()),
        _ => TaskError::Definite(error.to_string()),
    }
}

/// Runs a converter's preparation (`prepare_write`/`prepare_read`); only a transient failure enters the retries of
/// `errors.retry.timeout`, so the usual, already prepared case costs one call.
pub async fn prepare<'a, F>(policy: &ErrorPolicy, preparation: F) -> Result<(), TaskError>
where
    F: Fn() -> futures::future::BoxFuture<'a, Result<(), ConvertError>>,
{
    let Err(first) = preparation().await else { return Ok(()) };
    if !first.is_transient() {
        return Err(TaskError::Definite(first.to_string()));
    }
    policy
        .retry(|| async {
            preparation().await.map_err(|e| {
                if e.is_transient() {
                    TaskError::Transient(e.to_string())
                } else {
                    TaskError::Definite(e.to_string())
                }
            })
        })
        .await
}

/// Now, in ms since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
