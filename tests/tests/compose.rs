//! The docker compose files of `compose/` (issue 10), checked without a Docker engine:
//!
//! - `docker compose config` (or docker-compose 1.29's) accepts `docker-compose.yml` and `cluster.yml` (with its
//!   `apps` profile), where a compose implementation is installed; otherwise the test says why it checked nothing.
//! - The connector configs in `compose/connectors/` are Kafka Connect POST bodies named after their files, and every
//!   file the compose files mount or build from exists.
//! - The seed SQL and the connector configs work: `postgres/init.sql` and `mysql/init.sql` run on a real Postgres and
//!   a real MariaDB (the MySQL 8.4 of the compose file is not on these machines; the SQL is the same), the three
//!   connectors are created in `tidemark up` as they are, only pointed at those servers, and events flow: the
//!   tables' rows, the outbox rows routed by the `EventRouter` to `outbox.event.order`, and the JDBC sink's
//!   `customers` table in the database `sink` equal to the source table, after the snapshot and after changes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::{Map, Value as Json};
use tidemark_tests::connect_client::{at, avro_records, create_connectors};
use tidemark_tests::mariadb::MariaDbServer;
use tidemark_tests::postgres::{PgSession, PostgresServer};
use tidemark_tests::{repo_root, TidemarkProcess};

/// The compose files, with the profiles whose services `config` must also accept.
const COMPOSE_FILES: [(&str, &[&str]); 2] = [("docker-compose.yml", &[]), ("cluster.yml", &["apps"])];
/// The connector classes the examples must cover: the two sources and the sink.
const CLASSES: [&str; 3] = [
    "io.debezium.connector.postgresql.PostgresConnector",
    "io.debezium.connector.mysql.MySqlConnector",
    "io.debezium.connector.jdbc.JdbcSinkConnector",
];
/// How long the end-to-end test waits for what takes a few seconds.
const PATIENCE: Duration = Duration::from_secs(60);

fn compose_dir() -> PathBuf {
    repo_root().join("compose")
}

/// `docker compose` (the v2 plugin) or `docker-compose` (v1), whichever answers `version`.
fn compose_command() -> Option<Vec<&'static str>> {
    [&["docker", "compose"][..], &["docker-compose"][..]].into_iter().find_map(|command| {
        let answered = Command::new(command[0])
            .args(&command[1..])
            .arg("version")
            .output()
            .is_ok_and(|output| output.status.success());
        answered.then(|| command.to_vec())
    })
}

/// Runs `<compose> -f FILE [--profile P ...] config -q`; answers whether it accepted the file, and its errors.
fn compose_config(compose: &[&str], file: &Path, profiles: &[&str]) -> Result<(bool, String)> {
    let mut command = Command::new(compose[0]);
    command.args(&compose[1..]).arg("-f").arg(file);
    for profile in profiles {
        command.args(["--profile", profile]);
    }
    let output = command
        .args(["config", "-q"])
        .env_remove("TIDEMARK_ADVERTISED_KAFKA")
        .current_dir(repo_root())
        .output()
        .with_context(|| format!("running {compose:?}"))?;
    Ok((output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned()))
}

#[test]
fn compose_files_pass_docker_compose_config() -> Result<()> {
    let Some(compose) = compose_command() else {
        eprintln!(
            "checked nothing: neither `docker compose version` nor `docker-compose version` works here (scripts/test \
             installs Debian's docker-compose where the docker client is present)"
        );
        return Ok(());
    };
    eprintln!("validating with {}", compose.join(" "));
    for (file, profiles) in COMPOSE_FILES {
        let path = compose_dir().join(file);
        let (accepted, errors) = compose_config(&compose, &path, profiles)?;
        ensure!(accepted, "{} config -q refused compose/{file}:\n{errors}", compose.join(" "));
    }
    // The implementation does check: a service with a key the compose specification does not have is refused.
    let dir = tempfile::tempdir()?;
    let broken = dir.path().join("broken.yml");
    std::fs::write(&broken, "services:\n  tidemark:\n    image: tidemark:local\n    listen_on: 9092\n")?;
    let (accepted, _) = compose_config(&compose, &broken, &[])?;
    ensure!(!accepted, "{} config -q accepted a file with an unknown service key", compose.join(" "));
    Ok(())
}

