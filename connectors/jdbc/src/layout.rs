//! Where a record's columns come from ([`Layout`]): its table (`table.name.format`), its key columns
//! (`primary.key.mode`, `primary.key.fields`) and its other columns (the row's remaining fields), each with its
//! [`Kind`]. Records of one table with the same schemas share one layout; [`Layout::extract`] reads a record's
//! values through it.

use std::borrow::Cow;

use tidemark_connect::connector::SinkRecord;
use tidemark_connect::data::{Schema, SchemaBuilder, SchemaRef, Struct, Value};

use crate::config::{PrimaryKeyMode, SinkConfig};
use crate::kind::Kind;
use crate::value::{convert, SqlValue};

/// The column of the record's topic under `primary.key.mode=kafka`.
pub const TOPIC_COLUMN: &str = "__connect_topic";
/// The column of its partition.
pub const PARTITION_COLUMN: &str = "__connect_partition";
/// The column of its offset.
pub const OFFSET_COLUMN: &str = "__connect_offset";

/// Where a column's value is in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The key itself (a primitive key).
    Key,
    /// A field of the key struct, by position.
    KeyField(usize),
    /// A field of the row (the value, or the envelope's `after`), by position.
    RowField(usize),
    /// The record's topic.
    Topic,
    /// The record's partition.
    Partition,
    /// The record's offset.
    Offset,
}

/// One column a record writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name in the table.
    pub name: String,
    /// What it holds.
    pub kind: Kind,
    /// Whether the field may be null.
    pub optional: bool,
    /// Where its value is.
    pub source: Source,
}

/// A record's values in the columns of its layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// The key columns' values.
    pub key: Vec<SqlValue>,
    /// The other columns' values.
    pub values: Vec<SqlValue>,
    /// The key as it was in the record: what tells changes of one row from changes of others.
    pub identity: Vec<Value>,
}

/// The table and columns of records of one shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The table.
    pub table: String,
    /// The primary key columns.
    pub key: Vec<Column>,
    /// The other columns (none for a delete).
    pub values: Vec<Column>,
}

impl Layout {
    /// The layout of `record` whose row is `row` (`None` for a delete); `Err` says why it cannot be written.
    pub fn new(config: &SinkConfig, record: &SinkRecord, row: Option<&Struct>) -> Result<Layout, String> {
        let dialect = config.url.dialect;
        let r = &record.record;
        let name = |field: &str| dialect.fold(field, config.quote_identifiers);
        let column = |field: &str, schema: &Schema, source: Source, key: bool| -> Result<Column, String> {
            let kind = Kind::of(schema, dialect).map_err(|e| format!("field {field}: {e}"))?;
            Ok(Column { name: name(field), kind, optional: !key && schema.is_optional(), source })
        };
        // The row fields that went into the key, by name, so they are not written twice.
        let mut key_fields: Vec<&str> = Vec::new();
        let mut key = Vec::new();
        match config.primary_key_mode {
            PrimaryKeyMode::None => {}
            PrimaryKeyMode::Kafka => {
                let position =
                    |name: &str, kind, source| Column { name: name.to_owned(), kind, optional: false, source };
                key.push(position(TOPIC_COLUMN, Kind::Text, Source::Topic));
                key.push(position(PARTITION_COLUMN, Kind::Int32, Source::Partition));
                key.push(position(OFFSET_COLUMN, Kind::Int64, Source::Offset));
            }
            PrimaryKeyMode::RecordKey => match &r.key {
                Value::Null => return Err("primary.key.mode=record_key, but the record has no key".to_owned()),
                Value::Struct(k) => {
                    for field in named_fields(k.schema(), &config.primary_key_fields, "key")? {
                        key.push(column(field.name(), field.schema(), Source::KeyField(field.index()), true)?);
                        key_fields.push(field.name());
                    }
                }
                primitive => {
                    let [field] = config.primary_key_fields.as_slice() else {
                        return Err(format!(
                            "the key is a {}: primary.key.fields must name the one column it is written to",
                            primitive.type_name()
                        ));
                    };
                    let schema = primitive_schema(r.key_schema.as_ref(), primitive)?;
                    key.push(column(field, &schema, Source::Key, true)?);
                    key_fields.push(field);
                }
            },
            PrimaryKeyMode::RecordValue => {
                let row = row.ok_or("primary.key.mode=record_value, but the record has no value")?;
                for field in named_fields(row.schema(), &config.primary_key_fields, "value")? {
                    key.push(column(field.name(), field.schema(), Source::RowField(field.index()), true)?);
                    key_fields.push(field.name());
                }
            }
        }
        let mut values = Vec::new();
        if let Some(row) = row {
            for field in row.schema().fields().iter().filter(|f| !key_fields.contains(&f.name())) {
                values.push(column(field.name(), field.schema(), Source::RowField(field.index()), false)?);
            }
        }
        Ok(Layout { table: name(&config.table_name(&r.topic)), key, values })
    }

