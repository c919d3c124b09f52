//! The broker's security from the flags: its Kafka listeners bound with their TLS settings and the endpoints
//! advertised for them, the SASL mechanisms offered, and the initial user.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tidemark_broker::security::authorizer::AuthorizerSettings;
use tidemark_broker::security::cluster_secret::ClusterSecret;
use tidemark_broker::security::listener::ListenerAddress;
use tidemark_broker::security::sasl::SaslMechanism;
use tidemark_broker::security::scram::{ScramCredential, ScramMechanism};
use tidemark_broker::security::tls::{self, TlsFiles};
use tidemark_broker::security::users::CredentialChange;
use tidemark_broker::server::KafkaListener;
use tidemark_broker::Broker;
use tokio::net::TcpListener;

use crate::args::{ServerArgs, Switch};

/// The environment variable holding `--initial-user`'s password (never a flag: flags show in `ps`).
pub const INITIAL_USER_PASSWORD_VAR: &str = "TIDEMARK_INITIAL_USER_PASSWORD";
/// The environment variable that may hold the cluster secret itself (see `--cluster-secret-file`).
pub const CLUSTER_SECRET_VAR: &str = "TIDEMARK_CLUSTER_SECRET";

/// The bound Kafka listeners and what clients are told about each.
pub struct Listeners {
    /// The sockets, in `--kafka-listen` order.
    pub bound: Vec<KafkaListener>,
    /// The advertised endpoint of each, in the same order.
    pub advertised: Vec<ListenerAddress>,
}

/// Binds every `--kafka-listen` listener, with TLS for SSL and SASL_SSL ones.
pub async fn bind_listeners(args: &ServerArgs) -> Result<Listeners> {
    let wanted = parse_all("--kafka-listen", &args.kafka_listen)?;
    let overrides = parse_all("--advertised-kafka", &args.advertised_kafka)?;
    if wanted.is_empty() {
        bail!("--kafka-listen names no listener");
    }
    for (i, listener) in wanted.iter().enumerate() {
        if wanted[..i].iter().any(|earlier| earlier.protocol == listener.protocol) {
            bail!("--kafka-listen: two {} listeners; each protocol can have one listener", listener.protocol);
        }
    }
    if let Some(orphan) = overrides.iter().find(|o| !wanted.iter().any(|w| w.protocol == o.protocol)) {
        bail!("--advertised-kafka {orphan}: there is no {} listener", orphan.protocol);
    }
    let tls = match wanted.iter().any(|l| l.protocol.uses_tls()) {
        true => Some(server_tls(args)?),
        false => None,
    };
    let mut listeners = Listeners { bound: Vec::new(), advertised: Vec::new() };
    for listener in wanted {
        let socket = TcpListener::bind((listener.host.as_str(), listener.port))
            .await
            .with_context(|| format!("binding the Kafka listener {listener}"))?;
        let bound = socket.local_addr()?;
        let advertised = overrides.iter().find(|o| o.protocol == listener.protocol).cloned().unwrap_or_else(|| {
            ListenerAddress { protocol: listener.protocol, host: bound.ip().to_string(), port: bound.port() }
        });
        let tls = tls.clone().filter(|_| listener.protocol.uses_tls());
        listeners.bound.push(KafkaListener { socket, protocol: listener.protocol, tls });
        listeners.advertised.push(advertised);
    }
    Ok(listeners)
}

fn parse_all(flag: &str, values: &[String]) -> Result<Vec<ListenerAddress>> {
    values
        .iter()
        .map(String::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<ListenerAddress>().with_context(|| format!("{flag} {v}")))
        .collect()
}

fn server_tls(args: &ServerArgs) -> Result<std::sync::Arc<rustls::ServerConfig>> {
    let (Some(certificate), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        bail!("SSL and SASL_SSL listeners need --tls-cert and --tls-key");
    };
    let files = TlsFiles { certificate: certificate.clone(), key: key.clone(), client_ca: args.tls_client_ca.clone() };
    Ok(tls::server_config(&files)?)
}

/// `--sasl-enabled-mechanisms`.
pub fn sasl_mechanisms(args: &ServerArgs) -> Result<Vec<SaslMechanism>> {
    let mut mechanisms = Vec::new();
    for name in args.sasl_enabled_mechanisms.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let known = SaslMechanism::ALL.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ");
        let mechanism = SaslMechanism::from_name(name)
            .with_context(|| format!("--sasl-enabled-mechanisms: unknown mechanism '{name}' ({known})"))?;
        mechanisms.push(mechanism);
    }
    if mechanisms.is_empty() && args.kafka_listen.iter().any(|l| l.to_ascii_uppercase().starts_with("SASL_")) {
        bail!("--sasl-enabled-mechanisms is empty, so SASL listeners could authenticate no one");
    }
    Ok(mechanisms)
}

