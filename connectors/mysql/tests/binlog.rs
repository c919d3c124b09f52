//! The binlog reader against a real MariaDB started by the harness.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use mysql_async::binlog::row::BinlogRow;
use mysql_async::binlog::value::BinlogValue;
use mysql_async::consts::ColumnType;
use mysql_async::{Opts, Value};
use tidemark_mysql::binlog::{BinlogError, BinlogEvent, BinlogReader, Flavor, MariaDbGtid, RowsKind};
use tidemark_tests::mariadb::MariaDbServer;

/// The server id the reader registers with (the server's own is 1).
const SERVER_ID: u32 = 4242;
/// How long to wait for one event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

async fn reader(server: &MariaDbServer) -> Result<std::result::Result<BinlogReader, BinlogError>> {
    Ok(BinlogReader::connect(Opts::from_url(&server.url())?, SERVER_ID).await)
}

#[tokio::test]
async fn refuses_a_server_without_full_row_images() -> Result<()> {
    let server = MariaDbServer::start()?;
    server.root_sql("SET GLOBAL binlog_format = 'STATEMENT'")?;
    match reader(&server).await? {
        Err(BinlogError::Setting { variable: "binlog_format", actual, required: "ROW" }) => {
            assert_eq!(actual, "STATEMENT")
        }
        other => bail!("expected the binlog_format refusal, got {other:?}"),
    }
    server.root_sql("SET GLOBAL binlog_format = 'ROW'; SET GLOBAL binlog_row_image = 'MINIMAL'")?;
    match reader(&server).await? {
        Err(error @ BinlogError::Setting { variable: "binlog_row_image", .. }) => {
            assert!(error.to_string().contains("binlog_row_image=FULL"), "{error}")
        }
        other => bail!("expected the binlog_row_image refusal, got {other:?}"),
    }
    server.root_sql("SET GLOBAL binlog_row_image = 'FULL'")?;
    assert_eq!(reader(&server).await??.flavor(), Flavor::MariaDb);
    Ok(())
}

