//! What source and sink tasks share: how a connector's records are converted (`key.converter`, `value.converter`
//! and their settings) and transformed (`transforms`), where failed ones go (`errors.*`), and the task's metrics.

use std::collections::BTreeMap;
use std::sync::Arc;

use tidemark_log_client::LogClient;

use super::{DeadLetters, ErrorPolicy};
use crate::config::{invalid_config_message, FieldError};
use crate::connector::TaskError;
use crate::converters::{create_converter, Converter};
use crate::metrics::TaskMetrics;
use crate::transforms::TransformChain;

/// A converter and the class it was made from (named in error reports and dead-letter headers).
pub struct NamedConverter {
    /// The converter.
    pub converter: Arc<dyn Converter>,
    /// Its class, as the config named it.
    pub class: String,
}

/// A task's record pipeline.
pub struct Pipeline {
    /// Converts keys.
    pub key: NamedConverter,
    /// Converts values.
    pub value: NamedConverter,
    /// The connector's transforms.
    pub transforms: Arc<TransformChain>,
    /// Handles records that fail.
    pub dead_letters: DeadLetters,
    /// The task's metrics.
    pub metrics: TaskMetrics,
}

impl Pipeline {
    /// The pipeline a (validated) connector config declares, for task `task` of `connector`.
    pub fn from_props(
        props: &BTreeMap<String, String>,
        (connector, task): (&str, u32),
        log: Arc<dyn LogClient>,
        metrics: TaskMetrics,
    ) -> Result<Self, TaskError> {
        let definite = |e: FieldError| TaskError::Definite(e.message);
        let transforms = TransformChain::from_config(props)
            .map_err(|errors| TaskError::Definite(invalid_config_message(&errors)))?;
        let dead_letters = DeadLetters::new(ErrorPolicy::from_props(props), connector, task, log, metrics.clone());
        Ok(Pipeline {
            key: named_converter(props, "key").map_err(definite)?,
            value: named_converter(props, "value").map_err(definite)?,
            transforms: Arc::new(transforms),
            dead_letters,
            metrics,
        })
    }
}

/// The converter for `role` (`key` or `value`) from a connector's `<role>.converter` and `<role>.converter.*`
/// settings (JSON when none is named); an error names the setting.
pub fn named_converter(props: &BTreeMap<String, String>, role: &str) -> Result<NamedConverter, FieldError> {
    let key = format!("{role}.converter");
    let class = props.get(&key).map_or("json", String::as_str);
    let prefix = format!("{key}.");
    let mut settings: BTreeMap<String, String> =
        props.iter().filter_map(|(k, v)| k.strip_prefix(&prefix).map(|s| (s.to_owned(), v.clone()))).collect();
    settings.insert("converter.type".into(), role.to_owned());
    let converter = create_converter(class, &settings).map_err(|e| FieldError { name: key, message: e.to_string() })?;
    Ok(NamedConverter { converter: Arc::from(converter), class: class.trim().to_owned() })
}
