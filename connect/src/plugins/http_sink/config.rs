//! The HTTP sink's settings.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;

use crate::config::{invalid_config_message, ConfigDef, ConfigKey, ConfigType};

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `NONE`.
    None,
    /// `BASIC`: `connection.user` and `connection.password`.
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// `BEARER`: `Authorization: Bearer <bearer.token>`.
    Bearer(String),
}

/// What to do with a record whose value is null (a tombstone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullValues {
    /// `ignore`: skip it.
    Ignore,
    /// `fail`: reject it.
    Fail,
}

/// The typed settings.
#[derive(Debug, Clone)]
pub struct HttpSinkConfig {
    /// `http.api.url`.
    pub url: reqwest::Url,
    /// `request.method`.
    pub method: Method,
    /// `headers`, split at `header.separator`.
    pub headers: HeaderMap,
    /// `auth.type` with its credentials.
    pub auth: Auth,
    /// `batch.max.size`: values per request (above 1, a JSON array).
    pub batch_size: usize,
    /// `batch.json.as.array`: a JSON array even for one record.
    pub array_always: bool,
    /// `behavior.on.null.values`.
    pub null_values: NullValues,
    /// `max.retries`: attempts after the first at least.
    pub max_retries: u32,
    /// `retry.backoff.ms`: the first wait before a retry.
    pub retry_backoff: Duration,
    /// `errors.retry.delay.max.ms`: the longest wait.
    pub retry_delay_max: Duration,
    /// `errors.retry.timeout`: keep retrying for at least this long (`None`: until it works).
    pub retry_timeout: Option<Duration>,
    /// `http.connect.timeout.ms`.
    pub connect_timeout: Duration,
    /// `http.request.timeout.ms`.
    pub request_timeout: Duration,
    /// `https.ssl.truststore.location`: CA certificates (PEM) trusted for an https URL besides the system's.
    pub truststore: Option<std::path::PathBuf>,
}

fn whole(v: &str) -> Result<(), String> {
    match v.trim().parse::<i64>() {
        Ok(n) if n >= 0 => Ok(()),
        _ => Err("must be 0 or more".into()),
    }
}

/// The declared settings.
pub fn config_def() -> ConfigDef {
    ConfigDef::new([
        ConfigKey::required("http.api.url", ConfigType::String, "The URL requests are sent to.")
            .checked(|v| reqwest::Url::parse(v.trim()).map(drop).map_err(|e| format!("not a URL: {e}"))),
        ConfigKey::optional("request.method", ConfigType::String, "POST", "POST, PUT or PATCH.")
            .one_of(&["POST", "PUT", "PATCH"]),
        ConfigKey::optional(
            "headers",
            ConfigType::String,
            "",
            "Headers sent with every request: Name:Value pairs separated by header.separator.",
        )
        .checked(|v| parse_headers(v, "|").map(drop)),
        ConfigKey::optional("header.separator", ConfigType::String, "|", "What separates the pairs of headers."),
        ConfigKey::optional("auth.type", ConfigType::String, "NONE", "NONE, BASIC or BEARER.")
            .one_of(&["NONE", "BASIC", "BEARER"]),
        ConfigKey::optional("connection.user", ConfigType::String, "", "The user of BASIC authentication."),
        ConfigKey::optional("connection.password", ConfigType::Password, "", "The password of BASIC authentication."),
        ConfigKey::optional("bearer.token", ConfigType::Password, "", "The token of BEARER authentication."),
        ConfigKey::optional(
            "batch.max.size",
            ConfigType::Int,
            "1",
            "Records per request; above 1 the body is a JSON array of their values.",
        )
        .checked(|v| match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Ok(()),
            _ => Err("must be at least 1".into()),
        }),
        ConfigKey::optional("batch.json.as.array", ConfigType::Boolean, "false", "Send a JSON array even for one."),
        ConfigKey::optional(
            "behavior.on.null.values",
            ConfigType::String,
            "ignore",
            "ignore: skip records with a null value; fail: reject them.",
        )
        .one_of(&["ignore", "fail"]),
        ConfigKey::optional("max.retries", ConfigType::Int, "10", "Retries of a request at least.").checked(whole),
        ConfigKey::optional("retry.backoff.ms", ConfigType::Long, "300", "The first wait before a retry.")
            .checked(whole),
        ConfigKey::optional("http.connect.timeout.ms", ConfigType::Long, "30000", "Connecting may take this long.")
            .checked(whole),
        ConfigKey::optional("http.request.timeout.ms", ConfigType::Long, "30000", "A request may take this long.")
            .checked(whole),
        ConfigKey::optional(
            "https.ssl.truststore.location",
            ConfigType::String,
            "",
            "A PEM file of CA certificates trusted for an https URL, besides the system's.",
        )
        .checked(|v| match v.trim() {
            "" => Ok(()),
            path => crate::http_client::builder(Some(std::path::Path::new(path))).map(drop).map_err(|e| e.to_string()),
        }),
        ConfigKey::optional(
            "https.ssl.truststore.type",
            ConfigType::String,
            "PEM",
            "The truststore's format: only PEM is read (JKS and PKCS12 are not).",
        )
        .one_of(&["PEM"]),
    ])
}

