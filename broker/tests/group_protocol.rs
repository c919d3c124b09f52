//! The group coordinator on the wire: membership, generation fencing, static members, session expiry and the
//! error codes Kafka clients rely on.

mod common;

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, CreateTopicsResponse, DeleteGroupsRequest, DeleteGroupsResponse,
    DescribeGroupsRequest, DescribeGroupsResponse, GroupId, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest,
    JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, OffsetCommitRequest, OffsetCommitResponse,
    OffsetFetchRequest, OffsetFetchResponse, RequestKind, SyncGroupRequest, SyncGroupResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use tokio::net::TcpStream;

use common::{call, start_with};

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_owned())
}

fn group(id: &str) -> GroupId {
    GroupId(s(id))
}

async fn connect_to_broker(rebalance_delay_ms: u64) -> (TcpStream, tempfile::TempDir) {
    let (addr, dir) = start_with(|config| {
        config.groups.initial_rebalance_delay = Duration::from_millis(rebalance_delay_ms);
        config.groups.min_session_timeout = Duration::from_millis(100);
        config.groups.offsets_topic_partitions = 3;
    })
    .await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let topic = kafka_protocol::messages::create_topics_request::CreatableTopic::default()
        .with_name(TopicName(s("events")))
        .with_num_partitions(2)
        .with_replication_factor(1);
    let created: CreateTopicsResponse = call(
        &mut stream,
        ApiKey::CreateTopics,
        5,
        RequestKind::CreateTopics(CreateTopicsRequest::default().with_topics(vec![topic])),
    )
    .await;
    assert_eq!(created.topics[0].error_code, 0);
    (stream, dir)
}

async fn join(
    stream: &mut TcpStream,
    group_id: &str,
    member_id: &str,
    instance: Option<&str>,
    session_ms: i32,
) -> JoinGroupResponse {
    let protocol = JoinGroupRequestProtocol::default().with_name(s("range")).with_metadata(Bytes::from_static(b"meta"));
    let request = JoinGroupRequest::default()
        .with_group_id(group(group_id))
        .with_session_timeout_ms(session_ms)
        .with_rebalance_timeout_ms(session_ms)
        .with_member_id(s(member_id))
        .with_group_instance_id(instance.map(s))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![protocol]);
    call(stream, ApiKey::JoinGroup, 5, RequestKind::JoinGroup(request)).await
}

/// Joins as a new member the way clients do since KIP-394: a first join to get a member id, then the real one.
async fn join_new(
    stream: &mut TcpStream,
    group_id: &str,
    instance: Option<&str>,
    session_ms: i32,
) -> JoinGroupResponse {
    let first = join(stream, group_id, "", instance, session_ms).await;
    if instance.is_some() {
        return first;
    }
    assert_eq!(first.error_code, ResponseError::MemberIdRequired.code());
    join(stream, group_id, first.member_id.as_str(), None, session_ms).await
}

async fn sync(
    stream: &mut TcpStream,
    group_id: &str,
    member_id: &str,
    generation: i32,
    assignment: &'static [u8],
) -> SyncGroupResponse {
    let assignments = vec![SyncGroupRequestAssignment::default()
        .with_member_id(s(member_id))
        .with_assignment(Bytes::from_static(assignment))];
    let request = SyncGroupRequest::default()
        .with_group_id(group(group_id))
        .with_generation_id(generation)
        .with_member_id(s(member_id))
        .with_assignments(assignments);
    call(stream, ApiKey::SyncGroup, 3, RequestKind::SyncGroup(request)).await
}

async fn heartbeat(
    stream: &mut TcpStream,
    group_id: &str,
    member_id: &str,
    instance: Option<&str>,
    generation: i32,
) -> i16 {
    let request = HeartbeatRequest::default()
        .with_group_id(group(group_id))
        .with_member_id(s(member_id))
        .with_group_instance_id(instance.map(s))
        .with_generation_id(generation);
    let response: HeartbeatResponse = call(stream, ApiKey::Heartbeat, 3, RequestKind::Heartbeat(request)).await;
    response.error_code
}

async fn commit(
    stream: &mut TcpStream,
    group_id: &str,
    member_id: &str,
    generation: i32,
    topic: &str,
    offset: i64,
) -> i16 {
    let partition = OffsetCommitRequestPartition::default().with_partition_index(1).with_committed_offset(offset);
    let topics =
        vec![OffsetCommitRequestTopic::default().with_name(TopicName(s(topic))).with_partitions(vec![partition])];
    let request = OffsetCommitRequest::default()
        .with_group_id(group(group_id))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(s(member_id))
        .with_topics(topics);
    let response: OffsetCommitResponse =
        call(stream, ApiKey::OffsetCommit, 7, RequestKind::OffsetCommit(request)).await;
    response.topics[0].partitions[0].error_code
}

async fn committed(stream: &mut TcpStream, group_id: &str) -> i64 {
    let topics =
        vec![OffsetFetchRequestTopic::default().with_name(TopicName(s("events"))).with_partition_indexes(vec![1])];
    let request = OffsetFetchRequest::default().with_group_id(group(group_id)).with_topics(Some(topics));
    let response: OffsetFetchResponse = call(stream, ApiKey::OffsetFetch, 7, RequestKind::OffsetFetch(request)).await;
    response.topics[0].partitions[0].committed_offset
}

async fn state(stream: &mut TcpStream, group_id: &str) -> String {
    let request = DescribeGroupsRequest::default().with_groups(vec![group(group_id)]);
    let response: DescribeGroupsResponse =
        call(stream, ApiKey::DescribeGroups, 5, RequestKind::DescribeGroups(request)).await;
    response.groups[0].group_state.to_string()
}

