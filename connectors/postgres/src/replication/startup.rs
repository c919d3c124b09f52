//! The start of a replication connection: the StartupMessage with `replication=database`, authentication
//! (cleartext, MD5, SCRAM-SHA-256), and the server's parameters up to ReadyForQuery.

use std::collections::HashMap;

use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256, SCRAM_SHA_256};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::config::ConnectConfig;
use super::error::ReplicationError;
use super::messages::{message_name, next_message, unexpected};
use super::transport::{FrameReader, FrameWriter};

/// The session settings sent with the StartupMessage. pgoutput's text values are produced under these, so they are
/// fixed: UTF-8, ISO dates, UTC, and floats printed exactly.
const SESSION_SETTINGS: [(&str, &str); 4] =
    [("client_encoding", "UTF8"), ("DateStyle", "ISO"), ("TimeZone", "UTC"), ("extra_float_digits", "3")];

/// What the server told about the session during startup.
pub(crate) struct Session {
    /// ParameterStatus values (`server_version`, `server_encoding`, ...).
    pub(crate) parameters: HashMap<String, String>,
}

/// Sends the StartupMessage, authenticates and reads up to the first ReadyForQuery.
pub(crate) async fn start(
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    config: &ConnectConfig,
) -> Result<Session, ReplicationError> {
    let parameters = [
        ("user", config.user.as_str()),
        ("database", config.dbname.as_str()),
        ("replication", "database"),
        ("application_name", config.application_name.as_str()),
    ];
    writer.send(|buf| frontend::startup_message(parameters.into_iter().chain(SESSION_SETTINGS), buf)).await?;
    authenticate(reader, writer, config).await?;
    let mut session = Session { parameters: HashMap::new() };
    loop {
        match next_message(reader, "startup").await? {
            Message::ParameterStatus(body) => {
                session.parameters.insert(body.name()?.to_owned(), body.value()?.to_owned());
            }
            Message::BackendKeyData(_) => {}
            Message::ReadyForQuery(_) => return Ok(session),
            other => return Err(unexpected(&other, "startup")),
        }
    }
}

/// Answers the server's authentication requests until AuthenticationOk.
async fn authenticate(
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    config: &ConnectConfig,
) -> Result<(), ReplicationError> {
    loop {
        match next_message(reader, "authentication").await? {
            Message::AuthenticationOk => return Ok(()),
            Message::AuthenticationCleartextPassword => {
                writer.send(|buf| frontend::password_message(config.password.as_bytes(), buf)).await?;
            }
            Message::AuthenticationMd5Password(body) => {
                let hash = md5_hash(config.user.as_bytes(), config.password.as_bytes(), body.salt());
                writer.send(|buf| frontend::password_message(hash.as_bytes(), buf)).await?;
            }
            Message::AuthenticationSasl(body) => {
                let mut offered = Vec::new();
                let mut mechanisms = body.mechanisms();
                while let Some(mechanism) = mechanisms.next()? {
                    offered.push(mechanism.to_owned());
                }
                if !offered.iter().any(|mechanism| mechanism == SCRAM_SHA_256) {
                    return Err(ReplicationError::Authentication(format!(
                        "the server offers SASL mechanisms {offered:?}; this client speaks only {SCRAM_SHA_256}"
                    )));
                }
                scram(reader, writer, config).await?;
            }
            other => return Err(unsupported(&other)),
        }
    }
}

/// The SCRAM-SHA-256 exchange (RFC 7677, without channel binding, over TLS too); ends once the server's signature
/// verified. AuthenticationOk follows.
async fn scram(
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    config: &ConnectConfig,
) -> Result<(), ReplicationError> {
    let failed = |error: std::io::Error| ReplicationError::Authentication(format!("SCRAM-SHA-256: {error}"));
    let mut scram = ScramSha256::new(config.password.as_bytes(), ChannelBinding::unsupported());
    writer.send(|buf| frontend::sasl_initial_response(SCRAM_SHA_256, scram.message(), buf)).await?;
    match next_message(reader, "SCRAM authentication").await? {
        Message::AuthenticationSaslContinue(body) => scram.update(body.data()).map_err(failed)?,
        other => return Err(unexpected(&other, "SCRAM authentication")),
    }
    writer.send(|buf| frontend::sasl_response(scram.message(), buf)).await?;
    match next_message(reader, "SCRAM authentication").await? {
        Message::AuthenticationSaslFinal(body) => scram.finish(body.data()).map_err(failed),
        other => Err(unexpected(&other, "SCRAM authentication")),
    }
}

/// The error for an authentication method this client does not speak.
fn unsupported(message: &Message) -> ReplicationError {
    match message {
        Message::AuthenticationKerberosV5
        | Message::AuthenticationGss
        | Message::AuthenticationGssContinue(_)
        | Message::AuthenticationSspi
        | Message::AuthenticationScmCredential => ReplicationError::Authentication(format!(
            "the server asks for {}; supported are password, md5 and scram-sha-256",
            message_name(message)
        )),
        other => unexpected(other, "authentication"),
    }
}
