//! The connector plugins this worker knows, by the class names and aliases users put in `connector.class`.

use std::sync::Arc;

use crate::connector::SourceConnector;
use crate::plugins::{DatagenConnector, DATAGEN_ALIAS, DATAGEN_CLASS};

/// One plugin: its class name, aliases and connector.
#[derive(Clone)]
pub struct Plugin {
    /// The full class name.
    pub class: &'static str,
    /// Short names also accepted.
    pub aliases: &'static [&'static str],
    /// The connector.
    pub connector: Arc<dyn SourceConnector>,
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
            plugins: vec![Plugin {
                class: DATAGEN_CLASS,
                aliases: &[DATAGEN_ALIAS],
                connector: Arc::new(DatagenConnector),
            }],
        }
    }
}

impl Plugins {
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
