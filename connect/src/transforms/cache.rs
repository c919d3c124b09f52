//! [`SchemaCache`]: derived schemas kept per input schema, so that a transform builds the schema of its output
//! once per table rather than once per record (Kafka's `SynchronizedCache<LRUCache<Schema, Schema>>`).
//!
//! A lookup first compares keys by identity (records of one table share one schema `Arc`: a pointer comparison),
//! then by content (a converter that decodes a fresh schema per record still hits: equal schemas differ early,
//! at their name, when they are not the same).

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

use crate::data::SchemaRef;

/// How a cache key is compared.
pub(crate) trait CacheKey: Clone {
    /// Whether `self` and `other` are the very same key (pointer comparisons).
    fn identical(&self, other: &Self) -> bool;
    /// Whether `self` and `other` are equal keys.
    fn same(&self, other: &Self) -> bool;
}

/// A schema.
impl CacheKey for SchemaRef {
    fn identical(&self, other: &Self) -> bool {
        Arc::ptr_eq(self, other)
    }
    fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(self, other) || **self == **other
    }
}

/// Two schemas (a row schema and the envelope it came in, say).
impl CacheKey for (SchemaRef, SchemaRef) {
    fn identical(&self, other: &Self) -> bool {
        self.0.identical(&other.0) && self.1.identical(&other.1)
    }
    fn same(&self, other: &Self) -> bool {
        self.0.same(&other.0) && self.1.same(&other.1)
    }
}

/// A small bounded cache of derived schemas; the oldest entry goes when it is full.
#[derive(Debug)]
pub(crate) struct SchemaCache<K> {
    entries: RwLock<VecDeque<(K, SchemaRef)>>,
    capacity: usize,
}

impl<K: CacheKey> SchemaCache<K> {
    /// A cache of at most `capacity` entries (Kafka's transforms keep 16).
    pub(crate) fn new(capacity: usize) -> Self {
        SchemaCache { entries: RwLock::new(VecDeque::with_capacity(capacity)), capacity: capacity.max(1) }
    }

    /// The schema derived for `key`, made by `make` (outside the lock) the first time.
    pub(crate) fn get_or_try_insert<E>(
        &self,
        key: &K,
        make: impl FnOnce() -> Result<SchemaRef, E>,
    ) -> Result<SchemaRef, E> {
        {
            let entries = self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            let found =
                entries.iter().find(|(k, _)| k.identical(key)).or_else(|| entries.iter().find(|(k, _)| k.same(key)));
            if let Some((_, schema)) = found {
                return Ok(schema.clone());
            }
        }
        let schema = make()?;
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !entries.iter().any(|(k, _)| k.same(key)) {
            if entries.len() >= self.capacity {
                entries.pop_front();
            }
            entries.push_back((key.clone(), schema.clone()));
        }
        Ok(schema)
    }

    /// How many schemas are cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.read().map(|e| e.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SchemaBuilder;

    #[test]
    fn derives_once_per_schema_and_evicts_the_oldest() {
        let cache: SchemaCache<SchemaRef> = SchemaCache::new(2);
        let a = SchemaBuilder::int32().build().expect("a");
        let b = SchemaBuilder::int64().build().expect("b");
        let c = SchemaBuilder::string().build().expect("c");
        let mut builds = 0;
        for _ in 0..3 {
            let derived = cache
                .get_or_try_insert::<()>(&a, || {
                    builds += 1;
                    Ok(b.clone())
                })
                .expect("derived");
            assert!(Arc::ptr_eq(&derived, &b));
        }
        assert_eq!(builds, 1);
        let equal = SchemaBuilder::int32().build().expect("an equal schema, another Arc");
        let derived = cache.get_or_try_insert::<&str>(&equal, || Err("not rebuilt")).expect("found by content");
        assert!(Arc::ptr_eq(&derived, &b));
        cache.get_or_try_insert::<()>(&b, || Ok(a.clone())).expect("b");
        cache.get_or_try_insert::<()>(&c, || Ok(a.clone())).expect("c");
        assert_eq!(cache.len(), 2);
        let rebuilt = cache.get_or_try_insert::<&str>(&a, || Err("evicted, so made again"));
        assert_eq!(rebuilt, Err("evicted, so made again"));
    }
}
