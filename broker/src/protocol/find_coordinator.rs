//! FindCoordinator: a group's coordinator is the leader of its `__consumer_offsets` partition (this broker for
//! every group on a single node). Transactions are not served.
//!
//! As in Kafka, a group key needs DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED) and a transactional key
//! DESCRIBE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), asked before anything else.

use std::sync::Arc;

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::access::Access;
use super::errors::transactional_id_denied;
use super::group_routing::group_denied;
use super::{group_routing, message};
use crate::broker::Broker;
use crate::cluster::Cluster;
use crate::controller::image::ClusterImage;
use crate::group::coordinator::offsets_topic_overrides;
use crate::group::OFFSETS_TOPIC;
use crate::security::acl::Operation;
use crate::security::listener::SecurityProtocol;
use crate::topics::TopicError;

/// `key_type` of a group coordinator lookup (1 asks for a transaction coordinator).
const GROUP_KEY_TYPE: i8 = 0;
/// `key_type` of a transaction coordinator lookup.
const TRANSACTION_KEY_TYPE: i8 = 1;

/// A coordinator's node id, host and port.
type Endpoint = (i32, String, i32);

/// Why a key has no coordinator: the error code and its message.
type Failure = (ResponseError, String);

/// Answers with each group's coordinator (its endpoint on the listener the request came on), after making sure
/// `__consumer_offsets` exists.
pub async fn handle(
    broker: &Arc<Broker>,
    request: FindCoordinatorRequest,
    version: i16,
    access: Access<'_>,
) -> FindCoordinatorResponse {
    let keys = if version >= 4 { request.coordinator_keys } else { vec![request.key] };
    let directory = Directory::open(broker, access.session().listener).await;
    let coordinators: Vec<Coordinator> = keys
        .into_iter()
        .map(|key| {
            let found = if let Err(denied) = authorized(access, request.key_type, &key) {
                Err(denied)
            } else if request.key_type != GROUP_KEY_TYPE {
                Err((ResponseError::InvalidRequest, "tidemark has no transaction coordinator".to_owned()))
            } else if key.is_empty() {
                Err((ResponseError::InvalidGroupId, "the group id is empty".to_owned()))
            } else {
                directory.locate(&key)
            };
            coordinator(key, found)
        })
        .collect();
    if version >= 4 {
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let Some(c) = coordinators.into_iter().next() else {
        return FindCoordinatorResponse::default();
    };
    let response = FindCoordinatorResponse::default()
        .with_error_code(c.error_code)
        .with_node_id(c.node_id)
        .with_host(c.host)
        .with_port(c.port);
    if version >= 1 {
        response.with_error_message(c.error_message)
    } else {
        response
    }
}

/// Whether the principal may look up the coordinator of `key`.
fn authorized(access: Access<'_>, key_type: i8, key: &str) -> Result<(), Failure> {
    let denied = match key_type {
        GROUP_KEY_TYPE => group_denied(access, Operation::Describe, key),
        TRANSACTION_KEY_TYPE => transactional_id_denied(access, Operation::Describe, key),
        _ => None,
    };
    denied.map_or(Ok(()), |error| Err((error, error.to_string())))
}

/// Where group coordinators are looked up, once `__consumer_offsets` is ready.
enum Directory {
    /// A single node coordinates every group itself, unless `__consumer_offsets` is not available.
    SingleNode(Result<Endpoint, ResponseError>),
    /// A cluster member answers from the controller's image, unless `__consumer_offsets` could not be created.
    Cluster(Result<Arc<ClusterImage>, String>, SecurityProtocol),
}

impl Directory {
    /// Makes sure `__consumer_offsets` exists: on a single node locally, in a cluster through the controller.
    async fn open(broker: &Broker, listener: SecurityProtocol) -> Self {
        let Some(cluster) = broker.cluster() else {
            let config = broker.config();
            let me = config.advertised(listener).map(|me| (config.node_id, me.host.clone(), i32::from(me.port)));
            let me = me.ok_or(ResponseError::CoordinatorNotAvailable);
            return Directory::SingleNode(broker.groups().offsets_topic(broker.topics()).await.and(me));
        };
        let image = ensure_offsets_topic(broker, cluster).await.map(|()| cluster.image());
        Directory::Cluster(image, listener)
    }

    /// The coordinator of group `key`.
    fn locate(&self, key: &str) -> Result<Endpoint, Failure> {
        let unavailable = |why: String| (ResponseError::CoordinatorNotAvailable, why);
        match self {
            Directory::SingleNode(found) => found.clone().map_err(|e| (e, format!("{OFFSETS_TOPIC} is not available"))),
            Directory::Cluster(Err(why), _) => Err(unavailable(why.clone())),
            Directory::Cluster(Ok(image), listener) => {
                let coordinator = group_routing::locate(image, key).map_err(|e| unavailable(e.to_string()))?;
                let (host, port) = coordinator
                    .endpoint(listener.name())
                    .ok_or_else(|| unavailable(format!("broker {} has no {listener} listener", coordinator.id)))?;
                Ok((coordinator.id, host.to_owned(), i32::from(port)))
            }
        }
    }
}

/// Creates `__consumer_offsets` through the controller unless the image has it already; another broker creating
/// it at the same moment is success too.
async fn ensure_offsets_topic(broker: &Broker, cluster: &Cluster) -> Result<(), String> {
    if cluster.image().topics.contains_key(OFFSETS_TOPIC) {
        return Ok(());
    }
    let partitions = broker.config().groups.offsets_topic_partitions;
    let overrides = offsets_topic_overrides();
    let replication_factor = broker.offsets_topic_replication_factor();
    match broker.create_topic(OFFSETS_TOPIC, partitions, replication_factor, None, overrides, false).await {
        Ok(_) | Err(TopicError::AlreadyExists(_)) => Ok(()),
        Err(e) => {
            tracing::error!(error = %e, "cannot create {OFFSETS_TOPIC} through the controller");
            Err(format!("{OFFSETS_TOPIC} is not available: {e}"))
        }
    }
}

/// One key's answer.
fn coordinator(key: StrBytes, found: Result<Endpoint, Failure>) -> Coordinator {
    let coordinator = Coordinator::default().with_key(key);
    match found {
        Ok((node_id, host, port)) => {
            coordinator.with_node_id(BrokerId(node_id)).with_host(StrBytes::from_string(host)).with_port(port)
        }
        Err((code, text)) => coordinator
            .with_node_id(BrokerId(-1))
            .with_host(StrBytes::default())
            .with_port(-1)
            .with_error_code(code.code())
            .with_error_message(message(text)),
    }
}
