//! Replica placement for new partitions: Kafka's rack-unaware `AdminUtils.assignReplicasToBrokers`, with the random
//! start index and replica shift derived from the topic name so that every controller places alike.

/// Replica lists for partitions `first..first+count` of a topic over the live brokers: round-robin, leaders (the
/// first replica) spread evenly, the followers of each partition shifted so they are not always the leader's
/// neighbour, as Kafka's `AdminUtils.assignReplicasToBrokers` without racks.
///
/// The brokers are sorted and deduplicated here. Each list holds `replication_factor` distinct brokers, at most as
/// many as there are brokers; with no brokers every list is empty (callers refuse such a placement first). The
/// shift advances once every time the partition index wraps round the brokers, counted from partition 0, so adding
/// partitions later (`first` > 0) continues the pattern of the first ones.
pub fn place_replicas(
    topic: &str,
    live_brokers: &[i32],
    first: i32,
    count: i32,
    replication_factor: usize,
) -> Vec<Vec<i32>> {
    let mut brokers = live_brokers.to_vec();
    brokers.sort_unstable();
    brokers.dedup();
    let n = brokers.len();
    let first = usize::try_from(first).unwrap_or(0);
    let count = usize::try_from(count).unwrap_or(0);
    if n == 0 {
        return vec![Vec::new(); count];
    }
    let seed = crc32c::crc32c(topic.as_bytes()) as usize;
    assign(&brokers, seed % n, (seed / n) % n, first, count, replication_factor)
}

/// Kafka's loop with its two random numbers given: `start_index` places partition 0's leader, `base_shift` is the
/// followers' shift before its per-wrap increments. `brokers` is sorted, distinct and not empty.
fn assign(
    brokers: &[i32],
    start_index: usize,
    base_shift: usize,
    first: usize,
    count: usize,
    replication_factor: usize,
) -> Vec<Vec<i32>> {
    let n = brokers.len();
    let rf = replication_factor.min(n);
    (first..first + count)
        .map(|p| {
            // Kafka adds one to the shift at every p > 0 with p % n == 0, i.e. p / n times up to p.
            let shift = base_shift + p / n;
            let first_index = (p % n + start_index) % n;
            (0..rf)
                .map(|j| match j {
                    0 => brokers[first_index],
                    _ => brokers[replica_index(first_index, shift, j - 1, n)],
                })
                .collect()
        })
        .collect()
}

/// Kafka's `replicaIndex`: follower `j` sits `1 + (shift + j) % (n - 1)` brokers after the leader, never on it.
/// Only called for followers, so `n >= 2`.
fn replica_index(first_index: usize, shift: usize, j: usize, n: usize) -> usize {
    (first_index + 1 + (shift + j) % (n - 1)) % n
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn matches_kafkas_own_test_vector_with_a_fixed_start() {
        // AdminRackAwareTest / AdminUtilsTest: 5 brokers, 10 partitions, rf 3, fixedStartIndex 0.
        let expected = [
            [0, 1, 2],
            [1, 2, 3],
            [2, 3, 4],
            [3, 4, 0],
            [4, 0, 1],
            [0, 2, 3],
            [1, 3, 4],
            [2, 4, 0],
            [3, 0, 1],
            [4, 1, 2],
        ];
        let placed = assign(&[0, 1, 2, 3, 4], 0, 0, 0, 10, 3);
        assert_eq!(placed, expected.map(|r| r.to_vec()).to_vec());
    }

    #[test]
    fn every_partition_gets_rf_distinct_live_replicas() {
        for n in 1..=7 {
            let brokers: Vec<i32> = (0..n).map(|b| b * 10 + 1).collect();
            for rf in 1..=n as usize {
                for replicas in place_replicas("orders", &brokers, 0, 25, rf) {
                    let distinct: BTreeSet<i32> = replicas.iter().copied().collect();
                    assert_eq!((replicas.len(), distinct.len()), (rf, rf), "n {n} rf {rf}: {replicas:?}");
                    assert!(replicas.iter().all(|b| brokers.contains(b)));
                }
            }
        }
    }

    #[test]
    fn leaders_are_spread_evenly() {
        let placed = place_replicas("payments", &[1, 2, 3], 0, 6, 3);
        let mut leaders: BTreeMap<i32, usize> = BTreeMap::new();
        for replicas in &placed {
            *leaders.entry(replicas[0]).or_default() += 1;
        }
        assert_eq!(leaders, BTreeMap::from([(1, 2), (2, 2), (3, 2)]));
    }

    #[test]
    fn placement_is_deterministic_and_ignores_input_order() {
        let a = place_replicas("clicks", &[3, 1, 2, 5, 4], 0, 12, 3);
        assert_eq!(a, place_replicas("clicks", &[1, 2, 3, 4, 5], 0, 12, 3));
        assert_eq!(a, place_replicas("clicks", &[5, 4, 3, 2, 1, 1], 0, 12, 3));
    }

    #[test]
    fn added_partitions_continue_the_pattern() {
        let all = place_replicas("events", &[1, 2, 3, 4], 0, 11, 3);
        assert_eq!(place_replicas("events", &[1, 2, 3, 4], 5, 6, 3), all[5..].to_vec());
    }

    #[test]
    fn edge_cases_do_not_panic() {
        assert_eq!(place_replicas("solo", &[7], 0, 3, 1), vec![vec![7]; 3]);
        assert_eq!(place_replicas("solo", &[7], 0, 1, 3), vec![vec![7]]);
        assert_eq!(place_replicas("none", &[], 0, 2, 1), vec![Vec::<i32>::new(); 2]);
        assert!(place_replicas("zero", &[1, 2], 0, 0, 2).is_empty());
        let full = place_replicas("full", &[1, 2, 3], 0, 3, 3);
        assert!(full.iter().all(|r| r.len() == 3));
    }
}
