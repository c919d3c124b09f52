//! A captured table's Connect schemas, as Debezium names them: the key `<prefix>.<schema>.<table>.Key` (the
//! primary key's columns, or those `message.key.columns` names; none without either), the row
//! `<prefix>.<schema>.<table>.Value` (the columns `column.include.list` / `column.exclude.list` keep), and the
//! change event `<prefix>.<schema>.<table>.Envelope`; and turning column values into rows and keys.
//!
//! The snapshot builds it from the catalog, the stream from a Relation message and the catalog; both go through
//! [`TableSchema::build`] so a table has the same schemas in both.

use tidemark_connect::data::{SchemaBuilder, SchemaRef, Struct, Value};
use tidemark_debezium::{topic_name, ColumnFilter, MessageKeyColumns};

use super::columns::{self, ColumnConverter, ColumnType, TypeError, TypeSettings};
use super::envelope::Envelopes;
use super::error::SourceError;

/// One column of a captured table, as the catalog or a Relation message describes it.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// The column's name.
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
    /// Whether it may be null.
    pub optional: bool,
}

/// The settings that shape a table's schemas beyond its definition.
#[derive(Debug, Clone, Copy)]
pub struct SchemaRules<'a> {
    /// `column.include.list` / `column.exclude.list`.
    pub columns: &'a ColumnFilter,
    /// `message.key.columns`.
    pub keys: &'a MessageKeyColumns,
    /// The column types' settings.
    pub types: &'a TypeSettings,
}

