//! A connection's SASL authentication, Kafka's `SaslServerAuthenticator`: on a SASL listener a client may send
//! ApiVersions, then SaslHandshake naming a mechanism, then SaslAuthenticate requests carrying the mechanism's
//! tokens (or, after a version 0 handshake, the bare tokens in frames of their own) until it is authenticated.
//! Any other request before that closes the connection; a failed authentication is answered with
//! SASL_AUTHENTICATION_FAILED, logged, and closes the connection.

use std::net::SocketAddr;

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, RequestKind, ResponseKind, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use crate::broker::Broker;
use crate::protocol::Reply;
use crate::security::listener::SecurityProtocol;
use crate::security::principal::Principal;
use crate::security::sasl::{SaslAuthenticator, SaslError, SaslMechanism, SaslStep};
use crate::security::session::Session;

/// Largest frame accepted before a client is authenticated (Kafka's `sasl.server.max.receive.size`), so that a
/// stranger cannot make the broker allocate `--max-request-bytes`.
pub const MAX_UNAUTHENTICATED_FRAME: usize = 512 * 1024;

/// What the connection does with a request's answer.
pub enum Outcome {
    /// Answer and carry on.
    Answer(Reply),
    /// Answer, then close the connection (authentication failed).
    AnswerAndClose(Reply),
    /// Close without answering (the reason is logged here): a request before authentication, or a failed
    /// exchange of bare tokens.
    Close,
}

enum State {
    Authenticated,
    AwaitingHandshake,
    Exchanging { authenticator: SaslAuthenticator, raw_tokens: bool },
}

/// The authentication state of one connection.
pub struct Authentication {
    /// The principal is anonymous until SASL authenticates the client.
    session: Session,
    state: State,
}

impl Authentication {
    /// A connection to `listener` from `peer`: authenticated at once unless the listener uses SASL, as the
    /// principal its client certificate names (`certified`) or else as anonymous.
    pub fn new(listener: SecurityProtocol, peer: SocketAddr, certified: Option<Principal>) -> Self {
        let state = if listener.uses_sasl() { State::AwaitingHandshake } else { State::Authenticated };
        let principal = certified.unwrap_or_else(Principal::anonymous);
        Authentication { session: Session { peer, listener, principal }, state }
    }

    /// The connection as request handlers see it.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Whether the client may send any request (not only ApiVersions and SASL's).
    pub fn is_authenticated(&self) -> bool {
        matches!(self.state, State::Authenticated)
    }

    /// Whether the next frame is a bare SASL token (after a version 0 SaslHandshake) rather than a request.
    pub fn expects_raw_token(&self) -> bool {
        matches!(self.state, State::Exchanging { raw_tokens: true, .. })
    }

    /// Whether a request of `api` is answered here rather than by the broker's API handlers: SASL's own
    /// requests, and anything but ApiVersions before authentication.
    pub fn intercepts(&self, api: ApiKey) -> bool {
        matches!(api, ApiKey::SaslHandshake | ApiKey::SaslAuthenticate)
            || (!self.is_authenticated() && api != ApiKey::ApiVersions)
    }

    /// Handles a request of `api` that [`Authentication::intercepts`].
    pub fn handle(&mut self, broker: &Broker, api: ApiKey, version: i16, request: RequestKind) -> Outcome {
        match request {
            RequestKind::SaslHandshake(handshake) => self.handshake(broker, version, handshake),
            RequestKind::SaslAuthenticate(authenticate) => self.authenticate(broker, authenticate),
            _ => {
                tracing::warn!(peer = %self.session.peer, listener = %self.session.listener, ?api,
                    "request before SASL authentication; closing the connection");
                Outcome::Close
            }
        }
    }

