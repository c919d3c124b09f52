//! One (re)join of the group, run as a task of its own so that it goes on between polls: JoinGroup (again with the
//! member id handed out when the coordinator answers MEMBER_ID_REQUIRED), the leader's assignment, SyncGroup.
//! A round the group cuts short (a rebalance starting again, an older generation, a forgotten member id) is
//! retried; the first error that retrying cannot fix ends the join.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::ResponseError;
use tidemark_broker::group::consumer_protocol::subscribed_topics;
use tidemark_broker::group::{JoinParams, JoinResult};
use tidemark_broker::Broker;

use super::assignor::{self, RANGE};
use super::protocol::{self, PROTOCOL_TYPE};
use super::session::Session;
use crate::in_process::errors::group_error;
use crate::LogError;

/// The client id members join with (their member ids start with it).
const CLIENT_ID: &str = "tidemark-log-client";
/// The client host members show in DescribeGroups.
const CLIENT_HOST: &str = "in-process";
/// The pause before another round after the group cut one short.
const RETRY_BACKOFF: Duration = Duration::from_millis(20);

/// What a join needs.
#[derive(Debug)]
pub struct JoinRequest {
    /// The broker.
    pub broker: Arc<Broker>,
    /// The group.
    pub group: String,
    /// The member's standing, updated as the join goes.
    pub session: Arc<Session>,
    /// The topics the member subscribes to.
    pub topics: Vec<String>,
    /// `session.timeout.ms`.
    pub session_timeout: Duration,
    /// How long a rebalance waits for the member (`max.poll.interval.ms`).
    pub rebalance_timeout: Duration,
}

/// A completed join.
#[derive(Debug)]
pub struct Joined {
    /// The generation joined.
    pub generation: i32,
    /// The member's partitions in it, sorted.
    pub assignment: Vec<(String, i32)>,
    /// For the leader: the partition count of every topic any member subscribes to, as assigned; a change means
    /// the assignment is stale.
    pub watched: Option<BTreeMap<String, i32>>,
}

/// Joins and syncs until the member holds a generation (recorded in the session before returning).
pub async fn join(request: JoinRequest) -> Result<Joined, LogError> {
    let JoinRequest { broker, group, session, topics, session_timeout, rebalance_timeout } = request;
    let metadata = protocol::subscription(&topics)?;
    loop {
        let params = JoinParams {
            member_id: session.member_id(),
            instance_id: None,
            client_id: CLIENT_ID.into(),
            client_host: CLIENT_HOST.into(),
            session_timeout,
            rebalance_timeout,
            protocol_type: PROTOCOL_TYPE.into(),
            protocols: vec![(RANGE.into(), metadata.clone())],
            requires_known_member_id: true,
        };
        let joined = broker.groups().join(broker.topics(), &group, params).await;
        match joined.error {
            None => session.set_member_id(&joined.member_id),
            Some(ResponseError::MemberIdRequired) => {
                session.set_member_id(&joined.member_id);
                continue;
            }
            Some(ResponseError::UnknownMemberId) => {
                session.set_member_id("");
                continue;
            }
            Some(ResponseError::RebalanceInProgress) => {
                tokio::time::sleep(RETRY_BACKOFF).await;
                continue;
            }
            Some(error) => return Err(group_error(error, &format!("joining group {group}"))),
        }
        let (assignments, watched) = if joined.leader == joined.member_id && !joined.skip_assignment {
            let (assignments, watched) = assign(&broker, &joined)?;
            (assignments, Some(watched))
        } else {
            (Vec::new(), None)
        };
        let member = (joined.member_id.as_str(), None, joined.generation);
        let synced = broker.groups().sync(&group, member, (Some(PROTOCOL_TYPE), Some(RANGE)), assignments).await;
        match synced.error {
            None => {
                let assignment = protocol::assigned_partitions(&synced.assignment)?;
                session.end_join(Some(joined.generation));
                return Ok(Joined { generation: joined.generation, assignment, watched });
            }
            Some(ResponseError::UnknownMemberId) => session.set_member_id(""),
            Some(ResponseError::RebalanceInProgress | ResponseError::IllegalGeneration) => {}
            Some(error) => return Err(group_error(error, &format!("syncing group {group}"))),
        }
        tokio::time::sleep(RETRY_BACKOFF).await;
    }
}

/// The leader's assignment bytes for every member, and the partition counts it was computed from.
type Assignments = (Vec<(String, bytes::Bytes)>, BTreeMap<String, i32>);

/// The leader's work: the range assignment of every member's subscribed partitions, as the members' bytes.
fn assign(broker: &Broker, joined: &JoinResult) -> Result<Assignments, LogError> {
    let members: Vec<(String, Vec<String>)> =
        joined.members.iter().map(|m| (m.member_id.clone(), subscribed_topics(&m.metadata))).collect();
    let watched: BTreeMap<String, i32> = members
        .iter()
        .flat_map(|(_, topics)| topics.iter())
        .map(|topic| (topic.clone(), partition_count(broker, topic)))
        .collect();
    let assignment = assignor::range(&members, |topic| watched.get(topic).copied().unwrap_or(0));
    let bytes = assignment
        .into_iter()
        .map(|(member, partitions)| Ok((member, protocol::assignment(&partitions)?)))
        .collect::<Result<Vec<_>, LogError>>()?;
    Ok((bytes, watched))
}

/// The partitions of `topic` now (0 when it does not exist).
pub fn partition_count(broker: &Broker, topic: &str) -> i32 {
    broker.topics().get(topic).map_or(0, |t| t.partition_count())
}
