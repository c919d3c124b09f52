//! Debezium's transforms, as Debezium's own Java classes behave: `io.debezium.transforms.ExtractNewRecordState`
//! ([`ExtractNewRecordState`], "unwrap": a change event envelope to the row state after the change) and
//! `io.debezium.transforms.outbox.EventRouter` ([`EventRouter`]: rows of an outbox table to events routed by
//! aggregate type).
//!
//! Both work on records whose value is a Debezium envelope (DESIGN.md §1 "Change events": a struct with `before`,
//! `after`, `source`, `op`, `ts_ms` and `transaction`); other records (heartbeats, schema changes, transaction
//! metadata) pass unchanged, as in Debezium. Beyond Debezium, `EventRouter` also routes Postgres logical decoding
//! messages of the outbox prefix, the table-free outbox (`outbox_message.rs`).

mod envelope;
mod event_router;
mod field_ref;
#[cfg(test)]
mod fixtures;
mod json_expand;
mod outbox_config;
mod outbox_message;
mod unwrap;
mod unwrap_config;

pub use event_router::EventRouter;
pub use unwrap::ExtractNewRecordState;
