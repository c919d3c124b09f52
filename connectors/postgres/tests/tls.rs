//! The Postgres source over TLS against a real PostgreSQL that accepts TCP logins over TLS only (`hostssl` lines,
//! `hostnossl ... reject`) and serves a certificate issued for `localhost` alone: every `sslmode`, the root and
//! client certificates, on the ordinary and the replication connections. One server for the whole file; each case
//! is a function of its own, run in turn.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use tidemark_connect::config::FieldError;
use tidemark_connect::connector::{Connector, SourceConnector, SourceRecord, SourceTask, TaskError};
use tidemark_postgres::replication::{ConnectConfig, ReplicationConnection, ReplicationError};
use tidemark_postgres::source::PostgresConnector;
use tidemark_postgres::tls::{PgTls, SslMode, TlsFiles};
use tidemark_tests::postgres::{PostgresServer, CLIENT_CERT_USER};
use tidemark_tests::tls::Certificates;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_postgres::{Client, NoTls};

/// How long a test waits for what should take well under a second.
const PATIENCE: Duration = Duration::from_secs(30);

/// The server, a superuser session on it (through the Unix socket), and the certificates: `trusted` signed the
/// server's certificate, `stranger` did not.
struct Setup {
    server: PostgresServer,
    client: Client,
    trusted: Certificates,
    stranger: Certificates,
}

fn path(file: &Path) -> String {
    file.to_string_lossy().into_owned()
}

