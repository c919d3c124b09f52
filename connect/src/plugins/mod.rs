//! Built-in connectors that need no database, for tests and demos.

pub mod datagen;
pub mod file_sink;

pub use datagen::{DatagenConnector, DATAGEN_ALIAS, DATAGEN_CLASS};
pub use file_sink::{FileSinkConnector, FILE_SINK_ALIAS, FILE_SINK_CLASS};
