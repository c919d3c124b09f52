//! A captured table's Connect schemas, as Debezium names them: the key `<prefix>.<schema>.<table>.Key` (the
//! primary key's columns; none without a primary key), the row `<prefix>.<schema>.<table>.Value`, and the change
//! event `<prefix>.<schema>.<table>.Envelope`; and turning column values into rows.
//!
//! The snapshot builds it from the catalog, the stream from a Relation message and the catalog; both go through
//! [`TableSchema::build`] so a table has the same schemas in both.

use tidemark_connect::data::{SchemaBuilder, SchemaRef, Struct, Value};

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

/// A column the events carry (a column of a type without a mapping is left out, as Debezium does).
#[derive(Debug, Clone)]
pub struct TableColumn {
    /// The column's name.
    pub name: String,
    /// Its position among the columns it was described with (in a pgoutput tuple).
    pub position: usize,
    /// Its converter, whose schema is its field's schema in the row (and in the key).
    pub converter: ColumnConverter,
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
    /// The columns events carry, in order.
    pub columns: Vec<TableColumn>,
    /// The positions of the key's columns in [`TableSchema::columns`], in key order.
    pub key: Vec<usize>,
    /// The key's schema; `None` without a primary key (events then have a null key).
    pub key_schema: Option<SchemaRef>,
    /// The row's schema (optional: `before` and `after` may be null).
    pub row_schema: SchemaRef,
    /// The change event's schema.
    pub envelope_schema: SchemaRef,
}

impl TableSchema {
    /// The schemas of `schema.table` with `columns`, keyed by the columns named in `primary_key`.
    pub fn build(
        envelopes: &Envelopes,
        (schema, table): (&str, &str),
        columns: Vec<ColumnSpec>,
        primary_key: &[String],
        settings: &TypeSettings,
    ) -> Result<Self, SourceError> {
        let qualified = format!("{schema}.{table}");
        let name = format!("{}.{qualified}", envelopes.prefix());
        let topic = topic_name(&name);
        let mut included = Vec::with_capacity(columns.len());
        for (position, spec) in columns.into_iter().enumerate() {
            let converter = columns::converter(&spec.ty, spec.optional, settings).map_err(|source| {
                SourceError::Column { table: qualified.clone(), column: spec.name.clone(), source }
            })?;
            match converter {
                Some(converter) => included.push(TableColumn { name: spec.name, position, converter }),
                None => tracing::debug!(table = %qualified, column = %spec.name, ty = %spec.ty.name,
                    "a column of a type without a mapping is left out"),
            }
        }
        let columns = included;
        let schema_error = |suffix: &str| {
            let name = format!("{name}.{suffix}");
            move |source| SourceError::Schema { name, source }
        };
        let key: Vec<usize> = primary_key.iter().filter_map(|k| columns.iter().position(|c| c.name == *k)).collect();
        let key_schema = if key.is_empty() || key.len() != primary_key.len() {
            None
        } else {
            let builder = key.iter().fold(SchemaBuilder::struct_().name(format!("{name}.Key")), |b, &i| {
                b.field(columns[i].name.clone(), columns[i].converter.schema().clone())
            });
            Some(builder.build().map_err(schema_error("Key"))?)
        };
        let row_schema = columns
            .iter()
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

    /// A row from one value per carried column, in order. A null in a required field (a column outside the
    /// replica identity in a delete's old key) becomes Debezium's fallback for it.
    pub fn row(&self, values: Vec<Value>) -> Result<Struct, SourceError> {
        let values = values
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
        Struct::from_values(self.row_schema.clone(), values)
            .map_err(|source| SourceError::Data { table: self.qualified_name(), source })
    }

    /// The key of a row: its key columns' values, or null without a key.
    pub fn key_of(&self, row: &Struct) -> Result<Value, SourceError> {
        let Some(schema) = &self.key_schema else { return Ok(Value::Null) };
        let values = self.key.iter().map(|&i| row.values()[i].clone()).collect();
        Struct::from_values(schema.clone(), values)
            .map(Value::Struct)
            .map_err(|source| SourceError::Data { table: self.qualified_name(), source })
    }

    /// Whether two rows have the same key.
    pub fn same_key(&self, a: &Struct, b: &Struct) -> bool {
        self.key.iter().all(|&i| a.values()[i] == b.values()[i])
    }

    /// The error of a value of carried column `index`.
    pub fn column_error(&self, index: usize, source: TypeError) -> SourceError {
        let column = self.columns.get(index).map(|c| c.name.clone()).unwrap_or_default();
        SourceError::Column { table: self.qualified_name(), column, source }
    }
}

/// A topic name as Debezium makes it: characters other than letters, digits, `.`, `_` and `-` become `_`.
pub fn topic_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_connect::data::Type;

    fn spec(name: &str, oid: u32, type_name: &str, optional: bool) -> ColumnSpec {
        ColumnSpec { name: name.into(), ty: ColumnType::new(oid, -1, type_name), optional }
    }

    fn settings() -> TypeSettings {
        TypeSettings::default()
    }

    #[test]
    fn keyed_table() {
        let envelopes = Envelopes::new("pg1", "shop").expect("envelopes");
        let columns =
            vec![spec("id", 23, "int4", false), spec("name", 25, "text", true), spec("qty", 20, "int8", false)];
        let table = TableSchema::build(&envelopes, ("public", "orders"), columns, &["id".to_owned()], &settings())
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
        assert_eq!(row.values(), &[Value::Int32(7), Value::Null, Value::Int64(0)]);
        let key_value = table.key_of(&row).expect("key");
        assert_eq!(key_value.as_struct().map(|k| k.values().to_vec()), Some(vec![Value::Int32(7)]));
        assert_eq!(table.columns[2].converter.schema().schema_type(), Type::Int64);
    }

    #[test]
    fn keyless_table_and_odd_names() {
        let envelopes = Envelopes::new("pg1", "shop").expect("envelopes");
        let table = TableSchema::build(
            &envelopes,
            ("my schema", "log$"),
            vec![spec("line", 25, "text", true)],
            &[],
            &settings(),
        )
        .expect("schema");
        assert!(table.key_schema.is_none());
        assert_eq!(table.topic, "pg1.my_schema.log_");
        let row = table.row(vec![Value::from("x")]).expect("row");
        assert_eq!(table.key_of(&row).expect("key"), Value::Null);
        // A column of a type without a mapping is left out; the others keep their positions.
        let columns = vec![spec("odd", 999_999, "mystery", true), spec("id", 23, "int4", false)];
        let table = TableSchema::build(&envelopes, ("s", "t"), columns, &["id".to_owned()], &settings()).expect("t");
        assert_eq!(table.columns.len(), 1);
        assert_eq!((table.columns[0].name.as_str(), table.columns[0].position), ("id", 1));
        assert!(table.key_schema.is_some());
    }
}
