//! Connector secrets stay secret end to end (issue 11): two Postgres sources on `tidemark up`, one given its
//! password as a `${file:...}` reference and one in clear, both capture changes; afterwards neither password is in
//! the process's debug log or in any answer of the REST API, and the referenced one is not in `connect-configs`
//! either (the worker stores the reference and resolves it only when a task starts).
#![allow(missing_docs)]

use std::io::{Read, Write};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use rdkafka::Message;
use serde_json::json;
use tidemark_tests::connect_client::{avro_records, create_connectors};
use tidemark_tests::postgres::PostgresServer;
use tidemark_tests::{consume, consumer_from_start, TidemarkProcess};

const REFERENCED_PASSWORD: &str = "R3f-Secret-4411";
const CLEAR_PASSWORD: &str = "Cl3ar-Secret-9922";

fn source(name: &str, server: &PostgresServer, user: &str, password: &str) -> serde_json::Value {
    json!({
        "name": name,
        "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": server.host,
            "database.port": server.port.to_string(),
            "database.user": user,
            "database.password": password,
            "database.dbname": server.dbname,
            "topic.prefix": name,
            "slot.name": name,
            "publication.name": format!("{name}_publication"),
            "table.include.list": "public.accounts",
        }
    })
}

/// The body of `GET url` (HTTP/1.1 on a plain socket; the worker answers with a length, not chunks).
fn get(url: &str) -> Result<String> {
    let rest = url.strip_prefix("http://").context("an http URL")?;
    let (address, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(address)?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    ensure!(response.starts_with("HTTP/1.1 200"), "GET {path}: {response}");
    Ok(response)
}

#[test]
fn connector_passwords_reach_neither_the_log_nor_the_rest_api_and_references_stay_references() -> Result<()> {
    let server = PostgresServer::start()?;
    let session = server.session(&server.dbname)?;
    session.execute(&format!(
        "CREATE ROLE referenced LOGIN SUPERUSER PASSWORD '{REFERENCED_PASSWORD}';
         CREATE ROLE clear LOGIN SUPERUSER PASSWORD '{CLEAR_PASSWORD}';
         CREATE TABLE accounts (id int PRIMARY KEY, owner text);
         INSERT INTO accounts VALUES (1, 'ann');"
    ))?;
    let dir = tempfile::tempdir()?;
    let secrets = dir.path().join("secrets.properties");
    std::fs::write(&secrets, format!("# database logins\npg.password={REFERENCED_PASSWORD}\n"))?;
    let reference = format!("${{file:{}:pg.password}}", secrets.display());

    // Debug logging, so that not even a debug line may carry a password.
    std::env::set_var("TIDEMARK_TEST_LOG", "debug");
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let connect = tidemark.connect_url.clone().context("no connect worker")?;
    let definitions = [
        source("by_reference", &server, "referenced", &reference),
        source("in_clear", &server, "clear", CLEAR_PASSWORD),
    ];
    create_connectors(&connect, dir.path(), &definitions)?;
    // Both logged in: the snapshot row, then a change streamed.
    session.execute("INSERT INTO accounts VALUES (2, 'bob')")?;
    for name in ["by_reference", "in_clear"] {
        let records = avro_records(&tidemark, &format!("{name}.public.accounts"), 2)?;
        ensure!(records.len() == 2, "{name}: {records:?}");
    }

    let mut answers = vec![get(&format!("{connect}/connectors?expand=info&expand=status"))?];
    for name in ["by_reference", "in_clear"] {
        for path in ["", "/config", "/status", "/tasks", "/topics", "/offsets"] {
            answers.push(get(&format!("{connect}/connectors/{name}{path}"))?);
        }
    }
    let answers = answers.join("\n");
    ensure!(answers.contains(&reference), "the reference is shown as it is: {answers}");
    ensure!(answers.contains("[hidden]"), "the clear password is shown hidden: {answers}");

    let consumer = consumer_from_start(&tidemark.bootstrap, "connect-configs", 1)?;
    let stored = consume(&consumer, 10_000, Duration::from_secs(5))?;
    let stored: Vec<String> =
        stored.iter().map(|m| String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned()).collect();
    let stored = stored.join("\n");
    ensure!(stored.contains(&reference), "connect-configs holds the connector and task configs: {stored}");
    ensure!(!stored.contains(REFERENCED_PASSWORD), "connect-configs holds the referenced password: {stored}");

    let log = tidemark.log().join("\n");
    ensure!(log.contains("DEBUG"), "the log is at debug level");
    for password in [REFERENCED_PASSWORD, CLEAR_PASSWORD] {
        ensure!(!log.contains(password), "the log holds {password}");
        ensure!(!answers.contains(password), "a REST answer holds {password}");
    }
    Ok(())
}
