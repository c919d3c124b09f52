//! A Connect value as Avro binary, following the Avro schema [`super::from_connect`] made from its Connect schema
//! (`AvroData.fromConnectData` and Avro's `GenericDatumWriter` in one pass): a null struct field is written as its
//! schema's default (Kafka's `Struct.get`; not with `ignore.default.for.nullables`), a null where the schema is
//! required is an error naming the path, an optional value picks the union's `null` or value branch, the
//! `io.confluent.connect.avro.Union` struct the branch of its first non-null field, a string of an enum its
//! symbol's index, a map with non-string keys an array of key/value records. Arrays and maps are written as one
//! block followed by the end marker, as Java writes them.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::{BufMut, BytesMut};

use super::binary;
use super::defaults::{with_default, UNION};
use super::schema::{AvroSchema, Kind};
use crate::data::decimal::DecimalError;
use crate::data::logical::{Logical, MILLIS_PER_DAY};
use crate::data::{Path, Reason, Schema, SchemaRef, Type, ValidationError, Value};

/// How values are written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EncodeOptions {
    /// `ignore.default.for.nullables`.
    pub(crate) ignore_default_for_nullables: bool,
}

/// The encoding of the shared struct value ([`crate::data::Struct::into_shared`]) written last under one writer's
/// schema: records that carry the same block (a snapshot's `source`) have it copied rather than encoded again. It
/// holds the values and their schema, so neither address is reused while remembered; the Avro schema's address is
/// stable because the memo lives in the writer that owns that schema.
#[derive(Debug, Default)]
pub(crate) struct SharedBlocks(Mutex<Option<SharedBlock>>);

#[derive(Debug)]
struct SharedBlock {
    values: Arc<[Value]>,
    schema: SchemaRef,
    avro: usize,
    encoded: Vec<u8>,
}

impl SharedBlocks {
    fn lock(&self) -> MutexGuard<'_, Option<SharedBlock>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends the remembered encoding of `values` of `schema` under `avro`, if it is the one remembered.
    fn write(&self, out: &mut BytesMut, values: &Arc<[Value]>, schema: &SchemaRef, avro: &AvroSchema) -> bool {
        match &*self.lock() {
            Some(block)
                if Arc::ptr_eq(&block.values, values)
                    && Arc::ptr_eq(&block.schema, schema)
                    && block.avro == address(avro) =>
            {
                out.extend_from_slice(&block.encoded);
                true
            }
            _ => false,
        }
    }

    fn remember(&self, values: &Arc<[Value]>, schema: &SchemaRef, avro: &AvroSchema, encoded: &[u8]) {
        let block = SharedBlock {
            values: Arc::clone(values),
            schema: schema.clone(),
            avro: address(avro),
            encoded: encoded.to_vec(),
        };
        *self.lock() = Some(block);
    }
}

fn address(avro: &AvroSchema) -> usize {
    std::ptr::from_ref(avro) as usize
}

