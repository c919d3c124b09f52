//! DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554): the SCRAM users, with Kafka's checks and
//! error codes. Clients send salted passwords (the salt and Hi(password) they computed); the broker keeps the
//! derived StoredKey and ServerKey only.
//!
//! As in Kafka, describing needs DESCRIBE on the cluster and altering ALTER on the cluster; a principal without
//! them gets CLUSTER_AUTHORIZATION_FAILED for every user (and at the top of a describe).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, DescribeUserScramCredentialsRequest,
    DescribeUserScramCredentialsResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::access::Access;
use super::message;
use crate::broker::Broker;
use crate::security::acl::Operation;
use crate::security::cluster_secret::INTER_BROKER_USER;
use crate::security::scram::{ScramCredential, ScramMechanism};
use crate::security::users::{CredentialChange, UserCredentials};

/// A user's refusal: the error and its message.
type Refusal = (ResponseError, String);

/// Describes the users asked for (all of them when the list is null or empty): each one's mechanisms and
/// iterations.
pub fn describe(
    broker: &Arc<Broker>,
    request: DescribeUserScramCredentialsRequest,
    access: Access<'_>,
) -> DescribeUserScramCredentialsResponse {
    if !access.cluster(Operation::Describe) {
        let error = ResponseError::ClusterAuthorizationFailed;
        let named = request.users.unwrap_or_default().into_iter().map(|user| user.name.to_string());
        let results = named.map(|user| described(&user, Err((error, error.to_string())))).collect();
        return DescribeUserScramCredentialsResponse::default()
            .with_error_code(error.code())
            .with_error_message(message(error))
            .with_results(results);
    }
    let users = broker.users().all();
    // Kafka answers every user for a null list and for an empty one (confluent-kafka sends the latter).
    let results = match request.users.filter(|wanted| !wanted.is_empty()) {
        None => users.iter().map(|(user, credentials)| described(user, Ok(credentials))).collect(),
        Some(wanted) => {
            let mut seen = BTreeMap::new();
            for name in &wanted {
                *seen.entry(name.name.as_str()).or_insert(0) += 1;
            }
            seen.into_iter()
                .map(|(user, count)| {
                    let found = if count > 1 {
                        Err((
                            ResponseError::DuplicateResource,
                            format!(
                                "Cannot describe SCRAM credentials for the same user twice in a single request: {user}"
                            ),
                        ))
                    } else {
                        users.get(user).ok_or_else(|| {
                            (
                                ResponseError::ResourceNotFound,
                                format!("Attempt to describe a user credential that does not exist: {user}"),
                            )
                        })
                    };
                    described(user, found)
                })
                .collect()
        }
    };
    DescribeUserScramCredentialsResponse::default().with_results(results)
}

fn described(
    user: &str,
    found: Result<&BTreeMap<ScramMechanism, ScramCredential>, Refusal>,
) -> DescribeUserScramCredentialsResult {
    let result = DescribeUserScramCredentialsResult::default().with_user(StrBytes::from_string(user.to_owned()));
    match found {
        Ok(credentials) => result.with_credential_infos(
            credentials
                .values()
                .map(|c| {
                    CredentialInfo::default().with_mechanism(c.mechanism.kafka_type()).with_iterations(c.iterations)
                })
                .collect(),
        ),
        Err((error, text)) => result.with_error_code(error.code()).with_error_message(message(text)),
    }
}

