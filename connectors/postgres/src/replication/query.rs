//! The simple query protocol on a replication connection: replication commands (`IDENTIFY_SYSTEM`,
//! `CREATE_REPLICATION_SLOT`, ...) and plain SQL, answered as rows of text.

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::{DataRowBody, Message, RowDescriptionBody};
use postgres_protocol::message::frontend;

use super::error::ReplicationError;
use super::messages::{next_message, unexpected};
use super::transport::{FrameReader, FrameWriter};

/// The rows a simple query returned, every value as text (`None` for SQL NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryResult {
    /// The column names, in order.
    pub columns: Vec<String>,
    /// The rows; each has one value per column.
    pub rows: Vec<Vec<Option<String>>>,
}

impl QueryResult {
    /// The index of the column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column == name)
    }

    /// The value of column `name` in row `row`; `None` when the row or column is missing or the value is NULL.
    pub fn value(&self, row: usize, name: &str) -> Option<&str> {
        let column = self.column(name)?;
        self.rows.get(row)?.get(column)?.as_deref()
    }
}

/// Runs `sql` and reads the answer through ReadyForQuery, so the connection stays usable after an error. Returns
/// the rows of the last statement that returned any.
pub(crate) async fn simple_query(
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    sql: &str,
) -> Result<QueryResult, ReplicationError> {
    const PHASE: &str = "a simple query";
    writer.send(|buf| frontend::query(sql, buf)).await?;
    let mut result = QueryResult::default();
    let mut failure = None;
    loop {
        match next_message(reader, PHASE).await {
            Ok(Message::RowDescription(body)) => result = QueryResult { columns: columns(&body)?, rows: Vec::new() },
            Ok(Message::DataRow(body)) => result.rows.push(row(&body)?),
            Ok(Message::CommandComplete(_) | Message::EmptyQueryResponse | Message::ParameterStatus(_)) => {}
            Ok(Message::ReadyForQuery(_)) => return failure.map_or(Ok(result), Err),
            Ok(other) => return Err(unexpected(&other, PHASE)),
            // The server still sends ReadyForQuery after an error.
            Err(error @ ReplicationError::Server(_)) => failure = Some(error),
            Err(error) => return Err(error),
        }
    }
}

/// The column names of a RowDescription.
fn columns(body: &RowDescriptionBody) -> Result<Vec<String>, ReplicationError> {
    Ok(body.fields().map(|field| Ok(field.name().to_owned())).collect()?)
}

/// The values of a DataRow, as text.
fn row(body: &DataRowBody) -> Result<Vec<Option<String>>, ReplicationError> {
    let buffer = body.buffer();
    let mut values = Vec::new();
    let mut ranges = body.ranges();
    while let Some(range) = ranges.next()? {
        let value = match range {
            None => None,
            Some(range) => {
                let bytes = buffer
                    .get(range)
                    .ok_or_else(|| ReplicationError::Protocol("a DataRow value past the row's end".to_owned()))?;
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| ReplicationError::Protocol("a text value that is not UTF-8".to_owned()))?;
                Some(text.to_owned())
            }
        };
        values.push(value);
    }
    Ok(values)
}
