//! Tidemark's JDBC-style sink (DESIGN.md §1): `io.debezium.connector.jdbc.JdbcSinkConnector` (alias `jdbc`), with
//! Debezium's JDBC sink property names, writing into Postgres (tokio-postgres) and MySQL/MariaDB (mysql_async).
//!
//! How a batch handed to `put` reaches the database:
//!
//! 1. Records at or below the highest offset already written of their partition are replays and are skipped
//!    ([`task`]): a row never moves back to an older state within a partition while the task runs.
//! 2. Each record is read ([`change`]): a Debezium change event envelope (`c`, `r`, `u` write `after`; `d` and
//!    tombstones delete when `delete.enabled`; `t` is skipped) or a flat record (the value is the row, a null value a
//!    delete). Its columns ([`layout`]: the table from `table.name.format`, the key columns from
//!    `primary.key.mode`) and values ([`kind`], [`value`]: Kafka's logical and Debezium's semantic types resolved)
//!    are worked out; a record that cannot be written (a field no column can hold) is rejected on the spot.
//! 3. The changes are planned into statements ([`plan`]): consecutive changes of one table and kind go into one
//!    multi-row statement of at most `batch.size` rows, upserts and deletes keeping only the last change per key.
//! 4. Missing tables and columns are created (`schema.evolution=basic`) or fail the task ([`tables`]), before the
//!    transaction since MySQL commits around DDL.
//! 5. The statements ([`dialect`] writes the SQL) run in one transaction, committed before `put` returns
//!    ([`writer`]), so `flush` has nothing left to do and the runtime commits offsets only past committed rows. When
//!    the database refuses a row (a constraint, a value the column cannot hold), the transaction is rolled back and
//!    the batch written again record by record, each in a savepoint: the refused records come back as
//!    [`tidemark_connect::connector::Rejected`] with the database's message, the rest are written.
//!
//! Writes are idempotent under `insert.mode=upsert` (keyed by the record's key), so the records the runtime hands
//! over again after a crash leave the tables as they were.
#![forbid(unsafe_code)]

pub mod change;
pub mod config;
pub mod connector;
pub mod db;
pub mod dialect;
pub mod kind;
pub mod layout;
pub mod plan;
pub mod tables;
pub mod task;
pub mod temporal;
pub mod tls;
pub mod url;
mod validate;
pub mod value;
pub mod writer;

pub use connector::{JdbcSinkConnector, JDBC_SINK_ALIAS, JDBC_SINK_CLASS};
