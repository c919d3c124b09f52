//! A captured table's Connect schemas, as Debezium names them: the key `<prefix>.<container>.<table>.Key` (the
//! primary key's columns, or those `message.key.columns` names; none without either), the row
//! `<prefix>.<container>.<table>.Value` (the columns `column.include.list` / `column.exclude.list` keep), and the
//! change event `<prefix>.<container>.<table>.Envelope`; and turning column values into rows and keys.
//!
//! A source builds it once per table definition, with one converter per carried column (its own type, implementing
//! [`ColumnSchema`]); the snapshot and the stream must build it the same way so a table has the same schemas in both.

use bytes::Bytes;
use tidemark_connect::data::{logical, DataError, SchemaBuilder, SchemaError, SchemaRef, Struct, Type, Value};

use crate::column_filter::ColumnFilter;
use crate::event::topic_name;
use crate::message_key::MessageKeyColumns;

/// A column converter: what a source turns a column's values into Connect values with.
pub trait ColumnSchema {
    /// What converting a value (or building the converter) can fail with.
    type Error;

    /// The column's schema, its field's schema in the row (and in the key).
    fn schema(&self) -> &SchemaRef;
}

/// The settings that shape a table's schemas beyond its definition.
#[derive(Debug, Clone, Copy)]
pub struct ColumnRules<'a> {
    /// `column.include.list` / `column.exclude.list`.
    pub columns: &'a ColumnFilter,
    /// `message.key.columns`.
    pub keys: &'a MessageKeyColumns,
}

/// Building a table's schemas or a row failed.
#[derive(Debug, thiserror::Error)]
pub enum TableError<E> {
    /// A column's type cannot be converted, or one of its values.
    #[error("table {table}, column {column}: {source}")]
    Column {
        /// `<container>.<table>`.
        table: String,
        /// The column.
        column: String,
        /// Why.
        source: E,
    },
    /// A schema could not be built.
    #[error("schema of {name}: {source}")]
    Schema {
        /// The schema's name.
        name: String,
        /// Why.
        source: SchemaError,
    },
    /// A row did not fit its schema.
    #[error("event of {table}: {source}")]
    Data {
        /// `<container>.<table>`.
        table: String,
        /// Why.
        source: DataError,
    },
}

/// A column the events carry, in the row, the key or both (a column of a type without a mapping is left out, as
/// Debezium does).
#[derive(Debug, Clone)]
pub struct TableColumn<C> {
    /// The column's name.
    pub name: String,
    /// Its position among the columns the table was described with.
    pub position: usize,
    /// Its converter, whose schema is its field's schema in the row (and in the key).
    pub converter: C,
    /// Whether the row has it (the column lists keep it); a column only in the key is carried for the key.
    pub in_row: bool,
}

/// One image of a row: the row struct events carry in `before` / `after`, and the key it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The row (its schema is [`TableSchema::row_schema`]).
    pub value: Struct,
    /// The key (null without a key).
    pub key: Value,
}

/// A captured table's schemas.
#[derive(Debug, Clone)]
pub struct TableSchema<C> {
    /// The schema (Postgres) or database (MySQL) the table is in.
    pub schema: String,
    /// The table's name.
    pub table: String,
    /// `<prefix>.<schema>.<table>`.
    pub topic: String,
    /// The columns events carry (in the row, the key or both), in table order.
    pub columns: Vec<TableColumn<C>>,
    /// The positions of the key's columns in [`TableSchema::columns`], in key order.
    pub key: Vec<usize>,
    /// The key's schema; `None` without a key (events then have a null key).
    pub key_schema: Option<SchemaRef>,
    /// The row's schema (optional: `before` and `after` may be null).
    pub row_schema: SchemaRef,
    /// The change event's schema.
    pub envelope_schema: SchemaRef,
}

