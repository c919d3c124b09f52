//! The MySQL source over TLS against a real MariaDB that serves TLS and refuses TCP connections without it
//! (`require_secure_transport=ON`): every `database.ssl.mode`, a CA in PEM (`database.ssl.ca`) and a client
//! certificate, on the SQL and the binlog connections. One server for the whole file; each case is a function of its
//! own, run in turn. (A server that does not offer TLS is every other test's: `preferred` is the default.)

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use common::PATIENCE;
use tidemark_connect::config::FieldError;
use tidemark_connect::connector::{Connector, SourceConnector, SourceRecord, SourceTask, TaskError};
use tidemark_mysql::source::MySqlConnector;
use tidemark_tests::mariadb::MariaDbServer;
use tidemark_tests::tls::Certificates;
use tokio::time::Instant;

/// A user that must show a client certificate signed by the server's CA (`REQUIRE X509`).
const CERT_USER: &str = "tidemark_x509";

/// The server and the certificates: `trusted` signed the server's certificate, `stranger` did not.
struct Setup {
    server: MariaDbServer,
    trusted: Certificates,
    stranger: Certificates,
}

fn path(file: &Path) -> String {
    file.to_string_lossy().into_owned()
}

impl Setup {
    /// The connector config capturing database `shop`, plus `extra`.
    fn props(&self, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        [
            ("name", "my-tls"),
            ("connector.class", "io.debezium.connector.mysql.MySqlConnector"),
            ("database.hostname", &self.server.host),
            ("database.port", &self.server.port.to_string()),
            ("database.user", &self.server.user),
            ("database.password", &self.server.password),
            ("database.server.id", "5401"),
            ("database.include.list", "shop"),
            ("topic.prefix", "my1"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// What validating `props` reports (the connector connects and reads the binlog position).
    async fn validate(&self, props: &BTreeMap<String, String>) -> Vec<FieldError> {
        MySqlConnector.validate(props).await
    }
}

#[tokio::test]
async fn the_source_in_every_ssl_mode() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let trusted = Certificates::generate(dir.path(), "mariadb", CERT_USER)?;
    let stranger = Certificates::generate(dir.path(), "stranger", CERT_USER)?;
    let server = {
        let trusted = trusted.clone();
        tokio::task::spawn_blocking(move || MariaDbServer::start_tls(&trusted, true)).await??
    };
    let setup = Setup { server, trusted, stranger };

    verify_identity_snapshots_and_streams_over_tls(&setup).await.context("verify_identity")?;
    an_untrusted_certificate_is_refused(&setup).await.context("an untrusted certificate")?;
    plain_connections_are_refused_by_the_server(&setup).await.context("disabled")?;
    preferred_and_required_take_tls(&setup).await.context("preferred, required")?;
    a_client_certificate_is_shown_when_given(&setup).await.context("client certificate")?;
    Ok(())
}

/// `verify_identity` with the CA: the snapshot and the binlog stream arrive (the server takes TLS connections only).
async fn verify_identity_snapshots_and_streams_over_tls(setup: &Setup) -> Result<()> {
    setup.server.root_sql(
        "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, name VARCHAR(40)); \
         INSERT INTO shop.orders VALUES (1, 'one');",
    )?;
    let props = setup.props(&[("database.ssl.mode", "verify_identity"), ("database.ssl.ca", &path(&setup.trusted.ca))]);
    let errors = setup.validate(&props).await;
    ensure!(errors.is_empty(), "{errors:?}");
    let connector = MySqlConnector;
    let mut task = connector.create_task(&connector.task_configs(&props, 1).remove(0))?;
    task.start(Vec::new()).await?;
    let snapshot = poll(&mut task, 1).await?;
    ensure!(snapshot.iter().any(|r| r.record.topic == "my1.shop.orders"), "{:?}", topics(&snapshot));
    setup.server.root_sql("INSERT INTO shop.orders VALUES (2, 'two')")?;
    // The insert comes through the binlog stream, over TLS too.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let streamed = poll(&mut task, 1).await?;
        if streamed.iter().any(|r| r.record.topic == "my1.shop.orders" && r.source_offset.get("snapshot").is_none()) {
            break;
        }
        ensure!(Instant::now() < deadline, "the streamed insert did not arrive");
    }
    task.stop().await;
    Ok(())
}

/// A CA that did not sign the server's certificate: validation names the certificate, the task fails for good.
async fn an_untrusted_certificate_is_refused(setup: &Setup) -> Result<()> {
    let props = setup.props(&[("database.ssl.mode", "verify_ca"), ("database.ssl.ca", &path(&setup.stranger.ca))]);
    let errors = setup.validate(&props).await;
    ensure!(errors.len() == 1 && errors[0].name == "database.ssl.mode", "{errors:?}");
    ensure!(errors[0].message.contains("invalid peer certificate: UnknownIssuer"), "{errors:?}");
    let connector = MySqlConnector;
    let mut task = connector.create_task(&connector.task_configs(&props, 1).remove(0))?;
    task.start(Vec::new()).await?;
    match task.poll().await {
        Err(TaskError::Definite(message)) => ensure!(message.contains("invalid peer certificate"), "{message}"),
        Err(other) => bail!("expected a definite failure, got {other:?}"),
        Ok(records) => bail!("connected despite an untrusted certificate: {} records", records.len()),
    }
    Ok(())
}

/// `disabled` against a server that demands TLS: the server's refusal (MariaDB denies the login), named on the
/// mode too.
async fn plain_connections_are_refused_by_the_server(setup: &Setup) -> Result<()> {
    let errors = setup.validate(&setup.props(&[("database.ssl.mode", "disabled")])).await;
    let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
    ensure!(names == ["database.password", "database.user", "database.ssl.mode"], "{errors:?}");
    ensure!(errors.iter().all(|e| e.message.contains("Access denied for user 'tidemark'")), "{errors:?}");
    Ok(())
}

/// The modes that do not check the certificate take TLS when the server demands it, whatever CA is given.
async fn preferred_and_required_take_tls(setup: &Setup) -> Result<()> {
    for mode in ["preferred", "required", "trust"] {
        let props = setup.props(&[("database.ssl.mode", mode), ("database.ssl.ca", &path(&setup.stranger.ca))]);
        let errors = setup.validate(&props).await;
        ensure!(errors.is_empty(), "{mode}: {errors:?}");
    }
    Ok(())
}

/// A user that must show a client certificate: refused without one, let in with one.
async fn a_client_certificate_is_shown_when_given(setup: &Setup) -> Result<()> {
    setup.server.root_sql(&format!(
        "CREATE USER '{CERT_USER}'@'%' IDENTIFIED BY 'cert-pass' REQUIRE X509; \
         GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD, LOCK TABLES ON *.* TO '{CERT_USER}'@'%';"
    ))?;
    let base = [("database.user", CERT_USER), ("database.password", "cert-pass"), ("database.ssl.mode", "required")];
    let errors = setup.validate(&setup.props(&base)).await;
    ensure!(errors.iter().any(|e| e.message.contains("Access denied")), "{errors:?}");
    let (cert, key) = (path(&setup.trusted.client_cert), path(&setup.trusted.client_key));
    let with_certificate =
        [&base[..], &[("database.ssl.cert", cert.as_str()), ("database.ssl.key", key.as_str())]].concat();
    let errors = setup.validate(&setup.props(&with_certificate)).await;
    ensure!(errors.is_empty(), "{errors:?}");
    Ok(())
}

/// Polls until `count` records arrived; a timeout lists their topics.
async fn poll(task: &mut Box<dyn SourceTask>, count: usize) -> Result<Vec<SourceRecord>> {
    common::poll(task, count, |records| format!("{:?}", topics(records))).await
}

fn topics(records: &[SourceRecord]) -> Vec<&str> {
    records.iter().map(|r| r.record.topic.as_str()).collect()
}
