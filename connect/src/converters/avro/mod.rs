//! [`AvroConverter`]: Confluent's `io.confluent.connect.avro.AvroConverter`. Connect data becomes Avro in the
//! Confluent wire format (magic byte 0, the schema id as 4 big-endian bytes, Avro binary), its schema registered in
//! a Confluent-compatible schema registry; such bytes become Connect data again, whoever wrote them.
//!
//! # The parts
//!
//! - [`from_connect`] and [`to_connect`]: the schema mapping, exactly as Confluent's `AvroData` does it (so Kafka
//!   Connect sinks and consumers of Confluent's converter read the same schemas), over the converter's own Avro
//!   schema model ([`schema`], parsed by [`parse`]), which keeps the `connect.*` properties the mapping lives in;
//! - [`encode`] and [`decode`]: Avro binary straight from and into Connect values ([`binary`] for the primitives);
//! - [`registry_client`]: registering and fetching schemas over the registry's HTTP API;
//! - [`cache`]: what keeps registry I/O and schema conversion off the per-record path.
//!
//! # Why not `apache-avro` for the bytes
//!
//! Its schema model drops the properties of primitive types (`{"type": "int", "connect.type": "int16"}` reads as a
//! bare `int`), which `AvroData`'s mapping depends on, and its `Value` tree allocates a `String` for every field
//! name of every record. The datagen → Avro → broker path is benchmarked, so values are encoded straight from
//! Connect's values following the schema; the tests check the bytes both ways against `apache-avro`.
//!
//! # Registry I/O off the hot path
//!
//! [`Converter::to_bytes`] and [`Converter::to_connect`] only read caches. The runtime awaits
//! [`Converter::prepare_write`] (register the record's schema under its subject, unless already done) and
//! [`Converter::prepare_read`] (fetch the writer schema of the id in the bytes, unless already done) before
//! converting; in the steady state both answer at once without allocating. Converting a schema or id that was
//! not prepared is a [`ConvertError::NotPrepared`]. A registry that cannot be reached is a transient error
//! ([`ConvertError::is_transient`]); a refused registration (an incompatible schema, 409) is definite and keeps
//! the registry's message.
//!
//! Reading follows Confluent's converter in giving the top-level Connect schema the version the registry holds
//! the schema at under the record's subject, when the schema has no `connect.version` (one lookup per id and
//! topic); a schema the subject does not hold is read without a version rather than refused.
//!
//! Not supported: values without a schema (Confluent writes them with its `Anything` schema), schemas with
//! references, `use.latest.version`, `generalized.sum.type.support` and `discard.type.doc.default` (refused at
//! configuration), and https registry URLs (this build has no TLS).

mod binary;
mod cache;
mod config;
mod decode;
mod defaults;
mod encode;
mod error;
mod from_connect;
mod json;
mod names;
mod parse;
mod registry_client;
mod schema;
mod to_connect;

pub use config::{AvroConverterConfig, AvroDataConfig, SubjectNameStrategy};
pub use error::AvroError;
pub use registry_client::SchemaRegistryError;

use ::bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;

use self::binary::Reader as BinaryReader;
use self::cache::{ReadCache, Reader, WriteCache, Writer};
use self::encode::EncodeOptions;
use self::registry_client::RegistryClient;
use super::{prepared, ConfigError, ConvertError, Converter};
use crate::data::{Path, Reason, SchemaRef, Value};

/// Confluent's Avro converter over a schema registry.
#[derive(Debug)]
pub struct AvroConverter {
    config: AvroConverterConfig,
    registry: RegistryClient,
    writers: WriteCache,
    readers: ReadCache,
}

impl AvroConverter {
    /// A converter with these settings (no request is made until the first record).
    pub fn new(config: AvroConverterConfig) -> Result<Self, ConfigError> {
        let registry =
            RegistryClient::new(config.urls.clone(), config.credentials.clone(), config.truststore.as_deref())
                .map_err(|e| ConfigError::Unusable {
                    key: format!("{}.schema.registry.ssl.truststore.location", config.converter_type.config_key()),
                    why: e.to_string(),
                })?;
        let capacity = config.data.schemas_cache_size;
        Ok(AvroConverter { registry, writers: WriteCache::new(capacity), readers: ReadCache::new(capacity), config })
    }

    /// The settings.
    pub fn config(&self) -> &AvroConverterConfig {
        &self.config
    }

    /// The Avro schema JSON of a Connect schema (`AvroData.fromConnectSchema`), as it is registered.
    pub fn avro_schema(&self, schema: &SchemaRef) -> Result<String, ConvertError> {
        let avro = from_connect::from_connect(schema, &self.config.data)?;
        Ok(avro.to_json()?)
    }

    /// The Connect schema of Avro schema JSON (`AvroData.toConnectSchema`); `version` is the registry's version
    /// of it, used when the schema has no `connect.version`.
    pub fn connect_schema(&self, avro_json: &str, version: Option<i32>) -> Result<SchemaRef, ConvertError> {
        let avro = parse::parse(avro_json)?;
        Ok(to_connect::to_connect(&avro, version, &self.config.data)?)
    }

    fn encode_options(&self) -> EncodeOptions {
        EncodeOptions { ignore_default_for_nullables: self.config.data.ignore_default_for_nullables }
    }

