//! The MySQL and MariaDB connectors. So far: reading the binary log ([`binlog`]) as typed events, with MariaDB's own
//! GTID events decoded by hand.
#![forbid(unsafe_code)]

pub mod binlog;
