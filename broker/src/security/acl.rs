//! Access control lists, Kafka's model: an ACL allows or denies a principal, from a host, an operation on the
//! resources a pattern names (a literal name, `*` for all, or a prefix). The enumerations carry Kafka's wire codes
//! (CreateAcls, DescribeAcls, DeleteAcls).

use serde::{Deserialize, Serialize};

/// What an ACL protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceType {
    /// A topic.
    Topic,
    /// A consumer group.
    Group,
    /// The cluster itself (creating topics, idempotent writes, ACLs, users, ...).
    Cluster,
    /// A transactional id.
    TransactionalId,
    /// A delegation token.
    DelegationToken,
    /// A user (SCRAM credentials of others).
    User,
}

/// How an ACL's resource name matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PatternType {
    /// The name exactly, or every resource when the name is `*`.
    Literal,
    /// Every resource whose name starts with the name.
    Prefixed,
}

/// An operation on a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operation {
    /// Every operation.
    All,
    /// Consume from a topic; join a group, commit its offsets.
    Read,
    /// Produce to a topic.
    Write,
    /// Create topics.
    Create,
    /// Delete topics or groups.
    Delete,
    /// Add partitions; change ACLs and users.
    Alter,
    /// Metadata, offsets, group and ACL descriptions.
    Describe,
    /// Broker-to-broker requests (replica fetches).
    ClusterAction,
    /// Read configs.
    DescribeConfigs,
    /// Change configs.
    AlterConfigs,
    /// Idempotent producers (InitProducerId).
    IdempotentWrite,
}

/// Whether an ACL allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    /// Denies; wins over any allow.
    Deny,
    /// Allows.
    Allow,
}

/// Maps an enumeration to Kafka's codes and back.
macro_rules! kafka_codes {
    ($type:ty { $($variant:ident = $code:literal => $name:literal),+ $(,)? }) => {
        impl $type {
            /// Kafka's wire code.
            pub fn code(self) -> i8 {
                match self { $(Self::$variant => $code),+ }
            }

            /// From Kafka's wire code; `None` for UNKNOWN, ANY, MATCH and codes out of range.
            pub fn from_code(code: i8) -> Option<Self> {
                match code { $($code => Some(Self::$variant),)+ _ => None }
            }

            /// Kafka's name, as its tools print and take it.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            /// From Kafka's name, case-insensitively.
            pub fn from_name(name: &str) -> Option<Self> {
                [$(Self::$variant),+].into_iter().find(|v| v.name().eq_ignore_ascii_case(name))
            }
        }
    };
}

kafka_codes!(ResourceType {
    Topic = 2 => "TOPIC", Group = 3 => "GROUP", Cluster = 4 => "CLUSTER", TransactionalId = 5 => "TRANSACTIONAL_ID",
    DelegationToken = 6 => "DELEGATION_TOKEN", User = 7 => "USER",
});
kafka_codes!(PatternType { Literal = 3 => "LITERAL", Prefixed = 4 => "PREFIXED" });
kafka_codes!(Operation {
    All = 2 => "ALL", Read = 3 => "READ", Write = 4 => "WRITE", Create = 5 => "CREATE", Delete = 6 => "DELETE",
    Alter = 7 => "ALTER", Describe = 8 => "DESCRIBE", ClusterAction = 9 => "CLUSTER_ACTION",
    DescribeConfigs = 10 => "DESCRIBE_CONFIGS", AlterConfigs = 11 => "ALTER_CONFIGS",
    IdempotentWrite = 12 => "IDEMPOTENT_WRITE",
});
kafka_codes!(Permission { Deny = 2 => "DENY", Allow = 3 => "ALLOW" });

/// Kafka's filter codes: ANY matches every value; MATCH (pattern types only) matches the patterns that would
/// apply to a named resource.
const ANY: i8 = 1;
const MATCH: i8 = 2;

/// The name of the cluster resource.
pub const CLUSTER_NAME: &str = "kafka-cluster";
/// A literal name matching every resource of its type; a principal or host matching every one.
pub const WILDCARD: &str = "*";

