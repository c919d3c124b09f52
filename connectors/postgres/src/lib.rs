//! Tidemark's Postgres connectors (DESIGN.md §1): the logical replication source (pgoutput) with consistent
//! snapshots and Debezium-compatible change events.
//!
//! - [`replication`]: a replication connection (`replication=database`) on `postgres-protocol`'s messages, since
//!   `tokio-postgres` has no replication support on crates.io: startup and authentication, replication commands,
//!   the CopyBoth stream of XLogData and keepalives, standby status updates.
//! - [`pgoutput`]: the messages of the `pgoutput` plugin (protocol versions 1 to 4: transactions, relations, row
//!   changes, truncates, logical messages, streamed transactions).
//! - [`types`]: Postgres column types and values in Kafka Connect's data model, as Debezium maps them.
//! - [`source`]: `io.debezium.connector.postgresql.PostgresConnector` (alias `postgres`): snapshot in the slot's
//!   exported snapshot, then the stream, as Debezium's change events; positions confirmed to the slot only once
//!   durable.
//! - [`tls`]: TLS to the server under libpq's `sslmode` rules, for both kinds of connections.
#![forbid(unsafe_code)]

pub mod pgoutput;
pub mod replication;
pub mod source;
pub mod tls;
pub mod types;