/// Applies the deletions and upsertions of every user whose alterations are all valid, in one change; answers one
/// result per user.
pub async fn alter(
    broker: &Arc<Broker>,
    request: AlterUserScramCredentialsRequest,
    access: Access<'_>,
) -> AlterUserScramCredentialsResponse {
    if !access.cluster(Operation::Alter) {
        return refused(&request, ResponseError::ClusterAuthorizationFailed);
    }
    let existing = broker.users().all();
    let mut per_user: BTreeMap<String, Result<Vec<CredentialChange>, Refusal>> = BTreeMap::new();
    let mut altered = BTreeSet::new();
    let deletions = request.deletions.iter().map(|d| (d.name.to_string(), d.mechanism, None));
    let upsertions = request.upsertions.iter().map(|u| (u.name.to_string(), u.mechanism, Some(u)));
    for (user, mechanism, upsertion) in deletions.chain(upsertions) {
        let change = if !altered.insert((user.clone(), mechanism)) {
            Err((
                ResponseError::DuplicateResource,
                "A user credential cannot be altered twice in the same request".to_owned(),
            ))
        } else {
            checked_change(&existing, &user, mechanism, upsertion)
        };
        let entry = per_user.entry(user).or_insert_with(|| Ok(Vec::new()));
        match (entry, change) {
            (Ok(changes), Ok(change)) => changes.push(change),
            (entry @ Ok(_), Err(refusal)) => *entry = Err(refusal),
            (Err(_), _) => {}
        }
    }
    let accepted: Vec<CredentialChange> =
        per_user.values().filter_map(|r| r.as_ref().ok()).flatten().cloned().collect();
    let failure = match accepted.is_empty() {
        true => None,
        false => {
            broker.users().change(accepted).await.err().map(|e| (ResponseError::UnknownServerError, e.to_string()))
        }
    };
    let results = per_user
        .into_iter()
        .map(|(user, outcome)| {
            let result = AlterUserScramCredentialsResult::default().with_user(StrBytes::from_string(user));
            match outcome.err().or_else(|| failure.clone()) {
                None => result,
                Some((error, text)) => result.with_error_code(error.code()).with_error_message(message(text)),
            }
        })
        .collect();
    AlterUserScramCredentialsResponse::default().with_results(results)
}

/// `error` for every user the request names, once each, in order of name.
fn refused(request: &AlterUserScramCredentialsRequest, error: ResponseError) -> AlterUserScramCredentialsResponse {
    let deleted = request.deletions.iter().map(|d| d.name.to_string());
    let users: BTreeSet<String> = deleted.chain(request.upsertions.iter().map(|u| u.name.to_string())).collect();
    let results = users
        .into_iter()
        .map(|user| {
            AlterUserScramCredentialsResult::default()
                .with_user(StrBytes::from_string(user))
                .with_error_code(error.code())
                .with_error_message(message(error))
        })
        .collect();
    AlterUserScramCredentialsResponse::default().with_results(results)
}

/// One alteration checked as Kafka's controller checks it.
fn checked_change(
    existing: &UserCredentials,
    user: &str,
    mechanism: i8,
    upsertion: Option<&kafka_protocol::messages::alter_user_scram_credentials_request::ScramCredentialUpsertion>,
) -> Result<CredentialChange, Refusal> {
    let unacceptable = |text: &str| (ResponseError::UnacceptableCredential, text.to_owned());
    if user.is_empty() {
        return Err(unacceptable("Username must not be empty"));
    }
    if user == INTER_BROKER_USER {
        return Err(unacceptable(
            "This user name is reserved for the brokers, whose login comes from the cluster secret",
        ));
    }
    let mechanism = ScramMechanism::from_kafka_type(mechanism)
        .ok_or_else(|| (ResponseError::UnsupportedSaslMechanism, "Unknown SCRAM mechanism".to_owned()))?;
    let Some(upsertion) = upsertion else {
        if !existing.get(user).is_some_and(|c| c.contains_key(&mechanism)) {
            let text = "Attempt to delete a user credential that does not exist";
            return Err((ResponseError::ResourceNotFound, text.to_owned()));
        }
        return Ok(CredentialChange::Delete { user: user.to_owned(), mechanism });
    };
    if upsertion.iterations < ScramMechanism::MIN_ITERATIONS {
        return Err(unacceptable("Too few iterations"));
    }
    if upsertion.iterations > ScramMechanism::MAX_ITERATIONS {
        return Err(unacceptable("Too many iterations"));
    }
    if upsertion.salt.is_empty() || upsertion.salted_password.is_empty() {
        return Err(unacceptable("Salt and salted password must not be empty"));
    }
    let credential = ScramCredential::from_salted_password(
        mechanism,
        &upsertion.salted_password,
        upsertion.salt.to_vec(),
        upsertion.iterations,
    );
    Ok(CredentialChange::Upsert { user: user.to_owned(), credential })
}
