//! ACL authorization on the wire, with the authorizer on: every request comes from a PLAINTEXT connection, so its
//! principal is `User:ANONYMOUS`, and the ACLs are created straight in the broker's authorizer. Each API must check
//! the rights Kafka's `KafkaApis` checks and answer Kafka's error codes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, BrokerId, CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
    DescribeConfigsRequest, DescribeConfigsResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse, FetchRequest, FetchResponse,
    FindCoordinatorRequest, FindCoordinatorResponse, GroupId, InitProducerIdRequest, InitProducerIdResponse,
    JoinGroupRequest, JoinGroupResponse, ListGroupsRequest, ListGroupsResponse, MetadataRequest, MetadataResponse,
    OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, ProduceRequest,
    ProduceResponse, RequestKind, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use kafka_protocol::ResponseError;
use tidemark_broker::security::acl::{AclBinding, Operation, PatternType, Permission, ResourceType, CLUSTER_NAME};
use tidemark_broker::security::authorizer::AuthorizerSettings;
use tidemark_broker::storage::encode::{encode_batch, ProducerStamp};
use tidemark_broker::Broker;
use tokio::net::TcpStream;

use common::{call, start_broker_with};

const ME: &str = "User:ANONYMOUS";

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_owned())
}

fn topic_name(topic: &str) -> TopicName {
    TopicName(s(topic))
}

fn code(error: ResponseError) -> i16 {
    error.code()
}

/// An ACL for this test's principal, from every host.
fn acl(permission: Permission, operation: Operation, resource: (ResourceType, &str, PatternType)) -> AclBinding {
    let (resource_type, name, pattern_type) = resource;
    AclBinding {
        resource_type,
        resource_name: name.to_owned(),
        pattern_type,
        principal: ME.to_owned(),
        host: "*".to_owned(),
        operation,
        permission,
    }
}

fn allow(operation: Operation, resource: (ResourceType, &str, PatternType)) -> AclBinding {
    acl(Permission::Allow, operation, resource)
}

fn topic(name: &str) -> (ResourceType, &str, PatternType) {
    (ResourceType::Topic, name, PatternType::Literal)
}

fn group(name: &str) -> (ResourceType, &str, PatternType) {
    (ResourceType::Group, name, PatternType::Literal)
}

fn cluster() -> (ResourceType, &'static str, PatternType) {
    (ResourceType::Cluster, CLUSTER_NAME, PatternType::Literal)
}

/// A broker with the authorizer on and `super_users`, holding `topics` (one partition each) and `acls`; a
/// connection to it.
async fn secured_as(super_users: &[&str], topics: &[&str], acls: Vec<AclBinding>) -> (TcpStream, Arc<Broker>, Dir) {
    let super_users: BTreeSet<String> = super_users.iter().map(|u| (*u).to_owned()).collect();
    let (addr, dir, broker) = start_broker_with(|config| {
        config.authorizer = AuthorizerSettings { enabled: true, super_users, inter_broker_principal: None };
        config.groups.initial_rebalance_delay = Duration::ZERO;
        config.groups.offsets_topic_partitions = 1;
    })
    .await;
    for name in topics {
        broker.create_topic(name, 1, 1, None, BTreeMap::new(), false).await.expect("create topic");
    }
    if !acls.is_empty() {
        broker.authorizer().create(acls).await.expect("create ACLs");
    }
    (TcpStream::connect(addr).await.expect("connect"), broker, dir)
}

type Dir = tempfile::TempDir;

async fn secured(topics: &[&str], acls: Vec<AclBinding>) -> (TcpStream, Arc<Broker>, Dir) {
    secured_as(&[], topics, acls).await
}

/// Produces one record to partition 0 of each topic in one request; each topic's error code, in order.
async fn produce(stream: &mut TcpStream, topics: &[&str]) -> Vec<i16> {
    let records = || {
        let record = [(1, None, Some(Bytes::from_static(b"r")))];
        encode_batch(record, ProducerStamp::NONE, Compression::None).expect("encode").freeze()
    };
    let data = topics
        .iter()
        .map(|t| {
            let partition = PartitionProduceData::default().with_index(0).with_records(Some(records()));
            TopicProduceData::default().with_name(topic_name(t)).with_partition_data(vec![partition])
        })
        .collect();
    let request = ProduceRequest::default().with_acks(-1).with_timeout_ms(5_000).with_topic_data(data);
    let response: ProduceResponse = call(stream, ApiKey::Produce, 9, RequestKind::Produce(request)).await;
    response.responses.iter().map(|t| t.partition_responses[0].error_code).collect()
}

