//! Unions on either side.

use apache_avro::schema::Schema;

use super::incompatibility::IncompatibilityKind;
use super::named::names_match;
use super::resolve::Resolver;
use super::shape::{Shape, View};

impl<'a> Resolver<'a> {
    /// A writer union: whatever branch the writer chose must be readable, so every branch resolves against the
    /// reader (a reader union picks its own branch for each). The path names the writer's branch.
    pub(super) fn writer_union(&mut self, reader: &'a Schema, branches: &'a [Schema]) {
        for (position, branch) in branches.iter().enumerate() {
            self.at(position, |s| s.resolve(reader, branch));
        }
    }

    /// A reader union and a writer that is not one: the first reader branch that matches the writer's type is
    /// resolved against it; none matching is a missing union branch.
    pub(super) fn reader_union(&mut self, branches: &'a [Schema], writer: &View<'a>, written: &'a Schema) {
        match self.select_branch(branches, writer) {
            Some(branch) => self.resolve(branch, written),
            None => self.report(
                IncompatibilityKind::MissingUnionBranch,
                format!("reader union lacking writer type: {}", writer.kind().name()),
            ),
        }
    }

    /// The branch the specification's "first schema in the reader's union that matches" picks. Like Avro Java's
    /// resolver, an exact match (same type; same full name for a named type) is preferred over a match by
    /// unqualified name or alias, and both over a promotion, so `int` written into `["long", "int"]` reads as `int`.
    /// A fixed matches only a fixed of the same size.
    fn select_branch(&self, branches: &'a [Schema], writer: &View<'a>) -> Option<&'a Schema> {
        let kind = writer.kind();
        let candidates: Vec<(&'a Schema, View<'a>)> = branches
            .iter()
            .filter_map(|branch| Some((branch, View::of(self.reader_names.deref(branch).ok()?)?)))
            .collect();
        let exact = candidates.iter().find(|(_, branch)| branch.kind() == kind && same_name(branch, writer, true));
        let by_name = || {
            candidates
                .iter()
                .find(|(_, branch)| kind.is_named() && branch.kind() == kind && same_name(branch, writer, false))
        };
        let promoted = || candidates.iter().find(|(_, branch)| kind.promotes_to(branch.kind()));
        exact.or_else(by_name).or_else(promoted).map(|(branch, _)| *branch)
    }
}

/// Whether two views of the same kind match by name: by full name when `exact`, else by unqualified name or reader
/// alias. Unnamed types always do.
fn same_name(reader: &View<'_>, writer: &View<'_>, exact: bool) -> bool {
    let (name, aliases, written) = match (reader.shape, writer.shape) {
        (Shape::Record(r), Shape::Record(w)) => (&r.name, r.aliases.as_deref(), &w.name),
        (Shape::Enum(r), Shape::Enum(w)) => (&r.name, r.aliases.as_deref(), &w.name),
        (Shape::Fixed(r), Shape::Fixed(w)) if r.size == w.size => (&r.name, r.aliases.as_deref(), &w.name),
        (Shape::Fixed(_), Shape::Fixed(_)) => return false,
        _ => return true,
    };
    if exact {
        name == written
    } else {
        names_match(name, aliases, written)
    }
}
