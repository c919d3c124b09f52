//! The named types (records, enums, fixed) a parsed schema and its references define, by full name and by alias.
//!
//! apache-avro writes the first occurrence of a named type in full and every later use as `Schema::Ref { name }`,
//! whose name may be the type's full name or one of its aliases; a type defined in a referenced schema is a `Ref`
//! in the schema that uses it. Following a `Ref` therefore needs this index.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use apache_avro::schema::{Alias, DecimalSchema, InnerDecimalSchema, Name, Schema, UuidSchema};

/// Where each named type of a schema is defined.
pub(crate) struct NameIndex<'a> {
    /// Definitions by full name.
    by_name: HashMap<&'a Name, &'a Schema>,
    /// Definitions by the full names of their aliases (a real name wins over an alias).
    by_alias: HashMap<Name, &'a Schema>,
    /// The first full name defined twice with different definitions.
    redefined: Option<&'a Name>,
    /// Every name used by reference.
    used: Vec<&'a Name>,
}

impl<'a> NameIndex<'a> {
    /// Indexes the named types defined anywhere in `schemas`.
    pub(crate) fn new(schemas: impl IntoIterator<Item = &'a Schema>) -> Self {
        let mut index =
            NameIndex { by_name: HashMap::new(), by_alias: HashMap::new(), redefined: None, used: Vec::new() };
        let mut pending: Vec<&'a Schema> = schemas.into_iter().collect();
        while let Some(schema) = pending.pop() {
            match schema {
                Schema::Ref { name } => index.used.push(name),
                Schema::Record(record) => {
                    index.define(&record.name, record.aliases.as_deref(), schema);
                    pending.extend(record.fields.iter().map(|field| &field.schema));
                }
                Schema::Enum(enumeration) => index.define(&enumeration.name, enumeration.aliases.as_deref(), schema),
                Schema::Fixed(fixed)
                | Schema::Duration(fixed)
                | Schema::Uuid(UuidSchema::Fixed(fixed))
                | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Fixed(fixed), .. }) => {
                    index.define(&fixed.name, fixed.aliases.as_deref(), schema)
                }
                Schema::Array(array) => pending.push(&array.items),
                Schema::Map(map) => pending.push(&map.types),
                Schema::Union(union) => pending.extend(union.variants()),
                _ => {}
            }
        }
        index
    }

    /// The definition of the type named `name` (a full name or an alias's full name).
    pub(crate) fn get(&self, name: &Name) -> Option<&'a Schema> {
        self.by_name.get(name).or_else(|| self.by_alias.get(name)).copied()
    }

    /// The first full name defined twice with different definitions, if any.
    pub(crate) fn redefined(&self) -> Option<&'a Name> {
        self.redefined
    }

    /// The first name used by reference that nothing defines, if any.
    pub(crate) fn unresolved(&self) -> Option<&'a Name> {
        self.used.iter().copied().find(|name| self.get(name).is_none())
    }

    /// Follows a reference to its definition; `Err` carries a name nothing defines.
    pub(crate) fn deref(&self, schema: &'a Schema) -> Result<&'a Schema, &'a Name> {
        match schema {
            Schema::Ref { name } => self.get(name).ok_or(name),
            other => Ok(other),
        }
    }

    fn define(&mut self, name: &'a Name, aliases: Option<&[Alias]>, schema: &'a Schema) {
        match self.by_name.entry(name) {
            // apache-avro copies some definitions (a named fixed with a logical type used before it was parsed):
            // an identical copy is the same type, a different one is a redefinition.
            Entry::Occupied(existing) => {
                if *existing.get() != schema && self.redefined.is_none() {
                    self.redefined = Some(name);
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(schema);
            }
        }
        for alias in aliases.unwrap_or_default() {
            let full = alias.fully_qualified_name(name.namespace()).into_owned();
            self.by_alias.entry(full).or_insert(schema);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(json: &str) -> Result<Schema, apache_avro::Error> {
        Schema::parse_str(json)
    }

    #[test]
    fn finds_nested_definitions_and_aliases() -> Result<(), apache_avro::Error> {
        let schema = parsed(
            r#"{"type":"record","name":"Outer","namespace":"n","fields":[
                {"name":"a","type":{"type":"enum","name":"E","aliases":["OldE"],"symbols":["X"]}},
                {"name":"b","type":{"type":"array","items":{"type":"fixed","name":"F","size":2}}},
                {"name":"c","type":"E"}]}"#,
        )?;
        let index = NameIndex::new([&schema]);
        for name in ["n.Outer", "n.E", "n.OldE", "n.F"] {
            assert!(index.get(&Name::new(name)?).is_some(), "{name} is indexed");
        }
        assert!(index.get(&Name::new("E")?).is_none(), "names are full names");
        assert!(index.unresolved().is_none());
        assert!(index.redefined().is_none());
        Ok(())
    }

    #[test]
    fn spots_a_redefinition() -> Result<(), apache_avro::Error> {
        let schema = parsed(
            r#"{"type":"record","name":"R","fields":[
                {"name":"a","type":{"type":"fixed","name":"F","size":2}},
                {"name":"b","type":{"type":"fixed","name":"F","size":4}}]}"#,
        )?;
        let index = NameIndex::new([&schema]);
        assert_eq!(index.redefined().map(|n| n.to_string()), Some("F".to_owned()));
        Ok(())
    }
}
