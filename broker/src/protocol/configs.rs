//! DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics; broker configs are described read-only
//! (they are set by flags at start-up).
//!
//! As in Kafka, describing needs DESCRIBE_CONFIGS and altering ALTER_CONFIGS, on the topic for a topic
//! (TOPIC_AUTHORIZATION_FAILED) and on the cluster for a broker (CLUSTER_AUTHORIZATION_FAILED).

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{
    alter_configs_response, incremental_alter_configs_response, AlterConfigsRequest, AlterConfigsResponse,
    DescribeConfigsRequest, DescribeConfigsResponse, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::access::Access;
use super::errors::topic_error;
use super::message;
use crate::broker::Broker;
use crate::security::acl::Operation;
use crate::storage::topic_config::{is_list, ConfigType, KNOWN_CONFIGS};
use crate::storage::ConfigOrigin;
use crate::topics::TopicError;

const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;

/// Kafka's config source codes.
#[derive(Debug, Clone, Copy)]
#[repr(i8)]
pub enum ConfigSource {
    /// A per-topic override.
    DynamicTopic = 1,
    /// Set by the broker's start-up flags.
    StaticBroker = 4,
    /// A built-in default.
    Default = 5,
}

/// The DescribeConfigs source code of a topic config's value.
pub fn source(origin: ConfigOrigin) -> i8 {
    match origin {
        ConfigOrigin::Topic => ConfigSource::DynamicTopic as i8,
        ConfigOrigin::Broker => ConfigSource::StaticBroker as i8,
        ConfigOrigin::Default => ConfigSource::Default as i8,
    }
}

/// Answers a DescribeConfigs request.
pub fn describe(broker: &Arc<Broker>, request: DescribeConfigsRequest, access: Access<'_>) -> DescribeConfigsResponse {
    let results = request
        .resources
        .into_iter()
        .map(|resource| {
            let result = DescribeConfigsResult::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone());
            let name = resource.resource_name.as_str();
            if let Err((error, text)) = authorized(access, Operation::DescribeConfigs, resource.resource_type, name) {
                return result.with_error_code(error.code()).with_error_message(message(text));
            }
            let entries = match resource.resource_type {
                RESOURCE_TOPIC => match broker.topics().get(resource.resource_name.as_str()) {
                    Some(topic) => topic
                        .config()
                        .describe()
                        .into_iter()
                        .map(|(name, value, origin, kind)| {
                            entry(name, value, source(origin), kind, request.include_synonyms)
                        })
                        .collect::<Vec<_>>(),
                    None => {
                        let error = ResponseError::UnknownTopicOrPartition;
                        let text = format!("topic '{}' does not exist", resource.resource_name.as_str());
                        return result.with_error_code(error.code()).with_error_message(message(text));
                    }
                },
                RESOURCE_BROKER => broker_configs(broker)
                    .into_iter()
                    .map(|(name, value, kind)| {
                        entry(name, value, ConfigSource::StaticBroker as i8, kind, request.include_synonyms)
                            .with_read_only(true)
                    })
                    .collect(),
                other => {
                    let text = format!("resource type {other} is not supported");
                    return result
                        .with_error_code(ResponseError::InvalidRequest.code())
                        .with_error_message(message(text));
                }
            };
            let wanted = resource.configuration_keys;
            let entries =
                entries.into_iter().filter(|e| wanted.as_ref().is_none_or(|keys| keys.contains(&e.name))).collect();
            result.with_configs(entries)
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

fn entry(
    name: &'static str,
    value: String,
    source: i8,
    kind: ConfigType,
    synonyms: bool,
) -> DescribeConfigsResourceResult {
    let value = StrBytes::from_string(value);
    let synonyms = if synonyms {
        vec![DescribeConfigsSynonym::default()
            .with_name(StrBytes::from_static_str(name))
            .with_value(Some(value.clone()))
            .with_source(source)]
    } else {
        Vec::new()
    };
    DescribeConfigsResourceResult::default()
        .with_name(StrBytes::from_static_str(name))
        .with_value(Some(value))
        .with_config_source(source)
        .with_config_type(kind as i8)
        .with_synonyms(synonyms)
}

fn broker_configs(broker: &Broker) -> Vec<(&'static str, String, ConfigType)> {
    let config = broker.config();
    vec![
        ("node.id", config.node_id.to_string(), ConfigType::Int),
        ("auto.create.topics.enable", config.auto_create_topics.to_string(), ConfigType::String),
        ("num.partitions", config.default_partitions.to_string(), ConfigType::Int),
        ("default.replication.factor", config.default_replication_factor.to_string(), ConfigType::Int),
        ("socket.request.max.bytes", config.max_request_bytes.to_string(), ConfigType::Int),
        ("log.retention.check.interval.ms", config.retention_check_interval.as_millis().to_string(), ConfigType::Long),
    ]
}

/// Whether the principal may do `operation` on a resource's configs: on the topic for a topic, on the cluster for
/// a broker. Other resource types are left to the handler, which refuses them.
fn authorized(
    access: Access<'_>,
    operation: Operation,
    resource_type: i8,
    name: &str,
) -> Result<(), (ResponseError, String)> {
    let error = match resource_type {
        RESOURCE_TOPIC if !access.topic(operation, name) => ResponseError::TopicAuthorizationFailed,
        RESOURCE_BROKER if !access.cluster(operation) => ResponseError::ClusterAuthorizationFailed,
        _ => return Ok(()),
    };
    Err((error, error.to_string()))
}

/// Checks that a resource is a topic; brokers' configs are fixed at start-up.
fn topic_resource(resource_type: i8, name: &StrBytes) -> Result<String, (ResponseError, String)> {
    match resource_type {
        RESOURCE_TOPIC => Ok(name.as_str().to_owned()),
        RESOURCE_BROKER => Err((ResponseError::InvalidRequest, "broker configs are set with start-up flags".into())),
        other => Err((ResponseError::InvalidRequest, format!("resource type {other} is not supported"))),
    }
}

fn refusal(e: &TopicError) -> (ResponseError, String) {
    (topic_error(e), e.to_string())
}

/// Answers AlterConfigs: the given set replaces all of a topic's overrides.
pub async fn alter(broker: &Arc<Broker>, request: AlterConfigsRequest, access: Access<'_>) -> AlterConfigsResponse {
    let mut responses = Vec::with_capacity(request.resources.len());
    for resource in request.resources {
        let outcome = async {
            authorized(access, Operation::AlterConfigs, resource.resource_type, resource.resource_name.as_str())?;
            let name = topic_resource(resource.resource_type, &resource.resource_name)?;
            let overrides = resource
                .configs
                .into_iter()
                .filter_map(|c| c.value.map(|v| (c.name.to_string(), v.to_string())))
                .collect();
            broker.set_topic_overrides(&name, overrides, request.validate_only).await.map_err(|e| refusal(&e))
        }
        .await;
        let response = alter_configs_response::AlterConfigsResourceResponse::default()
            .with_resource_type(resource.resource_type)
            .with_resource_name(resource.resource_name);
        responses.push(match outcome {
            Ok(()) => response,
            Err((error, text)) => response.with_error_code(error.code()).with_error_message(message(text)),
        });
    }
    AlterConfigsResponse::default().with_responses(responses)
}

/// The operations of IncrementalAlterConfigs.
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

/// Answers IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT applied to a topic's overrides.
pub async fn incremental_alter(
    broker: &Arc<Broker>,
    request: IncrementalAlterConfigsRequest,
    access: Access<'_>,
) -> IncrementalAlterConfigsResponse {
    let mut responses = Vec::with_capacity(request.resources.len());
    for resource in request.resources {
        let outcome = async {
            authorized(access, Operation::AlterConfigs, resource.resource_type, resource.resource_name.as_str())?;
            let name = topic_resource(resource.resource_type, &resource.resource_name)?;
            let topic = broker.topics().get(&name).ok_or_else(|| refusal(&TopicError::Unknown(name.clone())))?;
            let mut overrides = topic.config().overrides.clone();
            for change in resource.configs {
                apply(&mut overrides, change.name.as_str(), change.config_operation, change.value.as_deref())?;
            }
            broker.set_topic_overrides(&name, overrides, request.validate_only).await.map_err(|e| refusal(&e))
        }
        .await;
        let response = incremental_alter_configs_response::AlterConfigsResourceResponse::default()
            .with_resource_type(resource.resource_type)
            .with_resource_name(resource.resource_name);
        responses.push(match outcome {
            Ok(()) => response,
            Err((error, text)) => response.with_error_code(error.code()).with_error_message(message(text)),
        });
    }
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}

fn apply(
    overrides: &mut BTreeMap<String, String>,
    name: &str,
    operation: i8,
    value: Option<&str>,
) -> Result<(), (ResponseError, String)> {
    let invalid = |text: String| (ResponseError::InvalidConfig, text);
    let value = value.unwrap_or_default();
    match operation {
        SET => {
            overrides.insert(name.to_owned(), value.to_owned());
        }
        DELETE => {
            overrides.remove(name);
        }
        APPEND | SUBTRACT => {
            if !is_list(name) {
                return Err(invalid(format!("'{name}' is not a list config; APPEND and SUBTRACT apply to lists")));
            }
            let current = overrides
                .get(name)
                .cloned()
                .or_else(|| KNOWN_CONFIGS.iter().find(|(n, _, _)| *n == name).map(|(_, d, _)| (*d).to_owned()))
                .unwrap_or_default();
            let mut items: Vec<String> = current.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect();
            for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if operation == APPEND && !items.iter().any(|i| i == item) {
                    items.push(item.to_owned());
                } else if operation == SUBTRACT {
                    items.retain(|i| i != item);
                }
            }
            overrides.insert(name.to_owned(), items.join(","));
        }
        other => return Err((ResponseError::InvalidRequest, format!("unknown config operation {other}"))),
    }
    Ok(())
}