/// Appends the Avro binary of `value` (of Connect schema `schema`) under `avro`, copying the encoding of a shared
/// struct value from `blocks` when it was the last one encoded there.
pub(crate) fn value(
    out: &mut BytesMut,
    (avro, blocks): (&AvroSchema, &SharedBlocks),
    schema: &Schema,
    value: &Value,
    options: EncodeOptions,
    path: &Path<'_>,
) -> Result<(), ValidationError> {
    if let Kind::Union(branches) = &avro.kind {
        return union(out, (branches, blocks), schema, value, options, path);
    }
    let mismatch = || path.error(Reason::TypeMismatch { expected: schema.schema_type(), found: value.type_name() });
    match (&avro.kind, value) {
        (Kind::Null, Value::Null) => {}
        (_, Value::Null) => return Err(path.error(Reason::NullForRequired(schema.schema_type()))),
        (Kind::Boolean, Value::Boolean(v)) => out.put_u8(u8::from(*v)),
        (Kind::Int, Value::Int8(v)) if schema.schema_type() == Type::Int8 => binary::long(out, i64::from(*v)),
        (Kind::Int, Value::Int16(v)) if schema.schema_type() == Type::Int16 => binary::long(out, i64::from(*v)),
        (Kind::Int, Value::Int32(v)) if schema.schema_type() == Type::Int32 => {
            if !(0..MILLIS_PER_DAY).contains(v) && is_time(schema) {
                return Err(path.error(Reason::TimeOutOfRange(*v)));
            }
            binary::long(out, i64::from(*v));
        }
        (Kind::Long, Value::Int64(v)) => binary::long(out, *v),
        (Kind::Float, Value::Float32(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Kind::Double, Value::Float64(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Kind::String, Value::String(v)) => binary::bytes(out, v.as_bytes()),
        (Kind::Bytes, Value::Bytes(v)) => {
            if v.is_empty() && matches!(Logical::of(schema), Ok(Some(Logical::Decimal { .. }))) {
                return Err(path.error(DecimalError::Empty));
            }
            binary::bytes(out, v);
        }
        (Kind::Fixed(fixed), Value::Bytes(v)) => {
            if v.len() != fixed.size {
                return Err(path.error(Reason::TypeMismatch {
                    expected: Type::Bytes,
                    found: "bytes of another length than the Avro fixed type's size",
                }));
            }
            out.extend_from_slice(v);
        }
        (Kind::Enum(e), Value::String(symbol)) => match e.symbols.iter().position(|s| s == symbol) {
            Some(index) => binary::long(out, index as i64),
            None => {
                return Err(path.error(Reason::TypeMismatch {
                    expected: Type::String,
                    found: "a string that is not one of the Avro enum's symbols",
                }))
            }
        },
        (Kind::Array(items), Value::Array(values)) if schema.schema_type() == Type::Array => {
            let item_schema = schema.value_schema().ok_or_else(mismatch)?;
            block_start(out, values.len());
            for (i, item) in values.iter().enumerate() {
                self::value(out, (items, blocks), item_schema, item, options, &path.index(i))?;
            }
            out.put_u8(0);
        }
        (Kind::Array(entry), Value::Map(entries)) if schema.schema_type() == Type::Map => {
            let Kind::Record(record) = &entry.kind else { return Err(mismatch()) };
            let (key_schema, value_schema) =
                (schema.key_schema().ok_or_else(mismatch)?, schema.value_schema().ok_or_else(mismatch)?);
            block_start(out, entries.len());
            for (i, (k, v)) in entries.iter().enumerate() {
                for field in &record.fields {
                    match field.name.as_str() {
                        "key" => self::value(out, (&field.schema, blocks), key_schema, k, options, &path.map_key(i))?,
                        _ => self::value(out, (&field.schema, blocks), value_schema, v, options, &path.map_value(i))?,
                    }
                }
            }
            out.put_u8(0);
        }
        (Kind::Map(values), Value::Map(entries)) => {
            let value_schema = schema.value_schema().ok_or_else(mismatch)?;
            block_start(out, entries.len());
            for (i, (k, v)) in entries.iter().enumerate() {
                let Value::String(key) = k else {
                    return Err(path
                        .map_key(i)
                        .error(Reason::TypeMismatch { expected: Type::String, found: k.type_name() }));
                };
                binary::bytes(out, key.as_bytes());
                self::value(out, (values, blocks), value_schema, v, options, &path.map_value(i))?;
            }
            out.put_u8(0);
        }
        (Kind::Record(record), Value::Struct(s)) => {
            if !s.schema().eq_ignoring_default(schema) {
                return Err(path.error(Reason::StructSchemaMismatch {
                    expected: schema.to_string(),
                    found: s.schema().to_string(),
                }));
            }
            // Only a shared value written with its own schema (not one equal but for defaults) is remembered.
            let shared = s.shared_values().filter(|_| std::ptr::eq(&**s.schema(), schema));
            if let Some(values) = shared {
                if blocks.write(out, values, s.schema(), avro) {
                    return Ok(());
                }
            }
            let start = out.len();
            for ((avro_field, field), v) in record.fields.iter().zip(schema.fields()).zip(s.values()) {
                let v = if options.ignore_default_for_nullables { v } else { with_default(field.schema(), v) };
                let field_path = path.field(field.name());
                self::value(out, (&avro_field.schema, blocks), field.schema(), v, options, &field_path)?;
            }
            if let Some(values) = shared {
                blocks.remember(values, s.schema(), avro, &out[start..]);
            }
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

fn is_time(schema: &Schema) -> bool {
    matches!(Logical::of(schema), Ok(Some(Logical::Time)))
}

/// Starts the single block of an array or map of `len` items (an empty one is just the end marker).
fn block_start(out: &mut BytesMut, len: usize) {
    if len > 0 {
        binary::long(out, len as i64);
    }
}

/// A union: an optional value's `null` or value branch, or the branch of an `io.confluent.connect.avro.Union`
/// struct's first non-null field.
fn union(
    out: &mut BytesMut,
    (branches, blocks): (&[AvroSchema], &SharedBlocks),
    schema: &Schema,
    value: &Value,
    options: EncodeOptions,
    path: &Path<'_>,
) -> Result<(), ValidationError> {
    let null_branch = branches.iter().position(|b| matches!(b.kind, Kind::Null));
    let write_null = |out: &mut BytesMut| match null_branch {
        Some(index) => {
            binary::long(out, index as i64);
            Ok(())
        }
        None => Err(path.error(Reason::NullForRequired(schema.schema_type()))),
    };
    if schema.name() == Some(UNION) && schema.schema_type() == Type::Struct {
        let Value::Struct(s) = value else {
            return match value {
                Value::Null => write_null(out),
                _ => Err(path.error(Reason::TypeMismatch { expected: Type::Struct, found: value.type_name() })),
            };
        };
        let values =
            schema.fields().iter().zip(s.values()).map(|(field, v)| match options.ignore_default_for_nullables {
                true => v,
                false => with_default(field.schema(), v),
            });
        let mut value_branches = branches.iter().enumerate().filter(|(_, b)| !matches!(b.kind, Kind::Null));
        for (field, v) in schema.fields().iter().zip(values) {
            let branch = value_branches.next();
            if v.is_null() {
                continue;
            }
            let Some((index, branch)) = branch else { break };
            binary::long(out, index as i64);
            return self::value(out, (branch, blocks), field.schema(), v, options, &path.field(field.name()));
        }
        return write_null(out);
    }
    if value.is_null() {
        return write_null(out);
    }
    match branches.iter().position(|b| !matches!(b.kind, Kind::Null)) {
        Some(index) => {
            binary::long(out, index as i64);
            self::value(out, (&branches[index], blocks), schema, value, options, path)
        }
        None => Err(path.error(Reason::TypeMismatch { expected: schema.schema_type(), found: value.type_name() })),
    }
}
