//! A MySQL/MariaDB session on mysql_async: values bound as MySQL's own (integers, floats, bytes, dates and times),
//! the session in UTC and in strict mode (a value a column cannot hold is an error, not a warning and a changed
//! value); errors sorted by the server's error numbers.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, DriverError, OptsBuilder, Params, Value};
use tidemark_mysql::tls::{is_definite_tls_failure, MySqlTls};

use super::text::text;
use super::{Bracket, DbError, TableColumn, TableInfo};
use crate::config::SinkConfig;
use crate::temporal::{Clock, DateTime};
use crate::value::SqlValue;

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// What every connection runs first: UTC, so `DATETIME` values are the UTC instants written; strict mode for
/// every table.
const INIT: [&str; 2] = [
    "SET time_zone = '+00:00'",
    "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
];

/// The columns of a table of the current database.
const COLUMNS: &str = "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION";
/// Whether a table of the current database exists.
const TABLE: &str = "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?";

/// Server errors that refuse a row: NULL into NOT NULL (1048, 1263, 1364), duplicate keys (1062, 1169, 1586),
/// foreign keys (1216, 1217, 1451, 1452), values out of range or not of the column's type (1264, 1265, 1292, 1366,
/// 1367, 1406, 1411, 1690), invalid JSON (3140, and MariaDB's CHECK of JSON columns, 4025), CHECK constraints
/// (3819, 4025).
const REFUSED: &[u16] = &[
    1048, 1062, 1169, 1216, 1217, 1263, 1264, 1265, 1292, 1364, 1366, 1367, 1406, 1411, 1451, 1452, 1586, 1690, 3140,
    3819, 4025,
];
/// Server errors that may pass: too many connections (1040), shutdown (1053, 1077, 1079), lock wait timeout (1205),
/// deadlock (1213), interrupted or killed (1317, 1927), network errors (1158 to 1161).
const UNAVAILABLE: &[u16] = &[1040, 1053, 1077, 1079, 1158, 1159, 1160, 1161, 1205, 1213, 1317, 1927];

/// An open connection.
pub struct MySqlSession {
    conn: Conn,
}

impl MySqlSession {
    /// Connects as the settings say, with `tls`.
    pub async fn connect(config: &SinkConfig, tls: &MySqlTls) -> Result<Self, DbError> {
        let builder = OptsBuilder::default()
            .ip_or_hostname(config.url.host.clone())
            .tcp_port(config.url.port)
            .user(Some(config.username.clone()))
            .pass(Some(config.password.clone()))
            .db_name(config.url.database.clone())
            .prefer_socket(false)
            .init(INIT.to_vec());
        let opts = tls.connect_opts(builder);
        match tokio::time::timeout(CONNECT_TIMEOUT, opts.connect()).await {
            Ok(connected) => Ok(MySqlSession { conn: connected.map_err(classify)? }),
            Err(_) => Err(DbError::Unavailable(format!("connecting to {} timed out", config.url.address()))),
        }
    }

    /// Runs SQL without parameters.
    pub async fn run(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.query_drop(sql).await.map_err(classify)
    }

    /// Runs a statement with `params`, bracketed as `bracket` says (each part a round trip of its own); answers the
    /// rows it changed.
    pub async fn execute(&mut self, sql: &str, params: &[&SqlValue], bracket: Bracket) -> Result<u64, DbError> {
        if bracket.begin {
            self.run("START TRANSACTION").await?;
        }
        let values: Vec<Value> = params.iter().map(|value| bind(value)).collect();
        self.conn.exec_drop(sql, Params::Positional(values)).await.map_err(classify)?;
        let changed = self.conn.affected_rows();
        if bracket.commit {
            self.run("COMMIT").await?;
        }
        Ok(changed)
    }

    /// The table `name` of the current database, `None` when there is none.
    pub async fn table(&mut self, name: &str) -> Result<Option<TableInfo>, DbError> {
        let exists: Option<u64> = self.conn.exec_first(TABLE, (name,)).await.map_err(classify)?;
        if exists.unwrap_or(0) == 0 {
            return Ok(None);
        }
        let rows: Vec<(String, String)> = self.conn.exec(COLUMNS, (name,)).await.map_err(classify)?;
        let columns = rows.into_iter().map(|(name, sql_type)| TableColumn { name, sql_type }).collect();
        Ok(Some(TableInfo { columns }))
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        if let Err(error) = self.conn.disconnect().await {
            tracing::debug!(%error, "closing a MySQL sink connection");
        }
    }
}

