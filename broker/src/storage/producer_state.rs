//! The idempotent producers of one partition, as Kafka's `ProducerStateManager` keeps them: for each producer id
//! its epoch and the metadata of its last [`BATCHES_PER_PRODUCER`] batches (first and last sequence, first and last
//! offset).
//!
//! [`ProducerStates::check`] runs under the partition lock before a batch is written, and
//! [`ProducerStates::apply`] after it was, so that check and append are one atomic step:
//!
//! - a batch without a producer id (-1) is not checked;
//! - a batch whose epoch and sequence range equal one of the producer's last batches is a retry: it is acknowledged
//!   with the original offsets and not written again;
//! - a lower epoch than the producer's is refused with `INVALID_PRODUCER_EPOCH` (Kafka 2.7+);
//! - a higher epoch (the producer bumped it) must start at sequence 0;
//! - within an epoch the first sequence must follow the last one, wrapping from `i32::MAX` to 0 as Kafka does;
//! - a producer this partition has no state for must start at sequence 0, else `UNKNOWN_PRODUCER_ID`. Kafka 2.5+
//!   accepts any sequence there, because retention may have deleted a producer's state with its batches; Tidemark
//!   keeps producer state in snapshots across retention and only forgets producers idle for
//!   [`PRODUCER_ID_EXPIRATION_MS`], so an unknown producer sending sequence 5 means earlier batches were refused
//!   and accepting it would reorder the producer's records. Clients answer `UNKNOWN_PRODUCER_ID` by retrying or by
//!   bumping their epoch, which restarts at sequence 0.
//!
//! After a restart the state is rebuilt from the latest snapshot (see `producer_snapshot.rs`) and the batch
//! headers written after it.

use std::collections::{HashMap, VecDeque};

use thiserror::Error;

use super::batch::BatchHeader;
use super::segment::Segment;

/// Batches remembered per producer: Kafka's limit on `max.in.flight.requests.per.connection` for idempotence.
pub const BATCHES_PER_PRODUCER: usize = 5;
/// How long a producer that writes nothing is remembered (Kafka's `producer.id.expiration.ms` default, one day).
pub const PRODUCER_ID_EXPIRATION_MS: i64 = 24 * 60 * 60 * 1000;
/// Sequence numbers run from 0 to `i32::MAX` and wrap.
const SEQUENCE_MODULUS: i64 = 1 << 31;

/// Why a producer's batch is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProducerStateError {
    /// The batch carries an epoch older than the producer's current one: a fenced, stale producer.
    #[error("producer {producer_id} wrote with epoch {epoch}, older than its current epoch {current}")]
    StaleEpoch {
        /// The producer.
        producer_id: i64,
        /// Epoch of the batch.
        epoch: i16,
        /// Epoch the partition knows.
        current: i16,
    },
    /// The first sequence does not follow the producer's last one.
    #[error(
        "out of order sequence for producer {producer_id} epoch {epoch}: expected {expected}, received {received}"
    )]
    OutOfOrderSequence {
        /// The producer.
        producer_id: i64,
        /// Epoch of the batch.
        epoch: i16,
        /// The sequence that would follow the last batch (0 for a new epoch).
        expected: i32,
        /// First sequence of the batch.
        received: i32,
    },
    /// The partition has no state for this producer and the batch does not start at sequence 0.
    #[error("producer {producer_id} is unknown on this partition; its batch starts at sequence {received}, not 0")]
    UnknownProducer {
        /// The producer.
        producer_id: i64,
        /// First sequence of the batch.
        received: i32,
    },
    /// A producer id with a negative epoch or sequence.
    #[error("batch of producer {producer_id} has an invalid epoch {epoch} or base sequence {sequence}")]
    InvalidSequence {
        /// The producer.
        producer_id: i64,
        /// Epoch of the batch.
        epoch: i16,
        /// First sequence of the batch.
        sequence: i32,
    },
    /// A transactional batch: Tidemark has no transaction coordinator, so no transaction can be open.
    #[error("transactional batches are not supported: Tidemark has no transactions")]
    Transactional,
}

/// Where one of a producer's batches landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchMetadata {
    /// Sequence of the first record.
    pub first_sequence: i32,
    /// Sequence of the last record.
    pub last_sequence: i32,
    /// Offset of the first record.
    pub first_offset: i64,
    /// Offset of the last record.
    pub last_offset: i64,
}

