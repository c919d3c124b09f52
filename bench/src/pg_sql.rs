//! A blocking SQL client for the `pg` and `sink` benchmarks (tokio-postgres on a runtime of its own, as
//! [`crate::connect_api`] does for REST), and the few statements they need: replication slots, LSNs, binary COPY
//! read to nowhere (the snapshot's reference), COPY from the benchmark and statements with text parameters (the
//! sink's references).

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use tokio_postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};
use tokio_postgres::{Client, NoTls, Statement};

/// How long a slot may stay in use by a stopping reader before dropping it gives up.
const SLOT_RELEASE_TIMEOUT: Duration = Duration::from_secs(30);

/// How much COPY data goes into one CopyData message.
const COPY_CHUNK: usize = 1 << 20;

/// One ordinary connection to the benchmark's Postgres.
pub struct Sql {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl Sql {
    /// Connects with a key=value connection string.
    pub fn connect(connection_string: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("creating the SQL client's runtime")?;
        let (client, connection) =
            runtime.block_on(tokio_postgres::connect(connection_string, NoTls)).context("connecting to Postgres")?;
        // The connection makes progress whenever a call below blocks on the runtime.
        runtime.spawn(async move {
            if let Err(error) = connection.await {
                eprintln!("bench: the SQL connection ended: {error}");
            }
        });
        Ok(Self { runtime, client })
    }

    /// Runs statements (simple query protocol, no results).
    pub fn execute(&self, sql: &str) -> Result<()> {
        self.runtime.block_on(self.client.batch_execute(sql)).with_context(|| format!("running {sql:?}"))
    }

    /// The first column of the first row of `sql`, as text (simple query protocol); `None` for no row or NULL.
    pub fn value(&self, sql: &str) -> Result<Option<String>> {
        let messages =
            self.runtime.block_on(self.client.simple_query(sql)).with_context(|| format!("running {sql:?}"))?;
        Ok(messages
            .iter()
            .find_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_owned)),
                _ => None,
            })
            .flatten())
    }

    /// Prepares a statement for [`Sql::run`].
    pub fn prepare(&self, sql: &str) -> Result<Statement> {
        self.runtime.block_on(self.client.prepare(sql)).with_context(|| format!("preparing {sql:?}"))
    }

    /// Runs a prepared statement (autocommit: one transaction).
    pub fn run(&self, statement: &Statement, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.runtime.block_on(self.client.execute(statement, params)).context("running a prepared statement")
    }

    /// The server's current WAL insert position (`pg_current_wal_lsn()`), as Postgres prints it.
    pub fn current_lsn(&self) -> Result<String> {
        self.value("SELECT pg_current_wal_lsn()")?.context("no current WAL position")
    }

    /// Bytes of WAL between two positions.
    pub fn wal_bytes(&self, from: &str, to: &str) -> Result<u64> {
        let sql = format!("SELECT pg_wal_lsn_diff('{to}', '{from}')::bigint");
        let text = self.value(&sql)?.context("no WAL difference")?;
        text.parse().with_context(|| format!("not a byte count: {text}"))
    }

    /// Creates a logical slot of pgoutput, positioned at the current end of WAL.
    pub fn create_slot(&self, slot: &str) -> Result<()> {
        self.execute(&format!("SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput')"))
    }

    /// Whether a slot exists and a reader is streaming from it.
    pub fn slot_active(&self, slot: &str) -> Result<bool> {
        let sql = format!("SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'");
        Ok(self.value(&sql)?.as_deref() == Some("t"))
    }

    /// Drops a slot once its reader has let go of it (a stopping reader may hold it for a moment); nothing when
    /// it does not exist.
    pub fn drop_slot(&self, slot: &str) -> Result<()> {
        let deadline = Instant::now() + SLOT_RELEASE_TIMEOUT;
        loop {
            let sql = format!("SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'");
            match self.value(&sql)?.as_deref() {
                None => return Ok(()),
                Some("f") => return self.execute(&format!("SELECT pg_drop_replication_slot('{slot}')")),
                _ if Instant::now() > deadline => bail!("slot {slot} still in use after {SLOT_RELEASE_TIMEOUT:?}"),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Runs `COPY ... TO STDOUT` and throws the data away; answers the bytes received.
    pub fn copy_to_nowhere(&self, copy: &str) -> Result<u64> {
        self.runtime.block_on(async {
            let stream = self.client.copy_out(copy).await.with_context(|| format!("starting {copy:?}"))?;
            let mut stream = std::pin::pin!(stream);
            let mut bytes = 0u64;
            while let Some(chunk) = stream.next().await {
                bytes += chunk.context("reading COPY data")?.len() as u64;
            }
            Ok(bytes)
        })
    }

    /// Runs `COPY ... FROM STDIN` with `data` (sent in 1 MiB messages); answers the rows copied.
    pub fn copy_in(&self, copy: &str, data: &Bytes) -> Result<u64> {
        self.runtime.block_on(async {
            let sink = self.client.copy_in::<_, Bytes>(copy).await.with_context(|| format!("starting {copy:?}"))?;
            let mut sink = std::pin::pin!(sink);
            let mut at = 0;
            while at < data.len() {
                let end = (at + COPY_CHUNK).min(data.len());
                sink.send(data.slice(at..end)).await.context("sending COPY data")?;
                at = end;
            }
            sink.as_mut().finish().await.with_context(|| format!("finishing {copy:?}"))
        })
    }

    /// Prepares `sql` and runs it with every parameter bound in text form, whatever its type, as the JDBC sink's
    /// Postgres session does (one prepare and one execute per call); answers the rows changed.
    pub fn execute_text(&self, sql: &str, params: &[&str]) -> Result<u64> {
        let statement = self.prepare(sql)?;
        self.run_text(&statement, params)
    }

    /// Runs a prepared statement with every parameter bound in text form; answers the rows changed.
    pub fn run_text(&self, statement: &Statement, params: &[&str]) -> Result<u64> {
        let params = params.iter().map(|p| Text(p));
        self.runtime.block_on(self.client.execute_raw(statement, params)).context("running a statement")
    }
}

/// A parameter in Postgres's text form: the server parses it by the type it inferred for the parameter.
#[derive(Debug)]
struct Text<'a>(&'a str);

impl ToSql for Text<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
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
