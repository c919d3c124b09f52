//! [`TransformError`]: a transform could not handle a record.

use thiserror::Error;

use crate::data::{DataError, SchemaError};

/// A transform could not handle a record (a value of the wrong shape, a field that does not exist, a record
/// without the timestamp a router needs). The runtime treats it as a failure of that record: `errors.tolerance`
/// decides whether the task fails or the record goes to the dead-letter topic. Retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{message}", transform.as_ref().map(|alias| format!("transform '{alias}': ")).unwrap_or_default())]
pub struct TransformError {
    /// The alias of the failing transform in the chain (`unwrap` for `transforms.unwrap.type=...`), once known.
    pub transform: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl TransformError {
    /// An error with `message`, not yet attributed to a transform of a chain.
    pub fn new(message: impl Into<String>) -> Self {
        TransformError { transform: None, message: message.into() }
    }

    /// The same error attributed to the transform `alias` (kept if already attributed).
    pub fn in_transform(mut self, alias: &str) -> Self {
        self.transform.get_or_insert_with(|| alias.to_owned());
        self
    }
}

impl From<DataError> for TransformError {
    fn from(error: DataError) -> Self {
        TransformError::new(error.to_string())
    }
}

impl From<SchemaError> for TransformError {
    fn from(error: SchemaError) -> Self {
        TransformError::new(format!("cannot build the derived schema: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_transform_once_known() {
        let error = TransformError::new("no field 'x'");
        assert_eq!(error.to_string(), "no field 'x'");
        let named = error.in_transform("route").in_transform("other");
        assert_eq!(named.to_string(), "transform 'route': no field 'x'");
    }
}
