//! Who may talk to the broker: listeners and their security protocols, TLS, SASL authentication (PLAIN,
//! SCRAM-SHA-256/512) against the users' SCRAM credentials, and the principal a connection acts as.

pub mod listener;
pub mod plain;
pub mod principal;
pub mod sasl;
pub mod scram;
pub mod session;
pub mod tls;
pub mod users;
