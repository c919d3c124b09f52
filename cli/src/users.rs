//! `tidemark user add|delete|list`: the SASL/SCRAM users, through AlterUserScramCredentials and
//! DescribeUserScramCredentials on Tidemark's own client (librdkafka has no API for them). The password is
//! salted and hashed here (Hi(password) with a fresh salt), so it never reaches the broker.

use std::io::BufRead;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, ApiKey, DescribeUserScramCredentialsRequest,
    DescribeUserScramCredentialsResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use tidemark_broker::security::scram::{self, ScramMechanism};

use crate::args::{ClientArgs, UserCommand};
use crate::client_properties;
use crate::output::out;

/// `tidemark user ...`.
pub async fn run(command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add { name, mechanism, iterations, client } => {
            let mechanisms = mechanisms(&mechanism)?;
            let password = read_password()?;
            let upsertions = mechanisms
                .iter()
                .map(|&mechanism| {
                    let salt = scram::new_salt();
                    let iterations_u32 = u32::try_from(iterations).unwrap_or(0);
                    let salted = scram::salted_password(mechanism, password.as_bytes(), &salt, iterations_u32);
                    ScramCredentialUpsertion::default()
                        .with_name(StrBytes::from_string(name.clone()))
                        .with_mechanism(mechanism.kafka_type())
                        .with_iterations(iterations)
                        .with_salt(Bytes::from(salt))
                        .with_salted_password(Bytes::from(salted))
                })
                .collect();
            alter(&client, AlterUserScramCredentialsRequest::default().with_upsertions(upsertions)).await?;
            let names: Vec<&str> = mechanisms.iter().map(|m| m.name()).collect();
            out!("user {name}: {} credentials set", names.join(", "))?;
        }
        UserCommand::Delete { name, mechanism, client } => {
            let mechanisms = match mechanism.is_empty() {
                true => {
                    described(&client, Some(&name)).await?.into_iter().flat_map(|(_, m)| m).map(|(m, _)| m).collect()
                }
                false => mechanisms(&mechanism)?,
            };
            let deletions = mechanisms
                .iter()
                .map(|m| {
                    let name = StrBytes::from_string(name.clone());
                    ScramCredentialDeletion::default().with_name(name).with_mechanism(m.kafka_type())
                })
                .collect();
            alter(&client, AlterUserScramCredentialsRequest::default().with_deletions(deletions)).await?;
            out!("user {name}: credentials removed")?;
        }
        UserCommand::List { client } => {
            for (user, credentials) in described(&client, None).await? {
                let listed: Vec<String> = credentials
                    .iter()
                    .map(|(m, iterations)| format!("{} (iterations {iterations})", m.name()))
                    .collect();
                out!("{user}\t{}", listed.join(", "))?;
            }
        }
    }
    Ok(())
}

fn mechanisms(names: &[String]) -> Result<Vec<ScramMechanism>> {
    names
        .iter()
        .map(|n| {
            ScramMechanism::from_name(n.trim())
                .with_context(|| format!("--mechanism {n}: not SCRAM-SHA-256 or SCRAM-SHA-512"))
        })
        .collect()
}

/// The first line of standard input, without its line end.
pub(crate) fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password: give it on the first line of standard input");
    }
    Ok(password)
}

async fn alter(client: &ClientArgs, request: AlterUserScramCredentialsRequest) -> Result<()> {
    let mut connection = client_properties::connect(client).await?;
    let response: AlterUserScramCredentialsResponse =
        connection.call(ApiKey::AlterUserScramCredentials, 0, &request).await?;
    for result in response.results {
        if let Some(error) = ResponseError::try_from_code(result.error_code) {
            let text = result.error_message.map(|m| m.to_string()).unwrap_or_default();
            bail!("user {}: {error:?}: {text}", result.user.as_str());
        }
    }
    Ok(())
}

/// Users (all, or `only`) with each mechanism's iterations.
async fn described(client: &ClientArgs, only: Option<&str>) -> Result<Vec<(String, Vec<(ScramMechanism, i32)>)>> {
    use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
    let users = only.map(|name| vec![UserName::default().with_name(StrBytes::from_string(name.to_owned()))]);
    let request = DescribeUserScramCredentialsRequest::default().with_users(users);
    let mut connection = client_properties::connect(client).await?;
    let response: DescribeUserScramCredentialsResponse =
        connection.call(ApiKey::DescribeUserScramCredentials, 0, &request).await?;
    if let Some(error) = ResponseError::try_from_code(response.error_code) {
        bail!("{error:?}: {}", response.error_message.map(|m| m.to_string()).unwrap_or_default());
    }
    response
        .results
        .into_iter()
        .map(|result| {
            if let Some(error) = ResponseError::try_from_code(result.error_code) {
                let text = result.error_message.map(|m| m.to_string()).unwrap_or_default();
                bail!("user {}: {error:?}: {text}", result.user.as_str());
            }
            let credentials = result
                .credential_infos
                .iter()
                .filter_map(|c| ScramMechanism::from_kafka_type(c.mechanism).map(|m| (m, c.iterations)))
                .collect();
            Ok((result.user.to_string(), credentials))
        })
        .collect()
}
