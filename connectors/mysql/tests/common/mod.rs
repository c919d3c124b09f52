//! What the MySQL source's test files share: polling a task as the runtime does.

use std::time::Duration;

use anyhow::{bail, ensure, Result};
use tidemark_connect::connector::{SourceRecord, SourceTask, TaskError};
use tokio::time::Instant;

/// How long a test waits for what should take well under a second.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls until `count` records arrived (more may come in the last poll), within [`PATIENCE`]; transient failures
/// are retried as the runtime retries them. A timeout names what arrived, as `describe` tells it.
pub async fn poll(
    task: &mut Box<dyn SourceTask>,
    count: usize,
    describe: impl Fn(&[SourceRecord]) -> String,
) -> Result<Vec<SourceRecord>> {
    let deadline = Instant::now() + PATIENCE;
    let mut records = Vec::new();
    while records.len() < count {
        ensure!(Instant::now() < deadline, "{} of {count} records arrived: {}", records.len(), describe(&records));
        match task.poll().await {
            Ok(batch) => records.extend(batch),
            Err(TaskError::Transient(message)) => {
                tracing::info!(%message, "transient failure; polling again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(other) => bail!("poll failed: {other}"),
        }
    }
    Ok(records)
}
