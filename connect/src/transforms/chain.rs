//! [`TransformChain`]: the transforms a connector config declares, in order, each with its optional predicate;
//! and [`validate()`], every problem with those settings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use crate::config::{ConfigDef, FieldError};
use crate::record::ConnectRecord;

use super::error::TransformError;
use super::registry::{self, Plugin};
use super::settings::Settings;
use super::{Predicate, Transform};

/// One stage of a chain: a transform, applied when its predicate (negated if asked) holds or when it has none.
struct Stage {
    alias: String,
    transform: Box<dyn Transform>,
    predicate: Option<(Arc<dyn Predicate>, bool)>,
}

/// The chain a connector config declares: `transforms=a,b`, `transforms.a.type=<class>`,
/// `transforms.a.<setting>=...`, `transforms.a.predicate=p`, `transforms.a.negate=true`, `predicates=p`,
/// `predicates.p.type=<class>`, `predicates.p.<setting>=...`. Keys outside these are ignored, so a whole
/// connector config can be given.
#[derive(Default)]
pub struct TransformChain {
    stages: Vec<Stage>,
}

impl TransformChain {
    /// The chain declared in `props`, or every bad setting, each named (`transforms.unwrap.type`: an unknown
    /// class; `transforms.route.regex`: missing or not a valid expression; ...).
    pub fn from_config(props: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let (chain, errors) = parse(props);
        if errors.is_empty() {
            Ok(chain)
        } else {
            Err(errors)
        }
    }

    /// Runs `record` through the chain. `Ok(None)`: a transform dropped it. An error names the failing
    /// transform's alias and is a failure of this record (`errors.tolerance` decides what follows).
    pub fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        for stage in &self.stages {
            if let Some((predicate, negate)) = &stage.predicate {
                if predicate.test(&record) == *negate {
                    continue;
                }
            }
            match stage.transform.apply(record).map_err(|e| e.in_transform(&stage.alias))? {
                Some(next) => record = next,
                None => return Ok(None),
            }
        }
        Ok(Some(record))
    }

    /// Whether the chain has no transform (records pass unchanged).
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// The aliases of the transforms, in order.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.stages.iter().map(|s| s.alias.as_str())
    }
}

/// The aliases, with the predicate each stage uses.
impl fmt::Debug for TransformChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.stages.iter().map(|s| (&s.alias, s.predicate.as_ref().map(|(_, negate)| negate))))
            .finish()
    }
}

/// Every problem with the `transforms` and `predicates` settings of `props`, each named by its property; empty
/// when [`TransformChain::from_config`] would succeed. For the worker's config validation.
pub fn validate(props: &BTreeMap<String, String>) -> Vec<FieldError> {
    parse(props).1
}

/// The chain and every problem found while building it (the chain is complete only when there are none).
fn parse(props: &BTreeMap<String, String>) -> (TransformChain, Vec<FieldError>) {
    let mut errors = Vec::new();
    let predicate_aliases = aliases(props, "predicates", &mut errors);
    let mut predicates: BTreeMap<&str, Arc<dyn Predicate>> = BTreeMap::new();
    for alias in &predicate_aliases {
        if let Some(predicate) = build("predicates", alias, props, registry::predicate, &mut errors) {
            predicates.insert(alias, predicate);
        }
    }
    let mut chain = TransformChain::default();
    for alias in aliases(props, "transforms", &mut errors) {
        let transform = build("transforms", &alias, props, registry::transform, &mut errors);
        let predicate = stage_predicate(&alias, props, &predicate_aliases, &predicates, &mut errors);
        if let (Some(transform), Some(predicate)) = (transform, predicate) {
            chain.stages.push(Stage { alias, transform, predicate });
        }
    }
    (chain, errors)
}

