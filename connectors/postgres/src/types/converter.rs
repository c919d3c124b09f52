//! [`ColumnConverter`]: one column's Connect schema and the conversion of its values, prepared once per relation
//! (the type resolved, the schema built) so that converting a value does no more than read it.

use std::borrow::Cow;

use tidemark_connect::data::decimal::unscaled_bytes;
use tidemark_connect::data::{SchemaRef, Value};

use super::array;
use super::decode::{self, Datum};
use super::error::{Format, TypeError};
use super::kind::{self, Kind};
use super::numeric;
use super::schema;
use super::settings::{DecimalHandling, TypeSettings};
use super::ColumnType;

/// Converts the values of one column to Debezium's representation. Build one per column of a relation (again
/// when a Relation message changes the column) and use it for every row.
///
/// Struct values (`point`, and `numeric` without a declared scale under `decimal.handling.mode=precise`) are
/// built against [`ColumnConverter::schema`], so they fit the column's field in the row schema.
#[derive(Debug, Clone)]
pub struct ColumnConverter {
    pub(super) kind: Kind,
    pub(super) type_name: String,
    pub(super) schema: SchemaRef,
    pub(super) settings: TypeSettings,
    pub(super) element: Option<Box<ColumnConverter>>,
}

impl ColumnConverter {
    /// The converter of a column of type `ty`, nullable when `optional` (a column without `NOT NULL`).
    ///
    /// Fails with [`TypeError::Unknown`] for a type without a mapping (and an array of one) unless
    /// `include.unknown.datatypes` is set: the source leaves such a column out of the event, as Debezium does.
    pub fn new(ty: &ColumnType, optional: bool, settings: &TypeSettings) -> Result<Self, TypeError> {
        let mut kind = kind::resolve(ty);
        let unknown = || TypeError::Unknown { oid: ty.oid, name: ty.name.clone() };
        let element = match &kind {
            Kind::Array(element) => match ColumnConverter::new(element, true, settings) {
                Ok(element) if element.kind != Kind::Unknown => Some(Box::new(element)),
                Ok(_) | Err(TypeError::Unknown { .. }) => {
                    kind = Kind::Unknown;
                    None
                }
                Err(other) => return Err(other),
            },
            _ => None,
        };
        if kind == Kind::Unknown && !settings.include_unknown_datatypes {
            return Err(unknown());
        }
        let schema = schema::build(&kind, element.as_ref().map(|e| &e.schema), optional, settings, &ty.name)?;
        Ok(ColumnConverter { kind, type_name: ty.name.clone(), schema, settings: settings.clone(), element })
    }

    /// The column's Connect schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Whether [`ColumnConverter::binary`] can read this column's values. False only for unknown types captured
    /// under `include.unknown.datatypes`, whose text Debezium captures: read those as text (in a snapshot,
    /// `COPY (SELECT ..., col::text, ...)`; in the stream, pgoutput sends text when not asked for `binary`).
    pub fn has_binary_form(&self) -> bool {
        self.kind != Kind::Unknown
    }

    /// A value in the type's text output form (pgoutput's `t` values), under the replication session's settings:
    /// `client_encoding=UTF8`, `DateStyle=ISO`, `TimeZone=UTC`, `IntervalStyle=postgres`, `extra_float_digits`
    /// of 1 or more, `bytea_output=hex` (or `escape`), and a `lc_monetary` writing `$1,234.56` (`C`, `en_US`).
    pub fn text(&self, text: &[u8]) -> Result<Value, TypeError> {
        let text = std::str::from_utf8(text).map_err(|_| self.malformed(Format::Text, "not UTF-8".to_owned()))?;
        self.text_str(text)
    }

