//! Single Message Transforms and predicates, as Kafka Connect and Debezium have them.
//!
//! A connector config declares a chain the way Kafka Connect does:
//!
//! ```text
//! transforms=unwrap,route
//! transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
//! transforms.unwrap.delete.tombstone.handling.mode=rewrite
//! transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
//! transforms.route.regex=dbserver1\.inventory\.(.*)
//! transforms.route.replacement=inventory.$1
//! transforms.route.predicate=isInventory
//! transforms.route.negate=false
//! predicates=isInventory
//! predicates.isInventory.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches
//! predicates.isInventory.pattern=dbserver1\.inventory\..*
//! ```
//!
//! [`TransformChain::from_config`] reads it (every bad setting named, see [`validate()`]) and
//! [`TransformChain::apply`] runs a record through it: each stage whose predicate (if any, negated if asked) holds
//! applies its transform; a transform that answers `None` drops the record and ends the chain. The class names
//! users paste (`org.apache.kafka.connect.transforms.RegexRouter`, `io.debezium.transforms.outbox.EventRouter`, ...)
//! and the simple names (`RegexRouter`, `EventRouter`, `InsertField$Value`, ...) are both accepted; the table of
//! them is [`registry`].
//!
//! A [`TransformError`] is a record failure: the runtime fails the task or sends the record to the dead-letter
//! topic, as `errors.tolerance` decides. Transforms that derive schemas (InsertField, ReplaceField, ValueToKey,
//! ExtractNewRecordState, EventRouter) cache the derived schema per input schema, so the hot path builds a schema
//! once per table, not once per record.
//!
//! Regular expressions are Java's as far as Rust's `regex` crate goes: whole-topic matching as
//! `Matcher.matches()`, replacements with Java's `$1` / `${name}` / `\$` syntax. Look-around and back-references
//! have no equivalent and are refused when the config is validated.

mod cache;
mod chain;
mod date_format;
pub mod debezium;
mod error;
mod filter;
mod insert_field;
mod java_regex;
mod predicates;
mod regex_router;
pub mod registry;
mod replace_field;
mod schema_util;
mod settings;
mod side;
mod timestamp_router;
mod value_to_key;

pub use chain::{validate, TransformChain};
pub use error::TransformError;
pub use filter::Filter;
pub use insert_field::InsertField;
pub use predicates::{HasHeaderKey, RecordIsTombstone, TopicNameMatches};
pub use regex_router::RegexRouter;
pub use replace_field::ReplaceField;
pub use settings::Settings;
pub use side::Side;
pub use timestamp_router::TimestampRouter;
pub use value_to_key::ValueToKey;

use crate::record::ConnectRecord;

/// One transform (Kafka Connect's `Transformation`): a record in, zero or one record out.
///
/// Implementations are shared by every task of a connector, hence `Send + Sync`; caches use interior mutability.
pub trait Transform: Send + Sync {
    /// Transforms `record`; `Ok(None)` drops it (the rest of the chain does not see it).
    fn apply(&self, record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError>;
}

/// A condition on a record (Kafka Connect's `Predicate`): `TopicNameMatches`, `RecordIsTombstone`, `HasHeaderKey`.
pub trait Predicate: Send + Sync {
    /// Whether the record satisfies the condition.
    fn test(&self, record: &ConnectRecord) -> bool;
}
