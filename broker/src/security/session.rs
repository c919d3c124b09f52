//! What a request's handler knows of the connection it came on.

use std::net::SocketAddr;

use super::listener::SecurityProtocol;
use super::principal::Principal;

/// A client connection as the request handlers see it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The client's address.
    pub peer: SocketAddr,
    /// The listener it connected to: clients are told the brokers' endpoints on this listener.
    pub listener: SecurityProtocol,
    /// Who it authenticated as.
    pub principal: Principal,
}
