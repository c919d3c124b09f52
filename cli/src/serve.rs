//! `tidemark up` and `tidemark broker`: bind the listener, open the broker, serve until Ctrl-C or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tidemark_broker::{server, Broker, BrokerConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::args::ServerArgs;

/// Runs the broker (today the only component `up` has) until a shutdown signal.
pub async fn run(args: ServerArgs, components: &str) -> Result<()> {
    let listener = TcpListener::bind(args.kafka_listen)
        .await
        .with_context(|| format!("binding the Kafka listener on {}", args.kafka_listen))?;
    let bound = listener.local_addr()?;
    let (host, port) = match &args.advertised_kafka {
        Some(advertised) => {
            let (host, port) = advertised.rsplit_once(':').context("--advertised-kafka must be HOST:PORT")?;
            (host.to_owned(), port.parse().context("--advertised-kafka port")?)
        }
        None => (bound.ip().to_string(), bound.port()),
    };
    let mut config = BrokerConfig::new(args.data_dir, host, port);
    config.node_id = args.node_id;
    config.auto_create_topics = args.auto_create_topics;
    config.default_partitions = args.num_partitions;
    config.max_request_bytes = args.max_request_bytes;
    config.retention_check_interval = Duration::from_millis(args.retention_check_interval_ms.max(1));
    config.cleaner.backoff = Duration::from_millis(args.log_cleaner_backoff_ms.max(1));
    config.groups.initial_rebalance_delay = Duration::from_millis(args.group_initial_rebalance_delay_ms);
    config.groups.min_session_timeout = Duration::from_millis(args.group_min_session_timeout_ms);
    config.groups.offsets_topic_partitions = args.offsets_topic_partitions;
    let broker = Broker::open(config).await.context("starting the broker")?;
    tracing::info!(kafka = %bound, components, "tidemark is up");
    let (stop_cleaner, cleaner_stopped) = watch::channel(false);
    let cleaner = tokio::spawn(Arc::clone(&broker).run_cleaner(cleaner_stopped));
    let served = server::run(listener, broker, shutdown_signal()).await;
    // A compaction pass in progress stops at its next check; what it swapped in is complete.
    let _ = stop_cleaner.send(true);
    let _ = cleaner.await;
    served?;
    Ok(())
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
