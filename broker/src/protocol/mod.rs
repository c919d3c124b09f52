//! The Kafka APIs this broker answers, one file per API family. Codecs come from `kafka-protocol`; handlers turn
//! a decoded request into a response against the [`Broker`]. Nothing here touches a socket.

mod api_versions;
mod configs;
mod create_partitions;
mod create_topics;
mod delete_topics;
pub mod errors;
mod fetch;
mod list_offsets;
mod metadata;
mod produce;

use std::sync::Arc;

use futures::future::BoxFuture;
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseKind};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;

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
    /// The request cannot be answered; the connection closes, as Kafka does for APIs it does not serve.
    Disconnect,
}

/// Handles one decoded request whose API and version [`is_supported`].
pub async fn handle(broker: &Arc<Broker>, header: &RequestHeader, request: RequestKind) -> Reply {
    let version = header.request_api_version;
    let response = match request {
        RequestKind::Produce(r) => return produce::handle(broker, r, version).await,
        RequestKind::Fetch(r) => return Reply::Later(Box::pin(fetch::handle(Arc::clone(broker), r))),
        RequestKind::ApiVersions(_) => ResponseKind::ApiVersions(api_versions::handle()),
        RequestKind::Metadata(r) => ResponseKind::Metadata(metadata::handle(broker, r, version).await),
        RequestKind::ListOffsets(r) => ResponseKind::ListOffsets(list_offsets::handle(broker, r)),
        RequestKind::CreateTopics(r) => ResponseKind::CreateTopics(create_topics::handle(broker, r).await),
        RequestKind::DeleteTopics(r) => ResponseKind::DeleteTopics(delete_topics::handle(broker, r).await),
        RequestKind::CreatePartitions(r) => ResponseKind::CreatePartitions(create_partitions::handle(broker, r).await),
        RequestKind::DescribeConfigs(r) => ResponseKind::DescribeConfigs(configs::describe(broker, r)),
        RequestKind::AlterConfigs(r) => ResponseKind::AlterConfigs(configs::alter(broker, r).await),
        RequestKind::IncrementalAlterConfigs(r) => {
            ResponseKind::IncrementalAlterConfigs(configs::incremental_alter(broker, r).await)
        }
        _ => return Reply::Disconnect,
    };
    Reply::Now(Box::new(response))
}

/// An optional error message for a response.
fn message(text: impl ToString) -> Option<StrBytes> {
    Some(StrBytes::from_string(text.to_string()))
}