async fn delete_group(stream: &mut TcpStream, group_id: &str) -> i16 {
    let request = DeleteGroupsRequest::default().with_groups_names(vec![group(group_id)]);
    let response: DeleteGroupsResponse =
        call(stream, ApiKey::DeleteGroups, 2, RequestKind::DeleteGroups(request)).await;
    response.results[0].error_code
}

#[tokio::test]
async fn stale_generations_strangers_and_unknown_groups_get_kafkas_error_codes() {
    let (mut stream, _dir) = connect_to_broker(0).await;
    let code = commit(&mut stream, "nobody", "ghost", 5, "events", 10).await;
    assert_eq!(code, ResponseError::IllegalGeneration.code(), "a commit for an unknown group and a generation");

    let joined = join_new(&mut stream, "g", None, 10_000).await;
    assert_eq!(joined.error_code, 0);
    assert_eq!(joined.generation_id, 1);
    let me = joined.member_id.to_string();
    assert_eq!(joined.leader.as_str(), me, "the only member leads");
    assert_eq!(joined.members.len(), 1, "the leader sees every member");
    let synced = sync(&mut stream, "g", &me, 1, b"my-partitions").await;
    assert_eq!(synced.error_code, 0);
    assert_eq!(&synced.assignment[..], b"my-partitions");
    assert_eq!(state(&mut stream, "g").await, "Stable");

    assert_eq!(sync(&mut stream, "g", "stranger", 1, b"").await.error_code, ResponseError::UnknownMemberId.code());
    assert_eq!(heartbeat(&mut stream, "g", &me, None, 1).await, 0);
    assert_eq!(heartbeat(&mut stream, "g", &me, None, 0).await, ResponseError::IllegalGeneration.code());
    assert_eq!(commit(&mut stream, "g", &me, 0, "events", 10).await, ResponseError::IllegalGeneration.code());
    assert_eq!(commit(&mut stream, "g", "stranger", 1, "events", 10).await, ResponseError::UnknownMemberId.code());
    assert_eq!(
        commit(&mut stream, "g", "", -1, "events", 10).await,
        ResponseError::UnknownMemberId.code(),
        "no simple commits into an active group"
    );
    assert_eq!(
        commit(&mut stream, "g", &me, 1, "no-such-topic", 10).await,
        ResponseError::UnknownTopicOrPartition.code()
    );
    assert_eq!(committed(&mut stream, "g").await, -1, "refused commits stored nothing");
    assert_eq!(commit(&mut stream, "g", &me, 1, "events", 42).await, 0);
    assert_eq!(committed(&mut stream, "g").await, 42);

    assert_eq!(delete_group(&mut stream, "g").await, ResponseError::NonEmptyGroup.code());
    let leave = LeaveGroupRequest::default().with_group_id(group("g")).with_member_id(s(&me));
    let left: LeaveGroupResponse = call(&mut stream, ApiKey::LeaveGroup, 1, RequestKind::LeaveGroup(leave)).await;
    assert_eq!(left.error_code, 0);
    assert_eq!(state(&mut stream, "g").await, "Empty");
    assert_eq!(commit(&mut stream, "g", "", -1, "events", 50).await, 0, "an empty group takes simple commits");
    assert_eq!(committed(&mut stream, "g").await, 50);
    assert_eq!(delete_group(&mut stream, "g").await, 0);
    assert_eq!(committed(&mut stream, "g").await, -1, "deleting a group deletes its offsets");
    assert_eq!(delete_group(&mut stream, "g").await, ResponseError::GroupIdNotFound.code());
    assert_eq!(state(&mut stream, "g").await, "Dead");
}

#[tokio::test]
async fn a_member_that_stops_heartbeating_is_expired() {
    let (mut stream, _dir) = connect_to_broker(0).await;
    let joined = join_new(&mut stream, "quiet", None, 300).await;
    assert_eq!(joined.error_code, 0);
    let me = joined.member_id.to_string();
    assert_eq!(sync(&mut stream, "quiet", &me, joined.generation_id, b"x").await.error_code, 0);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(state(&mut stream, "quiet").await, "Empty", "the session timed out");
    assert_eq!(
        heartbeat(&mut stream, "quiet", &me, None, joined.generation_id).await,
        ResponseError::UnknownMemberId.code()
    );
}

#[tokio::test]
async fn a_restarted_static_member_rejoins_without_a_rebalance_and_fences_its_old_self() {
    let (mut stream, _dir) = connect_to_broker(0).await;
    let first = join_new(&mut stream, "static", Some("instance-1"), 10_000).await;
    assert_eq!(first.error_code, 0);
    let old_id = first.member_id.to_string();
    assert_eq!(sync(&mut stream, "static", &old_id, first.generation_id, b"mine").await.error_code, 0);

    let again = join(&mut stream, "static", "", Some("instance-1"), 10_000).await;
    assert_eq!(again.error_code, 0);
    assert_eq!(again.generation_id, first.generation_id, "no new generation: no rebalance");
    let new_id = again.member_id.to_string();
    assert_ne!(new_id, old_id);
    let resynced = sync(&mut stream, "static", &new_id, again.generation_id, b"ignored while stable").await;
    assert_eq!(&resynced.assignment[..], b"mine", "the assignment is kept");
    assert_eq!(state(&mut stream, "static").await, "Stable");

    let stale = heartbeat(&mut stream, "static", &old_id, Some("instance-1"), first.generation_id).await;
    assert_eq!(stale, ResponseError::FencedInstanceId.code());
    assert_eq!(heartbeat(&mut stream, "static", &new_id, Some("instance-1"), again.generation_id).await, 0);
}
