//! `io.debezium.connector.jdbc.JdbcSinkConnector` (alias `jdbc`): its settings, its check against the database, and
//! its tasks, `tasks.max` copies of one config reading the topics as members of one consumer group.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use tidemark_connect::config::{ConfigDef, FieldError};
use tidemark_connect::connector::{Connector, SinkConnector, SinkTask, TaskError};

use crate::config::config_def;
use crate::task::JdbcSinkTask;

/// The connector's class name, Debezium's.
pub const JDBC_SINK_CLASS: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";
/// Its short name.
pub const JDBC_SINK_ALIAS: &str = "jdbc";

/// The JDBC sink connector.
#[derive(Debug, Default)]
pub struct JdbcSinkConnector;

impl Connector for JdbcSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn validate<'a>(&'a self, props: &'a BTreeMap<String, String>) -> BoxFuture<'a, Vec<FieldError>> {
        Box::pin(crate::validate::validate(props))
    }

    fn task_configs(&self, props: &BTreeMap<String, String>, max_tasks: usize) -> Vec<BTreeMap<String, String>> {
        vec![props.clone(); max_tasks.max(1)]
    }
}

impl SinkConnector for JdbcSinkConnector {
    fn create_task(&self, task_config: &BTreeMap<String, String>) -> Result<Box<dyn SinkTask>, TaskError> {
        Ok(Box::new(JdbcSinkTask::new(task_config)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_gets_the_whole_config() {
        let props: BTreeMap<String, String> = [("connection.url".to_owned(), "jdbc:mysql://h/db".to_owned())].into();
        let configs = JdbcSinkConnector.task_configs(&props, 3);
        assert_eq!(configs, vec![props.clone(); 3]);
        assert_eq!(JdbcSinkConnector.task_configs(&props, 0).len(), 1);
    }
}
