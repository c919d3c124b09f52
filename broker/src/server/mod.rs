//! The Kafka listeners: accept connections on already-bound listeners (so tests bind port 0), secure them as
//! their protocol says (TLS handshake; SASL in the connection), and serve each on its own task until the shutdown
//! signal fires.

mod authentication;
mod connection;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::broker::Broker;
use crate::security::certificate::subject_name;
use crate::security::listener::SecurityProtocol;
use crate::security::principal::Principal;

pub use connection::{decode_request, DecodeError};

/// How long a client has to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound Kafka listener and how its connections are secured.
pub struct KafkaListener {
    /// The bound socket.
    pub socket: TcpListener,
    /// Its security protocol (also its name).
    pub protocol: SecurityProtocol,
    /// The TLS settings, for SSL and SASL_SSL listeners.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl KafkaListener {
    /// A PLAINTEXT listener.
    pub fn plaintext(socket: TcpListener) -> Self {
        KafkaListener { socket, protocol: SecurityProtocol::Plaintext, tls: None }
    }
}

/// Serves Kafka clients on `listeners` until `shutdown` completes, and runs retention, group timers and cluster
/// membership meanwhile.
pub async fn run(
    listeners: Vec<KafkaListener>,
    broker: Arc<Broker>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let retention = tokio::spawn(Arc::clone(&broker).run_retention());
    let group_timers = tokio::spawn(Arc::clone(&broker).run_group_timers());
    let membership = tokio::spawn(Arc::clone(&broker).run_cluster_membership());
    let mut accepting = Vec::new();
    for listener in listeners {
        tracing::info!(address = %listener.socket.local_addr()?, protocol = %listener.protocol, "kafka listener ready");
        accepting.push(tokio::spawn(accept(listener, Arc::clone(&broker), stop_rx.clone())));
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    for task in accepting.iter().chain([&retention, &group_timers, &membership]) {
        task.abort();
    }
    if let Some(cluster) = broker.cluster() {
        cluster.leave().await;
    }
    tracing::info!("kafka listener stopped");
    Ok(())
}

/// Accepts connections on one listener, each served on its own task.
async fn accept(listener: KafkaListener, broker: Arc<Broker>, stop: watch::Receiver<bool>) {
    let acceptor = listener.tls.map(TlsAcceptor::from);
    loop {
        match listener.socket.accept().await {
            Ok((socket, peer)) => {
                let _ = socket.set_nodelay(true);
                let (broker, stop, acceptor) = (Arc::clone(&broker), stop.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let served = serve(socket, peer, listener.protocol, acceptor, broker, stop).await;
                    if let Err(e) = served {
                        tracing::debug!(%peer, error = %e, "connection closed");
                    }
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serves one accepted connection, after its TLS handshake on TLS listeners.
async fn serve(
    socket: TcpStream,
    peer: std::net::SocketAddr,
    protocol: SecurityProtocol,
    acceptor: Option<TlsAcceptor>,
    broker: Arc<Broker>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let Some(acceptor) = acceptor else {
        return connection::serve(socket, peer, (protocol, None), broker, stop).await;
    };
    let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await;
    match handshake {
        Ok(Ok(stream)) => {
            // A client certificate names the connection's principal (SASL, where the listener uses it, renames it).
            let certificate = stream.get_ref().1.peer_certificates().and_then(|chain| chain.first());
            let certified = certificate.and_then(subject_name).map(Principal::user);
            connection::serve(stream, peer, (protocol, certified), broker, stop).await
        }
        Ok(Err(e)) => {
            tracing::warn!(%peer, listener = %protocol, error = %e, "TLS handshake failed; connection refused");
            Ok(())
        }
        Err(_) => {
            tracing::warn!(%peer, listener = %protocol, "TLS handshake not completed in time; connection refused");
            Ok(())
        }
    }
}
