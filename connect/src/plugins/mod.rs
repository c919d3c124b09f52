//! Built-in connectors that need no database, for tests and demos.

pub mod datagen;

pub use datagen::{DatagenConnector, DATAGEN_ALIAS, DATAGEN_CLASS};