    fn handshake(&mut self, broker: &Broker, version: i16, request: SaslHandshakeRequest) -> Outcome {
        let enabled = if self.session.listener.uses_sasl() { broker.config().sasl_mechanisms.as_slice() } else { &[] };
        let names = enabled.iter().map(|m| StrBytes::from_static_str(m.name())).collect();
        let response = SaslHandshakeResponse::default().with_mechanisms(names);
        if !matches!(self.state, State::AwaitingHandshake) {
            tracing::warn!(peer = %self.session.peer, listener = %self.session.listener, "unexpected SaslHandshake; closing the connection");
            let refused = response.with_error_code(ResponseError::IllegalSaslState.code());
            return Outcome::AnswerAndClose(now(ResponseKind::SaslHandshake(refused)));
        }
        let wanted = request.mechanism.as_str();
        match SaslMechanism::from_name(wanted).filter(|m| enabled.contains(m)) {
            Some(mechanism) => {
                let authenticator = SaslAuthenticator::new(mechanism);
                self.state = State::Exchanging { authenticator, raw_tokens: version == 0 };
                Outcome::Answer(now(ResponseKind::SaslHandshake(response)))
            }
            None => {
                tracing::warn!(peer = %self.session.peer, listener = %self.session.listener, mechanism = wanted,
                    "authentication refused: SASL mechanism not enabled");
                let refused = response.with_error_code(ResponseError::UnsupportedSaslMechanism.code());
                Outcome::AnswerAndClose(now(ResponseKind::SaslHandshake(refused)))
            }
        }
    }

    /// A SaslAuthenticate step. Its `session_lifetime_ms` (v1+) stays 0: sessions do not expire, so clients never
    /// re-authenticate (KIP-368).
    fn authenticate(&mut self, broker: &Broker, request: SaslAuthenticateRequest) -> Outcome {
        let response = SaslAuthenticateResponse::default();
        if !matches!(self.state, State::Exchanging { raw_tokens: false, .. }) {
            tracing::warn!(peer = %self.session.peer, listener = %self.session.listener, "unexpected SaslAuthenticate; closing the connection");
            let text = "SaslAuthenticate is only valid after a SaslHandshake and before authentication completes";
            let refused =
                response.with_error_code(ResponseError::IllegalSaslState.code()).with_error_message(msg(text));
            return Outcome::AnswerAndClose(now(ResponseKind::SaslAuthenticate(refused)));
        }
        match self.step(broker, &request.auth_bytes) {
            Ok(token) => Outcome::Answer(now(ResponseKind::SaslAuthenticate(response.with_auth_bytes(token)))),
            Err(e) => {
                let refused = response
                    .with_error_code(ResponseError::SaslAuthenticationFailed.code())
                    .with_error_message(msg(&e.to_string()));
                Outcome::AnswerAndClose(now(ResponseKind::SaslAuthenticate(refused)))
            }
        }
    }

    /// Handles a bare token (after a version 0 SaslHandshake): answered with a bare token; a failure closes the
    /// connection without an answer, as Kafka does.
    pub fn raw_token(&mut self, broker: &Broker, token: &[u8]) -> Outcome {
        match self.step(broker, token) {
            Ok(answer) => Outcome::Answer(Reply::Raw(answer)),
            Err(_) => Outcome::Close,
        }
    }

    /// Feeds a token to the mechanism; the answer token, or the failure (logged).
    fn step(&mut self, broker: &Broker, token: &[u8]) -> Result<Bytes, SaslError> {
        let State::Exchanging { authenticator, .. } = &mut self.state else {
            return Err(SaslError::Malformed("no SASL exchange in progress".to_owned()));
        };
        let mechanism = authenticator.mechanism();
        match authenticator.step(token, broker.users()) {
            Ok(SaslStep::Challenge(challenge)) => Ok(Bytes::from(challenge)),
            Ok(SaslStep::Authenticated { user, response }) => {
                tracing::debug!(peer = %self.session.peer, listener = %self.session.listener, mechanism = mechanism.name(), %user,
                    "authenticated");
                self.session.principal = Principal::user(user);
                self.state = State::Authenticated;
                Ok(Bytes::from(response))
            }
            Err(e) => {
                let user = match &e {
                    SaslError::InvalidCredentials { user, .. } => user.as_str(),
                    SaslError::Malformed(_) => "",
                };
                tracing::warn!(peer = %self.session.peer, listener = %self.session.listener, mechanism = mechanism.name(), user,
                    error = %e, "authentication failed");
                Err(e)
            }
        }
    }
}

fn now(response: ResponseKind) -> Reply {
    Reply::Now(Box::new(response))
}

fn msg(text: &str) -> Option<StrBytes> {
    Some(StrBytes::from_string(text.to_owned()))
}
