//! The HTTP APIs' security end to end: `tidemark up` with `--http-auth-file` refuses unauthenticated callers (401)
//! and read-only callers' changes (403) on the registry and the connect worker, logs the refusals, lets basic-auth
//! users (their passwords in clear or hashed by `tidemark http-user`) and bearer tokens in by role, and still runs
//! Avro connectors through the bundled registry; with
//! `--http-tls-cert` the registry answers confluent-kafka's SchemaRegistryClient over HTTPS only.

use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use tidemark_tests::tls::Certificates;
use tidemark_tests::{python, repo_root, run_cli, run_cli_with_input, TidemarkProcess};

const ADMIN: &str = "ops:0ps-Secret-19:admin";
const READER: &str = "viewer:v1ew-Secret-27:read-only";
const TOKEN: &str = "t0ken-Secret-41";
/// A user kept hashed in the auth file; its password holds a colon, which basic auth allows.
const HASHED_PASSWORD: &str = "h4shed:Secret-63";

/// Runs `secure_http.py ARGS`; answers its `key=value` lines.
fn script(args: &[&str]) -> Result<Vec<(String, String)>> {
    let output = Command::new(python())
        .arg(repo_root().join("tests/python/secure_http.py"))
        .args(args)
        .output()
        .context("running secure_http.py")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(output.status.success(), "secure_http.py {args:?}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    Ok(stdout
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect())
}

fn value<'a>(lines: &'a [(String, String)], key: &str) -> &'a str {
    lines.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

/// The HTTP status of one request, as `credentials` (`--user N:P` or `--token T`, or none).
fn status(method: &str, url: &str, credentials: &[&str], body: Option<&str>) -> Result<u16> {
    let mut args = vec!["call", method, url];
    args.extend_from_slice(credentials);
    if let Some(body) = body {
        args.extend(["--body", body]);
    }
    let lines = script(&args)?;
    value(&lines, "status").parse().with_context(|| format!("{method} {url}: {lines:?}"))
}

/// Waits up to 30 s until the registry at `registry` lists `generated-value` (datagen's Avro schema), asked with
/// `options` (credentials or a CA).
fn wait_for_subject(registry: &str, options: &[&str]) -> Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let url = format!("{registry}/subjects");
    let args: Vec<&str> = ["call", "GET", url.as_str()].into_iter().chain(options.iter().copied()).collect();
    loop {
        let subjects = script(&args)?;
        if value(&subjects, "body").contains("generated-value") {
            return Ok(());
        }
        ensure!(std::time::Instant::now() < deadline, "no Avro schema registered at {registry}: {subjects:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `user:NAME:PASSWORD` as `--user NAME:PASSWORD`.
fn login(entry: &str) -> String {
    let (name, rest) = entry.split_once(':').unwrap_or_default();
    let (password, _) = rest.split_once(':').unwrap_or_default();
    format!("{name}:{password}")
}

#[test]
fn the_registry_and_the_worker_let_in_callers_by_role_and_log_refusals() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let auth = dir.path().join("http-auth");
    let hashed = run_cli_with_input(&["http-user", "keeper", "--role", "admin"], &format!("{HASHED_PASSWORD}\n"))?;
    ensure!(hashed.starts_with("user:keeper:SCRAM-SHA-256$") && !hashed.contains("Secret-63"), "{hashed}");
    std::fs::write(&auth, format!("# callers\nuser:{ADMIN}\nuser:{READER}\ntoken:{TOKEN}:admin\n{hashed}"))?;
    let auth = auth.to_string_lossy().into_owned();
    let up = TidemarkProcess::start_up(
        &dir.path().join("data"),
        "127.0.0.1:0",
        "127.0.0.1:0",
        &["--http-auth-file", &auth],
    )?;
    let registry = up.registry_url.clone().context("registry url")?;
    let connect = up.connect_url.clone().context("connect url")?;
    let (admin, reader) = (login(ADMIN), login(READER));
    let (as_admin, as_reader) = (["--user", admin.as_str()], ["--user", reader.as_str()]);
    let wrong = ["--user", "viewer:wrong"];

    // The registry.
    assert_eq!(status("GET", &format!("{registry}/subjects"), &[], None)?, 401);
    assert_eq!(status("GET", &format!("{registry}/subjects"), &wrong, None)?, 401);
    assert_eq!(status("GET", &format!("{registry}/subjects"), &as_reader, None)?, 200);
    let schema = r#"{"schema": "{\"type\": \"string\"}"}"#;
    let versions = format!("{registry}/subjects/s-value/versions");
    assert_eq!(status("POST", &versions, &as_reader, Some(schema))?, 403);
    assert_eq!(status("POST", &versions, &as_admin, Some(schema))?, 200);
    let keeper = format!("keeper:{HASHED_PASSWORD}");
    for _ in 0..2 {
        assert_eq!(status("POST", &versions, &["--user", &keeper], Some(schema))?, 200, "hashed, then remembered");
        assert_eq!(status("GET", &format!("{registry}/subjects"), &["--user", "keeper:h4shed"], None)?, 401);
    }
    assert_eq!(status("POST", &format!("{registry}/subjects/s-value"), &as_reader, Some(schema))?, 200, "a lookup");
    let registered = script(&["registry", &registry, "orders-value", "--user", &admin])?;
    assert_eq!(value(&registered, "outcome"), "ok", "{registered:?}");
    let refused = script(&["registry", &registry, "orders-value", "--user", &reader])?;
    assert_eq!(value(&refused, "outcome"), "refused", "{refused:?}");
    assert_eq!(status("GET", &format!("{registry}/subjects"), &["--token", TOKEN], None)?, 200);
    assert_eq!(status("GET", &format!("{registry}/subjects"), &["--token", "nope"], None)?, 401);

    // The connect worker; its Avro converters reach the bundled registry as its own internal user.
    let connectors = format!("{connect}/connectors");
    assert_eq!(status("GET", &connectors, &[], None)?, 401);
    assert_eq!(status("GET", &connectors, &as_reader, None)?, 200);
    let datagen = r#"{"name": "gen", "config": {"connector.class": "datagen", "kafka.topic": "generated",
        "rate": "50", "max.records": "20"}}"#;
    assert_eq!(status("POST", &connectors, &as_reader, Some(datagen))?, 403);
    assert_eq!(status("POST", &connectors, &["--token", TOKEN], Some(datagen))?, 201);
    wait_for_subject(&registry, &["--user", &admin])?;

    // `tidemark connector` logs in with --connect-user.
    let refused = run_cli(&["connector", "list", "--connect-url", &connect]);
    ensure!(refused.as_ref().is_err_and(|e| e.to_string().contains("401")), "{refused:?}");
    let listed = run_cli(&["connector", "list", "--connect-url", &connect, "--connect-user", &reader])?;
    ensure!(listed.contains("gen"), "{listed}");

    let log = up.log().join("\n");
    ensure!(log.contains("HTTP request refused: no valid credentials"), "no 401 logged:\n{log}");
    ensure!(log.contains("HTTP request refused: the caller is read-only"), "no 403 logged:\n{log}");
    let warned = log.contains("passwords are in clear") && (log.contains("ops,viewer") || log.contains("viewer,ops"));
    ensure!(warned, "no warning of the clear passwords:\n{log}");
    for secret in ["0ps-Secret-19", "v1ew-Secret-27", TOKEN, HASHED_PASSWORD] {
        ensure!(!log.contains(secret), "{secret} is in the log");
    }
    Ok(())
}

