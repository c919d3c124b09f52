//! `tidemark acl add|list|remove`: ACLs through CreateAcls, DescribeAcls and DeleteAcls on Tidemark's own client
//! (librdkafka's ACL API is not in the Rust binding).

use anyhow::{bail, Context, Result};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{
    ApiKey, CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse, DescribeAclsRequest,
    DescribeAclsResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use tidemark_broker::security::acl::{AclBinding, Operation, PatternType, Permission, ResourceType, CLUSTER_NAME};

use crate::args::{AclArgs, AclCommand, AclResource, AclResourceFilter, PatternArg};
use crate::client_properties;
use crate::output::out;

/// The ACL API version used: 1 is the first with pattern types and the last before flexible encodings.
const ACL_API_VERSION: i16 = 1;
/// Kafka's filter code for "any".
const ANY: i8 = 1;
/// What a code this client does not know prints as.
const UNKNOWN: &str = "UNKNOWN";

/// `tidemark acl ...`.
pub async fn run(command: AclCommand) -> Result<()> {
    match command {
        AclCommand::Add { acl, deny, client } => {
            let creations = bindings(&acl, deny)?
                .into_iter()
                .map(|binding| {
                    AclCreation::default()
                        .with_resource_type(binding.resource_type.code())
                        .with_resource_name(text(&binding.resource_name))
                        .with_resource_pattern_type(binding.pattern_type.code())
                        .with_principal(text(&binding.principal))
                        .with_host(text(&binding.host))
                        .with_operation(binding.operation.code())
                        .with_permission_type(binding.permission.code())
                })
                .collect();
            let request = CreateAclsRequest::default().with_creations(creations);
            let mut connection = client_properties::connect(&client).await?;
            let response: CreateAclsResponse = connection.call(ApiKey::CreateAcls, ACL_API_VERSION, &request).await?;
            for result in response.results {
                refused(result.error_code, result.error_message)?;
            }
            out!("added ACLs for {}", acl.principal)?;
        }
        AclCommand::List { principal, resource, client } => {
            let (resource_type, name) = filter_resource(&resource);
            let request = DescribeAclsRequest::default()
                .with_resource_type_filter(resource_type.map_or(ANY, ResourceType::code))
                .with_resource_name_filter(name.map(|n| text(&n)))
                .with_pattern_type_filter(ANY)
                .with_principal_filter(principal.map(|p| text(&p)))
                .with_host_filter(None)
                .with_operation(ANY)
                .with_permission_type(ANY);
            let mut connection = client_properties::connect(&client).await?;
            let response: DescribeAclsResponse =
                connection.call(ApiKey::DescribeAcls, ACL_API_VERSION, &request).await?;
            refused(response.error_code, response.error_message)?;
            for resource in response.resources {
                for acl in resource.acls {
                    out!(
                        "{}\t{}:{}:{}\t{}\t{}\t{}",
                        acl.principal.as_str(),
                        ResourceType::from_code(resource.resource_type).map_or(UNKNOWN, ResourceType::name),
                        PatternType::from_code(resource.pattern_type).map_or(UNKNOWN, PatternType::name),
                        resource.resource_name.as_str(),
                        Operation::from_code(acl.operation).map_or(UNKNOWN, Operation::name),
                        Permission::from_code(acl.permission_type).map_or(UNKNOWN, Permission::name),
                        acl.host.as_str()
                    )?;
                }
            }
        }
        AclCommand::Remove { acl, deny, client } => {
            let filters = bindings(&acl, deny)?
                .into_iter()
                .map(|binding| {
                    DeleteAclsFilter::default()
                        .with_resource_type_filter(binding.resource_type.code())
                        .with_resource_name_filter(Some(text(&binding.resource_name)))
                        .with_pattern_type_filter(binding.pattern_type.code())
                        .with_principal_filter(Some(text(&binding.principal)))
                        .with_host_filter(Some(text(&binding.host)))
                        .with_operation(binding.operation.code())
                        .with_permission_type(binding.permission.code())
                })
                .collect();
            let request = DeleteAclsRequest::default().with_filters(filters);
            let mut connection = client_properties::connect(&client).await?;
            let response: DeleteAclsResponse = connection.call(ApiKey::DeleteAcls, ACL_API_VERSION, &request).await?;
            let mut removed = 0;
            for result in response.filter_results {
                refused(result.error_code, result.error_message)?;
                removed += result.matching_acls.len();
            }
            out!("removed {removed} ACLs")?;
        }
    }
    Ok(())
}

/// The ACLs `acl` names: its resource with each of its operations.
fn bindings(acl: &AclArgs, deny: bool) -> Result<Vec<AclBinding>> {
    let (resource_type, name) = resource(&acl.resource);
    let pattern_type = match acl.resource_pattern_type {
        PatternArg::Literal => PatternType::Literal,
        PatternArg::Prefixed => PatternType::Prefixed,
    };
    let permission = if deny { Permission::Deny } else { Permission::Allow };
    acl.operation
        .iter()
        .map(|name_given| {
            let operation = Operation::from_name(name_given.trim())
                .with_context(|| format!("--operation {name_given}: not a Kafka ACL operation"))?;
            Ok(AclBinding {
                resource_type,
                resource_name: name.clone(),
                pattern_type,
                principal: acl.principal.clone(),
                host: acl.host.clone(),
                operation,
                permission,
            })
        })
        .collect()
}

fn resource(resource: &AclResource) -> (ResourceType, String) {
    match (&resource.topic, &resource.group, &resource.transactional_id) {
        (Some(topic), _, _) => (ResourceType::Topic, topic.clone()),
        (_, Some(group), _) => (ResourceType::Group, group.clone()),
        (_, _, Some(id)) => (ResourceType::TransactionalId, id.clone()),
        _ => (ResourceType::Cluster, CLUSTER_NAME.to_owned()),
    }
}

fn filter_resource(resource: &AclResourceFilter) -> (Option<ResourceType>, Option<String>) {
    match (&resource.topic, &resource.group, resource.cluster) {
        (Some(topic), _, _) => (Some(ResourceType::Topic), Some(topic.clone())),
        (_, Some(group), _) => (Some(ResourceType::Group), Some(group.clone())),
        (_, _, true) => (Some(ResourceType::Cluster), Some(CLUSTER_NAME.to_owned())),
        _ => (None, None),
    }
}

/// Fails with the broker's error, if it answered one.
fn refused(code: i16, message: Option<StrBytes>) -> Result<()> {
    match ResponseError::try_from_code(code) {
        None => Ok(()),
        Some(error) => bail!("{error:?}: {}", message.map(|m| m.to_string()).unwrap_or_default()),
    }
}

fn text(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_owned())
}
