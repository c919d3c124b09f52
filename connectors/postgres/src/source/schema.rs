//! A captured table's Connect schemas ([`tidemark_debezium::TableSchema`], shared with the MySQL source) built
//! from Postgres column types: the snapshot builds it from the catalog, the stream from a Relation message and the
//! catalog; both go through [`build_table`] so a table has the same schemas in both.

use tidemark_debezium::{ColumnFilter, ColumnRules, ColumnSchema, MessageKeyColumns, TableError};

use super::columns::{self, ColumnConverter, ColumnType, TypeError, TypeSettings};
use super::envelope::Envelopes;
use super::error::SourceError;

pub use tidemark_debezium::Row;

/// A captured table's schemas, with a Postgres converter per column.
pub type TableSchema = tidemark_debezium::TableSchema<ColumnConverter>;

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

impl ColumnSchema for ColumnConverter {
    type Error = TypeError;

    fn schema(&self) -> &tidemark_connect::data::SchemaRef {
        ColumnConverter::schema(self)
    }
}

impl From<TableError<TypeError>> for SourceError {
    fn from(error: TableError<TypeError>) -> Self {
        match error {
            TableError::Column { table, column, source } => SourceError::Column { table, column, source },
            TableError::Schema { name, source } => SourceError::Schema { name, source },
            TableError::Data { table, source } => SourceError::Data { table, source },
        }
    }
}

/// The schemas of `schema.table` with `columns`, keyed by the columns `message.key.columns` names for it, else by
/// those named in `primary_key`.
pub fn build_table(
    envelopes: &Envelopes,
    (schema, table): (&str, &str),
    columns: Vec<ColumnSpec>,
    primary_key: &[String],
    rules: SchemaRules<'_>,
) -> Result<TableSchema, SourceError> {
    let columns = columns.into_iter().map(|spec| (spec.name, (spec.ty, spec.optional))).collect();
    let column_rules = ColumnRules { columns: rules.columns, keys: rules.keys };
    let convert = |(ty, optional): (ColumnType, bool)| columns::converter(&ty, optional, rules.types);
    let envelope = |name: &str, row: &_| envelopes.envelope_schema(name, row);
    Ok(TableSchema::build(envelopes.prefix(), (schema, table), columns, primary_key, column_rules, convert, envelope)?)
}