/// Every `compose/connectors/*.json`, with its file stem.
fn connector_files() -> Result<Vec<(String, Json)>> {
    let dir = compose_dir().join("connectors");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).context("a file name that is not UTF-8")?.to_owned();
        let text = std::fs::read_to_string(&path)?;
        let parsed = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        files.push((stem, parsed));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// What is wrong with one connector definition (Kafka Connect's POST /connectors body).
fn definition_problems(stem: &str, definition: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    if definition.as_object().is_none_or(|o| o.len() != 2) {
        problems.push("must have exactly the members \"name\" and \"config\"".to_owned());
    }
    match definition["name"].as_str() {
        Some(name) if name == stem => {}
        other => problems.push(format!("\"name\" is {other:?}, not the file's name {stem:?}")),
    }
    let Some(config) = definition["config"].as_object() else {
        problems.push("\"config\" is not an object".to_owned());
        return problems;
    };
    if config.get("connector.class").and_then(Json::as_str).is_none_or(str::is_empty) {
        problems.push("config has no \"connector.class\"".to_owned());
    }
    // Kafka Connect's REST API takes a map of strings.
    for (key, value) in config {
        if !value.is_string() {
            problems.push(format!("config.{key} is {value}, not a string"));
        }
    }
    // Every listed transform and predicate has its type; every transform's predicate is listed.
    let listed = |key: &str| -> BTreeSet<String> {
        let list = config.get(key).and_then(Json::as_str).unwrap_or_default();
        list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    let predicates = listed("predicates");
    for (kind, aliases) in [("transforms", listed("transforms")), ("predicates", predicates.clone())] {
        for alias in aliases {
            if config.get(&format!("{kind}.{alias}.type")).and_then(Json::as_str).is_none_or(str::is_empty) {
                problems.push(format!("{kind}.{alias}.type is missing"));
            }
            if let Some(predicate) = config.get(&format!("{kind}.{alias}.predicate")).and_then(Json::as_str) {
                if !predicates.contains(predicate) {
                    problems.push(format!("{kind}.{alias}.predicate names {predicate}, not listed in predicates"));
                }
            }
        }
    }
    problems
}

/// The host paths the compose file mounts (`- ./x:/y[:ro]` items) and builds from (`context:` + `dockerfile:`),
/// relative to `compose/`, read from its text (the tests have no YAML parser; the items are written plainly).
fn local_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut context = None;
    for line in text.lines().map(str::trim) {
        if let Some(item) = line.strip_prefix("- ").map(|i| i.trim_matches('"')) {
            if item.starts_with("./") || item.starts_with("../") {
                if let Some((host, _)) = item.split_once(':') {
                    paths.push(host.to_owned());
                }
            }
        } else if let Some(dir) = line.strip_prefix("context:") {
            context = Some(dir.trim().to_owned());
        } else if let Some(file) = line.strip_prefix("dockerfile:") {
            let dir = context.clone().unwrap_or_else(|| ".".to_owned());
            paths.push(format!("{dir}/{}", file.trim()));
        }
    }
    paths
}

