//! What every Debezium-compatible source shares: which tables and columns are captured ([`TableFilter`],
//! [`ColumnFilter`]), which columns key a table's events ([`MessageKeyColumns`]), the warnings for properties a
//! connector does not read ([`warnings`]), the pieces of Debezium's change events ([`Op`], [`SnapshotMarker`],
//! [`topic_name`], [`TableSchema`], [`change_event`], [`Heartbeats`], the `source` block a snapshot's records share
//! ([`SnapshotSourceBlock`])), its semantic type names ([`names`]) and enumerated settings ([`DecimalHandling`],
//! [`TimePrecision`], [`BinaryHandling`]), and the Java forms of numbers and times its events carry ([`Decimal`],
//! [`calendar`], [`represent_binary`]); and a source's lag behind its database ([`LagMeter`]).
#![forbid(unsafe_code)]

mod binary;
pub mod calendar;
mod column_filter;
pub mod config;
mod decimal;
mod emit;
mod envelope;
mod event;
mod filters;
mod lag;
mod message_key;
pub mod names;
mod properties;
mod pump;
mod settings;
mod snapshot_source;
mod table;
mod transaction;

pub use binary::{hex, represent as represent_binary};
pub use column_filter::ColumnFilter;
pub use decimal::Decimal;
pub use emit::{send_batch, send_failure, stopping, Emitter, Flow, Handover, BATCH};
pub use envelope::{change_event, envelope_schema, tombstone, Heartbeats};
pub use event::{now_us, snapshot_schema, topic_name, Op, SnapshotMarker, DEBEZIUM_VERSION};
pub use filters::TableFilter;
pub use lag::{LagMeter, MEASURE_EVERY};
pub use message_key::MessageKeyColumns;
pub use properties::warnings;
pub use pump::{PumpEnds, PumpStart, Pumped, RunningPump};
pub use settings::{choose, BinaryHandling, DecimalHandling, TimePrecision};
pub use snapshot_source::SnapshotSourceBlock;
pub use table::{fallback_value, ColumnRules, ColumnSchema, Row, TableColumn, TableError, TableSchema};
pub use transaction::{TransactionCounts, TransactionRecords};