/// `--authorizer` and `--super-users`. In a cluster the authorizer needs the cluster secret: brokers fetch from
/// each other as the principal it makes, which the authorizer lets do everything; without it they would fetch as
/// `User:ANONYMOUS`, which only an ACL open to every plaintext client could let through.
pub fn authorizer_settings(args: &ServerArgs, secret: Option<&ClusterSecret>) -> Result<AuthorizerSettings> {
    let enabled = args.authorizer == Switch::On;
    if enabled && args.voters.is_some() && secret.is_none() {
        bail!(
            "--authorizer on in a cluster needs the cluster secret (--cluster-secret-file or \
             {CLUSTER_SECRET_VAR}): brokers authenticate to each other with it, and only then can their \
             replication be authorized"
        );
    }
    let mut super_users = BTreeSet::new();
    for principal in args.super_users.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        if !principal.starts_with("User:") || principal.len() == "User:".len() {
            bail!("--super-users: '{principal}' is not User:<name>");
        }
        super_users.insert(principal.to_owned());
    }
    Ok(AuthorizerSettings { enabled, super_users, inter_broker_principal: None })
}

/// The cluster secret, from `--cluster-secret-file` or [`CLUSTER_SECRET_VAR`] (not both); a cluster without one
/// runs with a warning, as its nodes and replication then trust anyone who can reach their listeners.
pub fn cluster_secret(args: &ServerArgs) -> Result<Option<ClusterSecret>> {
    let from_env = std::env::var(CLUSTER_SECRET_VAR).ok().filter(|s| !s.trim().is_empty());
    let text = match (&args.cluster_secret_file, from_env) {
        (Some(_), Some(_)) => bail!("both --cluster-secret-file and {CLUSTER_SECRET_VAR} are set; set one"),
        (Some(file), None) => std::fs::read_to_string(file)
            .with_context(|| format!("reading the cluster secret from {}", file.display()))?,
        (None, Some(secret)) => secret,
        (None, None) => {
            if args.voters.is_some() {
                tracing::warn!(
                    "no cluster secret (--cluster-secret-file or {CLUSTER_SECRET_VAR}): controller requests and \
                     replication between brokers are not authenticated"
                );
            }
            return Ok(None);
        }
    };
    if args.voters.is_none() {
        bail!("a cluster secret is set but --voters is not: a single node has no cluster traffic to secure");
    }
    Ok(Some(ClusterSecret::new(text.trim().as_bytes()).context("the cluster secret")?))
}

/// `--tls-ca`: what checks the other brokers' certificates on a SASL_SSL inter-broker listener.
pub fn inter_broker_tls(args: &ServerArgs) -> Result<Option<std::sync::Arc<rustls::ClientConfig>>> {
    let Some(ca) = &args.tls_ca else { return Ok(None) };
    Ok(Some(tls::client_config(ca).with_context(|| format!("--tls-ca {}", ca.display()))?))
}

/// Creates `--initial-user` with SCRAM-SHA-256 and SCRAM-SHA-512 credentials unless the user exists already (so a
/// password changed since is kept). On a single node it is done before returning; a cluster member retries in the
/// background until the controller quorum takes it.
pub async fn ensure_initial_user(broker: &std::sync::Arc<Broker>, user: Option<&str>) -> Result<()> {
    let Some(user) = user else { return Ok(()) };
    let password = std::env::var(INITIAL_USER_PASSWORD_VAR)
        .with_context(|| format!("--initial-user {user} needs its password in {INITIAL_USER_PASSWORD_VAR}"))?;
    if password.is_empty() {
        bail!("{INITIAL_USER_PASSWORD_VAR} is empty");
    }
    let changes = move || {
        ScramMechanism::ALL
            .into_iter()
            .map(|mechanism| CredentialChange::Upsert {
                user: user.to_owned(),
                credential: ScramCredential::generate(mechanism, &password, ScramMechanism::MIN_ITERATIONS * 2),
            })
            .collect::<Vec<_>>()
    };
    if broker.users().exists(user) {
        return Ok(());
    }
    if broker.cluster().is_none() {
        broker.users().change(changes()).await.context("creating --initial-user")?;
        tracing::info!(user, "initial user created");
        return Ok(());
    }
    let (broker, user, changes) = (std::sync::Arc::clone(broker), user.to_owned(), changes());
    tokio::spawn(async move {
        loop {
            if broker.users().exists(&user) {
                return;
            }
            match broker.users().change(changes.clone()).await {
                Ok(()) => {
                    tracing::info!(%user, "initial user created");
                    return;
                }
                Err(e) => tracing::warn!(%user, error = %e, "creating the initial user; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Ok(())
}
