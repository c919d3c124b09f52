//! The column types against a real MariaDB started by the harness: one table with a column of every type, rows of
//! edge values, NULLs and zero dates, read in the text protocol (as a snapshot does) and from the binlog's
//! WRITE_ROWS event; both paths must give the same Connect values, Debezium's, and information_schema and the
//! table map must describe the columns alike.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use bytes::Bytes;
use mysql_async::binlog::row::BinlogRow;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use tidemark_connect::data::{validate, Struct, Value};
use tidemark_debezium::calendar::days_from_civil;
use tidemark_mysql::binlog::{BinlogEvent, BinlogReader, RowsKind, TableMap};
use tidemark_mysql::types::{
    load_table_columns, BigIntUnsignedHandling, BinaryHandling, CatalogError, ColumnConverter, ColumnDef,
    DecimalHandling, TimePrecision, TypeError, TypeSettings,
};
use tidemark_tests::mariadb::MariaDbServer;

/// The server id the reader registers with (the server's own is 1).
const SERVER_ID: u32 = 4343;
/// How long to wait for one event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

const CREATE: &str = "CREATE DATABASE shop; CREATE TABLE shop.all_types (
    id INT NOT NULL PRIMARY KEY,
    flag BOOLEAN, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
    mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
    dec10 DECIMAL(10,2), dec0 DECIMAL(5), f FLOAT, f72 FLOAT(7,2), dbl DOUBLE,
    bit1 BIT(1), bit10 BIT(10),
    c CHAR(5), vc VARCHAR(300), tx TEXT, l1 VARCHAR(20) CHARACTER SET latin1, mt MEDIUMTEXT CHARACTER SET latin1,
    bn BINARY(4), vb VARBINARY(10), bl BLOB, lb LONGBLOB,
    d DATE, dn DATE NOT NULL, t TIME, t3 TIME(3), t6 TIME(6),
    dt DATETIME, dt3 DATETIME(3), dt6 DATETIME(6), dtn DATETIME NOT NULL,
    ts TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL, tsn TIMESTAMP NOT NULL DEFAULT '2000-01-01 00:00:00',
    y YEAR, j JSON, e ENUM('small','medium','large'), s SET('a','b','c','d'),
    g GEOMETRY, p POINT, ls LINESTRING
) DEFAULT CHARSET = utf8mb4";

/// Three rows: edge values; NULLs and zero dates; more edges. (Not a negative TIME(1) or TIME(2) with a fraction:
/// mysql_common 0.37 panics decoding one.)
const INSERT: &str = "SET NAMES utf8mb4; SET time_zone = '+00:00'; INSERT INTO shop.all_types VALUES
    (1, TRUE, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808,
     18446744073709551615, -12345678.90, 12345, 1.2345678, 12345.67, 1.7976931348623157e308, b'1', b'1000000011',
     'ab', 'x€😀', 'text é', _latin1 x'636166e920ff8081', 'ÀÉÎ', x'01', x'0001', x'ff00', x'',
     '2024-02-29', '1969-07-20', '-838:59:59', '-00:00:01.250', '-00:00:00.000001',
     '2024-01-02 03:04:05', '2024-01-02 03:04:05.120', '9999-12-31 23:59:59.999999', '1000-01-01 00:00:00',
     '2038-01-19 03:14:07', '1970-01-01 00:00:01.000001', '2024-06-01 12:00:00',
     2155, '{\"b\": [1, 2.5, \"x\"], \"a\": null}', 'medium', 'a,c,d',
     ST_GeomFromText('LINESTRING(0 0,1 1)', 4326), POINT(1.5, -2), ST_GeomFromText('LINESTRING(0 0,1 1)')),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     '0000-00-00', '0000-00-00', '838:59:59', NULL, NULL,
     '0000-00-00 00:00:00', NULL, NULL, '0000-00-00 00:00:00',
     '0000-00-00 00:00:00', NULL, '0000-00-00 00:00:00',
     0, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, FALSE, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 9223372036854775808,
     0.01, -1, 3.4028234e38, -0.5, 0.1, b'0', b'0000000001',
     '', '', '', '', '', x'00000000', x'', x'', x'00',
     '1000-01-01', '9999-12-31', '00:00:00', '23:59:59.999', '00:00:00.5',
     '1970-01-01 00:00:00', '1969-12-31 23:59:59.999', '1970-01-01 00:00:00.000001', '2024-02-29 23:59:59',
     '1970-01-01 00:00:01', '2000-01-01 00:00:00.100000', '2000-01-01 00:00:00',
     1901, '[]', 'small', '', ST_GeomFromText('POINT(3 4)'), ST_GeomFromText('POINT(0 0)', 3857),
     ST_GeomFromText('LINESTRING(0 0,1 1)'))";

