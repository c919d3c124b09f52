//! One connection's SASL authentication, whatever the mechanism: the connection layer names the mechanism the
//! client chose in SaslHandshake, feeds each token it receives to [`SaslAuthenticator::step`] and sends back the
//! challenge, until the client is authenticated or the exchange fails.
//!
//! PLAIN completes in one step and checks the password against the user's SCRAM credential (SCRAM-SHA-512 if the
//! user has one, else SCRAM-SHA-256): the broker never stores passwords, so PLAIN and SCRAM authenticate the same
//! users. SCRAM takes two steps ([`super::scram`]).
//!
//! **Invariant**: a failed exchange does not tell the client whether the user exists: an unknown user fails with
//! the same [`SaslError::InvalidCredentials`] as a wrong password, at the same step, after the same work.

use std::fmt;

use thiserror::Error;

use super::plain;
use super::scram::{unknown_user_credential, ScramCredential, ScramMechanism, ScramServer, ScramStep};

/// A SASL mechanism the broker offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// PLAIN (RFC 4616): the password in clear, so only sensible under TLS.
    Plain,
    /// SCRAM-SHA-256 or SCRAM-SHA-512 (RFC 5802, RFC 7677).
    Scram(ScramMechanism),
}

impl SaslMechanism {
    /// Every mechanism, in Kafka's order of names: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.
    pub const ALL: [SaslMechanism; 3] = [
        SaslMechanism::Plain,
        SaslMechanism::Scram(ScramMechanism::Sha256),
        SaslMechanism::Scram(ScramMechanism::Sha512),
    ];

    /// The mechanism's name as SaslHandshake carries it (`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`).
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::Scram(mechanism) => mechanism.name(),
        }
    }

    /// The mechanism named `name` (case-sensitive, as Kafka compares them), if the broker has it.
    pub fn from_name(name: &str) -> Option<Self> {
        SaslMechanism::ALL.into_iter().find(|mechanism| mechanism.name() == name)
    }
}

/// Where users' credentials come from (the broker's credential store implements it).
pub trait CredentialLookup {
    /// The SCRAM credential of `user` for `mechanism`, if the user has one.
    fn scram_credential(&self, user: &str, mechanism: ScramMechanism) -> Option<ScramCredential>;
}

/// What a step of the exchange answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslStep {
    /// The exchange goes on: send this challenge to the client and feed its next token.
    Challenge(Vec<u8>),
    /// The client is authenticated as `user`; send `response` (SCRAM's server-final message, empty for PLAIN).
    Authenticated {
        /// The authenticated user.
        user: String,
        /// The last token for the client.
        response: Vec<u8>,
    },
}

/// Why authentication failed. The Display texts are what the client is told (SaslAuthenticate's error_message),
/// so they never reveal whether a user exists.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SaslError {
    /// A wrong password or an unknown user (the client cannot tell which).
    #[error("Authentication failed during authentication due to invalid credentials with SASL mechanism {mechanism}")]
    InvalidCredentials {
        /// The mechanism's name.
        mechanism: &'static str,
        /// The user the client claimed to be, for the broker's log; not in the message.
        user: String,
    },
    /// A message that does not parse, arrives in the wrong state, or asks for something unsupported: the reason.
    #[error("Authentication failed: {0}")]
    Malformed(String),
}

impl SaslError {
    /// A [`SaslError::Malformed`] with `reason`.
    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        SaslError::Malformed(reason.into())
    }
}

/// One authentication exchange on a connection.
pub struct SaslAuthenticator {
    mechanism: SaslMechanism,
    state: State,
}

enum State {
    /// PLAIN, waiting for its only message.
    Plain,
    /// SCRAM, between its steps.
    Scram(ScramServer),
    /// Authenticated or failed: any further token is an error.
    Finished,
}

impl SaslAuthenticator {
    /// An exchange of `mechanism`, waiting for the client's first token.
    pub fn new(mechanism: SaslMechanism) -> Self {
        let state = match mechanism {
            SaslMechanism::Plain => State::Plain,
            SaslMechanism::Scram(scram) => State::Scram(ScramServer::new(scram)),
        };
        SaslAuthenticator { mechanism, state }
    }

    /// The exchange's mechanism.
    pub fn mechanism(&self) -> SaslMechanism {
        self.mechanism
    }

    /// Feeds one client token (a SaslAuthenticate request's auth_bytes, or a bare token after a version 0
    /// SaslHandshake). After an error or once authenticated, every further token is an error.
    pub fn step(&mut self, token: &[u8], credentials: &dyn CredentialLookup) -> Result<SaslStep, SaslError> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Plain => {
                let user = authenticate_plain(token, credentials)?;
                Ok(SaslStep::Authenticated { user, response: Vec::new() })
            }
            State::Scram(mut server) => {
                let mechanism = server.mechanism();
                match server.step(token, &|user| credentials.scram_credential(user, mechanism))? {
                    ScramStep::Challenge(challenge) => {
                        self.state = State::Scram(server);
                        Ok(SaslStep::Challenge(challenge))
                    }
                    ScramStep::Done { user, response } => Ok(SaslStep::Authenticated { user, response }),
                }
            }
            State::Finished => Err(SaslError::malformed("the SASL exchange is already finished")),
        }
    }
}

