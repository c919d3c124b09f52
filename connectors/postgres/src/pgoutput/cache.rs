//! The relations and types a session has described so far, which its row messages refer to by oid.

use std::collections::HashMap;

use thiserror::Error;

use super::relation::{DataType, Relation};

/// Relations (from Relation messages) and types (from Type messages) by oid.
///
/// pgoutput describes a relation once per session before its first row change, and again after its definition
/// changes; a row message names only the oid. Feed Relation messages in the order the rows after them are
/// processed: a Relation inside a stream block belongs to that streamed transaction, so a source that holds
/// streamed changes until Stream Commit should hold its Relation messages with them (and drop them on Stream
/// Abort). A new session starts with an empty cache.
#[derive(Debug, Clone, Default)]
pub struct RelationCache {
    relations: HashMap<u32, Relation>,
    types: HashMap<u32, DataType>,
}

/// A row message named a relation oid that no Relation message described.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("row change for relation oid {oid}, which no Relation message of this session described")]
pub struct UnknownRelation {
    /// The oid the row message named.
    pub oid: u32,
}

impl RelationCache {
    /// An empty cache.
    pub fn new() -> Self {
        RelationCache::default()
    }

    /// Records a relation's description, replacing the one with the same oid. Returns the replaced description,
    /// so the caller can tell a new relation (None) from a changed one.
    pub fn insert_relation(&mut self, relation: Relation) -> Option<Relation> {
        self.relations.insert(relation.oid, relation)
    }

    /// Records a type's description, replacing the one with the same oid; returns the replaced one.
    pub fn insert_type(&mut self, data_type: DataType) -> Option<DataType> {
        self.types.insert(data_type.oid, data_type)
    }

    /// The relation a row message names.
    pub fn relation(&self, oid: u32) -> Result<&Relation, UnknownRelation> {
        self.relations.get(&oid).ok_or(UnknownRelation { oid })
    }

    /// The type with this oid, if a Type message described it (built-in types are never described).
    pub fn data_type(&self, oid: u32) -> Option<&DataType> {
        self.types.get(&oid)
    }
}

#[cfg(test)]
mod tests {
    use super::super::relation::{Column, ReplicaIdentity};
    use super::*;

    fn relation(oid: u32, column: &str) -> Relation {
        Relation {
            xid: None,
            oid,
            namespace: "public".into(),
            name: "items".into(),
            replica_identity: ReplicaIdentity::Default,
            columns: vec![Column { flags: 1, name: column.into(), type_oid: 23, type_modifier: -1 }],
        }
    }

    #[test]
    fn relations_are_found_by_oid_and_replaced() {
        let mut cache = RelationCache::new();
        assert_eq!(cache.relation(16_391), Err(UnknownRelation { oid: 16_391 }));
        assert_eq!(cache.insert_relation(relation(16_391, "id")), None);
        assert_eq!(cache.insert_relation(relation(16_400, "other")), None);
        assert_eq!(cache.relation(16_391).map(|r| r.columns[0].name.as_str()), Ok("id"));
        let replaced = cache.insert_relation(relation(16_391, "key"));
        assert_eq!(replaced.map(|r| r.columns[0].name.clone()), Some("id".to_owned()));
        assert_eq!(cache.relation(16_391).map(|r| r.columns[0].name.as_str()), Ok("key"));
        assert_eq!(cache.relation(16_400).map(|r| r.columns[0].name.as_str()), Ok("other"));
        assert_eq!(
            UnknownRelation { oid: 5 }.to_string(),
            "row change for relation oid 5, which no Relation message of this session described"
        );
    }

    #[test]
    fn types_are_found_by_oid() {
        let mut cache = RelationCache::new();
        let mood = DataType { xid: None, oid: 16_385, namespace: "public".into(), name: "mood".into() };
        assert_eq!(cache.data_type(16_385), None);
        assert_eq!(cache.insert_type(mood.clone()), None);
        assert_eq!(cache.data_type(16_385), Some(&mood));
        assert_eq!(cache.insert_type(mood.clone()), Some(mood));
    }
}
