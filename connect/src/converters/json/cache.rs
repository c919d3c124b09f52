//! The rendered JSON of the schemas a converter writes, by schema identity: a table's records share one
//! [`SchemaRef`], so its schema JSON is rendered once, not per record (Kafka keeps the same cache).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::data::SchemaRef;

/// Rendered schema JSON keyed by the schema's address; each entry holds its schema, so an address is never reused
/// while cached. Bounded by `schemas.cache.size`: when full it starts over (no per-hit bookkeeping on the hot path).
#[derive(Debug)]
pub(crate) struct SchemaJsonCache {
    capacity: usize,
    entries: Mutex<HashMap<usize, (SchemaRef, Arc<str>)>>,
}

impl SchemaJsonCache {
    /// A cache of at most `capacity` schemas (0 renders every time).
    pub(crate) fn new(capacity: usize) -> Self {
        SchemaJsonCache { capacity, entries: Mutex::new(HashMap::new()) }
    }

    /// The JSON of `schema`, rendered by `render` when not cached.
    pub(crate) fn get_or_render<E>(
        &self,
        schema: &SchemaRef,
        render: impl FnOnce() -> Result<String, E>,
    ) -> Result<Arc<str>, E> {
        if self.capacity == 0 {
            return render().map(Arc::from);
        }
        let key = Arc::as_ptr(schema) as usize;
        if let Some((_, json)) = self.entries.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(json.clone());
        }
        let json: Arc<str> = render()?.into();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, (schema.clone(), json.clone()));
        Ok(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SchemaBuilder;
    use std::cell::Cell;

    #[test]
    fn renders_once_per_schema_and_stays_bounded() {
        let cache = SchemaJsonCache::new(2);
        let renders = Cell::new(0);
        let render = |text: &str| {
            renders.set(renders.get() + 1);
            Ok::<_, ()>(text.to_owned())
        };
        let a = SchemaBuilder::int32().build().expect("a");
        let b = SchemaBuilder::int32().build().expect("b");
        let c = SchemaBuilder::int32().build().expect("c");
        assert_eq!(cache.get_or_render(&a, || render("a")).as_deref(), Ok("a"));
        assert_eq!(cache.get_or_render(&a.clone(), || render("x")).as_deref(), Ok("a"));
        assert_eq!(cache.get_or_render(&b, || render("b")).as_deref(), Ok("b"));
        assert_eq!(renders.get(), 2);
        assert_eq!(cache.get_or_render(&c, || render("c")).as_deref(), Ok("c"));
        assert_eq!(cache.entries.lock().map(|e| e.len()).unwrap_or(0), 1);
        assert_eq!(cache.get_or_render(&a, || Err(())), Err(()));
        let uncached = SchemaJsonCache::new(0);
        assert_eq!(uncached.get_or_render(&a, || render("a")).as_deref(), Ok("a"));
        assert_eq!(uncached.get_or_render(&a, || render("a")).as_deref(), Ok("a"));
        assert_eq!(renders.get(), 5);
    }
}
