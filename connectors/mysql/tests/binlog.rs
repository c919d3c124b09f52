//! The binlog reader against a real MariaDB started by the harness.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use mysql_async::binlog::row::BinlogRow;
use mysql_async::binlog::value::BinlogValue;
use mysql_async::consts::ColumnType;
use mysql_async::{Opts, Value};
use tidemark_mysql::binlog::{
    BinlogEntry, BinlogError, BinlogEvent, BinlogEventStream, BinlogReader, Flavor, GtidError, GtidSet, MariaDbGtid,
    RowsKind,
};
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

    let session = server.root_sql(
        "SELECT CONNECTION_ID(); \
         BEGIN; \
         INSERT INTO shop.items VALUES (1, 18446744073709551615, 'widget', 12.50, '2024-01-02 03:04:05'); \
         UPDATE shop.items SET name = 'gadget' WHERE id = 1; \
         DELETE FROM shop.items WHERE id = 1; \
         COMMIT; \
         ALTER TABLE shop.items ADD COLUMN note TEXT",
    )?;
    let session: u32 = session.trim().parse()?;

    let mut events = Vec::new();
    loop {
        let entry = next(&mut stream).await?;
        assert_eq!(&*entry.file, start.file, "no rotation: every event is in the start file");
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
    let BinlogEvent::Query { thread, .. } = &events[9] else { bail!("not a query") };
    assert_eq!(*thread, session, "the query names the session that ran it");

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

#[tokio::test]
async fn resumes_after_a_gtid_set_without_repeat_or_loss() -> Result<()> {
    let server = MariaDbServer::start()?;
    server.root_sql("CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY)")?;
    let reader = reader(&server).await??;
    let start = reader.current_position().await?;
    let mut gtids = GtidSet::parse(Flavor::MariaDb, &start.gtids)?;
    let mut stream = reader.stream_from(&start.file, start.pos).await?;
    insert(&server, 1..=4)?;
    let seen = transactions(&mut stream, 4).await?;
    stream.close().await?;
    assert_eq!(seen.iter().map(|t| t.ids.clone()).collect::<Vec<_>>(), [[1], [2], [3], [4]]);

    for transaction in &seen[..2] {
        gtids.add(transaction.gtid)?;
    }
    assert_eq!(gtids.to_string(), seen[1].gtid.to_string(), "one domain: the set is the 2nd transaction's GTID");
    let mut resumed = reader.stream_from_gtids(&gtids).await?;
    let first = next(&mut resumed).await?;
    assert!(
        matches!(&first.event, BinlogEvent::Rotate { file, pos: 4 } if *file == start.file),
        "the artificial ROTATE names the start file: {first:?}"
    );
    assert_eq!((&*first.file, first.next_pos), (start.file.as_str(), 0));
    insert(&server, 5..=5)?;
    let again = transactions(&mut resumed, 3).await?;
    // Exactly the 3rd and 4th transactions (same GTIDs, files and positions as the first time), then the new one.
    assert_eq!(again[..2], seen[2..]);
    assert_eq!(again[2].ids, [5]);
    assert_eq!(again[2].gtid.seq_no, seen[3].gtid.seq_no + 1);
    resumed.close().await?;

    let mysql_set = GtidSet::parse(Flavor::MySql, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")?;
    match reader.stream_from_gtids(&mysql_set).await {
        Err(BinlogError::Gtid(GtidError::FlavorMismatch {
            expected: Flavor::MariaDb, actual: Flavor::MySql, ..
        })) => {}
        Err(other) => bail!("expected a flavour mismatch, got {other:?}"),
        Ok(_) => bail!("a MySQL GTID set streamed from MariaDB"),
    }
    Ok(())
}

#[tokio::test]
async fn resumes_from_a_gtid_set_across_a_rotation() -> Result<()> {
    let server = MariaDbServer::start()?;
    server.root_sql("CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY)")?;
    let reader = reader(&server).await??;
    let start = reader.current_position().await?;
    let before = GtidSet::parse(Flavor::MariaDb, &start.gtids)?;
    let mut stream = reader.stream_from(&start.file, start.pos).await?;
    insert(&server, 1..=2)?;
    server.root_sql("FLUSH BINARY LOGS")?;
    let rotated = reader.current_position().await?.file;
    assert_ne!(rotated, start.file);
    insert(&server, 3..=4)?;
    let seen = transactions(&mut stream, 4).await?;
    stream.close().await?;
    let files: Vec<&str> = seen.iter().map(|t| t.file.as_str()).collect();
    assert_eq!(files, [&start.file, &start.file, &rotated, &rotated]);

    // From the middle of the old file: its last transaction, then the new file's.
    let mut after_first = before.clone();
    after_first.add(seen[0].gtid)?;
    let mut resumed = reader.stream_from_gtids(&after_first).await?;
    assert_eq!(transactions(&mut resumed, 3).await?, seen[1..]);
    resumed.close().await?;

    // From the old file's last transaction: MariaDB starts in the new file straight away.
    let mut after_second = after_first.clone();
    after_second.add(seen[1].gtid)?;
    let mut resumed = reader.stream_from_gtids(&after_second).await?;
    let first = next(&mut resumed).await?;
    assert!(
        matches!(&first.event, BinlogEvent::Rotate { file, .. } if *file == rotated),
        "the stream starts in the new file: {first:?}"
    );
    assert_eq!(transactions(&mut resumed, 2).await?, seen[2..]);
    resumed.close().await?;

    // The old file's position after the second transaction, as the entries gave it, resumes there as well.
    let mut by_position = reader.stream_from(&seen[1].file, u64::from(seen[1].next_pos)).await?;
    assert_eq!(transactions(&mut by_position, 2).await?, seen[2..]);
    by_position.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_purged_position_is_refused_as_purged() -> Result<()> {
    let server = MariaDbServer::start()?;
    server.root_sql("CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY)")?;
    let reader = reader(&server).await??;
    let mut positions = vec![reader.current_position().await?];
    for id in 1..=3 {
        if id > 1 {
            server.root_sql("FLUSH BINARY LOGS")?;
        }
        insert(&server, id..=id)?;
        positions.push(reader.current_position().await?);
    }
    // positions[i]: after i transactions; transaction i is in the i-th file.
    let (first_file, last_file) = (positions[0].file.clone(), positions[3].file.clone());
    let gtids = |index: usize| GtidSet::parse(Flavor::MariaDb, &positions[index].gtids);
    assert!(reader.has_file(&first_file).await?);
    // MariaDB purges only files its binlog checkpoint has passed (InnoDB flushed their transactions, here about once
    // a second); until then PURGE succeeds silently without removing them.
    let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
    while reader.has_file(&first_file).await? || reader.has_file(&positions[2].file).await? {
        if tokio::time::Instant::now() > deadline {
            bail!("the old binlog files were not purged: {}", server.root_sql("SHOW BINARY LOGS")?);
        }
        server.root_sql(&format!("PURGE BINARY LOGS TO '{last_file}'"))?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reader.has_file(&last_file).await?);

    // The refusal answers the dump request, so it shows when the stream starts.
    let message = purged(reader.stream_from(&first_file, 4).await)?;
    assert!(message.contains("Could not find first log file name"), "{message}");
    for index in [0, 1] {
        let message = purged(reader.stream_from_gtids(&gtids(index)?).await)?;
        assert!(message.contains("required binlog files have been purged"), "{index}: {message}");
    }
    // Even the empty set: it asks for everything from the start, which is gone.
    let message = purged(reader.stream_from_gtids(&GtidSet::new(Flavor::MariaDb)).await)?;
    assert!(message.contains("required binlog files have been purged"), "{message}");
    // A GTID the server never wrote is refused with the same error code.
    let future = GtidSet::parse(Flavor::MariaDb, "0-1-1000")?;
    let message = purged(reader.stream_from_gtids(&future).await)?;
    assert!(message.contains("which is not in the master's binlog"), "{message}");

    // The last purged transaction's GTID is where the kept file starts: that still works.
    let mut stream = reader.stream_from_gtids(&gtids(2)?).await?;
    let kept = transactions(&mut stream, 1).await?;
    assert_eq!((kept[0].ids.as_slice(), kept[0].file.as_str()), (&[3][..], last_file.as_str()));
    stream.close().await?;
    Ok(())
}

/// One committed transaction as a stream showed it.
#[derive(Debug, PartialEq, Eq)]
struct Transaction {
    gtid: MariaDbGtid,
    /// The ids its rows inserted.
    ids: Vec<i64>,
    /// The file and offset after its XID event.
    file: String,
    next_pos: u32,
}

/// Inserts each id into `shop.t` in a transaction of its own.
fn insert(server: &MariaDbServer, ids: std::ops::RangeInclusive<i64>) -> Result<()> {
    for id in ids {
        server.root_sql(&format!("INSERT INTO shop.t VALUES ({id})"))?;
    }
    Ok(())
}

/// The next `count` committed transactions of `stream`, other events skipped.
async fn transactions(stream: &mut BinlogEventStream, count: usize) -> Result<Vec<Transaction>> {
    let mut done = Vec::new();
    let mut open: Option<(MariaDbGtid, Vec<i64>)> = None;
    while done.len() < count {
        let entry = next(stream).await?;
        match (&entry.event, open.as_mut()) {
            (BinlogEvent::MariaDbGtid { gtid, .. }, _) => open = Some((*gtid, Vec::new())),
            (BinlogEvent::Rows(change), Some((_, ids))) => {
                for (_, after) in &change.rows {
                    match after.as_ref().and_then(|row| row.as_ref(0)) {
                        Some(BinlogValue::Value(Value::Int(id))) => ids.push(*id),
                        other => bail!("not an inserted id: {other:?}"),
                    }
                }
            }
            (BinlogEvent::Xid { .. }, Some(_)) => {
                let (gtid, ids) = open.take().context("a transaction")?;
                done.push(Transaction { gtid, ids, file: entry.file.to_string(), next_pos: entry.next_pos });
            }
            _ => {}
        }
    }
    Ok(done)
}

/// The stream's next entry, failing after [`EVENT_TIMEOUT`].
async fn next(stream: &mut BinlogEventStream) -> Result<BinlogEntry> {
    Ok(tokio::time::timeout(EVENT_TIMEOUT, stream.next()).await?.context("stream ended")??)
}

/// The message of a [`BinlogError::Purged`].
fn purged(result: std::result::Result<BinlogEventStream, BinlogError>) -> Result<String> {
    match result {
        Err(BinlogError::Purged { message }) => Ok(message),
        Err(other) => bail!("expected Purged, got {other:?}"),
        Ok(_) => bail!("expected Purged, the stream started"),
    }
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
