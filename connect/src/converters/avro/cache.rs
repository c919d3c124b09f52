//! The converter's caches, which keep registry I/O and schema conversion off the per-record path.
//!
//! Writing: a Connect schema's Avro form and its id under each topic, found by the schema's address first (a
//! table's records share one [`SchemaRef`], so the usual lookup is one hash of a pointer) and by content second (a
//! schema rebuilt with the same content, as after a restart or by a transform, finds the entry made for the first
//! and is then remembered by its own address too). Each entry holds its schema, so an address is never reused
//! while cached.
//!
//! Reading: the writer's Avro schema by id, and its Connect form by id and topic (the version the registry gives a
//! schema depends on the subject, which depends on the topic).
//!
//! Each map is bounded by `schemas.cache.config` and starts over when full: no per-hit bookkeeping on the hot path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use super::encode::SharedBlocks;
use super::schema::AvroSchema;
use crate::data::SchemaRef;

/// A Connect schema ready to be written: its Avro form and its ids by topic.
#[derive(Debug)]
pub(crate) struct Writer {
    /// The Avro schema the values are encoded with.
    pub(crate) avro: AvroSchema,
    /// The Avro schema's JSON, as registered.
    pub(crate) json: String,
    ids: RwLock<Vec<(Box<str>, i32)>>,
    /// The size of the last record written, to size the next buffer.
    size_hint: AtomicUsize,
    /// The shared struct value encoded last under this writer's schema.
    pub(crate) shared_blocks: SharedBlocks,
}

impl Writer {
    /// A writer of `avro` (rendered as `json`) with no ids yet.
    pub(crate) fn new(avro: AvroSchema, json: String) -> Self {
        Writer {
            avro,
            json,
            ids: RwLock::new(Vec::new()),
            size_hint: AtomicUsize::new(64),
            shared_blocks: SharedBlocks::default(),
        }
    }

    /// The schema id under `topic`'s subject, once registered.
    pub(crate) fn id(&self, topic: &str) -> Option<i32> {
        read(&self.ids).iter().find(|(t, _)| &**t == topic).map(|(_, id)| *id)
    }

    /// Remembers the id under `topic`'s subject.
    pub(crate) fn set_id(&self, topic: &str, id: i32) {
        let mut ids = self.ids.write().unwrap_or_else(PoisonError::into_inner);
        match ids.iter_mut().find(|(t, _)| &**t == topic) {
            Some(slot) => slot.1 = id,
            None => ids.push((topic.into(), id)),
        }
    }

    /// A buffer capacity for the next record.
    pub(crate) fn size_hint(&self) -> usize {
        self.size_hint.load(Ordering::Relaxed)
    }

    /// Records the size of a record just written.
    pub(crate) fn record_size(&self, size: usize) {
        self.size_hint.store(size, Ordering::Relaxed);
    }
}

/// Writers by schema address and by schema content.
#[derive(Debug)]
pub(crate) struct WriteCache {
    capacity: usize,
    by_address: RwLock<HashMap<usize, (SchemaRef, Arc<Writer>)>>,
    by_value: RwLock<HashMap<SchemaRef, Arc<Writer>>>,
}

impl WriteCache {
    /// A cache of at most `capacity` schemas (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        WriteCache {
            capacity: capacity.max(1),
            by_address: RwLock::new(HashMap::new()),
            by_value: RwLock::new(HashMap::new()),
        }
    }

    /// The writer of this very schema object (the hot path: one pointer hash).
    pub(crate) fn by_address(&self, schema: &SchemaRef) -> Option<Arc<Writer>> {
        read(&self.by_address).get(&address(schema)).map(|(_, writer)| writer.clone())
    }

    /// The writer of this schema by address, else by content (remembering the address for next time).
    pub(crate) fn get(&self, schema: &SchemaRef) -> Option<Arc<Writer>> {
        if let Some(writer) = self.by_address(schema) {
            return Some(writer);
        }
        let writer = read(&self.by_value).get(schema).cloned()?;
        self.remember_address(schema, &writer);
        Some(writer)
    }

    /// Caches `writer` for `schema` (keeping the one already there if another thread was first).
    pub(crate) fn insert(&self, schema: &SchemaRef, writer: Writer) -> Arc<Writer> {
        let writer = {
            let mut by_value = self.by_value.write().unwrap_or_else(PoisonError::into_inner);
            if by_value.len() >= self.capacity {
                by_value.clear();
            }
            by_value.entry(schema.clone()).or_insert_with(|| Arc::new(writer)).clone()
        };
        self.remember_address(schema, &writer);
        writer
    }

    fn remember_address(&self, schema: &SchemaRef, writer: &Arc<Writer>) {
        let mut by_address = self.by_address.write().unwrap_or_else(PoisonError::into_inner);
        if by_address.len() >= self.capacity {
            by_address.clear();
        }
        by_address.insert(address(schema), (schema.clone(), writer.clone()));
    }
}

