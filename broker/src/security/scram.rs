//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks them (`ScramSaslServer`,
//! `ScramFormatter`): the credential the broker stores, the server side of an exchange, and the client side for
//! Tidemark's own clients. An exchange is two round trips:
//!
//! ```text
//! client-first   n,,n=<user>,r=<client nonce>[,<extension>=<value>...]
//! server-first   r=<client nonce><server nonce>,s=<base64 salt>,i=<iterations>
//! client-final   c=<base64 of the GS2 header, "biws">,r=<the whole nonce>,p=<base64 ClientProof>
//! server-final   v=<base64 ServerSignature>
//! ```
//!
//! SaltedPassword = Hi(password, salt, i) (PBKDF2-HMAC), ClientKey = HMAC(SaltedPassword, "Client Key"),
//! StoredKey = H(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key"). AuthMessage is client-first without
//! its GS2 header, server-first and client-final without its proof, joined by commas; ClientProof = ClientKey XOR
//! HMAC(StoredKey, AuthMessage), ServerSignature = HMAC(ServerKey, AuthMessage). The broker keeps salt, iterations,
//! StoredKey and ServerKey: enough to check a proof, not to make one. It checks a proof by recovering ClientKey
//! (ClientProof XOR HMAC(StoredKey, AuthMessage)) and comparing H(ClientKey) with StoredKey in constant time.
//!
//! **Invariant**: an exchange does not tell whether a user exists. An unknown user is answered at the first step
//! like a known one, with a salt that is the same for the same name throughout the process's life and
//! [`ScramMechanism::MIN_ITERATIONS`], and fails at the final step with the error of a wrong password.
//!
//! Not supported: channel binding (`p=` GS2 flag), delegation tokens (`tokenauth=true`), mandatory extensions
//! (`m=`). Names and passwords are used as their UTF-8 bytes, without SASLprep, as Kafka does.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac, pbkdf2};
use serde::{Deserialize, Serialize};

use super::sasl::SaslError;

/// SCRAM-SHA-256 or SCRAM-SHA-512.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ScramMechanism {
    /// SCRAM-SHA-256 (RFC 7677).
    #[serde(rename = "SCRAM-SHA-256")]
    Sha256,
    /// SCRAM-SHA-512.
    #[serde(rename = "SCRAM-SHA-512")]
    Sha512,
}

impl ScramMechanism {
    /// Both mechanisms.
    pub const ALL: [ScramMechanism; 2] = [ScramMechanism::Sha256, ScramMechanism::Sha512];
    /// The fewest iterations a credential may have (Kafka's bound in AlterUserScramCredentials, and the least a
    /// [`ScramClient`] accepts from a server).
    pub const MIN_ITERATIONS: i32 = 4096;
    /// The most iterations a credential may have (Kafka's bound in AlterUserScramCredentials).
    pub const MAX_ITERATIONS: i32 = 16384;

    /// The SASL name: `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub fn name(self) -> &'static str {
        match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
        }
    }

    /// The mechanism of SASL name `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        ScramMechanism::ALL.into_iter().find(|mechanism| mechanism.name() == name)
    }

    /// The number of Kafka's `ScramMechanism` enum, as the user-credential APIs carry it: 1 = SHA-256,
    /// 2 = SHA-512.
    pub fn kafka_type(self) -> i8 {
        match self {
            ScramMechanism::Sha256 => 1,
            ScramMechanism::Sha512 => 2,
        }
    }

    /// The mechanism of Kafka's number `t` (0 is Kafka's UNKNOWN: `None`).
    pub fn from_kafka_type(t: i8) -> Option<Self> {
        ScramMechanism::ALL.into_iter().find(|mechanism| mechanism.kafka_type() == t)
    }

    fn digest_algorithm(self) -> &'static digest::Algorithm {
        match self {
            ScramMechanism::Sha256 => &digest::SHA256,
            ScramMechanism::Sha512 => &digest::SHA512,
        }
    }

    fn hmac_algorithm(self) -> hmac::Algorithm {
        match self {
            ScramMechanism::Sha256 => hmac::HMAC_SHA256,
            ScramMechanism::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn pbkdf2_algorithm(self) -> pbkdf2::Algorithm {
        match self {
            ScramMechanism::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramMechanism::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    /// The length of the hash, and so of every key and signature.
    fn output_len(self) -> usize {
        self.digest_algorithm().output_len()
    }

    /// H(data).
    fn hash(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.digest_algorithm(), data).as_ref().to_vec()
    }

    /// HMAC(key, data).
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(self.hmac_algorithm(), key), data).as_ref().to_vec()
    }
}

/// Hi() of RFC 5802: PBKDF2-HMAC with the mechanism's hash, as long as the hash. An `iterations` of 0 is taken as 1
/// (PBKDF2 needs one).
pub fn salted_password(mechanism: ScramMechanism, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut out = vec![0; mechanism.output_len()];
    let iterations = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(mechanism.pbkdf2_algorithm(), iterations, salt, password, &mut out);
    out
}

const CLIENT_KEY: &[u8] = b"Client Key";
const SERVER_KEY: &[u8] = b"Server Key";
/// Bytes of salt [`ScramCredential::generate`] draws (and an unknown user's made-up salt has).
const SALT_LEN: usize = 32;
/// Random bytes in a nonce, 32 characters of base64.
const NONCE_LEN: usize = 24;
/// The only GS2 header [`ScramClient`] sends: no channel binding, no authorization id.
const GS2_HEADER: &str = "n,,";

/// What the broker stores for one user and mechanism: never the password. In JSON the byte fields are base64.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScramCredential {
    /// The mechanism whose hash made the keys.
    pub mechanism: ScramMechanism,
    /// PBKDF2's iteration count.
    pub iterations: i32,
    /// PBKDF2's salt.
    #[serde(with = "base64_bytes")]
    pub salt: Vec<u8>,
    /// H(ClientKey): checks a client's proof.
    #[serde(with = "base64_bytes")]
    pub stored_key: Vec<u8>,
    /// HMAC(SaltedPassword, "Server Key"): signs the server-final message.
    #[serde(with = "base64_bytes")]
    pub server_key: Vec<u8>,
}

impl ScramCredential {
    /// The credential for a salted password (Hi(password, salt, iterations)), as AlterUserScramCredentials carries
    /// it: the client computed Hi().
    pub fn from_salted_password(
        mechanism: ScramMechanism,
        salted_password: &[u8],
        salt: Vec<u8>,
        iterations: i32,
    ) -> Self {
        let client_key = mechanism.hmac(salted_password, CLIENT_KEY);
        ScramCredential {
            mechanism,
            iterations,
            salt,
            stored_key: mechanism.hash(&client_key),
            server_key: mechanism.hmac(salted_password, SERVER_KEY),
        }
    }

