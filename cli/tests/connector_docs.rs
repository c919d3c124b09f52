//! The connector reference, `docs/connectors.md`, is generated from the settings the code declares (each
//! connector's `ConfigDef`, the worker's common, `errors.*` and sink settings, every transform's and predicate's), so
//! it cannot drift from them: these tests render it and compare. `TIDEMARK_UPDATE_DOCS=1 cargo test -p tidemark
//! --test connector_docs` writes it anew.
//!
//! - `reference_matches_the_code`: every property in the reference is declared in the code and every declared one is
//!   in the reference, with the same type, default and description.
//! - `reference_matches_what_the_binary_serves`: the connector classes and aliases of the reference are those the
//!   `tidemark` binary serves on `GET /connector-plugins`, each with the settings `GET
//!   /connector-plugins/{class}/config` answers (the binary registers the database connectors itself: this keeps
//!   the list in `plugins()` honest).
//! - `guides_name_only_real_properties_and_flags`: in the other guides, every property named in a table headed
//!   "Property" or "Setting" is declared in the code, every flag in a table headed "Flag" is one a `tidemark`
//!   command takes, and the tables headed "Unsupported property" list exactly the Debezium properties each database
//!   connector accepts without implementing them (the lists its task warns about).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tidemark_connect::config::{ConfigDef, ConfigKey, ConfigType};
use tidemark_connect::runtime::errors_def;
use tidemark_connect::transforms::registry::{PREDICATES, TRANSFORMS};
use tidemark_connect::worker::{common_def, sink_def, ConnectorKind, Plugin, Plugins};
use tidemark_jdbc::{JdbcSinkConnector, JDBC_SINK_ALIAS, JDBC_SINK_CLASS};
use tidemark_mysql::source::{MySqlConnector, MARIADB_CLASS, MYSQL_ALIAS, MYSQL_CLASS};
use tidemark_postgres::source::{PostgresConnector, POSTGRES_ALIAS, POSTGRES_CLASS};

/// The environment variable that makes the tests write `docs/connectors.md` instead of failing.
const UPDATE: &str = "TIDEMARK_UPDATE_DOCS";

/// Guides that are not checked for property names: the reference itself (checked whole) and the benchmarks.
const NOT_GUIDES: &[&str] = &["connectors.md", "benchmarks.md"];

/// The connectors the binary runs: the worker's built-ins and the database connectors, registered as
/// `cli/src/serve.rs` registers them (`reference_matches_what_the_binary_serves` checks this list against it).
fn plugins() -> Plugins {
    Plugins::with([
        Plugin {
            class: POSTGRES_CLASS,
            aliases: &[POSTGRES_ALIAS],
            kind: ConnectorKind::Source(Arc::new(PostgresConnector)),
        },
        Plugin {
            class: MYSQL_CLASS,
            aliases: &[MYSQL_ALIAS, MARIADB_CLASS],
            kind: ConnectorKind::Source(Arc::new(MySqlConnector)),
        },
        Plugin {
            class: JDBC_SINK_CLASS,
            aliases: &[JDBC_SINK_ALIAS],
            kind: ConnectorKind::Sink(Arc::new(JdbcSinkConnector)),
        },
    ])
}

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

/// One section of the reference: a heading and the settings its table lists.
struct Section {
    heading: String,
    intro: String,
    def: ConfigDef,
}

