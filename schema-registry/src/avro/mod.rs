//! Avro schemas for the registry: parsing with Confluent references, the normalised text registered schemas are
//! compared by, and the compatibility checker behind the seven compatibility levels.
//!
//! - [`parse`] turns a schema string and the schema strings of its references into a [`ParsedSchema`], or a
//!   [`SchemaError`] whose message suits Confluent's 42201 "Invalid schema" answer.
//! - [`normalize`] gives the canonical JSON text two registrations are compared by (not Avro's Parsing Canonical
//!   Form, which drops defaults that matter to compatibility).
//! - [`check`] applies the Avro specification's schema-resolution rules to a reader and a writer schema and lists
//!   every [`Incompatibility`], named and worded as Confluent's registry does.
//! - [`check_level`] runs [`check`] in the directions and against the versions a [`CompatibilityLevel`] asks for.

mod compat;
mod error;
mod levels;
mod names;
mod normalize;
mod parse;

pub use compat::{check, Incompatibility, IncompatibilityKind};
pub use error::SchemaError;
pub use levels::{check_level, find_conflict, CompatibilityLevel, Conflict, UnknownLevel};
pub use normalize::normalize;
pub use parse::{parse, ParsedSchema};