impl<C: ColumnSchema> TableSchema<C> {
    /// The schemas of `schema.table` for connector `prefix`, from its columns (name and type description `T`, in
    /// table order), keyed by the columns `message.key.columns` names for it, else by those named in
    /// `primary_key`. `convert` makes a column's converter (`None` for a type without a mapping: left out);
    /// only the columns the rules carry are converted. `envelope` builds the change event's schema from its name
    /// (`<prefix>.<schema>.<table>`) and the row schema.
    pub fn build<T>(
        prefix: &str,
        (schema, table): (&str, &str),
        columns: Vec<(String, T)>,
        primary_key: &[String],
        rules: ColumnRules<'_>,
        mut convert: impl FnMut(T) -> Result<Option<C>, C::Error>,
        envelope: impl FnOnce(&str, &SchemaRef) -> Result<SchemaRef, SchemaError>,
    ) -> Result<Self, TableError<C::Error>> {
        let qualified = format!("{schema}.{table}");
        let name = format!("{prefix}.{qualified}");
        let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let key_names: Vec<String> = match rules.keys.key_columns(schema, table, &names) {
            Some(custom) => custom.into_iter().map(str::to_owned).collect(),
            None => primary_key.to_vec(),
        };
        let mut carried = Vec::with_capacity(columns.len());
        for (position, (column, ty)) in columns.into_iter().enumerate() {
            let in_row = rules.columns.includes(schema, table, &column);
            if !in_row && !key_names.contains(&column) {
                continue;
            }
            match convert(ty) {
                Ok(Some(converter)) => carried.push(TableColumn { name: column, position, converter, in_row }),
                Ok(None) => {
                    tracing::debug!(table = %qualified, %column, "a column of a type without a mapping is left out")
                }
                Err(source) => return Err(TableError::Column { table: qualified, column, source }),
            }
        }
        let columns = carried;
        let schema_error = |suffix: &str| {
            let name = format!("{name}.{suffix}");
            move |source| TableError::Schema { name, source }
        };
        let key: Vec<usize> = key_names.iter().filter_map(|k| columns.iter().position(|c| c.name == *k)).collect();
        let key_schema = if key.is_empty() || key.len() != key_names.len() {
            None
        } else {
            let builder = key.iter().fold(SchemaBuilder::struct_().name(format!("{name}.Key")), |b, &i| {
                b.field(columns[i].name.clone(), columns[i].converter.schema().clone())
            });
            Some(builder.build().map_err(schema_error("Key"))?)
        };
        let row_schema = columns
            .iter()
            .filter(|c| c.in_row)
            .fold(SchemaBuilder::struct_().name(format!("{name}.Value")).optional(), |b, c| {
                b.field(c.name.clone(), c.converter.schema().clone())
            })
            .build()
            .map_err(schema_error("Value"))?;
        let envelope_schema = envelope(&name, &row_schema).map_err(schema_error("Envelope"))?;
        let key = if key_schema.is_some() { key } else { Vec::new() };
        Ok(TableSchema {
            schema: schema.to_owned(),
            table: table.to_owned(),
            topic: topic_name(&name),
            columns,
            key,
            key_schema,
            row_schema,
            envelope_schema,
        })
    }

    /// `<schema>.<table>`, for messages.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// A row and its key from one value per carried column, in order. A null in a required field (a column
    /// outside the replica identity in a delete's old key) becomes Debezium's fallback for it.
    pub fn row(&self, mut values: Vec<Value>) -> Result<Row, TableError<C::Error>> {
        // In place: a row is made per record.
        for (value, column) in values.iter_mut().zip(&self.columns) {
            if value.is_null() {
                *value = fallback_value(column.converter.schema());
            }
        }
        let data_error = |source| TableError::Data { table: self.qualified_name(), source };
        let key = match &self.key_schema {
            Some(schema) => {
                let key_values = self.key.iter().map(|&i| values[i].clone()).collect();
                Value::Struct(Struct::from_values(schema.clone(), key_values).map_err(data_error)?)
            }
            None => Value::Null,
        };
        let row_values = if self.columns.iter().all(|c| c.in_row) {
            values
        } else {
            values.into_iter().zip(&self.columns).filter(|(_, c)| c.in_row).map(|(v, _)| v).collect()
        };
        let value = Struct::from_values(self.row_schema.clone(), row_values).map_err(data_error)?;
        Ok(Row { value, key })
    }

    /// The error of a value of carried column `index`.
    pub fn column_error(&self, index: usize, source: C::Error) -> TableError<C::Error> {
        let column = self.columns.get(index).map(|c| c.name.clone()).unwrap_or_default();
        TableError::Column { table: self.qualified_name(), column, source }
    }
}

