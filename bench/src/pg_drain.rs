//! Tidemark's side of the `pg` benchmark: a Postgres source connector created through the worker's REST API
//! (watched until it has written the expected records durably by [`crate::cdc_drain`], then deleted).

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tidemark_tests::postgres::PostgresServer;

use crate::cdc_drain::{self, Drained};
use crate::connect_api::ConnectApi;
use crate::pg_workload::PUBLICATION;

/// The connector class under test (Debezium's name).
const POSTGRES_CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";

/// A Postgres source connector to create.
#[derive(Debug, Clone)]
pub struct PgConnector {
    /// The connector's name (metrics are per name: one name per run).
    pub name: String,
    /// `topic.prefix`; the table's topic is `<prefix>.public.<table>`.
    pub prefix: String,
    /// `slot.name`.
    pub slot: String,
    /// The one table captured (`table.include.list=public.<table>`).
    pub table: String,
    /// `snapshot.mode`.
    pub snapshot_mode: &'static str,
    /// Further settings (converters).
    pub extra: Vec<(&'static str, String)>,
}

impl PgConnector {
    /// The topic the table's events go to.
    pub fn topic(&self) -> String {
        format!("{}.public.{}", self.prefix, self.table)
    }

    /// The connector's config against `server`: the benchmark's publication (which exists), converters left to the
    /// worker's defaults (Avro through the bundled registry in `tidemark up`) unless `extra` names them.
    pub fn config(&self, server: &PostgresServer) -> Vec<(&'static str, String)> {
        let mut config = vec![
            ("connector.class", POSTGRES_CLASS.to_owned()),
            ("tasks.max", "1".to_owned()),
            ("database.hostname", server.host.clone()),
            ("database.port", server.port.to_string()),
            ("database.user", server.user.clone()),
            ("database.password", server.password.clone()),
            ("database.dbname", server.dbname.clone()),
            ("topic.prefix", self.prefix.clone()),
            ("slot.name", self.slot.clone()),
            ("publication.name", PUBLICATION.to_owned()),
            ("publication.autocreate.mode", "disabled".to_owned()),
            ("table.include.list", format!("public.{}", self.table)),
            ("snapshot.mode", self.snapshot_mode.to_owned()),
        ];
        config.extend(self.extra.iter().cloned());
        config
    }
}

/// Creates `connector` and waits until it has written `records` records durably; leaves it running.
pub fn run_until_written(
    api: &ConnectApi,
    server: &PostgresServer,
    connector: &PgConnector,
    records: u64,
) -> Result<Drained> {
    cdc_drain::run_until_written(api, &connector.name, &connector.config(server), records)
}

/// Waits until `connector`'s task is RUNNING and streaming from its slot (`active` in `pg_replication_slots`):
/// the task launches its reader at its first poll, so RUNNING alone does not mean the slot exists.
pub fn wait_streaming(api: &ConnectApi, sql: &crate::pg_sql::Sql, connector: &PgConnector) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = api.status(&connector.name)?;
        let running = status["tasks"].as_array().is_some_and(|t| t.iter().any(|t| t["state"] == "RUNNING"));
        if running && sql.slot_active(&connector.slot)? {
            return Ok(());
        }
        api.check_not_failed(&connector.name)?;
        if Instant::now() > deadline {
            bail!("connector {} not streaming from slot {} after 60 s: {status}", connector.name, connector.slot);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