#[test]
fn with_tls_the_registry_answers_https_only() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let certificates = Certificates::generate(dir.path(), "localhost", "client")?;
    let (cert, key) = (certificates.server_cert.to_string_lossy(), certificates.server_key.to_string_lossy());
    let ca = certificates.ca.to_string_lossy().into_owned();
    // The worker's converters would reach the bundled registry over plain HTTP, so `up` wants a registry URL.
    let args = ["--http-tls-cert", &cert, "--http-tls-key", &key, "--schema-registry-url", "http://127.0.0.1:9"];
    let up = TidemarkProcess::start_up(&dir.path().join("data"), "127.0.0.1:0", "127.0.0.1:0", &args)?;
    let plain = up.registry_url.clone().context("registry url")?;
    let https = plain.replacen("http://127.0.0.1", "https://localhost", 1);
    let registered = script(&["registry", &https, "orders-value", "--ca", &ca])?;
    assert_eq!(value(&registered, "outcome"), "ok", "{registered:?}");
    assert_eq!(status("GET", &format!("{https}/subjects"), &["--ca", &ca], None)?, 200);
    assert_eq!(status("GET", &format!("{plain}/subjects"), &[], None)?, 0, "plain HTTP to the TLS port");
    up.wait_for_log("the refused handshake", Duration::from_secs(10), |line| {
        line.contains("HTTPS handshake failed; connection refused")
    })?;
    let connect_https =
        up.connect_url.clone().context("connect url")?.replacen("http://127.0.0.1", "https://localhost", 1);
    assert_eq!(status("GET", &format!("{connect_https}/connectors"), &["--ca", &ca], None)?, 200);

    // Tidemark's own HTTPS clients: a connector whose Avro converter reaches the registry over https (its CA as
    // the converter's PEM truststore), created and listed by `tidemark connector` over https.
    let definition = serde_json::json!({"name": "gen", "config": {
        "connector.class": "datagen", "kafka.topic": "generated", "rate": "50", "max.records": "5",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": https,
        "value.converter.schema.registry.ssl.truststore.location": ca,
        "value.converter.schema.registry.ssl.truststore.type": "PEM",
    }});
    let file = dir.path().join("gen.json");
    std::fs::write(&file, definition.to_string())?;
    let file = file.to_string_lossy().into_owned();
    let untrusted = run_cli(&["connector", "list", "--connect-url", &connect_https]);
    ensure!(untrusted.is_err(), "the worker's certificate is not in the system's store: {untrusted:?}");
    let over_https = ["--connect-url", connect_https.as_str(), "--connect-ca", ca.as_str()];
    run_cli(&[&["connector", "create", &file][..], &over_https].concat())?;
    wait_for_subject(&https, &["--ca", &ca])?;
    let listed = run_cli(&[&["connector", "list"][..], &over_https].concat())?;
    ensure!(listed.contains("gen") && listed.contains("RUNNING"), "{listed}");
    Ok(())
}