#[tokio::test]
async fn the_snapshot_and_the_binlog_agree_on_every_type() -> Result<()> {
    let server = MariaDbServer::start()?;
    server.root_sql(CREATE)?;
    let opts = Opts::from_url(&server.url())?;
    let reader = BinlogReader::connect(opts.clone(), SERVER_ID).await?;
    let start = reader.current_position().await?;
    let mut stream = reader.stream_from(&start.file, start.pos).await?;
    server.root_sql(INSERT)?;

    // The stream: the table map and the inserted rows' after images.
    let mut table_map: Option<std::sync::Arc<TableMap>> = None;
    let mut binlog_rows: Vec<BinlogRow> = Vec::new();
    loop {
        let entry = tokio::time::timeout(EVENT_TIMEOUT, stream.next()).await?.context("stream ended")??;
        match entry.event {
            BinlogEvent::TableMap(table) if table.table == "all_types" => table_map = Some(table),
            BinlogEvent::Rows(change) if change.kind == RowsKind::Insert => {
                binlog_rows.extend(change.rows.into_iter().filter_map(|(_, after)| after))
            }
            BinlogEvent::Xid { .. } => break,
            _ => {}
        }
    }
    stream.close().await?;
    let table_map = table_map.context("no table map")?;
    ensure!(binlog_rows.len() == 3, "{} rows in the binlog", binlog_rows.len());

    // The snapshot's view: information_schema, then the rows in the text protocol.
    let mut conn = Conn::new(opts).await?;
    conn.query_drop("SET time_zone = '+00:00'").await?;
    let (columns, key) = load_table_columns(&mut conn, "shop", "all_types").await?;
    assert_eq!(key, ["id"]);
    let from_binlog: Vec<ColumnDef> =
        table_map.columns.iter().map(ColumnDef::from_table_map).collect::<Result<_, TypeError>>()?;
    assert_eq!(from_binlog, columns, "information_schema and the table map describe the columns alike");
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();

    let exact = select(&mut conn, &columns, true).await?;
    let star = select(&mut conn, &columns, false).await?;

    for settings in settings_variants() {
        let converters = columns.iter().map(|c| ColumnConverter::new(c, &settings)).collect::<Result<Vec<_>, _>>()?;
        for (converter, binlog_def) in converters.iter().zip(&from_binlog) {
            let other = ColumnConverter::new(binlog_def, &settings)?;
            assert_eq!(converter.schema(), other.schema(), "{}", binlog_def.name);
        }
        for (row, binlog_row) in exact.iter().zip(&binlog_rows) {
            for (index, converter) in converters.iter().enumerate() {
                let name = names[index];
                let text = converter.text(&row[index]);
                let value = binlog_row.as_ref(index).with_context(|| format!("binlog value of {name}"))?;
                let binlog = converter.binlog(value);
                assert_eq!(text, binlog, "column {name} under {settings:?}");
                if let Ok(value) = &text {
                    assert_eq!(validate(converter.schema(), value), Ok(()), "column {name}");
                }
            }
        }
    }

    // Debezium's values under the default settings, field by field.
    let settings = TypeSettings::default();
    let converters = columns.iter().map(|c| ColumnConverter::new(c, &settings)).collect::<Result<Vec<_>, _>>()?;
    let values = |rows: &[Vec<mysql_async::Value>]| -> Result<Vec<BTreeMap<String, Value>>> {
        rows.iter()
            .map(|row| {
                names
                    .iter()
                    .zip(&converters)
                    .zip(row)
                    .map(|((name, converter), value)| Ok(((*name).to_owned(), converter.text(value)?)))
                    .collect()
            })
            .collect()
    };
    let rows = values(&exact)?;
    let expected = expected_rows(&converters, &names)?;
    for (row, expected) in rows.iter().zip(&expected) {
        for (name, value) in expected {
            assert_eq!(row.get(name), Some(value), "column {name} of row {:?}", row.get("id"));
        }
        assert_eq!(row.len(), expected.len());
    }
    // `SELECT *` gets the same values except FLOAT, which the server rounds to 6 significant digits.
    let star = values(&star)?;
    for (row, exact) in star.iter().zip(&rows) {
        for (name, value) in exact {
            match name.as_str() {
                "f" | "f72" => {}
                _ => assert_eq!(row.get(name), Some(value), "column {name} of SELECT *"),
            }
        }
    }
    assert_eq!(star[0].get("f"), Some(&Value::Float32(1.23457)));
    Ok(())
}