#[test]
fn connector_configs_and_every_mounted_file_are_in_place() -> Result<()> {
    let files = connector_files()?;
    let mut problems = Vec::new();
    for (stem, definition) in &files {
        problems.extend(definition_problems(stem, definition).into_iter().map(|p| format!("{stem}.json: {p}")));
    }
    let classes: BTreeSet<&str> =
        files.iter().filter_map(|(_, d)| d.pointer("/config/connector.class").and_then(Json::as_str)).collect();
    for class in CLASSES {
        if !classes.contains(class) {
            problems.push(format!("no connector in compose/connectors uses {class}"));
        }
    }
    for (file, _) in COMPOSE_FILES {
        let text = std::fs::read_to_string(compose_dir().join(file))?;
        let paths = local_paths(&text);
        if !paths.iter().any(|p| p.ends_with("compose/Dockerfile")) {
            problems.push(format!("{file} does not build compose/Dockerfile"));
        }
        for path in paths {
            if !compose_dir().join(&path).exists() {
                problems.push(format!("{file} uses {path}, which does not exist"));
            }
        }
    }
    // What the demo stands on: the seed SQL where the database images run it, and the connector configs.
    let main = std::fs::read_to_string(compose_dir().join("docker-compose.yml"))?;
    for mount in [
        "./postgres/init.sql:/docker-entrypoint-initdb.d/",
        "./mysql/init.sql:/docker-entrypoint-initdb.d/",
        "./connectors:/connectors",
    ] {
        if !main.contains(mount) {
            problems.push(format!("docker-compose.yml does not mount {mount}"));
        }
    }
    ensure!(problems.is_empty(), "compose/ is broken:\n{}", problems.join("\n"));
    Ok(())
}

/// `compose/postgres/init.sql` through `psql`, as the postgres image's entrypoint runs it.
fn run_psql_file(server: &PostgresServer, file: &Path) -> Result<()> {
    let psql = ["psql".into()]
        .into_iter()
        .chain(glob_psql())
        .find(|p: &PathBuf| Command::new(p).arg("--version").output().is_ok_and(|o| o.status.success()))
        .context("no psql (Debian's postgresql package has it)")?;
    let output = Command::new(psql)
        .args(["-v", "ON_ERROR_STOP=1", "--no-psqlrc", "-q", "-h", &server.host, "-p", &server.port.to_string()])
        .args(["-U", &server.user, "-d", &server.dbname, "-f"])
        .arg(file)
        .env("PGPASSWORD", &server.password)
        .output()?;
    ensure!(output.status.success(), "psql -f {}: {}", file.display(), String::from_utf8_lossy(&output.stderr));
    Ok(())
}