/// The aliases listed in `props[key]`, in order; a repeated one is an error.
fn aliases(props: &BTreeMap<String, String>, key: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let listed: Vec<String> = props
        .get(key)
        .map(|v| v.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut unique = Vec::with_capacity(listed.len());
    for alias in listed {
        if seen.insert(alias.clone()) {
            unique.push(alias);
        } else if !errors.iter().any(|e| e.name == key) {
            let given = props.get(key).map(String::as_str).unwrap_or_default();
            errors.push(FieldError {
                name: key.to_owned(),
                message: format!("Invalid value {given} for configuration {key}: Duplicate alias provided."),
            });
        }
    }
    unique
}

/// The plugin `<kind>.<alias>.type` names, built from its settings; `None` (with the errors recorded) if it
/// cannot be.
fn build<T>(
    kind: &str,
    alias: &str,
    props: &BTreeMap<String, String>,
    lookup: fn(&str) -> Option<&'static Plugin<T>>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let prefix = format!("{kind}.{alias}.");
    let type_key = format!("{prefix}type");
    let Some(class) = props.get(&type_key).map(|c| c.trim()).filter(|c| !c.is_empty()) else {
        let message = format!("Missing required configuration \"{type_key}\" which has no default value.");
        errors.push(FieldError { name: type_key, message });
        return None;
    };
    let Some(plugin) = lookup(class) else {
        let what = if kind == "transforms" { "transformation" } else { "predicate" };
        errors.push(FieldError {
            message: format!("Invalid value {class} for configuration {type_key}: Class {class} could not be found (not a {what} Tidemark knows)."),
            name: type_key,
        });
        return None;
    };
    let settings = Settings::new(prefix, props, (plugin.config_def)());
    (plugin.build)(&settings).map_err(|refused| errors.extend(refused)).ok()
}

/// The predicate of transform `alias` (`Some(None)` when it has none); `None` (with the errors recorded) when
/// `transforms.<alias>.predicate` or `.negate` is wrong.
fn stage_predicate(
    alias: &str,
    props: &BTreeMap<String, String>,
    declared: &[String],
    built: &BTreeMap<&str, Arc<dyn Predicate>>,
    errors: &mut Vec<FieldError>,
) -> Option<Option<(Arc<dyn Predicate>, bool)>> {
    let settings = Settings::new(format!("transforms.{alias}."), props, ConfigDef::default());
    let before = errors.len();
    let negate = match settings.given("negate").map(str::trim) {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            errors.push(settings.invalid("negate", "must be true or false"));
            false
        }
    };
    let name = settings.text("predicate");
    if let Some(name) = name.as_ref().filter(|name| !declared.contains(name)) {
        errors.push(settings.invalid("predicate", format!("the predicate '{name}' is not listed in 'predicates'")));
    }
    if errors.len() > before {
        return None;
    }
    Some(name.and_then(|name| built.get(name.as_str()).map(|p| (p.clone(), negate))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Value;
    use crate::record::Header;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn record(topic: &str, value: Value) -> ConnectRecord {
        ConnectRecord::new(topic, (None, Value::Null), (None, value))
    }

    #[test]
    fn applies_stages_in_order_with_predicates() {
        let chain = TransformChain::from_config(&props(&[
            ("connector.class", "io.debezium.connector.postgresql.PostgresConnector"),
            ("transforms", "dropTombstones, route ,stamp"),
            ("transforms.dropTombstones.type", "org.apache.kafka.connect.transforms.Filter"),
            ("transforms.dropTombstones.predicate", "isTombstone"),
            ("transforms.route.type", "RegexRouter"),
            ("transforms.route.regex", "db\\.(.*)"),
            ("transforms.route.replacement", "$1"),
            ("transforms.route.predicate", "traced"),
            ("transforms.route.negate", "true"),
            ("transforms.stamp.type", "org.apache.kafka.connect.transforms.TimestampRouter"),
            ("transforms.stamp.topic.format", "${topic}_${timestamp}"),
            ("transforms.stamp.timestamp.format", "yyyy"),
            ("predicates", "isTombstone,traced"),
            ("predicates.isTombstone.type", "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"),
            ("predicates.traced.type", "HasHeaderKey"),
            ("predicates.traced.name", "trace"),
        ]))
        .expect("chain");
        assert_eq!(chain.aliases().collect::<Vec<_>>(), ["dropTombstones", "route", "stamp"]);
        assert_eq!(chain.apply(record("db.orders", Value::Null)), Ok(None), "tombstones are filtered");
        let mut plain = record("db.orders", Value::from("v"));
        plain.timestamp = Some(0);
        assert_eq!(chain.apply(plain.clone()).expect("apply").map(|r| r.topic).as_deref(), Some("orders_1970"));
        plain.headers.push(Header::string("trace", "1"));
        assert_eq!(chain.apply(plain.clone()).expect("apply").map(|r| r.topic).as_deref(), Some("db.orders_1970"));
        plain.timestamp = None;
        let error = chain.apply(plain).expect_err("no timestamp");
        assert_eq!(error.transform.as_deref(), Some("stamp"));
        assert!(TransformChain::from_config(&props(&[("transforms", "")])).expect("empty").is_empty());
    }

    #[test]
    fn names_every_bad_setting() {
        let errors = validate(&props(&[
            ("transforms", "unwrap,route,route2,f,f"),
            ("transforms.unwrap.type", "io.debezium.transforms.UnwrapFromEnvelope"),
            ("transforms.route.type", "RegexRouter"),
            ("transforms.route.regex", "(?<=x)y"),
            ("transforms.route2.type", "RegexRouter"),
            ("transforms.f.type", "Filter"),
            ("transforms.f.predicate", "nope"),
            ("transforms.f.negate", "maybe"),
            ("predicates", "p"),
            ("predicates.p.pattern", "x"),
        ]));
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "predicates.p.type",
                "transforms",
                "transforms.unwrap.type",
                "transforms.route.replacement",
                "transforms.route.regex",
                "transforms.route2.regex",
                "transforms.route2.replacement",
                "transforms.f.negate",
                "transforms.f.predicate",
            ]
        );
        assert!(errors[1].message.contains("Duplicate alias"), "{}", errors[1].message);
        assert!(errors[2].message.contains("could not be found"), "{}", errors[2].message);
        let errors = validate(&props(&[
            ("transforms", "f"),
            ("transforms.f.type", "Filter"),
            ("transforms.f.predicate", "nope"),
        ]));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].name, "transforms.f.predicate");
        assert!(TransformChain::from_config(&props(&[("transforms", "x")])).is_err());
    }
}
