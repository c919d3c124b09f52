//! The hand-over to `poll` ([`tidemark_debezium::Emitter`]) with the Postgres source's error.

use super::error::SourceError;

pub use tidemark_debezium::{send_batch, send_failure, stopping, Flow};

/// Gathers records into batches for the channel to `poll`.
pub type Emitter = tidemark_debezium::Emitter<SourceError>;
