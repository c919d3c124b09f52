//! Tidemark's Avro compatibility checker: can a reader schema read what a writer schema wrote, by the Avro
//! specification's schema-resolution rules (<https://avro.apache.org/docs/1.11.1/specification/#schema-resolution>)?
//!
//! [`check`] walks the reader and the writer side by side and records every [`Incompatibility`] with its path,
//! named and worded as Confluent's registry does (Avro Java's `SchemaCompatibility` kinds), rather than stopping at
//! the first.
//!
//! # The rules
//! - **Primitives** resolve when equal or when the writer's promotes to the reader's: int to long, float or
//!   double; long to float or double; float to double; string to bytes and bytes to string. Anything else is
//!   `TYPE_MISMATCH` (`reader type: INT not compatible with writer type: LONG`).
//! - **Records** match by name; fields match by name, then by the reader field's
//!   aliases. A writer field the reader lacks is ignored; a reader field the writer lacks needs a `default`
//!   (`READER_FIELD_MISSING_DEFAULT_VALUE`). Matched fields resolve recursively at `/fields/<reader position>/type`.
//! - **Names** of records, enums and fixed match when their *unqualified* names are equal, as the specification
//!   words it ("both schemas are records with the same (unqualified) name") and as Confluent's checker does, or when
//!   a reader alias is the writer's full name (`NAME_MISMATCH` otherwise, at `/name`). So moving a record to
//!   another namespace is compatible; renaming it needs an alias on the reader.
//! - **Enums**: every writer symbol must be a reader symbol unless the reader has an enum `default`
//!   (`MISSING_ENUM_SYMBOLS`, at `/symbols`).
//! - **Fixed**: the same size (`FIXED_SIZE_MISMATCH`, at `/size`) and a matching name.
//! - **Arrays and maps** resolve their items (`/items`) and values (`/values`).
//! - **Unions**: a writer union resolves each of its branches (`/<writer branch>`) against the reader. A reader
//!   union facing a writer that is not a union resolves the *first matching* branch, as the specification says
//!   ("the first schema in the reader's union that matches the writer's schema is recursively resolved against
//!   it"); exact matches are preferred over matches by alias and over promotions, as Avro Java's resolver does. No
//!   match is `MISSING_UNION_BRANCH`. Confluent's checker instead accepts when *any* branch would resolve; the two
//!   differ only when the branch a decoder would pick fails and a later one would not, where the decoder fails too.
//! - **Recursive types** terminate: each pair of (reader record, writer record) is resolved once; meeting it again
//!   (a linked list's `next`) adds nothing.
//! - **Logical types** resolve as their underlying types (the specification: "a logical type is always serialized
//!   using its underlying Avro type"), so `date` reads into `long`, `timestamp-millis` and `timestamp-micros` are
//!   both `long` and resolve (as in Confluent's registry), a `uuid` string is a string. The one exception is
//!   `decimal`: the specification says two decimals match "if their scales and precisions match". Tidemark
//!   requires the same scale (a different scale silently reads other numbers) and a reader precision at least the
//!   writer's (a wider precision reads every value; Debezium widens it when a `NUMERIC(10,2)` column becomes
//!   `NUMERIC(12,2)`, which stays backward compatible). Confluent's checker ignores logical types altogether.
//!   `decimal` and `big-decimal` never resolve (their encodings differ); a decimal and plain bytes do.
//!
//! # The model
//! The checker works on apache-avro's parsed [`apache_avro::Schema`] rather than a model of its own: apache-avro
//! already resolves names and namespaces, qualifies aliases and validates defaults, and a second model would be a
//! second parser to keep right. Two small adaptations suffice: a name index to follow `Schema::Ref` (later uses of
//! a named type, and types from references), and a view of each schema as its underlying type plus the logical
//! types that matter (`shape.rs`).

mod incompatibility;
mod named;
mod resolve;
mod shape;
mod union;

pub use incompatibility::{Incompatibility, IncompatibilityKind};

use super::ParsedSchema;

/// Every reason `reader` cannot read data written with `writer`; empty when it can.
pub fn check(reader: &ParsedSchema, writer: &ParsedSchema) -> Vec<Incompatibility> {
    resolve::Resolver::run(reader, writer)
}