/// Every section of the reference, in order, by part.
fn sections() -> Vec<(&'static str, &'static str, Vec<Section>)> {
    let plugins = plugins();
    let connectors = |wanted: &str| -> Vec<Section> {
        plugins
            .all()
            .iter()
            .filter(|p| p.type_name() == wanted)
            .map(|p| {
                let aliases: Vec<String> = p.aliases.iter().map(|a| format!("`{a}`")).collect();
                let intro = if aliases.is_empty() {
                    format!("A {wanted} connector.")
                } else {
                    format!("A {wanted} connector; `connector.class` may also be {}.", aliases.join(", "))
                };
                Section { heading: format!("`{}`", p.class), intro, def: p.connector().config_def() }
            })
            .collect()
    };
    let classes = |list: &[(&'static str, &'static str, ConfigDef)], kind: &str| -> Vec<Section> {
        list.iter()
            .map(|(class, simple, def)| Section {
                heading: format!("`{class}`"),
                intro: format!("Also `{simple}`. Settings under `{kind}.<alias>.`."),
                def: def.clone(),
            })
            .collect()
    };
    let transforms: Vec<_> = TRANSFORMS.iter().map(|t| (t.class, t.simple_name, (t.config_def)())).collect();
    let predicates: Vec<_> = PREDICATES.iter().map(|p| (p.class, p.simple_name, (p.config_def)())).collect();
    vec![
        (
            "Settings of every connector",
            "The worker reads these for every connector, whatever its class.",
            vec![
                Section { heading: "Common".into(), intro: String::new(), def: common_def() },
                Section {
                    heading: "Error handling".into(),
                    intro: "Retries, tolerance and dead letters (`errors.*`), for sources as well as sinks.".into(),
                    def: errors_def(),
                },
                Section {
                    heading: "Sink connectors".into(),
                    intro: "Every sink connector also has these: what it reads (exactly one of `topics` and \
                            `topics.regex`) and how many records one batch holds."
                        .into(),
                    def: sink_def(),
                },
            ],
        ),
        ("Source connectors", "", connectors("source")),
        ("Sink connectors", "", connectors("sink")),
        (
            "Transforms",
            "Listed in `transforms=<alias>,...`, each named by `transforms.<alias>.type=<class>` and optionally \
             applied only where a predicate holds (`transforms.<alias>.predicate=<name>`, \
             `transforms.<alias>.negate=true`).",
            classes(&transforms, "transforms"),
        ),
        (
            "Predicates",
            "Listed in `predicates=<name>,...`, each named by `predicates.<name>.type=<class>`.",
            classes(&predicates, "predicates"),
        ),
    ]
}

fn type_name(kind: ConfigType) -> &'static str {
    match kind {
        ConfigType::String => "string",
        ConfigType::Int => "int",
        ConfigType::Long => "long",
        ConfigType::Double => "double",
        ConfigType::Boolean => "boolean",
        ConfigType::List => "list",
        ConfigType::Password => "password",
        ConfigType::Class => "class",
    }
}

/// Text for a table cell: on one line, pipes escaped, and `<name>` shown rather than taken for HTML.
fn cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;")
}

fn default_cell(key: &ConfigKey) -> String {
    match key.default {
        None => "*required*".into(),
        Some("") => "`\"\"`".into(),
        Some(value) => format!("`{}`", value.replace('|', "\\|")),
    }
}

fn description_cell(key: &ConfigKey) -> String {
    let mut text = cell(key.doc);
    if !key.allowed.is_empty() {
        let allowed: Vec<String> = key.allowed.iter().map(|a| format!("`{a}`")).collect();
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("One of {}.", allowed.join(", ")));
    }
    text
}

/// `docs/connectors.md` as the code declares it.
fn render() -> String {
    let mut out = String::from(
        "# Connector reference\n\n\
         <!-- Generated from the code by cli/tests/connector_docs.rs: do not edit. After changing a connector's \
         settings run `TIDEMARK_UPDATE_DOCS=1 cargo test -p tidemark --test connector_docs`. -->\n\n\
         Every setting a connector config may hold, as the code declares it: the same definitions answer \
         `GET /connector-plugins/{class}/config` and `PUT /connector-plugins/{class}/config/validate`, and validate a \
         config before it is stored (every bad field is named). Values are strings, as in Kafka Connect; a *password* \
         is never shown in answers or logs, and any value may be a config provider reference (`${env:VAR}`, \
         `${file:/path:key}`), resolved when a task starts.\n\n\
         `connector.class` takes a class name, one of its aliases, or the class's simple name \
         (`PostgresConnector`). A connector accepts properties it does not declare (Debezium configs carry many): its task names them in a \
         warning when it starts, as \"not supported yet\" for Debezium's own properties it does not implement \
         ([from-debezium.md](from-debezium.md)).\n\n\
         Two families of settings are read by the runtime without a table here: a converter's own settings, \
         `key.converter.<setting>` and `value.converter.<setting>` (for example \
         `value.converter.schema.registry.url`; see [events.md](events.md)), and the transform chain's \
         (`transforms`, `predicates`, below). A worker started with a schema registry (`tidemark up`, or \
         `tidemark connect --schema-registry-url`) gives connectors that name no converter Avro through that \
         registry instead of the declared `json` default.\n",
    );
    for (part, intro, sections) in sections() {
        out.push_str(&format!("\n## {part}\n"));
        if !intro.is_empty() {
            out.push_str(&format!("\n{intro}\n"));
        }
        for section in sections {
            out.push_str(&format!("\n### {}\n", section.heading));
            if !section.intro.is_empty() {
                out.push_str(&format!("\n{}\n", section.intro));
            }
            if section.def.keys().is_empty() {
                out.push_str("\nNo settings.\n");
                continue;
            }
            out.push_str("\n| Property | Type | Default | Description |\n|---|---|---|---|\n");
            for key in section.def.keys() {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} |\n",
                    key.name,
                    type_name(key.kind),
                    default_cell(key),
                    description_cell(key)
                ));
            }
        }
    }
    out
}

