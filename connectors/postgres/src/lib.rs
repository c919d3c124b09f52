//! Tidemark's Postgres connectors (DESIGN.md §1): the logical replication source (pgoutput) with consistent
//! snapshots and Debezium-compatible change events.
//!
//! - [`replication`]: a replication connection (`replication=database`) on `postgres-protocol`'s messages, since
//!   `tokio-postgres` has no replication support on crates.io: startup and authentication, replication commands,
//!   the CopyBoth stream of XLogData and keepalives, standby status updates.
//! - [`pgoutput`]: the messages of the `pgoutput` plugin (protocol versions 1 to 4: transactions, relations, row
//!   changes, truncates, logical messages, streamed transactions).
#![forbid(unsafe_code)]

pub mod pgoutput;
pub mod replication;
