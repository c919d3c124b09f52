//! Tidemark benchmarks. `tidemark-bench broker [--tidemark PATH]` measures a Tidemark broker with a
//! librdkafka client and prints each figure as a ratio to a reference measured in the same run: the
//! disk for produce throughput, librdkafka's in-memory mock cluster for the client's ceiling.
//! `tidemark-bench groups [--tidemark PATH]` measures issue 3's figures: the rebalance time when a third member
//! joins (against librdkafka's mock cluster) and compaction's rewrite rate (against a plain copy).
//! `tidemark-bench connect [--tidemark PATH]` measures `tidemark up`'s connect worker end to end (datagen → Avro →
//! broker → file sink) against librdkafka producing and then consuming records of the same size.
//! `tidemark-bench pg [--tidemark PATH]` measures the Postgres source (issue 6) against `pg_recvlogical` and binary
//! COPY on a throwaway Postgres cluster.
//! `tidemark-bench mysql [--tidemark PATH]` measures the MySQL source (issue 7) against `mariadb-binlog
//! --read-from-remote-server` and `mariadb -e "SELECT * FROM t"` on a throwaway MariaDB server.
//! `tidemark-bench sink [--tidemark PATH]` measures the JDBC sink (issue 8) into Postgres against `COPY FROM STDIN`
//! of the same rows on a throwaway Postgres cluster.
//! `tidemark-bench cluster [--tidemark PATH]` measures a three-node cluster (issue 9) against a single node: produce
//! throughput at replication factor 3, latency at a fixed rate, and the failover time after a leader's `kill -9`.
//! `tidemark-bench broker --tls --sasl [--tidemark PATH]` measures producing and consuming over a SASL_SSL listener
//! (TLS, SCRAM-SHA-512; issue 11) against the PLAINTEXT listener of the same broker in the same run.
//!
//! This is a benchmark, not a test: it always exits 0 once it has measured, whether goals are met or not.
#![forbid(unsafe_code)]

mod admin;
mod broker;
mod cdc_drain;
mod cdc_latency;
mod cdc_report;
mod cdc_up;
mod cluster;
mod cluster_failover;
mod cluster_nodes;
mod cluster_report;
mod compaction;
mod connect;
mod connect_api;
mod connect_pipeline;
mod connect_ref;
mod connect_report;
mod consume;
mod disk;
mod fsync_probe;
mod groups;
mod latency;
mod mysql;
mod mysql_drain;
mod mysql_latency;
mod mysql_report;
mod mysql_snapshot;
mod mysql_sql;
mod mysql_stream;
mod mysql_workload;
mod pg;
mod pg_drain;
mod pg_latency;
mod pg_recv;
mod pg_report;
mod pg_snapshot;
mod pg_sql;
mod pg_stream;
mod pg_workload;
mod produce;
mod rebalance;
mod report;
mod run;
mod secure;
mod secure_report;
mod server_cpu;
mod settings;
mod sink;
mod sink_pass;
mod sink_refs;
mod sink_report;
mod sink_rows;
mod sink_topics;
mod stats;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use settings::Settings;

/// Command-line usage.
const USAGE: &str = "usage: tidemark-bench broker [--tidemark PATH-TO-TIDEMARK-BINARY]
       tidemark-bench broker --tls --sasl [--tidemark PATH-TO-TIDEMARK-BINARY]
       tidemark-bench groups [--tidemark PATH-TO-TIDEMARK-BINARY]
       tidemark-bench connect [--tidemark PATH-TO-TIDEMARK-BINARY]
       tidemark-bench pg [--tidemark PATH-TO-TIDEMARK-BINARY]
       tidemark-bench mysql [--tidemark PATH-TO-TIDEMARK-BINARY]
       tidemark-bench sink [--tidemark PATH-TO-TIDEMARK-BINARY]
       tidemark-bench cluster [--tidemark PATH-TO-TIDEMARK-BINARY]