impl HttpSinkConfig {
    /// The typed settings of `props`, or why they are invalid. `errors.retry.timeout` and
    /// `errors.retry.delay.max.ms` are the runtime's settings, read here too.
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, String> {
        let def = config_def();
        let errors = def.validate(props);
        if !errors.is_empty() {
            return Err(invalid_config_message(&errors));
        }
        let text = |name: &str| def.value(props, name).unwrap_or_default().trim().to_owned();
        let millis = |name: &str| Duration::from_millis(text(name).parse().unwrap_or(0));
        let runtime_millis =
            |name: &str, default: i64| props.get(name).and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(default);
        let auth = match text("auth.type").to_ascii_uppercase().as_str() {
            "BASIC" => Auth::Basic {
                user: text("connection.user"),
                password: def.value(props, "connection.password").unwrap_or_default().to_owned(),
            },
            "BEARER" => Auth::Bearer(text("bearer.token")),
            _ => Auth::None,
        };
        let retry_timeout = runtime_millis("errors.retry.timeout", 0);
        Ok(HttpSinkConfig {
            url: reqwest::Url::parse(&text("http.api.url")).map_err(|e| format!("http.api.url: {e}"))?,
            method: Method::from_bytes(text("request.method").to_ascii_uppercase().as_bytes())
                .map_err(|e| format!("request.method: {e}"))?,
            headers: parse_headers(&text("headers"), def.value(props, "header.separator").unwrap_or("|"))?,
            auth,
            batch_size: text("batch.max.size").parse().unwrap_or(1),
            array_always: text("batch.json.as.array").eq_ignore_ascii_case("true"),
            null_values: if text("behavior.on.null.values").eq_ignore_ascii_case("fail") {
                NullValues::Fail
            } else {
                NullValues::Ignore
            },
            max_retries: text("max.retries").parse().unwrap_or(10),
            retry_backoff: millis("retry.backoff.ms"),
            retry_delay_max: Duration::from_millis(runtime_millis("errors.retry.delay.max.ms", 60_000).max(0) as u64),
            retry_timeout: (retry_timeout >= 0).then(|| Duration::from_millis(retry_timeout as u64)),
            connect_timeout: millis("http.connect.timeout.ms"),
            request_timeout: millis("http.request.timeout.ms"),
            truststore: Some(text("https.ssl.truststore.location"))
                .filter(|path| !path.is_empty())
                .map(std::path::PathBuf::from),
        })
    }
}

/// `Name:Value` pairs separated by `separator`.
fn parse_headers(value: &str, separator: &str) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    if separator.is_empty() {
        return Err("header.separator must not be empty".into());
    }
    for pair in value.split(separator).map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once(':').ok_or_else(|| format!("header '{pair}' is not Name:Value"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|e| format!("header name '{name}': {e}"))?;
        let value = HeaderValue::from_str(value.trim()).map_err(|e| format!("header value of {name}: {e}"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn settings_and_defaults() {
        let config = HttpSinkConfig::from_props(&props(&[
            ("http.api.url", "http://127.0.0.1:9/hook"),
            ("headers", "X-Team: cdc | Content-Language:en"),
            ("auth.type", "basic"),
            ("connection.user", "u"),
            ("connection.password", "p w"),
            ("errors.retry.timeout", "-1"),
        ]))
        .expect("valid");
        assert_eq!(config.method, Method::POST);
        assert_eq!(config.headers.get("x-team").and_then(|v| v.to_str().ok()), Some("cdc"));
        assert_eq!(config.auth, Auth::Basic { user: "u".into(), password: "p w".into() });
        assert_eq!((config.batch_size, config.max_retries, config.retry_timeout), (1, 10, None));
        assert_eq!(config.null_values, NullValues::Ignore);
    }

    #[test]
    fn bad_settings_are_named() {
        let error = HttpSinkConfig::from_props(&props(&[("http.api.url", "not a url")])).expect_err("url");
        assert!(error.contains("http.api.url"), "{error}");
        let error = HttpSinkConfig::from_props(&props(&[("http.api.url", "http://h/"), ("headers", "NoColon")]))
            .expect_err("headers");
        assert!(error.contains("headers"), "{error}");
    }
}
