//! One handler per endpoint: extract, call the registry, answer in Confluent's shapes.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::body::{ok, raw_schema, read_json};
use super::AppState;
use crate::error::RegistryError;
use crate::metrics::{CompatibilityRequest, OPENMETRICS_CONTENT_TYPE};
use crate::registry::{RegisterRequest, SubjectVersion, VersionSpec, AVRO};
use crate::state::StoredSchema;

type Answer = Result<Response, RegistryError>;

/// The query flags the endpoints take. Booleans are read as Confluent's Java registry reads them (`true` in any
/// case is true, anything else false), since clients send `True` (Python) as well as `true`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flags {
    #[serde(default, deserialize_with = "lenient_bool")]
    deleted: bool,
    #[serde(default)]
    subject_prefix: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    permanent: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    verbose: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    default_to_global: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    force: bool,
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(text.eq_ignore_ascii_case("true"))
}

/// The body of `PUT /config`.
#[derive(Debug, Deserialize)]
struct ConfigRequest {
    compatibility: String,
}

/// The body of `PUT /mode`.
#[derive(Debug, Deserialize)]
struct ModeRequest {
    mode: String,
}

fn schema_fields(schema: &StoredSchema) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("schema".into(), json!(schema.schema));
    if let Some(schema_type) = schema.schema_type.as_deref().filter(|t| *t != AVRO) {
        fields.insert("schemaType".into(), json!(schema_type));
    }
    if !schema.references.is_empty() {
        fields.insert("references".into(), json!(schema.references));
    }
    fields
}

fn version_body(found: SubjectVersion) -> Value {
    let mut fields = Map::new();
    fields.insert("subject".into(), json!(found.subject));
    fields.insert("version".into(), json!(found.version));
    fields.insert("id".into(), json!(found.id));
    fields.extend(schema_fields(&found.schema));
    Value::Object(fields)
}

/// `GET /`.
pub async fn root() -> Response {
    ok(json!({}))
}

/// `GET /metrics`: the registry's Prometheus metrics.
pub async fn metrics(State(app): State<AppState>) -> Response {
    let text = app.registry.metrics().render();
    ([(axum::http::header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)], text).into_response()
}

/// Unknown paths answer 404 in Confluent's error shape.
pub async fn not_found() -> Response {
    let body = json!({ "error_code": 404, "message": "HTTP 404 Not Found" });
    (axum::http::StatusCode::NOT_FOUND, [(axum::http::header::CONTENT_TYPE, super::CONTENT_TYPE)], body.to_string())
        .into_response()
}

/// `GET /subjects`.
pub async fn list_subjects(State(app): State<AppState>, Query(flags): Query<Flags>) -> Response {
    ok(app.registry.subjects(flags.deleted, flags.subject_prefix.as_deref()))
}

/// `POST /subjects/{subject}`: is this schema registered under the subject?
pub async fn lookup(
    State(app): State<AppState>,
    Path(subject): Path<String>,
    Query(flags): Query<Flags>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let request: RegisterRequest = read_json(&headers, body, app.body_limit).await?;
    Ok(ok(version_body(app.registry.lookup(&subject, &request, flags.deleted)?)))
}

/// `DELETE /subjects/{subject}`.
pub async fn delete_subject(
    State(app): State<AppState>,
    Path(subject): Path<String>,
    Query(flags): Query<Flags>,
) -> Answer {
    Ok(ok(app.registry.delete_subject(&subject, flags.permanent).await?))
}

/// `GET /subjects/{subject}/versions`.
pub async fn list_versions(
    State(app): State<AppState>,
    Path(subject): Path<String>,
    Query(flags): Query<Flags>,
) -> Answer {
    Ok(ok(app.registry.versions(&subject, flags.deleted)?))
}

/// `POST /subjects/{subject}/versions`.
pub async fn register(
    State(app): State<AppState>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let request: RegisterRequest = read_json(&headers, body, app.body_limit).await?;
    let registered = app.registry.register(&subject, request).await;
    if let Err(RegistryError::Incompatible { .. }) = &registered {
        app.registry.metrics().incompatible(CompatibilityRequest::Register);
    }
    let id = registered?;
    Ok(ok(json!({ "id": id })))
}

/// `GET /subjects/{subject}/versions/{version}`.
pub async fn get_version(
    State(app): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    Query(flags): Query<Flags>,
) -> Answer {
    let found = app.registry.version(&subject, VersionSpec::parse(&version)?, flags.deleted)?;
    Ok(ok(version_body(found)))
}

/// `GET /subjects/{subject}/versions/{version}/schema`.
pub async fn get_version_schema(
    State(app): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    Query(flags): Query<Flags>,
) -> Answer {
    let found = app.registry.version(&subject, VersionSpec::parse(&version)?, flags.deleted)?;
    Ok(raw_schema(found.schema.schema))
}

/// `GET /subjects/{subject}/versions/{version}/referencedby`.
pub async fn referenced_by(State(app): State<AppState>, Path((subject, version)): Path<(String, String)>) -> Answer {
    Ok(ok(app.registry.referenced_by(&subject, VersionSpec::parse(&version)?)?))
}

/// `DELETE /subjects/{subject}/versions/{version}`.
pub async fn delete_version(
    State(app): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    Query(flags): Query<Flags>,
) -> Answer {
    Ok(ok(app.registry.delete_version(&subject, VersionSpec::parse(&version)?, flags.permanent).await?))
}

/// `GET /schemas/types`.
pub async fn schema_types() -> Response {
    ok([AVRO])
}

fn parse_id(text: &str) -> Result<i32, RegistryError> {
    text.parse().map_err(|_| RegistryError::SchemaNotFound(format!("Schema {text} not found")))
}

