//! The MySQL and MariaDB connectors: reading the binary log ([`binlog`]) as typed events (MariaDB's own GTID
//! events decoded by hand), MySQL column types in Debezium's representation ([`types`]), and the source connector
//! ([`source`]), over TLS as `database.ssl.mode` says ([`tls`]).
#![forbid(unsafe_code)]

pub mod binlog;
pub mod source;
pub mod tls;
pub mod types;