/// One ACL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AclBinding {
    /// The resource type.
    pub resource_type: ResourceType,
    /// The resource name or prefix.
    pub resource_name: String,
    /// How the name matches.
    pub pattern_type: PatternType,
    /// `User:<name>`, or `User:*` for everyone.
    pub principal: String,
    /// The client's IP address, or `*`.
    pub host: String,
    /// The operation.
    pub operation: Operation,
    /// Allow or deny.
    pub permission: Permission,
}

impl AclBinding {
    /// Whether this ACL's pattern covers the resource `resource_type` named `name`.
    pub fn covers(&self, resource_type: ResourceType, name: &str) -> bool {
        self.resource_type == resource_type
            && match self.pattern_type {
                PatternType::Literal => self.resource_name == name || self.resource_name == WILDCARD,
                PatternType::Prefixed => name.starts_with(&self.resource_name),
            }
    }

    /// Checks an ACL to be created as Kafka does: a principal of the form `User:<name>`, a host, a name.
    pub fn validate(&self) -> Result<(), String> {
        if !self.principal.starts_with("User:") || self.principal.len() == "User:".len() {
            return Err(format!("Could not parse principal from `{}` (no colon is present separating the principal type from the principal name)", self.principal));
        }
        if self.host.is_empty() {
            return Err("The host must not be empty; `*` is every host".to_owned());
        }
        if self.resource_name.is_empty() {
            return Err("The resource name must not be empty".to_owned());
        }
        if self.resource_type == ResourceType::Cluster && self.resource_name != CLUSTER_NAME {
            return Err(format!("The only valid name for the CLUSTER resource is {CLUSTER_NAME}"));
        }
        Ok(())
    }
}

/// A filter over ACLs (DescribeAcls, DeleteAcls): each field is `None` for ANY.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclFilter {
    /// The resource type.
    pub resource_type: Option<ResourceType>,
    /// The resource name.
    pub resource_name: Option<String>,
    /// The pattern: `Some(Some(p))` exactly `p`, `Some(None)` MATCH (every pattern covering `resource_name`).
    pub pattern_type: Option<Option<PatternType>>,
    /// The principal.
    pub principal: Option<String>,
    /// The host.
    pub host: Option<String>,
    /// The operation.
    pub operation: Option<Operation>,
    /// The permission.
    pub permission: Option<Permission>,
}

/// A filter field's code that is not a value, ANY or (for pattern types) MATCH.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidFilter(pub String);

impl AclFilter {
    /// A filter from its wire form.
    pub fn from_wire(
        (resource_type, resource_name, pattern_type): (i8, Option<&str>, i8),
        (principal, host): (Option<&str>, Option<&str>),
        (operation, permission): (i8, i8),
    ) -> Result<Self, InvalidFilter> {
        fn any_or<T>(code: i8, parse: fn(i8) -> Option<T>, what: &str) -> Result<Option<T>, InvalidFilter> {
            match code {
                ANY => Ok(None),
                code => parse(code).map(Some).ok_or_else(|| InvalidFilter(format!("invalid {what} filter {code}"))),
            }
        }
        let pattern_type = match pattern_type {
            ANY => None,
            MATCH => Some(None),
            code => Some(Some(
                PatternType::from_code(code).ok_or_else(|| InvalidFilter(format!("invalid pattern type {code}")))?,
            )),
        };
        Ok(AclFilter {
            resource_type: any_or(resource_type, ResourceType::from_code, "resource type")?,
            resource_name: resource_name.map(str::to_owned),
            pattern_type,
            principal: principal.map(str::to_owned),
            host: host.map(str::to_owned),
            operation: any_or(operation, Operation::from_code, "operation")?,
            permission: any_or(permission, Permission::from_code, "permission type")?,
        })
    }

