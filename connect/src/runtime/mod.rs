//! The connector runtime: running tasks under the delivery contracts of [`crate::connector`].

pub mod source;

pub use source::{run_source_task, SourceTaskContext};
