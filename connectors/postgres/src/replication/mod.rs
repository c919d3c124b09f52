//! A logical replication client on `postgres-protocol`'s messages (`tokio-postgres` has no replication support).
//!
//! [`ReplicationConnection::connect`] opens a connection with `replication=database` and logs in (SCRAM-SHA-256,
//! MD5, cleartext). It runs replication commands ([`identify_system`](ReplicationConnection::identify_system),
//! [`create_logical_slot`](ReplicationConnection::create_logical_slot) with an exported snapshot,
//! [`drop_slot`](ReplicationConnection::drop_slot), or any command through
//! [`simple_query`](ReplicationConnection::simple_query)), then
//! [`start_logical_replication`](ReplicationConnection::start_logical_replication) turns it into a
//! [`ReplicationStream`] of XLogData (the plugin's output, undecoded) and keepalives, on which the client reports
//! its positions with [`send_status`](ReplicationStream::send_status).
//!
//! TLS ([`ConnectConfig::tls`], `sslmode`) sits below the framing: an SSLRequest before the StartupMessage, the
//! handshake on the same socket, then the same frames over the TLS stream (`transport.rs`).

mod commands;
mod config;
mod connection;
mod error;
mod lsn;
mod messages;
mod query;
mod startup;
mod stream;
mod time;
mod transport;

pub use commands::{quote_identifier, IdentifySystem, SlotCreated, SnapshotAction};
pub use config::ConnectConfig;
pub use connection::ReplicationConnection;
pub use error::{ReplicationError, ServerError};
pub use lsn::{Lsn, ParseLsnError};
pub use query::QueryResult;
pub use stream::{ReplicationMessage, ReplicationStream};
pub use time::{pg_time_to_system_time, system_time_to_pg_time};