/// Fetches partition 0 of each topic as `replica_id` (-1 for a consumer), waiting up to `max_wait_ms`; each
/// topic's error code and record bytes, in order.
async fn fetch(stream: &mut TcpStream, replica_id: i32, max_wait_ms: i32, topics: &[&str]) -> Vec<(i16, usize)> {
    let wanted = topics
        .iter()
        .map(|t| {
            let partition = FetchPartition::default().with_partition_max_bytes(1 << 20);
            FetchTopic::default().with_topic(topic_name(t)).with_partitions(vec![partition])
        })
        .collect();
    let request = FetchRequest::default()
        .with_replica_id(BrokerId(replica_id))
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(wanted);
    let response: FetchResponse = call(stream, ApiKey::Fetch, 12, RequestKind::Fetch(request)).await;
    let answer = |p: &kafka_protocol::messages::fetch_response::PartitionData| {
        (p.error_code, p.records.as_ref().map_or(0, |r| r.len()))
    };
    response.responses.iter().map(|t| answer(&t.partitions[0])).collect()
}

/// Metadata for `topics` (`None`: every topic); each topic's name and error code.
async fn metadata(stream: &mut TcpStream, topics: Option<&[&str]>, auto_create: bool) -> Vec<(String, i16)> {
    let wanted = topics.map(|ts| ts.iter().map(|t| MetadataRequestTopic::default().with_name(Some(topic_name(t)))));
    let request = MetadataRequest::default()
        .with_topics(wanted.map(Iterator::collect))
        .with_allow_auto_topic_creation(auto_create);
    let response: MetadataResponse = call(stream, ApiKey::Metadata, 12, RequestKind::Metadata(request)).await;
    let named = |t: &kafka_protocol::messages::metadata_response::MetadataResponseTopic| {
        (t.name.as_ref().map(|n| n.to_string()).unwrap_or_default(), t.error_code)
    };
    response.topics.iter().map(named).collect()
}

async fn create_topic(stream: &mut TcpStream, name: &str) -> (i16, i16) {
    let wanted =
        CreatableTopic::default().with_name(topic_name(name)).with_num_partitions(1).with_replication_factor(1);
    let request = CreateTopicsRequest::default().with_topics(vec![wanted]).with_timeout_ms(5_000);
    let response: CreateTopicsResponse =
        call(stream, ApiKey::CreateTopics, 7, RequestKind::CreateTopics(request)).await;
    (response.topics[0].error_code, response.topics[0].topic_config_error_code)
}

async fn join(stream: &mut TcpStream, group_id: &str) -> i16 {
    let protocol = JoinGroupRequestProtocol::default().with_name(s("range")).with_metadata(Bytes::from_static(b"m"));
    let request = JoinGroupRequest::default()
        .with_group_id(GroupId(s(group_id)))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![protocol]);
    let response: JoinGroupResponse = call(stream, ApiKey::JoinGroup, 5, RequestKind::JoinGroup(request)).await;
    response.error_code
}

/// Commits offset 1 of partition 0 of each topic for `group_id`, as a consumer outside the group; each topic's
/// error code, in order.
async fn commit(stream: &mut TcpStream, group_id: &str, topics: &[&str]) -> Vec<i16> {
    let wanted = topics
        .iter()
        .map(|t| {
            let partition = OffsetCommitRequestPartition::default().with_partition_index(0).with_committed_offset(1);
            OffsetCommitRequestTopic::default().with_name(topic_name(t)).with_partitions(vec![partition])
        })
        .collect();
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group_id)))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(wanted);
    let response: OffsetCommitResponse =
        call(stream, ApiKey::OffsetCommit, 8, RequestKind::OffsetCommit(request)).await;
    response.topics.iter().map(|t| t.partitions[0].error_code).collect()
}

