//! The snapshot: every captured table read inside one repeatable-read transaction (the slot's exported snapshot
//! when the slot was just created, so it ends exactly where streaming begins), with binary COPY, each row an
//! `op: "r"` event. `source.snapshot` marks the first record (`first`), each later table's first
//! (`first_in_data_collection`), each table's last but the final table's (`last_in_data_collection`), the very last
//! (`last`) and the rest (`true`), as Debezium does; a one-record lookahead tells where each record stands. The
//! offset of the last record says `last_snapshot_record: true`: a restart after it streams, a restart before it
//! takes the snapshot again.
//!
//! Tables are read one after another on one connection; reading several (and ranges of one) in parallel on
//! connections sharing the exported snapshot is still to come.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value as Json;
use tidemark_connect::data::Value;
use tokio::sync::watch;
use tokio_postgres::Client;

use super::catalog;
use super::columns::TypeCache;
use super::config::SourceConfig;
use super::copy::{CopyReader, CopyRow};
use super::emit::{send_batch, Emitter, Flow};
use super::envelope::{Envelopes, SourceInfo};
use super::error::SourceError;
use super::offsets;
use super::schema::{build_table, ColumnSpec, Row, TableSchema};
use crate::replication::{quote_identifier, Lsn};
use tidemark_debezium::{now_us, Op, SnapshotMarker};

/// A row read but not yet emitted: whether it is the last of its table or of the snapshot is not known yet.
struct Held {
    table: usize,
    row: Row,
    first_in_table: bool,
    first_overall: bool,
}

/// A table whose reading started: when (its records' `ts_us`), and the offset all its records but the snapshot's
/// last carry, built once rather than per record.
struct Started {
    ts_us: i64,
    offset: Json,
}

/// What the snapshot needs.
pub struct Snapshot<'a> {
    /// A connection inside the snapshot's transaction.
    pub client: &'a Client,
    /// The settings.
    pub config: &'a SourceConfig,
    /// The event schemas.
    pub envelopes: &'a Envelopes,
    /// The column types seen so far.
    pub types: &'a mut TypeCache,
    /// Where streaming starts after the snapshot (the records' `lsn`).
    pub lsn: Lsn,
}