    /// Whether `acl` passes this filter.
    pub fn matches(&self, acl: &AclBinding) -> bool {
        let resource = match (&self.pattern_type, &self.resource_name) {
            // MATCH: the ACLs that apply to the named resource.
            (Some(None), Some(name)) => acl.covers(self.resource_type.unwrap_or(acl.resource_type), name),
            (Some(None), None) => self.resource_type.is_none_or(|t| t == acl.resource_type),
            (pattern, name) => {
                self.resource_type.is_none_or(|t| t == acl.resource_type)
                    && name.as_ref().is_none_or(|n| *n == acl.resource_name)
                    && pattern.flatten().is_none_or(|p| p == acl.pattern_type)
            }
        };
        resource
            && self.principal.as_ref().is_none_or(|p| *p == acl.principal)
            && self.host.as_ref().is_none_or(|h| *h == acl.host)
            && self.operation.is_none_or(|o| o == acl.operation)
            && self.permission.is_none_or(|p| p == acl.permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(resource_type: ResourceType, name: &str, pattern_type: PatternType) -> AclBinding {
        AclBinding {
            resource_type,
            resource_name: name.to_owned(),
            pattern_type,
            principal: "User:alice".to_owned(),
            host: WILDCARD.to_owned(),
            operation: Operation::Read,
            permission: Permission::Allow,
        }
    }

    #[test]
    fn patterns_cover_literal_wildcard_and_prefixed_names() {
        assert!(acl(ResourceType::Topic, "orders", PatternType::Literal).covers(ResourceType::Topic, "orders"));
        assert!(!acl(ResourceType::Topic, "orders", PatternType::Literal).covers(ResourceType::Topic, "orders2"));
        assert!(!acl(ResourceType::Topic, "orders", PatternType::Literal).covers(ResourceType::Group, "orders"));
        assert!(acl(ResourceType::Topic, "*", PatternType::Literal).covers(ResourceType::Topic, "anything"));
        assert!(acl(ResourceType::Topic, "ord", PatternType::Prefixed).covers(ResourceType::Topic, "orders"));
        assert!(!acl(ResourceType::Topic, "*", PatternType::Prefixed).covers(ResourceType::Topic, "orders"));
    }

    #[test]
    fn codes_and_names_round_trip_and_filters_refuse_unknown_codes() {
        for code in 2..=12 {
            let operation = Operation::from_code(code).expect("operation");
            assert_eq!(operation.code(), code);
            assert_eq!(Operation::from_name(&operation.name().to_lowercase()), Some(operation));
        }
        assert_eq!(ResourceType::from_code(0), None);
        let wire = |pattern| AclFilter::from_wire((2, Some("orders"), pattern), (None, None), (1, 1));
        assert_eq!(wire(1).expect("any").pattern_type, None);
        assert_eq!(wire(2).expect("match").pattern_type, Some(None));
        assert!(wire(9).is_err());
        assert!(AclFilter::from_wire((1, None, 1), (None, None), (0, 1)).is_err(), "UNKNOWN operation");
    }

    #[test]
    fn filters_match_exact_patterns_or_every_pattern_covering_a_name() {
        let literal = acl(ResourceType::Topic, "orders", PatternType::Literal);
        let prefixed = acl(ResourceType::Topic, "ord", PatternType::Prefixed);
        let wildcard = acl(ResourceType::Topic, "*", PatternType::Literal);
        let exact = AclFilter::from_wire((2, Some("orders"), 3), (None, None), (1, 1)).expect("filter");
        assert!(exact.matches(&literal) && !exact.matches(&prefixed) && !exact.matches(&wildcard));
        let matching = AclFilter::from_wire((2, Some("orders"), 2), (None, None), (1, 1)).expect("filter");
        assert!(matching.matches(&literal) && matching.matches(&prefixed) && matching.matches(&wildcard));
        let everything = AclFilter::default();
        assert!(everything.matches(&literal));
        let bob = AclFilter { principal: Some("User:bob".to_owned()), ..AclFilter::default() };
        assert!(!bob.matches(&literal));
    }

    #[test]
    fn creations_are_validated_as_kafka_does() {
        let mut binding = acl(ResourceType::Topic, "orders", PatternType::Literal);
        assert_eq!(binding.validate(), Ok(()));
        binding.principal = "alice".to_owned();
        assert!(binding.validate().is_err());
        let mut cluster = acl(ResourceType::Cluster, "other", PatternType::Literal);
        assert!(cluster.validate().is_err());
        cluster.resource_name = CLUSTER_NAME.to_owned();
        assert_eq!(cluster.validate(), Ok(()));
    }
}
