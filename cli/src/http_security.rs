//! The HTTP APIs' security (the schema registry and the connect worker): TLS (`--http-tls-cert`/`--http-tls-key`)
//! and authentication (`--http-auth-file`): HTTP basic auth with a user's password or a bearer token, each with a
//! role. `read-only` may read (GET and HEAD, and the registry's lookups and compatibility checks, which are POSTs
//! that change nothing); `admin` may do everything. Without credentials an API answers 401, a read-only caller
//! asking to change something 403; both are logged. Passwords may be kept hashed (`http_password.rs`).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tidemark_broker::security::tls::{self, TlsFiles};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::args::HttpSecurityArgs;
use crate::http_password::{self, HashedPassword};

/// The user Tidemark's own in-process clients authenticate as (see [`HttpSecurity::add_internal_admin`]).
const INTERNAL_USER: &str = "tidemark-internal";

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Reads only.
    ReadOnly,
    /// Everything.
    Admin,
}

/// A user's password as the auth file gives it.
#[derive(Debug, Clone)]
enum Password {
    /// In clear.
    Clear(String),
    /// Hashed.
    Hashed(Arc<HashedPassword>),
}

impl Password {
    fn matches(&self, given: &str) -> bool {
        match self {
            Password::Clear(known) => same(known, given),
            Password::Hashed(hashed) => hashed.matches(given),
        }
    }
}

/// The callers `--http-auth-file` lets in.
struct Callers {
    /// User name to password and role (HTTP basic).
    users: HashMap<String, (Password, Role)>,
    /// Bearer tokens and their roles.
    tokens: Vec<(String, Role)>,
}

/// Which requests change nothing although they are not GET: the registry's lookups and compatibility checks.
pub type ReadOnlyPost = fn(&str) -> bool;

/// The security of the HTTP listeners.
#[derive(Clone)]
pub struct HttpSecurity {
    tls: Option<TlsAcceptor>,
    callers: Option<Arc<Callers>>,
}

impl HttpSecurity {
    /// From the flags: TLS when both PEM files are given, authentication when an auth file is.
    pub fn from_args(args: &HttpSecurityArgs) -> Result<Self> {
        let tls = match (&args.http_tls_cert, &args.http_tls_key) {
            (Some(certificate), Some(key)) => {
                let files = TlsFiles { certificate: certificate.clone(), key: key.clone(), client_ca: None };
                Some(TlsAcceptor::from(tls::server_config(&files)?))
            }
            _ => None,
        };
        let callers = args.http_auth_file.as_deref().map(load_callers).transpose()?.map(Arc::new);
        Ok(HttpSecurity { tls, callers })
    }

    /// Whether the APIs are served over TLS.
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// With authentication on, adds an admin user with a random password for Tidemark's own clients in this
    /// process (the worker's converters reaching the bundled registry) and answers its `user:password`.
    pub fn add_internal_admin(&mut self) -> Option<String> {
        let callers = self.callers.as_mut()?;
        let password = STANDARD.encode(tidemark_broker::security::scram::new_salt());
        let mut with_internal = Callers { users: callers.users.clone(), tokens: callers.tokens.clone() };
        with_internal.users.insert(INTERNAL_USER.to_owned(), (Password::Clear(password.clone()), Role::Admin));
        *callers = Arc::new(with_internal);
        Some(format!("{INTERNAL_USER}:{password}"))
    }

    /// Serves `router` on `listener` (logging `<what> listener ready address=...`) until `shutdown`, with TLS and
    /// authentication as configured.
    pub async fn serve(
        &self,
        what: &str,
        listener: TcpListener,
        router: Router,
        read_only_post: ReadOnlyPost,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(address = %listener.local_addr()?, "{what} listener ready");
        let router = match &self.callers {
            Some(callers) => {
                let gate = Gate { callers: Arc::clone(callers), read_only_post };
                router.layer(axum::middleware::from_fn_with_state(gate, authenticate))
            }
            None => router,
        };
        let app = router.into_make_service_with_connect_info::<PeerAddr>();
        match &self.tls {
            None => axum::serve(listener, app).with_graceful_shutdown(shutdown).await,
            Some(acceptor) => {
                let tls = TlsListener::start(listener, acceptor.clone())?;
                axum::serve(tls, app).with_graceful_shutdown(shutdown).await
            }
        }
    }
}

