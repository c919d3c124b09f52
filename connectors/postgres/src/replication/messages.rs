//! Reading the server's messages outside the replication stream: errors become [`ReplicationError::Server`],
//! notices are logged, and unexpected messages are named in errors.

use postgres_protocol::message::backend::Message;

use super::error::{ReplicationError, ServerError};
use super::transport::{Backend, FrameReader};

/// The next message, with ErrorResponse turned into [`ReplicationError::Server`] and notices logged. Cancel safe.
pub(crate) async fn next_backend(reader: &mut FrameReader) -> Result<Backend, ReplicationError> {
    loop {
        match reader.read_message().await? {
            Backend::Message(Message::ErrorResponse(body)) => {
                return Err(ServerError::from_fields(body.fields())?.into());
            }
            Backend::Message(Message::NoticeResponse(body)) => log_notice(ServerError::from_fields(body.fields())?),
            other => return Ok(other),
        }
    }
}

/// Like [`next_backend`] where CopyBothResponse has no place (`phase` names where, for the error).
pub(crate) async fn next_message(reader: &mut FrameReader, phase: &str) -> Result<Message, ReplicationError> {
    match next_backend(reader).await? {
        Backend::Message(message) => Ok(message),
        Backend::CopyBothResponse => Err(ReplicationError::Protocol(format!("CopyBothResponse during {phase}"))),
    }
}

/// Logs a NoticeResponse.
fn log_notice(notice: ServerError) {
    tracing::info!(severity = %notice.severity, code = %notice.code, "postgres: {}", notice.message);
}

/// The error for a message that has no place in `phase`.
pub(crate) fn unexpected(message: &Message, phase: &str) -> ReplicationError {
    ReplicationError::Protocol(format!("{} during {phase}", message_name(message)))
}

/// A message's name for error messages.
pub(crate) fn message_name(message: &Message) -> &'static str {
    match message {
        Message::AuthenticationCleartextPassword => "AuthenticationCleartextPassword",
        Message::AuthenticationGss | Message::AuthenticationGssContinue(_) => "GSSAPI authentication",
        Message::AuthenticationKerberosV5 => "Kerberos V5 authentication",
        Message::AuthenticationMd5Password(_) => "AuthenticationMD5Password",
        Message::AuthenticationOk => "AuthenticationOk",
        Message::AuthenticationScmCredential => "SCM credential authentication",
        Message::AuthenticationSspi => "SSPI authentication",
        Message::AuthenticationSasl(_) => "AuthenticationSASL",
        Message::AuthenticationSaslContinue(_) => "AuthenticationSASLContinue",
        Message::AuthenticationSaslFinal(_) => "AuthenticationSASLFinal",
        Message::BackendKeyData(_) => "BackendKeyData",
        Message::CommandComplete(_) => "CommandComplete",
        Message::CopyData(_) => "CopyData",
        Message::CopyDone => "CopyDone",
        Message::CopyInResponse(_) => "CopyInResponse",
        Message::CopyOutResponse(_) => "CopyOutResponse",
        Message::DataRow(_) => "DataRow",
        Message::EmptyQueryResponse => "EmptyQueryResponse",
        Message::ErrorResponse(_) => "ErrorResponse",
        Message::NoticeResponse(_) => "NoticeResponse",
        Message::NotificationResponse(_) => "NotificationResponse",
        Message::ParameterStatus(_) => "ParameterStatus",
        Message::ReadyForQuery(_) => "ReadyForQuery",
        Message::RowDescription(_) => "RowDescription",
        _ => "a message of the extended query protocol",
    }
}
