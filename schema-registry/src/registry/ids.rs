//! Schemas by their global id.

use super::Registry;
use crate::error::RegistryError;
use crate::state::{State, StoredSchema};

impl Registry {
    /// The schema with `id` (40403 when no subject version uses it any more).
    pub fn schema_by_id(&self, id: i32) -> Result<StoredSchema, RegistryError> {
        let state = self.store.read();
        if usages(&state, id, true).is_empty() {
            return Err(not_found(id));
        }
        state.schema(id).cloned().ok_or_else(|| not_found(id))
    }

    /// The (subject, version) pairs that use schema `id`, live ones unless `deleted`.
    pub fn id_usages(&self, id: i32, deleted: bool) -> Result<Vec<(String, i32)>, RegistryError> {
        let state = self.store.read();
        let usages = usages(&state, id, deleted);
        if usages.is_empty() {
            return Err(not_found(id));
        }
        Ok(usages)
    }
}

fn usages(state: &State, id: i32, deleted: bool) -> Vec<(String, i32)> {
    state
        .subjects()
        .flat_map(|(subject, versions)| {
            versions
                .iter()
                .filter(move |(_, v)| v.id == id && (deleted || !v.deleted))
                .map(move |(n, _)| (subject.to_owned(), *n))
        })
        .collect()
}

fn not_found(id: i32) -> RegistryError {
    RegistryError::SchemaNotFound(format!("Schema {id} not found"))
}