impl BatchMetadata {
    fn of(header: &BatchHeader) -> Self {
        BatchMetadata {
            first_sequence: header.base_sequence,
            last_sequence: last_sequence(header),
            first_offset: header.base_offset,
            last_offset: header.last_offset(),
        }
    }
}

/// What a partition knows about one producer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerEntry {
    /// The producer's current epoch.
    pub epoch: i16,
    /// Its last batches in this epoch, oldest first; never empty and never more than [`BATCHES_PER_PRODUCER`].
    pub batches: VecDeque<BatchMetadata>,
    /// Broker time of its last append, in ms; drives expiration.
    pub last_seen_ms: i64,
}

/// The outcome of [`ProducerStates::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendCheck {
    /// Write the batch.
    Append,
    /// The batch was written before: acknowledge it with these offsets and write nothing.
    Duplicate(BatchMetadata),
}

/// The producers of one partition.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProducerStates {
    producers: HashMap<i64, ProducerEntry>,
}

impl ProducerStates {
    /// State made of known entries (a loaded snapshot).
    pub fn from_entries(producers: HashMap<i64, ProducerEntry>) -> Self {
        ProducerStates { producers }
    }

    /// Every producer and its entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (i64, &ProducerEntry)> {
        self.producers.iter().map(|(&id, entry)| (id, entry))
    }

    /// Number of producers known.
    pub fn len(&self) -> usize {
        self.producers.len()
    }

    /// Whether no producer is known.
    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }

    /// Decides whether a validated batch from a client may be written.
    pub fn check(&self, header: &BatchHeader) -> Result<AppendCheck, ProducerStateError> {
        if header.is_transactional() {
            return Err(ProducerStateError::Transactional);
        }
        let (producer_id, epoch, first) = (header.producer_id, header.producer_epoch, header.base_sequence);
        if producer_id < 0 {
            return Ok(AppendCheck::Append);
        }
        if epoch < 0 || first < 0 {
            return Err(ProducerStateError::InvalidSequence { producer_id, epoch, sequence: first });
        }
        let Some(entry) = self.producers.get(&producer_id) else {
            return if first == 0 {
                Ok(AppendCheck::Append)
            } else {
                Err(ProducerStateError::UnknownProducer { producer_id, received: first })
            };
        };
        if epoch < entry.epoch {
            return Err(ProducerStateError::StaleEpoch { producer_id, epoch, current: entry.epoch });
        }
        let out_of_order =
            |expected| ProducerStateError::OutOfOrderSequence { producer_id, epoch, expected, received: first };
        if epoch > entry.epoch {
            return if first == 0 { Ok(AppendCheck::Append) } else { Err(out_of_order(0)) };
        }
        let last = last_sequence(header);
        if let Some(original) = entry.batches.iter().find(|b| b.first_sequence == first && b.last_sequence == last) {
            return Ok(AppendCheck::Duplicate(*original));
        }
        match entry.batches.back() {
            Some(previous) if !in_sequence(previous.last_sequence, first) => {
                Err(out_of_order(next_sequence(previous.last_sequence)))
            }
            _ => Ok(AppendCheck::Append),
        }
    }

    /// Records a batch that is in the log (just appended, or read back at start-up) with its real offsets.
    /// Batches without a producer id change nothing.
    pub fn apply(&mut self, header: &BatchHeader, now_ms: i64) {
        if header.producer_id < 0 || header.producer_epoch < 0 || header.base_sequence < 0 {
            return;
        }
        let entry = self.producers.entry(header.producer_id).or_insert_with(|| ProducerEntry {
            epoch: header.producer_epoch,
            batches: VecDeque::with_capacity(BATCHES_PER_PRODUCER),
            last_seen_ms: now_ms,
        });
        if entry.epoch != header.producer_epoch {
            entry.epoch = header.producer_epoch;
            entry.batches.clear();
        }
        if entry.batches.len() == BATCHES_PER_PRODUCER {
            entry.batches.pop_front();
        }
        entry.batches.push_back(BatchMetadata::of(header));
        entry.last_seen_ms = now_ms;
    }

    /// Applies every batch of a segment that starts at or after `from_offset`, in log order.
    pub fn replay_segment(&mut self, segment: &Segment, from_offset: i64, now_ms: i64) -> std::io::Result<()> {
        if segment.next_offset() <= from_offset {
            return Ok(());
        }
        let mut position = 0;
        while let Some(header) = segment.header_at(position)? {
            if header.base_offset >= from_offset {
                self.apply(&header, now_ms);
            }
            position += header.total_len() as u64;
        }
        Ok(())
    }

    /// Forgets producers that appended nothing for `max_idle_ms`; returns how many.
    pub fn expire(&mut self, now_ms: i64, max_idle_ms: i64) -> usize {
        let before = self.producers.len();
        self.producers.retain(|_, entry| now_ms.saturating_sub(entry.last_seen_ms) < max_idle_ms);
        before - self.producers.len()
    }
}