    /// Converts `schema` and registers it for `topic` (the slow path of [`Converter::prepare_write`]).
    async fn register(&self, topic: &str, schema: &SchemaRef) -> Result<(), ConvertError> {
        let writer = match self.writers.get(schema) {
            Some(writer) => writer,
            None => {
                let avro = from_connect::from_connect(schema, &self.config.data)?;
                let json = avro.to_json()?;
                self.writers.insert(schema, Writer::new(avro, json))
            }
        };
        if writer.id(topic).is_some() {
            return Ok(());
        }
        let subject = self.subject(topic, &writer.avro);
        let id = match self.config.auto_register_schemas {
            true => self.registry.register(&subject, &writer.json).await?,
            false => match self.registry.lookup(&subject, &writer.json).await? {
                Some(registered) => registered.id,
                None => {
                    return Err(ConvertError::Registry(SchemaRegistryError::Refused {
                        status: 404,
                        code: 40403,
                        message: format!(
                            "the schema is not registered under subject {subject:?} and auto.register.schemas is false"
                        ),
                    }))
                }
            },
        };
        tracing::debug!(topic, subject, id, "Avro schema registered");
        writer.set_id(topic, id);
        Ok(())
    }

    /// Fetches writer schema `id` and makes its Connect form for `topic` (the slow path of
    /// [`Converter::prepare_read`]).
    async fn fetch(&self, topic: &str, id: i32) -> Result<(), ConvertError> {
        let fetched = match self.readers.fetched(id) {
            Some(fetched) => fetched,
            None => {
                let answer = self.registry.schema_by_id(id).await?;
                if let Some(kind) = answer.schema_type.as_deref().filter(|t| !t.eq_ignore_ascii_case("AVRO")) {
                    return Err(AvroError::InvalidSchema(format!("schema {id} is a {kind} schema, not Avro")).into());
                }
                if !answer.references.is_empty() {
                    return Err(AvroError::InvalidSchema(format!(
                        "schema {id} has references, which this converter does not resolve"
                    ))
                    .into());
                }
                let avro = parse::parse(&answer.schema)?;
                self.readers.insert_fetched(id, answer.schema, avro)
            }
        };
        let (text, avro) = (&fetched.0, &fetched.1);
        let version = match avro.prop("connect.version") {
            Some(_) => None,
            None => {
                let subject = self.subject(topic, avro);
                self.registry.lookup(&subject, text).await?.map(|registered| registered.version)
            }
        };
        let connect = to_connect::to_connect(avro, version, &self.config.data)?;
        self.readers.insert_reader(id, topic, Reader { avro: avro.clone(), connect });
        Ok(())
    }

    fn subject(&self, topic: &str, avro: &schema::AvroSchema) -> String {
        self.config.subject_name_strategy.subject(topic, self.config.is_key(), &avro.strategy_name())
    }

    /// Appends the wire format bytes of `value` to `out`; `false` (nothing appended) for a tombstone. On an error
    /// `out` is left as it was.
    fn write(
        &self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
        out: &mut BytesMut,
    ) -> Result<bool, ConvertError> {
        let Some(schema) = schema else {
            return match value {
                Value::Null => Ok(false),
                _ => Err(ConvertError::Unsupported {
                    converter: "AvroConverter",
                    what: "a value without a schema".into(),
                }),
            };
        };
        if value.is_null() {
            return match schema.is_optional() {
                true => Ok(false),
                false => Err(Path::Root.error(Reason::NullForRequired(schema.schema_type())).into()),
            };
        }
        let not_prepared = || {
            ConvertError::NotPrepared(format!(
                "AvroConverter: the schema {schema} has not been registered for topic {topic:?} (prepare_write must \
                 run before to_bytes)"
            ))
        };
        let writer = self.writers.by_address(schema).or_else(|| self.writers.get(schema)).ok_or_else(not_prepared)?;
        let id = writer.id(topic).ok_or_else(not_prepared)?;
        let start = out.len();
        out.reserve(writer.size_hint());
        binary::header(out, id);
        let avro = (&writer.avro, &writer.shared_blocks);
        if let Err(e) = encode::value(out, avro, schema, value, self.encode_options(), &Path::Root) {
            out.truncate(start);
            return Err(e.into());
        }
        writer.record_size(out.len() - start);
        Ok(true)
    }
}

impl Converter for AvroConverter {
    fn to_bytes(&self, topic: &str, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>, ConvertError> {
        let mut out = BytesMut::new();
        Ok(self.write(topic, schema, value, &mut out)?.then(|| out.freeze()))
    }

    fn to_bytes_in(
        &self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
        arena: &mut BytesMut,
    ) -> Result<Option<Bytes>, ConvertError> {
        Ok(self.write(topic, schema, value, arena)?.then(|| arena.split().freeze()))
    }

    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value), ConvertError> {
        let Some(bytes) = bytes else {
            return Ok((None, Value::Null));
        };
        let (id, data) = binary::split_header(bytes)?;
        let reader = self.readers.reader(id, topic).ok_or_else(|| {
            ConvertError::NotPrepared(format!(
                "AvroConverter: schema {id} has not been fetched for topic {topic:?} (prepare_read must run before \
                 to_connect)"
            ))
        })?;
        let value = decode::value(&mut BinaryReader::new(data), &reader.avro, &reader.connect)?;
        Ok((Some(reader.connect.clone()), value))
    }

    fn prepare_write<'a>(
        &'a self,
        topic: &'a str,
        schema: Option<&'a SchemaRef>,
    ) -> BoxFuture<'a, Result<(), ConvertError>> {
        match schema {
            None => prepared(),
            Some(schema) if self.writers.by_address(schema).is_some_and(|w| w.id(topic).is_some()) => prepared(),
            Some(schema) => Box::pin(self.register(topic, schema)),
        }
    }

    fn prepare_read<'a>(&'a self, topic: &'a str, bytes: Option<&'a [u8]>) -> BoxFuture<'a, Result<(), ConvertError>> {
        match bytes.map(binary::split_header) {
            Some(Ok((id, _))) if self.readers.reader(id, topic).is_none() => Box::pin(self.fetch(topic, id)),
            _ => prepared(),
        }
    }
}

#[cfg(test)]
mod tests;
