//! The ACL authorizer, Kafka's `StandardAuthorizer` rules: off by default (everything allowed, as a broker
//! without `authorizer.class.name`); when on, a super user may do anything, a DENY that applies wins, otherwise an
//! ALLOW that applies is needed (no ACL means denied). Describe is allowed by Read, Write, Delete and Alter;
//! DescribeConfigs by AlterConfigs; ALL covers every operation. The ACLs live in a [`SecurityStore`].

use std::collections::BTreeSet;
use std::io;
use std::path::Path;
use std::sync::Arc;

use super::acl::{AclBinding, Operation, Permission, ResourceType, WILDCARD};
use super::principal::Principal;
use super::session::Session;
use super::store::{SecurityStore, StoreError};
use crate::controller::image::MetadataCommand;
use crate::controller::Controller;

/// Every ACL.
pub type Acls = BTreeSet<AclBinding>;

/// The authorizer's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizerSettings {
    /// Whether requests are authorized at all (`--authorizer on`).
    pub enabled: bool,
    /// Principals allowed everything (`super.users`), e.g. `User:admin`.
    pub super_users: BTreeSet<String>,
    /// In a cluster with a shared secret, the principal brokers authenticate as to each other: allowed
    /// everything, and the only one allowed CLUSTER_ACTION (fetching as a replica) while the authorizer is off, so
    /// that no client can pose as a follower and move a partition's high watermark.
    pub inter_broker_principal: Option<Principal>,
}

/// Decides what a connection's principal may do.
#[derive(Debug)]
pub struct Authorizer {
    settings: AuthorizerSettings,
    store: SecurityStore<Acls>,
}

impl Authorizer {
    /// A single node's, its ACLs in `meta_dir/acls.json`.
    pub fn open(meta_dir: &Path, settings: AuthorizerSettings) -> io::Result<Self> {
        Ok(Authorizer { settings, store: SecurityStore::open(meta_dir.join("acls.json"))? })
    }

    /// A cluster member's, its ACLs in `controller`'s image.
    pub fn from_controller(controller: Arc<Controller>, settings: AuthorizerSettings) -> Self {
        Authorizer { settings, store: SecurityStore::from_controller(controller, |image| &image.acls) }
    }

    /// Whether `session` may do `operation` on the resource; a denial is logged.
    pub fn authorize(&self, session: &Session, operation: Operation, resource_type: ResourceType, name: &str) -> bool {
        let allowed = self.allows(session, operation, resource_type, name);
        if !allowed {
            tracing::warn!(principal = %session.principal, host = %session.peer.ip(), operation = operation.name(),
                resource = format!("{}:{name}", resource_type.name()), "authorization denied");
        }
        allowed
    }

    /// Like [`Authorizer::authorize`] without logging: for filtering lists (all topics, all groups), where Kafka
    /// does not log either.
    pub fn allows(&self, session: &Session, operation: Operation, resource_type: ResourceType, name: &str) -> bool {
        if let Some(broker) = &self.settings.inter_broker_principal {
            if session.principal == *broker {
                return true;
            }
            if !self.settings.enabled && operation == Operation::ClusterAction {
                return false;
            }
        }
        if !self.settings.enabled || self.settings.super_users.contains(&session.principal.to_string()) {
            return true;
        }
        let principal = session.principal.to_string();
        let host = session.peer.ip().to_string();
        self.store.read(|acls| decide(acls, (&principal, &host), operation, (resource_type, name)))
    }

    /// Every ACL.
    pub fn acls(&self) -> Acls {
        self.store.read(Acls::clone)
    }

    /// Adds `acls` (those present already stay once).
    pub async fn create(&self, acls: Vec<AclBinding>) -> Result<(), StoreError> {
        let apply = |all: &mut Acls| all.extend(acls.iter().cloned());
        self.store.change(apply, MetadataCommand::CreateAcls { acls: acls.clone() }).await
    }

    /// Removes `acls`.
    pub async fn delete(&self, acls: Vec<AclBinding>) -> Result<(), StoreError> {
        let apply = |all: &mut Acls| all.retain(|acl| !acls.contains(acl));
        self.store.change(apply, MetadataCommand::DeleteAcls { acls: acls.clone() }).await
    }
}

/// The decision for `principal` at `host`, given every ACL.
fn decide(
    acls: &Acls,
    (principal, host): (&str, &str),
    operation: Operation,
    (resource_type, name): (ResourceType, &str),
) -> bool {
    let applicable = acls.iter().filter(|acl| {
        acl.covers(resource_type, name)
            && (acl.principal == principal || acl.principal == "User:*")
            && (acl.host == WILDCARD || acl.host == host)
    });
    let mut allowed = false;
    for acl in applicable {
        match acl.permission {
            Permission::Deny if acl.operation == Operation::All || acl.operation == operation => return false,
            Permission::Deny => {}
            Permission::Allow => allowed |= implies(acl.operation, operation),
        }
    }
    allowed
}

