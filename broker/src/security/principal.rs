//! Who a connection is: Kafka's `KafkaPrincipal`, `User:<name>`.

use std::fmt;

/// The authenticated identity of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    /// The user name: the SASL user, or `ANONYMOUS` on listeners that authenticate no one.
    pub name: String,
}

impl Principal {
    /// The principal of connections nobody authenticated (PLAINTEXT and SSL listeners without client
    /// certificates), as Kafka names it.
    pub fn anonymous() -> Self {
        Principal { name: "ANONYMOUS".to_owned() }
    }

    /// A SASL user.
    pub fn user(name: impl Into<String>) -> Self {
        Principal { name: name.into() }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "User:{}", self.name)
    }
}
