//! Kafka's default partitioner for keyed records: murmur2 of the key bytes, as the Java client and librdkafka's
//! `murmur2_random` compute it.

/// The partition of `key` among `partitions` (which must be at least 1):
/// `(murmur2(key, KAFKA_SEED) & 0x7fffffff) % partitions`.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    if partitions <= 1 {
        return 0;
    }
    let hash = murmur2::murmur2(key, murmur2::KAFKA_SEED) & 0x7fff_ffff;
    // The masked hash fits in an i32, and the remainder is below `partitions`.
    (hash % partitions.max(1) as u32) as i32
}

#[cfg(test)]
mod tests {
    use super::partition_for_key;

    /// Kafka's own `Utils.murmur2` test vectors (`UtilsTest.testMurmur2`), turned into partitions as Kafka's
    /// partitioner does.
    #[test]
    fn matches_kafka() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ];
        for (key, hash) in cases {
            for partitions in [1, 3, 10, 64] {
                assert_eq!(partition_for_key(key, partitions), (hash & 0x7fff_ffff) % partitions, "key {key:?}");
            }
        }
    }
}
