//! What an unchanged TOASTed value becomes: Debezium's `UnchangedToastedPlaceholder`, the configured
//! `unavailable.value.placeholder` expressed in the column's schema.

use bytes::Bytes;
use tidemark_connect::data::{logical, Struct, Type, Value};

use super::converter::ColumnConverter;
use super::error::TypeError;
use super::hstore;
use super::java::name_uuid_from_bytes;
use super::kind::Kind;
use super::settings::HstoreHandling;
use tidemark_debezium::names;

impl ColumnConverter {
    /// The placeholder value of this column (see [`ColumnConverter::unavailable`]).
    pub(super) fn placeholder(&self) -> Result<Value, TypeError> {
        let bytes = &self.settings.unavailable_value_placeholder;
        let text = String::from_utf8_lossy(bytes).into_owned();
        let none = || TypeError::NoPlaceholder { type_name: self.type_name.clone() };
        match &self.kind {
            Kind::Hstore => {
                let pairs = vec![(text.clone(), Some(text))];
                return Ok(match self.settings.hstore {
                    HstoreHandling::Json => hstore::json(&pairs),
                    HstoreHandling::Map => hstore::map(pairs),
                });
            }
            Kind::Array(_) => {
                let element = self.element.as_deref().ok_or_else(none)?;
                return element.array_placeholder(bytes, text).ok_or_else(none).map(Value::Array);
            }
            _ => {}
        }
        match self.schema.schema_type() {
            Type::String => Ok(Value::String(text)),
            Type::Bytes if self.schema.name() != Some(logical::DECIMAL) => Ok(Value::Bytes(bytes.clone())),
            _ => Err(none()),
        }
    }

    /// Debezium's `getArrayValue` for arrays of this element: the placeholder as the one element of a text-like
    /// array (a name-based UUID of it for `uuid`), else one element per placeholder byte (as a signed byte).
    fn array_placeholder(&self, bytes: &Bytes, text: String) -> Option<Vec<Value>> {
        let per_byte = |f: &dyn Fn(i8) -> Value| bytes.iter().map(|&b| f(b as i8)).collect::<Vec<Value>>();
        let name = self.schema.name();
        Some(match self.schema.schema_type() {
            Type::String if name == Some(names::UUID) => vec![Value::String(name_uuid_from_bytes(bytes))],
            Type::String => vec![Value::String(text)],
            Type::Bytes if name == Some(logical::DECIMAL) => {
                per_byte(&|b| Value::Bytes(Bytes::copy_from_slice(&[b as u8])))
            }
            Type::Bytes => vec![Value::Bytes(bytes.clone())],
            Type::Int16 => per_byte(&|b| Value::Int16(i16::from(b))),
            Type::Int32 => per_byte(&|b| Value::Int32(i32::from(b))),
            Type::Int64 => per_byte(&|b| Value::Int64(i64::from(b))),
            Type::Float32 => per_byte(&|b| Value::Float32(f32::from(b))),
            Type::Float64 => per_byte(&|b| Value::Float64(f64::from(b))),
            Type::Boolean => per_byte(&|b| Value::Boolean(b != 0)),
            Type::Struct if name == Some(names::VARIABLE_SCALE_DECIMAL) => bytes
                .iter()
                .map(|&b| {
                    let value = Bytes::copy_from_slice(&[b]);
                    Struct::from_values(self.schema.clone(), vec![Value::Int32(0), Value::Bytes(value)])
                        .map(Value::Struct)
                })
                .collect::<Result<Vec<Value>, _>>()
                .ok()?,
            _ => return None,
        })
    }
}
