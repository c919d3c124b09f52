//! `/connector-plugins`: what connectors this worker can run, their settings, and validation of a config.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{RestError, RestResult};
use super::AppState;
use crate::config::config_infos;
use crate::converters::{AVRO_CONVERTER, BYTE_ARRAY_CONVERTER, JSON_CONVERTER, STRING_CONVERTER};
use crate::transforms::registry::{PREDICATES, TRANSFORMS};
use crate::worker::Plugin;

fn plugin<'a>(app: &'a AppState, name: &str) -> Result<&'a Plugin, RestError> {
    app.worker.plugins().find(name).ok_or_else(|| {
        RestError::new(
            StatusCode::NOT_FOUND,
            format!("Failed to find any class that implements Connector and which name matches {name}"),
        )
    })
}

/// The query of `GET /connector-plugins`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "connectorsOnly")]
    connectors_only: Option<bool>,
}

/// `GET /connector-plugins`: the connectors, and with `?connectorsOnly=false` (KIP-769) the transforms,
/// predicates and converters too.
pub async fn list(State(app): State<AppState>, query: Result<Query<ListQuery>, QueryRejection>) -> RestResult {
    let Query(query) = query?;
    let version = env!("CARGO_PKG_VERSION");
    let entry = |class: &str, kind: &str| json!({ "class": class, "type": kind, "version": version });
    let mut plugins: Vec<Value> = app.worker.plugins().all().iter().map(|p| entry(p.class, p.type_name())).collect();
    if query.connectors_only == Some(false) {
        plugins.extend(TRANSFORMS.iter().map(|t| entry(t.class, "transformation")));
        plugins.extend(PREDICATES.iter().map(|p| entry(p.class, "predicate")));
        let converters = [AVRO_CONVERTER, JSON_CONVERTER, STRING_CONVERTER, BYTE_ARRAY_CONVERTER];
        plugins.extend(converters.iter().map(|c| entry(c, "converter")));
    }
    Ok(Json(plugins).into_response())
}

/// `GET /connector-plugins/{p}/config`: the plugin's declared settings.
pub async fn config(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    let def = plugin(&app, &name)?.connector().config_def();
    let keys: Vec<Value> = def
        .keys()
        .iter()
        .map(|k| {
            json!({
                "name": k.name,
                "type": k.kind,
                "required": k.default.is_none(),
                "default_value": k.default,
                "importance": k.importance,
                "documentation": k.doc,
            })
        })
        .collect();
    Ok(Json(keys).into_response())
}

/// `PUT /connector-plugins/{p}/config/validate`: every problem with a config, in Kafka Connect's `ConfigInfos`.
pub async fn validate(
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<BTreeMap<String, String>>, axum::extract::rejection::JsonRejection>,
) -> RestResult {
    let Json(mut props) = body.map_err(|e| RestError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let plugin = plugin(&app, &name)?;
    props.entry("connector.class".into()).or_insert_with(|| plugin.class.to_owned());
    let errors = app.worker.validate(&props).await;
    Ok(Json(config_infos(plugin.class, &plugin.connector().config_def(), &props, &errors)).into_response())
}
