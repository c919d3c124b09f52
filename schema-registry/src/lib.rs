//! Tidemark's schema registry: Confluent's HTTP API over Avro schemas, with its state in the compacted topic
//! `_schemas`.
#![forbid(unsafe_code)]

pub mod avro;
pub mod error;
pub mod http;
pub mod metrics;
pub mod records;
pub mod registry;
pub mod state;
pub mod store;

pub use error::RegistryError;
pub use metrics::RegistryMetrics;
pub use registry::Registry;
pub use store::Store;