#[tokio::test]
async fn a_missing_table_has_no_columns() -> Result<()> {
    let server = MariaDbServer::start()?;
    let mut conn = Conn::new(Opts::from_url(&server.url())?).await?;
    match load_table_columns(&mut conn, "shop", "nothing").await {
        Err(CatalogError::NoSuchTable { database, table }) => {
            assert_eq!((database.as_str(), table.as_str()), ("shop", "nothing"))
        }
        other => bail!("expected NoSuchTable, got {other:?}"),
    }
    Ok(())
}

/// The rows in the text protocol, `SELECT` of each column's [`ColumnDef::select_expression`] or `SELECT *`.
async fn select(conn: &mut Conn, columns: &[ColumnDef], exact: bool) -> Result<Vec<Vec<mysql_async::Value>>> {
    let list = if exact {
        columns.iter().map(ColumnDef::select_expression).collect::<Vec<_>>().join(", ")
    } else {
        "*".to_owned()
    };
    let rows: Vec<mysql_async::Row> = conn.query(format!("SELECT {list} FROM shop.all_types ORDER BY id")).await?;
    Ok(rows
        .iter()
        .map(|row| (0..row.len()).map(|i| row.as_ref(i).cloned().unwrap_or(mysql_async::Value::NULL)).collect())
        .collect())
}

/// The defaults and the other modes of every setting.
fn settings_variants() -> Vec<TypeSettings> {
    let default = TypeSettings::default();
    vec![
        default,
        TypeSettings {
            decimal: DecimalHandling::String,
            time_precision: TimePrecision::Adaptive,
            bigint_unsigned: BigIntUnsignedHandling::Precise,
            binary: BinaryHandling::Base64,
            time_adjuster: false,
        },
        TypeSettings {
            decimal: DecimalHandling::Double,
            time_precision: TimePrecision::Connect,
            binary: BinaryHandling::Hex,
            ..default
        },
    ]
}

