//! What the source asks the system catalogs: the server's settings, the slot, the tables to capture, a table's
//! columns and primary key.

use tokio_postgres::Client;

use crate::replication::Lsn;
use tidemark_debezium::TableFilter;

/// A table: its oid and qualified name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableId {
    /// `pg_class.oid`, as pgoutput's Relation messages name it.
    pub oid: u32,
    /// The schema.
    pub schema: String,
    /// The table.
    pub name: String,
}

/// A column as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    /// `attname`.
    pub name: String,
    /// `atttypid`.
    pub type_oid: u32,
    /// `atttypmod`.
    pub modifier: i32,
    /// `attnotnull`.
    pub not_null: bool,
}

/// A table's columns (in order, without dropped or generated ones, as pgoutput sends them) and primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    /// The table.
    pub id: TableId,
    /// Its columns.
    pub columns: Vec<CatalogColumn>,
    /// The names of its primary key's columns, in key order; empty without a primary key.
    pub primary_key: Vec<String>,
}

/// A replication slot as `pg_replication_slots` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    /// The output plugin.
    pub plugin: Option<String>,
    /// The database it decodes.
    pub database: Option<String>,
    /// The backend streaming from it, if any.
    pub active_pid: Option<i32>,
    /// Where it resumes.
    pub confirmed_flush: Option<Lsn>,
    /// `reserved`, `extended`, `unreserved` or `lost` (its WAL was removed: it cannot be used again).
    pub wal_status: Option<String>,
}

impl SlotInfo {
    /// Whether the server removed WAL the slot still needed.
    pub fn is_lost(&self) -> bool {
        self.wal_status.as_deref() == Some("lost")
    }
}

/// `wal_level`.
pub async fn wal_level(client: &Client) -> Result<String, tokio_postgres::Error> {
    client.query_one("SELECT current_setting('wal_level')", &[]).await.map(|row| row.get(0))
}

/// Whether the connected role may replicate: a superuser, the REPLICATION attribute, or (on Amazon RDS) a member
/// of `rds_replication`.
pub async fn may_replicate(client: &Client) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT r.rolsuper OR r.rolreplication OR EXISTS (
                 SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication' AND pg_has_role(r.oid, g.oid, 'member'))
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// The slot named `name`, if it exists.
pub async fn slot(client: &Client, name: &str) -> Result<Option<SlotInfo>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT plugin::text, database::text, active_pid, confirmed_flush_lsn::text, wal_status
             FROM pg_replication_slots WHERE slot_name = $1",
            &[&name],
        )
        .await?;
    Ok(row.map(|row| SlotInfo {
        plugin: row.get(0),
        database: row.get(1),
        active_pid: row.get(2),
        confirmed_flush: row.get::<_, Option<String>>(3).and_then(|lsn| lsn.parse().ok()),
        wal_status: row.get(4),
    }))
}

/// How far the server's WAL runs past the confirmed flush position of the slot named `name`, in bytes: what the
/// slot keeps that the connector has not had acknowledged yet. `None` without the slot or a flush position.
pub async fn slot_lag_bytes(client: &Client, name: &str) -> Result<Option<i64>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::int8 FROM pg_replication_slots WHERE slot_name = $1",
            &[&name],
        )
        .await?;
    Ok(row.and_then(|row| row.get(0)))
}

/// The current WAL insert position.
pub async fn current_lsn(client: &Client) -> Result<Lsn, tokio_postgres::Error> {
    let text: String = client.query_one("SELECT pg_current_wal_lsn()::text", &[]).await?.get(0);
    Ok(text.parse().unwrap_or_default())
}

/// The snapshot transaction's own id, what a snapshot's events carry as `txId` (Debezium's
/// `currentTransactionId()`: `txid_current()`, an id no other transaction has).
pub async fn snapshot_xid(client: &Client) -> Result<i64, tokio_postgres::Error> {
    client.query_one("SELECT txid_current()", &[]).await.map(|row| row.get(0))
}

/// The server's version as a number (`server_version_num`, 150004 for 15.4).
pub async fn server_version(client: &Client) -> Result<i32, tokio_postgres::Error> {
    client.query_one("SELECT current_setting('server_version_num')::int4", &[]).await.map(|row| row.get(0))
}

/// How many pages the table with oid `oid` has now (its main fork).
pub async fn table_pages(client: &Client, oid: u32) -> Result<u64, tokio_postgres::Error> {
    let pages: i64 = client
        .query_one("SELECT pg_relation_size($1::oid::regclass) / current_setting('block_size')::int8", &[&oid])
        .await?
        .get(0);
    Ok(u64::try_from(pages).unwrap_or(0))
}

/// Opens the read-only repeatable-read transaction a snapshot is read in, on the snapshot `exported` names (the
/// slot's or another connection's `pg_export_snapshot()`) when given, else on a snapshot of its own.
pub async fn begin_snapshot(client: &Client, exported: Option<&str>) -> Result<(), tokio_postgres::Error> {
    client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
    if let Some(name) = exported {
        client.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{}'", name.replace('\'', "''"))).await?;
    }
    Ok(())
}

/// Exports the transaction's snapshot, for other connections to read the same data (`SET TRANSACTION SNAPSHOT`).
pub async fn export_snapshot(client: &Client) -> Result<String, tokio_postgres::Error> {
    client.query_one("SELECT pg_export_snapshot()", &[]).await.map(|row| row.get(0))
}

/// The ordinary tables `filter` captures, ordered by schema and name.
pub async fn captured_tables(client: &Client, filter: &TableFilter) -> Result<Vec<TableId>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT c.oid, n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND c.relpersistence = 'p' ORDER BY n.nspname, c.relname",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| TableId { oid: row.get(0), schema: row.get(1), name: row.get(2) })
        .filter(|table| filter.includes(&table.schema, &table.name))
        .collect())
}

/// The table with oid `oid`, if it still exists.
pub async fn table(client: &Client, oid: u32) -> Result<Option<CatalogTable>, tokio_postgres::Error> {
    let Some(row) = client
        .query_opt(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.oid = $1",
            &[&oid],
        )
        .await?
    else {
        return Ok(None);
    };
    let id = TableId { oid, schema: row.get(0), name: row.get(1) };
    let columns = client
        .query(
            "SELECT attname::text, atttypid, atttypmod, attnotnull FROM pg_attribute
             WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            &[&oid],
        )
        .await?
        .into_iter()
        .map(|row| CatalogColumn { name: row.get(0), type_oid: row.get(1), modifier: row.get(2), not_null: row.get(3) })
        .collect();
    let primary_key = client
        .query(
            "SELECT a.attname::text FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
             WHERE i.indrelid = $1 AND i.indisprimary
             ORDER BY array_position(i.indkey::int2[], a.attnum)",
            &[&oid],
        )
        .await?
        .into_iter()
        .map(|row| row.get(0))
        .collect();
    Ok(Some(CatalogTable { id, columns, primary_key }))
}
