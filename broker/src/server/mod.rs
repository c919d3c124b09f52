//! The Kafka listener: accepts connections on an already-bound listener (so tests bind port 0) and serves each
//! on its own task until the shutdown signal fires.

mod connection;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::broker::Broker;

pub use connection::{decode_request, DecodeError};

/// Serves Kafka clients on `listener` until `shutdown` completes, and runs retention meanwhile.
pub async fn run(
    listener: TcpListener,
    broker: Arc<Broker>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let retention = tokio::spawn(Arc::clone(&broker).run_retention());
    let group_timers = tokio::spawn(Arc::clone(&broker).run_group_timers());
    let membership = tokio::spawn(Arc::clone(&broker).run_cluster_membership());
    tracing::info!(address = %listener.local_addr()?, "kafka listener ready");
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let _ = socket.set_nodelay(true);
                    let broker = Arc::clone(&broker);
                    let stop = stop_rx.clone();
                    tokio::spawn(async move {
                        if let Err(e) = connection::serve(socket, broker, stop).await {
                            tracing::debug!(%peer, error = %e, "connection closed");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    let _ = stop_tx.send(true);
    retention.abort();
    group_timers.abort();
    membership.abort();
    if let Some(cluster) = broker.cluster() {
        cluster.leave().await;
    }
    tracing::info!("kafka listener stopped");
    Ok(())
}
