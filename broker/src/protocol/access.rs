//! What the principal of a request may do: the handlers ask before acting, per resource, as Kafka's `KafkaApis`
//! asks its authorizer. Everything is allowed while the authorizer is off.

use crate::broker::Broker;
use crate::security::acl::{Operation, ResourceType, CLUSTER_NAME};
use crate::security::session::Session;

/// A request's access checks.
#[derive(Clone, Copy)]
pub struct Access<'a> {
    broker: &'a Broker,
    session: &'a Session,
}

impl<'a> Access<'a> {
    /// The checks of a request that came on `session`.
    pub fn new(broker: &'a Broker, session: &'a Session) -> Self {
        Access { broker, session }
    }

    /// Whether `operation` on topic `name` is allowed; a denial is logged.
    pub fn topic(&self, operation: Operation, name: &str) -> bool {
        self.broker.authorizer().authorize(self.session, operation, ResourceType::Topic, name)
    }

    /// Whether the principal may see topic `name` in a list of every topic (Describe; not logged).
    pub fn sees_topic(&self, name: &str) -> bool {
        self.broker.authorizer().allows(self.session, Operation::Describe, ResourceType::Topic, name)
    }

    /// Whether `operation` on group `name` is allowed; a denial is logged.
    pub fn group(&self, operation: Operation, name: &str) -> bool {
        self.broker.authorizer().authorize(self.session, operation, ResourceType::Group, name)
    }

    /// Whether the principal may see group `name` in a list of every group (Describe; not logged).
    pub fn sees_group(&self, name: &str) -> bool {
        self.broker.authorizer().allows(self.session, Operation::Describe, ResourceType::Group, name)
    }

    /// Whether `operation` on transactional id `id` is allowed; a denial is logged.
    pub fn transactional_id(&self, operation: Operation, id: &str) -> bool {
        self.broker.authorizer().authorize(self.session, operation, ResourceType::TransactionalId, id)
    }

    /// Whether `operation` on the cluster is allowed; a denial is logged.
    pub fn cluster(&self, operation: Operation) -> bool {
        self.broker.authorizer().authorize(self.session, operation, ResourceType::Cluster, CLUSTER_NAME)
    }

    /// Whether `operation` on the cluster is allowed, without logging a denial (for checks with a fallback,
    /// such as CREATE on the cluster or else on the topic).
    pub fn cluster_allows(&self, operation: Operation) -> bool {
        self.broker.authorizer().allows(self.session, operation, ResourceType::Cluster, CLUSTER_NAME)
    }

    /// The session.
    pub fn session(&self) -> &Session {
        self.session
    }
}
