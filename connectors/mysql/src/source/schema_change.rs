//! Schema change events (`include.schema.changes`, on by default), as Debezium's MySQL connector writes them on the
//! topic `<topic.prefix>`: key `io.debezium.connector.mysql.SchemaChangeKey` `{databaseName}`, value
//! `io.debezium.connector.mysql.SchemaChangeValue` `{source, ts_ms, databaseName, schemaName, ddl, tableChanges}`,
//! each table change an `io.debezium.connector.schema.Change` `{type, id, table}` with the table's definition
//! (`io.debezium.connector.schema.Table` / `Column`) read from `information_schema` when the event is read.
//!
//! A dropped table's definition is gone from `information_schema`, so a DROP lists no table change (Debezium lists
//! the definition its DDL parser remembered); the `ddl` text says what was dropped.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row as MySqlRow};
use tidemark_connect::data::{DataError, SchemaBuilder, SchemaError, SchemaRef, Struct, Value};
use tidemark_connect::record::ConnectRecord;
use tidemark_debezium::topic_name;

use super::ddl::TableName;
use super::error::SourceError;
use crate::types::PRIMARY_KEY_QUERY;

/// One column of a table definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDescription {
    /// Its name.
    pub name: String,
    /// Its `java.sql.Types` code, as Debezium's MySQL type resolver gives it.
    pub jdbc_type: i32,
    /// Its type's name (`INT UNSIGNED`, `VARCHAR`, ...).
    pub type_name: String,
    /// Its charset, for character columns.
    pub charset: Option<String>,
    /// Its length (characters, digits or fractional-second precision), when it has one.
    pub length: Option<i32>,
    /// Its scale, for exact numbers.
    pub scale: Option<i32>,
    /// Its position, from 1.
    pub position: i32,
    /// Whether it accepts NULL.
    pub optional: bool,
    /// `AUTO_INCREMENT`.
    pub auto_incremented: bool,
    /// A generated column.
    pub generated: bool,
    /// Its comment, when it has one.
    pub comment: Option<String>,
    /// Its default, as an expression, when it has one.
    pub default: Option<String>,
    /// The values of an ENUM or SET.
    pub enum_values: Vec<String>,
}

/// A table's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    /// The table's default charset.
    pub default_charset: Option<String>,
    /// The primary key's columns, in key order.
    pub primary_key: Vec<String>,
    /// The columns, in table order.
    pub columns: Vec<ColumnDescription>,
    /// The table's comment, when it has one.
    pub comment: Option<String>,
}

/// One entry of `tableChanges`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableChange {
    /// `CREATE` or `ALTER`.
    pub kind: &'static str,
    /// The table.
    pub table: TableName,
    /// Its definition now.
    pub definition: TableDefinition,
}

/// The schemas of schema change events, and the records built with them.
#[derive(Debug, Clone)]
pub struct SchemaChanges {
    topic: String,
    key: SchemaRef,
    value: SchemaRef,
    change: SchemaRef,
    table: SchemaRef,
    column: SchemaRef,
}

impl SchemaChanges {
    /// The schemas for a connector with `topic.prefix` `prefix` whose `source` block has schema `source`.
    pub fn new(prefix: &str, source: &SchemaRef) -> Result<Self, SchemaError> {
        let string = || SchemaBuilder::string().build();
        let optional_string = || SchemaBuilder::string().optional().build();
        let optional_int = || SchemaBuilder::int32().optional().build();
        let optional_bool = || SchemaBuilder::boolean().optional().build();
        let strings = || SchemaBuilder::array(SchemaBuilder::string().build()?).optional().build();
        let column = SchemaBuilder::struct_()
            .name("io.debezium.connector.schema.Column")
            .field("name", string()?)
            .field("jdbcType", SchemaBuilder::int32().build()?)
            .field("nativeType", optional_int()?)
            .field("typeName", string()?)
            .field("typeExpression", optional_string()?)
            .field("charsetName", optional_string()?)
            .field("length", optional_int()?)
            .field("scale", optional_int()?)
            .field("position", SchemaBuilder::int32().build()?)
            .field("optional", optional_bool()?)
            .field("autoIncremented", optional_bool()?)
            .field("generated", optional_bool()?)
            .field("comment", optional_string()?)
            .field("defaultValueExpression", optional_string()?)
            .field("enumValues", strings()?)
            .build()?;
        let table = SchemaBuilder::struct_()
            .name("io.debezium.connector.schema.Table")
            .field("defaultCharsetName", optional_string()?)
            .field("primaryKeyColumnNames", strings()?)
            .field("columns", SchemaBuilder::array(column.clone()).build()?)
            .field("comment", optional_string()?)
            .build()?;
        let change = SchemaBuilder::struct_()
            .name("io.debezium.connector.schema.Change")
            .field("type", string()?)
            .field("id", string()?)
            .field("table", table.clone())
            .build()?;
        let key = SchemaBuilder::struct_()
            .name("io.debezium.connector.mysql.SchemaChangeKey")
            .field("databaseName", string()?)
            .build()?;
        let value = SchemaBuilder::struct_()
            .name("io.debezium.connector.mysql.SchemaChangeValue")
            .field("source", source.clone())
            .field("ts_ms", SchemaBuilder::int64().build()?)
            .field("databaseName", optional_string()?)
            .field("schemaName", optional_string()?)
            .field("ddl", optional_string()?)
            .field("tableChanges", SchemaBuilder::array(change.clone()).build()?)
            .build()?;
        Ok(SchemaChanges { topic: topic_name(prefix), key, value, change, table, column })
    }

