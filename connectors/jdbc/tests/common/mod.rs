//! What the sink's tests share: a real database per test ([`Db`]: Postgres or MariaDB started by the harness), the
//! connector config for it, queries answering text, and Debezium change events and flat records to put.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, ensure, Result};
use mysql_async::prelude::Queryable;
use tidemark_connect::connector::{Connector, Rejected, SinkConnector, SinkRecord, SinkTask};
use tidemark_connect::data::{SchemaBuilder, SchemaRef, Struct, Value};
use tidemark_connect::record::ConnectRecord;
use tidemark_jdbc::JdbcSinkConnector;
use tidemark_tests::mariadb::MariaDbServer;
use tidemark_tests::postgres::PostgresServer;
use tidemark_tests::tls::Certificates;

/// A database to sink into, with a connection the test checks the tables through.
pub enum Db {
    /// Postgres, database `postgres`.
    Postgres { server: PostgresServer, client: tokio_postgres::Client },
    /// MariaDB, database `sink` (the `tidemark` user may do anything in it).
    MariaDb { server: MariaDbServer, conn: mysql_async::Conn },
}

impl Db {
    /// A fresh Postgres server.
    pub async fn postgres() -> Result<Db> {
        Self::postgres_on(tokio::task::spawn_blocking(PostgresServer::start).await??).await
    }

    /// A fresh Postgres server that takes TCP logins over TLS only, serving `certificates`' server certificate (the
    /// test's own session goes through the Unix socket).
    pub async fn postgres_tls(certificates: &Certificates) -> Result<Db> {
        let certificates = certificates.clone();
        Self::postgres_on(tokio::task::spawn_blocking(move || PostgresServer::start_tls(&certificates)).await??).await
    }

    async fn postgres_on(server: PostgresServer) -> Result<Db> {
        let (client, connection) = tokio_postgres::connect(&server.connection_string(), tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        // Instants read back as text in UTC.
        client.batch_execute("SET TIME ZONE 'UTC'").await?;
        Ok(Db::Postgres { server, client })
    }

    /// A fresh MariaDB server with the database `sink`.
    pub async fn mariadb() -> Result<Db> {
        Self::mariadb_on(MariaDbServer::start, None).await
    }

    /// A fresh MariaDB server with the database `sink` that serves `certificates`' server certificate and refuses
    /// TCP connections without TLS (the test's own session trusts their CA).
    pub async fn mariadb_tls(certificates: &Certificates) -> Result<Db> {
        let ssl = mysql_async::SslOpts::default().with_root_certs(vec![certificates.ca.clone().into()]);
        let certificates = certificates.clone();
        Self::mariadb_on(move || MariaDbServer::start_tls(&certificates, true), Some(ssl)).await
    }

    async fn mariadb_on(
        start: impl FnOnce() -> Result<MariaDbServer> + Send + 'static,
        ssl: Option<mysql_async::SslOpts>,
    ) -> Result<Db> {
        let server = tokio::task::spawn_blocking(|| {
            let server = start()?;
            server.root_sql("CREATE DATABASE sink; GRANT ALL ON sink.* TO 'tidemark'@'%';")?;
            Ok::<_, anyhow::Error>(server)
        })
        .await??;
        let url = format!("{}sink", server.url());
        let opts = mysql_async::OptsBuilder::from_opts(mysql_async::Opts::from_url(&url)?).ssl_opts(ssl);
        let conn = mysql_async::Conn::new(opts).await?;
        Ok(Db::MariaDb { server, conn })
    }

    /// Whether this is Postgres.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres { .. })
    }

    /// `connection.url`.
    pub fn url(&self) -> String {
        match self {
            Db::Postgres { server, .. } => {
                format!("jdbc:postgresql://{}:{}/{}", server.host, server.port, server.dbname)
            }
            Db::MariaDb { server, .. } => format!("jdbc:mariadb://{}:{}/sink", server.host, server.port),
        }
    }

