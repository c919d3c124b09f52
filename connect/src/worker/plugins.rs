//! The connector plugins this worker knows, by the class names and aliases users put in `connector.class`.

use std::sync::Arc;

use crate::connector::{Connector, SinkConnector, SourceConnector};
use crate::plugins::{
    DatagenConnector, FileSinkConnector, HttpSinkConnector, DATAGEN_ALIAS, DATAGEN_CLASS, FILE_SINK_ALIAS,
    FILE_SINK_CLASS, HTTP_SINK_ALIASES, HTTP_SINK_CLASS,
};

/// A connector of either kind.
#[derive(Clone)]
pub enum ConnectorKind {
    /// Reads a source, writes the log.
    Source(Arc<dyn SourceConnector>),
    /// Reads the log, writes a destination.
    Sink(Arc<dyn SinkConnector>),
}

/// One plugin: its class name, aliases and connector.
#[derive(Clone)]
pub struct Plugin {
    /// The full class name.
    pub class: &'static str,
    /// Short names also accepted.
    pub aliases: &'static [&'static str],
    /// The connector.
    pub kind: ConnectorKind,
}

impl Plugin {
    /// What both kinds declare.
    pub fn connector(&self) -> &dyn Connector {
        match &self.kind {
            ConnectorKind::Source(source) => source.as_ref(),
            ConnectorKind::Sink(sink) => sink.as_ref(),
        }
    }

    /// `source` or `sink`, as Kafka Connect's REST API names the kinds.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ConnectorKind::Source(_) => "source",
            ConnectorKind::Sink(_) => "sink",
        }
    }
}

/// The plugins available to connectors.
#[derive(Clone)]
pub struct Plugins {
    plugins: Vec<Plugin>,
}

impl Default for Plugins {
    /// The built-in plugins.
    fn default() -> Self {
        Plugins {
            plugins: vec![
                Plugin {
                    class: DATAGEN_CLASS,
                    aliases: &[DATAGEN_ALIAS],
                    kind: ConnectorKind::Source(Arc::new(DatagenConnector)),
                },
                Plugin {
                    class: FILE_SINK_CLASS,
                    aliases: &[FILE_SINK_ALIAS],
                    kind: ConnectorKind::Sink(Arc::new(FileSinkConnector)),
                },
                Plugin {
                    class: HTTP_SINK_CLASS,
                    aliases: HTTP_SINK_ALIASES,
                    kind: ConnectorKind::Sink(Arc::new(HttpSinkConnector)),
                },
            ],
        }
    }
}

impl Plugins {
    /// The built-in plugins and `more` (connectors of other crates, e.g. the database connectors, which depend on
    /// this one and so are registered by the binary).
    pub fn with(more: impl IntoIterator<Item = Plugin>) -> Self {
        let mut plugins = Plugins::default();
        plugins.plugins.extend(more);
        plugins
    }

    /// The plugin `connector.class` names (class name, alias, or the class's simple name).
    pub fn find(&self, class: &str) -> Option<&Plugin> {
        let class = class.trim();
        self.plugins.iter().find(|p| {
            p.class == class
                || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(class))
                || p.class.rsplit('.').next().is_some_and(|simple| simple == class)
        })
    }

    /// Every plugin.
    pub fn all(&self) -> &[Plugin] {
        &self.plugins
    }
}