    /// The credential for a clear password with a fresh random salt of 32 bytes (the broker's `--initial-user`).
    /// `iterations` below 1 are taken as 1; callers keep it within [`ScramMechanism::MIN_ITERATIONS`] and
    /// [`ScramMechanism::MAX_ITERATIONS`].
    ///
    /// # Panics
    ///
    /// If the operating system's random number generator fails.
    pub fn generate(mechanism: ScramMechanism, password: &str, iterations: i32) -> Self {
        let iterations = iterations.max(1);
        let salt = random_bytes(SALT_LEN);
        let salted = salted_password(mechanism, password.as_bytes(), &salt, iterations.unsigned_abs());
        ScramCredential::from_salted_password(mechanism, &salted, salt, iterations)
    }

    /// Whether `password` is this credential's password: derives StoredKey from it and compares in constant time
    /// (PLAIN's check). A credential with fewer than one iteration matches no password.
    pub fn verify_password(&self, password: &str) -> bool {
        let Some(iterations) = u32::try_from(self.iterations).ok().filter(|&i| i > 0) else {
            return false;
        };
        let salted = salted_password(self.mechanism, password.as_bytes(), &self.salt, iterations);
        let stored_key = self.mechanism.hash(&self.mechanism.hmac(&salted, CLIENT_KEY));
        constant_time_eq(&stored_key, &self.stored_key)
    }
}

impl fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramCredential")
            .field("mechanism", &self.mechanism)
            .field("iterations", &self.iterations)
            .field("salt", &STANDARD.encode(&self.salt))
            .field("stored_key", &"<redacted>")
            .field("server_key", &"<redacted>")
            .finish()
    }
}

/// The credential an unknown user is given so that the exchange goes on as for a known one: a salt and keys made
/// from the user name with a key drawn once per process, so that asking twice answers the same salt, and
/// [`ScramMechanism::MIN_ITERATIONS`]. No password matches it except by a hash collision; callers fail the
/// exchange anyway.
pub(crate) fn unknown_user_credential(mechanism: ScramMechanism, user: &str) -> ScramCredential {
    static KEY: OnceLock<hmac::Key> = OnceLock::new();
    let key = KEY.get_or_init(|| hmac::Key::new(hmac::HMAC_SHA512, &random_bytes(64)));
    let derive = |label: &[u8], len: usize| {
        let mut context = hmac::Context::with_key(key);
        for part in [label, b"\0", mechanism.name().as_bytes(), b"\0", user.as_bytes()] {
            context.update(part);
        }
        let mut bytes = context.sign().as_ref().to_vec();
        bytes.truncate(len);
        bytes
    };
    ScramCredential {
        mechanism,
        iterations: ScramMechanism::MIN_ITERATIONS,
        salt: derive(b"salt", SALT_LEN),
        stored_key: derive(b"stored key", mechanism.output_len()),
        server_key: derive(b"server key", mechanism.output_len()),
    }
}

/// What the server answers to a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScramStep {
    /// The server-first message: send it and feed the client's final message.
    Challenge(Vec<u8>),
    /// The client proved it knows `user`'s password; send `response`, the server-final message (`v=...`).
    Done {
        /// The authenticated user.
        user: String,
        /// The server-final message.
        response: Vec<u8>,
    },
}

/// The server side of one SCRAM exchange (two round trips).
pub struct ScramServer {
    mechanism: ScramMechanism,
    server_nonce: String,
    state: ServerState,
}

enum ServerState {
    /// Waiting for client-first.
    Initial,
    /// server-first sent, waiting for client-final.
    FirstSent(Box<Exchange>),
    /// Authenticated.
    Done,
    /// A step failed: the exchange is over.
    Failed,
}

/// What the final step needs of the first.
struct Exchange {
    user: String,
    credential: ScramCredential,
    /// Whether `credential` is the user's (not an unknown user's made-up one).
    known_user: bool,
    gs2_header: String,
    /// The client's nonce followed by the server's.
    nonce: String,
    client_first_bare: String,
    server_first: String,
}

impl ScramServer {
    /// An exchange of `mechanism` with a fresh server nonce (24 random bytes in base64).
    ///
    /// # Panics
    ///
    /// If the operating system's random number generator fails.
    pub fn new(mechanism: ScramMechanism) -> Self {
        ScramServer::with_nonce(mechanism, STANDARD.encode(random_bytes(NONCE_LEN)))
    }

    fn with_nonce(mechanism: ScramMechanism, server_nonce: String) -> Self {
        ScramServer { mechanism, server_nonce, state: ServerState::Initial }
    }

    /// The exchange's mechanism.
    pub fn mechanism(&self) -> ScramMechanism {
        self.mechanism
    }

    /// Feeds the client's next message: client-first, then client-final. `lookup` finds a user's credential for
    /// this mechanism (one of another mechanism counts as none). After an error or once done, every further step
    /// is an error.
    pub fn step(
        &mut self,
        message: &[u8],
        lookup: &dyn Fn(&str) -> Option<ScramCredential>,
    ) -> Result<ScramStep, SaslError> {
        match std::mem::replace(&mut self.state, ServerState::Failed) {
            ServerState::Initial => {
                let exchange = self.first(message, lookup)?;
                let challenge = exchange.server_first.clone().into_bytes();
                self.state = ServerState::FirstSent(Box::new(exchange));
                Ok(ScramStep::Challenge(challenge))
            }
            ServerState::FirstSent(exchange) => {
                let done = self.last(*exchange, message)?;
                self.state = ServerState::Done;
                Ok(done)
            }
            ServerState::Done => {
                self.state = ServerState::Done;
                Err(SaslError::malformed("the SCRAM exchange is already complete"))
            }
            ServerState::Failed => Err(SaslError::malformed("the SCRAM exchange already failed")),
        }
    }

    /// client-first → server-first.
    fn first(&self, message: &[u8], lookup: &dyn Fn(&str) -> Option<ScramCredential>) -> Result<Exchange, SaslError> {
        let text = utf8(message, "client-first")?;
        let ClientFirst { gs2_header, bare, user, nonce } = parse_client_first(text)?;
        let found = lookup(&user).filter(|credential| credential.mechanism == self.mechanism);
        let known_user = found.is_some();
        let credential = found.unwrap_or_else(|| unknown_user_credential(self.mechanism, &user));
        let nonce = format!("{nonce}{}", self.server_nonce);
        let server_first = format!("r={nonce},s={},i={}", STANDARD.encode(&credential.salt), credential.iterations);
        Ok(Exchange {
            user,
            credential,
            known_user,
            gs2_header: gs2_header.to_owned(),
            nonce,
            client_first_bare: bare.to_owned(),
            server_first,
        })
    }

