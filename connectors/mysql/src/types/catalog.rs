//! [`load_table_columns`]: a table's columns from information_schema, in table order, and its primary key.

use mysql_async::prelude::{FromValue, Queryable};
use mysql_async::{Conn, Row};

use super::error::CatalogError;
use super::information_schema::InformationSchemaColumn;
use super::mysql_type::ColumnDef;

/// The columns [`InformationSchemaColumn`] holds, for one table, in `ORDINAL_POSITION` order.
pub const COLUMNS_QUERY: &str = "SELECT COLUMN_NAME, IS_NULLABLE, DATA_TYPE, COLUMN_TYPE, NUMERIC_PRECISION, \
     NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_SET_NAME, CHARACTER_OCTET_LENGTH \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION";

/// The primary key's columns of one table, in key order.
pub const PRIMARY_KEY_QUERY: &str = "SELECT COLUMN_NAME FROM information_schema.STATISTICS \
     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX";

/// The columns of `database.table` in table order (types without a mapping as [`super::MySqlType::Unsupported`])
/// and its primary key's column names in key order (empty without one).
pub async fn load_table_columns(
    conn: &mut Conn,
    database: &str,
    table: &str,
) -> Result<(Vec<ColumnDef>, Vec<String>), CatalogError> {
    let query = |source| CatalogError::Query { database: database.to_owned(), table: table.to_owned(), source };
    let rows: Vec<Row> = conn.exec(COLUMNS_QUERY, (database, table)).await.map_err(query)?;
    if rows.is_empty() {
        return Err(CatalogError::NoSuchTable { database: database.to_owned(), table: table.to_owned() });
    }
    let unexpected =
        |reason: String| CatalogError::UnexpectedRow { database: database.to_owned(), table: table.to_owned(), reason };
    let columns = rows
        .into_iter()
        .map(|row| {
            let row = read_row(row).map_err(unexpected)?;
            Ok(ColumnDef::from_information_schema(&row)?)
        })
        .collect::<Result<Vec<_>, CatalogError>>()?;
    let key: Vec<String> = conn.exec(PRIMARY_KEY_QUERY, (database, table)).await.map_err(query)?;
    Ok((columns, key))
}

/// A row of [`COLUMNS_QUERY`].
fn read_row(mut row: Row) -> Result<InformationSchemaColumn, String> {
    let is_nullable: String = take(&mut row, 1)?;
    Ok(InformationSchemaColumn {
        column_name: take(&mut row, 0)?,
        is_nullable: is_nullable.eq_ignore_ascii_case("YES"),
        data_type: take(&mut row, 2)?,
        column_type: take(&mut row, 3)?,
        numeric_precision: take(&mut row, 4)?,
        numeric_scale: take(&mut row, 5)?,
        datetime_precision: take(&mut row, 6)?,
        character_set_name: take(&mut row, 7)?,
        character_octet_length: take(&mut row, 8)?,
    })
}

/// Column `index` of `row` as a `T`.
fn take<T: FromValue>(row: &mut Row, index: usize) -> Result<T, String> {
    match row.take_opt(index) {
        Some(Ok(value)) => Ok(value),
        Some(Err(error)) => Err(format!("column {index}: {error}")),
        None => Err(format!("column {index} is missing")),
    }
}