/// Whether an ALLOW of `granted` allows `wanted`.
fn implies(granted: Operation, wanted: Operation) -> bool {
    granted == wanted
        || granted == Operation::All
        || (wanted == Operation::Describe
            && matches!(granted, Operation::Read | Operation::Write | Operation::Delete | Operation::Alter))
        || (wanted == Operation::DescribeConfigs && granted == Operation::AlterConfigs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::acl::PatternType;

    fn acl(principal: &str, operation: Operation, permission: Permission, name: &str) -> AclBinding {
        AclBinding {
            resource_type: ResourceType::Topic,
            resource_name: name.to_owned(),
            pattern_type: PatternType::Literal,
            principal: principal.to_owned(),
            host: WILDCARD.to_owned(),
            operation,
            permission,
        }
    }

    fn may(acls: &[AclBinding], principal: &str, operation: Operation, topic: &str) -> bool {
        let acls: Acls = acls.iter().cloned().collect();
        decide(&acls, (principal, "10.0.0.1"), operation, (ResourceType::Topic, topic))
    }

    #[test]
    fn no_acl_denies_an_allow_allows_and_a_deny_wins() {
        let alice = "User:alice";
        assert!(!may(&[], alice, Operation::Read, "orders"));
        let read = acl(alice, Operation::Read, Permission::Allow, "orders");
        assert!(may(std::slice::from_ref(&read), alice, Operation::Read, "orders"));
        assert!(!may(std::slice::from_ref(&read), alice, Operation::Write, "orders"));
        assert!(!may(std::slice::from_ref(&read), "User:bob", Operation::Read, "orders"));
        assert!(!may(std::slice::from_ref(&read), alice, Operation::Read, "payments"));
        let deny_all = acl("User:*", Operation::All, Permission::Deny, "orders");
        assert!(!may(&[read.clone(), deny_all], alice, Operation::Read, "orders"));
        let deny_write = acl(alice, Operation::Write, Permission::Deny, "*");
        assert!(may(&[read, deny_write], alice, Operation::Read, "orders"), "a deny of another operation");
    }

    #[test]
    fn describe_is_implied_as_kafka_implies_it() {
        let alice = "User:alice";
        for granted in [Operation::Read, Operation::Write, Operation::Delete, Operation::Alter, Operation::All] {
            assert!(
                may(&[acl(alice, granted, Permission::Allow, "t")], alice, Operation::Describe, "t"),
                "{granted:?}"
            );
        }
        assert!(!may(&[acl(alice, Operation::Create, Permission::Allow, "t")], alice, Operation::Describe, "t"));
        let alter_configs = acl(alice, Operation::AlterConfigs, Permission::Allow, "t");
        assert!(may(std::slice::from_ref(&alter_configs), alice, Operation::DescribeConfigs, "t"));
        assert!(!may(&[alter_configs], alice, Operation::Describe, "t"));
    }

    #[test]
    fn hosts_must_match_unless_the_acl_says_every_host() {
        let mut from_elsewhere = acl("User:alice", Operation::Read, Permission::Allow, "t");
        from_elsewhere.host = "10.0.0.2".to_owned();
        assert!(!may(&[from_elsewhere.clone()], "User:alice", Operation::Read, "t"));
        from_elsewhere.host = "10.0.0.1".to_owned();
        assert!(may(&[from_elsewhere], "User:alice", Operation::Read, "t"));
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn in_a_secured_cluster_only_brokers_act_as_replicas() {
        let dir = tempfile::tempdir().unwrap();
        let broker = Principal::user("__tidemark_broker");
        let session = |principal: &Principal| Session {
            peer: "10.0.0.1:5000".parse().unwrap(),
            listener: crate::security::listener::SecurityProtocol::SaslPlaintext,
            principal: principal.clone(),
        };
        let (client, admin) = (session(&Principal::user("alice")), session(&Principal::user("admin")));
        for enabled in [false, true] {
            let settings = AuthorizerSettings {
                enabled,
                super_users: BTreeSet::from(["User:admin".to_owned()]),
                inter_broker_principal: Some(broker.clone()),
            };
            let authorizer = Authorizer::open(dir.path(), settings).unwrap();
            let cluster_action =
                |s: &Session| authorizer.allows(s, Operation::ClusterAction, ResourceType::Cluster, "c");
            assert!(cluster_action(&session(&broker)), "the brokers' principal (authorizer {enabled})");
            assert!(!cluster_action(&client), "a client (authorizer {enabled})");
            assert_eq!(cluster_action(&admin), enabled, "a super user, as Kafka, only under the authorizer");
            assert!(authorizer.allows(&session(&broker), Operation::Write, ResourceType::Topic, "t"));
            assert_eq!(authorizer.allows(&client, Operation::Read, ResourceType::Topic, "t"), !enabled);
        }
    }
}