impl Setup {
    /// The connector config for `host` (the server's address or `localhost`), plus `extra`.
    fn props(&self, host: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut props: BTreeMap<String, String> = [
            ("name", "pg-tls"),
            ("connector.class", "io.debezium.connector.postgresql.PostgresConnector"),
            ("database.hostname", host),
            ("database.port", &self.server.port.to_string()),
            ("database.user", &self.server.user),
            ("database.password", &self.server.password),
            ("database.dbname", &self.server.dbname),
            ("topic.prefix", "pg1"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        props.retain(|_, v| !v.is_empty());
        props
    }

    /// What validating `props` reports (the connector connects both ways, as when a config is stored).
    async fn validate(&self, props: &BTreeMap<String, String>) -> Vec<FieldError> {
        PostgresConnector.validate(props).await
    }

    /// How many of the sessions of `application_name` of `backend_type` use TLS and how many do not.
    async fn sessions(&self, backend_type: &str) -> Result<(i64, i64)> {
        let row = self
            .client
            .query_one(
                "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) FROM pg_stat_ssl s \
                 JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'tidemark-pg1' AND a.backend_type = $1",
                &[&backend_type],
            )
            .await?;
        Ok((row.get(0), row.get(1)))
    }
}

#[tokio::test]
async fn the_source_in_every_sslmode() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let trusted = Certificates::generate_for(dir.path(), "pg", CLIENT_CERT_USER, &["localhost"])?;
    let stranger = Certificates::generate(dir.path(), "stranger", CLIENT_CERT_USER)?;
    let server = {
        let trusted = trusted.clone();
        tokio::task::spawn_blocking(move || PostgresServer::start_tls(&trusted)).await??
    };
    let (client, connection) = tokio_postgres::connect(&server.connection_string(), NoTls).await?;
    tokio::spawn(connection);
    let setup = Setup { server, client, trusted, stranger };

    verify_full_snapshots_and_streams_over_tls(&setup).await.context("verify-full")?;
    verify_ca_checks_the_chain_but_not_the_name(&setup).await.context("verify-ca")?;
    an_untrusted_certificate_is_refused(&setup).await.context("an untrusted certificate")?;
    plain_connections_are_refused_by_the_server(&setup).await.context("disable")?;
    allow_prefer_and_require_take_tls(&setup).await.context("allow, prefer, require")?;
    a_client_certificate_is_shown_when_given(&setup).await.context("client certificate")?;
    Ok(())
}

/// `verify-full` by the certificate's name: the snapshot and the stream arrive, over TLS on both connections.
async fn verify_full_snapshots_and_streams_over_tls(setup: &Setup) -> Result<()> {
    setup
        .client
        .batch_execute("CREATE TABLE orders (id int4 PRIMARY KEY, name text); INSERT INTO orders VALUES (1, 'one');")
        .await?;
    let props = setup.props(
        "localhost",
        &[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", &path(&setup.trusted.ca)),
            ("slot.drop.on.stop", "true"),
        ],
    );
    let errors = setup.validate(&props).await;
    ensure!(errors.is_empty(), "{errors:?}");
    let connector = PostgresConnector;
    let mut task = connector.create_task(&connector.task_configs(&props, 1).remove(0))?;
    task.start(Vec::new()).await?;
    let snapshot = poll(&mut task, 1).await?;
    ensure!(snapshot[0].record.topic == "pg1.public.orders", "{:?}", snapshot[0].record.topic);
    setup.client.batch_execute("INSERT INTO orders VALUES (2, 'two')").await?;
    let streamed = poll(&mut task, 1).await?;
    ensure!(streamed[0].source_offset.get("snapshot").is_none(), "{:?}", streamed[0].source_offset);
    // The replication connection is streaming now, over TLS; no session of the connector is without it.
    let (with_tls, without) = setup.sessions("walsender").await?;
    ensure!(with_tls >= 1 && without == 0, "walsenders: {with_tls} with TLS, {without} without");
    let (_, without) = setup.sessions("client backend").await?;
    ensure!(without == 0, "{without} ordinary sessions without TLS");
    task.stop().await;
    Ok(())
}

/// `verify-ca` by the address, which the certificate does not name, connects; `verify-full` does not, naming why.
async fn verify_ca_checks_the_chain_but_not_the_name(setup: &Setup) -> Result<()> {
    let host = setup.server.host.clone();
    let ca = path(&setup.trusted.ca);
    let errors =
        setup.validate(&setup.props(&host, &[("database.sslmode", "verify-ca"), ("database.sslrootcert", &ca)])).await;
    ensure!(errors.is_empty(), "{errors:?}");
    let errors = setup
        .validate(&setup.props(&host, &[("database.sslmode", "verify-full"), ("database.sslrootcert", &ca)]))
        .await;
    ensure!(errors.len() == 1 && errors[0].name == "database.sslmode", "{errors:?}");
    ensure!(errors[0].message.contains("certificate not valid for name \"127.0.0.1\""), "{errors:?}");
    // `require` with a root certificate is `verify-ca`.
    let errors =
        setup.validate(&setup.props(&host, &[("database.sslmode", "require"), ("database.sslrootcert", &ca)])).await;
    ensure!(errors.is_empty(), "{errors:?}");
    Ok(())
}

/// A root certificate that did not sign the server's: validation names the certificate, the task fails for good,
/// and so does a replication connection on its own.
async fn an_untrusted_certificate_is_refused(setup: &Setup) -> Result<()> {
    let props = setup
        .props("localhost", &[("database.sslmode", "verify-ca"), ("database.sslrootcert", &path(&setup.stranger.ca))]);
    let errors = setup.validate(&props).await;
    ensure!(errors.len() == 1 && errors[0].name == "database.sslmode", "{errors:?}");
    ensure!(errors[0].message.contains("TLS handshake: invalid peer certificate: UnknownIssuer"), "{errors:?}");
    let connector = PostgresConnector;
    let mut task = connector.create_task(&connector.task_configs(&props, 1).remove(0))?;
    task.start(Vec::new()).await?;
    // The task connects on its first poll.
    match task.poll().await {
        Err(TaskError::Definite(message)) => ensure!(message.contains("invalid peer certificate"), "{message}"),
        Err(other) => anyhow::bail!("expected a definite failure, got {other:?}"),
        Ok(records) => anyhow::bail!("connected despite an untrusted certificate: {} records", records.len()),
    }
    let tls =
        PgTls::new(SslMode::VerifyCa, TlsFiles { root_cert: Some(setup.stranger.ca.clone()), ..TlsFiles::default() })?;
    match ReplicationConnection::connect(&connect_config(setup, tls)).await {
        Err(error @ ReplicationError::Tls { .. }) => {
            ensure!(error.to_string().contains("TLS handshake with the Postgres server"), "{error}");
            ensure!(error.to_string().contains("invalid peer certificate: UnknownIssuer"), "{error}");
        }
        Err(other) => anyhow::bail!("expected a TLS error, got {other}"),
        Ok(_) => anyhow::bail!("connected despite an untrusted certificate"),
    }
    Ok(())
}

/// `disable` against a server that takes TLS logins only: the server's refusal, on the user.
async fn plain_connections_are_refused_by_the_server(setup: &Setup) -> Result<()> {
    let errors = setup.validate(&setup.props("localhost", &[("database.sslmode", "disable")])).await;
    ensure!(errors.len() == 1 && errors[0].name == "database.user", "{errors:?}");
    ensure!(errors[0].message.contains("no encryption (SQLSTATE 28000)"), "{errors:?}");
    match ReplicationConnection::connect(&connect_config(setup, PgTls::disabled())).await {
        Err(error @ ReplicationError::Server(_)) => {
            ensure!(error.sqlstate() == Some("28000") && error.to_string().contains("no encryption"), "{error}");
        }
        Err(other) => anyhow::bail!("expected the server's refusal, got {other}"),
        Ok(_) => anyhow::bail!("connected without TLS"),
    }
    Ok(())
}

/// The modes that do not check the certificate connect over TLS here: `allow` after the server refused the plain
/// login, `prefer` and `require` at once. (The server refuses plain logins, so connecting proves TLS.)
async fn allow_prefer_and_require_take_tls(setup: &Setup) -> Result<()> {
    for mode in ["allow", "prefer", "require"] {
        // Any certificate is taken, whatever root certificate is given: only `require` would check against it.
        let root = if mode == "require" { String::new() } else { path(&setup.stranger.ca) };
        let props = setup.props(&setup.server.host, &[("database.sslmode", mode), ("database.sslrootcert", &root)]);
        let errors = setup.validate(&props).await;
        ensure!(errors.is_empty(), "{mode}: {errors:?}");
    }
    Ok(())
}

/// A role whose `pg_hba.conf` line asks for a client certificate: refused without one, let in with one.
async fn a_client_certificate_is_shown_when_given(setup: &Setup) -> Result<()> {
    setup
        .client
        .batch_execute(&format!("CREATE ROLE {CLIENT_CERT_USER} LOGIN REPLICATION PASSWORD 'cert-pass'"))
        .await?;
    let base =
        [("database.user", CLIENT_CERT_USER), ("database.password", "cert-pass"), ("database.sslmode", "require")];
    let errors = setup.validate(&setup.props("localhost", &base)).await;
    ensure!(errors.len() == 1 && errors[0].name == "database.user", "{errors:?}");
    ensure!(errors[0].message.contains("certificate"), "{errors:?}");
    let (cert, key) = (path(&setup.trusted.client_cert), path(&setup.trusted.client_key));
    let with_certificate =
        [&base[..], &[("database.sslcert", cert.as_str()), ("database.sslkey", key.as_str())]].concat();
    let errors = setup.validate(&setup.props("localhost", &with_certificate)).await;
    ensure!(errors.is_empty(), "{errors:?}");
    Ok(())
}

/// The replication connection settings for the superuser by the certificate's name.
fn connect_config(setup: &Setup, tls: PgTls) -> ConnectConfig {
    ConnectConfig {
        host: "localhost".to_owned(),
        port: setup.server.port,
        user: setup.server.user.clone(),
        password: setup.server.password.clone(),
        dbname: setup.server.dbname.clone(),
        application_name: "tidemark-tls-test".to_owned(),
        tls,
    }
}

/// Polls until `count` records arrived, within [`PATIENCE`].
async fn poll(task: &mut Box<dyn SourceTask>, count: usize) -> Result<Vec<SourceRecord>> {
    let deadline = Instant::now() + PATIENCE;
    let mut records = Vec::new();
    while records.len() < count {
        ensure!(Instant::now() < deadline, "{} of {count} records arrived", records.len());
        records.extend(task.poll().await?);
    }
    Ok(records)
}

/// A server that declines TLS (answers 'N' to the SSLRequest, as with `ssl=off`): `require` gives up at once, with
/// an error saying so.
#[tokio::test]
async fn require_refuses_a_server_without_tls() -> Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        if let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 8];
            if socket.read_exact(&mut request).await.is_ok() && request == [0, 0, 0, 8, 4, 210, 22, 47] {
                let _ = socket.write_all(b"N").await;
            }
        }
    });
    let config = ConnectConfig {
        host: "127.0.0.1".to_owned(),
        port,
        user: "postgres".to_owned(),
        password: String::new(),
        dbname: "postgres".to_owned(),
        application_name: "tidemark-tls-test".to_owned(),
        tls: PgTls::new(SslMode::Require, TlsFiles::default())?,
    };
    match ReplicationConnection::connect(&config).await {
        Err(error @ ReplicationError::NoTls { .. }) => {
            ensure!(error.to_string().contains("does not accept TLS connections"), "{error}");
        }
        Err(other) => anyhow::bail!("expected NoTls, got {other}"),
        Ok(_) => anyhow::bail!("connected"),
    }
    Ok(())
}