/// The properties a reference lists, by section heading (`### ...`), read from its tables.
fn listed_properties(markdown: &str) -> BTreeSet<(String, String)> {
    let mut heading = String::new();
    let mut listed = BTreeSet::new();
    for line in markdown.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            heading = h.trim().to_owned();
        } else if let Some(name) = line.strip_prefix("| `").and_then(|rest| rest.split('`').next()) {
            listed.insert((heading.clone(), name.to_owned()));
        }
    }
    listed
}

/// What one set has and the other lacks, as lines; empty when they are equal.
fn differences(what: &str, documented: &BTreeSet<(String, String)>, code: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut lines = Vec::new();
    for (section, name) in documented.difference(code) {
        lines.push(format!("  {what}: `{name}` (under {section}) is in the docs but not in the code"));
    }
    for (section, name) in code.difference(documented) {
        lines.push(format!("  {what}: `{name}` (under {section}) is in the code but not in the docs"));
    }
    lines
}

#[test]
fn reference_matches_the_code() {
    let path = docs_dir().join("connectors.md");
    let rendered = render();
    if std::env::var_os(UPDATE).is_some_and(|v| v == "1") {
        std::fs::write(&path, &rendered).expect("writing docs/connectors.md");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let mut problems = differences("property", &listed_properties(&on_disk), &listed_properties(&rendered));
    if problems.is_empty() && on_disk != rendered {
        let (line, (disk, code)) = on_disk
            .lines()
            .zip(rendered.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, pair)| (i + 1, pair))
            .unwrap_or((on_disk.lines().count().min(rendered.lines().count()) + 1, ("(end)", "(end)")));
        problems.push(format!("  line {line} differs:\n    docs: {disk}\n    code: {code}"));
    }
    assert!(
        problems.is_empty(),
        "docs/connectors.md does not match the settings the code declares:\n{}\n\
         Regenerate it with `{UPDATE}=1 cargo test -p tidemark --test connector_docs` (and review the diff).",
        problems.join("\n")
    );
}

/// Every name a declared setting may be written as in a guide: connector, worker and sink settings as they are,
/// transform and predicate settings bare or under `transforms.<alias>.` / `predicates.<alias>.`.
fn declared_names() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut plain = BTreeSet::new();
    let mut nested = BTreeSet::new();
    for (part, _, sections) in sections() {
        for section in sections {
            let target = if part == "Transforms" || part == "Predicates" { &mut nested } else { &mut plain };
            target.extend(section.def.keys().iter().map(|k| k.name.to_owned()));
        }
    }
    (plain, nested)
}

fn is_declared(name: &str, (plain, nested): &(BTreeSet<String>, BTreeSet<String>)) -> bool {
    if plain.contains(name) || nested.contains(name) {
        return true;
    }
    ["transforms.", "predicates."].iter().any(|prefix| {
        name.strip_prefix(prefix).and_then(|rest| rest.split_once('.')).is_some_and(|(_, key)| nested.contains(key))
    })
}

/// A Markdown table: its header cells (lower case) and its rows' cells with their line numbers.
struct Table {
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

/// The cells of a table row; `\|` stays inside a cell (as a plain `|`).
fn cells(line: &str) -> Vec<String> {
    let body = line.trim().trim_start_matches('|');
    let mut cells = vec![String::new()];
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cells.last_mut().expect("a cell").push('|');
            }
            '|' => cells.push(String::new()),
            _ => cells.last_mut().expect("a cell").push(c),
        }
    }
    if cells.last().is_some_and(|c| c.trim().is_empty()) {
        cells.pop();
    }
    cells.into_iter().map(|c| c.trim().to_owned()).collect()
}