    /// client-final → server-final, if the proof holds.
    fn last(&self, exchange: Exchange, message: &[u8]) -> Result<ScramStep, SaslError> {
        let text = utf8(message, "client-final")?;
        let (without_proof, proof) =
            text.rsplit_once(',').ok_or_else(|| SaslError::malformed("invalid client-final message"))?;
        let proof = attribute(Some(proof), 'p', "client-final")?;
        let mut attributes = without_proof.split(',');
        let channel_binding = attribute(attributes.next(), 'c', "client-final")?;
        let nonce = attribute(attributes.next(), 'r', "client-final")?;
        check_extensions(attributes)?;
        if STANDARD.decode(channel_binding).ok().as_deref() != Some(exchange.gs2_header.as_bytes()) {
            return Err(SaslError::malformed("the channel binding does not match the GS2 header"));
        }
        // librdkafka before 2.6.1 (confluentinc/librdkafka#4895) sends its own nonce again in front of the whole
        // nonce, as Debian's kcat still does; Kafka accepts that form too. Either way the server's part must be
        // this exchange's, so a replayed client-final is still refused.
        let client_nonce = &exchange.nonce[..exchange.nonce.len() - self.server_nonce.len()];
        let legacy = nonce.strip_prefix(client_nonce) == Some(exchange.nonce.as_str());
        if nonce != exchange.nonce && !legacy {
            return Err(SaslError::malformed("the nonce does not match the server-first message"));
        }
        let proof = STANDARD.decode(proof).map_err(|_| SaslError::malformed("the client proof is not base64"))?;
        let credential = &exchange.credential;
        if proof.len() != self.mechanism.output_len() {
            return Err(SaslError::malformed("the client proof has the wrong length"));
        }
        let auth_message = format!("{},{},{without_proof}", exchange.client_first_bare, exchange.server_first);
        let client_signature = self.mechanism.hmac(&credential.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(&client_signature).map(|(p, s)| p ^ s).collect();
        let proven = constant_time_eq(&self.mechanism.hash(&client_key), &credential.stored_key);
        if !(proven && exchange.known_user) {
            return Err(SaslError::InvalidCredentials { mechanism: self.mechanism.name(), user: exchange.user });
        }
        let server_signature = self.mechanism.hmac(&credential.server_key, auth_message.as_bytes());
        let response = format!("v={}", STANDARD.encode(server_signature)).into_bytes();
        Ok(ScramStep::Done { user: exchange.user, response })
    }
}

impl fmt::Debug for ScramServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            ServerState::Initial => "initial",
            ServerState::FirstSent(_) => "first sent",
            ServerState::Done => "done",
            ServerState::Failed => "failed",
        };
        f.debug_struct("ScramServer").field("mechanism", &self.mechanism).field("state", &state).finish()
    }
}

/// The parts of a client-first message.
struct ClientFirst<'a> {
    /// `n,,`, `y,,` or with an authorization id `n,a=<user>,`.
    gs2_header: &'a str,
    /// The message after the GS2 header.
    bare: &'a str,
    /// The user, unescaped.
    user: String,
    /// The client's nonce.
    nonce: &'a str,
}

fn parse_client_first(message: &str) -> Result<ClientFirst<'_>, SaslError> {
    let invalid_header = || SaslError::malformed("invalid GS2 header");
    let (flag, rest) = message.split_once(',').ok_or_else(invalid_header)?;
    match flag {
        "n" | "y" => {}
        _ if flag.starts_with("p=") => return Err(SaslError::malformed("channel binding is not supported")),
        _ => return Err(invalid_header()),
    }
    let (authorization_id, bare) = rest.split_once(',').ok_or_else(invalid_header)?;
    let gs2_header = &message[..message.len() - bare.len()];
    let authorization_id = match authorization_id {
        "" => None,
        _ => Some(decode_name(authorization_id.strip_prefix("a=").ok_or_else(invalid_header)?)?),
    };
    let mut attributes = bare.split(',');
    let first = attributes.next();
    if first.is_some_and(|a| a.starts_with("m=")) {
        return Err(SaslError::malformed("mandatory SCRAM extensions are not supported"));
    }
    let user = decode_name(attribute(first, 'n', "client-first")?)?;
    let nonce = attribute(attributes.next(), 'r', "client-first")?;
    if !valid_nonce(nonce) {
        return Err(SaslError::malformed("invalid client nonce"));
    }
    check_extensions(attributes)?;
    if authorization_id.is_some_and(|id| id != user) {
        return Err(SaslError::malformed("Client requested an authorization id that is different from username"));
    }
    Ok(ClientFirst { gs2_header, bare, user, nonce })
}

/// The client side of one SCRAM exchange, for Tidemark's own clients (the CLI, inter-broker connections).
pub struct ScramClient {
    mechanism: ScramMechanism,
    user: String,
    password: String,
    client_nonce: String,
    state: ClientState,
}

enum ClientState {
    /// Nothing sent yet.
    Initial,
    /// client-first sent.
    FirstSent,
    /// client-final sent: what checking the server's signature needs.
    FinalSent { server_key: Vec<u8>, auth_message: String },
}

impl ScramClient {
    /// An exchange of `mechanism` as `user` with `password`, with a fresh client nonce.
    ///
    /// # Panics
    ///
    /// If the operating system's random number generator fails.
    pub fn new(mechanism: ScramMechanism, user: &str, password: &str) -> Self {
        ScramClient::with_nonce(mechanism, user, password, STANDARD.encode(random_bytes(NONCE_LEN)))
    }

    fn with_nonce(mechanism: ScramMechanism, user: &str, password: &str, client_nonce: String) -> Self {
        let (user, password) = (user.to_owned(), password.to_owned());
        ScramClient { mechanism, user, password, client_nonce, state: ClientState::Initial }
    }

    /// The client-first message, `n,,n=<user>,r=<nonce>` (the same message if asked again).
    pub fn client_first(&mut self) -> Vec<u8> {
        if matches!(self.state, ClientState::Initial) {
            self.state = ClientState::FirstSent;
        }
        format!("{GS2_HEADER}{}", self.client_first_bare()).into_bytes()
    }

    fn client_first_bare(&self) -> String {
        format!("n={},r={}", encode_name(&self.user), self.client_nonce)
    }

    /// The client-final message answering `server_first`. Refuses a server nonce that does not extend the
    /// client's and fewer than [`ScramMechanism::MIN_ITERATIONS`] iterations (as Kafka's client does).
    pub fn client_final(&mut self, server_first: &[u8]) -> Result<Vec<u8>, SaslError> {
        if !matches!(self.state, ClientState::FirstSent) {
            return Err(SaslError::malformed("the SCRAM client is not waiting for a server-first message"));
        }
        let text = utf8(server_first, "server-first")?;
        let mut attributes = text.split(',');
        let first = attributes.next();
        if first.is_some_and(|a| a.starts_with("m=")) {
            return Err(SaslError::malformed("mandatory SCRAM extensions are not supported"));
        }
        let nonce = attribute(first, 'r', "server-first")?;
        if !valid_nonce(nonce) || !nonce.starts_with(&self.client_nonce) || nonce.len() == self.client_nonce.len() {
            return Err(SaslError::malformed("the server's nonce does not extend the client's"));
        }
        let salt = STANDARD
            .decode(attribute(attributes.next(), 's', "server-first")?)
            .map_err(|_| SaslError::malformed("the salt is not base64"))?;
        let iterations: i32 = attribute(attributes.next(), 'i', "server-first")?
            .parse()
            .map_err(|_| SaslError::malformed("invalid iteration count"))?;
        if iterations < ScramMechanism::MIN_ITERATIONS {
            return Err(SaslError::malformed(format!(
                "the server asked for {iterations} iterations, fewer than the minimum {}",
                ScramMechanism::MIN_ITERATIONS
            )));
        }
        let mechanism = self.mechanism;
        let salted = salted_password(mechanism, self.password.as_bytes(), &salt, iterations.unsigned_abs());
        let client_key = mechanism.hmac(&salted, CLIENT_KEY);
        let credential = ScramCredential::from_salted_password(mechanism, &salted, salt, iterations);
        let without_proof = format!("c={},r={nonce}", STANDARD.encode(GS2_HEADER));
        let auth_message = format!("{},{text},{without_proof}", self.client_first_bare());
        let client_signature = mechanism.hmac(&credential.stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&client_signature).map(|(k, s)| k ^ s).collect();
        self.state = ClientState::FinalSent { server_key: credential.server_key, auth_message };
        Ok(format!("{without_proof},p={}", STANDARD.encode(proof)).into_bytes())
    }

