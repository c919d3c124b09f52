//! The `sink` benchmark's topics: the rows as Avro records (key `{id}`, value the flat row) in Confluent's framing,
//! their schemas registered with `tidemark up`'s bundled registry under the topic's subjects, produced with
//! librdkafka before any clock starts. The worker reads them with its default converters (Avro through that
//! registry), as it reads what Debezium-style sources write.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::producer::BaseRecord;
use serde_json::{json, Value};

use crate::produce::{self, await_deliveries, enqueue};
use crate::sink_rows::{Row, KEY_SCHEMA, VALUE_SCHEMA};

/// The registry's media type.
const REGISTRY_JSON: &str = "application/vnd.schemaregistry.v1+json";

/// A topic written for one pass.
#[derive(Debug, Clone)]
pub struct Produced {
    /// The topic.
    pub topic: String,
    /// Records (one per row).
    pub records: u64,
    /// Key and value bytes, framing included.
    pub bytes: u64,
    /// How long producing took (until every record was acknowledged).
    pub elapsed: Duration,
}

/// Registers `schema` under `subject` with the registry at `registry` (`host:port`); answers its id.
fn register(registry: &str, subject: &str, schema: &str) -> Result<u32> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let url = format!("http://{registry}/subjects/{subject}/versions");
    let body = json!({ "schema": schema }).to_string();
    let client = tidemark_connect::http_client::builder(None)?.build()?;
    let (status, text) = runtime.block_on(async {
        let response = client.post(&url).header(reqwest::header::CONTENT_TYPE, REGISTRY_JSON).body(body).send().await?;
        let status = response.status();
        Ok::<_, reqwest::Error>((status, response.text().await?))
    })?;
    if !status.is_success() {
        bail!("registering {subject}: {status} {text}");
    }
    let answer: Value = serde_json::from_str(&text).with_context(|| format!("registering {subject}: {text}"))?;
    let id = answer["id"].as_u64().with_context(|| format!("registering {subject}: no id in {text}"))?;
    u32::try_from(id).context("schema id")
}

/// Produces rows `1..=rows` at revision `rev` to `topic` (which exists, with one partition), keyed by id, and
/// waits until every record is acknowledged (`acks=all`: durable).
pub fn produce_rows(bootstrap: &str, registry: &str, topic: &str, rows: u64, rev: i32) -> Result<Produced> {
    let key_id = register(registry, &format!("{topic}-key"), KEY_SCHEMA)?;
    let value_id = register(registry, &format!("{topic}-value"), VALUE_SCHEMA)?;
    let producer = produce::producer(bootstrap, false)?;
    let started = Instant::now();
    let (mut key, mut value, mut bytes) = (Vec::with_capacity(16), Vec::with_capacity(160), 0u64);
    for id in 1..=rows as i64 {
        let row = Row::new(id, rev);
        key.clear();
        value.clear();
        row.avro_key(key_id, &mut key);
        row.avro_value(value_id, &mut value);
        bytes += (key.len() + value.len()) as u64;
        enqueue(&producer, BaseRecord::with_opaque_to(topic, 0).key(&key[..]).payload(&value[..]))?;
    }
    await_deliveries(&producer, rows)?;
    Ok(Produced { topic: topic.to_owned(), records: rows, bytes, elapsed: started.elapsed() })
}