    /// The key columns' names.
    pub fn key_names(&self) -> Vec<&str> {
        self.key.iter().map(|c| c.name.as_str()).collect()
    }

    /// The other columns' names.
    pub fn value_names(&self) -> Vec<&str> {
        self.values.iter().map(|c| c.name.as_str()).collect()
    }

    /// Whether records of both layouts are written by one statement: the same table and columns.
    pub fn same_columns(&self, other: &Layout) -> bool {
        let same = |a: &[Column], b: &[Column]| a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.name == b.name);
        self.table == other.table && same(&self.key, &other.key) && same(&self.values, &other.values)
    }

    /// The record's values in these columns; `Err` names the field that cannot be written.
    pub fn extract(&self, record: &SinkRecord, row: Option<&Struct>) -> Result<Extracted, String> {
        let mut identity = Vec::with_capacity(self.key.len());
        let mut key = Vec::with_capacity(self.key.len());
        for column in &self.key {
            let value = source_value(column.source, record, row);
            if value.is_null() {
                return Err(format!("the key column {} is null", column.name));
            }
            key.push(convert(&column.kind, &value).map_err(|e| format!("field {}: {e}", column.name))?);
            identity.push(value.into_owned());
        }
        let values = self
            .values
            .iter()
            .map(|column| {
                let value = source_value(column.source, record, row);
                convert(&column.kind, &value).map_err(|e| format!("field {}: {e}", column.name))
            })
            .collect::<Result<_, _>>()?;
        Ok(Extracted { key, values, identity })
    }
}

/// The fields of `schema` that `names` names (all when it names none).
fn named_fields<'s>(
    schema: &'s Schema,
    names: &[String],
    what: &str,
) -> Result<Vec<&'s tidemark_connect::data::Field>, String> {
    if names.is_empty() {
        return Ok(schema.fields().iter().collect());
    }
    names
        .iter()
        .map(|name| {
            schema
                .field(name)
                .ok_or_else(|| format!("primary.key.fields names {name}, which the record's {what} lacks"))
        })
        .collect()
}

/// The schema of a primitive key: its own, or one of the value's type.
fn primitive_schema(schema: Option<&SchemaRef>, key: &Value) -> Result<SchemaRef, String> {
    if let Some(schema) = schema {
        return Ok(schema.clone());
    }
    key.schema_type()
        .and_then(SchemaBuilder::primitive)
        .ok_or_else(|| format!("a {} key without a schema cannot be a column", key.type_name()))?
        .build()
        .map_err(|e| e.to_string())
}

/// A column's value in the record (null where the record has none).
fn source_value<'a>(source: Source, record: &'a SinkRecord, row: Option<&'a Struct>) -> Cow<'a, Value> {
    let r = &record.record;
    let found = match source {
        Source::Key => Some(&r.key),
        Source::KeyField(i) => r.key.as_struct().and_then(|k| k.get_index(i)),
        Source::RowField(i) => row.and_then(|row| row.get_index(i)),
        Source::Topic => return Cow::Owned(Value::String(r.topic.clone())),
        Source::Partition => return Cow::Owned(Value::Int32(r.partition.unwrap_or(-1))),
        Source::Offset => return Cow::Owned(Value::Int64(record.kafka_offset)),
    };
    found.map_or(Cow::Owned(Value::Null), Cow::Borrowed)
}