    fn text_str(&self, text: &str) -> Result<Value, TypeError> {
        match &self.kind {
            Kind::Unknown => Ok(tidemark_debezium::represent_binary(text.as_bytes().to_vec(), self.settings.binary)),
            Kind::Array(_) => {
                let element = self.element()?;
                let items = array::parse_text(text).map_err(|why| self.malformed(Format::Text, why))?;
                items
                    .into_iter()
                    .map(|item| item.map_or(Ok(Value::Null), |item: Cow<'_, str>| element.text_str(&item)))
                    .collect::<Result<Vec<Value>, TypeError>>()
                    .map(Value::Array)
            }
            kind => {
                let datum = decode::from_text(kind, text).map_err(|why| self.malformed(Format::Text, why))?;
                self.represent(datum, Format::Text)
            }
        }
    }

    /// A value in the type's binary send form (`COPY ... (FORMAT binary)`, pgoutput's `b` values).
    pub fn binary(&self, bytes: &[u8]) -> Result<Value, TypeError> {
        match &self.kind {
            Kind::Unknown => Err(TypeError::TextRequired { type_name: self.type_name.clone() }),
            Kind::Array(_) => {
                let element = self.element()?;
                let items = array::parse_binary(bytes).map_err(|why| self.malformed(Format::Binary, why))?;
                items
                    .into_iter()
                    .map(|item| item.map_or(Ok(Value::Null), |item| element.binary(item)))
                    .collect::<Result<Vec<Value>, TypeError>>()
                    .map(Value::Array)
            }
            // Most values of a `numeric(p, s)` column need no text on their way to Debezium's bytes.
            Kind::Numeric { precision, scale }
                if *precision != 0 && self.settings.decimal == DecimalHandling::Precise =>
            {
                match numeric::unscaled_at(bytes, *scale) {
                    Some(unscaled) => Ok(Value::Bytes(unscaled_bytes(unscaled))),
                    None => self.represent(self.datum(bytes)?, Format::Binary),
                }
            }
            _ => self.represent(self.datum(bytes)?, Format::Binary),
        }
    }

    /// The [`Datum`] of a scalar value's binary form.
    fn datum(&self, bytes: &[u8]) -> Result<Datum, TypeError> {
        decode::from_binary(&self.kind, bytes, &self.settings).map_err(|why| self.malformed(Format::Binary, why))
    }

    /// What an unchanged TOASTed value of this column becomes (pgoutput's `u`, when no old row supplies it), as
    /// Debezium builds it from `unavailable.value.placeholder`: the placeholder for string and bytes columns;
    /// `{placeholder: placeholder}` for `hstore`; for arrays the placeholder as one element of text-like arrays
    /// (a name-based UUID of it in a `uuid[]`) or one element per placeholder byte in numeric and boolean arrays.
    /// Other types have no placeholder ([`TypeError::NoPlaceholder`]).
    pub fn unavailable(&self) -> Result<Value, TypeError> {
        self.placeholder()
    }

    fn element(&self) -> Result<&ColumnConverter, TypeError> {
        self.element.as_deref().ok_or_else(|| TypeError::Internal {
            type_name: self.type_name.clone(),
            reason: "an array converter without its element converter".to_owned(),
        })
    }

    pub(super) fn malformed(&self, format: Format, reason: String) -> TypeError {
        TypeError::Malformed { type_name: self.type_name.clone(), format, reason }
    }
}

#[cfg(test)]
mod tests {
    use tidemark_connect::data::{validate, Type};

    use super::*;
    use crate::types::kind::oid;

    #[test]
    fn struct_values_follow_the_column_nullability() {
        let point = ColumnType::new(oid::POINT, -1, "point");
        for optional in [true, false] {
            let converter = ColumnConverter::new(&point, optional, &TypeSettings::default()).expect("converter");
            assert_eq!(converter.schema().is_optional(), optional);
            let value = converter.text(b"(1,2)").expect("point");
            assert_eq!(validate(converter.schema(), &value), Ok(()));
        }
    }

    #[test]
    fn domains_over_domains_keep_the_innermost_modifier() {
        let numeric = ColumnType::new(oid::NUMERIC, ((5 << 16) | 1) + 4, "numeric");
        let inner = ColumnType { base: Some(Box::new(numeric)), ..ColumnType::new(90_000, -1, "price") };
        let outer = ColumnType { base: Some(Box::new(inner)), ..ColumnType::new(90_001, -1, "discount") };
        let converter = ColumnConverter::new(&outer, true, &TypeSettings::default()).expect("converter");
        assert_eq!(converter.schema().parameter("scale"), Some("1"));
        assert_eq!(converter.text(b"2.5"), Ok(Value::Bytes(bytes::Bytes::from_static(&[25]))));
    }

    #[test]
    fn malformed_values_name_the_type_and_form() {
        let converter = ColumnConverter::new(&ColumnType::new(oid::INT4, -1, "int4"), true, &TypeSettings::default())
            .expect("int4");
        assert_eq!(
            converter.text(b"four"),
            Err(TypeError::Malformed {
                type_name: "int4".to_owned(),
                format: Format::Text,
                reason: "\"four\" is not an integer of this size".to_owned()
            })
        );
        assert!(matches!(converter.binary(&[0, 1]), Err(TypeError::Malformed { format: Format::Binary, .. })));
        assert!(matches!(converter.text(&[0xff]), Err(TypeError::Malformed { .. })));
        let array =
            ColumnConverter::new(&ColumnType::new(1007, -1, "_int4"), false, &TypeSettings::default()).expect("int4[]");
        assert_eq!(array.schema().schema_type(), Type::Array);
        assert!(matches!(array.text(b"{1,x}"), Err(TypeError::Malformed { .. })));
    }
}
