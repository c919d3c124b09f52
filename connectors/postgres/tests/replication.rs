//! The replication connection against a real PostgreSQL server (one fresh cluster per test).

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use tidemark_postgres::replication::{
    quote_identifier, ConnectConfig, Lsn, ReplicationConnection, ReplicationError, ReplicationMessage,
    ReplicationStream, SnapshotAction,
};
use tidemark_postgres::tls::PgTls;
use tidemark_tests::postgres::{PostgresServer, CLEARTEXT_USER, MD5_USER};
use tokio::time::{timeout, Instant};

/// How long a test waits for something the server does within milliseconds.
const PATIENCE: Duration = Duration::from_secs(30);

/// The replication connection settings for `server`'s superuser.
fn config(server: &PostgresServer) -> ConnectConfig {
    ConnectConfig {
        host: server.host.clone(),
        port: server.port,
        user: server.user.clone(),
        password: server.password.clone(),
        dbname: server.dbname.clone(),
        application_name: "tidemark-test".to_owned(),
        tls: PgTls::disabled(),
    }
}

/// An ordinary SQL connection to `server`.
async fn sql(server: &PostgresServer) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(&server.connection_string(), tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The pgoutput options every streaming test uses: protocol 2, publication `p`, streaming and messages on.
fn pgoutput_options(publication: &str) -> [(&'static str, String); 4] {
    [
        ("proto_version", "2".to_owned()),
        ("publication_names", quote_identifier(publication)),
        ("streaming", "on".to_owned()),
        ("messages", "true".to_owned()),
    ]
}

/// Starts streaming `slot` from `start` with [`pgoutput_options`].
async fn start_stream(
    connection: ReplicationConnection,
    slot: &str,
    start: Lsn,
    publication: &str,
) -> Result<ReplicationStream, ReplicationError> {
    let options = pgoutput_options(publication);
    let options: Vec<(&str, &str)> = options.iter().map(|(name, value)| (*name, value.as_str())).collect();
    connection.start_logical_replication(slot, start, &options).await
}

/// Reads the stream, ignoring what arrives, until it fails; the error, within [`PATIENCE`].
async fn stream_error(stream: &mut ReplicationStream) -> Result<ReplicationError> {
    let until_error = async {
        loop {
            if let Err(error) = stream.next().await {
                return error;
            }
        }
    };
    timeout(PATIENCE, until_error).await.context("the stream did not fail in time")
}

/// The next XLogData (skipping keepalives) as (its WAL start, its data), within [`PATIENCE`].
async fn next_xlog(stream: &mut ReplicationStream) -> Result<(Lsn, Bytes)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let message = tokio::time::timeout_at(deadline, stream.next()).await.context("no XLogData in time")??;
        if let ReplicationMessage::XLogData { wal_start, data, .. } = message {
            return Ok((wal_start, data));
        }
    }
}

/// The pgoutput messages of the next transaction, Begin through Commit: their tags, the data of each, and the WAL
/// start of the Commit (the end of the transaction's commit record).
async fn next_transaction(stream: &mut ReplicationStream) -> Result<(String, Vec<Bytes>, Lsn)> {
    let mut tags = String::new();
    let mut messages = Vec::new();
    loop {
        let (wal_start, data) = next_xlog(stream).await?;
        let tag = *data.first().ok_or_else(|| anyhow!("empty XLogData"))? as char;
        tags.push(tag);
        messages.push(data);
        if tag == 'C' {
            return Ok((tags, messages, wal_start));
        }
    }
}

/// The slot's `confirmed_flush_lsn`.
async fn confirmed_flush(client: &tokio_postgres::Client, slot: &str) -> Result<Lsn> {
    let row = client
        .query_one("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", &[&slot])
        .await?;
    let text: String = row.get(0);
    Ok(text.parse()?)
}

