//! The Kafka APIs this broker answers, one file per API family. Codecs come from `kafka-protocol`; handlers turn
//! a decoded request into a response against the [`Broker`]. Nothing here touches a socket.

mod access;
mod acls;
mod api_versions;
mod configs;
mod create_partitions;
mod create_topics;
mod delete_groups;
mod delete_topics;
mod describe_groups;
pub mod errors;
mod fetch;
mod find_coordinator;
mod group_routing;
mod heartbeat;
mod init_producer_id;
mod join_group;
mod leave_group;
mod list_groups;
mod list_offsets;
mod metadata;
mod offset_commit;
mod offset_delete;
mod offset_fetch;
mod offset_for_leader_epoch;
mod produce;
mod sync_group;
mod user_credentials;

use std::sync::Arc;

use futures::future::BoxFuture;
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseKind};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::security::session::Session;
use access::Access;

pub use api_versions::unsupported_version_response;

/// The APIs and version ranges this broker serves: the ranges librdkafka 2.x, kafka-python and franz-go
/// negotiate, capped below the versions that address topics by id only.
pub const SUPPORTED_APIS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 9),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 7),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 6),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::InitProducerId, 0, 5),
    (ApiKey::FindCoordinator, 0, 4),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::OffsetCommit, 2, 8),
    (ApiKey::OffsetFetch, 1, 8),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::OffsetDelete, 0, 0),
    (ApiKey::OffsetForLeaderEpoch, 2, 4),
    (ApiKey::SaslHandshake, 0, 1),
    (ApiKey::SaslAuthenticate, 0, 2),
    (ApiKey::DescribeUserScramCredentials, 0, 0),
    (ApiKey::AlterUserScramCredentials, 0, 0),
    (ApiKey::DescribeAcls, 0, 3),
    (ApiKey::CreateAcls, 0, 3),
    (ApiKey::DeleteAcls, 0, 3),
];

/// Whether this broker serves `api_key` at `version`.
pub fn is_supported(api_key: ApiKey, version: i16) -> bool {
    SUPPORTED_APIS.iter().any(|&(key, min, max)| key == api_key && (min..=max).contains(&version))
}

