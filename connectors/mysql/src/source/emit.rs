//! The hand-over to `poll` ([`tidemark_debezium::Emitter`]) with the MySQL source's error.

use super::error::SourceError;

/// Gathers records into batches for the channel to `poll`.
pub type Emitter = tidemark_debezium::Emitter<SourceError>;