/// A column the events carry, in the row, the key or both (a column of a type without a mapping is left out, as
/// Debezium does).
#[derive(Debug, Clone)]
pub struct TableColumn {
    /// The column's name.
    pub name: String,
    /// Its position among the columns it was described with (in a pgoutput tuple).
    pub position: usize,
    /// Its converter, whose schema is its field's schema in the row (and in the key).
    pub converter: ColumnConverter,
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
pub struct TableSchema {
    /// The schema the table is in.
    pub schema: String,
    /// The table's name.
    pub table: String,
    /// `<prefix>.<schema>.<table>`.
    pub topic: String,
    /// The columns events carry (in the row, the key or both), in table order.
    pub columns: Vec<TableColumn>,
    /// The positions of the key's columns in [`TableSchema::columns`], in key order.
    pub key: Vec<usize>,
    /// The key's schema; `None` without a key (events then have a null key).
    pub key_schema: Option<SchemaRef>,
    /// The row's schema (optional: `before` and `after` may be null).
    pub row_schema: SchemaRef,
    /// The change event's schema.
    pub envelope_schema: SchemaRef,
}

impl TableSchema {
    /// The schemas of `schema.table` with `columns`, keyed by the columns `message.key.columns` names for it, else
    /// by those named in `primary_key`.
    pub fn build(
        envelopes: &Envelopes,
        (schema, table): (&str, &str),
        columns: Vec<ColumnSpec>,
        primary_key: &[String],
        rules: SchemaRules<'_>,
    ) -> Result<Self, SourceError> {
        let qualified = format!("{schema}.{table}");
        let name = format!("{}.{qualified}", envelopes.prefix());
        let topic = topic_name(&name);
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let key_names: Vec<String> = match rules.keys.key_columns(schema, table, &names) {
            Some(custom) => custom.into_iter().map(str::to_owned).collect(),
            None => primary_key.to_vec(),
        };
        let mut carried = Vec::with_capacity(columns.len());
        for (position, spec) in columns.into_iter().enumerate() {
            let in_row = rules.columns.includes(schema, table, &spec.name);
            if !in_row && !key_names.contains(&spec.name) {
                continue;
            }
            let converter = columns::converter(&spec.ty, spec.optional, rules.types).map_err(|source| {
                SourceError::Column { table: qualified.clone(), column: spec.name.clone(), source }
            })?;
            match converter {
                Some(converter) => carried.push(TableColumn { name: spec.name, position, converter, in_row }),
                None => tracing::debug!(table = %qualified, column = %spec.name, ty = %spec.ty.name,
                    "a column of a type without a mapping is left out"),
            }
        }
        let columns = carried;
        let schema_error = |suffix: &str| {
            let name = format!("{name}.{suffix}");
            move |source| SourceError::Schema { name, source }
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
        let envelope_schema = envelopes.envelope_schema(&name, &row_schema).map_err(schema_error("Envelope"))?;
        let key = if key_schema.is_some() { key } else { Vec::new() };
        Ok(TableSchema {
            schema: schema.to_owned(),
            table: table.to_owned(),
            topic,
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
    pub fn row(&self, values: Vec<Value>) -> Result<Row, SourceError> {
        let values: Vec<Value> = values
            .into_iter()
            .zip(&self.columns)
            .map(
                |(value, column)| {
                    if value.is_null() {
                        columns::fallback_value(column.converter.schema())
                    } else {
                        value
                    }
                },
            )
            .collect();
        let data_error = |source| SourceError::Data { table: self.qualified_name(), source };
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
    pub fn column_error(&self, index: usize, source: TypeError) -> SourceError {
        let column = self.columns.get(index).map(|c| c.name.clone()).unwrap_or_default();
        SourceError::Column { table: self.qualified_name(), column, source }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use tidemark_connect::data::Type;

    fn spec(name: &str, oid: u32, type_name: &str, optional: bool) -> ColumnSpec {
        ColumnSpec { name: name.into(), ty: ColumnType::new(oid, -1, type_name), optional }
    }

    /// The rules of a config with `pairs` (column lists and message.key.columns).
    struct Rules(ColumnFilter, MessageKeyColumns, TypeSettings);

    impl Rules {
        fn of(pairs: &[(&str, &str)]) -> Self {
            let props: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let keys = props.get("message.key.columns").map(String::as_str).unwrap_or_default();
            Rules(
                ColumnFilter::from_props(&props).expect("columns"),
                MessageKeyColumns::parse(keys).expect("keys"),
                TypeSettings::default(),
            )
        }

        fn get(&self) -> SchemaRules<'_> {
            SchemaRules { columns: &self.0, keys: &self.1, types: &self.2 }
        }
    }

    fn orders() -> Vec<ColumnSpec> {
        vec![spec("id", 23, "int4", false), spec("name", 25, "text", true), spec("qty", 20, "int8", false)]
    }

    fn key_values(row: &Row) -> Option<Vec<Value>> {
        row.key.as_struct().map(|k| k.values().to_vec())
    }

    #[test]
    fn keyed_table() {
        let envelopes = Envelopes::new("pg1", "shop").expect("envelopes");
        let rules = Rules::of(&[]);
        let table = TableSchema::build(&envelopes, ("public", "orders"), orders(), &["id".to_owned()], rules.get())
            .expect("schema");
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
        assert_eq!(table.columns[2].converter.schema().schema_type(), Type::Int64);
    }

    #[test]
    fn keyless_table_and_odd_names() {
        let envelopes = Envelopes::new("pg1", "shop").expect("envelopes");
        let rules = Rules::of(&[]);
        let columns = vec![spec("line", 25, "text", true)];
        let table = TableSchema::build(&envelopes, ("my schema", "log$"), columns, &[], rules.get()).expect("schema");
        assert!(table.key_schema.is_none());
        assert_eq!(table.topic, "pg1.my_schema.log_");
        assert_eq!(table.row(vec![Value::from("x")]).expect("row").key, Value::Null);
        // A column of a type without a mapping is left out; the others keep their positions.
        let columns = vec![spec("odd", 999_999, "mystery", true), spec("id", 23, "int4", false)];
        let table = TableSchema::build(&envelopes, ("s", "t"), columns, &["id".to_owned()], rules.get()).expect("t");
        assert_eq!(table.columns.len(), 1);
        assert_eq!((table.columns[0].name.as_str(), table.columns[0].position), ("id", 1));
        assert!(table.key_schema.is_some());
    }

    #[test]
    fn excluded_columns_leave_the_row_but_not_the_key() {
        let envelopes = Envelopes::new("pg1", "shop").expect("envelopes");
        let rules = Rules::of(&[("column.exclude.list", "public.orders.(id|qty)")]);
        let table = TableSchema::build(&envelopes, ("public", "orders"), orders(), &["id".to_owned()], rules.get())
            .expect("schema");
        let fields: Vec<&str> = table.row_schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(fields, ["name"]);
        // `qty` is neither in the row nor in the key: not carried at all (not even read by the snapshot).
        let carried: Vec<(&str, usize, bool)> =
            table.columns.iter().map(|c| (c.name.as_str(), c.position, c.in_row)).collect();
        assert_eq!(carried, [("id", 0, false), ("name", 1, true)]);
        let row = table.row(vec![Value::Int32(7), Value::from("seven")]).expect("row");
        assert_eq!(row.value.values(), &[Value::from("seven")]);
        assert_eq!(key_values(&row), Some(vec![Value::Int32(7)]));
    }

    #[test]
    fn message_key_columns_key_a_table_with_or_without_a_primary_key() {
        let envelopes = Envelopes::new("pg1", "shop").expect("envelopes");
        let rules = Rules::of(&[("message.key.columns", "public.orders:qty,name;public.log:line")]);
        let table = TableSchema::build(&envelopes, ("public", "orders"), orders(), &["id".to_owned()], rules.get())
            .expect("schema");
        let key = table.key_schema.as_ref().expect("key");
        assert_eq!(key.fields().iter().map(|f| f.name()).collect::<Vec<_>>(), ["qty", "name"]);
        let row = table.row(vec![Value::Int32(7), Value::from("seven"), Value::Int64(3)]).expect("row");
        assert_eq!(key_values(&row), Some(vec![Value::Int64(3), Value::from("seven")]));
        let log = vec![spec("at", 20, "int8", false), spec("line", 25, "text", true)];
        let table = TableSchema::build(&envelopes, ("public", "log"), log, &[], rules.get()).expect("log");
        assert_eq!(
            key_values(&table.row(vec![Value::Int64(1), Value::from("l")]).expect("row")),
            Some(vec!["l".into()])
        );
        // A table no entry names keeps its primary key.
        let table = TableSchema::build(&envelopes, ("public", "items"), orders(), &["id".to_owned()], rules.get())
            .expect("items");
        assert_eq!(table.key_schema.map(|k| k.fields().len()), Some(1));
    }
}
