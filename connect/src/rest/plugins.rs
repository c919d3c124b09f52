//! `/connector-plugins`: what connectors this worker can run, their settings, and validation of a config.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::answer::{RestError, RestResult};
use super::AppState;
use crate::config::config_infos;
use crate::worker::Plugin;

fn plugin<'a>(app: &'a AppState, name: &str) -> Result<&'a Plugin, RestError> {
    app.worker.plugins().find(name).ok_or_else(|| {
        RestError::new(
            StatusCode::NOT_FOUND,
            format!("Failed to find any class that implements Connector and which name matches {name}"),
        )
    })
}

/// `GET /connector-plugins`.
pub async fn list(State(app): State<AppState>) -> RestResult {
    let plugins: Vec<Value> = app
        .worker
        .plugins()
        .all()
        .iter()
        .map(|p| json!({ "class": p.class, "type": p.type_name(), "version": env!("CARGO_PKG_VERSION") }))
        .collect();
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