/// The value Debezium puts in a required field it has no value for (a column outside the replica identity in a
/// delete's old key): the field's default, else the zero of its type (for a Kafka `Decimal`, the number zero: one
/// zero byte of unscaled value, as an empty one is no number).
pub fn fallback_value(schema: &SchemaRef) -> Value {
    if let Some(default) = schema.default_value() {
        return default.clone();
    }
    if schema.is_optional() {
        return Value::Null;
    }
    match schema.schema_type() {
        Type::Int8 => Value::Int8(0),
        Type::Int16 => Value::Int16(0),
        Type::Int32 => Value::Int32(0),
        Type::Int64 => Value::Int64(0),
        Type::Float32 => Value::Float32(0.0),
        Type::Float64 => Value::Float64(0.0),
        Type::Boolean => Value::Boolean(false),
        Type::String => Value::String(String::new()),
        Type::Bytes if schema.name() == Some(logical::DECIMAL) => Value::Bytes(Bytes::from_static(&[0])),
        Type::Bytes => Value::Bytes(Bytes::new()),
        Type::Array => Value::Array(Vec::new()),
        Type::Map => Value::Map(Vec::new()),
        Type::Struct => {
            let values = schema.fields().iter().map(|f| fallback_value(f.schema())).collect();
            Struct::from_values(schema.clone(), values).map_or(Value::Null, Value::Struct)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A converter that is just a schema.
    struct Plain(SchemaRef);

    impl ColumnSchema for Plain {
        type Error = String;

        fn schema(&self) -> &SchemaRef {
            &self.0
        }
    }

    /// A column description: its type, or `None` for a type without a mapping.
    type Spec = Option<SchemaBuilder>;

    /// The rules of a config with `pairs` (column lists and message.key.columns).
    struct Rules(ColumnFilter, MessageKeyColumns);

    impl Rules {
        fn of(pairs: &[(&str, &str)]) -> Self {
            let props: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let keys = props.get("message.key.columns").map(String::as_str).unwrap_or_default();
            Rules(ColumnFilter::from_props(&props).expect("columns"), MessageKeyColumns::parse(keys).expect("keys"))
        }
    }

    fn build(
        (schema, table): (&str, &str),
        columns: Vec<(&str, Spec)>,
        primary_key: &[&str],
        rules: &Rules,
    ) -> TableSchema<Plain> {
        let columns = columns.into_iter().map(|(name, spec)| (name.to_owned(), spec)).collect();
        let primary_key: Vec<String> = primary_key.iter().map(|k| k.to_string()).collect();
        let rules = ColumnRules { columns: &rules.0, keys: &rules.1 };
        let convert = |spec: Spec| spec.map(|b| b.build().map(Plain).map_err(|e| e.to_string())).transpose();
        let envelope = |name: &str, row: &SchemaRef| {
            SchemaBuilder::struct_().name(format!("{name}.Envelope")).field("after", row.clone()).build()
        };
        TableSchema::build("pg1", (schema, table), columns, &primary_key, rules, convert, envelope).expect("table")
    }

    fn orders() -> Vec<(&'static str, Spec)> {
        vec![
            ("id", Some(SchemaBuilder::int32())),
            ("name", Some(SchemaBuilder::string().optional())),
            ("qty", Some(SchemaBuilder::int64())),
        ]
    }

    fn key_values(row: &Row) -> Option<Vec<Value>> {
        row.key.as_struct().map(|k| k.values().to_vec())
    }

    #[test]
    fn keyed_table() {
        let table = build(("public", "orders"), orders(), &["id"], &Rules::of(&[]));
        assert_eq!(table.topic, "pg1.public.orders");
        let key = table.key_schema.as_ref().expect("key");
        assert_eq!(key.name(), Some("pg1.public.orders.Key"));
        assert_eq!(key.fields().len(), 1);
        assert_eq!(table.row_schema.name(), Some("pg1.public.orders.Value"));
        assert!(table.row_schema.is_optional());
        assert_eq!(table.envelope_schema.name(), Some("pg1.public.orders.Envelope"));

        // A delete's old key: the columns outside the key are null, required ones get Debezium's fallback.
        let row = table.row(vec![Value::Int32(7), Value::Null, Value::Null]).expect("row");
        assert_eq!(row.value.values(), &[Value::Int32(7), Value::Null, Value::Int64(0)]);
        assert_eq!(key_values(&row), Some(vec![Value::Int32(7)]));
    }

    #[test]
    fn keyless_table_and_odd_names() {
        let rules = Rules::of(&[]);
        let table = build(("my schema", "log$"), vec![("line", Some(SchemaBuilder::string()))], &[], &rules);
        assert!(table.key_schema.is_none());
        assert_eq!(table.topic, "pg1.my_schema.log_");
        assert_eq!(table.row(vec![Value::from("x")]).expect("row").key, Value::Null);
        // A column of a type without a mapping is left out; the others keep their positions.
        let table = build(("s", "t"), vec![("odd", None), ("id", Some(SchemaBuilder::int32()))], &["id"], &rules);
        assert_eq!(table.columns.len(), 1);
        assert_eq!((table.columns[0].name.as_str(), table.columns[0].position), ("id", 1));
        assert!(table.key_schema.is_some());
    }

    #[test]
    fn excluded_columns_leave_the_row_but_not_the_key() {
        let rules = Rules::of(&[("column.exclude.list", "public.orders.(id|qty)")]);
        let table = build(("public", "orders"), orders(), &["id"], &rules);
        let fields: Vec<&str> = table.row_schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(fields, ["name"]);
        // `qty` is neither in the row nor in the key: not carried at all.
        let carried: Vec<(&str, usize, bool)> =
            table.columns.iter().map(|c| (c.name.as_str(), c.position, c.in_row)).collect();
        assert_eq!(carried, [("id", 0, false), ("name", 1, true)]);
        let row = table.row(vec![Value::Int32(7), Value::from("seven")]).expect("row");
        assert_eq!(row.value.values(), &[Value::from("seven")]);
        assert_eq!(key_values(&row), Some(vec![Value::Int32(7)]));
    }

    #[test]
    fn message_key_columns_key_a_table_with_or_without_a_primary_key() {
        let rules = Rules::of(&[("message.key.columns", "public.orders:qty,name;public.log:line")]);
        let table = build(("public", "orders"), orders(), &["id"], &rules);
        let key = table.key_schema.as_ref().expect("key");
        assert_eq!(key.fields().iter().map(|f| f.name()).collect::<Vec<_>>(), ["qty", "name"]);
        let row = table.row(vec![Value::Int32(7), Value::from("seven"), Value::Int64(3)]).expect("row");
        assert_eq!(key_values(&row), Some(vec![Value::Int64(3), Value::from("seven")]));
        let log = vec![("at", Some(SchemaBuilder::int64())), ("line", Some(SchemaBuilder::string().optional()))];
        let table = build(("public", "log"), log, &[], &rules);
        let row = table.row(vec![Value::Int64(1), Value::from("l")]).expect("row");
        assert_eq!(key_values(&row), Some(vec!["l".into()]));
        // A table no entry names keeps its primary key.
        let table = build(("public", "items"), orders(), &["id"], &rules);
        assert_eq!(table.key_schema.map(|k| k.fields().len()), Some(1));
    }

    #[test]
    fn fallbacks_are_zeros_or_defaults() {
        let required = |b: SchemaBuilder| b.build().expect("schema");
        assert_eq!(fallback_value(&required(SchemaBuilder::int32())), Value::Int32(0));
        assert_eq!(fallback_value(&required(SchemaBuilder::string())), Value::from(""));
        assert_eq!(fallback_value(&required(SchemaBuilder::string().optional())), Value::Null);
        let with_default = required(SchemaBuilder::int64().default_value(Value::Int64(7)));
        assert_eq!(fallback_value(&with_default), Value::Int64(7));
        let decimal = required(SchemaBuilder::bytes().name(logical::DECIMAL).parameter(logical::SCALE, "2"));
        assert_eq!(fallback_value(&decimal), Value::Bytes(Bytes::from_static(&[0])), "the decimal 0.00");
        let point = required(SchemaBuilder::struct_().field("x", required(SchemaBuilder::float64())));
        let value = fallback_value(&point);
        assert_eq!(value.as_struct().map(|s| s.values().to_vec()), Some(vec![Value::Float64(0.0)]));
    }
}
