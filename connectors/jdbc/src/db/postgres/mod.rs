//! A Postgres session on tokio-postgres: every parameter is bound as text ([`TextParam`]), which the server parses
//! by the type it infers for the parameter from the column it goes to; errors sorted by SQLSTATE. Many rows at once
//! go through COPY ([`bulk`]).

pub mod bulk;
mod copy_text;

use std::collections::HashMap;
use std::error::Error as _;
use std::time::Duration;

use bytes::BytesMut;
use tidemark_postgres::tls::{is_definite_tls_failure, PgTls};
use tokio_postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};
use tokio_postgres::{Client, Statement};

use super::text::write_text;
use super::{Bracket, DbError, TableColumn, TableInfo};
use crate::config::SinkConfig;
use crate::value::SqlValue;

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The columns of a table in the search path, with their types as casts name them; no rows when there is no such
/// table, one row with NULLs for a table without columns.
const COLUMNS: &str = "SELECT a.attname::text, format_type(a.atttypid, NULL) FROM pg_class c \
     LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
     WHERE c.oid = to_regclass($1) ORDER BY a.attnum";

/// Statements kept prepared per connection; past this many, the cache starts afresh.
const PREPARED_STATEMENTS: usize = 64;

/// An open connection.
pub struct PgSession {
    client: Client,
    /// Statements prepared on this connection by their SQL text: preparing a multi-row statement again for every
    /// batch costs the server about as much as writing its rows.
    prepared: HashMap<String, Statement>,
    /// The tables whose direct COPY of upserted rows met an existing key, for [`bulk`].
    bulk: bulk::BulkState,
}

impl PgSession {
    /// Connects as the settings say, with `tls`; the connection's I/O runs on a task of its own until the session is
    /// dropped.
    pub async fn connect(config: &SinkConfig, tls: &PgTls) -> Result<Self, DbError> {
        let mut settings = tokio_postgres::Config::new();
        settings
            .host(&config.url.host)
            .port(config.url.port)
            .user(&config.username)
            .password(&config.password)
            .dbname(config.url.database.as_deref().unwrap_or(&config.username))
            .application_name("tidemark-jdbc-sink")
            .connect_timeout(CONNECT_TIMEOUT);
        let (client, connection) = tls.connect_sql(&settings).await.map_err(classify)?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a Postgres sink connection ended");
            }
        });
        Ok(PgSession { client, prepared: HashMap::new(), bulk: bulk::BulkState::default() })
    }

    /// Runs SQL without parameters.
    pub async fn run(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).await.map_err(classify)
    }

    /// Runs a statement with `params`, sent together with the transaction control `bracket` asks for; answers the
    /// rows it changed.
    pub async fn execute(&mut self, sql: &str, params: &[&SqlValue], bracket: Bracket) -> Result<u64, DbError> {
        let statement = self.statement(sql).await.map_err(classify)?;
        let client = &self.client;
        // Each request goes out when its future is first polled, and `join!` polls them in this order.
        let (begun, executed, committed) = tokio::join!(
            control(client, bracket.begin, "START TRANSACTION"),
            client.execute_raw(&statement, params.iter().map(|value| TextParam(value))),
            control(client, bracket.commit, "COMMIT"),
        );
        if executed.is_err() {
            self.forget_statement(sql);
        }
        begun.and(executed).and_then(|changed| committed.map(|()| changed)).map_err(classify)
    }

    /// The statement of `sql`, prepared on this connection once.
    async fn statement(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await?;
        if self.prepared.len() >= PREPARED_STATEMENTS {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Drops the prepared statement of `sql` after it failed: a table changed or dropped under it must be prepared
    /// afresh next time.
    fn forget_statement(&mut self, sql: &str) {
        self.prepared.remove(sql);
    }

    /// The table `name` (in the search path), `None` when there is none.
    pub async fn table(&mut self, name: &str) -> Result<Option<TableInfo>, DbError> {
        let quoted = crate::dialect::Dialect::Postgres.quote(name);
        let rows = self.client.query(COLUMNS, &[&quoted]).await.map_err(classify)?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut columns = Vec::with_capacity(rows.len());
        for row in rows {
            let name: Option<String> = row.try_get(0).map_err(classify)?;
            let sql_type: Option<String> = row.try_get(1).map_err(classify)?;
            if let (Some(name), Some(sql_type)) = (name, sql_type) {
                columns.push(TableColumn { name, sql_type });
            }
        }
        Ok(Some(TableInfo { columns }))
    }
}

/// Runs the transaction control statement `sql` when `send` says so. Pipelined after a statement that fails, `COMMIT`
/// ends the aborted transaction as a rollback (the server answers it with `ROLLBACK`, not an error).
async fn control(client: &Client, send: bool, sql: &str) -> Result<(), tokio_postgres::Error> {
    if send {
        client.batch_execute(sql).await
    } else {
        Ok(())
    }
}

/// A parameter bound in Postgres's text form, whatever the type the server expects.
#[derive(Debug)]
struct TextParam<'a>(&'a SqlValue);

impl ToSql for TextParam<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        if *self.0 == SqlValue::Null {
            return Ok(IsNull::Yes);
        }
        write_text(out, self.0)?;
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, _: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// A tokio-postgres error sorted by what the sink does about it: SQLSTATE classes 22 (data exception) and 23
/// (integrity constraint violation) refuse a row; 08 (connection), 40 (rollbacks such as deadlocks), 53
/// (resources), 57P (shutdown) and 55P03 (lock not available) may pass; 28 is a refused login, 3D000 a missing
/// database; a failure without a SQLSTATE is the connection's.
pub fn classify(error: tokio_postgres::Error) -> DbError {
    let Some(db) = error.as_db_error() else {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !message.contains(&cause_text) {
                message.push_str(&format!(": {cause_text}"));
            }
            source = cause.source();
        }
        // A TLS failure that connecting again cannot mend (a certificate refused, no TLS on the server) is final.
        return if is_definite_tls_failure(&error) { DbError::Failed(message) } else { DbError::Unavailable(message) };
    };
    let code = db.code().code();
    let mut message = format!("{} (SQLSTATE {code})", db.message());
    if let Some(detail) = db.detail() {
        message.push_str(&format!("; {detail}"));
    }
    let class = &code[..code.len().min(2)];
    match class {
        "22" | "23" => DbError::Refused(message),
        "08" | "40" | "53" => DbError::Unavailable(message),
        "57" if code.starts_with("57P") => DbError::Unavailable(message),
        "55" if code == "55P03" => DbError::Unavailable(message),
        "28" => DbError::Login(message),
        "3D" => DbError::Database(message),
        _ => DbError::Failed(message),
    }
}