fn glob_psql() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.path().join("bin/psql")).filter(|p| p.exists()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

/// A connector definition pointed at the test's servers instead of the compose services `postgres` and `mysql`;
/// everything else stays as the file has it.
fn pointed_at(definition: &Json, pg: &PostgresServer, maria: &MariaDbServer) -> Result<Json> {
    let mut definition = definition.clone();
    let config: &mut Map<String, Json> = definition["config"].as_object_mut().context("no config")?;
    let text = |config: &Map<String, Json>, key: &str| config.get(key).and_then(Json::as_str).map(str::to_owned);
    match text(config, "database.hostname").as_deref() {
        Some("postgres") => {
            config.insert("database.hostname".into(), pg.host.clone().into());
            config.insert("database.port".into(), pg.port.to_string().into());
            ensure!(text(config, "database.user").as_deref() == Some(pg.user.as_str()), "not the superuser");
            config.insert("database.password".into(), pg.password.clone().into());
        }
        Some("mysql") => {
            config.insert("database.hostname".into(), maria.host.clone().into());
            config.insert("database.port".into(), maria.port.to_string().into());
        }
        Some(other) => bail!("unexpected database.hostname {other}"),
        None => {}
    }
    if let Some(url) = text(config, "connection.url") {
        let pointed = url.replace("//postgres:5432/", &format!("//{}:{}/", pg.host, pg.port));
        ensure!(pointed != url, "unexpected connection.url {url}");
        config.insert("connection.url".into(), pointed.into());
        ensure!(text(config, "connection.username").as_deref() == Some(pg.user.as_str()), "not the superuser");
        config.insert("connection.password".into(), pg.password.clone().into());
    }
    Ok(definition)
}

const CUSTOMERS: &str = "SELECT id, first_name, last_name, email FROM customers ORDER BY id";

/// Waits until the sink's `customers` table equals the source's `inventory.customers`.
fn wait_for_sink(source: &PgSession, sink: &PgSession, what: &str) -> Result<()> {
    let expected = source.rows(&CUSTOMERS.replace("FROM customers", "FROM inventory.customers"))?;
    let started = Instant::now();
    loop {
        // The table appears with the first record (schema.evolution=basic).
        let copied = sink.rows(CUSTOMERS).unwrap_or_default();
        if copied == expected {
            return Ok(());
        }
        ensure!(started.elapsed() < PATIENCE, "{what}: the sink's customers are {copied:?}, the source's {expected:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn seed_sql_and_connector_configs_work_against_real_databases() -> Result<()> {
    let pg = PostgresServer::start()?;
    run_psql_file(&pg, &compose_dir().join("postgres/init.sql"))?;
    let maria = MariaDbServer::start()?;
    maria.root_sql(&std::fs::read_to_string(compose_dir().join("mysql/init.sql"))?)?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let tidemark = TidemarkProcess::start_up(&data, "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let connect_url = tidemark.connect_url.clone().context("no connect worker")?;

    let definitions = connector_files()?
        .iter()
        .map(|(_, definition)| pointed_at(definition, &pg, &maria))
        .collect::<Result<Vec<_>>>()?;
    let created = dir.path().join("connectors");
    std::fs::create_dir_all(&created)?;
    // Returns once every task runs.
    create_connectors(&connect_url, &created, &definitions)?;

    // The snapshot: the outbox rows routed by aggregatetype, keyed by aggregateid, with the id header.
    let events = avro_records(&tidemark, "outbox.event.order", 4)?;
    let keys: Vec<&Json> = events.iter().map(|e| at(e, "/key")).collect();
    ensure!(keys == ["1", "2", "3", "4"], "outbox.event.order keys {keys:?}: {events:#?}");
    for (n, event) in events.iter().enumerate() {
        let id = format!("7b5b4c5e-3c4f-4d8e-9a55-0f1d2c3b4a0{}", n + 1);
        ensure!(at(event, "/headers/id") == &Json::from(id.clone()), "event {n} has not the id {id}: {event:#?}");
        let payload: Json = serde_json::from_str(at(event, "/value").as_str().unwrap_or_default())
            .with_context(|| format!("event {n}'s value is not the JSON payload: {event:#?}"))?;
        ensure!(payload["order"] == n + 1, "event {n}: {payload}");
    }
    // The other Postgres tables keep their change events (the router's predicate spares them).
    let orders = avro_records(&tidemark, "dbserver1.inventory.orders", 4)?;
    ensure!(orders.iter().all(|o| at(o, "/value/op") == "r"), "dbserver1.inventory.orders: {orders:#?}");
    // MySQL's rows, as the connector's user from mysql/init.sql reads them.
    let customers = avro_records(&tidemark, "dbserver2.inventory.customers", 4)?;
    let emails: BTreeSet<&str> = customers.iter().filter_map(|c| at(c, "/value/after/email").as_str()).collect();
    ensure!(
        emails
            == BTreeSet::from(["sally.thomas@acme.com", "gbailey@foobar.com", "ed@walker.com", "annek@noanswer.org"]),
        "dbserver2.inventory.customers: {customers:#?}"
    );
    let source = pg.session(&pg.dbname)?;
    let sink = pg.session("sink")?;
    wait_for_sink(&source, &sink, "after the snapshot")?;

    // Streaming: an update, a delete (the sink deletes by key), an insert, and an order with its outbox event.
    source.rows(
        "UPDATE inventory.customers SET email = 'sally@acme.com' WHERE id = 1;
         DELETE FROM inventory.customers WHERE id = 4;
         INSERT INTO inventory.customers (first_name, last_name, email) VALUES ('Ada', 'Lovelace', 'ada@example.com');
         INSERT INTO inventory.orders (purchaser, product_id, quantity) VALUES (1, 2, 1);
         INSERT INTO inventory.outbox (id, aggregatetype, aggregateid, type, payload)
         VALUES (gen_random_uuid(), 'order', '5', 'OrderCreated', '{\"order\": 5}');",
    )?;
    wait_for_sink(&source, &sink, "after the changes")?;
    let events = avro_records(&tidemark, "outbox.event.order", 5)?;
    ensure!(events.len() == 5 && at(&events[4], "/key") == "5", "outbox.event.order: {events:#?}");
    Ok(())
}