/// Sequence of a batch's last record: Kafka's `DefaultRecordBatch.incrementSequence`.
fn last_sequence(header: &BatchHeader) -> i32 {
    let last = (i64::from(header.base_sequence) + i64::from(header.last_offset_delta)).rem_euclid(SEQUENCE_MODULUS);
    last as i32
}

/// The sequence after `sequence`, wrapping at `i32::MAX`.
fn next_sequence(sequence: i32) -> i32 {
    sequence.checked_add(1).unwrap_or(0)
}

fn in_sequence(last: i32, next: i32) -> bool {
    next == next_sequence(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(producer_id: i64, epoch: i16, base_sequence: i32, count: i32, base_offset: i64) -> BatchHeader {
        BatchHeader {
            base_offset,
            batch_length: 100,
            partition_leader_epoch: 0,
            magic: 2,
            crc: 0,
            attributes: 0,
            last_offset_delta: count - 1,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id,
            producer_epoch: epoch,
            base_sequence,
            record_count: count,
        }
    }

    /// Checks and, when accepted, applies like the partition's append does; returns the check.
    fn append(states: &mut ProducerStates, header: BatchHeader) -> Result<AppendCheck, ProducerStateError> {
        let check = states.check(&header)?;
        if check == AppendCheck::Append {
            states.apply(&header, 0);
        }
        Ok(check)
    }

    #[test]
    fn batches_without_a_producer_id_are_not_checked() {
        let mut states = ProducerStates::default();
        for offset in [0, 0, 5] {
            assert_eq!(append(&mut states, batch(-1, -1, -1, 3, offset)), Ok(AppendCheck::Append));
        }
        assert!(states.is_empty());
    }

    #[test]
    fn sequences_must_follow_each_other() {
        let mut states = ProducerStates::default();
        assert_eq!(append(&mut states, batch(7, 0, 0, 3, 0)), Ok(AppendCheck::Append));
        assert_eq!(append(&mut states, batch(7, 0, 3, 2, 3)), Ok(AppendCheck::Append));
        let gap = append(&mut states, batch(7, 0, 6, 1, 5));
        assert_eq!(
            gap,
            Err(ProducerStateError::OutOfOrderSequence { producer_id: 7, epoch: 0, expected: 5, received: 6 })
        );
        let overlap = append(&mut states, batch(7, 0, 4, 2, 5));
        assert!(matches!(overlap, Err(ProducerStateError::OutOfOrderSequence { expected: 5, .. })));
        assert_eq!(append(&mut states, batch(7, 0, 5, 1, 5)), Ok(AppendCheck::Append));
        assert_eq!(append(&mut states, batch(8, 0, 0, 1, 6)), Ok(AppendCheck::Append), "producers are independent");
    }

    #[test]
    fn a_retry_of_any_of_the_last_five_batches_is_a_duplicate() {
        let mut states = ProducerStates::default();
        for i in 0..7 {
            append(&mut states, batch(1, 2, i * 10, 10, i64::from(i) * 100)).expect("in order");
        }
        for i in 2..7 {
            let expected = BatchMetadata {
                first_sequence: i * 10,
                last_sequence: i * 10 + 9,
                first_offset: i64::from(i) * 100,
                last_offset: i64::from(i) * 100 + 9,
            };
            assert_eq!(append(&mut states, batch(1, 2, i * 10, 10, 999)), Ok(AppendCheck::Duplicate(expected)));
        }
        let forgotten = append(&mut states, batch(1, 2, 10, 10, 999));
        assert!(matches!(forgotten, Err(ProducerStateError::OutOfOrderSequence { expected: 70, .. })));
        let other_range = append(&mut states, batch(1, 2, 60, 5, 999));
        assert!(matches!(other_range, Err(ProducerStateError::OutOfOrderSequence { .. })), "same start, other end");
    }

    #[test]
    fn epochs_fence_and_restart_sequences() {
        let mut states = ProducerStates::default();
        append(&mut states, batch(3, 1, 0, 5, 0)).expect("first");
        assert_eq!(
            append(&mut states, batch(3, 0, 5, 1, 5)),
            Err(ProducerStateError::StaleEpoch { producer_id: 3, epoch: 0, current: 1 })
        );
        assert_eq!(
            append(&mut states, batch(3, 2, 5, 1, 5)),
            Err(ProducerStateError::OutOfOrderSequence { producer_id: 3, epoch: 2, expected: 0, received: 5 }),
            "a new epoch starts at sequence 0"
        );
        assert_eq!(append(&mut states, batch(3, 2, 0, 1, 5)), Ok(AppendCheck::Append));
        assert!(
            matches!(append(&mut states, batch(3, 1, 0, 5, 6)), Err(ProducerStateError::StaleEpoch { .. })),
            "a retry from the old epoch is fenced, not a duplicate"
        );
        assert!(matches!(append(&mut states, batch(3, 1, 5, 1, 6)), Err(ProducerStateError::StaleEpoch { .. })));
    }

    #[test]
    fn unknown_producers_must_start_at_zero() {
        let mut states = ProducerStates::default();
        assert_eq!(
            append(&mut states, batch(9, 0, 4, 1, 0)),
            Err(ProducerStateError::UnknownProducer { producer_id: 9, received: 4 })
        );
        assert_eq!(
            append(&mut states, batch(9, -1, 0, 1, 0)),
            Err(ProducerStateError::InvalidSequence { producer_id: 9, epoch: -1, sequence: 0 })
        );
        assert_eq!(append(&mut states, batch(9, 0, 0, 1, 0)), Ok(AppendCheck::Append));
    }

    #[test]
    fn sequences_wrap_at_i32_max() {
        let mut states = ProducerStates::default();
        let near_end = i32::MAX - 2;
        states.apply(&batch(5, 0, near_end, 2, 0), 0);
        // The next batch holds MAX and wraps to 0 and 1.
        let wrapping = batch(5, 0, i32::MAX, 3, 2);
        assert_eq!(last_sequence(&wrapping), 1);
        assert_eq!(append(&mut states, wrapping), Ok(AppendCheck::Append));
        assert!(matches!(append(&mut states, wrapping), Ok(AppendCheck::Duplicate(_))));
        assert_eq!(append(&mut states, batch(5, 0, 2, 1, 5)), Ok(AppendCheck::Append));
        let mut ends_at_max = ProducerStates::default();
        ends_at_max.apply(&batch(6, 0, near_end, 3, 0), 0);
        assert!(matches!(
            append(&mut ends_at_max, batch(6, 0, 1, 1, 3)),
            Err(ProducerStateError::OutOfOrderSequence { expected: 0, .. })
        ));
        assert_eq!(append(&mut ends_at_max, batch(6, 0, 0, 1, 3)), Ok(AppendCheck::Append));
    }

    #[test]
    fn transactional_batches_are_refused() {
        let states = ProducerStates::default();
        let transactional = BatchHeader { attributes: 0x10, ..batch(4, 0, 0, 1, 0) };
        assert_eq!(states.check(&transactional), Err(ProducerStateError::Transactional));
    }

    #[test]
    fn idle_producers_expire() {
        let mut states = ProducerStates::default();
        states.apply(&batch(1, 0, 0, 1, 0), 1_000);
        states.apply(&batch(2, 0, 0, 1, 1), 5_000);
        assert_eq!(states.expire(10_000, 6_000), 1);
        assert_eq!(states.entries().map(|(id, _)| id).collect::<Vec<_>>(), vec![2]);
        assert_eq!(
            states.check(&batch(1, 0, 1, 1, 2)),
            Err(ProducerStateError::UnknownProducer { producer_id: 1, received: 1 })
        );
    }
}
