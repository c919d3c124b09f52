//! The resolution walk: reader and writer schemas side by side, every incompatibility recorded with its path.

use std::collections::HashSet;

use apache_avro::schema::{Name, Schema};

use super::incompatibility::{Incompatibility, IncompatibilityKind};
use super::shape::{Logical, Shape, View};
use crate::avro::names::NameIndex;
use crate::avro::ParsedSchema;

/// One check of a reader against a writer.
pub(super) struct Resolver<'a> {
    /// The reader's named types.
    pub(super) reader_names: NameIndex<'a>,
    /// The writer's named types.
    writer_names: NameIndex<'a>,
    /// Record pairs (reader name, writer name) already resolved or being resolved: a recursive type meets itself
    /// again here, and a pair's incompatibilities are recorded once, at its first path.
    pub(super) seen: HashSet<(&'a Name, &'a Name)>,
    /// The JSON-pointer segments of where the walk is.
    path: Vec<String>,
    found: Vec<Incompatibility>,
}

impl<'a> Resolver<'a> {
    /// Every incompatibility of `reader` reading what `writer` wrote.
    pub(super) fn run(reader: &'a ParsedSchema, writer: &'a ParsedSchema) -> Vec<Incompatibility> {
        let mut resolver = Resolver {
            reader_names: reader.names(),
            writer_names: writer.names(),
            seen: HashSet::new(),
            path: Vec::new(),
            found: Vec::new(),
        };
        resolver.resolve(reader.root(), writer.root());
        resolver.found
    }

    /// Resolves the writer's schema `writer` against the reader's `reader`.
    pub(super) fn resolve(&mut self, reader: &'a Schema, writer: &'a Schema) {
        let Some(r) = self.view(reader, true) else { return };
        let Some(w) = self.view(writer, false) else { return };
        match (r.shape, w.shape) {
            (_, Shape::Union(branches)) => self.writer_union(reader, branches),
            (Shape::Union(branches), _) => self.reader_union(branches, &w, writer),
            (Shape::Array(items), Shape::Array(written)) => self.at("items", |s| s.resolve(items, written)),
            (Shape::Map(values), Shape::Map(written)) => self.at("values", |s| s.resolve(values, written)),
            (Shape::Record(record), Shape::Record(written)) => self.record(record, written),
            (Shape::Enum(enumeration), Shape::Enum(written)) => self.enumeration(enumeration, written),
            (Shape::Fixed(fixed), Shape::Fixed(written)) => {
                self.fixed(fixed, written);
                self.logical(&r, &w);
            }
            _ if r.kind() == w.kind() || w.kind().promotes_to(r.kind()) => self.logical(&r, &w),
            _ => self.type_mismatch(&r, &w),
        }
    }

    /// The view of `schema` after following a reference. A reference nothing defines cannot come out of
    /// [`parse`](crate::avro::parse); should one appear, it is reported as a type mismatch rather than ignored.
    fn view(&mut self, schema: &'a Schema, reader: bool) -> Option<View<'a>> {
        let names = if reader { &self.reader_names } else { &self.writer_names };
        match names.deref(schema) {
            Ok(definition) => View::of(definition),
            Err(name) => {
                let side = if reader { "reader" } else { "writer" };
                self.report(IncompatibilityKind::TypeMismatch, format!("{side} type {name} is not defined"));
                None
            }
        }
    }

    /// Decimals resolve when their scales are equal and the reader's precision holds the writer's; a decimal and a
    /// big-decimal never do. Other logical types resolve as their underlying types.
    fn logical(&mut self, reader: &View<'a>, writer: &View<'a>) {
        let compatible = match (reader.logical, writer.logical) {
            (Logical::Decimal { precision, scale }, Logical::Decimal { precision: written, scale: written_scale }) => {
                scale == written_scale && precision >= written
            }
            (Logical::Decimal { .. }, Logical::BigDecimal) | (Logical::BigDecimal, Logical::Decimal { .. }) => false,
            _ => true,
        };
        if !compatible {
            self.type_mismatch(reader, writer);
        }
    }

    fn type_mismatch(&mut self, reader: &View<'a>, writer: &View<'a>) {
        let info = format!("reader type: {} not compatible with writer type: {}", reader.describe(), writer.describe());
        self.report(IncompatibilityKind::TypeMismatch, info);
    }

    /// Runs `step` with `segment` appended to the path.
    pub(super) fn at(&mut self, segment: impl ToString, step: impl FnOnce(&mut Self)) {
        self.path.push(segment.to_string());
        step(self);
        self.path.pop();
    }

    /// Records an incompatibility at the current path.
    pub(super) fn report(&mut self, kind: IncompatibilityKind, info: String) {
        let path = format!("/{}", self.path.join("/"));
        self.found.push(Incompatibility { kind, path, info });
    }
}