/// Debezium's values of the three rows under the default settings.
fn expected_rows(converters: &[ColumnConverter], names: &[&str]) -> Result<Vec<BTreeMap<String, Value>>> {
    let schema = |name: &str| {
        names.iter().position(|n| *n == name).map(|i| converters[i].schema().clone()).context("no such column")
    };
    let days = |y, m, d| Value::Int32(days_from_civil(y, m, d) as i32);
    let millis = |y, mo, d, h: i64, mi: i64, s: i64, ms: i64| {
        Value::Int64(days_from_civil(y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + ms)
    };
    let bytes = |b: &[u8]| Value::Bytes(Bytes::copy_from_slice(b));
    let string = |s: &str| Value::String(s.to_owned());
    let mut linestring = vec![1u8, 2, 0, 0, 0, 2, 0, 0, 0];
    for coordinate in [0.0f64, 0.0, 1.0, 1.0] {
        linestring.extend(coordinate.to_le_bytes());
    }
    let point_wkb = |x: f64, y: f64| {
        let mut wkb = vec![1u8, 1, 0, 0, 0];
        wkb.extend(x.to_le_bytes());
        wkb.extend(y.to_le_bytes());
        wkb
    };
    let geometry = |wkb: &[u8], srid: Value| -> Result<Value> {
        Ok(Value::Struct(Struct::from_values(schema("g")?, vec![bytes(wkb), srid])?))
    };
    let point = |x: f64, y: f64, srid: Value| -> Result<Value> {
        let values = vec![Value::Float64(x), Value::Float64(y), bytes(&point_wkb(x, y)), srid];
        Ok(Value::Struct(Struct::from_values(schema("p")?, values)?))
    };
    let row = |pairs: Vec<(&str, Value)>| pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();

    let first = row(vec![
        ("id", Value::Int32(1)),
        ("flag", Value::Int16(1)),
        ("ti", Value::Int16(-128)),
        ("tiu", Value::Int16(255)),
        ("si", Value::Int16(-32768)),
        ("siu", Value::Int32(65535)),
        ("mi", Value::Int32(-8_388_608)),
        ("miu", Value::Int32(16_777_215)),
        ("i", Value::Int32(i32::MIN)),
        ("iu", Value::Int64(4_294_967_295)),
        ("bi", Value::Int64(i64::MIN)),
        // bigint.unsigned.handling.mode=long: 2^64-1 wraps to -1.
        ("biu", Value::Int64(-1)),
        ("dec10", bytes(&[0xb6, 0x69, 0xfd, 0x2e])),
        ("dec0", bytes(&[0x30, 0x39])),
        ("f", Value::Float32(1.234_567_8)),
        ("f72", Value::Float32(12_345.67)),
        ("dbl", Value::Float64(f64::MAX)),
        ("bit1", Value::Boolean(true)),
        ("bit10", bytes(&[0x03, 0x02])),
        ("c", string("ab")),
        ("vc", string("x€😀")),
        ("tx", string("text é")),
        ("l1", string("café ÿ€\u{81}")),
        ("mt", string("ÀÉÎ")),
        ("bn", bytes(&[1, 0, 0, 0])),
        ("vb", bytes(&[0, 1])),
        ("bl", bytes(&[0xff, 0])),
        ("lb", bytes(&[])),
        ("d", days(2024, 2, 29)),
        ("dn", days(1969, 7, 20)),
        ("t", Value::Int64(-3_020_399_000_000)),
        ("t3", Value::Int64(-1_250_000)),
        ("t6", Value::Int64(-1)),
        ("dt", millis(2024, 1, 2, 3, 4, 5, 0)),
        ("dt3", millis(2024, 1, 2, 3, 4, 5, 120)),
        ("dt6", Value::Int64(253_402_300_799_999_999)),
        ("dtn", millis(1000, 1, 1, 0, 0, 0, 0)),
        ("ts", string("2038-01-19T03:14:07Z")),
        ("ts6", string("1970-01-01T00:00:01.000001Z")),
        ("tsn", string("2024-06-01T12:00:00Z")),
        ("y", Value::Int32(2155)),
        // MariaDB's JSON is LONGTEXT: the text as inserted.
        ("j", string(r#"{"b": [1, 2.5, "x"], "a": null}"#)),
        ("e", string("medium")),
        ("s", string("a,c,d")),
        ("g", geometry(&linestring, Value::Int32(4326))?),
        ("p", point(1.5, -2.0, Value::Null)?),
        ("ls", geometry(&linestring, Value::Null)?),
    ]);
    let mut second: BTreeMap<String, Value> = names.iter().map(|n| ((*n).to_owned(), Value::Null)).collect();
    second.extend(row(vec![
        ("id", Value::Int32(2)),
        // Zero dates: null where optional, the epoch where NOT NULL.
        ("dn", Value::Int32(0)),
        ("dtn", Value::Int64(0)),
        ("tsn", string("1970-01-01T00:00:00Z")),
        ("t", Value::Int64(3_020_399_000_000)),
        ("y", Value::Int32(0)),
    ]));
    let third = row(vec![
        ("id", Value::Int32(3)),
        ("flag", Value::Int16(0)),
        ("ti", Value::Int16(127)),
        ("tiu", Value::Int16(0)),
        ("si", Value::Int16(32767)),
        ("siu", Value::Int32(0)),
        ("mi", Value::Int32(8_388_607)),
        ("miu", Value::Int32(0)),
        ("i", Value::Int32(i32::MAX)),
        ("iu", Value::Int64(0)),
        ("bi", Value::Int64(i64::MAX)),
        ("biu", Value::Int64(i64::MIN)),
        ("dec10", bytes(&[0x01])),
        ("dec0", bytes(&[0xff])),
        ("f", Value::Float32(f32::MAX)),
        ("f72", Value::Float32(-0.5)),
        ("dbl", Value::Float64(0.1)),
        ("bit1", Value::Boolean(false)),
        ("bit10", bytes(&[0x01, 0x00])),
        ("c", string("")),
        ("vc", string("")),
        ("tx", string("")),
        ("l1", string("")),
        ("mt", string("")),
        ("bn", bytes(&[0, 0, 0, 0])),
        ("vb", bytes(&[])),
        ("bl", bytes(&[])),
        ("lb", bytes(&[0])),
        ("d", days(1000, 1, 1)),
        ("dn", days(9999, 12, 31)),
        ("t", Value::Int64(0)),
        ("t3", Value::Int64(86_399_999_000)),
        ("t6", Value::Int64(500_000)),
        ("dt", Value::Int64(0)),
        ("dt3", Value::Int64(-1)),
        ("dt6", Value::Int64(1)),
        ("dtn", millis(2024, 2, 29, 23, 59, 59, 0)),
        ("ts", string("1970-01-01T00:00:01Z")),
        ("ts6", string("2000-01-01T00:00:00.100000Z")),
        ("tsn", string("2000-01-01T00:00:00Z")),
        ("y", Value::Int32(1901)),
        ("j", string("[]")),
        ("e", string("small")),
        ("s", string("")),
        ("g", geometry(&point_wkb(3.0, 4.0), Value::Null)?),
        ("p", point(0.0, 0.0, Value::Int32(3857))?),
        ("ls", geometry(&linestring, Value::Null)?),
    ]);
    Ok(vec![first, second, third])
}