#[tokio::test]
async fn connects_with_scram_and_runs_replication_commands() -> Result<()> {
    let server = PostgresServer::start()?;
    let mut connection = ReplicationConnection::connect(&config(&server)).await?;
    assert!(connection.parameter("server_version").is_some());

    let system = connection.identify_system().await?;
    assert!(system.systemid.parse::<u64>().is_ok(), "systemid {}", system.systemid);
    assert_eq!(system.timeline, 1);
    assert!(system.xlogpos > Lsn::ZERO);
    assert_eq!(system.dbname.as_deref(), Some("postgres"));

    // SQL works on a database replication connection, and an error leaves the connection usable.
    let result = connection.simple_query("SELECT 1 AS one, NULL AS nothing").await?;
    assert_eq!(result.columns, ["one", "nothing"]);
    assert_eq!(result.rows, [[Some("1".to_owned()), None]]);
    let error = connection.simple_query("SELECT * FROM missing_table").await.expect_err("no such table");
    assert_eq!(error.sqlstate(), Some("42P01"), "{error}");
    assert_eq!(connection.identify_system().await?.systemid, system.systemid);

    let created = connection.create_logical_slot("commands", SnapshotAction::NoExport).await?;
    assert!(created.consistent_point >= system.xlogpos);
    assert_eq!(created.snapshot_name, None);
    let slots = connection.simple_query("SELECT slot_name, plugin FROM pg_replication_slots").await?;
    assert_eq!(slots.rows, [[Some("commands".to_owned()), Some("pgoutput".to_owned())]]);
    connection.drop_slot("commands", false).await?;
    assert!(connection.simple_query("SELECT slot_name FROM pg_replication_slots").await?.rows.is_empty());
    connection.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_fails_with_the_servers_error() -> Result<()> {
    let server = PostgresServer::start()?;
    let mut wrong = config(&server);
    wrong.password = "not-the-password".to_owned();
    let Err(ReplicationError::Server(error)) = ReplicationConnection::connect(&wrong).await else {
        bail!("a wrong password did not fail with a server error");
    };
    assert_eq!(error.code, "28P01");
    assert_eq!(error.severity, "FATAL");
    assert_eq!(error.message, "password authentication failed for user \"postgres\"");
    Ok(())
}

#[tokio::test]
async fn md5_and_cleartext_passwords() -> Result<()> {
    let server = PostgresServer::start()?;
    let client = sql(&server).await?;
    // MD5 authentication needs a password stored as MD5 (with a SCRAM verifier the server would use SCRAM).
    client
        .batch_execute(&format!(
            "SET password_encryption = 'md5';
             CREATE ROLE {MD5_USER} LOGIN REPLICATION PASSWORD 'md5 secret';
             SET password_encryption = 'scram-sha-256';
             CREATE ROLE {CLEARTEXT_USER} LOGIN REPLICATION PASSWORD 'cleartext secret';"
        ))
        .await?;
    let stored: String =
        client.query_one("SELECT rolpassword FROM pg_authid WHERE rolname = $1", &[&MD5_USER]).await?.get(0);
    assert!(stored.starts_with("md5"), "{stored}");

    for (user, password) in [(MD5_USER, "md5 secret"), (CLEARTEXT_USER, "cleartext secret")] {
        let mut config = ConnectConfig { user: user.to_owned(), password: password.to_owned(), ..config(&server) };
        let mut connection = ReplicationConnection::connect(&config).await.with_context(|| user.to_owned())?;
        assert_eq!(connection.identify_system().await?.dbname.as_deref(), Some("postgres"));
        config.password = "wrong".to_owned();
        let error = ReplicationConnection::connect(&config).await.err().context("a wrong password was accepted")?;
        assert_eq!(error.sqlstate(), Some("28P01"), "{user}: {error}");
    }
    Ok(())
}

#[tokio::test]
async fn a_closed_port_is_a_connection_error() -> Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let config = ConnectConfig {
        host: "127.0.0.1".to_owned(),
        port,
        user: "postgres".to_owned(),
        password: "tidemark".to_owned(),
        dbname: "postgres".to_owned(),
        application_name: "tidemark-test".to_owned(),
        tls: PgTls::disabled(),
    };
    match ReplicationConnection::connect(&config).await {
        Err(ReplicationError::Connect { address, source }) => {
            assert_eq!(address, format!("127.0.0.1:{port}"));
            assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        Err(other) => bail!("expected a connection error, got {other}"),
        Ok(_) => bail!("connected to a closed port"),
    }
    Ok(())
}

#[tokio::test]
async fn the_exported_snapshot_ends_where_the_stream_begins() -> Result<()> {
    let server = PostgresServer::start()?;
    let client = sql(&server).await?;
    client
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY);
             CREATE PUBLICATION p FOR ALL TABLES;
             INSERT INTO t VALUES (1);",
        )
        .await?;
    let mut connection = ReplicationConnection::connect(&config(&server)).await?;
    let slot = connection.create_logical_slot("snap", SnapshotAction::Export).await?;
    let snapshot = slot.snapshot_name.context("no snapshot name")?;
    assert!(slot.consistent_point > Lsn::ZERO);
    client.batch_execute("INSERT INTO t VALUES (2)").await?;

    // The snapshot is valid while the replication connection sends nothing else.
    let reader = sql(&server).await?;
    reader
        .batch_execute(&format!("BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT '{snapshot}'"))
        .await?;
    let ids: Vec<i32> = reader.query("SELECT id FROM t ORDER BY id", &[]).await?.iter().map(|row| row.get(0)).collect();
    assert_eq!(ids, [1]);
    reader.batch_execute("COMMIT").await?;
    let now: Vec<i32> = client.query("SELECT id FROM t ORDER BY id", &[]).await?.iter().map(|row| row.get(0)).collect();
    assert_eq!(now, [1, 2]);

    // The stream from the consistent point starts with the row the snapshot does not have.
    let mut stream = start_stream(connection, "snap", slot.consistent_point, "p").await?;
    let (tags, _, _) = next_transaction(&mut stream).await?;
    assert_eq!(tags, "BRIC");
    Ok(())
}