Environment: BENCH_BYTES (payload of the 1 KiB run, default 2GiB), BENCH_SMALL_RECORDS (records of the
100 B run, default 2000000), BENCH_LATENCY_RATE (default 5000), BENCH_LATENCY_SECS (default 5),
BENCH_DIR (where data goes, default the temp dir), TIDEMARK_BIN (the tidemark binary),
BENCH_COMPACTION_BYTES (payload of the compacted log of `groups`, default 1GiB),
BENCH_REBALANCE_TRIALS (joins of a third member in `groups`, default 5),
BENCH_CONNECT_RECORDS (records through the worker in `connect`, default 500000), BENCH_CONNECT_BATCH (datagen's
batch.size, default 1000), BENCH_CONNECT_MAX_POLL (the sink's max.poll.records, default 2000),
BENCH_CONNECT_FLUSH_MS (the sink's offset.flush.interval.ms, default 1000),
BENCH_PG_BIG_ROWS (rows of the one big transaction of `pg`, default 1000000), BENCH_PG_SMALL_TXNS (its single-row
transactions, default 200000), BENCH_PG_SNAPSHOT_ROWS (default 2000000), BENCH_PG_LATENCY_RATE (transactions/s,
default 2000), BENCH_PG_LATENCY_SECS (default 10), BENCH_PG_PERF (a directory: perf record of tidemark up during
each of its runs),
BENCH_MYSQL_BIG_ROWS (rows of the one big transaction of `mysql`, default 1000000), BENCH_MYSQL_SMALL_TXNS (its
single-row transactions, default 200000), BENCH_MYSQL_SNAPSHOT_ROWS (default 2000000), BENCH_MYSQL_LATENCY_RATE
(transactions/s, default 2000), BENCH_MYSQL_LATENCY_SECS (default 10), BENCH_MYSQL_PERF (a directory: perf record of
tidemark up during each of its runs),
BENCH_SINK_ROWS (rows of `sink`, each topic's records, default 1000000), BENCH_SINK_MAX_POLL (the sink's
consumer.override.max.poll.records, default the worker's 500), BENCH_SINK_BATCH (the sink's batch.size, default 500),
BENCH_SINK_PERF (a directory: perf record of tidemark up during each pass),
BENCH_CLUSTER_RECORDS (1 KiB records of each throughput run of `cluster`, default 300000),
BENCH_CLUSTER_LATENCY_RATE (default 5000), BENCH_CLUSTER_LATENCY_SECS (default 10), BENCH_CLUSTER_FAILOVER_TRIALS
(leader kills, default 6),
BENCH_SECURE_BYTES (payload of each 1 KiB-record run of `broker --tls --sasl`, default 1GiB), BENCH_SECURE_ROUNDS
(rounds of one PLAINTEXT and one SASL_SSL run, default 4).";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("broker") => {
            let (tls, sasl) = (args.iter().any(|a| a == "--tls"), args.iter().any(|a| a == "--sasl"));
            let rest: Vec<String> = args[1..].iter().filter(|a| *a != "--tls" && *a != "--sasl").cloned().collect();
            let binary = tidemark_binary(&rest)?;
            match (tls, sasl) {
                (false, false) => run::run_broker_bench(&Settings::from_env()?, &binary),
                (true, true) => secure::run(&secure::SecureSettings::from_env()?, &binary),
                _ => bail!("--tls and --sasl go together (the SASL_SSL benchmark)\n{USAGE}"),
            }
        }
        Some("groups") => groups::run(&tidemark_binary(&args[1..])?),
        Some("connect") => {
            let binary = tidemark_binary(&args[1..])?;
            connect::run(&connect::ConnectSettings::from_env()?, &binary)
        }
        Some("pg") => {
            let binary = tidemark_binary(&args[1..])?;
            pg::run(&pg::PgSettings::from_env()?, &binary)
        }
        Some("mysql") => {
            let binary = tidemark_binary(&args[1..])?;
            mysql::run(&mysql::MySqlSettings::from_env()?, &binary)
        }
        Some("sink") => {
            let binary = tidemark_binary(&args[1..])?;
            sink::run(&sink::SinkSettings::from_env()?, &binary)
        }
        Some("cluster") => {
            let binary = tidemark_binary(&args[1..])?;
            cluster::run(&cluster::ClusterSettings::from_env()?, &binary)
        }
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// The tidemark binary: `--tidemark PATH`, else `$TIDEMARK_BIN`, else `tidemark` next to this binary
/// (both live in `target/release`), else `target/release/tidemark`.
fn tidemark_binary(args: &[String]) -> Result<PathBuf> {
    let explicit = match args {
        [] => None,
        [flag, path] if flag == "--tidemark" => Some(PathBuf::from(path)),
        _ => bail!("unexpected arguments {args:?}\n{USAGE}"),
    };
    if let Some(path) = explicit {
        return path.canonicalize().with_context(|| format!("no tidemark binary at {}", path.display()));
    }
    let candidates = std::env::var_os("TIDEMARK_BIN")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("tidemark"))))
        .chain(std::iter::once(PathBuf::from("target/release/tidemark")));
    for candidate in candidates {
        if candidate.is_file() {
            return candidate.canonicalize().with_context(|| format!("resolving {}", candidate.display()));
        }
    }
    bail!("no tidemark binary found; build it with `cargo build --release -p tidemark` or pass --tidemark PATH")
}