    /// The sink's config for this database, plus `extra`.
    pub fn props(&self, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let (user, password) = match self {
            Db::Postgres { server, .. } => (server.user.clone(), server.password.clone()),
            Db::MariaDb { server, .. } => (server.user.clone(), server.password.clone()),
        };
        let mut props: BTreeMap<String, String> = [
            ("name", "jdbc-sink".to_owned()),
            ("connector.class", "io.debezium.connector.jdbc.JdbcSinkConnector".to_owned()),
            ("topics.regex", ".*".to_owned()),
            ("connection.url", self.url()),
            ("connection.username", user),
            ("connection.password", password),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        props
    }

    /// Runs SQL statements (`;`-separated).
    pub async fn run(&mut self, sql: &str) -> Result<()> {
        match self {
            Db::Postgres { client, .. } => client.batch_execute(sql).await?,
            Db::MariaDb { conn, .. } => conn.query_drop(sql).await?,
        }
        Ok(())
    }

    /// The rows of a query, every value as text (`None` for NULL).
    pub async fn rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        match self {
            Db::Postgres { client, .. } => {
                let mut rows = Vec::new();
                for message in client.simple_query(sql).await? {
                    if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
                        rows.push((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect());
                    }
                }
                Ok(rows)
            }
            Db::MariaDb { conn, .. } => {
                // The text protocol: every value is its text.
                let rows: Vec<mysql_async::Row> = conn.query(sql).await?;
                rows.into_iter()
                    .map(|row| {
                        row.unwrap()
                            .into_iter()
                            .map(|value| match value {
                                mysql_async::Value::NULL => Ok(None),
                                mysql_async::Value::Bytes(bytes) => Ok(Some(String::from_utf8(bytes)?)),
                                other => Err(anyhow!("a text protocol value that is not text: {other:?}")),
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// The rows of a query as `|`-joined text lines (`NULL` for NULL), for compact assertions.
    pub async fn lines(&mut self, sql: &str) -> Result<Vec<String>> {
        let rows = self.rows(sql).await?;
        Ok(rows
            .into_iter()
            .map(|row| row.into_iter().map(|v| v.unwrap_or_else(|| "NULL".to_owned())).collect::<Vec<_>>().join("|"))
            .collect())
    }

    /// The type of each column of `table` (`information_schema.columns.data_type`), by column name.
    pub async fn column_types(&mut self, table: &str) -> Result<BTreeMap<String, String>> {
        let schema = if self.is_postgres() { "current_schema()" } else { "DATABASE()" };
        let rows = self
            .rows(&format!(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns \
                 WHERE table_schema = {schema} AND table_name = '{table}'"
            ))
            .await?;
        rows.into_iter()
            .map(|row| match row.as_slice() {
                [Some(name), Some(kind), Some(nullable)] => {
                    let null = if nullable == "YES" { "" } else { " not null" };
                    Ok((name.clone(), format!("{}{null}", kind.to_lowercase())))
                }
                other => bail!("unexpected column row {other:?}"),
            })
            .collect()
    }

    /// The primary key columns of `table`, in order.
    pub async fn primary_key(&mut self, table: &str) -> Result<Vec<String>> {
        let sql = if self.is_postgres() {
            format!(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
                 AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '{table}'::regclass AND i.indisprimary \
                 ORDER BY array_position(i.indkey, a.attnum)"
            )
        } else {
            format!(
                "SELECT column_name FROM information_schema.key_column_usage WHERE table_schema = DATABASE() \
                 AND table_name = '{table}' AND constraint_name = 'PRIMARY' ORDER BY ordinal_position"
            )
        };
        self.lines(&sql).await
    }

    /// Postgres: the transactions of the database rolled back so far, read once the sink's connections have ended
    /// (a backend reports its counts when it exits).
    pub async fn rolled_back_transactions(&mut self) -> Result<i64> {
        let sinks = "SELECT pid FROM pg_stat_activity WHERE application_name = 'tidemark-jdbc-sink'";
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self.lines(sinks).await?.is_empty() {
            ensure!(tokio::time::Instant::now() < deadline, "the sink's connections did not end");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let counts =
            self.lines("SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()").await?;
        Ok(counts.first().ok_or_else(|| anyhow!("no statistics of the database"))?.parse()?)
    }

    /// Ends the sink's connections from the server's side (as a restart or a network failure would) and waits until
    /// they are gone.
    pub async fn kill_sink_connections(&mut self) -> Result<()> {
        let (list, kill) = if self.is_postgres() {
            (
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'tidemark-jdbc-sink'",
                "SELECT pg_terminate_backend(",
            )
        } else {
            (
                "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'tidemark' AND ID <> CONNECTION_ID()",
                "KILL (",
            )
        };
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let ids = self.lines(list).await?;
            if ids.is_empty() {
                return Ok(());
            }
            ensure!(tokio::time::Instant::now() < deadline, "the sink's connections {ids:?} did not end");
            for id in ids {
                // A connection may end between the listing and the kill.
                let _ = self.run(&format!("{kill}{id})")).await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// A started task of the connector for `props`, as the runtime starts one.
pub async fn start_task(props: &BTreeMap<String, String>) -> Result<Box<dyn SinkTask>> {
    let connector = JdbcSinkConnector;
    let config = connector.task_configs(props, 1).remove(0);
    let mut task = connector.create_task(&config)?;
    task.start().await?;
    Ok(task)
}

/// Puts a batch and flushes, as the runtime does; answers the rejected records.
pub async fn put(task: &mut Box<dyn SinkTask>, batch: &[SinkRecord]) -> Result<Vec<Rejected>> {
    let rejected = task.put(batch).await?;
    task.flush().await?;
    Ok(rejected)
}

/// The schemas of one source table's change events.
pub struct Table {
    /// The topic.
    pub topic: String,
    /// The key struct's schema.
    pub key: SchemaRef,
    /// The row's schema.
    pub row: SchemaRef,
    /// The envelope's schema.
    pub envelope: SchemaRef,
}

impl Table {
    /// A table on `topic` keyed by the `key` fields of `row` (which must come first in it).
    pub fn new(topic: &str, row: SchemaBuilder, key: &[&str]) -> Result<Table> {
        let row = row.name(format!("{topic}.Value")).optional().build()?;
        let mut key_schema = SchemaBuilder::struct_().name(format!("{topic}.Key"));
        for name in key {
            let field = row.field(name).ok_or_else(|| anyhow!("no key field {name}"))?;
            key_schema = key_schema.field(*name, field.schema().clone());
        }
        let source = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Source")
            .field("db", SchemaBuilder::string().build()?)
            .optional()
            .build()?;
        let transaction = SchemaBuilder::struct_()
            .name("event.block")
            .field("id", SchemaBuilder::string().build()?)
            .optional()
            .build()?;
        let envelope = tidemark_debezium::envelope_schema(topic, &row, &source, &transaction)?;
        Ok(Table { topic: topic.to_owned(), key: key_schema.build()?, row, envelope })
    }

    /// A row of the table.
    pub fn row(&self, values: Vec<Value>) -> Result<Struct> {
        Ok(Struct::from_values(self.row.clone(), values)?)
    }

    /// The key of a row.
    pub fn key_of(&self, row: &Struct) -> Result<Value> {
        let values = self.key.fields().iter().map(|f| row.get(f.name()).cloned()).collect::<Result<Vec<_>, _>>()?;
        Ok(Value::Struct(Struct::from_values(self.key.clone(), values)?))
    }

    /// A change event `op` of `row` (the `after` of c, r and u; the `before` of d).
    pub fn event(&self, op: &str, row: Struct) -> Result<ConnectRecord> {
        let key = self.key_of(&row)?;
        let (before, after) =
            if op == "d" { (Value::Struct(row), Value::Null) } else { (Value::Null, Value::Struct(row)) };
        let values =
            vec![before, after, Value::Null, Value::Null, Value::from(op), Value::Null, Value::Null, Value::Null];
        let event = Struct::from_values(self.envelope.clone(), values)?;
        Ok(ConnectRecord::new(
            self.topic.clone(),
            (Some(self.key.clone()), key),
            (Some(self.envelope.clone()), Value::Struct(event)),
        ))
    }

    /// The tombstone after the delete of `row`.
    pub fn tombstone(&self, row: &Struct) -> Result<ConnectRecord> {
        Ok(ConnectRecord::new(self.topic.clone(), (Some(self.key.clone()), self.key_of(row)?), (None, Value::Null)))
    }

    /// A flat record of `row` (the value is the row), keyed like an event.
    pub fn flat(&self, row: Struct) -> Result<ConnectRecord> {
        let key = self.key_of(&row)?;
        Ok(ConnectRecord::new(
            self.topic.clone(),
            (Some(self.key.clone()), key),
            (Some(self.row.clone()), Value::Struct(row)),
        ))
    }
}

/// Records as the runtime hands them over: partition 0, offsets counting up from `first`.
pub fn batch(first: i64, records: Vec<ConnectRecord>) -> Vec<SinkRecord> {
    records
        .into_iter()
        .zip(first..)
        .map(|(mut record, offset)| {
            record.partition = Some(0);
            record.timestamp = Some(1_700_000_000_000);
            SinkRecord { record, kafka_offset: offset }
        })
        .collect()
}
