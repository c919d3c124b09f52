//! Column types against a real PostgreSQL 15: every value is read both in its text form (a simple query under the
//! replication session's settings, which is what pgoutput sends) and in its binary form (`COPY ... (FORMAT
//! binary)`), both must convert to the same Connect value, and that value must be Debezium's.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{anyhow, bail, ensure, Context, Result};
use bytes::Bytes;
use futures::TryStreamExt;
use tidemark_connect::data::{decimal, logical, SchemaRef, Struct, Type, Value};
use tidemark_postgres::types::{
    load_column_type, names, BinaryHandling, ColumnConverter, ColumnType, DecimalHandling, HstoreHandling,
    IntervalHandling, TimePrecision, TypeError, TypeSettings,
};
use tidemark_tests::postgres::PostgresServer;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// A server and a session with the replication connection's settings.
struct Db {
    client: Client,
    _server: PostgresServer,
}

/// Distinct table names across one test's columns.
static TABLES: AtomicUsize = AtomicUsize::new(0);

impl Db {
    async fn start() -> Result<Db> {
        let server = tokio::task::spawn_blocking(PostgresServer::start).await??;
        let (client, connection) = tokio_postgres::connect(&server.connection_string(), NoTls).await?;
        tokio::spawn(connection);
        client
            .batch_execute(
                "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 3; \
                 SET IntervalStyle = 'postgres'; SET client_encoding = 'UTF8'",
            )
            .await?;
        Ok(Db { client, _server: server })
    }

    /// A table with one column of `sql_type` holding `literals` (SQL expressions, `NULL` for null) in order, read
    /// back in both forms.
    async fn column(&self, sql_type: &str, literals: &[&str]) -> Result<Column> {
        let table = format!("t{}", TABLES.fetch_add(1, Ordering::Relaxed));
        self.client.batch_execute(&format!("CREATE TABLE {table} (id serial PRIMARY KEY, v {sql_type})")).await?;
        for literal in literals {
            self.client
                .batch_execute(&format!("INSERT INTO {table} (v) VALUES ({literal})"))
                .await
                .with_context(|| format!("inserting {literal} into a {sql_type} column"))?;
        }
        let texts = self.texts(&format!("SELECT v FROM {table} ORDER BY id")).await?;
        let binaries = self.copy_binary(&format!("SELECT v FROM {table} ORDER BY id")).await?;
        let row = self
            .client
            .query_one(
                "SELECT atttypid, atttypmod FROM pg_attribute WHERE attrelid = $1::text::regclass AND attname = 'v'",
                &[&table],
            )
            .await?;
        let ty = load_column_type(&self.client, row.get(0), row.get(1)).await?;
        Ok(Column { sql_type: sql_type.to_owned(), ty, texts, binaries })
    }

    /// The first column of each row in the text form.
    async fn texts(&self, query: &str) -> Result<Vec<Option<String>>> {
        let mut out = Vec::new();
        for message in self.client.simple_query(query).await? {
            if let SimpleQueryMessage::Row(row) = message {
                out.push(row.get(0).map(str::to_owned));
            }
        }
        Ok(out)
    }

    /// The first column of each row in the binary form, from `COPY (query) TO STDOUT (FORMAT binary)`.
    async fn copy_binary(&self, query: &str) -> Result<Vec<Option<Vec<u8>>>> {
        let stream = self.client.copy_out(&format!("COPY ({query}) TO STDOUT (FORMAT binary)")).await?;
        let chunks: Vec<Bytes> = stream.try_collect().await?;
        parse_copy_binary(&chunks.concat())
    }
}

