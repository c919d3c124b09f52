//! Records, enums and fixed: names, fields, symbols and sizes.

use std::collections::{HashMap, HashSet};

use apache_avro::schema::{Alias, EnumSchema, FixedSchema, Name, RecordField, RecordSchema};

use super::incompatibility::IncompatibilityKind;
use super::resolve::Resolver;

impl<'a> Resolver<'a> {
    /// Records: fields are matched by name, then by the reader field's aliases. A writer field the reader lacks is
    /// skipped; a reader field the writer lacks needs a default. Matched fields resolve recursively.
    pub(super) fn record(&mut self, reader: &'a RecordSchema, writer: &'a RecordSchema) {
        if !self.seen.insert((&reader.name, &writer.name)) {
            return;
        }
        self.check_name(&reader.name, reader.aliases.as_deref(), &writer.name);
        let written: HashMap<&str, &'a RecordField> =
            writer.fields.iter().map(|field| (field.name.as_str(), field)).collect();
        self.at("fields", |s| {
            for (position, field) in reader.fields.iter().enumerate() {
                let source = written
                    .get(field.name.as_str())
                    .or_else(|| field.aliases.iter().find_map(|alias| written.get(alias.as_str())));
                s.at(position, |s| match source {
                    Some(source) => s.at("type", |s| s.resolve(&field.schema, &source.schema)),
                    None if field.default.is_some() => {}
                    None => s.report(IncompatibilityKind::ReaderFieldMissingDefaultValue, field.name.clone()),
                });
            }
        });
    }

    /// Enums: every writer symbol must be a reader symbol, unless the reader has a default to read the others as.
    pub(super) fn enumeration(&mut self, reader: &'a EnumSchema, writer: &'a EnumSchema) {
        self.check_name(&reader.name, reader.aliases.as_deref(), &writer.name);
        if reader.default.is_some() {
            return;
        }
        let known: HashSet<&str> = reader.symbols.iter().map(String::as_str).collect();
        let mut missing: Vec<&str> =
            writer.symbols.iter().map(String::as_str).filter(|symbol| !known.contains(symbol)).collect();
        if !missing.is_empty() {
            missing.sort_unstable();
            let info = format!("[{}]", missing.join(", "));
            self.at("symbols", |s| s.report(IncompatibilityKind::MissingEnumSymbols, info));
        }
    }

    /// Fixed: the same size (and a matching name).
    pub(super) fn fixed(&mut self, reader: &'a FixedSchema, writer: &'a FixedSchema) {
        self.check_name(&reader.name, reader.aliases.as_deref(), &writer.name);
        if reader.size != writer.size {
            let info = format!("expected: {}, found: {}", writer.size, reader.size);
            self.at("size", |s| s.report(IncompatibilityKind::FixedSizeMismatch, info));
        }
    }

    fn check_name(&mut self, reader: &Name, aliases: Option<&[Alias]>, writer: &Name) {
        if !names_match(reader, aliases, writer) {
            self.at("name", |s| s.report(IncompatibilityKind::NameMismatch, format!("expected: {writer}")));
        }
    }
}

/// Whether a reader's named type reads a writer's of the name `writer`: the same unqualified name (the
/// specification: "both schemas are records with the same (unqualified) name", likewise enums and fixed), or a
/// reader alias naming the writer's full name.
pub(super) fn names_match(reader: &Name, aliases: Option<&[Alias]>, writer: &Name) -> bool {
    reader.name() == writer.name()
        || aliases
            .unwrap_or_default()
            .iter()
            .any(|alias| alias.fully_qualified_name(reader.namespace()).as_ref() == writer)
}
