//! `/connectors` and everything below it.

use std::collections::BTreeMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::answer::{RestError, RestResult};
use super::views;
use super::AppState;
use crate::config::masked;
use crate::state::TargetState;

/// The body of `POST /connectors`.
#[derive(Debug, Deserialize)]
pub struct CreateRequest {
    name: Option<String>,
    config: Option<BTreeMap<String, String>>,
}

/// `GET /connectors` (`?expand=status`, `?expand=info`, repeatable).
pub async fn list(State(app): State<AppState>, RawQuery(query): RawQuery) -> RestResult {
    let expand: Vec<String> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("expand="))
        .map(str::to_owned)
        .collect();
    let names: Vec<String> = app.worker.state().configs().connectors().keys().cloned().collect();
    if expand.is_empty() {
        return Ok(Json(names).into_response());
    }
    let mut all = Map::new();
    for name in names {
        let mut entry = Map::new();
        if expand.iter().any(|e| e == "status") {
            entry.insert("status".into(), views::status(&app.worker, &name)?);
        }
        if expand.iter().any(|e| e == "info") {
            entry.insert("info".into(), views::info(&app.worker, &name)?);
        }
        all.insert(name, Value::Object(entry));
    }
    Ok(Json(Value::Object(all)).into_response())
}

/// `POST /connectors`.
pub async fn create(
    State(app): State<AppState>,
    body: Result<Json<CreateRequest>, axum::extract::rejection::JsonRejection>,
) -> RestResult {
    let Json(request) = body.map_err(|e| RestError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let name = request
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| RestError::new(StatusCode::BAD_REQUEST, "Connector name is required"))?;
    let config =
        request.config.ok_or_else(|| RestError::new(StatusCode::BAD_REQUEST, "Connector config is required"))?;
    if config.get("name").is_some_and(|n| *n != name) {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "Connector name configuration (name) doesn't match connector name in the request",
        ));
    }
    app.worker.put_connector(&name, config, true).await?;
    Ok((StatusCode::CREATED, Json(views::info(&app.worker, &name)?)).into_response())
}

/// `GET /connectors/{c}`.
pub async fn get(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    Ok(Json(views::info(&app.worker, &name)?).into_response())
}

/// `GET /connectors/{c}/config`.
pub async fn get_config(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    let configs = app.worker.state().configs();
    let connector = configs
        .connector(&name)
        .ok_or_else(|| RestError::new(StatusCode::NOT_FOUND, format!("Connector {name} not found")))?;
    Ok(Json(views::shown_config(&app.worker, &connector.properties)).into_response())
}

/// `PUT /connectors/{c}/config`: creates or replaces.
pub async fn put_config(
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<BTreeMap<String, String>>, axum::extract::rejection::JsonRejection>,
) -> RestResult {
    let Json(config) = body.map_err(|e| RestError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let existed = app.worker.state().configs().connector(&name).is_some();
    app.worker.put_connector(&name, config, false).await?;
    let status = if existed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(views::info(&app.worker, &name)?)).into_response())
}

/// `PATCH /connectors/{c}/config`: merges (a null value removes the setting).
pub async fn patch_config(
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<BTreeMap<String, Option<String>>>, axum::extract::rejection::JsonRejection>,
) -> RestResult {
    let Json(patch) = body.map_err(|e| RestError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let mut config = {
        let configs = app.worker.state().configs();
        configs
            .connector(&name)
            .map(|c| c.properties.clone())
            .ok_or_else(|| RestError::new(StatusCode::NOT_FOUND, format!("Connector {name} not found")))?
    };
    for (key, value) in patch {
        match value {
            Some(v) => config.insert(key, v),
            None => config.remove(&key),
        };
    }
    app.worker.put_connector(&name, config, false).await?;
    Ok(Json(views::info(&app.worker, &name)?).into_response())
}

/// `GET /connectors/{c}/status`.
pub async fn status(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    Ok(Json(views::status(&app.worker, &name)?).into_response())
}

/// `GET /connectors/{c}/tasks`.
pub async fn tasks(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    let configs = app.worker.state().configs();
    let connector = configs
        .connector(&name)
        .ok_or_else(|| RestError::new(StatusCode::NOT_FOUND, format!("Connector {name} not found")))?;
    let def = views::definition(&app.worker, &connector.properties);
    let tasks: Vec<Value> = connector
        .tasks
        .iter()
        .enumerate()
        .map(|(task, config)| json!({ "id": { "connector": name, "task": task }, "config": masked(&def, config) }))
        .collect();
    Ok(Json(tasks).into_response())
}

/// `GET /connectors/{c}/tasks/{t}/status`.
pub async fn task_status(
    State(app): State<AppState>,
    path: Result<Path<(String, usize)>, PathRejection>,
) -> RestResult {
    let Path((name, task)) = path?;
    let view = views::task_status(&app.worker, &name, task)?
        .ok_or_else(|| RestError::new(StatusCode::NOT_FOUND, format!("Unknown task {name}-{task}")))?;
    Ok(Json(view).into_response())
}

/// `POST /connectors/{c}/restart?includeTasks=&onlyFailed=`: 204 when only the connector restarts, else 202 with
/// the connector's status (the restarted tasks show RUNNING again once they are).
pub async fn restart(State(app): State<AppState>, Path(name): Path<String>, RawQuery(query): RawQuery) -> RestResult {
    let query = query.unwrap_or_default();
    let flag = |key: &str| query.split('&').any(|pair| pair.eq_ignore_ascii_case(&format!("{key}=true")));
    let (include_tasks, only_failed) = (flag("includeTasks"), flag("onlyFailed"));
    app.worker.restart(&name, include_tasks, only_failed).await?;
    if !include_tasks {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok((StatusCode::ACCEPTED, Json(views::status(&app.worker, &name)?)).into_response())
}

/// `POST /connectors/{c}/tasks/{t}/restart`: the task restarts from its stored positions.
pub async fn restart_task(State(app): State<AppState>, path: Result<Path<(String, u32)>, PathRejection>) -> RestResult {
    let Path((name, task)) = path?;
    app.worker.restart_task(&name, task).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn target(app: AppState, name: &str, state: TargetState) -> RestResult {
    app.worker.set_target(name, state).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `PUT /connectors/{c}/pause`.
pub async fn pause(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    target(app, &name, TargetState::Paused).await
}

/// `PUT /connectors/{c}/resume`.
pub async fn resume(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    target(app, &name, TargetState::Started).await
}

/// `PUT /connectors/{c}/stop`.
pub async fn stop(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    target(app, &name, TargetState::Stopped).await
}

/// `DELETE /connectors/{c}`.
pub async fn delete(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    app.worker.delete(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{c}/topics` (KIP-558): the topics the connector has written to.
pub async fn topics(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    if app.worker.state().configs().connector(&name).is_none() {
        return Err(RestError::new(StatusCode::NOT_FOUND, format!("Connector {name} not found")));
    }
    let topics = app.worker.state().statuses().topics(&name);
    Ok(Json(json!({ name: { "topics": topics } })).into_response())
}

/// `PUT /connectors/{c}/topics/reset`: forgets the topics the connector has used.
pub async fn reset_topics(State(app): State<AppState>, Path(name): Path<String>) -> RestResult {
    if app.worker.state().configs().connector(&name).is_none() {
        return Err(RestError::new(StatusCode::NOT_FOUND, format!("Connector {name} not found")));
    }
    app.worker.state().reset_topic_usage(&name).await.map_err(crate::worker::WorkerError::from)?;
    Ok(StatusCode::OK.into_response())
}
