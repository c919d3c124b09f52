//! Telling a crashed broker from a slow one: a follower that loses its leader's connection reports it, and the
//! active controller connects to the leader's Kafka listener itself. A refused connection means no process listens
//! there any more (the broker crashed or was stopped), so the controller fences it at once instead of waiting out
//! its session (`broker.session.timeout.ms`, 9 s by default), and its partitions fail over within a second.
//!
//! Anything else (the connection accepted, a timeout, an unknown host) proves nothing: a paused or overloaded
//! broker still accepts connections into its listener's backlog, and a network problem between two nodes is not
//! the suspect's fault. Those brokers are fenced only when their heartbeats stop for a whole session.

use std::time::Duration;

use tokio::net::TcpStream;

/// How long one probe waits for an answer to its connection attempt.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Probes made before concluding that the broker lives: a dying process's connections may close (and be
/// reported) a moment before its listener does.
const PROBES: usize = 20;
/// The pause between two probes.
const PROBE_PAUSE: Duration = Duration::from_millis(50);

/// Whether the listener at `host:port` refuses connections within [`PROBES`] probes, i.e. nothing listens there.
/// Any other outcome (accepted, timed out, another error) is probed again, and in the end proves nothing.
pub async fn refuses_connections(host: &str, port: u16) -> bool {
    let mut last = String::new();
    for attempt in 0..PROBES {
        if attempt > 0 {
            tokio::time::sleep(PROBE_PAUSE).await;
        }
        match tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect((host, port))).await {
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return true,
            Ok(Err(e)) => last = e.to_string(),
            Ok(Ok(_)) => last = "accepted".to_owned(),
            Err(_) => last = "timed out".to_owned(),
        }
    }
    tracing::debug!(host, port, last, "the probed listener did not refuse connections");
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::refuses_connections;

    #[tokio::test]
    async fn a_closed_port_refuses_and_a_listening_one_does_not() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(!refuses_connections("127.0.0.1", port).await, "a listener accepts");
        drop(listener);
        assert!(refuses_connections("127.0.0.1", port).await, "nothing listens any more");
        assert!(!refuses_connections("no-such-host.invalid", port).await, "an unknown host proves nothing");
    }
}
