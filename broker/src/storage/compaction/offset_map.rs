//! The cleaner's key → latest offset map over the dirty part of a log (Kafka's `OffsetMap`).
//!
//! Keys are stored as 128-bit hashes, as Kafka stores MD5 digests: memory per key is fixed whatever the key's
//! size. Two SipHash-1-3 passes with different prefixes make the 128 bits; two distinct keys would have to collide
//! on both for the older one's records to be removed wrongly.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// A key's 128-bit digest.
type KeyHash = u128;

/// The latest offset of every key seen.
#[derive(Debug, Default)]
pub struct OffsetMap {
    latest: HashMap<KeyHash, i64, BuildHasherDefault<DigestHasher>>,
}

impl OffsetMap {
    /// Records that `key` appears at `offset`; the map keeps the largest offset per key.
    pub fn insert(&mut self, key: &[u8], offset: i64) {
        let latest = self.latest.entry(digest(key)).or_insert(offset);
        *latest = (*latest).max(offset);
    }

    /// The latest offset of `key`, if it was seen.
    pub fn latest(&self, key: &[u8]) -> Option<i64> {
        self.latest.get(&digest(key)).copied()
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.latest.len()
    }

    /// Whether no key was seen.
    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }
}

fn digest(key: &[u8]) -> KeyHash {
    let half = |prefix: u8| {
        let mut hasher = DefaultHasher::new();
        prefix.hash(&mut hasher);
        key.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// Hashes a digest by taking its low bits: the key is a hash already.
#[derive(Debug, Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_offset_map_keeps_the_latest_offset() {
        let mut map = OffsetMap::default();
        assert!(map.is_empty());
        map.insert(b"a", 5);
        map.insert(b"b", 6);
        map.insert(b"a", 9);
        map.insert(b"a", 7);
        assert_eq!((map.latest(b"a"), map.latest(b"b"), map.latest(b"c")), (Some(9), Some(6), None));
        assert_eq!(map.len(), 2);
        assert_ne!(digest(b"a"), digest(b"b"));
        assert_ne!(digest(b""), digest(b"\0"));
    }
}