/// Every table of `markdown`.
fn tables(markdown: &str) -> Vec<Table> {
    let mut tables: Vec<Table> = Vec::new();
    let mut previous_was_row = false;
    for (number, line) in markdown.lines().enumerate() {
        let is_row = line.trim_start().starts_with('|');
        if is_row && !previous_was_row {
            let header = cells(line).iter().map(|c| c.to_ascii_lowercase()).collect();
            tables.push(Table { header, rows: Vec::new() });
        } else if is_row && !line.contains("---") {
            if let Some(table) = tables.last_mut() {
                table.rows.push((number + 1, cells(line)));
            }
        }
        previous_was_row = is_row;
    }
    tables
}

/// The names in backticks in `cell`.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The rows of the tables of `markdown` whose first header cell starts with `heading`.
fn rows_under(markdown: &str, heading: &str) -> Vec<(usize, Vec<String>)> {
    tables(markdown)
        .into_iter()
        .filter(|t| t.header.first().is_some_and(|h| h.starts_with(heading)))
        .flat_map(|t| t.rows)
        .collect()
}

/// The Debezium properties each database connector accepts without implementing them (the lists its task warns
/// about at start), leaving out any it declares after all.
fn unsupported_in_code() -> Vec<(&'static str, BTreeSet<String>)> {
    let listed = |source: &str| -> Vec<String> {
        let list = source.split_once("UNSUPPORTED: &[&str] = &[").map_or("", |(_, rest)| rest);
        let list = list.split_once("];").map_or("", |(list, _)| list);
        list.split('"').skip(1).step_by(2).map(str::to_owned).collect()
    };
    let lists = [
        (POSTGRES_ALIAS, listed(include_str!("../../connectors/postgres/src/source/unsupported.rs"))),
        (MYSQL_ALIAS, listed(include_str!("../../connectors/mysql/src/source/unsupported.rs"))),
        (JDBC_SINK_ALIAS, tidemark_jdbc::config::UNSUPPORTED.iter().map(|p| p.to_string()).collect()),
    ];
    let plugins = plugins();
    lists
        .into_iter()
        .map(|(alias, names)| {
            let def = plugins.find(alias).expect("a database connector").connector().config_def();
            assert!(!names.is_empty(), "no unsupported properties found for {alias}: has the list moved?");
            (alias, names.into_iter().filter(|name| def.key(name).is_none()).collect())
        })
        .collect()
}

fn guides() -> Vec<(String, String)> {
    let mut guides: Vec<(String, String)> = std::fs::read_dir(docs_dir())
        .expect("docs/")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && !NOT_GUIDES.contains(&name.as_str()))
        .map(|name| {
            let text = std::fs::read_to_string(docs_dir().join(&name)).expect("a guide");
            (name, text)
        })
        .collect();
    guides.sort();
    guides
}

/// The help of every `tidemark` command that takes flags.
fn help_text() -> String {
    let commands: &[&[&str]] = &[
        &["up"],
        &["broker"],
        &["registry"],
        &["connect"],
        &["topic", "create"],
        &["topic", "list"],
        &["produce"],
        &["consume"],
        &["group", "reset-offsets"],
        &["connector", "create"],
        &["connector", "restart"],
    ];
    let mut help = String::new();
    for command in commands {
        let output = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .args(*command)
            .arg("--help")
            .output()
            .expect("running tidemark --help");
        assert!(output.status.success(), "tidemark {command:?} --help failed");
        help.push_str(&String::from_utf8_lossy(&output.stdout));
    }
    help
}