/// `GET /schemas/ids/{id}`.
pub async fn schema_by_id(State(app): State<AppState>, Path(id): Path<String>) -> Answer {
    let schema = app.registry.schema_by_id(parse_id(&id)?)?;
    Ok(ok(Value::Object(schema_fields(&schema))))
}

/// `GET /schemas/ids/{id}/schema`.
pub async fn raw_schema_by_id(State(app): State<AppState>, Path(id): Path<String>) -> Answer {
    Ok(raw_schema(app.registry.schema_by_id(parse_id(&id)?)?.schema))
}

/// `GET /schemas/ids/{id}/subjects`.
pub async fn subjects_by_id(State(app): State<AppState>, Path(id): Path<String>, Query(flags): Query<Flags>) -> Answer {
    let mut subjects: Vec<String> =
        app.registry.id_usages(parse_id(&id)?, flags.deleted)?.into_iter().map(|(s, _)| s).collect();
    subjects.dedup();
    Ok(ok(subjects))
}

/// `GET /schemas/ids/{id}/versions`.
pub async fn versions_by_id(State(app): State<AppState>, Path(id): Path<String>, Query(flags): Query<Flags>) -> Answer {
    let usages = app.registry.id_usages(parse_id(&id)?, flags.deleted)?;
    let body: Vec<Value> =
        usages.into_iter().map(|(subject, version)| json!({ "subject": subject, "version": version })).collect();
    Ok(ok(body))
}

async fn compatibility(
    app: AppState,
    subject: String,
    version: Option<String>,
    flags: Flags,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let request: RegisterRequest = read_json(&headers, body, app.body_limit).await?;
    let version = version.as_deref().map(VersionSpec::parse).transpose()?;
    let report = app.registry.check_compatibility(&subject, version, &request)?;
    if !report.is_compatible {
        app.registry.metrics().incompatible(CompatibilityRequest::Check);
    }
    let mut answer = json!({ "is_compatible": report.is_compatible });
    if flags.verbose {
        answer["messages"] = json!(report.messages);
    }
    Ok(ok(answer))
}

/// `POST /compatibility/subjects/{subject}/versions`.
pub async fn compatible_with_all(
    State(app): State<AppState>,
    Path(subject): Path<String>,
    Query(flags): Query<Flags>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    compatibility(app, subject, None, flags, headers, body).await
}

/// `POST /compatibility/subjects/{subject}/versions/{version}`.
pub async fn compatible_with_version(
    State(app): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    Query(flags): Query<Flags>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    compatibility(app, subject, Some(version), flags, headers, body).await
}

/// `GET /config`.
pub async fn get_global_config(State(app): State<AppState>) -> Answer {
    Ok(ok(json!({ "compatibilityLevel": app.registry.config(None, true)? })))
}

/// `PUT /config`.
pub async fn put_global_config(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Answer {
    let request: ConfigRequest = read_json(&headers, body, app.body_limit).await?;
    Ok(ok(json!({ "compatibility": app.registry.set_config(None, &request.compatibility).await? })))
}

/// `DELETE /config`.
pub async fn delete_global_config(State(app): State<AppState>) -> Answer {
    Ok(ok(json!({ "compatibilityLevel": app.registry.delete_config(None).await? })))
}

/// `GET /config/{subject}`.
pub async fn get_subject_config(
    State(app): State<AppState>,
    Path(subject): Path<String>,
    Query(flags): Query<Flags>,
) -> Answer {
    Ok(ok(json!({ "compatibilityLevel": app.registry.config(Some(&subject), flags.default_to_global)? })))
}

/// `PUT /config/{subject}`.
pub async fn put_subject_config(
    State(app): State<AppState>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let request: ConfigRequest = read_json(&headers, body, app.body_limit).await?;
    Ok(ok(json!({ "compatibility": app.registry.set_config(Some(&subject), &request.compatibility).await? })))
}

/// `DELETE /config/{subject}`.
pub async fn delete_subject_config(State(app): State<AppState>, Path(subject): Path<String>) -> Answer {
    Ok(ok(json!({ "compatibilityLevel": app.registry.delete_config(Some(&subject)).await? })))
}

/// `GET /mode`.
pub async fn get_global_mode(State(app): State<AppState>) -> Answer {
    Ok(ok(json!({ "mode": app.registry.mode(None, true)? })))
}

/// `PUT /mode`.
pub async fn put_global_mode(
    State(app): State<AppState>,
    Query(flags): Query<Flags>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let request: ModeRequest = read_json(&headers, body, app.body_limit).await?;
    Ok(ok(json!({ "mode": app.registry.set_mode(None, &request.mode, flags.force).await? })))
}

/// `GET /mode/{subject}`.
pub async fn get_subject_mode(
    State(app): State<AppState>,
    Path(subject): Path<String>,
    Query(flags): Query<Flags>,
) -> Answer {
    Ok(ok(json!({ "mode": app.registry.mode(Some(&subject), flags.default_to_global)? })))
}

/// `PUT /mode/{subject}`.
pub async fn put_subject_mode(
    State(app): State<AppState>,
    Path(subject): Path<String>,
    Query(flags): Query<Flags>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let request: ModeRequest = read_json(&headers, body, app.body_limit).await?;
    Ok(ok(json!({ "mode": app.registry.set_mode(Some(&subject), &request.mode, flags.force).await? })))
}

/// `DELETE /mode/{subject}`.
pub async fn delete_subject_mode(State(app): State<AppState>, Path(subject): Path<String>) -> Answer {
    Ok(ok(json!({ "mode": app.registry.delete_mode(&subject).await? })))
}