/// The committed offsets of `group_id` (v7): of partition 0 of `topics`, or of every topic; the top-level error and
/// each topic's name, error code and offset.
async fn committed(stream: &mut TcpStream, group_id: &str, topics: Option<&[&str]>) -> (i16, Vec<(String, i16, i64)>) {
    let wanted = topics.map(|ts| {
        ts.iter().map(|t| OffsetFetchRequestTopic::default().with_name(topic_name(t)).with_partition_indexes(vec![0]))
    });
    let request =
        OffsetFetchRequest::default().with_group_id(GroupId(s(group_id))).with_topics(wanted.map(Iterator::collect));
    let response: OffsetFetchResponse = call(stream, ApiKey::OffsetFetch, 7, RequestKind::OffsetFetch(request)).await;
    let topics = response
        .topics
        .iter()
        .map(|t| (t.name.to_string(), t.partitions[0].error_code, t.partitions[0].committed_offset))
        .collect();
    (response.error_code, topics)
}

#[tokio::test]
async fn produce_is_authorized_per_topic_and_never_creates_what_it_may_not() {
    let acls = vec![
        allow(Operation::Write, topic("granted")),
        allow(Operation::Write, (ResourceType::Topic, "auto-", PatternType::Prefixed)),
    ];
    let (mut stream, broker, _dir) = secured(&["granted", "refused"], acls).await;
    let denied = code(ResponseError::TopicAuthorizationFailed);
    assert_eq!(produce(&mut stream, &["granted", "refused"]).await, vec![0, denied], "one request, two answers");
    assert_eq!(produce(&mut stream, &["missing"]).await, vec![denied]);
    assert!(broker.topics().get("missing").is_none(), "a topic it may not write is not created");
    let unknown = code(ResponseError::UnknownTopicOrPartition);
    assert_eq!(produce(&mut stream, &["auto-1"]).await, vec![unknown], "WRITE without CREATE creates nothing");
    assert!(broker.topics().get("auto-1").is_none());
    broker.authorizer().create(vec![allow(Operation::Create, cluster())]).await.expect("acl");
    assert_eq!(produce(&mut stream, &["auto-1"]).await, vec![0], "with CREATE the topic is created");
}

#[tokio::test]
async fn fetch_needs_read_and_a_follower_needs_cluster_action() {
    let acls = vec![allow(Operation::Write, topic("writable")), allow(Operation::Read, topic("readable"))];
    let (mut stream, broker, _dir) = secured(&["writable", "readable"], acls).await;
    broker.authorizer().create(vec![allow(Operation::Write, topic("readable"))]).await.expect("acl");
    assert_eq!(produce(&mut stream, &["writable", "readable"]).await, vec![0, 0]);
    let denied = code(ResponseError::TopicAuthorizationFailed);

    let answers = fetch(&mut stream, -1, 0, &["writable", "readable"]).await;
    assert_eq!(answers[0], (denied, 0), "WRITE does not allow reading");
    assert_eq!(answers[1].0, 0);
    assert!(answers[1].1 > 0, "the readable topic's records come back");

    let started = Instant::now();
    assert_eq!(fetch(&mut stream, -1, 5_000, &["writable"]).await, vec![(denied, 0)]);
    assert!(started.elapsed() < Duration::from_secs(2), "nothing it may read: answered without the long poll");

    let as_follower = fetch(&mut stream, 2, 0, &["writable", "readable"]).await;
    assert_eq!(as_follower, vec![(denied, 0), (denied, 0)], "a follower without CLUSTER_ACTION reads nothing");
}

#[tokio::test]
async fn metadata_lists_only_describable_topics_and_creates_only_with_create() {
    let acls = vec![
        allow(Operation::Describe, topic("described")),
        allow(Operation::Read, topic("read")),
        allow(Operation::Describe, (ResourceType::Topic, "new-", PatternType::Prefixed)),
    ];
    let (mut stream, broker, _dir) = secured(&["described", "read", "hidden"], acls).await;
    let mut listed: Vec<String> = metadata(&mut stream, None, false).await.into_iter().map(|(n, _)| n).collect();
    listed.sort();
    assert_eq!(listed, vec!["described", "read"], "READ implies DESCRIBE; the hidden topic is left out");

    let denied = code(ResponseError::TopicAuthorizationFailed);
    let named = metadata(&mut stream, Some(&["hidden", "absent"]), true).await;
    assert_eq!(named, vec![("hidden".into(), denied), ("absent".into(), denied)], "existing or not, no difference");
    assert!(broker.topics().get("absent").is_none());

    let unknown = code(ResponseError::UnknownTopicOrPartition);
    assert_eq!(metadata(&mut stream, Some(&["new-a"]), false).await, vec![("new-a".into(), unknown)]);
    assert_eq!(metadata(&mut stream, Some(&["new-a"]), true).await, vec![("new-a".into(), denied)], "no CREATE");
    assert!(broker.topics().get("new-a").is_none());
    let create = allow(Operation::Create, (ResourceType::Topic, "new-", PatternType::Prefixed));
    broker.authorizer().create(vec![create]).await.expect("acl");
    assert_eq!(metadata(&mut stream, Some(&["new-a"]), true).await, vec![("new-a".into(), 0)]);
    assert!(broker.topics().get("new-a").is_some(), "auto-created with CREATE on the topic");
}

