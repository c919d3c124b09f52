//! The SASL PLAIN message (RFC 4616): `authzid NUL user NUL password`, UTF-8, in a single client token. Checking
//! the password is [`super::sasl`]'s job.

use std::fmt;

use super::sasl::SaslError;

/// The three fields of a PLAIN message: authzid, user, password.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainCredentials {
    /// The identity to act as: empty, or the user itself (Kafka allows nothing else).
    pub authorization_id: String,
    /// The user authenticating.
    pub user: String,
    /// The user's password, in clear.
    pub password: String,
}

impl fmt::Debug for PlainCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainCredentials")
            .field("authorization_id", &self.authorization_id)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Parses a PLAIN message: exactly two NULs, UTF-8, a non-empty user and password, and an authorization id that is
/// empty or the user (Kafka's `PlainSaslServer` rules and messages).
pub fn parse(message: &[u8]) -> Result<PlainCredentials, SaslError> {
    let text = std::str::from_utf8(message).map_err(|_| SaslError::malformed("the SASL/PLAIN message is not UTF-8"))?;
    let fields: Vec<&str> = text.split('\0').collect();
    let [authorization_id, user, password] = fields.as_slice() else {
        return Err(SaslError::malformed(format!(
            "Invalid SASL/PLAIN response: expected 3 tokens, got {}",
            fields.len()
        )));
    };
    if user.is_empty() {
        return Err(SaslError::malformed("username not specified"));
    }
    if password.is_empty() {
        return Err(SaslError::malformed("password not specified"));
    }
    if !authorization_id.is_empty() && authorization_id != user {
        return Err(SaslError::malformed("Client requested an authorization id that is different from username"));
    }
    Ok(PlainCredentials {
        authorization_id: (*authorization_id).to_owned(),
        user: (*user).to_owned(),
        password: (*password).to_owned(),
    })
}

/// The PLAIN message for `user` and `password`, with no authorization id: `\0user\0password` (for Tidemark's own
/// clients). A NUL inside either makes a message the broker refuses.
pub fn encode(user: &str, password: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(user.len() + password.len() + 2);
    message.push(0);
    message.extend_from_slice(user.as_bytes());
    message.push(0);
    message.extend_from_slice(password.as_bytes());
    message
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::security::scram::{ScramCredential, ScramMechanism};

    fn reason(message: &[u8]) -> String {
        match parse(message) {
            Err(SaslError::Malformed(reason)) => reason,
            other => panic!("expected a malformed message, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_three_fields() {
        let parsed = parse(b"\0alice\0secret").expect("parse");
        assert_eq!(parsed.authorization_id, "");
        assert_eq!(parsed.user, "alice");
        assert_eq!(parsed.password, "secret");
        let with_authzid = parse(b"alice\0alice\0s e c r e t").expect("parse");
        assert_eq!(with_authzid.authorization_id, "alice");
        assert_eq!(with_authzid.password, "s e c r e t");
        let unicode = parse("\0b\u{f8}rge\0p\u{e5}ssw\u{f6}rd".as_bytes()).expect("parse");
        assert_eq!((unicode.user.as_str(), unicode.password.as_str()), ("b\u{f8}rge", "p\u{e5}ssw\u{f6}rd"));
    }

    #[test]
    fn refuses_the_wrong_number_of_fields() {
        assert_eq!(reason(b""), "Invalid SASL/PLAIN response: expected 3 tokens, got 1");
        assert_eq!(reason(b"alice\0secret"), "Invalid SASL/PLAIN response: expected 3 tokens, got 2");
        assert_eq!(reason(b"\0alice\0secret\0"), "Invalid SASL/PLAIN response: expected 3 tokens, got 4");
        assert_eq!(reason(b"\0alice\0sec\0ret"), "Invalid SASL/PLAIN response: expected 3 tokens, got 4");
    }

    #[test]
    fn refuses_empty_fields_a_foreign_authzid_and_non_utf8() {
        assert_eq!(reason(b"\0\0secret"), "username not specified");
        assert_eq!(reason(b"\0alice\0"), "password not specified");
        assert_eq!(reason(b"\0\0"), "username not specified");
        assert_eq!(
            reason(b"admin\0alice\0secret"),
            "Client requested an authorization id that is different from username"
        );
        assert_eq!(reason(b"\0al\xffice\0secret"), "the SASL/PLAIN message is not UTF-8");
    }

    #[test]
    fn debug_redacts_the_password() {
        let parsed = parse(b"\0alice\0secret").expect("parse");
        let debug = format!("{parsed:?}");
        assert!(debug.contains("alice") && !debug.contains("secret"), "{debug}");
    }

    #[test]
    fn an_encoded_message_verifies_against_the_users_credential() {
        let credential = ScramCredential::generate(ScramMechanism::Sha256, "secret", ScramMechanism::MIN_ITERATIONS);
        assert_eq!(encode("alice", "secret"), b"\0alice\0secret");
        let parsed = parse(&encode("alice", "secret")).expect("parse");
        assert!(credential.verify_password(&parsed.password));
        let wrong = parse(&encode("alice", "secreT")).expect("parse");
        assert!(!credential.verify_password(&wrong.password));
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(user in "[^\0]{1,20}", password in "[^\0]{1,20}") {
            let parsed = parse(&encode(&user, &password)).expect("parse");
            prop_assert_eq!(parsed, PlainCredentials { authorization_id: String::new(), user, password });
        }

        #[test]
        fn arbitrary_bytes_never_panic(message in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = parse(&message);
        }
    }
}