#[tokio::test]
async fn streams_a_transaction_and_a_ddl_in_order() -> Result<()> {
    let server = MariaDbServer::start()?;
    server.root_sql(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, qty BIGINT UNSIGNED NOT NULL, \
         name VARCHAR(50), price DECIMAL(10,2), made DATETIME)",
    )?;
    let reader = reader(&server).await??;
    let start = reader.current_position().await?;
    assert!(start.file.starts_with("binlog."), "{start:?}");
    let last_seq: u64 = start.gtids.rsplit('-').next().context("a GTID")?.parse()?;
    let mut stream = reader.stream_from(&start.file, start.pos).await?;

    server.root_sql(
        "BEGIN; \
         INSERT INTO shop.items VALUES (1, 18446744073709551615, 'widget', 12.50, '2024-01-02 03:04:05'); \
         UPDATE shop.items SET name = 'gadget' WHERE id = 1; \
         DELETE FROM shop.items WHERE id = 1; \
         COMMIT; \
         ALTER TABLE shop.items ADD COLUMN note TEXT",
    )?;

    let mut events = Vec::new();
    loop {
        let entry = tokio::time::timeout(EVENT_TIMEOUT, stream.next()).await?.context("stream ended")??;
        let done = matches!(&entry.event, BinlogEvent::Query { query, .. } if query.starts_with("ALTER"));
        match entry.event {
            BinlogEvent::Rotate { file, pos } => assert_eq!((file, pos), (start.file.clone(), start.pos)),
            BinlogEvent::MariaDbGtidList(_) | BinlogEvent::BinlogCheckpoint { .. } => {}
            event => events.push(event),
        }
        if done {
            break;
        }
    }
    // MariaDB starts a transaction with its GTID event, not a BEGIN query.
    let labels: Vec<String> = events.iter().map(label).collect();
    assert_eq!(
        labels,
        [
            "gtid",
            "table_map",
            "insert",
            "table_map",
            "update",
            "table_map",
            "delete",
            "xid",
            "gtid",
            "query ALTER TABLE shop.items ADD COLUMN note TEXT"
        ]
    );

    let BinlogEvent::MariaDbGtid { gtid, standalone, .. } = &events[0] else { bail!("not a GTID") };
    assert_eq!(*gtid, MariaDbGtid { domain_id: 0, server_id: 1, seq_no: last_seq + 1 });
    assert!(!standalone);
    let BinlogEvent::MariaDbGtid { gtid, standalone, .. } = &events[8] else { bail!("not a GTID") };
    assert_eq!(gtid.seq_no, last_seq + 2);
    assert!(standalone);

    let BinlogEvent::TableMap(table) = &events[1] else { bail!("not a table map") };
    assert_eq!((table.database.as_str(), table.table.as_str()), ("shop", "items"));
    let names: Vec<_> = table.columns.iter().map(|c| c.name.clone().unwrap_or_default()).collect();
    assert_eq!(names, ["id", "qty", "name", "price", "made"]);
    assert_eq!(table.primary_key, [0]);
    let types: Vec<_> = table.columns.iter().map(|c| c.column_type).collect();
    assert_eq!(
        types,
        [
            ColumnType::MYSQL_TYPE_LONG,
            ColumnType::MYSQL_TYPE_LONGLONG,
            ColumnType::MYSQL_TYPE_VARCHAR,
            ColumnType::MYSQL_TYPE_NEWDECIMAL,
            ColumnType::MYSQL_TYPE_DATETIME2
        ]
    );
    assert!(!table.columns[0].unsigned && table.columns[1].unsigned);
    assert!(!table.columns[0].nullable && !table.columns[1].nullable && table.columns[2].nullable);

    let widget = vec![
        Value::Int(1),
        Value::UInt(u64::MAX),
        Value::Bytes(b"widget".to_vec()),
        Value::Bytes(b"12.50".to_vec()),
        Value::Date(2024, 1, 2, 3, 4, 5, 0),
    ];
    let mut gadget = widget.clone();
    gadget[2] = Value::Bytes(b"gadget".to_vec());
    let expected = [
        (RowsKind::Insert, None, Some(widget.clone())),
        (RowsKind::Update, Some(widget), Some(gadget.clone())),
        (RowsKind::Delete, Some(gadget), None),
    ];
    for (event, (kind, before, after)) in [&events[2], &events[4], &events[6]].into_iter().zip(expected) {
        let BinlogEvent::Rows(change) = event else { bail!("not a rows event") };
        assert_eq!(change.kind, kind);
        assert_eq!(change.table.table, "items");
        assert_eq!(change.rows.len(), 1);
        let (row_before, row_after) = &change.rows[0];
        assert_eq!(row_before.as_ref().map(values), before);
        assert_eq!(row_after.as_ref().map(values), after);
    }
    stream.close().await?;
    Ok(())
}

/// A short name for an event, to assert their order.
fn label(event: &BinlogEvent) -> String {
    match event {
        BinlogEvent::MariaDbGtid { .. } | BinlogEvent::MySqlGtid { .. } => "gtid".to_owned(),
        BinlogEvent::Query { query, .. } => format!("query {query}"),
        BinlogEvent::TableMap(_) => "table_map".to_owned(),
        BinlogEvent::Rows(change) => format!("{:?}", change.kind).to_lowercase(),
        BinlogEvent::Xid { .. } => "xid".to_owned(),
        other => format!("{other:?}"),
    }
}

/// A row's plain values (JSON columns aside).
fn values(row: &BinlogRow) -> Vec<Value> {
    (0..row.len())
        .map(|index| match row.as_ref(index) {
            Some(BinlogValue::Value(value)) => value.clone(),
            other => Value::Bytes(format!("{other:?}").into_bytes()),
        })
        .collect()
}