fn takes_flag(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        let after = help[at + flag.len()..].chars().next();
        let before = help[..at].chars().next_back();
        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[test]
fn guides_name_only_real_properties_and_flags() {
    let declared = declared_names();
    let help = help_text();
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut unsupported_documented: BTreeSet<(String, String)> = BTreeSet::new();
    for (file, text) in guides() {
        let properties = rows_under(&text, "property").into_iter().chain(rows_under(&text, "setting"));
        for (line, row) in properties {
            for name in row.first().map(|c| backticked(c)).unwrap_or_default() {
                checked += 1;
                if !is_declared(&name, &declared) {
                    problems.push(format!("  docs/{file}:{line}: `{name}` is not a setting the code declares"));
                }
            }
        }
        for (line, row) in rows_under(&text, "flag") {
            for name in row.first().map(|c| backticked(c)).unwrap_or_default() {
                let flag = name.split([' ', '=']).next().unwrap_or_default().to_owned();
                checked += 1;
                if !flag.starts_with("--") || !takes_flag(&help, &flag) {
                    problems.push(format!("  docs/{file}:{line}: `{flag}` is not a flag of any tidemark command"));
                }
            }
        }
        for (line, row) in rows_under(&text, "unsupported") {
            let connector = row.get(1).map(|c| backticked(c)).unwrap_or_default().concat();
            for name in row.first().map(|c| backticked(c)).unwrap_or_default() {
                checked += 1;
                if !unsupported_documented.insert((connector.clone(), name.clone())) {
                    problems.push(format!("  docs/{file}:{line}: `{name}` is listed twice for `{connector}`"));
                }
            }
        }
    }
    let unsupported_code: BTreeSet<(String, String)> = unsupported_in_code()
        .into_iter()
        .flat_map(|(alias, names)| names.into_iter().map(move |name| (format!("`{alias}`"), name)))
        .collect();
    let documented: BTreeSet<(String, String)> =
        unsupported_documented.into_iter().map(|(connector, name)| (format!("`{connector}`"), name)).collect();
    problems.extend(differences("unsupported property", &documented, &unsupported_code));
    assert!(problems.is_empty(), "the guides and the code disagree:\n{}", problems.join("\n"));
    assert!(checked > 0, "no property or flag tables found in docs/*.md: has the table format changed?");
}

/// A `tidemark up` on free ports in a directory of its own, killed when dropped.
struct Tidemark {
    child: Child,
    dir: PathBuf,
    connect: String,
}

impl Tidemark {
    fn start() -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("connector-docs-{}-{nanos}", std::process::id()));
        let any = "127.0.0.1:0";
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .args(["up", "--kafka-listen", any, "--registry-listen", any, "--connect-listen", any, "--data-dir"])
            .arg(&dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting tidemark up");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.split("connect listener ready address=").nth(1) {
                    let _ = tx.send(address.trim().to_owned());
                }
            }
        });
        let connect = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!("tidemark up did not report its connect listener within 60 s");
            }
        };
        Tidemark { child, dir, connect }
    }
}

impl Drop for Tidemark {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn get(client: &reqwest::Client, url: &str) -> Value {
    for attempt in 0.. {
        match client.get(url).send().await {
            Ok(answer) if answer.status().is_success() => return answer.json().await.expect("a JSON answer"),
            Ok(answer) => panic!("GET {url}: {}", answer.status()),
            Err(error) if attempt >= 50 => panic!("GET {url}: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    unreachable!()
}

#[tokio::test]
async fn reference_matches_what_the_binary_serves() {
    let reference = std::fs::read_to_string(docs_dir().join("connectors.md")).expect("docs/connectors.md");
    let listed = listed_properties(&reference);
    let tidemark = Tidemark::start();
    let base = format!("http://{}", tidemark.connect);
    let client = tidemark_connect::http_client::builder(None).expect("trust").build().expect("the HTTP client");

    // Every connector, transform and predicate class served (converters have no settings of their own here)...
    let all = get(&client, &format!("{base}/connector-plugins?connectorsOnly=false")).await;
    let mut served: BTreeSet<(String, String)> = all
        .as_array()
        .expect("a list of plugins")
        .iter()
        .filter(|plugin| plugin["type"].as_str() != Some("converter"))
        .map(|plugin| ("plugin".to_owned(), plugin["class"].as_str().expect("class").to_owned()))
        .collect();
    // ... has a section of its own.
    let mut documented: BTreeSet<(String, String)> = reference
        .lines()
        .filter_map(|line| line.strip_prefix("### `").and_then(|h| h.strip_suffix('`')))
        .map(|class| ("plugin".to_owned(), class.to_owned()))
        .collect();

    for plugin in plugins().all() {
        let heading = format!("`{}`", plugin.class);
        for name in std::iter::once(plugin.class).chain(plugin.aliases.iter().copied()) {
            let keys = get(&client, &format!("{base}/connector-plugins/{name}/config")).await;
            for key in keys.as_array().expect("a list of settings") {
                let property = key["name"].as_str().expect("name").to_owned();
                served.insert((format!("{heading} as {name}"), property));
            }
            documented.extend(
                listed.iter().filter(|(h, _)| *h == heading).map(|(_, p)| (format!("{heading} as {name}"), p.clone())),
            );
        }
    }
    let problems = differences("served", &documented, &served);
    assert!(
        problems.is_empty(),
        "docs/connectors.md and the running binary's /connector-plugins disagree (is cli/tests/connector_docs.rs's \
         plugin list the one cli/src/serve.rs registers?):\n{}",
        problems.join("\n")
    );
}