impl Snapshot<'_> {
    /// Reads every captured table and emits its rows; stops early (with [`Flow::Stop`]) when the task stops.
    pub async fn read(
        mut self,
        emitter: &mut Emitter,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Flow, SourceError> {
        let tx_id = catalog::snapshot_xid(self.client).await?;
        let tables = self.tables().await?;
        tracing::info!(tables = tables.len(), lsn = %self.lsn, "snapshot started");
        let mut held: Option<Held> = None;
        let mut emitted_any = false;
        let mut started = Vec::with_capacity(tables.len());
        for (index, table) in tables.iter().enumerate() {
            let ts_us = now_us();
            started.push(Started { ts_us, offset: offsets::snapshot_offset(self.lsn, tx_id, ts_us, false) });
            let copy = self.client.copy_out(&copy_statement(table)).await?;
            let mut copy = Box::pin(copy);
            let mut reader = CopyReader::new();
            let mut first_in_table = true;
            let mut rows = 0u64;
            while let Some(chunk) = copy.next().await {
                reader.push(chunk?);
                while let Some(values) = reader.next_row().map_err(|why| copy_error(table, why))? {
                    let row = self.row(table, values)?;
                    let next = Held { table: index, row, first_in_table, first_overall: !emitted_any };
                    emitted_any = true;
                    first_in_table = false;
                    rows += 1;
                    if let Some(previous) = held.replace(next) {
                        self.emit((&tables, &started), previous, Some(index), tx_id, emitter)?;
                    }
                    if emitter.is_full() && send_batch(emitter, shutdown).await == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
            }
            reader.finish().map_err(|why| copy_error(table, why))?;
            tracing::info!(table = %table.qualified_name(), rows, "table read");
        }
        if let Some(last) = held.take() {
            self.emit((&tables, &started), last, None, tx_id, emitter)?;
        }
        if !emitter.is_empty() && send_batch(emitter, shutdown).await == Flow::Stop {
            return Ok(Flow::Stop);
        }
        tracing::info!("snapshot finished");
        Ok(Flow::Continue)
    }

    /// The captured tables' schemas, as of the snapshot.
    async fn tables(&mut self) -> Result<Vec<Arc<TableSchema>>, SourceError> {
        let mut schemas = Vec::new();
        for id in catalog::captured_tables(self.client, &self.config.filter).await? {
            let Some(table) = catalog::table(self.client, id.oid).await? else { continue };
            let mut columns = Vec::with_capacity(table.columns.len());
            for column in &table.columns {
                let ty = self.types.column_type(self.client, column.type_oid, column.modifier).await?;
                columns.push(ColumnSpec { name: column.name.clone(), ty, optional: !column.not_null });
            }
            let names = (id.schema.as_str(), id.name.as_str());
            let schema = build_table(self.envelopes, names, columns, &table.primary_key, self.config.rules())?;
            schemas.push(Arc::new(schema));
        }
        Ok(schemas)
    }

    /// The row of COPY values.
    fn row(&self, table: &TableSchema, values: CopyRow) -> Result<Row, SourceError> {
        if values.len() != table.columns.len() {
            let why = format!("{} values for {} columns", values.len(), table.columns.len());
            return Err(copy_error(table, why));
        }
        // Filled in a loop rather than collected: a collect through `Result` cannot size the vector up front.
        let mut row = Vec::with_capacity(table.columns.len());
        for (index, (value, column)) in values.values().zip(&table.columns).enumerate() {
            let value = match value {
                None => Ok(Value::Null),
                Some(bytes) if column.converter.has_binary_form() => column.converter.binary(bytes),
                // Read as text (see `copy_statement`).
                Some(bytes) => column.converter.text(bytes),
            };
            row.push(value.map_err(|source| table.column_error(index, source))?);
        }
        Ok(table.row(row)?)
    }

    /// Emits a held row, now that the table of the next one (`None`: there is none) is known.
    fn emit(
        &self,
        (tables, started): (&[Arc<TableSchema>], &[Started]),
        held: Held,
        next_table: Option<usize>,
        tx_id: i64,
        emitter: &mut Emitter,
    ) -> Result<(), SourceError> {
        let last_in_table = next_table != Some(held.table);
        let marker = SnapshotMarker::of(held.first_overall, held.first_in_table, last_in_table, next_table.is_none());
        let (table, started) = (&tables[held.table], &started[held.table]);
        let info = SourceInfo {
            snapshot: marker,
            ts_us: started.ts_us,
            tx_id: Some(tx_id),
            lsn: Some(self.lsn.0),
            last_commit_lsn: None,
            schema: &table.schema,
            table: &table.table,
        };
        let record = self.envelopes.change(table, Op::Read, None, Some(held.row), &info)?;
        let offset = match marker {
            SnapshotMarker::Last => offsets::snapshot_offset(self.lsn, tx_id, started.ts_us, true),
            _ => started.offset.clone(),
        };
        emitter.push(record, offset);
        Ok(())
    }
}

/// `COPY "schema"."table" ("a", "b") TO STDOUT (FORMAT binary)` of the carried columns (the columns left out of
/// both the row and the key are not read); a column whose type has no binary decoding (captured under
/// `include.unknown.datatypes`) is selected as text, and a table with no carried column as `SELECT FROM` (a row
/// of no values per row).
fn copy_statement(table: &TableSchema) -> String {
    let name = format!("{}.{}", quote_identifier(&table.schema), quote_identifier(&table.table));
    let columns: Vec<String> = table.columns.iter().map(|c| quote_identifier(&c.name)).collect();
    if !columns.is_empty() && table.columns.iter().all(|c| c.converter.has_binary_form()) {
        return format!("COPY {name} ({}) TO STDOUT (FORMAT binary)", columns.join(", "));
    }
    let selected: Vec<String> = table
        .columns
        .iter()
        .zip(columns)
        .map(|(c, quoted)| if c.converter.has_binary_form() { quoted } else { format!("{quoted}::text") })
        .collect();
    format!("COPY (SELECT {} FROM {name}) TO STDOUT (FORMAT binary)", selected.join(", "))
}

fn copy_error(table: &TableSchema, why: String) -> SourceError {
    SourceError::Copy { table: table.qualified_name(), why }
}
