//! CreateAcls, DescribeAcls and DeleteAcls, with Kafka's checks and error codes. Changing ACLs needs ALTER on the
//! cluster, listing them DESCRIBE on the cluster (when the authorizer is on).

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::delete_acls_response::{DeleteAclsFilterResult, DeleteAclsMatchingAcl};
use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse, DescribeAclsRequest,
    DescribeAclsResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::message;
use crate::broker::Broker;
use crate::security::acl::{AclBinding, AclFilter, Operation, PatternType, Permission, ResourceType, CLUSTER_NAME};
use crate::security::session::Session;

/// Whether `session` may do `operation` on the cluster.
fn on_cluster(broker: &Broker, session: &Session, operation: Operation) -> bool {
    broker.authorizer().authorize(session, operation, ResourceType::Cluster, CLUSTER_NAME)
}

fn text(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_owned())
}

/// Creates every valid ACL; each creation has its own result.
pub async fn create(broker: &Arc<Broker>, request: CreateAclsRequest, session: &Session) -> CreateAclsResponse {
    let denied = !on_cluster(broker, session, Operation::Alter);
    let mut valid = Vec::new();
    let mut results: Vec<Result<usize, (ResponseError, String)>> = Vec::new();
    for creation in request.creations {
        let binding = || -> Result<AclBinding, String> {
            let invalid = |what: &str, code: i8| format!("Invalid {what} {code}");
            let binding = AclBinding {
                resource_type: ResourceType::from_code(creation.resource_type)
                    .ok_or_else(|| invalid("resource type", creation.resource_type))?,
                resource_name: creation.resource_name.to_string(),
                pattern_type: PatternType::from_code(creation.resource_pattern_type)
                    .ok_or_else(|| invalid("pattern type", creation.resource_pattern_type))?,
                principal: creation.principal.to_string(),
                host: creation.host.to_string(),
                operation: Operation::from_code(creation.operation)
                    .ok_or_else(|| invalid("operation", creation.operation))?,
                permission: Permission::from_code(creation.permission_type)
                    .ok_or_else(|| invalid("permission type", creation.permission_type))?,
            };
            binding.validate()?;
            Ok(binding)
        };
        results.push(match (denied, binding()) {
            (true, _) => Err((ResponseError::ClusterAuthorizationFailed, "Cluster authorization failed.".to_owned())),
            (false, Ok(binding)) => {
                valid.push(binding);
                Ok(valid.len() - 1)
            }
            (false, Err(reason)) => Err((ResponseError::InvalidRequest, reason)),
        });
    }
    let stored = match valid.is_empty() {
        true => Ok(()),
        false => broker.authorizer().create(valid).await.map_err(|e| e.to_string()),
    };
    let results = results
        .into_iter()
        .map(|result| match (result, &stored) {
            (Ok(_), Ok(())) => AclCreationResult::default(),
            (Ok(_), Err(why)) => AclCreationResult::default()
                .with_error_code(ResponseError::UnknownServerError.code())
                .with_error_message(message(why)),
            (Err((error, why)), _) => {
                AclCreationResult::default().with_error_code(error.code()).with_error_message(message(why))
            }
        })
        .collect();
    CreateAclsResponse::default().with_results(results)
}

/// The ACLs passing the request's filter, grouped by resource pattern.
pub fn describe(broker: &Arc<Broker>, request: DescribeAclsRequest, session: &Session) -> DescribeAclsResponse {
    let refused = |error: ResponseError, why: String| {
        DescribeAclsResponse::default().with_error_code(error.code()).with_error_message(message(why))
    };
    if !on_cluster(broker, session, Operation::Describe) {
        return refused(ResponseError::ClusterAuthorizationFailed, "Cluster authorization failed.".to_owned());
    }
    let filter = AclFilter::from_wire(
        (request.resource_type_filter, request.resource_name_filter.as_deref(), request.pattern_type_filter),
        (request.principal_filter.as_deref(), request.host_filter.as_deref()),
        (request.operation, request.permission_type),
    );
    let filter = match filter {
        Ok(filter) => filter,
        Err(e) => return refused(ResponseError::InvalidRequest, e.to_string()),
    };
    let mut resources: BTreeMap<(ResourceType, String, PatternType), Vec<AclDescription>> = BTreeMap::new();
    for acl in broker.authorizer().acls().into_iter().filter(|acl| filter.matches(acl)) {
        let description = AclDescription::default()
            .with_principal(text(&acl.principal))
            .with_host(text(&acl.host))
            .with_operation(acl.operation.code())
            .with_permission_type(acl.permission.code());
        resources.entry((acl.resource_type, acl.resource_name, acl.pattern_type)).or_default().push(description);
    }
    let resources = resources
        .into_iter()
        .map(|((resource_type, name, pattern_type), acls)| {
            DescribeAclsResource::default()
                .with_resource_type(resource_type.code())
                .with_resource_name(text(&name))
                .with_pattern_type(pattern_type.code())
                .with_acls(acls)
        })
        .collect();
    DescribeAclsResponse::default().with_resources(resources)
}

/// Deletes the ACLs each filter matches; each filter's result lists them.
pub async fn delete(broker: &Arc<Broker>, request: DeleteAclsRequest, session: &Session) -> DeleteAclsResponse {
    let denied = !on_cluster(broker, session, Operation::Alter);
    let all = broker.authorizer().acls();
    let mut doomed = Vec::new();
    let mut results: Vec<Result<Vec<AclBinding>, (ResponseError, String)>> = Vec::new();
    for wire in request.filters {
        let filter = AclFilter::from_wire(
            (wire.resource_type_filter, wire.resource_name_filter.as_deref(), wire.pattern_type_filter),
            (wire.principal_filter.as_deref(), wire.host_filter.as_deref()),
            (wire.operation, wire.permission_type),
        );
        results.push(match (denied, filter) {
            (true, _) => Err((ResponseError::ClusterAuthorizationFailed, "Cluster authorization failed.".to_owned())),
            (false, Err(e)) => Err((ResponseError::InvalidRequest, e.to_string())),
            (false, Ok(filter)) => {
                let matching: Vec<AclBinding> = all.iter().filter(|acl| filter.matches(acl)).cloned().collect();
                doomed.extend(matching.iter().cloned());
                Ok(matching)
            }
        });
    }
    let deleted = match doomed.is_empty() {
        true => Ok(()),
        false => broker.authorizer().delete(doomed).await.map_err(|e| e.to_string()),
    };
    let filter_results = results
        .into_iter()
        .map(|result| match (result, &deleted) {
            (Ok(matching), Ok(())) => {
                DeleteAclsFilterResult::default().with_matching_acls(matching.iter().map(matching_acl).collect())
            }
            (Ok(_), Err(why)) => DeleteAclsFilterResult::default()
                .with_error_code(ResponseError::UnknownServerError.code())
                .with_error_message(message(why)),
            (Err((error, why)), _) => {
                DeleteAclsFilterResult::default().with_error_code(error.code()).with_error_message(message(why))
            }
        })
        .collect();
    DeleteAclsResponse::default().with_filter_results(filter_results)
}

fn matching_acl(acl: &AclBinding) -> DeleteAclsMatchingAcl {
    DeleteAclsMatchingAcl::default()
        .with_resource_type(acl.resource_type.code())
        .with_resource_name(text(&acl.resource_name))
        .with_pattern_type(acl.pattern_type.code())
        .with_principal(text(&acl.principal))
        .with_host(text(&acl.host))
        .with_operation(acl.operation.code())
        .with_permission_type(acl.permission.code())
}
