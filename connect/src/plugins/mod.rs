//! Built-in connectors that need no database: a data generator for tests and demos, and the file and HTTP sinks.

pub mod datagen;
pub mod file_sink;
pub mod http_sink;

pub use datagen::{DatagenConnector, DATAGEN_ALIAS, DATAGEN_CLASS};
pub use file_sink::{FileSinkConnector, FILE_SINK_ALIAS, FILE_SINK_CLASS};
pub use http_sink::{HttpSinkConnector, HTTP_SINK_ALIASES, HTTP_SINK_CLASS};
