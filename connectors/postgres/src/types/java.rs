//! The Java behaviours Debezium's output depends on that the connect crate does not already reproduce (it has
//! `Double.toString` and Jackson's string escaping): the iteration order of a `java.util.HashMap` of strings, and
//! `UUID.nameUUIDFromBytes`.

use std::fmt::Write;

use md5::{Digest, Md5};

/// Java's `String.hashCode()`: over UTF-16 code units, `h = 31 * h + c`, wrapping.
fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The order in which a `java.util.HashMap` (default capacity and load factor) filled with `keys` in this order
/// iterates them: by bucket (the spread hash masked by the final capacity), insertion order within a bucket.
/// Returns the positions of the keys in that order. (Buckets of nine or more keys in a table of 64 or more, which
/// Java turns into trees, are not modelled.)
pub(crate) fn hash_map_order<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let spread: Vec<u32> = keys
        .map(|key| {
            let h = string_hash(key) as u32;
            h ^ (h >> 16)
        })
        .collect();
    let mut capacity = 16usize;
    let mut bucket_sizes = vec![0usize; capacity];
    for (size, &hash) in spread.iter().enumerate() {
        let bucket = hash as usize & (capacity - 1);
        let crowded = bucket_sizes[bucket] >= 8 && capacity < 64;
        bucket_sizes[bucket] += 1;
        let mut grow = |capacity: &mut usize| {
            *capacity *= 2;
            bucket_sizes = vec![0usize; *capacity];
            for &h in &spread[..=size] {
                bucket_sizes[h as usize & (*capacity - 1)] += 1;
            }
        };
        if crowded {
            grow(&mut capacity);
        }
        if size + 1 > capacity / 4 * 3 {
            grow(&mut capacity);
        }
    }
    let mut order: Vec<usize> = (0..spread.len()).collect();
    order.sort_by_key(|&i| spread[i] as usize & (capacity - 1));
    order
}

/// Java's `UUID.nameUUIDFromBytes`: the MD5 of the bytes as a version 3 UUID, lower-case.
pub(crate) fn name_uuid_from_bytes(bytes: &[u8]) -> String {
    let mut hash: [u8; 16] = Md5::digest(bytes).into();
    hash[6] = (hash[6] & 0x0f) | 0x30;
    hash[8] = (hash[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, b) in hash.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_map_iteration_order() {
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("hello"), 99_162_322);
        // "b" (98) lands in bucket 2, "a" (97) in bucket 1: a HashMap iterates "a" first.
        assert_eq!(hash_map_order(["b", "a"].into_iter()), vec![1, 0]);
        // Keys colliding in one bucket keep their insertion order ("Aa" and "BB" hash alike).
        assert_eq!(hash_map_order(["BB", "Aa"].into_iter()), vec![0, 1]);
        // Thirteen keys grow the table to 32 buckets.
        let keys: Vec<String> = (0..13).map(|i| format!("k{i}")).collect();
        let order = hash_map_order(keys.iter().map(String::as_str));
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..13).collect::<Vec<_>>());
    }

    #[test]
    fn json_strings_and_uuids() {
        // Java: UUID.nameUUIDFromBytes(new byte[0]).
        assert_eq!(name_uuid_from_bytes(b""), "d41d8cd9-8f00-3204-a980-0998ecf8427e");
        // md5("__debezium_unavailable_value") = b68a35a717adc5b3ef2aae46edb4545a, with the version 3 bits.
        assert_eq!(name_uuid_from_bytes(b"__debezium_unavailable_value"), "b68a35a7-17ad-35b3-af2a-ae46edb4545a");
    }
}