#[tokio::test]
async fn streams_pgoutput_and_confirms_the_flushed_position() -> Result<()> {
    let server = PostgresServer::start()?;
    let client = sql(&server).await?;
    client.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION p FOR ALL TABLES").await?;
    let mut connection = ReplicationConnection::connect(&config(&server)).await?;
    let slot = connection.create_logical_slot("s", SnapshotAction::NoExport).await?;
    let mut stream = start_stream(connection, "s", Lsn::ZERO, "p").await?;

    // A large value arrives whole, in one XLogData of more than 2 MB.
    client
        .batch_execute(
            "BEGIN;
             INSERT INTO t VALUES (1, 'one');
             INSERT INTO t VALUES (2, repeat('x', 2100000));
             COMMIT;",
        )
        .await?;
    let (tags, messages, commit) = next_transaction(&mut stream).await?;
    assert_eq!(tags, "BRIIC");
    assert!(messages[3].len() > 2_100_000, "the large insert has {} bytes", messages[3].len());
    assert!(commit > slot.consistent_point);

    client.batch_execute("SELECT pg_logical_emit_message(true, 'prefix', 'hello')").await?;
    let (tags, messages, message_commit) = next_transaction(&mut stream).await?;
    assert_eq!(tags, "BMC");
    let body = &messages[1];
    assert!(body.windows(7).any(|w| w == b"prefix\0") && body.ends_with(b"hello"), "{body:?}");

    // Confirming the first commit moves the slot's confirmed_flush_lsn there (and no further).
    assert!(confirmed_flush(&client, "s").await? < commit);
    stream.send_status(message_commit, commit, commit, false).await?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let confirmed = confirmed_flush(&client, "s").await?;
        if confirmed == commit {
            break;
        }
        assert!(confirmed < commit, "confirmed {confirmed} past the flushed {commit}");
        if Instant::now() > deadline {
            bail!("confirmed_flush_lsn stayed at {confirmed}, expected {commit}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[tokio::test]
async fn keepalives_asking_for_a_reply_are_answered() -> Result<()> {
    let server = PostgresServer::start()?;
    let client = sql(&server).await?;
    client.batch_execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION p FOR ALL TABLES").await?;
    let mut connection = ReplicationConnection::connect(&config(&server)).await?;
    // The server asks for a reply after half the timeout, and hangs up after all of it without one.
    connection.simple_query("SET wal_sender_timeout = '3s'").await?;
    let slot = connection.create_logical_slot("s", SnapshotAction::NoExport).await?;
    let mut stream = start_stream(connection, "s", Lsn::ZERO, "p").await?;

    // Waiting for messages and answering in one task; the deadline cancels a pending next(), which must not lose
    // anything. Without the answers, the server would end the connection after 3 s.
    let deadline = tokio::time::sleep(Duration::from_secs(7));
    tokio::pin!(deadline);
    let mut answered = 0;
    loop {
        tokio::select! {
            message = stream.next() => {
                if let ReplicationMessage::PrimaryKeepalive { reply_requested: true, .. } = message? {
                    stream.send_status(slot.consistent_point, slot.consistent_point, slot.consistent_point, false).await?;
                    answered += 1;
                }
            }
            _ = &mut deadline => break,
        }
    }
    assert!(answered >= 2, "{answered} keepalives asked for a reply in 7 s");
    let replied: bool = client
        .query_one(
            "SELECT reply_time IS NOT NULL FROM pg_stat_replication WHERE application_name = 'tidemark-test'",
            &[],
        )
        .await?
        .get(0);
    assert!(replied);

    // The stream is intact after all that.
    client.batch_execute("INSERT INTO t VALUES (1)").await?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await.context("no XLogData in time")?? {
            ReplicationMessage::PrimaryKeepalive { reply_requested: true, wal_end, .. } => {
                stream.send_status(wal_end, slot.consistent_point, slot.consistent_point, false).await?;
            }
            ReplicationMessage::PrimaryKeepalive { .. } => {}
            ReplicationMessage::XLogData { data, .. } => {
                assert_eq!(data.first(), Some(&b'B'));
                break;
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn unanswered_keepalives_end_the_connection() -> Result<()> {
    let server = PostgresServer::start()?;
    let mut connection = ReplicationConnection::connect(&config(&server)).await?;
    connection.simple_query("SET wal_sender_timeout = '1s'").await?;
    connection.create_logical_slot("s", SnapshotAction::NoExport).await?;
    let mut stream = start_stream(connection, "s", Lsn::ZERO, "p").await?;
    let outcome = stream_error(&mut stream).await?;
    assert!(matches!(outcome, ReplicationError::Closed), "{outcome}");
    Ok(())
}

#[tokio::test]
async fn server_errors_before_and_during_the_stream() -> Result<()> {
    let server = PostgresServer::start()?;
    let client = sql(&server).await?;
    client.batch_execute("CREATE TABLE t (id int PRIMARY KEY)").await?;

    // A missing slot fails START_REPLICATION itself.
    let connection = ReplicationConnection::connect(&config(&server)).await?;
    let Err(ReplicationError::Server(error)) = start_stream(connection, "missing", Lsn::ZERO, "p").await else {
        bail!("streaming a missing slot did not fail with a server error");
    };
    assert_eq!((error.code.as_str(), error.message.as_str()), ("42704", "replication slot \"missing\" does not exist"));

    // A missing publication fails when the first change is decoded.
    let mut connection = ReplicationConnection::connect(&config(&server)).await?;
    connection.create_logical_slot("s", SnapshotAction::NoExport).await?;
    let mut stream = start_stream(connection, "s", Lsn::ZERO, "missing").await?;
    client.batch_execute("INSERT INTO t VALUES (1)").await?;
    let outcome = stream_error(&mut stream).await?;
    let ReplicationError::Server(error) = outcome else {
        bail!("expected the server's error, got {outcome}");
    };
    assert_eq!(error.code, "42704");
    assert_eq!(error.message, "publication \"missing\" does not exist");
    Ok(())
}