#[tokio::test]
async fn creating_a_topic_is_denied_until_a_prefixed_acl_allows_it() {
    let (mut stream, broker, _dir) = secured(&[], vec![]).await;
    let denied = code(ResponseError::TopicAuthorizationFailed);
    assert_eq!(create_topic(&mut stream, "orders-1").await.0, denied);
    assert!(broker.topics().get("orders-1").is_none());
    let create = allow(Operation::Create, (ResourceType::Topic, "orders-", PatternType::Prefixed));
    broker.authorizer().create(vec![create]).await.expect("acl");
    assert_eq!(create_topic(&mut stream, "orders-1").await, (0, denied), "created; its configs stay hidden");
    assert_eq!(create_topic(&mut stream, "payments").await.0, denied, "the prefix covers only its topics");
    let describe_configs = allow(Operation::DescribeConfigs, (ResourceType::Topic, "orders-", PatternType::Prefixed));
    broker.authorizer().create(vec![describe_configs]).await.expect("acl");
    assert_eq!(create_topic(&mut stream, "orders-2").await, (0, 0));
}

#[tokio::test]
async fn group_apis_need_rights_on_the_group() {
    let (mut stream, broker, _dir) = secured(&[], vec![]).await;
    let denied = code(ResponseError::GroupAuthorizationFailed);
    assert_eq!(join(&mut stream, "g").await, denied);
    let request = FindCoordinatorRequest::default().with_key(s("g"));
    let found: FindCoordinatorResponse =
        call(&mut stream, ApiKey::FindCoordinator, 3, RequestKind::FindCoordinator(request)).await;
    assert_eq!(found.error_code, denied);
    let request = DescribeGroupsRequest::default().with_groups(vec![GroupId(s("g"))]);
    let described: DescribeGroupsResponse =
        call(&mut stream, ApiKey::DescribeGroups, 5, RequestKind::DescribeGroups(request)).await;
    assert_eq!(described.groups[0].error_code, denied);

    broker.authorizer().create(vec![allow(Operation::Read, group("g"))]).await.expect("acl");
    assert_eq!(join(&mut stream, "g").await, code(ResponseError::MemberIdRequired), "READ lets it join");
    let listed: ListGroupsResponse =
        call(&mut stream, ApiKey::ListGroups, 5, RequestKind::ListGroups(ListGroupsRequest::default())).await;
    let names: Vec<String> = listed.groups.iter().map(|g| g.group_id.to_string()).collect();
    assert_eq!(names, vec!["g"], "READ implies DESCRIBE, so the group is listed");
    broker.authorizer().create(vec![acl(Permission::Deny, Operation::Describe, group("g"))]).await.expect("acl");
    let listed: ListGroupsResponse =
        call(&mut stream, ApiKey::ListGroups, 5, RequestKind::ListGroups(ListGroupsRequest::default())).await;
    assert!(listed.groups.is_empty(), "a denied group is not listed");
}

