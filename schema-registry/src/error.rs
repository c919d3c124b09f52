//! Failures of registry operations, each with Confluent's HTTP status and `error_code`.

use thiserror::Error;

use crate::store::StoreError;

/// A registry operation failed; [`RegistryError::codes`] gives Confluent's HTTP status and error code.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// 40401.
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    /// 40402.
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    /// 40403.
    #[error("{0}")]
    SchemaNotFound(String),
    /// 40404.
    #[error("Subject '{0}' was soft deleted. Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    /// 40405.
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    /// 40406.
    #[error("Subject '{0}' Version {1} was soft deleted. Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, i32),
    /// 40407.
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i32),
    /// 40408.
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectConfigNotFound(String),
    /// 40409.
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotFound(String),
    /// 409 / 40901.
    #[error("Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]", .details.join(", "))]
    Incompatible {
        /// The subject.
        subject: String,
        /// What is incompatible with what.
        details: Vec<String>,
    },
    /// 42201.
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),
    /// 42202.
    #[error("The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")]
    InvalidVersion(String),
    /// 42203.
    #[error("Invalid compatibility level '{0}'. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")]
    InvalidCompatibilityLevel(String),
    /// 42204.
    #[error("Invalid mode '{0}'. Valid values are READWRITE, READONLY and IMPORT")]
    InvalidMode(String),
    /// 42205.
    #[error("{0}")]
    OperationNotPermitted(String),
    /// 42206.
    #[error("One or more references exist to the schema {{subject={0}, version={1}}}")]
    ReferenceExists(String, i32),
    /// 400: the request body is not what the endpoint takes.
    #[error("{0}")]
    BadRequest(String),
    /// 415: a content type the registry does not read.
    #[error("Unsupported content type '{0}'")]
    UnsupportedMediaType(String),
    /// 50001.
    #[error("Error in the backend data store: {0}")]
    Store(#[from] StoreError),
}

impl RegistryError {
    /// Confluent's HTTP status and `error_code`.
    pub fn codes(&self) -> (u16, u32) {
        match self {
            RegistryError::SubjectNotFound(_) => (404, 40401),
            RegistryError::VersionNotFound(_) => (404, 40402),
            RegistryError::SchemaNotFound(_) => (404, 40403),
            RegistryError::SubjectSoftDeleted(_) => (404, 40404),
            RegistryError::SubjectNotSoftDeleted(_) => (404, 40405),
            RegistryError::VersionSoftDeleted(..) => (404, 40406),
            RegistryError::VersionNotSoftDeleted(..) => (404, 40407),
            RegistryError::SubjectConfigNotFound(_) => (404, 40408),
            RegistryError::SubjectModeNotFound(_) => (404, 40409),
            RegistryError::Incompatible { .. } => (409, 40901),
            RegistryError::InvalidSchema(_) => (422, 42201),
            RegistryError::InvalidVersion(_) => (422, 42202),
            RegistryError::InvalidCompatibilityLevel(_) => (422, 42203),
            RegistryError::InvalidMode(_) => (422, 42204),
            RegistryError::OperationNotPermitted(_) => (422, 42205),
            RegistryError::ReferenceExists(..) => (422, 42206),
            RegistryError::BadRequest(_) => (400, 400),
            RegistryError::UnsupportedMediaType(_) => (415, 415),
            RegistryError::Store(_) => (500, 50001),
        }
    }
}