/// A reader's view of one writer schema: the Avro schema and its Connect form.
#[derive(Debug)]
pub(crate) struct Reader {
    /// The writer's Avro schema.
    pub(crate) avro: AvroSchema,
    /// Its Connect schema.
    pub(crate) connect: SchemaRef,
}

/// The readers of one schema id, by topic.
type ReadersByTopic = Vec<(Box<str>, Arc<Reader>)>;

/// Writer schemas by id, and their Connect forms by id and topic.
#[derive(Debug)]
pub(crate) struct ReadCache {
    capacity: usize,
    fetched: RwLock<HashMap<i32, Arc<(String, AvroSchema)>>>,
    readers: RwLock<HashMap<i32, ReadersByTopic>>,
}

impl ReadCache {
    /// A cache of at most `capacity` ids (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        ReadCache {
            capacity: capacity.max(1),
            fetched: RwLock::new(HashMap::new()),
            readers: RwLock::new(HashMap::new()),
        }
    }

    /// The reader of schema `id` for records of `topic`.
    pub(crate) fn reader(&self, id: i32, topic: &str) -> Option<Arc<Reader>> {
        read(&self.readers).get(&id)?.iter().find(|(t, _)| &**t == topic).map(|(_, r)| r.clone())
    }

    /// Caches the reader of schema `id` for `topic`.
    pub(crate) fn insert_reader(&self, id: i32, topic: &str, reader: Reader) {
        let mut readers = self.readers.write().unwrap_or_else(PoisonError::into_inner);
        if readers.len() >= self.capacity && !readers.contains_key(&id) {
            readers.clear();
        }
        let by_topic = readers.entry(id).or_default();
        by_topic.retain(|(t, _)| &**t != topic);
        by_topic.push((topic.into(), Arc::new(reader)));
    }

    /// The text and parsed form of schema `id`, once fetched.
    pub(crate) fn fetched(&self, id: i32) -> Option<Arc<(String, AvroSchema)>> {
        read(&self.fetched).get(&id).cloned()
    }

    /// Caches the text and parsed form of schema `id`.
    pub(crate) fn insert_fetched(&self, id: i32, text: String, avro: AvroSchema) -> Arc<(String, AvroSchema)> {
        let mut fetched = self.fetched.write().unwrap_or_else(PoisonError::into_inner);
        if fetched.len() >= self.capacity {
            fetched.clear();
        }
        fetched.entry(id).or_insert_with(|| Arc::new((text, avro))).clone()
    }
}

fn address(schema: &SchemaRef) -> usize {
    Arc::as_ptr(schema) as usize
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converters::avro::schema::Kind;
    use crate::data::SchemaBuilder;

    fn writer() -> Writer {
        Writer::new(AvroSchema::of(Kind::Int), "\"int\"".to_owned())
    }

    #[test]
    fn finds_by_address_then_by_value() {
        let cache = WriteCache::new(10);
        let schema = SchemaBuilder::int32().build().expect("schema");
        let twin = SchemaBuilder::int32().build().expect("twin");
        assert!(cache.get(&schema).is_none());
        let inserted = cache.insert(&schema, writer());
        inserted.set_id("orders", 7);
        assert!(cache.by_address(&twin).is_none());
        let found = cache.get(&twin).expect("by value");
        assert!(Arc::ptr_eq(&found, &inserted));
        assert!(cache.by_address(&twin).is_some());
        assert_eq!(found.id("orders"), Some(7));
        assert_eq!(found.id("other"), None);
        found.set_id("orders", 8);
        assert_eq!(inserted.id("orders"), Some(8));
    }

    #[test]
    fn stays_bounded() {
        let cache = WriteCache::new(2);
        let schemas: Vec<SchemaRef> =
            (0..3).map(|i| SchemaBuilder::int32().version(i).build().expect("schema")).collect();
        for schema in &schemas {
            cache.insert(schema, writer());
        }
        assert_eq!(read(&cache.by_value).len(), 1);
        assert!(cache.get(&schemas[2]).is_some());
        let reads = ReadCache::new(1);
        reads.insert_reader(1, "t", Reader { avro: AvroSchema::of(Kind::Int), connect: schemas[0].clone() });
        reads.insert_reader(2, "t", Reader { avro: AvroSchema::of(Kind::Int), connect: schemas[0].clone() });
        assert!(reads.reader(1, "t").is_none() && reads.reader(2, "t").is_some() && reads.reader(2, "u").is_none());
    }
}