#[tokio::test]
async fn offsets_are_committed_and_fetched_per_topic() {
    let acls = vec![allow(Operation::Read, group("g")), allow(Operation::Read, topic("readable"))];
    let (mut stream, broker, _dir) = secured(&["readable", "secret"], acls).await;
    let (topic_denied, group_denied) =
        (code(ResponseError::TopicAuthorizationFailed), code(ResponseError::GroupAuthorizationFailed));
    assert_eq!(commit(&mut stream, "g", &["readable", "secret"]).await, vec![0, topic_denied]);
    assert_eq!(commit(&mut stream, "other", &["readable", "secret"]).await, vec![group_denied, group_denied]);

    let (error, named) = committed(&mut stream, "g", Some(&["readable", "secret"])).await;
    assert_eq!(error, 0);
    assert_eq!(named, vec![("readable".into(), 0, 1), ("secret".into(), topic_denied, -1)]);
    // Offsets committed once READ was allowed stay out of a fetch of every topic once DESCRIBE is denied.
    broker.authorizer().create(vec![allow(Operation::Read, topic("secret"))]).await.expect("acl");
    assert_eq!(commit(&mut stream, "g", &["secret"]).await, vec![0]);
    let deny = acl(Permission::Deny, Operation::All, topic("secret"));
    broker.authorizer().create(vec![deny]).await.expect("acl");
    let (_, all) = committed(&mut stream, "g", None).await;
    assert_eq!(all, vec![("readable".into(), 0, 1)]);
    assert_eq!(committed(&mut stream, "other", None).await.0, group_denied);
}

#[tokio::test]
async fn a_deny_wins_over_an_allow() {
    let acls = vec![allow(Operation::All, topic("*")), acl(Permission::Deny, Operation::Write, topic("locked"))];
    let (mut stream, _broker, _dir) = secured(&["open", "locked"], acls).await;
    let denied = code(ResponseError::TopicAuthorizationFailed);
    assert_eq!(produce(&mut stream, &["open", "locked"]).await, vec![0, denied]);
    let answers = fetch(&mut stream, -1, 0, &["locked"]).await;
    assert_eq!(answers[0].0, 0, "only WRITE is denied");
}

#[tokio::test]
async fn a_super_user_may_do_anything_without_acls() {
    let (mut stream, broker, _dir) = secured_as(&[ME], &["t"], vec![]).await;
    assert_eq!(produce(&mut stream, &["t", "fresh"]).await, vec![0, 0]);
    assert!(broker.topics().get("fresh").is_some());
    assert_eq!(create_topic(&mut stream, "made").await, (0, 0));
    assert_eq!(commit(&mut stream, "g", &["t"]).await, vec![0]);
}

#[tokio::test]
async fn admin_apis_answer_kafkas_authorization_errors() {
    let (mut stream, broker, _dir) = secured(&["t"], vec![]).await;
    let (topic_denied, cluster_denied) =
        (code(ResponseError::TopicAuthorizationFailed), code(ResponseError::ClusterAuthorizationFailed));

    let request = DeleteTopicsRequest::default().with_topic_names(vec![topic_name("t")]);
    let deleted: DeleteTopicsResponse =
        call(&mut stream, ApiKey::DeleteTopics, 5, RequestKind::DeleteTopics(request)).await;
    assert_eq!(deleted.responses[0].error_code, topic_denied);
    assert!(broker.topics().get("t").is_some());

    let resources = vec![
        DescribeConfigsResource::default().with_resource_type(2).with_resource_name(s("t")),
        DescribeConfigsResource::default().with_resource_type(4).with_resource_name(s("1")),
    ];
    let request = DescribeConfigsRequest::default().with_resources(resources);
    let described: DescribeConfigsResponse =
        call(&mut stream, ApiKey::DescribeConfigs, 4, RequestKind::DescribeConfigs(request)).await;
    let codes: Vec<i16> = described.results.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, vec![topic_denied, cluster_denied]);

    let request = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000)
        .with_producer_id((-1).into());
    let init = RequestKind::InitProducerId(request.with_producer_epoch(-1));
    let refused: InitProducerIdResponse = call(&mut stream, ApiKey::InitProducerId, 4, init.clone()).await;
    assert_eq!(refused.error_code, cluster_denied);
    broker.authorizer().create(vec![allow(Operation::Write, topic("t"))]).await.expect("acl");
    let granted: InitProducerIdResponse = call(&mut stream, ApiKey::InitProducerId, 4, init).await;
    assert_eq!(granted.error_code, 0, "WRITE on a topic allows an idempotent producer (KIP-679)");

    let request = DescribeUserScramCredentialsRequest::default().with_users(None);
    let users: DescribeUserScramCredentialsResponse =
        call(&mut stream, ApiKey::DescribeUserScramCredentials, 0, RequestKind::DescribeUserScramCredentials(request))
            .await;
    assert_eq!(users.error_code, cluster_denied);
}