/// The MySQL value of a [`SqlValue`]; dates outside MySQL's years go as text, for the server to refuse.
fn bind(value: &SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::NULL,
        SqlValue::Bool(b) => Value::Int(i64::from(*b)),
        SqlValue::Int(v) | SqlValue::Duration(v) => Value::Int(*v),
        SqlValue::Float32(v) => Value::Float(*v),
        SqlValue::Float64(v) => Value::Double(*v),
        SqlValue::Numeric(s) | SqlValue::Text(s) => Value::Bytes(s.clone().into_bytes()),
        SqlValue::Bytes(b) => Value::Bytes(b.to_vec()),
        SqlValue::Date(days) => date_time(DateTime::from_days(*days)).unwrap_or_else(|| as_text(value)),
        SqlValue::Timestamp(micros) | SqlValue::TimestampTz(micros) => {
            date_time(DateTime::from_micros(*micros)).unwrap_or_else(|| as_text(value))
        }
        SqlValue::Time(micros) | SqlValue::TimeTz(micros) => {
            time(Clock::from_micros(*micros)).unwrap_or_else(|| as_text(value))
        }
        // Arrays have no MySQL column (`Kind::of` refuses them); their text is the closest there is.
        SqlValue::Array(_) => as_text(value),
    }
}

fn as_text(value: &SqlValue) -> Value {
    Value::Bytes(text(value).into_bytes())
}

/// `Value::Date` of the parts, `None` outside years 0 to 9999.
fn date_time(parts: DateTime) -> Option<Value> {
    let year = u16::try_from(parts.year).ok().filter(|y| *y <= 9999)?;
    let clock = Clock::from_micros(parts.micros);
    Some(Value::Date(
        year,
        u8::try_from(parts.month).ok()?,
        u8::try_from(parts.day).ok()?,
        u8::try_from(clock.hours).ok()?,
        clock.minutes,
        clock.seconds,
        clock.micros,
    ))
}

/// `Value::Time` of the parts (hours past a day as days), `None` past what the protocol holds.
fn time(clock: Clock) -> Option<Value> {
    let days = u32::try_from(clock.hours / 24).ok()?;
    Some(Value::Time(clock.negative, days, (clock.hours % 24) as u8, clock.minutes, clock.seconds, clock.micros))
}

/// A mysql_async error sorted by what the sink does about it (see [`REFUSED`] and [`UNAVAILABLE`]); 1045 and 1698
/// are a refused login, 1044 and 1049 a database that cannot be used; a lost connection may pass.
pub fn classify(error: mysql_async::Error) -> DbError {
    match &error {
        mysql_async::Error::Server(server) => {
            let message = format!("{} (MySQL error {}, SQLSTATE {})", server.message, server.code, server.state);
            match server.code {
                code if REFUSED.contains(&code) => DbError::Refused(message),
                code if UNAVAILABLE.contains(&code) => DbError::Unavailable(message),
                1045 | 1698 => DbError::Login(message),
                1044 | 1049 => DbError::Database(message),
                _ => DbError::Failed(message),
            }
        }
        // A TLS failure that connecting again cannot mend (a certificate refused, no TLS on the server) is final.
        _ if is_definite_tls_failure(&error) => DbError::Failed(error.to_string()),
        mysql_async::Error::Io(_)
        | mysql_async::Error::Driver(
            DriverError::ConnectionClosed | DriverError::PacketOutOfOrder | DriverError::UnexpectedPacket { .. },
        ) => DbError::Unavailable(error.to_string()),
        _ => DbError::Failed(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_debezium::calendar::days_from_civil;

    use crate::temporal::MICROS_PER_DAY;

    #[test]
    fn values_bind_as_mysqls_own() {
        let noon = days_from_civil(2024, 2, 29) * MICROS_PER_DAY + 12 * 3_600_000_000 + 5;
        assert_eq!(bind(&SqlValue::TimestampTz(noon)), Value::Date(2024, 2, 29, 12, 0, 0, 5));
        assert_eq!(bind(&SqlValue::Date(0)), Value::Date(1970, 1, 1, 0, 0, 0, 0));
        let ancient = days_from_civil(-5, 1, 1);
        assert_eq!(bind(&SqlValue::Date(ancient)), Value::Bytes(b"0006-01-01 BC".to_vec()));
        assert_eq!(bind(&SqlValue::Time(-(25 * 3_600_000_000 + 1))), Value::Time(true, 1, 1, 0, 0, 1));
        assert_eq!(bind(&SqlValue::Bool(true)), Value::Int(1));
        assert_eq!(bind(&SqlValue::Numeric("-1.50".into())), Value::Bytes(b"-1.50".to_vec()));
        assert_eq!(bind(&SqlValue::Null), Value::NULL);
    }
}