/// What a request produces.
pub enum Reply {
    /// A response ready now.
    Now(Box<ResponseKind>),
    /// A response that completes later (a produce waiting for fsync, a fetch waiting for data). Its side effects
    /// have already happened in request order; only the answer waits.
    Later(BoxFuture<'static, ResponseKind>),
    /// No response at all (Produce with `acks=0`).
    Nothing,
    /// Bytes sent as they are, without a response header: SASL tokens after a version 0 SaslHandshake.
    Raw(bytes::Bytes),
    /// The request cannot be answered; the connection closes, as Kafka does for APIs it does not serve.
    Disconnect,
}

/// Handles one decoded request whose API and version [`is_supported`], from an authenticated client. (SASL's own
/// requests belong to the connection's authentication, `server::authentication`.) Each handler asks [`Access`]
/// what the session's principal may do, as Kafka's `KafkaApis` asks its authorizer.
pub async fn handle(broker: &Arc<Broker>, header: &RequestHeader, request: RequestKind, session: &Session) -> Reply {
    let version = header.request_api_version;
    let access = Access::new(broker, session);
    let later = |future: BoxFuture<'static, ResponseKind>| Reply::Later(future);
    let response = match request {
        RequestKind::Produce(r) => return produce::handle(broker, r, version, access).await,
        RequestKind::Fetch(r) => return Reply::Later(fetch::handle(broker, r, access)),
        RequestKind::ApiVersions(_) => ResponseKind::ApiVersions(api_versions::handle()),
        RequestKind::Metadata(r) => ResponseKind::Metadata(metadata::handle(broker, r, version, access).await),
        RequestKind::ListOffsets(r) => ResponseKind::ListOffsets(list_offsets::handle(broker, r, version, access)),
        RequestKind::CreateTopics(r) => ResponseKind::CreateTopics(create_topics::handle(broker, r, access).await),
        RequestKind::DeleteTopics(r) => ResponseKind::DeleteTopics(delete_topics::handle(broker, r, access).await),
        RequestKind::CreatePartitions(r) => {
            ResponseKind::CreatePartitions(create_partitions::handle(broker, r, access).await)
        }
        RequestKind::DescribeConfigs(r) => ResponseKind::DescribeConfigs(configs::describe(broker, r, access)),
        RequestKind::AlterConfigs(r) => ResponseKind::AlterConfigs(configs::alter(broker, r, access).await),
        RequestKind::IncrementalAlterConfigs(r) => {
            ResponseKind::IncrementalAlterConfigs(configs::incremental_alter(broker, r, access).await)
        }
        RequestKind::FindCoordinator(r) => {
            ResponseKind::FindCoordinator(find_coordinator::handle(broker, r, version, access).await)
        }
        RequestKind::JoinGroup(r) => {
            let client_id = header.client_id.as_deref().unwrap_or_default().to_owned();
            // Kafka reports client hosts as `/address`.
            let client = (client_id, format!("/{}", session.peer.ip()));
            let joined = join_group::handle(broker, r, version, client, access);
            return later(Box::pin(async move { ResponseKind::JoinGroup(joined.await) }));
        }
        RequestKind::SyncGroup(r) => {
            let synced = sync_group::handle(broker, r, version, access);
            return later(Box::pin(async move { ResponseKind::SyncGroup(synced.await) }));
        }
        RequestKind::Heartbeat(r) => ResponseKind::Heartbeat(heartbeat::handle(broker, r, access)),
        RequestKind::InitProducerId(r) => {
            ResponseKind::InitProducerId(init_producer_id::handle(broker, r, access).await)
        }
        RequestKind::LeaveGroup(r) => ResponseKind::LeaveGroup(leave_group::handle(broker, r, version, access)),
        RequestKind::OffsetCommit(r) => {
            let committed = offset_commit::handle(broker, r, access);
            return later(Box::pin(async move { ResponseKind::OffsetCommit(committed.await) }));
        }
        RequestKind::OffsetFetch(r) => ResponseKind::OffsetFetch(offset_fetch::handle(broker, r, version, access)),
        RequestKind::OffsetForLeaderEpoch(r) => {
            ResponseKind::OffsetForLeaderEpoch(offset_for_leader_epoch::handle(broker, r, access))
        }
        RequestKind::ListGroups(r) => ResponseKind::ListGroups(list_groups::handle(broker, r, version, access)),
        RequestKind::DescribeGroups(r) => {
            ResponseKind::DescribeGroups(describe_groups::handle(broker, r, version, access))
        }
        RequestKind::DeleteGroups(r) => {
            let deleted = delete_groups::handle(broker, r, access);
            return later(Box::pin(async move { ResponseKind::DeleteGroups(deleted.await) }));
        }
        RequestKind::OffsetDelete(r) => {
            let deleted = offset_delete::handle(broker, r, access);
            return later(Box::pin(async move { ResponseKind::OffsetDelete(deleted.await) }));
        }
        RequestKind::CreateAcls(r) => ResponseKind::CreateAcls(acls::create(broker, r, session).await),
        RequestKind::DescribeAcls(r) => ResponseKind::DescribeAcls(acls::describe(broker, r, session)),
        RequestKind::DeleteAcls(r) => ResponseKind::DeleteAcls(acls::delete(broker, r, session).await),
        RequestKind::DescribeUserScramCredentials(r) => {
            ResponseKind::DescribeUserScramCredentials(user_credentials::describe(broker, r, access))
        }
        RequestKind::AlterUserScramCredentials(r) => {
            ResponseKind::AlterUserScramCredentials(user_credentials::alter(broker, r, access).await)
        }
        _ => return Reply::Disconnect,
    };
    Reply::Now(Box::new(response))
}

/// An optional error message for a response.
fn message(text: impl ToString) -> Option<StrBytes> {
    Some(StrBytes::from_string(text.to_string()))
}
