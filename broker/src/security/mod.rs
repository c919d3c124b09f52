//! Who may talk to the broker: listeners and their security protocols, TLS, SASL authentication (PLAIN,
//! SCRAM-SHA-256/512) against the users' SCRAM credentials, the principal a connection acts as, and what it may do
//! (ACLs).

pub mod acl;
pub mod authorizer;
pub mod certificate;
pub mod cluster_secret;
pub mod inter_broker;
pub mod listener;
pub mod plain;
pub mod principal;
pub mod sasl;
pub mod scram;
pub mod session;
pub mod store;
pub mod tls;
pub mod users;
