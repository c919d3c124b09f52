//! One reason a reader cannot read what a writer wrote, worded as Confluent's registry words it.

use std::fmt;

/// The kinds of incompatibility, with the names Confluent's registry (and Avro Java's `SchemaCompatibility`) gives
/// them in `errorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncompatibilityKind {
    /// A record, enum or fixed whose name the reader neither shares nor lists as an alias.
    NameMismatch,
    /// Two fixed types of different sizes.
    FixedSizeMismatch,
    /// Writer enum symbols the reader lacks, with no enum default to read them as.
    MissingEnumSymbols,
    /// A reader field the writer does not have, without a default.
    ReaderFieldMissingDefaultValue,
    /// Types that do not resolve (and cannot be promoted), or decimals of different scale.
    TypeMismatch,
    /// A writer type that no branch of the reader's union matches.
    MissingUnionBranch,
}

impl IncompatibilityKind {
    /// Confluent's name for the kind, e.g. `READER_FIELD_MISSING_DEFAULT_VALUE`.
    pub fn as_str(self) -> &'static str {
        match self {
            IncompatibilityKind::NameMismatch => "NAME_MISMATCH",
            IncompatibilityKind::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            IncompatibilityKind::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            IncompatibilityKind::ReaderFieldMissingDefaultValue => "READER_FIELD_MISSING_DEFAULT_VALUE",
            IncompatibilityKind::TypeMismatch => "TYPE_MISMATCH",
            IncompatibilityKind::MissingUnionBranch => "MISSING_UNION_BRANCH",
        }
    }
}

impl fmt::Display for IncompatibilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One incompatibility between a reader and a writer schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// What kind of incompatibility.
    pub kind: IncompatibilityKind,
    /// Where, as a JSON pointer into the schemas walked together (`/fields/2/type`, `/` for the root): record
    /// field positions are the reader's, union branch positions the writer's.
    pub path: String,
    /// The detail Confluent calls `additionalInfo`: the field name, the missing symbols (`[C, D]`), the expected
    /// name or size, or `reader type: X not compatible with writer type: Y`.
    pub info: String,
}

impl Incompatibility {
    /// Confluent's description, naming the reader's and the writer's schema by `reader` and `writer` (the
    /// registry says "new" and "old").
    pub fn description(&self, reader: &str, writer: &str) -> String {
        let Incompatibility { kind, path, info } = self;
        match kind {
            IncompatibilityKind::NameMismatch => format!("The name of the schema has changed (path '{path}')"),
            IncompatibilityKind::FixedSizeMismatch => format!(
                "The size of FIXED type field at path '{path}' in the {reader} schema does not match with the {writer} schema"
            ),
            IncompatibilityKind::MissingEnumSymbols => {
                format!("The {reader} schema is missing enum symbols '{info}' at path '{path}' in the {writer} schema")
            }
            IncompatibilityKind::ReaderFieldMissingDefaultValue => format!(
                "The field '{info}' at path '{path}' in the {reader} schema has no default value and is missing in the {writer} schema"
            ),
            IncompatibilityKind::TypeMismatch => format!(
                "The type (path '{path}') of a field in the {reader} schema does not match with the {writer} schema"
            ),
            IncompatibilityKind::MissingUnionBranch => format!(
                "The {reader} schema is missing a type inside a union field at path '{path}' in the {writer} schema"
            ),
        }
    }

    /// The message as Confluent's registry writes it in a 409 answer or a verbose compatibility check:
    /// `{errorType:'…', description:'…', additionalInfo:'…'}`.
    pub fn confluent_message(&self, reader: &str, writer: &str) -> String {
        format!(
            "{{errorType:'{}', description:'{}', additionalInfo:'{}'}}",
            self.kind,
            self.description(reader, writer),
            self.info
        )
    }
}

impl fmt::Display for Incompatibility {
    /// Confluent's message with the schemas called "reader" and "writer".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.confluent_message("reader", "writer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_messages_as_confluent_does() {
        let missing = Incompatibility {
            kind: IncompatibilityKind::ReaderFieldMissingDefaultValue,
            path: "/fields/0".into(),
            info: "first_name_new".into(),
        };
        assert_eq!(
            missing.confluent_message("new", "old"),
            "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'first_name_new' at path \
             '/fields/0' in the new schema has no default value and is missing in the old schema', \
             additionalInfo:'first_name_new'}"
        );
        let mismatch = Incompatibility {
            kind: IncompatibilityKind::TypeMismatch,
            path: "/fields/1/type".into(),
            info: "reader type: STRING not compatible with writer type: INT".into(),
        };
        assert_eq!(
            mismatch.to_string(),
            "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/1/type') of a field in the reader \
             schema does not match with the writer schema', additionalInfo:'reader type: STRING not compatible with \
             writer type: INT'}"
        );
    }
}