    /// The event of statement `ddl` in `database`, with `source` block `source`, written at `ts_ms`.
    pub fn record(
        &self,
        database: &str,
        ddl: &str,
        source: Value,
        ts_ms: i64,
        changes: &[TableChange],
    ) -> Result<ConnectRecord, DataError> {
        let changes = changes.iter().map(|change| self.change(change).map(Value::Struct)).collect::<Result<_, _>>()?;
        let key = Struct::from_values(self.key.clone(), vec![Value::from(database)])?;
        let value = Struct::from_values(
            self.value.clone(),
            vec![
                source,
                Value::Int64(ts_ms),
                Value::from(database),
                Value::Null,
                Value::from(ddl),
                Value::Array(changes),
            ],
        )?;
        Ok(ConnectRecord::new(
            self.topic.clone(),
            (Some(self.key.clone()), Value::Struct(key)),
            (Some(self.value.clone()), Value::Struct(value)),
        ))
    }

    fn change(&self, change: &TableChange) -> Result<Struct, DataError> {
        let definition = &change.definition;
        let strings = |values: &[String]| Value::Array(values.iter().map(|v| Value::from(v.as_str())).collect());
        let columns = definition
            .columns
            .iter()
            .map(|c| {
                let enum_values = if c.enum_values.is_empty() { Value::Null } else { strings(&c.enum_values) };
                Struct::from_values(
                    self.column.clone(),
                    vec![
                        Value::from(c.name.as_str()),
                        Value::Int32(c.jdbc_type),
                        Value::Null,
                        Value::from(c.type_name.as_str()),
                        Value::from(c.type_name.as_str()),
                        Value::from(c.charset.clone()),
                        Value::from(c.length),
                        Value::from(c.scale),
                        Value::Int32(c.position),
                        Value::Boolean(c.optional),
                        Value::Boolean(c.auto_incremented),
                        Value::Boolean(c.generated),
                        Value::from(c.comment.clone()),
                        Value::from(c.default.clone()),
                        enum_values,
                    ],
                )
                .map(Value::Struct)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let table = Struct::from_values(
            self.table.clone(),
            vec![
                Value::from(definition.default_charset.clone()),
                strings(&definition.primary_key),
                Value::Array(columns),
                Value::from(definition.comment.clone()),
            ],
        )?;
        let id = format!("\"{}\".\"{}\"", change.table.database, change.table.table);
        Struct::from_values(self.change.clone(), vec![Value::from(change.kind), Value::from(id), Value::Struct(table)])
    }
}

/// The definition of `table` from `information_schema`; `None` when the table does not exist (any more).
pub async fn load_definition(conn: &mut Conn, table: &TableName) -> Result<Option<TableDefinition>, SourceError> {
    let names = (table.database.as_str(), table.table.as_str());
    let found: Option<(Option<String>, Option<String>)> = conn
        .exec_first(
            "SELECT TABLE_COLLATION, TABLE_COMMENT FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            names,
        )
        .await?;
    let Some((collation, comment)) = found else { return Ok(None) };
    let rows: Vec<MySqlRow> = conn
        .exec(
            "SELECT COLUMN_NAME, ORDINAL_POSITION, IS_NULLABLE, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH, \
             NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_SET_NAME, EXTRA, COLUMN_COMMENT, \
             COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION",
            names,
        )
        .await?;
    let columns = rows.into_iter().map(describe).collect::<Result<Vec<_>, _>>()?;
    let primary_key: Vec<String> = conn.exec(PRIMARY_KEY_QUERY, names).await?;
    Ok(Some(TableDefinition {
        default_charset: collation.and_then(|c| c.split('_').next().map(str::to_owned)),
        primary_key,
        columns,
        comment: comment.filter(|c| !c.is_empty()),
    }))
}

/// A column of the COLUMNS query.
fn describe(mut row: MySqlRow) -> Result<ColumnDescription, SourceError> {
    let bad = || SourceError::Refused("information_schema.COLUMNS answered an unexpected row".to_owned());
    let text = |row: &mut MySqlRow, i: usize| row.take_opt::<Option<String>, _>(i).and_then(Result::ok).flatten();
    let number = |row: &mut MySqlRow, i: usize| {
        row.take_opt::<Option<u64>, _>(i).and_then(Result::ok).flatten().and_then(|n| i32::try_from(n).ok())
    };
    let name = text(&mut row, 0).ok_or_else(bad)?;
    let position = number(&mut row, 1).ok_or_else(bad)?;
    let optional = text(&mut row, 2).is_some_and(|n| n.eq_ignore_ascii_case("YES"));
    let data_type = text(&mut row, 3).ok_or_else(bad)?.to_ascii_lowercase();
    let column_type = text(&mut row, 4).ok_or_else(bad)?;
    let char_length = number(&mut row, 5);
    let precision = number(&mut row, 6);
    let scale = number(&mut row, 7);
    let fsp = number(&mut row, 8);
    let charset = text(&mut row, 9);
    let extra = text(&mut row, 10).unwrap_or_default().to_ascii_lowercase();
    let comment = text(&mut row, 11).filter(|c| !c.is_empty());
    let default = text(&mut row, 12);
    let unsigned = column_type.to_ascii_lowercase().contains("unsigned");
    let mut type_name = data_type.to_ascii_uppercase();
    if unsigned {
        type_name.push_str(" UNSIGNED");
    }
    let (length, scale) = match data_type.as_str() {
        "decimal" | "numeric" => (precision, scale),
        "time" | "datetime" | "timestamp" => (fsp.filter(|&p| p > 0), None),
        "bit" => (precision, None),
        _ if char_length.is_some() => (char_length, None),
        _ => (None, None),
    };
    Ok(ColumnDescription {
        jdbc_type: jdbc_type(&data_type),
        enum_values: if matches!(data_type.as_str(), "enum" | "set") { enum_values(&column_type) } else { Vec::new() },
        name,
        type_name,
        charset,
        length,
        scale,
        position,
        optional,
        auto_incremented: extra.contains("auto_increment"),
        generated: extra.contains("generated") || extra.contains("virtual") || extra.contains("persistent"),
        comment,
        default,
    })
}

/// The `java.sql.Types` code Debezium's MySQL type resolver gives a data type.
fn jdbc_type(data_type: &str) -> i32 {
    match data_type {
        "bit" => -7,
        "tinyint" => -6,
        "smallint" => 5,
        "mediumint" | "int" | "integer" | "year" => 4,
        "bigint" => -5,
        "float" => 6,
        "double" | "real" => 8,
        "decimal" | "numeric" => 3,
        "char" | "enum" | "set" => 1,
        "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => 12,
        "binary" => -2,
        "varbinary" => -3,
        "tinyblob" | "blob" | "mediumblob" | "longblob" => 2004,
        "date" => 91,
        "time" => 92,
        "datetime" => 93,
        "timestamp" => 2014,
        // json, geometry and the rest: OTHER.
        _ => 1111,
    }
}

/// The values of `enum('a','b')` / `set('a','b')` (quotes doubled inside a value).
fn enum_values(column_type: &str) -> Vec<String> {
    let Some(start) = column_type.find('(') else { return Vec::new() };
    let body = column_type[start + 1..].trim_end_matches(')');
    let mut values = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if quoted && chars.peek() == Some(&'\'') => {
                current.push('\'');
                chars.next();
            }
            '\'' => {
                if quoted {
                    values.push(std::mem::take(&mut current));
                }
                quoted = !quoted;
            }
            c if quoted => current.push(c),
            _ => {}
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_are_unquoted() {
        assert_eq!(enum_values("enum('a','it''s','c,d')"), ["a", "it's", "c,d"]);
        assert!(enum_values("int").is_empty());
    }
}
