//! Avro binary as a Connect value, following the writer's Avro schema and the Connect schema
//! [`super::to_connect`] made from it (Avro's `GenericDatumReader` and `AvroData.toConnectData` in one pass): a
//! union of `null` and one type gives null or the value, any other union the `io.confluent.connect.avro.Union`
//! struct with the branch's field set, an enum its symbol, a `fixed` its bytes, an array of map entries a map.
//!
//! Input comes from outside: every length is checked against what is left, a count of zero-size items is bounded,
//! and a value that does not fit its Connect type (an `int` too large for an INT8 field, a Time outside a day, a
//! Decimal without bytes) is an error where Java would silently truncate or fail later.

use bytes::Bytes;

use super::binary::Reader;
use super::defaults::UNION;
use super::error::AvroError;
use super::schema::{AvroSchema, Kind};
use crate::data::logical::{Logical, MILLIS_PER_DAY};
use crate::data::{SchemaRef, Struct, Type, Value};

/// The most items an array or map of zero-size items may claim (their count is not bounded by the data's length).
const MAX_ZERO_SIZE_ITEMS: u64 = 1 << 20;

/// Reads one value of `avro` as a value of the Connect schema `schema`.
pub(crate) fn value(reader: &mut Reader<'_>, avro: &AvroSchema, schema: &SchemaRef) -> Result<Value, AvroError> {
    Ok(match &avro.kind {
        Kind::Null => Value::Null,
        Kind::Boolean => Value::Boolean(reader.boolean()?),
        Kind::Int => {
            let v = reader.int()?;
            match schema.schema_type() {
                Type::Int8 => Value::Int8(i8::try_from(v).map_err(|_| reader.error("int out of range for INT8"))?),
                Type::Int16 => Value::Int16(i16::try_from(v).map_err(|_| reader.error("int out of range for INT16"))?),
                _ => {
                    if !(0..MILLIS_PER_DAY).contains(&v) && matches!(Logical::of(schema), Ok(Some(Logical::Time))) {
                        return Err(reader.error("Time outside 0..86400000 ms"));
                    }
                    Value::Int32(v)
                }
            }
        }
        Kind::Long => Value::Int64(reader.long()?),
        Kind::Float => Value::Float32(reader.float()?),
        Kind::Double => Value::Float64(reader.double()?),
        Kind::String => Value::String(reader.string()?.to_owned()),
        Kind::Bytes => {
            let bytes = reader.bytes()?;
            if bytes.is_empty() && matches!(Logical::of(schema), Ok(Some(Logical::Decimal { .. }))) {
                return Err(reader.error("a Decimal needs at least one byte"));
            }
            Value::Bytes(Bytes::copy_from_slice(bytes))
        }
        Kind::Fixed(fixed) => Value::Bytes(Bytes::copy_from_slice(reader.take(fixed.size)?)),
        Kind::Enum(e) => {
            let index = reader.int()?;
            let symbol = usize::try_from(index).ok().and_then(|i| e.symbols.get(i));
            Value::String(symbol.ok_or_else(|| reader.error("enum index out of range"))?.clone())
        }
        Kind::Array(items) if schema.schema_type() == Type::Map => {
            let Kind::Record(entry) = &items.kind else { return Err(reader.error("map entries must be records")) };
            let (Some(key_schema), Some(value_schema)) = (schema.key_schema(), schema.value_schema()) else {
                return Err(reader.error("a map schema without keys or values"));
            };
            let mut entries = Vec::new();
            blocks(reader, items, |reader| {
                let (mut key, mut value) = (Value::Null, Value::Null);
                for field in &entry.fields {
                    match field.name.as_str() {
                        "key" => key = self::value(reader, &field.schema, key_schema)?,
                        _ => value = self::value(reader, &field.schema, value_schema)?,
                    }
                }
                entries.push((key, value));
                Ok(())
            })?;
            Value::Map(entries)
        }
        Kind::Array(items) => {
            let item_schema = schema.value_schema().ok_or_else(|| reader.error("an array schema without items"))?;
            let mut values = Vec::new();
            blocks(reader, items, |reader| {
                values.push(self::value(reader, items, item_schema)?);
                Ok(())
            })?;
            Value::Array(values)
        }
        Kind::Map(values) => {
            let value_schema = schema.value_schema().ok_or_else(|| reader.error("a map schema without values"))?;
            let mut entries = Vec::new();
            blocks(reader, values, |reader| {
                let key = Value::String(reader.string()?.to_owned());
                entries.push((key, self::value(reader, values, value_schema)?));
                Ok(())
            })?;
            Value::Map(entries)
        }
        Kind::Record(record) => {
            let fields = schema.fields();
            if fields.len() != record.fields.len() {
                return Err(reader.error("the record does not match its Connect schema"));
            }
            let values = record
                .fields
                .iter()
                .zip(fields)
                .map(|(avro_field, field)| self::value(reader, &avro_field.schema, field.schema()))
                .collect::<Result<Vec<_>, _>>()?;
            Value::Struct(Struct::from_parts(schema.clone(), values))
        }
        Kind::Union(branches) => {
            let index = reader.long()?;
            let branch = usize::try_from(index)
                .ok()
                .and_then(|i| branches.get(i))
                .ok_or_else(|| reader.error("union index out of range"))?;
            if matches!(branch.kind, Kind::Null) {
                return Ok(Value::Null);
            }
            if collapses(branches) {
                return self::value(reader, branch, schema);
            }
            if schema.name() != Some(UNION) {
                return Err(reader.error("a union without its Connect union struct"));
            }
            let position = branches[..index as usize].iter().filter(|b| !matches!(b.kind, Kind::Null)).count();
            let field = schema.fields().get(position).ok_or_else(|| reader.error("union branch without a field"))?;
            let mut values = vec![Value::Null; schema.fields().len()];
            values[position] = self::value(reader, branch, field.schema())?;
            Value::Struct(Struct::from_parts(schema.clone(), values))
        }
    })
}

/// Whether a union stands for an optional value (`null` and one other branch), as `AvroData` reads it.
pub(crate) fn collapses(branches: &[AvroSchema]) -> bool {
    branches.len() == 2 && branches.iter().any(|b| matches!(b.kind, Kind::Null) && b.props.is_empty())
}

/// Reads the blocks of an array or map, calling `item` for each item.
fn blocks(
    reader: &mut Reader<'_>,
    items: &AvroSchema,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<(), AvroError>,
) -> Result<(), AvroError> {
    let zero_size = min_size(items) == 0;
    let mut total: u64 = 0;
    loop {
        let count = reader.block_count()?;
        if count == 0 {
            return Ok(());
        }
        total = total.saturating_add(count);
        let bound = if zero_size { MAX_ZERO_SIZE_ITEMS } else { reader.remaining() as u64 };
        if total > bound {
            return Err(reader.error("more items than the data can hold"));
        }
        for _ in 0..count {
            item(reader)?;
        }
    }
}

/// The fewest bytes a value of `avro` takes.
fn min_size(avro: &AvroSchema) -> usize {
    match &avro.kind {
        Kind::Null => 0,
        Kind::Fixed(fixed) => fixed.size,
        Kind::Record(record) => record.fields.iter().map(|f| min_size(&f.schema)).sum(),
        Kind::Float => 4,
        Kind::Double => 8,
        _ => 1,
    }
}
