//! The client side of SASL: SaslHandshake v1 naming the mechanism, then SaslAuthenticate requests carrying its
//! tokens (PLAIN in one, SCRAM in two round trips, the server's signature checked).

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::{ClientError, KafkaConnection, SaslLogin};
use crate::security::plain;
use crate::security::sasl::SaslMechanism;
use crate::security::scram::ScramClient;

/// Authenticates `connection` as `login`.
pub(super) async fn sasl(connection: &mut KafkaConnection, login: &SaslLogin) -> Result<(), ClientError> {
    let handshake = SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(login.mechanism.name()));
    let answer: SaslHandshakeResponse = connection.call(ApiKey::SaslHandshake, 1, &handshake).await?;
    if answer.error_code != 0 {
        let offered: Vec<&str> = answer.mechanisms.iter().map(|m| m.as_str()).collect();
        return Err(ClientError::Authentication(format!(
            "the broker does not offer {} (it offers {})",
            login.mechanism.name(),
            offered.join(", ")
        )));
    }
    match login.mechanism {
        SaslMechanism::Plain => {
            step(connection, plain::encode(&login.user, &login.password)).await?;
        }
        SaslMechanism::Scram(mechanism) => {
            let mut scram = ScramClient::new(mechanism, &login.user, &login.password);
            let server_first = step(connection, scram.client_first()).await?;
            let client_final =
                scram.client_final(&server_first).map_err(|e| ClientError::Authentication(e.to_string()))?;
            let server_final = step(connection, client_final).await?;
            scram.verify_server_final(&server_final).map_err(|e| ClientError::Authentication(e.to_string()))?;
        }
    }
    Ok(())
}

/// One SaslAuthenticate round trip: the server's token, or its refusal.
async fn step(connection: &mut KafkaConnection, token: Vec<u8>) -> Result<Bytes, ClientError> {
    let request = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token));
    let answer: SaslAuthenticateResponse = connection.call(ApiKey::SaslAuthenticate, 1, &request).await?;
    match ResponseError::try_from_code(answer.error_code) {
        None => Ok(answer.auth_bytes),
        Some(error) => {
            let text = answer.error_message.map(|m| m.to_string()).unwrap_or_default();
            Err(ClientError::Authentication(format!("{error:?}: {text}")))
        }
    }
}