/// The first field of each tuple of a binary COPY: the signature, flags and header extension, then tuples of a
/// field count and length-prefixed fields (-1 for null), then -1.
fn parse_copy_binary(data: &[u8]) -> Result<Vec<Option<Vec<u8>>>> {
    let mut rest = data.strip_prefix(b"PGCOPY\n\xff\r\n\0".as_slice()).ok_or_else(|| anyhow!("no COPY signature"))?;
    let mut take = |n: usize| -> Result<&[u8]> {
        ensure!(rest.len() >= n, "COPY data ends too soon");
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let int = |b: &[u8]| i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    take(4)?;
    let extension = int(take(4)?);
    take(usize::try_from(extension)?)?;
    let mut out = Vec::new();
    loop {
        let count = i16::from_be_bytes(take(2)?.try_into()?);
        if count == -1 {
            return Ok(out);
        }
        ensure!(count == 1, "{count} fields in a tuple");
        let len = int(take(4)?);
        out.push(if len < 0 { None } else { Some(take(usize::try_from(len)?)?.to_vec()) });
    }
}

/// One column's values in both forms.
struct Column {
    sql_type: String,
    ty: ColumnType,
    texts: Vec<Option<String>>,
    binaries: Vec<Option<Vec<u8>>>,
}

impl Column {
    fn converter(&self, settings: &TypeSettings) -> Result<ColumnConverter> {
        ColumnConverter::new(&self.ty, true, settings).with_context(|| format!("a converter for {}", self.sql_type))
    }

    fn schema(&self, settings: &TypeSettings) -> Result<SchemaRef> {
        Ok(self.converter(settings)?.schema().clone())
    }

    /// Both forms of row `i` under `settings`.
    fn both(&self, settings: &TypeSettings, i: usize) -> Result<(Result<Value, TypeError>, Result<Value, TypeError>)> {
        let converter = self.converter(settings)?;
        let text = match &self.texts[i] {
            Some(text) => converter.text(text.as_bytes()),
            None => Ok(Value::Null),
        };
        let binary = match &self.binaries[i] {
            Some(bytes) => converter.binary(bytes),
            None => Ok(Value::Null),
        };
        Ok((text, binary))
    }

    /// Every row converts, in both forms, to `expected` (null rows to null).
    fn check(&self, settings: &TypeSettings, expected: &[Value]) -> Result<()> {
        ensure!(
            self.texts.len() == expected.len(),
            "{} rows of {}, {} expected",
            self.texts.len(),
            self.sql_type,
            expected.len()
        );
        ensure!(self.binaries.len() == expected.len(), "{} binary rows of {}", self.binaries.len(), self.sql_type);
        let schema = self.schema(settings)?;
        for (i, want) in expected.iter().enumerate() {
            let (text, binary) = self.both(settings, i)?;
            let context = || format!("{} row {i} (text {:?})", self.sql_type, self.texts[i]);
            let text = text.with_context(context)?;
            let binary = binary.with_context(context)?;
            if text != *want || binary != *want {
                bail!("{}: text gives {text:?}, binary gives {binary:?}, expected {want:?}", context());
            }
            tidemark_connect::data::validate(&schema, &text).with_context(context)?;
        }
        Ok(())
    }

    /// Row `i` fails the same way in both forms.
    fn check_error(&self, settings: &TypeSettings, i: usize, expected: impl Fn(&TypeError) -> bool) -> Result<()> {
        let (text, binary) = self.both(settings, i)?;
        for (form, result) in [("text", text), ("binary", binary)] {
            match result {
                Err(error) if expected(&error) => {}
                other => bail!("{} row {i} in {form} form gives {other:?}", self.sql_type),
            }
        }
        Ok(())
    }
}

fn settings(change: impl FnOnce(&mut TypeSettings)) -> TypeSettings {
    let mut settings = TypeSettings::default();
    change(&mut settings);
    settings
}

fn string(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(Bytes::copy_from_slice(b))
}

/// A Connect `Decimal` value of `unscaled`.
fn dec(unscaled: i128) -> Value {
    Value::Bytes(decimal::unscaled_bytes(unscaled))
}

/// Asserts a schema's type, name, version and parameters.
fn assert_schema(schema: &SchemaRef, kind: Type, name: Option<&str>, parameters: &[(&str, &str)]) {
    assert_eq!(schema.schema_type(), kind, "{schema:?}");
    assert_eq!(schema.name(), name, "{schema:?}");
    assert_eq!(schema.version(), name.map(|_| 1), "{schema:?}");
    let want: Vec<(String, String)> = parameters.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    assert_eq!(schema.parameters(), &want[..], "{schema:?}");
    assert!(schema.is_optional());
}

#[tokio::test]
async fn numbers() -> Result<()> {
    let db = Db::start().await?;
    let default = TypeSettings::default();
    let double = settings(|s| s.decimal = DecimalHandling::Double);
    let string_mode = settings(|s| s.decimal = DecimalHandling::String);

    let bool_ = db.column("bool", &["true", "false", "NULL"]).await?;
    bool_.check(&default, &[Value::Boolean(true), Value::Boolean(false), Value::Null])?;
    assert_schema(&bool_.schema(&default)?, Type::Boolean, None, &[]);

    db.column("int2", &["-32768", "32767"])
        .await?
        .check(&default, &[Value::Int16(i16::MIN), Value::Int16(i16::MAX)])?;
    db.column("int4", &["-2147483648", "42"]).await?.check(&default, &[Value::Int32(i32::MIN), Value::Int32(42)])?;
    let int8 = db.column("int8", &["-9223372036854775808", "9223372036854775807"]).await?;
    int8.check(&default, &[Value::Int64(i64::MIN), Value::Int64(i64::MAX)])?;
    let oid = db.column("oid", &["4294967295", "0"]).await?;
    oid.check(&default, &[Value::Int64(4_294_967_295), Value::Int64(0)])?;
    assert_schema(&oid.schema(&default)?, Type::Int64, None, &[]);

    let float4 = db.column("float4", &["1.5", "-0.1", "'NaN'", "'Infinity'", "3.4028235e38", "1e-45"]).await?;
    float4.check(
        &default,
        &[
            Value::Float32(1.5),
            Value::Float32(-0.1),
            Value::Float32(f32::NAN),
            Value::Float32(f32::INFINITY),
            Value::Float32(f32::MAX),
            Value::Float32(1e-45),
        ],
    )?;
    let float8 = db.column("float8", &["0.1", "-1e300", "'-Infinity'", "5e-324"]).await?;
    float8.check(
        &default,
        &[Value::Float64(0.1), Value::Float64(-1e300), Value::Float64(f64::NEG_INFINITY), Value::Float64(5e-324)],
    )?;

    // numeric(10,2): Kafka's Decimal with the column's scale and Debezium's precision parameter.
    let fixed = db.column("numeric(10,2)", &["12.34", "-0.5", "0", "99999999.99", "NULL"]).await?;
    fixed.check(&default, &[dec(1234), dec(-50), dec(0), dec(9_999_999_999), Value::Null])?;
    assert_schema(
        &fixed.schema(&default)?,
        Type::Bytes,
        Some(logical::DECIMAL),
        &[("scale", "2"), ("connect.decimal.precision", "10")],
    );
    fixed.check(
        &double,
        &[Value::Float64(12.34), Value::Float64(-0.5), Value::Float64(0.0), Value::Float64(99_999_999.99), Value::Null],
    )?;
    fixed
        .check(&string_mode, &[string("12.34"), string("-0.50"), string("0.00"), string("99999999.99"), Value::Null])?;

    // The one-value functions give the same.
    let ty = &fixed.ty;
    assert_eq!(tidemark_postgres::types::text_value(ty, b"12.34", &default)?, dec(1234));
    let binary = fixed.binaries[0].clone().context("binary 12.34")?;
    assert_eq!(tidemark_postgres::types::binary_value(ty, &binary, &default)?, dec(1234));
    assert!(!tidemark_postgres::types::column_schema(ty, false, &default)?.is_optional());
    assert!(tidemark_postgres::types::unavailable_value(ty, &default).is_err());

    // numeric without precision: VariableScaleDecimal {scale, value}, trailing zeros stripped; NaN refused.
    let variable = db
        .column(
            "numeric",
            &["1.500", "-123456789012345678901234567890.12345", "0.000", "100", "0.0000001", "'NaN'", "'Infinity'"],
        )
        .await?;
    let schema = variable.schema(&default)?;
    assert_schema(&schema, Type::Struct, Some(names::VARIABLE_SCALE_DECIMAL), &[]);
    assert_eq!(schema.doc(), Some("Variable scaled decimal"));
    let fields: Vec<(&str, Type)> = schema.fields().iter().map(|f| (f.name(), f.schema().schema_type())).collect();
    assert_eq!(fields, [("scale", Type::Int32), ("value", Type::Bytes)]);
    let vsd = |scale: i32, unscaled: i128| -> Result<Value> {
        Ok(Value::Struct(Struct::from_values(schema.clone(), vec![Value::Int32(scale), dec(unscaled)])?))
    };
    let huge = decimal::from_text("-12345678901234567890123456789012345", 0)?;
    let huge = Value::Struct(Struct::from_values(schema.clone(), vec![Value::Int32(5), Value::Bytes(huge)])?);
    let precise_rows = [vsd(1, 15)?, huge, vsd(0, 0)?, vsd(0, 100)?, vsd(7, 1)?];
    let five = db_rows(&variable, 5)?;
    five.check(&default, &precise_rows)?;
    variable.check_error(&default, 5, |e| matches!(e, TypeError::SpecialNumeric { value: "NaN", .. }))?;
    variable.check_error(&default, 6, |e| matches!(e, TypeError::SpecialNumeric { value: "Infinity", .. }))?;
    variable.check(
        &string_mode,
        &[
            string("1.500"),
            string("-123456789012345678901234567890.12345"),
            string("0.000"),
            string("100"),
            string("1E-7"),
            string("NAN"),
            string("POSITIVE_INFINITY"),
        ],
    )?;
    variable.check(
        &double,
        &[
            Value::Float64(1.5),
            Value::Float64(-1.2345678901234568e29),
            Value::Float64(0.0),
            Value::Float64(100.0),
            Value::Float64(1e-7),
            Value::Float64(f64::NAN),
            Value::Float64(f64::INFINITY),
        ],
    )?;
    assert_schema(&variable.schema(&string_mode)?, Type::String, None, &[]);

    // PostgreSQL 15's negative scale.
    let negative = db.column("numeric(5,-2)", &["12345"]).await?;
    negative.check(&default, &[dec(123)])?;
    assert_schema(
        &negative.schema(&default)?,
        Type::Bytes,
        Some(logical::DECIMAL),
        &[("scale", "-2"), ("connect.decimal.precision", "5")],
    );

    // money: Decimal with money.fraction.digits, a double, or Java's Double.toString.
    let money = db.column("money", &["12.34", "-1234.56", "NULL"]).await?;
    money.check(&default, &[dec(1234), dec(-123_456), Value::Null])?;
    assert_schema(&money.schema(&default)?, Type::Bytes, Some(logical::DECIMAL), &[("scale", "2")]);
    money.check(&double, &[Value::Float64(12.34), Value::Float64(-1234.56), Value::Null])?;
    money.check(&string_mode, &[string("12.34"), string("-1234.56"), Value::Null])?;
    Ok(())
}

/// The first `n` rows of a column, as a column of their own.
fn db_rows(column: &Column, n: usize) -> Result<Column> {
    Ok(Column {
        sql_type: column.sql_type.clone(),
        ty: column.ty.clone(),
        texts: column.texts[..n].to_vec(),
        binaries: column.binaries[..n].to_vec(),
    })
}

#[tokio::test]
async fn text_and_bytes() -> Result<()> {
    let db = Db::start().await?;
    let default = TypeSettings::default();
    db.client.batch_execute("CREATE EXTENSION citext").await?;

    db.column("char(5)", &["'ab'"]).await?.check(&default, &[string("ab   ")])?;
    db.column("varchar(20)", &["'héllo ✓'"]).await?.check(&default, &[string("héllo ✓")])?;
    db.column("text", &["E'tab\\there\\nline'", "''"])
        .await?
        .check(&default, &[string("tab\there\nline"), string("")])?;
    db.column("name", &["'pg_class'"]).await?.check(&default, &[string("pg_class")])?;
    db.column("\"char\"", &["'x'"]).await?.check(&default, &[string("x")])?;
    let citext = db.column("citext", &["'MiXeD'"]).await?;
    citext.check(&default, &[string("MiXeD")])?;
    assert_schema(&citext.schema(&default)?, Type::String, None, &[]);

    let bytea = db.column("bytea", &["'\\x00ff10'", "'\\xfbff'", "'\\x'"]).await?;
    bytea.check(&default, &[bytes(&[0, 255, 16]), bytes(&[0xfb, 0xff]), bytes(&[])])?;
    assert_schema(&bytea.schema(&default)?, Type::Bytes, None, &[]);
    let base64 = settings(|s| s.binary = BinaryHandling::Base64);
    bytea.check(&base64, &[string("AP8Q"), string("+/8="), string("")])?;
    assert_schema(&bytea.schema(&base64)?, Type::String, None, &[]);
    let url_safe = settings(|s| s.binary = BinaryHandling::Base64UrlSafe);
    bytea.check(&url_safe, &[string("AP8Q"), string("-_8="), string("")])?;
    bytea.check(&settings(|s| s.binary = BinaryHandling::Hex), &[string("00ff10"), string("fbff"), string("")])?;
    Ok(())
}

#[tokio::test]
async fn dates_and_times() -> Result<()> {
    let db = Db::start().await?;
    let default = TypeSettings::default();
    let connect = settings(|s| s.time_precision = TimePrecision::Connect);
    let micro_time = settings(|s| s.time_precision = TimePrecision::AdaptiveTimeMicroseconds);

    let date = db
        .column(
            "date",
            &["'2024-02-29'", "'1969-12-31'", "'1970-01-01'", "'0044-03-15 BC'", "'infinity'", "'-infinity'"],
        )
        .await?;
    let days = [19_782, -1, 0, -735_160, -2_147_472_692, -2_147_472_691].map(Value::Int32);
    date.check(&default, &days)?;
    assert_schema(&date.schema(&default)?, Type::Int32, Some(names::DATE), &[]);
    date.check(&connect, &days)?;
    assert_schema(&date.schema(&connect)?, Type::Int32, Some(logical::DATE), &[]);

    let time = db.column("time", &["'12:34:56.789012'", "'00:00:00'", "'24:00:00'"]).await?;
    time.check(&default, &[Value::Int64(45_296_789_012), Value::Int64(0), Value::Int64(86_400_000_000)])?;
    assert_schema(&time.schema(&default)?, Type::Int64, Some(names::MICRO_TIME), &[]);
    let time3 = db.column("time(3)", &["'12:34:56.789'"]).await?;
    time3.check(&default, &[Value::Int32(45_296_789)])?;
    assert_schema(&time3.schema(&default)?, Type::Int32, Some(names::TIME), &[]);
    time3.check(&micro_time, &[Value::Int64(45_296_789_000)])?;
    assert_schema(&time3.schema(&micro_time)?, Type::Int64, Some(names::MICRO_TIME), &[]);
    let time6 = db.column("time(6)", &["'12:34:56.789012'"]).await?;
    time6.check(&connect, &[Value::Int32(45_296_789)])?;
    assert_schema(&time6.schema(&connect)?, Type::Int32, Some(logical::TIME), &[]);

    // timetz: the instant's time of day in UTC, as Java's ISO_OFFSET_TIME writes it.
    let timetz = db
        .column("timetz", &["'10:00:00+02'", "'23:30:00-05'", "'12:00:00.5+05:30'", "'24:00:00+00'", "'00:00:00+00'"])
        .await?;
    timetz.check(
        &default,
        &[string("08:00:00Z"), string("04:30:00Z"), string("06:30:00.5Z"), string("24:00:00Z"), string("00:00:00Z")],
    )?;
    assert_schema(&timetz.schema(&default)?, Type::String, Some(names::ZONED_TIME), &[]);

    // timestamp: the wall clock as UTC; Debezium's documented example, before 1970, the infinities, BC.
    let timestamp = db
        .column(
            "timestamp",
            &[
                "'2018-06-20 15:13:16.945104'",
                "'1969-12-31 23:59:59.5'",
                "'infinity'",
                "'-infinity'",
                "'0044-03-15 12:00:00 BC'",
            ],
        )
        .await?;
    timestamp.check(
        &default,
        &[
            Value::Int64(1_529_507_596_945_104),
            Value::Int64(-500_000),
            Value::Int64(9_223_372_036_825_200_000),
            Value::Int64(-9_223_372_036_832_400_000),
            Value::Int64(-63_517_780_800_000_000),
        ],
    )?;
    assert_schema(&timestamp.schema(&default)?, Type::Int64, Some(names::MICRO_TIMESTAMP), &[]);
    timestamp.check(
        &connect,
        &[
            Value::Int64(1_529_507_596_945),
            Value::Int64(-500),
            Value::Int64(9_223_372_036_825_200),
            Value::Int64(-9_223_372_036_832_400),
            Value::Int64(-63_517_780_800_000),
        ],
    )?;
    assert_schema(&timestamp.schema(&connect)?, Type::Int64, Some(logical::TIMESTAMP), &[]);
    let timestamp3 = db.column("timestamp(3)", &["'2024-02-29 12:00:00.123'"]).await?;
    timestamp3.check(&default, &[Value::Int64(1_709_208_000_123)])?;
    assert_schema(&timestamp3.schema(&default)?, Type::Int64, Some(names::TIMESTAMP), &[]);
    let timestamp6 = db.column("timestamp(6)", &["'2024-02-29 12:00:00.000001'"]).await?;
    timestamp6.check(&default, &[Value::Int64(1_709_208_000_000_001)])?;

    // timestamptz: UTC, as many fraction digits as the column's precision.
    let timestamptz = db
        .column(
            "timestamptz",
            &[
                "'2024-02-29 12:00:00+02'",
                "'1969-12-31 23:59:59.5+00'",
                "'infinity'",
                "'-infinity'",
                "'2024-02-29 23:30:00.123456-05'",
                "'0044-03-15 12:00:00+00 BC'",
            ],
        )
        .await?;
    timestamptz.check(
        &default,
        &[
            string("2024-02-29T10:00:00.000000Z"),
            string("1969-12-31T23:59:59.500000Z"),
            string("infinity"),
            string("-infinity"),
            string("2024-03-01T04:30:00.123456Z"),
            string("-0043-03-15T12:00:00.000000Z"),
        ],
    )?;
    assert_schema(&timestamptz.schema(&default)?, Type::String, Some(names::ZONED_TIMESTAMP), &[]);
    let timestamptz3 = db.column("timestamptz(3)", &["'2024-02-29 12:00:00.12+02'"]).await?;
    timestamptz3.check(&default, &[string("2024-02-29T10:00:00.120Z")])?;
    let timestamptz0 = db.column("timestamptz(0)", &["'2024-02-29 12:00:00+02'"]).await?;
    timestamptz0.check(&default, &[string("2024-02-29T10:00:00Z")])?;

    // interval: microseconds with 30.4375-day months, or Debezium's ISO-like string.
    let interval = db
        .column(
            "interval",
            &[
                "'1 mon 2 days 03:00:00'",
                "'-1 year -2 mons +3 days -04:05:06'",
                "'00:00:00.000001'",
                "'1 day'",
                "'1 year 2 mons 3 days 04:05:06.789'",
            ],
        )
        .await?;
    interval.check(
        &default,
        &[
            Value::Int64(2_813_400_000_000),
            Value::Int64(-36_572_706_000_000),
            Value::Int64(1),
            Value::Int64(86_400_000_000),
            Value::Int64(37_091_106_789_000),
        ],
    )?;
    assert_schema(&interval.schema(&default)?, Type::Int64, Some(names::MICRO_DURATION), &[]);
    let as_string = settings(|s| s.interval = IntervalHandling::String);
    interval.check(
        &as_string,
        &[
            string("P0Y1M2DT3H0M0S"),
            string("P-1Y-2M3DT-4H-5M-6S"),
            string("P0Y0M0DT0H0M0.000001S"),
            string("P0Y0M1DT0H0M0S"),
            string("P1Y2M3DT4H5M6.789S"),
        ],
    )?;
    assert_schema(&interval.schema(&as_string)?, Type::String, Some(names::INTERVAL), &[]);
    Ok(())
}

#[tokio::test]
async fn strings_bits_geometry_ranges_and_extensions() -> Result<()> {
    let db = Db::start().await?;
    let default = TypeSettings::default();
    db.client.batch_execute("CREATE EXTENSION hstore; CREATE EXTENSION ltree").await?;

    let uuid = db.column("uuid", &["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"]).await?;
    uuid.check(&default, &[string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")])?;
    assert_schema(&uuid.schema(&default)?, Type::String, Some(names::UUID), &[]);
    let json = db.column("json", &[r#"'{"b": 1, "a": [1, 2]}'"#]).await?;
    json.check(&default, &[string(r#"{"b": 1, "a": [1, 2]}"#)])?;
    assert_schema(&json.schema(&default)?, Type::String, Some(names::JSON), &[]);
    let jsonb = db.column("jsonb", &[r#"'{"b": 1, "a": [1, 2]}'"#, "'null'"]).await?;
    jsonb.check(&default, &[string(r#"{"a": [1, 2], "b": 1}"#), string("null")])?;
    let xml = db.column("xml", &["'<a x=\"1\">é</a>'"]).await?;
    xml.check(&default, &[string("<a x=\"1\">é</a>")])?;
    assert_schema(&xml.schema(&default)?, Type::String, Some(names::XML), &[]);

    let inet = db
        .column(
            "inet",
            &["'192.168.0.1'", "'10.0.0.0/8'", "'::1'", "'2001:db8::1/64'", "'::ffff:1.2.3.4'", "'1:0:0:2:0:0:0:3'"],
        )
        .await?;
    inet.check(
        &default,
        &[
            string("192.168.0.1"),
            string("10.0.0.0/8"),
            string("::1"),
            string("2001:db8::1/64"),
            string("::ffff:1.2.3.4"),
            string("1:0:0:2::3"),
        ],
    )?;
    let cidr = db.column("cidr", &["'10.0.0.0/8'", "'2001:db8::/32'", "'192.168.0.1'"]).await?;
    cidr.check(&default, &[string("10.0.0.0/8"), string("2001:db8::/32"), string("192.168.0.1/32")])?;
    db.column("macaddr", &["'08:00:2B:01:02:03'"]).await?.check(&default, &[string("08:00:2b:01:02:03")])?;
    let macaddr8 = db.column("macaddr8", &["'08:00:2b:01:02:03:04:05'"]).await?;
    macaddr8.check(&default, &[string("08:00:2b:01:02:03:04:05")])?;

    // Bits: one bit is a boolean, more are little-endian bytes sized by the highest set bit.
    let bit1 = db.column("bit(1)", &["B'1'", "B'0'"]).await?;
    bit1.check(&default, &[Value::Boolean(true), Value::Boolean(false)])?;
    assert_schema(&bit1.schema(&default)?, Type::Boolean, None, &[]);
    let bit8 = db.column("bit(8)", &["B'10110011'", "B'00000000'", "B'00000001'"]).await?;
    bit8.check(&default, &[bytes(&[0xb3]), bytes(&[]), bytes(&[0x01])])?;
    assert_schema(&bit8.schema(&default)?, Type::Bytes, Some("io.debezium.data.Bits"), &[("length", "8")]);
    let varbit = db.column("varbit", &["B'101'", "B'1000000000'"]).await?;
    varbit.check(&default, &[bytes(&[0x05]), bytes(&[0x00, 0x02])])?;
    assert_schema(&varbit.schema(&default)?, Type::Bytes, Some("io.debezium.data.Bits"), &[("length", "2147483647")]);
    let varbit16 = db.column("varbit(16)", &["B'1'"]).await?;
    varbit16.check(&default, &[bytes(&[0x01])])?;

    let tsvector = db.column("tsvector", &["$$'a':1 'it''s':2A,3 fat:4B$$"]).await?;
    tsvector.check(&default, &[string("'a':1 'fat':4B 'it''s':2A,3")])?;
    assert_schema(&tsvector.schema(&default)?, Type::String, Some("io.debezium.data.Tsvector"), &[]);

    let point = db.column("point", &["'(1.5,-2)'", "point(0.1, 1e20)"]).await?;
    let schema = point.schema(&default)?;
    assert_schema(&schema, Type::Struct, Some(names::POINT), &[]);
    assert_eq!(schema.doc(), Some("Geometry (POINT)"));
    let fields: Vec<(&str, Type, bool)> =
        schema.fields().iter().map(|f| (f.name(), f.schema().schema_type(), f.schema().is_optional())).collect();
    assert_eq!(
        fields,
        [
            ("x", Type::Float64, false),
            ("y", Type::Float64, false),
            ("wkb", Type::Bytes, true),
            ("srid", Type::Int32, true)
        ]
    );
    let point_value = |x: f64, y: f64| -> Result<Value> {
        let mut wkb = vec![1, 1, 0, 0, 0];
        wkb.extend_from_slice(&x.to_le_bytes());
        wkb.extend_from_slice(&y.to_le_bytes());
        let values = vec![Value::Float64(x), Value::Float64(y), Value::Bytes(wkb.into()), Value::Null];
        Ok(Value::Struct(Struct::from_values(schema.clone(), values)?))
    };
    point.check(&default, &[point_value(1.5, -2.0)?, point_value(0.1, 1e20)?])?;

    db.column("int4range", &["'[1,10)'", "'(1,5]'", "'empty'", "'(,)'"])
        .await?
        .check(&default, &[string("[1,10)"), string("[2,6)"), string("empty"), string("(,)")])?;
    db.column("int8range", &["'(,100)'"]).await?.check(&default, &[string("(,100)")])?;
    db.column("numrange", &["'[1.5,2.50]'"]).await?.check(&default, &[string("[1.5,2.50]")])?;
    db.column("tsrange", &["'[2024-01-01 10:00,2024-01-02)'"])
        .await?
        .check(&default, &[string(r#"["2024-01-01 10:00:00","2024-01-02 00:00:00")"#)])?;
    db.column("tstzrange", &["'[2024-01-01 10:00:00.5+02,)'"])
        .await?
        .check(&default, &[string(r#"["2024-01-01 08:00:00.5+00",)"#)])?;
    let daterange = db.column("daterange", &["'[2024-01-01,2024-02-01]'", "'[-infinity,infinity)'"]).await?;
    daterange.check(&default, &[string("[2024-01-01,2024-02-02)"), string("[-infinity,infinity)")])?;
    assert_schema(&daterange.schema(&default)?, Type::String, None, &[]);

    let ltree = db.column("ltree", &["'Top.Science.Astronomy'"]).await?;
    ltree.check(&default, &[string("Top.Science.Astronomy")])?;
    assert_schema(&ltree.schema(&default)?, Type::String, Some("io.debezium.data.Ltree"), &[]);

    // hstore: PostgreSQL writes b, q, z; Java's HashMap iterates q (bucket 1), b (2), z (10).
    let hstore = db.column("hstore", &[r#"'"b"=>"2", "q"=>"x\"y\\z", "z"=>NULL'"#, "''"]).await?;
    hstore.check(&default, &[string(r#"{"q":"x\"y\\z","b":"2","z":null}"#), string("{}")])?;
    assert_schema(&hstore.schema(&default)?, Type::String, Some(names::JSON), &[]);
    let map = settings(|s| s.hstore = HstoreHandling::Map);
    hstore.check(
        &map,
        &[
            Value::Map(vec![(string("q"), string("x\"y\\z")), (string("b"), string("2")), (string("z"), Value::Null)]),
            Value::Map(vec![]),
        ],
    )?;
    let schema = hstore.schema(&map)?;
    assert_eq!(schema.schema_type(), Type::Map);
    assert_eq!(schema.key_schema().map(|k| k.is_optional()), Some(false));
    assert_eq!(schema.value_schema().map(|v| v.is_optional()), Some(true));
    Ok(())
}

#[tokio::test]
async fn arrays_enums_domains_and_unknown_types() -> Result<()> {
    let db = Db::start().await?;
    let default = TypeSettings::default();
    db.client
        .batch_execute(
            "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE DOMAIN price AS numeric(5,1); \
             CREATE DOMAIN short_text AS varchar(10) CHECK (VALUE <> '')",
        )
        .await?;

    let int4s = db.column("int4[]", &["'{1,2,NULL}'", "'{}'", "'{{1,2},{3,4}}'", "'[0:1]={7,8}'"]).await?;
    int4s.check(
        &default,
        &[
            Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Null]),
            Value::Array(vec![]),
            Value::Array([1, 2, 3, 4].map(Value::Int32).to_vec()),
            Value::Array(vec![Value::Int32(7), Value::Int32(8)]),
        ],
    )?;
    let schema = int4s.schema(&default)?;
    assert_eq!(schema.schema_type(), Type::Array);
    assert_eq!(schema.value_schema().map(|e| (e.schema_type(), e.is_optional())), Some((Type::Int32, true)));

    let texts = db.column("text[]", &[r#"'{"a b","c,d",NULL,"NULL","q\"uote",é}'"#]).await?;
    texts.check(
        &default,
        &[Value::Array(vec![
            string("a b"),
            string("c,d"),
            Value::Null,
            string("NULL"),
            string("q\"uote"),
            string("é"),
        ])],
    )?;
    let numerics = db.column("numeric(10,2)[]", &["'{1.5,-2}'"]).await?;
    numerics.check(&default, &[Value::Array(vec![dec(150), dec(-200)])])?;
    let element = numerics.schema(&default)?.value_schema().cloned().context("element schema")?;
    assert_schema(
        &element,
        Type::Bytes,
        Some(logical::DECIMAL),
        &[("scale", "2"), ("connect.decimal.precision", "10")],
    );
    let stamps = db.column("timestamptz[]", &[r#"'{"2024-02-29 12:00:00+02",infinity}'"#]).await?;
    stamps.check(&default, &[Value::Array(vec![string("2024-02-29T10:00:00.000000Z"), string("infinity")])])?;
    let byteas = db.column("bytea[]", &[r#"'{"\\x0102",NULL}'"#]).await?;
    byteas.check(&default, &[Value::Array(vec![bytes(&[1, 2]), Value::Null])])?;
    let misc = db.column("bool[]", &["'{t,f}'"]).await?;
    misc.check(&default, &[Value::Array(vec![Value::Boolean(true), Value::Boolean(false)])])?;
    let intervals = db.column("interval[]", &["'{\"1 day\"}'"]).await?;
    intervals.check(&default, &[Value::Array(vec![Value::Int64(86_400_000_000)])])?;

    // An enum: its label, with the labels in the schema's `allowed` parameter.
    let mood = db.column("mood", &["'ok'", "NULL"]).await?;
    mood.check(&default, &[string("ok"), Value::Null])?;
    assert_schema(&mood.schema(&default)?, Type::String, Some("io.debezium.data.Enum"), &[("allowed", "sad,ok,happy")]);
    let moods = db.column("mood[]", &["'{happy,sad}'"]).await?;
    moods.check(&default, &[Value::Array(vec![string("happy"), string("sad")])])?;

    // Domains map as their base type, with the domain's modifier.
    let price = db.column("price", &["12.34", "-0.5"]).await?;
    price.check(&default, &[dec(123), dec(-5)])?;
    assert_schema(
        &price.schema(&default)?,
        Type::Bytes,
        Some(logical::DECIMAL),
        &[("scale", "1"), ("connect.decimal.precision", "5")],
    );
    db.column("price[]", &["'{1.25}'"]).await?.check(&default, &[Value::Array(vec![dec(13)])])?;
    db.column("short_text", &["'abc'"]).await?.check(&default, &[string("abc")])?;

    // A type without a mapping is left out, or captured as its text's bytes; its binary form is not read.
    let boxes = db.column("box", &["'((0,0),(1,1))'"]).await?;
    match ColumnConverter::new(&boxes.ty, true, &default) {
        Err(TypeError::Unknown { name, .. }) => assert_eq!(name, "box"),
        other => bail!("a box column gives {other:?}"),
    }
    let include = settings(|s| s.include_unknown_datatypes = true);
    let converter = boxes.converter(&include)?;
    assert!(!converter.has_binary_form());
    let text = boxes.texts[0].clone().context("box text")?;
    assert_eq!(converter.text(text.as_bytes())?, bytes(b"(1,1),(0,0)"));
    let binary = boxes.binaries[0].clone().context("box binary")?;
    assert!(matches!(converter.binary(&binary), Err(TypeError::TextRequired { .. })));
    let box_arrays = db.column("box[]", &["ARRAY['((0,0),(1,1))'::box]"]).await?;
    assert!(matches!(ColumnConverter::new(&box_arrays.ty, true, &default), Err(TypeError::Unknown { .. })));
    Ok(())
}

#[tokio::test]
async fn unchanged_toast_placeholders() -> Result<()> {
    let db = Db::start().await?;
    db.client.batch_execute("CREATE EXTENSION hstore").await?;
    let default = TypeSettings::default();
    let placeholder = "__debezium_unavailable_value";
    let per_byte = |f: fn(u8) -> Value| Value::Array(placeholder.bytes().map(f).collect());
    let cases: Vec<(&str, Result<Value, ()>)> = vec![
        ("text", Ok(string(placeholder))),
        ("varchar(20)", Ok(string(placeholder))),
        ("jsonb", Ok(string(placeholder))),
        ("bytea", Ok(bytes(placeholder.as_bytes()))),
        ("text[]", Ok(Value::Array(vec![string(placeholder)]))),
        ("int4[]", Ok(per_byte(|b| Value::Int32(i32::from(b))))),
        ("int8[]", Ok(per_byte(|b| Value::Int64(i64::from(b))))),
        ("hstore", Ok(string(&format!(r#"{{"{placeholder}":"{placeholder}"}}"#)))),
        ("numeric(10,2)", Err(())),
        ("int4", Err(())),
    ];
    for (sql_type, expected) in cases {
        let column = db.column(sql_type, &[]).await?;
        let got = column.converter(&default)?.unavailable();
        match (&expected, &got) {
            (Ok(want), Ok(value)) if want == value => {}
            (Err(()), Err(TypeError::NoPlaceholder { .. })) => {}
            _ => bail!("{sql_type}: placeholder {got:?}, expected {expected:?}"),
        }
    }
    // Java: UUID.nameUUIDFromBytes("__debezium_unavailable_value".getBytes()).toString()
    let uuids = db.column("uuid[]", &[]).await?;
    let want = Value::Array(vec![string("b68a35a7-17ad-35b3-af2a-ae46edb4545a")]);
    assert_eq!(uuids.converter(&default)?.unavailable()?, want);
    let hex = settings(|s| {
        s.binary = BinaryHandling::Hex;
        s.unavailable_value_placeholder = Bytes::from_static(b"?");
    });
    assert_eq!(db.column("bytea", &[]).await?.converter(&hex)?.unavailable()?, string("?"));
    Ok(())
}
