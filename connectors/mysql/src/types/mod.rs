//! MySQL and MariaDB column types in Kafka Connect's data model, as Debezium's MySQL connector maps them
//! (`MySqlValueConverters` over `JdbcValueConverters`, Debezium 2.x and 3.x): a column's description from
//! information_schema ([`ColumnDef::from_information_schema`], [`load_table_columns`]) or from a binlog table map
//! ([`ColumnDef::from_table_map`]), which give the same [`ColumnDef`] for the same table; and a
//! [`ColumnConverter`] per column that gives its Connect schema and turns its values into Debezium's
//! representation, from a binlog row image ([`ColumnConverter::binlog`]) or the text protocol of a snapshot
//! ([`ColumnConverter::text`]), the same Connect value for the same stored value.
//!
//! # The mapping
//! The schema is optional when the column accepts NULL.
//! - BOOLEAN/TINYINT (signed or not) and SMALLINT: INT16; SMALLINT UNSIGNED, MEDIUMINT (either) and INT: INT32;
//!   INT UNSIGNED and BIGINT: INT64. BIGINT UNSIGNED under `bigint.unsigned.handling.mode=long` (the default):
//!   INT64, values above 2^63-1 wrapping to negative numbers as Java's `long` does (18446744073709551615 is -1);
//!   `precise`: `org.apache.kafka.connect.data.Decimal` with `scale` 0 and `connect.decimal.precision` 20.
//! - DECIMAL(p,s): `Decimal` with `scale` s and `connect.decimal.precision` p; `decimal.handling.mode=double`:
//!   FLOAT64; `string`: STRING as Java's `BigDecimal.toString()` (`1E-8`).
//! - FLOAT: FLOAT32; DOUBLE: FLOAT64.
//! - BIT(1): BOOLEAN; BIT(n): BYTES `io.debezium.data.Bits` with `length` n, little-endian in (n + 7) / 8 bytes.
//! - CHAR, VARCHAR, the TEXT types (and MariaDB's JSON, which is LONGTEXT): STRING, decoded from the column's
//!   character set (utf8mb4, utf8mb3, ascii, latin1, ucs2, utf16, utf16le, utf32; others are left out).
//! - BINARY (zero-padded to its length), VARBINARY, the BLOB types: BYTES, or a STRING in base64, URL-safe
//!   base64 or hex (`binary.handling.mode`).
//! - DATE: INT32 days `io.debezium.time.Date` (`time.precision.mode=connect`: Kafka's `Date`).
//! - TIME(fsp): INT64 µs `io.debezium.time.MicroTime` under `adaptive_time_microseconds` (the default), negative
//!   values and values beyond 24 hours included; `adaptive`: INT32 ms `io.debezium.time.Time` for fsp 0 to 3
//!   (Java's int cast: beyond ±596 hours the value wraps, as in Debezium), MicroTime for 4 to 6; `connect`:
//!   Kafka's `Time` (ms), a value outside the day is [`TypeError::OutOfRange`].
//! - DATETIME(0..3): INT64 ms `io.debezium.time.Timestamp`; DATETIME(4..6): INT64 µs
//!   `io.debezium.time.MicroTimestamp`; `connect`: Kafka's `Timestamp` (ms). The wall clock is read as UTC.
//! - TIMESTAMP(fsp): STRING `io.debezium.time.ZonedTimestamp`, UTC ISO-8601 with exactly fsp fraction digits
//!   (none for 0) and `Z`, in every mode.
//! - YEAR: INT32 `io.debezium.time.Year`.
//! - MySQL's JSON: STRING `io.debezium.data.Json`, in the compact form Debezium's binlog reader writes
//!   (the `json` module has the details).
//! - ENUM: STRING `io.debezium.data.Enum` with `allowed` (the values joined by commas); SET: STRING
//!   `io.debezium.data.EnumSet` with `allowed`, the value the members joined by commas.
//! - GEOMETRY, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION: STRUCT
//!   `io.debezium.data.geometry.Geometry` {wkb BYTES, srid INT32?}; POINT: STRUCT `io.debezium.data.geometry.Point`
//!   {x, y FLOAT64, wkb BYTES?, srid INT32?}, as Debezium's code maps it. The SRID is the stored value's first 4
//!   bytes (little-endian), null for 0.
//! - Zero dates (`0000-00-00`, and any with a zero year, month or day), zero datetimes and the zero TIMESTAMP: null
//!   when the column is optional, else Debezium's fallback: 0 (the epoch) and `1970-01-01T00:00:00Z`.
//! - With `enable.time.adjuster` (the default), DATE and DATETIME years 1 to 69 are 2001 to 2069 and 70 to 99 are
//!   1970 to 1999, as in Debezium.
//! - Anything else (MariaDB's UUID, INET4, INET6; VECTOR): [`MySqlType::Unsupported`], left out.
//!
//! # Where this differs from Debezium, on purpose
//! Debezium's snapshot (JDBC) and streaming (binlog client) paths disagree on a few values; here both paths follow
//! one rule:
//! - FLOAT(M,D) is FLOAT32 like every FLOAT (Debezium: FLOAT64), since a table map cannot tell it from FLOAT.
//! - A DATE or DATETIME with year 0 but a month and day (`0000-01-01`) is a zero date, as in Debezium's binlog path
//!   (its snapshot reads it as year 0).
//! - YEAR `0000` is 0 (Debezium's binlog path makes it 1900, its snapshot null).
//! - latin1's five unassigned bytes are the C1 controls MySQL maps them to (Java's Windows-1252 makes them U+FFFD).
//! - JSON: MySQL's text of a snapshot is rewritten in the binlog's compact form (Debezium passes it through with
//!   MySQL's spaces); a DECIMAL inside a JSON value is written as a double.
//! - The snapshot's `SELECT *` gets FLOAT values rounded to 6 significant digits by the server (so does
//!   Debezium's); [`ColumnDef::select_expression`] reads them exactly.
//! - TIME under `time.precision.mode=connect` holds 00:00:00 to 23:59:59.999 (Debezium also takes 24:00:00).

mod binlog_value;
mod catalog;
mod charset;
mod converter;
mod datum;
mod error;
mod from_table_map;
mod information_schema;
mod json;
mod mysql_type;
mod represent;
mod schema;
mod settings;
mod temporal;
mod text_value;

pub use catalog::{load_table_columns, COLUMNS_QUERY, PRIMARY_KEY_QUERY};
pub use charset::Charset;
pub use converter::ColumnConverter;
pub use error::{CatalogError, TypeError};
pub use information_schema::InformationSchemaColumn;
pub use mysql_type::{ColumnDef, GeometryKind, LobSize, MySqlType};
pub use settings::{
    type_config_keys, BigIntUnsignedHandling, BinaryHandling, DecimalHandling, TimePrecision, TypeSettings,
};
pub use tidemark_debezium::names;