    /// Checks the server-final message: the server's signature (`v=`) proves it knows the user's credential. A
    /// server error (`e=`) is an error too: `invalid-proof` and `unknown-user` as invalid credentials.
    pub fn verify_server_final(&self, server_final: &[u8]) -> Result<(), SaslError> {
        let ClientState::FinalSent { server_key, auth_message } = &self.state else {
            return Err(SaslError::malformed("the SCRAM client has not sent its final message"));
        };
        let text = utf8(server_final, "server-final")?;
        let first = text.split(',').next();
        if let Some(error) = first.and_then(|a| a.strip_prefix("e=")) {
            return Err(match error {
                "invalid-proof" | "unknown-user" => {
                    SaslError::InvalidCredentials { mechanism: self.mechanism.name(), user: self.user.clone() }
                }
                _ => SaslError::malformed(format!("the server refused the exchange: {error}")),
            });
        }
        let signature = STANDARD
            .decode(attribute(first, 'v', "server-final")?)
            .map_err(|_| SaslError::malformed("the server signature is not base64"))?;
        let key = hmac::Key::new(self.mechanism.hmac_algorithm(), server_key);
        hmac::verify(&key, auth_message.as_bytes(), &signature).map_err(|_| {
            SaslError::malformed("the server's signature is wrong: it does not know the user's credential")
        })
    }
}

impl fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramClient").field("mechanism", &self.mechanism).field("user", &self.user).finish()
    }
}

/// `message` as text.
fn utf8<'a>(message: &'a [u8], what: &str) -> Result<&'a str, SaslError> {
    std::str::from_utf8(message).map_err(|_| SaslError::malformed(format!("the {what} message is not UTF-8")))
}

/// The value of `attribute` when it is `<name>=<value>`.
fn attribute<'a>(attribute: Option<&'a str>, name: char, message: &str) -> Result<&'a str, SaslError> {
    attribute
        .and_then(|a| a.strip_prefix(name))
        .and_then(|a| a.strip_prefix('='))
        .ok_or_else(|| SaslError::malformed(format!("the {message} message lacks its {name}= attribute")))
}

/// Checks the optional extensions after a nonce (`<letters>=<value>`, Kafka's SCRAM extensions): unknown ones are
/// ignored, `tokenauth=true` (delegation tokens) is refused.
fn check_extensions<'a>(extensions: impl Iterator<Item = &'a str>) -> Result<(), SaslError> {
    for extension in extensions {
        let Some((key, value)) = extension.split_once('=') else {
            return Err(SaslError::malformed("invalid SCRAM extension"));
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(SaslError::malformed("invalid SCRAM extension"));
        }
        if key == "tokenauth" && value.eq_ignore_ascii_case("true") {
            return Err(SaslError::malformed("delegation token authentication (tokenauth) is not supported"));
        }
    }
    Ok(())
}

/// Whether `nonce` is RFC 5802's `printable`: ASCII from `!` to `~` without `,`, at least one.
fn valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty() && nonce.bytes().all(|b| (b'!'..=b'~').contains(&b) && b != b',')
}

/// A user name as a SCRAM `saslname`: `=` as `=3D`, `,` as `=2C`.
fn encode_name(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// A `saslname` unescaped: `=2C` is `,`, `=3D` is `=`, any other `=` is refused, as are an empty name and NUL.
fn decode_name(field: &str) -> Result<String, SaslError> {
    let mut name = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(at) = rest.find('=') {
        name.push_str(&rest[..at]);
        let (escaped, after) = match rest.get(at..at + 3) {
            Some("=2C") => (',', &rest[at + 3..]),
            Some("=3D") => ('=', &rest[at + 3..]),
            _ => return Err(SaslError::malformed("invalid escape in a user name: only =2C and =3D are allowed")),
        };
        name.push(escaped);
        rest = after;
    }
    name.push_str(rest);
    if name.is_empty() || name.contains('\0') {
        return Err(SaslError::malformed("invalid user name"));
    }
    Ok(name)
}

/// `a == b` in time that depends on their lengths only. ring's one public constant-time comparison is inside
/// `hmac::verify` (its `constant_time` module is deprecated), so this compares HMACs of both under a fixed key:
/// equal inputs make equal tags, and the tags are compared in constant time.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"tidemark constant-time comparison");
    hmac::verify(&key, a, hmac::sign(&key, b).as_ref()).is_ok()
}

/// A fresh random salt, as [`ScramCredential::generate`] uses: for clients that send AlterUserScramCredentials
/// (the salt and [`salted_password`], never the password).
pub fn new_salt() -> Vec<u8> {
    random_bytes(SALT_LEN)
}

/// `len` bytes from the operating system's random number generator.
pub(crate) fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    // Without randomness there are no safe nonces or salts; ring's SystemRandom fails only if the OS cannot give
    // random bytes at all.
    SystemRandom::new().fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}

