//! Observability end to end, against the real binary:
//!
//! - `tidemark up` serves the broker's, the registry's and the worker's metrics in one OpenMetrics text on the
//!   connect listener's `GET /metrics`: librdkafka traffic moves the per-topic counters by what was sent, the request
//!   histogram has Produce and Fetch, an incompatible registration counts once; the registry listener serves its own.
//! - `tidemark broker --metrics-listen` serves the broker's metrics on a listener of their own.
//! - `--log-format json` writes one JSON object a line, each with a level and a message.
//! - The Grafana dashboard (`compose/grafana/tidemark.json`) is valid JSON whose queries name only metrics that a
//!   busy `tidemark up` serves (a Postgres source, a file sink dead-lettering a bad record, clients, a refused
//!   schema: the text leaves out metrics without series).
//! - Source lag: a Postgres slot's unconfirmed WAL in bytes and the seconds behind of the MySQL source (MariaDB),
//!   each moved on purpose.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::{json, Value as Json};
use tidemark_tests::connect_client::{avro_records, create_connectors};
use tidemark_tests::mariadb::MariaDbServer;
use tidemark_tests::postgres::PostgresServer;
use tidemark_tests::{client_config, consume, consumer_from_start, repo_root, tidemark_binary, TidemarkProcess};

/// How long a test waits for what should take a few seconds at most.
const PATIENCE: Duration = Duration::from_secs(60);
/// The media type of every metrics answer.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A bare HTTP/1.0 request to `address` (`host:port` or `http://host:port`); answers the status, the head and the
/// body.
fn http(address: &str, method: &str, path: &str, body: &str) -> Result<(u16, String, String)> {
    let address = address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").with_context(|| format!("not HTTP: {answer}"))?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).with_context(|| format!("no status: {head}"))?;
    Ok((status, head.to_owned(), body.to_owned()))
}

/// `GET /metrics` at `address`: OpenMetrics text ending in `# EOF`.
fn scrape(address: &str) -> Result<String> {
    let (status, head, text) = http(address, "GET", "/metrics", "")?;
    ensure!(status == 200, "GET /metrics: {head}\n{text}");
    ensure!(head.to_ascii_lowercase().contains(&format!("content-type: {OPENMETRICS}")), "{head}");
    ensure!(text.ends_with("# EOF\n") && text.matches("# EOF").count() == 1, "one exposition:\n{text}");
    Ok(text)
}

/// The value of the sample rendered exactly as `series` (name and labels), if there is one.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.split(' ').next()?.parse().ok())
}

/// [`sample`], which must be there.
fn value(text: &str, series: &str) -> Result<f64> {
    sample(text, series).with_context(|| format!("no {series} in\n{text}"))
}

