//! `tidemark up`, `tidemark broker`, `tidemark registry` and `tidemark connect`: bind the listeners, open the components, serve until
//! Ctrl-C or SIGTERM.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use prometheus_client::registry::Registry as MetricsRegistry;
use tidemark_broker::server::{self, KafkaListener};
use tidemark_broker::{Broker, BrokerConfig, ClusterConfig};
use tidemark_connect::converters::AVRO_CONVERTER;
use tidemark_connect::rest;
use tidemark_connect::state::{StateTopics, WorkerState};
use tidemark_connect::worker::{ConnectorKind, Plugin, Plugins, Worker};
use tidemark_jdbc::{JdbcSinkConnector, JDBC_SINK_ALIAS, JDBC_SINK_CLASS};
use tidemark_log_client::{InProcessLog, KafkaLog, LogClient};
use tidemark_mysql::source::{MySqlConnector, MARIADB_CLASS, MYSQL_ALIAS, MYSQL_CLASS};
use tidemark_postgres::source::{PostgresConnector, POSTGRES_ALIAS, POSTGRES_CLASS};
use tidemark_schema_registry::{http, Registry, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::args::{
    BrokerCommandArgs, ClientArgs, ConnectArgs, ConnectCommandArgs, RegistryArgs, RegistryCommandArgs, ServerArgs,
    UpArgs,
};
use crate::http_security::HttpSecurity;
use crate::{client_properties, metrics, security};

/// `tidemark broker`: the broker alone, and its metrics on `--metrics-listen` when given.
pub async fn broker(args: BrokerCommandArgs) -> Result<()> {
    let stop = shutdown_watch();
    let metrics_listener = match args.metrics_listen {
        Some(address) => Some(
            TcpListener::bind(address).await.with_context(|| format!("binding the metrics listener on {address}"))?,
        ),
        None => None,
    };
    let (broker, listeners) = open_broker(args.server).await?;
    let metrics = metrics_listener.map(|listener| {
        let (broker, stopping) = (Arc::clone(&broker), stopped(stop.clone()));
        tokio::spawn(async move { metrics::serve(listener, &broker, stopping).await })
    });
    tracing::info!(components = "broker", "tidemark is up");
    let served = serve_broker(broker, listeners, stop).await;
    if let Some(metrics) = metrics {
        metrics.await.context("the metrics task")?.context("serving the metrics")?;
    }
    served
}

/// `tidemark up`: the broker, the schema registry and the connect worker in one process; the registry and the
/// worker reach the log in process.
pub async fn up(args: UpArgs) -> Result<()> {
    // The registry and the worker reach the log in process, which writes to this broker's own partition logs: in a
    // cluster that would bypass leaders and replication.
    anyhow::ensure!(
        args.server.voters.is_none(),
        "`tidemark up` runs a single node; for a cluster run `tidemark broker --voters ...` on each node and point \
         `tidemark registry` and `tidemark connect` at it with --bootstrap-servers"
    );
    let mut http = HttpSecurity::from_args(&args.http)?;
    let bundled_registry = args.connect.schema_registry_url.is_none();
    anyhow::ensure!(
        !(bundled_registry && http.uses_tls()),
        "--http-tls-cert in `tidemark up` needs --schema-registry-url: the worker's converters reach the bundled \
         registry over plain HTTP"
    );
    // The worker's converters authenticate to the bundled registry as a user of their own.
    let internal_login = if bundled_registry { http.add_internal_admin() } else { None };
    let stop = shutdown_watch();
    let (broker, listeners) = open_broker(args.server).await?;
    // Kafka clients are served from here on, so the Kafka listener is announced before the others.
    let served = tokio::spawn(serve_broker(Arc::clone(&broker), listeners, stop.clone()));
    let log: Arc<dyn LogClient> = Arc::new(InProcessLog::new(Arc::clone(&broker)));
    let (registry, registry_address, schemas) =
        start_registry(Arc::clone(&log), &args.registry, &http, stop.clone()).await?;
    let registry_access = RegistryAccess {
        url: args.connect.schema_registry_url.clone().unwrap_or_else(|| format!("http://{registry_address}")),
        login: internal_login,
    };
    let included = metrics::embedded(&broker, &schemas);
    let worker = start_worker(log, &args.connect, Some(registry_access), Some(included), &http, stop.clone()).await?;
    tracing::info!(components = "broker,registry,connect", "tidemark is up");
    let served = served.await.context("the broker task")?;
    registry.await.context("the registry task")??;
    worker.await.context("the connect task")??;
    served
}

/// `tidemark connect`: the connect worker alone, on any Kafka cluster.
pub async fn connect(args: ConnectCommandArgs) -> Result<()> {
    let stop = shutdown_watch();
    let log: Arc<dyn LogClient> = Arc::new(kafka_log(&args.client)?);
    let registry = args.connect.schema_registry_url.clone().map(|url| RegistryAccess { url, login: None });
    let http = HttpSecurity::from_args(&args.http)?;
    let worker = start_worker(log, &args.connect, registry, None, &http, stop).await?;
    tracing::info!(components = "connect", "tidemark is up");
    worker.await.context("the connect task")??;
    Ok(())
}

/// The Kafka client of `tidemark registry` and `tidemark connect`, with the `--command-config` properties.
fn kafka_log(client: &ClientArgs) -> Result<KafkaLog> {
    let properties = client_properties::load(client)?;
    KafkaLog::new(&client.bootstrap_servers, &properties).context("creating the Kafka client")
}

/// The schema registry the worker's default converters use, and the basic-auth login they send it.
struct RegistryAccess {
    url: String,
    login: Option<String>,
}

/// Opens the worker's state topics and serves its REST API on a task until `stop`, reconciling meanwhile. With a
/// schema registry, connectors convert with Avro through it unless they name their converters. `GET /metrics`
/// serves `included` (other components' metrics) with the worker's.
async fn start_worker(
    log: Arc<dyn LogClient>,
    args: &ConnectArgs,
    schema_registry: Option<RegistryAccess>,
    included: Option<MetricsRegistry>,
    http: &HttpSecurity,
    stop: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<Result<()>>> {
    let listener = TcpListener::bind(args.connect_listen)
        .await
        .with_context(|| format!("binding the connect listener on {}", args.connect_listen))?;
    let topics = StateTopics {
        configs: args.config_storage_topic.clone(),
        offsets: args.offset_storage_topic.clone(),
        status: args.status_storage_topic.clone(),
        ..StateTopics::default()
    };
    let state = Arc::new(WorkerState::open(Arc::clone(&log), &topics).await.context("loading the connect topics")?);
    let mut converter_defaults = BTreeMap::new();
    if let Some(registry) = schema_registry {
        for role in ["key", "value"] {
            converter_defaults.insert(format!("{role}.converter"), AVRO_CONVERTER.to_owned());
            converter_defaults.insert(format!("{role}.converter.schema.registry.url"), registry.url.clone());
            if let Some(login) = &registry.login {
                converter_defaults
                    .insert(format!("{role}.converter.basic.auth.credentials.source"), "USER_INFO".to_owned());
                converter_defaults.insert(format!("{role}.converter.basic.auth.user.info"), login.clone());
            }
        }
    }
    let worker_id = listener.local_addr()?.to_string();
    let worker = Worker::with_converter_defaults(log, state, plugins(), worker_id, converter_defaults);
    if let Some(included) = included {
        worker.metrics().include(included);
    }
    let reconciling = tokio::spawn(Arc::clone(&worker).run());
    let http = http.clone();
    Ok(tokio::spawn(async move {
        let router = rest::router(Arc::clone(&worker));
        let served = http.serve("connect", listener, router, |_| false, stopped(stop)).await;
        let served = served.context("serving the connect API");
        reconciling.abort();
        worker.shutdown().await;
        served
    }))
}

/// Every connector this binary runs: the worker's built-ins and the database connectors.
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

/// `tidemark registry`: the schema registry alone, on any Kafka cluster.
pub async fn registry(args: RegistryCommandArgs) -> Result<()> {
    let stop = shutdown_watch();
    let log: Arc<dyn LogClient> = Arc::new(kafka_log(&args.client)?);
    let http = HttpSecurity::from_args(&args.http)?;
    let (registry, _, _) = start_registry(log, &args.registry, &http, stop).await?;
    tracing::info!(components = "registry", "tidemark is up");
    registry.await.context("the registry task")??;
    Ok(())
}

async fn open_broker(args: ServerArgs) -> Result<(Arc<Broker>, Vec<KafkaListener>)> {
    let listeners = security::bind_listeners(&args).await?;
    let secret = security::cluster_secret(&args)?;
    let inter_broker_tls = security::inter_broker_tls(&args)?;
    let mut config = BrokerConfig::with_listeners(args.data_dir.clone(), listeners.advertised);
    config.sasl_mechanisms = security::sasl_mechanisms(&args)?;
    config.authorizer = security::authorizer_settings(&args, secret.as_ref())?;
    config.node_id = args.node_id;
    config.auto_create_topics = args.auto_create_topics;
    config.default_partitions = args.num_partitions;
    config.default_replication_factor = args.default_replication_factor;
    if args.min_insync_replicas != 1 {
        config.topic_defaults.insert("min.insync.replicas".to_owned(), args.min_insync_replicas.to_string());
    }
    config.max_request_bytes = args.max_request_bytes;
    config.retention_check_interval = Duration::from_millis(args.retention_check_interval_ms.max(1));
    config.cleaner.backoff = Duration::from_millis(args.log_cleaner_backoff_ms.max(1));
    config.groups.initial_rebalance_delay = Duration::from_millis(args.group_initial_rebalance_delay_ms);
    config.groups.min_session_timeout = Duration::from_millis(args.group_min_session_timeout_ms);
    config.groups.offsets_topic_partitions = args.offsets_topic_partitions;
    let broker = match (&args.voters, args.controller_listen) {
        (Some(voters), Some(controller_listen)) => {
            let controller_listener = TcpListener::bind(controller_listen)
                .await
                .with_context(|| format!("binding the controller listener on {controller_listen}"))?;
            let advertised_controller = match args.advertised_controller {
                Some(address) => address,
                None => controller_listener.local_addr()?.to_string(),
            };
            let cluster = ClusterConfig {
                voters: parse_voters(voters)?,
                advertised_controller,
                session_timeout: Duration::from_millis(args.broker_session_timeout_ms.max(1)),
                heartbeat_interval: Duration::from_millis(args.broker_heartbeat_interval_ms.max(1)),
                replica_max_lag: Duration::from_millis(args.replica_lag_time_max_ms.max(1)),
                leader_rebalance_interval: args
                    .auto_leader_rebalance
                    .then(|| Duration::from_millis(args.leader_imbalance_check_interval_ms.max(1))),
                secret,
                inter_broker_tls,
            };
            tracing::info!(address = %controller_listener.local_addr()?, "controller listener ready");
            Broker::open_in_cluster(config, cluster, controller_listener).await
        }
        _ => Broker::open(config).await,
    };
    let broker = broker.context("starting the broker")?;
    security::ensure_initial_user(&broker, args.initial_user.as_deref()).await?;
    Ok((broker, listeners.bound))
}

/// Parses `--voters`: `ID@HOST:PORT` separated by commas.
fn parse_voters(voters: &str) -> Result<BTreeMap<i32, String>> {
    let mut parsed = BTreeMap::new();
    for voter in voters.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let (id, address) =
            voter.split_once('@').with_context(|| format!("--voters: '{voter}' is not ID@HOST:PORT"))?;
        let id: i32 = id.parse().with_context(|| format!("--voters: '{id}' in '{voter}' is not a node id"))?;
        if !address.contains(':') {
            anyhow::bail!("--voters: '{address}' in '{voter}' is not HOST:PORT");
        }
        if parsed.insert(id, address.to_owned()).is_some() {
            anyhow::bail!("--voters names node {id} twice");
        }
    }
    anyhow::ensure!(!parsed.is_empty(), "--voters names no voter");
    Ok(parsed)
}

async fn serve_broker(broker: Arc<Broker>, listeners: Vec<KafkaListener>, stop: watch::Receiver<bool>) -> Result<()> {
    let (stop_cleaner, cleaner_stopped) = watch::channel(false);
    let cleaner = tokio::spawn(Arc::clone(&broker).run_cleaner(cleaner_stopped));
    let served = server::run(listeners, broker, stopped(stop)).await;
    // A compaction pass in progress stops at its next check; what it swapped in is complete.
    let _ = stop_cleaner.send(true);
    let _ = cleaner.await;
    served?;
    Ok(())
}

/// Opens the registry's store (replaying its topic) and serves its HTTP API on a task until `stop`; answers the
/// task, the address it listens on and the registry.
async fn start_registry(
    log: Arc<dyn LogClient>,
    args: &RegistryArgs,
    http: &HttpSecurity,
    stop: watch::Receiver<bool>,
) -> Result<(tokio::task::JoinHandle<Result<()>>, std::net::SocketAddr, Arc<Registry>)> {
    let listener = TcpListener::bind(args.registry_listen)
        .await
        .with_context(|| format!("binding the registry listener on {}", args.registry_listen))?;
    let address = listener.local_addr()?;
    let store = Store::open(log, &args.schemas_topic).await.context("loading the schema registry's topic")?;
    let registry = Arc::new(Registry::new(store, args.max_schema_bytes));
    let router = http::router(Arc::clone(&registry), args.max_schema_bytes);
    let security = http.clone();
    let served = tokio::spawn(async move {
        let served = security.serve("schema registry", listener, router, registry_read_only_post, stopped(stop));
        served.await.context("serving the registry")
    });
    Ok((served, address, registry))
}

/// The registry's POSTs that change nothing: a schema lookup under a subject (`POST /subjects/{subject}`) and the
/// compatibility checks (`POST /compatibility/...`); read-only callers may send them.
fn registry_read_only_post(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(segments.as_slice(), ["subjects", _] | ["compatibility", ..])
}

/// A signal that turns true on Ctrl-C or SIGTERM, for every component to watch.
fn shutdown_watch() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = tx.send(true);
        // Keep the sender alive so receivers see the change rather than a closed channel.
        std::future::pending::<()>().await;
    });
    rx
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