/// Reads the auth file: one caller a line, `user:NAME:PASSWORD:ROLE` or `token:TOKEN:ROLE`, ROLE `admin` or
/// `read-only`, PASSWORD in clear or hashed; blank lines and `#` comments skipped. Clear passwords are warned of.
fn load_callers(path: &Path) -> Result<Callers> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut callers = Callers { users: HashMap::new(), tokens: Vec::new() };
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let role = |name: &str| match name {
            "admin" => Ok(Role::Admin),
            "read-only" => Ok(Role::ReadOnly),
            other => bail!("{} line {number}: role '{other}' is not admin or read-only", path.display()),
        };
        let fields: Vec<&str> = line.splitn(2, ':').collect();
        match fields.as_slice() {
            ["user", rest] => {
                let (rest, role_name) = rest.rsplit_once(':').with_context(|| format!("line {number}: no role"))?;
                let (name, password) =
                    rest.split_once(':').with_context(|| format!("line {number}: user:NAME:PASSWORD:ROLE"))?;
                let password = match http_password::is_hashed(password) {
                    true => Password::Hashed(Arc::new(
                        HashedPassword::parse(password).with_context(|| format!("{} line {number}", path.display()))?,
                    )),
                    false => Password::Clear(password.to_owned()),
                };
                callers.users.insert(name.to_owned(), (password, role(role_name)?));
            }
            ["token", rest] => {
                let (token, role_name) = rest.rsplit_once(':').with_context(|| format!("line {number}: no role"))?;
                callers.tokens.push((token.to_owned(), role(role_name)?));
            }
            _ => bail!("{} line {number}: expected user:NAME:PASSWORD:ROLE or token:TOKEN:ROLE", path.display()),
        }
    }
    if callers.users.is_empty() && callers.tokens.is_empty() {
        bail!("{} lets no one in", path.display());
    }
    let clear: Vec<&str> =
        callers.users.iter().filter(|(_, (p, _))| matches!(p, Password::Clear(_))).map(|(n, _)| n.as_str()).collect();
    if !clear.is_empty() {
        tracing::warn!(file = %path.display(), users = clear.join(","),
            "these users' passwords are in clear; `tidemark http-user NAME --role ROLE` makes a line with it hashed");
    }
    Ok(callers)
}

#[derive(Clone)]
struct Gate {
    callers: Arc<Callers>,
    read_only_post: ReadOnlyPost,
}

/// The middleware: 401 without valid credentials, 403 for a read-only caller's change.
async fn authenticate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<PeerAddr>>().map(|c| c.0 .0);
    let peer = peer.map(|p| p.to_string()).unwrap_or_default();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let presented = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some((caller, role)) = presented.and_then(|value| identify(&gate.callers, value)) else {
        tracing::warn!(%peer, %method, path, "HTTP request refused: no valid credentials");
        let mut response = refusal(StatusCode::UNAUTHORIZED, "Unauthorized: valid credentials are required");
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Basic realm=\"tidemark\""));
        return response;
    };
    let reads =
        matches!(method, Method::GET | Method::HEAD) || (method == Method::POST && (gate.read_only_post)(&path));
    if role == Role::ReadOnly && !reads {
        tracing::warn!(%peer, %method, path, caller, "HTTP request refused: the caller is read-only");
        return refusal(StatusCode::FORBIDDEN, "Forbidden: the caller may only read");
    }
    next.run(request).await
}

/// The caller an `Authorization` header names, if its credentials hold: the user name (or `token`) and role.
fn identify(callers: &Callers, value: &str) -> Option<(String, Role)> {
    if let Some(token) = value.strip_prefix("Bearer ") {
        let role = callers.tokens.iter().find(|(known, _)| same(known, token.trim())).map(|(_, role)| *role)?;
        return Some(("token".to_owned(), role));
    }
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?.trim()).ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    let (known, role) = callers.users.get(user)?;
    known.matches(password).then(|| (user.to_owned(), *role))
}

/// Compares secrets in time independent of where they differ.
fn same(known: &str, given: &str) -> bool {
    known.len() == given.len() && known.bytes().zip(given.bytes()).fold(0, |diff, (a, b)| diff | (a ^ b)) == 0
}

/// Confluent's and Kafka Connect's error body.
fn refusal(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error_code": status.as_u16(), "message": message });
    (status, axum::Json(body)).into_response()
}

/// A TCP listener whose connections are served after their TLS handshake; handshakes run on their own tasks so a
/// slow client delays no one.
struct TlsListener {
    address: SocketAddr,
    accepted: mpsc::Receiver<(TlsStream<tokio::net::TcpStream>, PeerAddr)>,
}

impl TlsListener {
    fn start(listener: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let (tx, accepted) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (socket, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (acceptor, handed) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(socket));
                    match handshake.await {
                        Ok(Ok(stream)) => {
                            let _ = handed.send((stream, PeerAddr(peer))).await;
                        }
                        Ok(Err(e)) => tracing::warn!(%peer, error = %e, "HTTPS handshake failed; connection refused"),
                        Err(_) => tracing::warn!(%peer, "HTTPS handshake not completed in time; connection refused"),
                    }
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(TlsListener { address, accepted })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<tokio::net::TcpStream>;
    type Addr = PeerAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(connection) => connection,
            // The accept task never ends while this listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(PeerAddr(self.address))
    }
}

/// A client's address, for the refusal log lines, over TCP and TLS alike.
#[derive(Debug, Clone, Copy)]
struct PeerAddr(SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        *stream.remote_addr()
    }
}