/// Scrapes `address` until `series` has a sample that `wanted` accepts, within [`PATIENCE`]; answers it.
fn wait_for_sample(address: &str, series: &str, wanted: impl Fn(f64) -> bool) -> Result<f64> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = scrape(address)?;
        match sample(&text, series) {
            Some(found) if wanted(found) => return Ok(found),
            found => ensure!(Instant::now() < deadline, "{series} is {found:?}:\n{text}"),
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The metric families a scrape declares (`# TYPE <name> <type>`).
fn families(text: &str) -> BTreeSet<String> {
    text.lines().filter_map(|line| Some(line.strip_prefix("# TYPE ")?.split(' ').next()?.to_owned())).collect()
}

/// Produces `payloads` to `topic` (one partition) with an idempotent librdkafka producer (so a retry cannot write
/// a record twice), waits for every acknowledgement, and reads them back with librdkafka.
fn produce_and_consume(bootstrap: &str, topic: &str, payloads: &[&[u8]]) -> Result<()> {
    let producer: BaseProducer =
        client_config(bootstrap).set("enable.idempotence", "true").set("linger.ms", "5").create()?;
    for payload in payloads {
        producer.send(BaseRecord::<(), [u8]>::to(topic).payload(payload)).map_err(|(e, _)| e)?;
    }
    producer.flush(PATIENCE)?;
    let consumer = consumer_from_start(bootstrap, topic, 1)?;
    let read = consume(&consumer, payloads.len(), PATIENCE)?;
    ensure!(read.len() == payloads.len(), "{} of {} records read back", read.len(), payloads.len());
    Ok(())
}

/// Registers a schema under `<topic>-value`, then one BACKWARD (the default) refuses: a new field without a default
/// cannot read the old records.
fn register_and_refuse(registry: &str, topic: &str) -> Result<()> {
    let subject = format!("/subjects/{topic}-value/versions");
    let first = json!({"schema": r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#});
    let incompatible = json!({"schema": r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},
        {"name":"b","type":"int"}]}"#});
    let (status, _, body) = http(registry, "POST", &subject, &first.to_string())?;
    ensure!(status == 200, "{status} {body}");
    let (status, _, body) = http(registry, "POST", &subject, &incompatible.to_string())?;
    ensure!(status == 409, "{status} {body}");
    Ok(())
}

#[test]
fn up_serves_every_components_metrics_on_the_connect_listener() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let (connect, registry) = (
        tidemark.connect_url.clone().context("no connect worker")?,
        tidemark.registry_url.clone().context("no registry")?,
    );
    let (records, size) = (20, 100);
    let payload = vec![b'x'; size];
    produce_and_consume(&tidemark.bootstrap, "metered", &vec![payload.as_slice(); records])?;
    register_and_refuse(&registry, "metered")?;

    let text = scrape(&connect)?;
    let bytes_in = value(&text, r#"tidemark_broker_bytes_in_total{topic="metered"}"#)?;
    assert!(bytes_in >= (records * size) as f64, "batches carry the payloads and their framing: {bytes_in}");
    assert_eq!(value(&text, r#"tidemark_broker_records_in_total{topic="metered"}"#)?, records as f64);
    let out = r#"{topic="metered",fetcher="consumer"}"#;
    assert!(value(&text, &format!("tidemark_broker_records_out_total{out}"))? >= records as f64);
    assert!(value(&text, &format!("tidemark_broker_bytes_out_total{out}"))? >= (records * size) as f64);
    for api in ["Produce", "Fetch", "Metadata", "ApiVersions"] {
        let count = value(&text, &format!(r#"tidemark_broker_request_seconds_count{{api="{api}"}}"#))?;
        assert!(count >= 1.0, "{api}: {count}");
    }
    assert!(sample(&text, r#"tidemark_broker_bytes_out_total{topic="metered",fetcher="replica"}"#).is_none());
    assert_eq!(value(&text, "tidemark_broker_under_replicated_partitions")?, 0.0, "a single node");
    assert_eq!(value(&text, "tidemark_broker_isr_shrinks_total")?, 0.0);
    let failures = r#"tidemark_registry_compatibility_failures_total{request="register"}"#;
    assert_eq!(value(&text, failures)?, 1.0);
    let requests = r#"tidemark_registry_requests_total{endpoint="/subjects/{subject}/versions",method="POST""#;
    assert_eq!(value(&text, &format!(r#"{requests},status="200"}}"#))?, 1.0);
    assert_eq!(value(&text, &format!(r#"{requests},status="409"}}"#))?, 1.0);

    // The registry's own listener serves the registry's metrics alone.
    let own = scrape(&registry)?;
    assert_eq!(value(&own, failures)?, 1.0);
    assert!(families(&own).iter().all(|f| f.starts_with("tidemark_registry_")), "{own}");
    Ok(())
}

#[test]
fn the_grafana_dashboard_queries_only_metrics_a_busy_tidemark_serves() -> Result<()> {
    let path = repo_root().join("compose/grafana/tidemark.json");
    let dashboard: Json = serde_json::from_str(&std::fs::read_to_string(&path)?).context("the dashboard's JSON")?;
    let variables = dashboard["templating"]["list"].as_array().context("templating")?;
    ensure!(
        variables.iter().any(|v| v["type"] == "datasource" && v["query"] == "prometheus" && v["name"] == "datasource"),
        "a Prometheus datasource variable: {variables:?}"
    );
    let mut queried = BTreeSet::new();
    for panel in dashboard["panels"].as_array().context("panels")?.iter().filter(|p| p["type"] != "row") {
        let title = panel["title"].as_str().unwrap_or_default();
        ensure!(panel["datasource"]["uid"] == "${datasource}", "{title}: not on the datasource variable");
        let targets =
            panel["targets"].as_array().filter(|t| !t.is_empty()).with_context(|| format!("{title}: no queries"))?;
        for expr in targets.iter().map(|t| t["expr"].as_str().unwrap_or_default()) {
            let names = metric_names(expr);
            ensure!(!names.is_empty(), "{title}: {expr} queries no Tidemark metric");
            queried.extend(names);
        }
    }
    ensure!(queried.len() >= 20, "{queried:?}");

    // Every component busy: a Postgres source, a file sink that dead-letters a record its converter refuses,
    // librdkafka clients, a refused schema.
    let source = PostgresSource::start("dash")?;
    let (tidemark, connect) = (&source.tidemark, source.connect.as_str());
    let sink = json!({"name": "files", "config": {
        "connector.class": "file",
        "topics": "raw",
        "file": source.dir.path().join("raw.jsonl").to_string_lossy(),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "raw-dead",
        "offset.flush.interval.ms": "200",
    }});
    create_connectors(connect, source.dir.path(), &[sink])?;
    produce_and_consume(&tidemark.bootstrap, "raw", &[b"not json", br#"{"a": 1}"#])?;
    register_and_refuse(tidemark.registry_url.as_deref().context("no registry")?, "raw")?;
    postgres(&source.server, "INSERT INTO items VALUES (2)")?;

    let deadline = Instant::now() + PATIENCE;
    loop {
        let served = families(&scrape(connect)?);
        let missing: Vec<&String> = queried
            .iter()
            .filter(|name| {
                let family =
                    ["_total", "_bucket", "_count", "_sum"].iter().find_map(|suffix| name.strip_suffix(suffix));
                !served.contains(*name) && !family.is_some_and(|family| served.contains(family))
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "the dashboard queries {missing:?}, which are not served: {served:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The Tidemark metric names (`tidemark_...`, `connect_...`) a PromQL expression names.
fn metric_names(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("tidemark_") || word.starts_with("connect_"))
        .map(str::to_owned)
        .collect()
}

/// A `tidemark broker` these tests start themselves, to read its standard error. Killed when dropped.
struct Broker {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Broker {
    /// `tidemark broker` on a free Kafka port, storing in `dir`, with `args`.
    fn start(dir: &Path, args: &[&str]) -> Result<Self> {
        let mut child = Command::new(tidemark_binary()?)
            .args(["broker", "--kafka-listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().context("no stderr")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[tidemark] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Broker { child, lines })
    }

    /// The lines logged up to the first containing `marker`, that one included.
    fn lines_until(&self, marker: &str) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        loop {
            let line = self.lines.recv_timeout(PATIENCE).map_err(|_| anyhow!("no '{marker}' logged: {lines:#?}"))?;
            let done = line.contains(marker);
            lines.push(line);
            if done {
                return Ok(lines);
            }
        }
    }

    /// The addresses the text log gives after each of `markers` (`... ready address=`), in any order.
    fn addresses(&self, markers: &[&str]) -> Result<Vec<String>> {
        let mut found: Vec<Option<String>> = vec![None; markers.len()];
        while found.iter().any(Option::is_none) {
            let line = self.lines.recv_timeout(PATIENCE).map_err(|_| anyhow!("not every one of {markers:?}"))?;
            for (marker, slot) in markers.iter().zip(found.iter_mut()) {
                if let Some(rest) = line.split(marker).nth(1) {
                    *slot = rest.split_whitespace().next().map(str::to_owned);
                }
            }
        }
        Ok(found.into_iter().flatten().collect())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_broker_alone_serves_its_metrics_on_metrics_listen() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = Broker::start(dir.path(), &["--metrics-listen", "127.0.0.1:0"])?;
    let found = broker.addresses(&["kafka listener ready address=", "metrics listener ready address="])?;
    let (kafka, metrics) = (&found[0], &found[1]);
    produce_and_consume(kafka, "alone", &[b"0123456789".as_slice(); 5])?;
    let text = scrape(metrics)?;
    assert_eq!(value(&text, r#"tidemark_broker_records_in_total{topic="alone"}"#)?, 5.0);
    assert!(value(&text, r#"tidemark_broker_records_out_total{topic="alone",fetcher="consumer"}"#)? >= 5.0);
    assert!(value(&text, r#"tidemark_broker_request_seconds_count{api="Produce"}"#)? >= 1.0);
    assert_eq!(value(&text, "tidemark_broker_under_replicated_partitions")?, 0.0);
    assert!(families(&text).iter().all(|f| f.starts_with("tidemark_broker_")), "the broker's alone:\n{text}");
    Ok(())
}

#[test]
fn json_logs_are_one_object_a_line_with_level_and_message() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = Broker::start(dir.path(), &["--log-format", "json"])?;
    let lines = broker.lines_until("kafka listener ready")?;
    for line in &lines {
        let event: Json = serde_json::from_str(line).with_context(|| format!("not JSON: {line}"))?;
        ensure!(event["level"].is_string() && event["message"].is_string(), "no level or message: {line}");
    }
    let ready: Json = serde_json::from_str(lines.last().context("no line")?)?;
    assert_eq!(ready["level"], "INFO");
    assert_eq!(ready["message"], "kafka listener ready");
    assert!(ready["address"].as_str().is_some_and(|a| a.starts_with("127.0.0.1:")), "the event's fields: {ready}");
    Ok(())
}

/// Runs `sql` against the test's Postgres (simple query protocol).
fn postgres(server: &PostgresServer, sql: &str) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&server.connection_string(), tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        client.batch_execute(sql).await.with_context(|| format!("running {sql}"))
    })
}

/// A Postgres with a captured table `items` (one row) and an uncaptured `filler`, and `tidemark up` streaming it
/// with the Postgres source named `name` (topic prefix `name`), its snapshot read.
struct PostgresSource {
    server: PostgresServer,
    dir: tempfile::TempDir,
    tidemark: TidemarkProcess,
    connect: String,
}

impl PostgresSource {
    fn start(name: &str) -> Result<Self> {
        let server = PostgresServer::start()?;
        postgres(
            &server,
            "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1); CREATE TABLE filler (t text);",
        )?;
        let dir = tempfile::tempdir()?;
        let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
        let connect = tidemark.connect_url.clone().context("no connect worker")?;
        let definition = json!({"name": name, "config": {
            "connector.class": "postgres",
            "database.hostname": server.host,
            "database.port": server.port.to_string(),
            "database.user": server.user,
            "database.password": server.password,
            "database.dbname": server.dbname,
            "topic.prefix": name,
            "table.include.list": "public.items",
        }});
        create_connectors(&connect, dir.path(), &[definition])?;
        avro_records(&tidemark, &format!("{name}.public.items"), 1)?;
        Ok(PostgresSource { server, dir, tidemark, connect })
    }
}

#[test]
fn the_postgres_source_reports_its_slots_unconfirmed_wal_and_seconds_behind() -> Result<()> {
    let source = PostgresSource::start("pglag")?;
    let connect = source.connect.as_str();
    // WAL of a table the connector does not capture: nothing to write, so the slot's confirmed position stays.
    postgres(&source.server, "INSERT INTO filler SELECT repeat(md5(g::text), 8) FROM generate_series(1, 12000) g")?;
    let bytes = r#"connect_source_lag_bytes{connector="pglag",task="0"}"#;
    let behind = wait_for_sample(connect, bytes, |b| b >= 2_000_000.0)?;

    // A captured change, once durable, moves the slot's confirmed position past the filler.
    postgres(&source.server, "INSERT INTO items VALUES (2)")?;
    avro_records(&source.tidemark, "pglag.public.items", 2)?;
    let caught_up = wait_for_sample(connect, bytes, |b| b < 100_000.0)?;
    let seconds = value(&scrape(connect)?, r#"connect_source_lag_seconds{connector="pglag",task="0"}"#)?;
    eprintln!("slot lag: {behind} bytes after the filler, then {caught_up} bytes and {seconds} s");
    assert!((0.0..30.0).contains(&seconds), "the change was read as it committed: {seconds}");
    Ok(())
}

#[test]
fn the_mysql_source_reports_its_seconds_behind() -> Result<()> {
    let server = MariaDbServer::start()?;
    server.root_sql(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id int PRIMARY KEY); INSERT INTO shop.items VALUES (1);",
    )?;
    let dir = tempfile::tempdir()?;
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let connect = tidemark.connect_url.clone().context("no connect worker")?;
    let definition = json!({"name": "mylag", "config": {
        "connector.class": "mysql",
        "database.hostname": server.host,
        "database.port": server.port.to_string(),
        "database.user": server.user,
        "database.password": server.password,
        "database.server.id": "5601",
        "topic.prefix": "mylag",
        "table.include.list": "shop.items",
    }});
    create_connectors(&connect, dir.path(), &[definition])?;
    avro_records(&tidemark, "mylag.shop.items", 1)?;
    let seconds = r#"connect_source_lag_seconds{connector="mylag",task="0"}"#;

    // A transaction the server logs as written an hour ago (the session's timestamp goes into its events), as a
    // connector an hour behind would read it.
    server.root_sql("SET timestamp = UNIX_TIMESTAMP() - 3600; INSERT INTO shop.items VALUES (2);")?;
    let behind = wait_for_sample(&connect, seconds, |s| s >= 3500.0)?;
    assert!(behind < 3700.0, "an hour behind: {behind}");
    server.root_sql("INSERT INTO shop.items VALUES (3);")?;
    let caught_up = wait_for_sample(&connect, seconds, |s| s < 60.0)?;
    eprintln!("seconds behind: {behind}, then {caught_up}");
    Ok(())
}