impl fmt::Debug for SaslAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Plain | State::Scram(_) => "exchanging",
            State::Finished => "finished",
        };
        f.debug_struct("SaslAuthenticator").field("mechanism", &self.mechanism).field("state", &state).finish()
    }
}

/// Checks a PLAIN message against the user's SCRAM credential; the authenticated user. An unknown user's password
/// is checked against a made-up credential, so that it costs what a known user's does.
fn authenticate_plain(token: &[u8], credentials: &dyn CredentialLookup) -> Result<String, SaslError> {
    let plain = plain::parse(token)?;
    let found = [ScramMechanism::Sha512, ScramMechanism::Sha256].into_iter().find_map(|mechanism| {
        credentials.scram_credential(&plain.user, mechanism).filter(|credential| credential.mechanism == mechanism)
    });
    let known = found.is_some();
    let credential = found.unwrap_or_else(|| unknown_user_credential(ScramMechanism::Sha512, &plain.user));
    if credential.verify_password(&plain.password) && known {
        Ok(plain.user)
    } else {
        Err(SaslError::InvalidCredentials { mechanism: SaslMechanism::Plain.name(), user: plain.user })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::security::scram::ScramClient;

    /// Users and their credentials, by mechanism.
    #[derive(Default)]
    struct TestUsers(HashMap<(String, ScramMechanism), ScramCredential>);

    impl TestUsers {
        fn with(mut self, user: &str, mechanism: ScramMechanism, password: &str) -> Self {
            let credential = ScramCredential::generate(mechanism, password, ScramMechanism::MIN_ITERATIONS);
            self.0.insert((user.to_owned(), mechanism), credential);
            self
        }
    }

    impl CredentialLookup for TestUsers {
        fn scram_credential(&self, user: &str, mechanism: ScramMechanism) -> Option<ScramCredential> {
            self.0.get(&(user.to_owned(), mechanism)).cloned()
        }
    }

    /// "alice" has both SCRAM credentials ("secret"); "bob" only SCRAM-SHA-256 ("hunter2"). Built once: PBKDF2
    /// is slow in debug builds.
    fn users() -> &'static TestUsers {
        static USERS: OnceLock<TestUsers> = OnceLock::new();
        USERS.get_or_init(|| {
            TestUsers::default()
                .with("alice", ScramMechanism::Sha256, "secret")
                .with("alice", ScramMechanism::Sha512, "secret")
                .with("bob", ScramMechanism::Sha256, "hunter2")
        })
    }

    fn plain(token: &[u8]) -> Result<SaslStep, SaslError> {
        SaslAuthenticator::new(SaslMechanism::Plain).step(token, users())
    }

    fn invalid(mechanism: &'static str, user: &str) -> SaslError {
        SaslError::InvalidCredentials { mechanism, user: user.to_owned() }
    }

    #[test]
    fn mechanism_names_round_trip() {
        let names: Vec<_> = SaslMechanism::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
        for mechanism in SaslMechanism::ALL {
            assert_eq!(SaslMechanism::from_name(mechanism.name()), Some(mechanism));
        }
        assert_eq!(SaslMechanism::from_name("plain"), None);
        assert_eq!(SaslMechanism::from_name("GSSAPI"), None);
        assert_eq!(SaslMechanism::from_name("OAUTHBEARER"), None);
    }

    #[test]
    fn plain_authenticates_against_the_sha512_credential_or_else_the_sha256_one() {
        let authenticated = |user: &str| SaslStep::Authenticated { user: user.to_owned(), response: Vec::new() };
        assert_eq!(plain(&plain::encode("alice", "secret")), Ok(authenticated("alice")));
        assert_eq!(plain(&plain::encode("bob", "hunter2")), Ok(authenticated("bob")));
        assert_eq!(plain(b"alice\0alice\0secret"), Ok(authenticated("alice")));
    }

    #[test]
    fn plain_wrong_password_and_unknown_user_fail_alike() {
        let wrong = plain(&plain::encode("alice", "Secret")).expect_err("wrong password");
        let unknown = plain(&plain::encode("mallory", "secret")).expect_err("unknown user");
        assert_eq!(wrong, invalid("PLAIN", "alice"));
        assert_eq!(unknown, invalid("PLAIN", "mallory"));
        assert_eq!(wrong.to_string().replace("alice", "mallory"), unknown.to_string());
        assert!(!wrong.to_string().contains("alice"), "{wrong}");
        assert_eq!(
            unknown.to_string(),
            "Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN"
        );
    }

    #[test]
    fn plain_refuses_a_malformed_message_and_a_foreign_authorization_id() {
        assert!(matches!(plain(b"alice\0secret"), Err(SaslError::Malformed(_))));
        assert!(matches!(plain(b"bob\0alice\0secret"), Err(SaslError::Malformed(_))));
    }

    #[test]
    fn plain_ignores_a_credential_of_the_wrong_mechanism() {
        /// A store that answers SHA-256 credentials whatever is asked.
        struct Confused(ScramCredential);
        impl CredentialLookup for Confused {
            fn scram_credential(&self, _: &str, _: ScramMechanism) -> Option<ScramCredential> {
                Some(self.0.clone())
            }
        }
        let confused = Confused(ScramCredential::generate(ScramMechanism::Sha256, "pw", 4096));
        let step = SaslAuthenticator::new(SaslMechanism::Plain).step(&plain::encode("u", "pw"), &confused);
        assert_eq!(
            step,
            Ok(SaslStep::Authenticated { user: "u".to_owned(), response: Vec::new() }),
            "the SHA-512 answer is skipped, the SHA-256 one used"
        );
    }

    #[test]
    fn scram_authenticates_through_the_authenticator_for_both_mechanisms() {
        for mechanism in ScramMechanism::ALL {
            let mut authenticator = SaslAuthenticator::new(SaslMechanism::Scram(mechanism));
            assert_eq!(authenticator.mechanism(), SaslMechanism::Scram(mechanism));
            let mut client = ScramClient::new(mechanism, "alice", "secret");
            let SaslStep::Challenge(server_first) =
                authenticator.step(&client.client_first(), users()).expect("server-first")
            else {
                panic!("expected a challenge")
            };
            let client_final = client.client_final(&server_first).expect("client-final");
            let SaslStep::Authenticated { user, response } =
                authenticator.step(&client_final, users()).expect("server-final")
            else {
                panic!("expected authentication")
            };
            assert_eq!(user, "alice");
            client.verify_server_final(&response).expect("server signature");
            let again = authenticator.step(&client_final, users());
            assert_eq!(again, Err(SaslError::malformed("the SASL exchange is already finished")));
        }
    }

    #[test]
    fn scram_user_with_only_sha256_is_unknown_to_sha512() {
        let mut authenticator = SaslAuthenticator::new(SaslMechanism::Scram(ScramMechanism::Sha512));
        let mut client = ScramClient::new(ScramMechanism::Sha512, "bob", "hunter2");
        let Ok(SaslStep::Challenge(server_first)) = authenticator.step(&client.client_first(), users()) else {
            panic!("an unknown user gets a challenge")
        };
        let client_final = client.client_final(&server_first).expect("client-final");
        assert_eq!(authenticator.step(&client_final, users()), Err(invalid("SCRAM-SHA-512", "bob")));
    }

    #[test]
    fn a_failed_exchange_stays_failed() {
        let mut authenticator = SaslAuthenticator::new(SaslMechanism::Scram(ScramMechanism::Sha256));
        assert!(authenticator.step(b"garbage", users()).is_err());
        let mut client = ScramClient::new(ScramMechanism::Sha256, "alice", "secret");
        let retry = authenticator.step(&client.client_first(), users());
        assert_eq!(retry, Err(SaslError::malformed("the SASL exchange is already finished")));
        let mut plain_authenticator = SaslAuthenticator::new(SaslMechanism::Plain);
        assert!(plain_authenticator.step(b"", users()).is_err());
        assert!(plain_authenticator.step(&plain::encode("alice", "secret"), users()).is_err());
    }

    #[test]
    fn debug_shows_no_secrets() {
        let authenticator = SaslAuthenticator::new(SaslMechanism::Plain);
        assert_eq!(format!("{authenticator:?}"), r#"SaslAuthenticator { mechanism: Plain, state: "exchanging" }"#);
    }

    /// Feeds `tokens` to a fresh exchange of every mechanism; errors are fine, panics are not.
    fn feed_all(tokens: &[Vec<u8>]) {
        for mechanism in SaslMechanism::ALL {
            let mut authenticator = SaslAuthenticator::new(mechanism);
            for token in tokens {
                let _ = authenticator.step(token, users());
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_tokens_never_panic(tokens in vec(vec(any::<u8>(), 0..200), 1..=3)) {
            feed_all(&tokens);
        }

        #[test]
        fn scram_like_tokens_never_panic(tokens in vec("[nyp,=acirsv0-9A-Z+/\\x00\u{e9}]{0,60}", 1..=3)) {
            let tokens: Vec<Vec<u8>> = tokens.into_iter().map(String::into_bytes).collect();
            feed_all(&tokens);
        }

        #[test]
        fn arbitrary_tokens_after_a_valid_client_first_never_panic(
            mechanism in prop::sample::select(ScramMechanism::ALL.to_vec()),
            user in prop::sample::select(vec!["alice", "bob", "nobody"]),
            tokens in vec(vec(any::<u8>(), 0..200), 1..=2),
        ) {
            let mut authenticator = SaslAuthenticator::new(SaslMechanism::Scram(mechanism));
            let first = ScramClient::new(mechanism, user, "secret").client_first();
            let challenge = authenticator.step(&first, users());
            prop_assert!(matches!(challenge, Ok(SaslStep::Challenge(_))));
            for token in &tokens {
                let step = authenticator.step(token, users());
                prop_assert!(step.is_err(), "random bytes cannot carry a valid proof: {step:?}");
            }
        }
    }
}