/// Serde for byte fields as base64 strings.
mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    // RFC 7677's example exchange.
    const USER: &str = "user";
    const PASSWORD: &str = "pencil";
    const CLIENT_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_FIRST: &str = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL_256: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                    p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_FINAL_256: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    // The same exchange with SHA-512, computed with Python's hashlib and hmac.
    const CLIENT_FINAL_512: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                    p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ==";
    const SERVER_FINAL_512: &str =
        "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw==";

    /// The credential of RFC 7677's user ("pencil", its salt, 4096 iterations), made once per mechanism.
    fn credential(mechanism: ScramMechanism) -> ScramCredential {
        static CREDENTIALS: OnceLock<[ScramCredential; 2]> = OnceLock::new();
        let all = CREDENTIALS.get_or_init(|| {
            ScramMechanism::ALL.map(|m| {
                let salt = STANDARD.decode(SALT).expect("salt");
                ScramCredential::from_salted_password(
                    m,
                    &salted_password(m, PASSWORD.as_bytes(), &salt, 4096),
                    salt,
                    4096,
                )
            })
        });
        all[usize::from(mechanism == ScramMechanism::Sha512)].clone()
    }

    /// A credential store where "user", "a,b" and "x=y" have the password "pencil".
    fn users(mechanism: ScramMechanism) -> impl Fn(&str) -> Option<ScramCredential> {
        move |user| ["user", "a,b", "x=y"].contains(&user).then(|| credential(mechanism))
    }

    fn challenge(step: Result<ScramStep, SaslError>) -> Vec<u8> {
        match step {
            Ok(ScramStep::Challenge(challenge)) => challenge,
            other => panic!("expected a challenge, got {other:?}"),
        }
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).expect("UTF-8")
    }

    fn malformed(step: Result<ScramStep, SaslError>) -> String {
        match step {
            Err(SaslError::Malformed(reason)) => reason,
            other => panic!("expected a malformed message, got {other:?}"),
        }
    }

    fn invalid(mechanism: ScramMechanism, user: &str) -> SaslError {
        SaslError::InvalidCredentials { mechanism: mechanism.name(), user: user.to_owned() }
    }

    /// A whole exchange between `client` and `server`: the server's answer to the client-final message.
    fn exchange(client: &mut ScramClient, server: &mut ScramServer) -> Result<ScramStep, SaslError> {
        let lookup = users(server.mechanism());
        let server_first = challenge(server.step(&client.client_first(), &lookup));
        let client_final = client.client_final(&server_first)?;
        server.step(&client_final, &lookup)
    }

    /// The client-final message a client with RFC 7677's password and nonce answers to [`server_after`]'s
    /// server-first, for client-first messages that [`ScramClient`] does not make.
    fn client_final_for(mechanism: ScramMechanism, client_first: &str) -> String {
        client_final_with_nonce(mechanism, client_first, &format!("{CLIENT_NONCE}{SERVER_NONCE}"))
    }

    /// [`client_final_for`] sending `nonce` as the whole nonce.
    fn client_final_with_nonce(mechanism: ScramMechanism, client_first: &str, nonce: &str) -> String {
        let salt = STANDARD.decode(SALT).expect("salt");
        let salted = salted_password(mechanism, PASSWORD.as_bytes(), &salt, 4096);
        let client_key = mechanism.hmac(&salted, CLIENT_KEY);
        let (flag, rest) = client_first.split_once(',').expect("flag");
        let (authorization_id, bare) = rest.split_once(',').expect("authzid");
        let channel_binding = STANDARD.encode(format!("{flag},{authorization_id},"));
        let without_proof = format!("c={channel_binding},r={nonce}");
        let auth_message = format!("{bare},{SERVER_FIRST},{without_proof}");
        let signature = mechanism.hmac(&mechanism.hash(&client_key), auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
        format!("{without_proof},p={}", STANDARD.encode(proof))
    }

    fn done(user: &str, step: Result<ScramStep, SaslError>) {
        match step {
            Ok(ScramStep::Done { user: authenticated, .. }) => assert_eq!(authenticated, user),
            other => panic!("expected authentication, got {other:?}"),
        }
    }

    /// A server that has answered `client_first` of the RFC's nonce.
    fn server_after(mechanism: ScramMechanism, client_first: &str) -> ScramServer {
        let mut server = ScramServer::with_nonce(mechanism, SERVER_NONCE.to_owned());
        challenge(server.step(client_first.as_bytes(), &users(mechanism)));
        server
    }

    #[test]
    fn rfc7677_vector_client_side() {
        let mut client = ScramClient::with_nonce(ScramMechanism::Sha256, USER, PASSWORD, CLIENT_NONCE.to_owned());
        assert_eq!(text(&client.client_first()), CLIENT_FIRST);
        assert_eq!(text(&client.client_final(SERVER_FIRST.as_bytes()).expect("client-final")), CLIENT_FINAL_256);
        client.verify_server_final(SERVER_FINAL_256.as_bytes()).expect("server signature");
    }

    #[test]
    fn rfc7677_vector_server_side() {
        let mut server = ScramServer::with_nonce(ScramMechanism::Sha256, SERVER_NONCE.to_owned());
        let lookup = users(ScramMechanism::Sha256);
        assert_eq!(text(&challenge(server.step(CLIENT_FIRST.as_bytes(), &lookup))), SERVER_FIRST);
        let done = server.step(CLIENT_FINAL_256.as_bytes(), &lookup).expect("authenticated");
        assert_eq!(done, ScramStep::Done { user: USER.to_owned(), response: SERVER_FINAL_256.as_bytes().to_vec() });
        assert_eq!(client_final_for(ScramMechanism::Sha256, CLIENT_FIRST), CLIENT_FINAL_256, "the test helper");
    }

    #[test]
    fn sha512_vector_matches_an_independent_implementation() {
        let mechanism = ScramMechanism::Sha512;
        let mut client = ScramClient::with_nonce(mechanism, USER, PASSWORD, CLIENT_NONCE.to_owned());
        client.client_first();
        assert_eq!(text(&client.client_final(SERVER_FIRST.as_bytes()).expect("client-final")), CLIENT_FINAL_512);
        client.verify_server_final(SERVER_FINAL_512.as_bytes()).expect("server signature");
        let mut server = server_after(mechanism, CLIENT_FIRST);
        let done = server.step(CLIENT_FINAL_512.as_bytes(), &users(mechanism)).expect("authenticated");
        assert_eq!(done, ScramStep::Done { user: USER.to_owned(), response: SERVER_FINAL_512.as_bytes().to_vec() });
    }

    #[test]
    fn client_and_server_authenticate_for_both_mechanisms() {
        for mechanism in ScramMechanism::ALL {
            for user in ["user", "a,b", "x=y"] {
                let mut client = ScramClient::new(mechanism, user, PASSWORD);
                let step = exchange(&mut client, &mut ScramServer::new(mechanism)).expect("authenticated");
                let ScramStep::Done { user: authenticated, response } = step else { panic!("not done: {step:?}") };
                assert_eq!(authenticated, user);
                client.verify_server_final(&response).expect("server signature");
            }
        }
    }

    #[test]
    fn a_wrong_password_is_invalid_credentials() {
        for mechanism in ScramMechanism::ALL {
            let mut client = ScramClient::new(mechanism, USER, "Pencil");
            assert_eq!(exchange(&mut client, &mut ScramServer::new(mechanism)), Err(invalid(mechanism, USER)));
        }
    }

    #[test]
    fn an_unknown_user_looks_known_at_the_first_step_and_fails_like_a_wrong_password() {
        let mechanism = ScramMechanism::Sha256;
        let server_first = |user: &str| {
            let mut server = ScramServer::with_nonce(mechanism, SERVER_NONCE.to_owned());
            let client_first = format!("n,,n={user},r={CLIENT_NONCE}");
            text(&challenge(server.step(client_first.as_bytes(), &users(mechanism)))).to_owned()
        };
        let unknown = server_first("nobody");
        let (nonce, rest) = unknown.split_once(",s=").expect("salt");
        let (salt, iterations) = rest.split_once(",i=").expect("iterations");
        assert_eq!(nonce, format!("r={CLIENT_NONCE}{SERVER_NONCE}"));
        assert_eq!(STANDARD.decode(salt).expect("base64 salt").len(), SALT_LEN);
        assert_eq!(iterations, "4096");
        assert_eq!(server_first("nobody"), unknown, "the same salt every time");
        assert_ne!(server_first("somebody"), unknown, "another user, another salt");

        let mut client = ScramClient::new(mechanism, "nobody", PASSWORD);
        let unknown_error = exchange(&mut client, &mut ScramServer::new(mechanism)).expect_err("unknown user");
        let mut client = ScramClient::new(mechanism, USER, "wrong");
        let wrong_error = exchange(&mut client, &mut ScramServer::new(mechanism)).expect_err("wrong password");
        assert_eq!(unknown_error, invalid(mechanism, "nobody"));
        assert_eq!(wrong_error, invalid(mechanism, USER));
        assert_eq!(unknown_error.to_string(), wrong_error.to_string());
        assert_eq!(
            unknown_error.to_string(),
            "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"
        );
    }

    #[test]
    fn a_credential_of_another_mechanism_counts_as_none() {
        let mut server = ScramServer::new(ScramMechanism::Sha512);
        let lookup = users(ScramMechanism::Sha256);
        let mut client = ScramClient::new(ScramMechanism::Sha512, USER, PASSWORD);
        let server_first = challenge(server.step(&client.client_first(), &lookup));
        let client_final = client.client_final(&server_first).expect("client-final");
        assert_eq!(server.step(&client_final, &lookup), Err(invalid(ScramMechanism::Sha512, USER)));
    }

    #[test]
    fn librdkafkas_old_doubled_client_nonce_is_accepted_but_not_any_other_prefix() {
        let mechanism = ScramMechanism::Sha256;
        let doubled =
            client_final_with_nonce(mechanism, CLIENT_FIRST, &format!("{CLIENT_NONCE}{CLIENT_NONCE}{SERVER_NONCE}"));
        done(USER, server_after(mechanism, CLIENT_FIRST).step(doubled.as_bytes(), &users(mechanism)));
        let other = client_final_with_nonce(mechanism, CLIENT_FIRST, &format!("x{CLIENT_NONCE}{SERVER_NONCE}"));
        let reason = malformed(server_after(mechanism, CLIENT_FIRST).step(other.as_bytes(), &users(mechanism)));
        assert_eq!(reason, "the nonce does not match the server-first message");
    }

    #[test]
    fn a_tampered_or_replayed_nonce_is_refused() {
        let mechanism = ScramMechanism::Sha256;
        let tampered = CLIENT_FINAL_256.replace("k0,p=", "k1,p=");
        let reason = malformed(server_after(mechanism, CLIENT_FIRST).step(tampered.as_bytes(), &users(mechanism)));
        assert_eq!(reason, "the nonce does not match the server-first message");
        // The same client-final against an exchange with another server nonce (a replay).
        let mut server = ScramServer::new(mechanism);
        challenge(server.step(CLIENT_FIRST.as_bytes(), &users(mechanism)));
        let reason = malformed(server.step(CLIENT_FINAL_256.as_bytes(), &users(mechanism)));
        assert_eq!(reason, "the nonce does not match the server-first message");
        let no_nonce = "n,,n=user,r=";
        let reason = malformed(ScramServer::new(mechanism).step(no_nonce.as_bytes(), &users(mechanism)));
        assert_eq!(reason, "invalid client nonce");
    }

    #[test]
    fn a_bad_proof_is_refused() {
        let mechanism = ScramMechanism::Sha256;
        let flipped = CLIENT_FINAL_256.replace("p=dHzb", "p=dHzc");
        let step = server_after(mechanism, CLIENT_FIRST).step(flipped.as_bytes(), &users(mechanism));
        assert_eq!(step, Err(invalid(mechanism, USER)));
        let short = CLIENT_FINAL_256.replace("p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "p=dHzb");
        let reason = malformed(server_after(mechanism, CLIENT_FIRST).step(short.as_bytes(), &users(mechanism)));
        assert_eq!(reason, "the client proof has the wrong length");
        let not_base64 = CLIENT_FINAL_256.replace("p=dHzb", "p=*Hzb");
        let reason = malformed(server_after(mechanism, CLIENT_FIRST).step(not_base64.as_bytes(), &users(mechanism)));
        assert_eq!(reason, "the client proof is not base64");
        let no_proof = CLIENT_FINAL_256.replace(",p=", ",x=");
        let reason = malformed(server_after(mechanism, CLIENT_FIRST).step(no_proof.as_bytes(), &users(mechanism)));
        assert_eq!(reason, "the client-final message lacks its p= attribute");
    }

    #[test]
    fn tokenauth_is_refused_and_other_extensions_are_accepted() {
        let mechanism = ScramMechanism::Sha256;
        let step = |message: &str| ScramServer::new(mechanism).step(message.as_bytes(), &users(mechanism));
        for token in ["tokenauth=true", "tokenauth=TRUE", "foo=bar,tokenauth=true"] {
            let reason = malformed(step(&format!("{CLIENT_FIRST},{token}")));
            assert_eq!(reason, "delegation token authentication (tokenauth) is not supported");
        }
        challenge(step(&format!("{CLIENT_FIRST},tokenauth=false,traceparent=00-ab-cd")));
        assert_eq!(malformed(step(&format!("{CLIENT_FIRST},noequals"))), "invalid SCRAM extension");
        assert_eq!(malformed(step(&format!("{CLIENT_FIRST},9=x"))), "invalid SCRAM extension");
        assert_eq!(
            malformed(step(&format!("n,,m=x,{}", &CLIENT_FIRST[3..]))),
            "mandatory SCRAM extensions are not supported"
        );
        // A client that sent extensions authenticates; they are part of AuthMessage.
        let with_extensions = format!("{CLIENT_FIRST},foo=bar,tokenauth=false");
        let client_final = client_final_for(mechanism, &with_extensions);
        done(USER, server_after(mechanism, &with_extensions).step(client_final.as_bytes(), &users(mechanism)));
        let without = server_after(mechanism, &with_extensions).step(CLIENT_FINAL_256.as_bytes(), &users(mechanism));
        assert_eq!(without, Err(invalid(mechanism, USER)), "a proof made without the extensions");
    }

    #[test]
    fn channel_binding_is_refused_and_c_must_match_the_gs2_header() {
        let mechanism = ScramMechanism::Sha256;
        let step = |message: &str| ScramServer::new(mechanism).step(message.as_bytes(), &users(mechanism));
        let reason = malformed(step("p=tls-server-end-point,,n=user,r=abc"));
        assert_eq!(reason, "channel binding is not supported");
        assert_eq!(malformed(step("x,,n=user,r=abc")), "invalid GS2 header");
        assert_eq!(malformed(step("n,n=user,r=abc")), "invalid GS2 header");
        assert_eq!(malformed(step("n")), "invalid GS2 header");
        // "y,," (client supports binding, thinks the server does not) is accepted, and c= must then be "eSws".
        let y_first = CLIENT_FIRST.replacen('n', "y", 1);
        let reason = malformed(server_after(mechanism, &y_first).step(CLIENT_FINAL_256.as_bytes(), &users(mechanism)));
        assert_eq!(reason, "the channel binding does not match the GS2 header");
        let y_final = client_final_for(mechanism, &y_first);
        assert!(y_final.starts_with("c=eSws,"), "{y_final}");
        done(USER, server_after(mechanism, &y_first).step(y_final.as_bytes(), &users(mechanism)));
    }

    #[test]
    fn escaped_user_names_are_decoded() {
        assert_eq!(decode_name("a=2Cb").as_deref(), Ok("a,b"));
        assert_eq!(decode_name("x=3Dy").as_deref(), Ok("x=y"));
        assert_eq!(decode_name("=3D=2C=3D").as_deref(), Ok("=,="));
        assert_eq!(decode_name("\u{e9}l\u{e8}ve").as_deref(), Ok("\u{e9}l\u{e8}ve"));
        for bad in ["a=41b", "a=2c", "a=2", "a=", "=", "", "a\0b", "a=\u{e9}\u{e9}"] {
            assert!(decode_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(encode_name("a,b=c"), "a=2Cb=3Dc");
        let mechanism = ScramMechanism::Sha512;
        let mut client = ScramClient::with_nonce(mechanism, "a,b", PASSWORD, CLIENT_NONCE.to_owned());
        assert_eq!(text(&client.client_first()), "n,,n=a=2Cb,r=rOprNGfwEbeRWgbNEkqO");
        let step = ScramServer::new(mechanism).step(b"n,,n=a=41,r=abc", &users(mechanism));
        assert_eq!(malformed(step), "invalid escape in a user name: only =2C and =3D are allowed");
    }

    #[test]
    fn the_authorization_id_must_be_the_user() {
        let mechanism = ScramMechanism::Sha256;
        let with_authzid = "n,a=user,n=user,r=rOprNGfwEbeRWgbNEkqO";
        let client_final = client_final_for(mechanism, with_authzid);
        done(USER, server_after(mechanism, with_authzid).step(client_final.as_bytes(), &users(mechanism)));
        let escaped = "n,a=a=2Cb,n=a=2Cb,r=rOprNGfwEbeRWgbNEkqO";
        let client_final = client_final_for(mechanism, escaped);
        done("a,b", server_after(mechanism, escaped).step(client_final.as_bytes(), &users(mechanism)));
        let step = ScramServer::new(mechanism).step(b"n,a=admin,n=user,r=abc", &users(mechanism));
        assert_eq!(malformed(step), "Client requested an authorization id that is different from username");
        let step = ScramServer::new(mechanism).step(b"n,admin,n=user,r=abc", &users(mechanism));
        assert_eq!(malformed(step), "invalid GS2 header");
    }

    #[test]
    fn steps_out_of_order_are_errors() {
        let mechanism = ScramMechanism::Sha256;
        let lookup = users(mechanism);
        let mut server = server_after(mechanism, CLIENT_FIRST);
        server.step(CLIENT_FINAL_256.as_bytes(), &lookup).expect("authenticated");
        let reason = malformed(server.step(CLIENT_FINAL_256.as_bytes(), &lookup));
        assert_eq!(reason, "the SCRAM exchange is already complete");
        assert_eq!(malformed(server.step(CLIENT_FIRST.as_bytes(), &lookup)), "the SCRAM exchange is already complete");
        // A client-final first, then nothing more.
        let mut server = ScramServer::new(mechanism);
        assert_eq!(malformed(server.step(CLIENT_FINAL_256.as_bytes(), &lookup)), "invalid GS2 header");
        assert_eq!(malformed(server.step(CLIENT_FIRST.as_bytes(), &lookup)), "the SCRAM exchange already failed");
        // A client-first twice.
        let mut server = server_after(mechanism, CLIENT_FIRST);
        let reason = malformed(server.step(CLIENT_FIRST.as_bytes(), &lookup));
        assert_eq!(reason, "the client-final message lacks its p= attribute");
        assert_eq!(malformed(server.step(b"\xff", &lookup)), "the SCRAM exchange already failed");
        let reason = malformed(ScramServer::new(mechanism).step(b"n,,n=\xff,r=a", &lookup));
        assert_eq!(reason, "the client-first message is not UTF-8");
    }

    #[test]
    fn the_client_refuses_a_bad_server_first() {
        let mechanism = ScramMechanism::Sha256;
        let answer = |server_first: &str| {
            let mut client = ScramClient::with_nonce(mechanism, USER, PASSWORD, CLIENT_NONCE.to_owned());
            client.client_first();
            match client.client_final(server_first.as_bytes()) {
                Err(SaslError::Malformed(reason)) => reason,
                other => panic!("expected a refusal, got {other:?}"),
            }
        };
        let foreign = "the server's nonce does not extend the client's";
        assert_eq!(answer(&SERVER_FIRST.replace("r=rOpr", "r=xOpr")), foreign);
        assert_eq!(answer(&format!("r={CLIENT_NONCE},s={SALT},i=4096")), foreign);
        assert_eq!(
            answer(&SERVER_FIRST.replace("i=4096", "i=4095")),
            "the server asked for 4095 iterations, fewer than the minimum 4096"
        );
        assert_eq!(
            answer(&SERVER_FIRST.replace("i=4096", "i=-1")),
            "the server asked for -1 iterations, fewer than the minimum 4096"
        );
        assert_eq!(answer(&SERVER_FIRST.replace("i=4096", "i=lots")), "invalid iteration count");
        assert_eq!(answer(&SERVER_FIRST.replace("s=W22Z", "s=*22Z")), "the salt is not base64");
        assert_eq!(answer(&format!("m=x,{SERVER_FIRST}")), "mandatory SCRAM extensions are not supported");
        assert_eq!(answer("e=other-error"), "the server-first message lacks its r= attribute");
        let mut client = ScramClient::new(mechanism, USER, PASSWORD);
        let reason = client.client_final(SERVER_FIRST.as_bytes());
        assert_eq!(reason, Err(SaslError::malformed("the SCRAM client is not waiting for a server-first message")));
    }

    #[test]
    fn the_client_checks_the_server_signature() {
        let mechanism = ScramMechanism::Sha256;
        let mut client = ScramClient::with_nonce(mechanism, USER, PASSWORD, CLIENT_NONCE.to_owned());
        let early = client.verify_server_final(SERVER_FINAL_256.as_bytes());
        assert_eq!(early, Err(SaslError::malformed("the SCRAM client has not sent its final message")));
        client.client_first();
        client.client_final(SERVER_FIRST.as_bytes()).expect("client-final");
        let forged = SERVER_FINAL_256.replace("v=6rri", "v=6rrj");
        let refused = client.verify_server_final(forged.as_bytes());
        let wrong = "the server's signature is wrong: it does not know the user's credential";
        assert_eq!(refused, Err(SaslError::malformed(wrong)));
        assert_eq!(client.verify_server_final(b"e=invalid-proof"), Err(invalid(mechanism, USER)));
        assert_eq!(client.verify_server_final(b"e=unknown-user"), Err(invalid(mechanism, USER)));
        let other = client.verify_server_final(b"e=other-error");
        assert_eq!(other, Err(SaslError::malformed("the server refused the exchange: other-error")));
        let none = client.verify_server_final(b"");
        assert_eq!(none, Err(SaslError::malformed("the server-final message lacks its v= attribute")));
        client.verify_server_final(SERVER_FINAL_256.as_bytes()).expect("the real signature still verifies");
    }

    #[test]
    fn verify_password_checks_the_password() {
        for mechanism in ScramMechanism::ALL {
            let credential = ScramCredential::generate(mechanism, "s\u{e9}cret", ScramMechanism::MIN_ITERATIONS);
            assert!(credential.verify_password("s\u{e9}cret"));
            assert!(!credential.verify_password("secret"));
            assert!(!credential.verify_password(""));
            for iterations in [0, -1] {
                let broken = ScramCredential { iterations, ..credential.clone() };
                assert!(!broken.verify_password("s\u{e9}cret"));
            }
        }
        assert!(credential(ScramMechanism::Sha256).verify_password(PASSWORD));
        assert!(!unknown_user_credential(ScramMechanism::Sha512, USER).verify_password(PASSWORD));
    }

    #[test]
    fn generate_draws_a_fresh_salt_and_keeps_the_iterations() {
        let first = ScramCredential::generate(ScramMechanism::Sha512, "pw", 8192);
        let second = ScramCredential::generate(ScramMechanism::Sha512, "pw", 8192);
        assert_eq!((first.salt.len(), first.iterations, first.stored_key.len()), (32, 8192, 64));
        assert_ne!(first.salt, second.salt);
        assert_ne!(first.stored_key, second.stored_key);
        assert_eq!(ScramCredential::generate(ScramMechanism::Sha256, "pw", -5).iterations, 1);
    }

    #[test]
    fn the_credential_round_trips_through_json_with_base64_bytes() {
        let credential = credential(ScramMechanism::Sha256);
        let json = serde_json::to_value(&credential).expect("serialize");
        assert_eq!(json["mechanism"], "SCRAM-SHA-256");
        assert_eq!(json["iterations"], 4096);
        assert_eq!(json["salt"], SALT);
        assert_eq!(json["stored_key"], STANDARD.encode(&credential.stored_key));
        assert_eq!(json["server_key"], STANDARD.encode(&credential.server_key));
        let back: ScramCredential = serde_json::from_value(json.clone()).expect("deserialize");
        assert_eq!(back, credential);
        let mut bad = json;
        bad["salt"] = "not base64!".into();
        assert!(serde_json::from_value::<ScramCredential>(bad).is_err());
    }

    #[test]
    fn debug_hides_the_keys() {
        let debug = format!("{:?}", credential(ScramMechanism::Sha256));
        assert!(debug.contains(SALT) && debug.contains("<redacted>"), "{debug}");
        let stored_key = STANDARD.encode(&credential(ScramMechanism::Sha256).stored_key);
        assert!(!debug.contains(&stored_key), "{debug}");
        let client = ScramClient::new(ScramMechanism::Sha256, USER, PASSWORD);
        assert!(!format!("{client:?}").contains(PASSWORD));
        assert_eq!(
            format!("{:?}", ScramServer::new(ScramMechanism::Sha512)),
            r#"ScramServer { mechanism: Sha512, state: "initial" }"#
        );
    }

    #[test]
    fn mechanism_names_and_kafka_types() {
        for mechanism in ScramMechanism::ALL {
            assert_eq!(ScramMechanism::from_name(mechanism.name()), Some(mechanism));
            assert_eq!(ScramMechanism::from_kafka_type(mechanism.kafka_type()), Some(mechanism));
        }
        assert_eq!((ScramMechanism::Sha256.kafka_type(), ScramMechanism::Sha512.kafka_type()), (1, 2));
        assert_eq!(ScramMechanism::Sha512.name(), "SCRAM-SHA-512");
        assert_eq!(ScramMechanism::from_kafka_type(0), None);
        assert_eq!(ScramMechanism::from_name("SCRAM-SHA-1"), None);
        assert_eq!((ScramMechanism::MIN_ITERATIONS, ScramMechanism::MAX_ITERATIONS), (4096, 16384));
    }

    #[test]
    fn server_nonces_are_random_base64_without_commas() {
        let nonce = |server: ScramServer| server.server_nonce;
        let first = nonce(ScramServer::new(ScramMechanism::Sha256));
        assert_eq!(STANDARD.decode(&first).expect("base64").len(), NONCE_LEN);
        assert!(valid_nonce(&first), "{first}");
        assert_ne!(first, nonce(ScramServer::new(ScramMechanism::Sha256)));
    }

    #[test]
    fn salted_password_is_pbkdf2() {
        // RFC 7914's PBKDF2-HMAC-SHA256 vector (P="passwd", S="salt", c=1), first 32 bytes.
        let expected = "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc";
        let hex: String =
            salted_password(ScramMechanism::Sha256, b"passwd", b"salt", 1).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
        let zero = salted_password(ScramMechanism::Sha512, b"passwd", b"salt", 0);
        assert_eq!(zero, salted_password(ScramMechanism::Sha512, b"passwd", b"salt", 1));
    }

    /// One change to a message.
    #[derive(Debug, Clone)]
    enum Edit {
        Replace(usize, u8),
        Insert(usize, u8),
        Remove(usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        let byte = prop_oneof![any::<u8>(), prop::sample::select(b",=nyparcm23CDx\0".to_vec())];
        prop_oneof![
            (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Replace(at, b)),
            (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
            any::<usize>().prop_map(Edit::Remove),
        ]
    }

    fn apply(message: &mut Vec<u8>, edit: &Edit) {
        let len = message.len();
        match *edit {
            Edit::Replace(at, byte) if len > 0 => message[at % len] = byte,
            Edit::Insert(at, byte) => message.insert(at % (len + 1), byte),
            Edit::Remove(at) if len > 0 => {
                message.remove(at % len);
            }
            _ => {}
        }
    }

    proptest! {
        #[test]
        fn mutated_client_first_messages_never_panic(
            mechanism in prop::sample::select(ScramMechanism::ALL.to_vec()),
            extension in prop::sample::select(vec!["", ",foo=bar", ",tokenauth=false"]),
            edits in vec(edit(), 1..4),
            final_edit in proptest::option::of(edit()),
        ) {
            let mut client = ScramClient::with_nonce(mechanism, USER, PASSWORD, CLIENT_NONCE.to_owned());
            let mut first = client.client_first();
            first.extend_from_slice(extension.as_bytes());
            for edit in &edits {
                apply(&mut first, edit);
            }
            let lookup = users(mechanism);
            let mut server = ScramServer::new(mechanism);
            if let Ok(ScramStep::Challenge(server_first)) = server.step(&first, &lookup) {
                // The client answers as if its own message had arrived: that holds only if the edits left the
                // message as the client made it.
                if let Ok(client_final) = client.client_final(&server_first) {
                    let mut client_final = client_final;
                    if let Some(edit) = &final_edit {
                        apply(&mut client_final, edit);
                    }
                    let step = server.step(&client_final, &lookup);
                    if let Ok(ScramStep::Done { user, .. }) = step {
                        prop_assert_eq!(user, USER);
                        prop_assert_eq!(first, format!("{CLIENT_FIRST}{extension}").into_bytes());
                    }
                }
            }
        }
    }
}
