//! The records of `__consumer_offsets`, in Kafka's own layout (`OffsetCommitKey` v1 / `OffsetCommitValue` v3,
//! `GroupMetadataKey` v2 / `GroupMetadataValue` v3), so Kafka's tools can read the topic and a Tidemark data
//! directory can be inspected with them. Written by hand: these are Kafka's internal schemas, which
//! `kafka-protocol` does not generate.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use thiserror::Error;

/// The compacted topic that holds committed offsets and group metadata.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

const OFFSET_KEY_VERSION: i16 = 1;
const GROUP_KEY_VERSION: i16 = 2;
const OFFSET_VALUE_VERSION: i16 = 3;
const GROUP_VALUE_VERSION: i16 = 3;

/// A record of `__consumer_offsets` could not be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RecordError {
    /// The bytes end before the record does.
    #[error("record truncated")]
    Truncated,
    /// A string is not UTF-8.
    #[error("string is not UTF-8")]
    NotUtf8,
    /// A key or value version this broker does not know.
    #[error("unknown record version {0}")]
    UnknownVersion(i16),
}

/// The partition of `__consumer_offsets` that holds a group, as Kafka computes it (Java's `String.hashCode`).
pub fn partition_for(group: &str, partitions: i32) -> i32 {
    let hash = group.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    let positive = if hash == i32::MIN { 0 } else { hash.abs() };
    positive % partitions.max(1)
}

/// The key of a `__consumer_offsets` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetsKey {
    /// A committed offset of one partition.
    Offset {
        /// The group.
        group: String,
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// The membership of a group.
    Group {
        /// The group.
        group: String,
    },
}

impl OffsetsKey {
    /// Encodes the key.
    pub fn encode(&self) -> Bytes {
        let mut buf = BytesMut::new();
        match self {
            OffsetsKey::Offset { group, topic, partition } => {
                buf.put_i16(OFFSET_KEY_VERSION);
                put_string(&mut buf, group);
                put_string(&mut buf, topic);
                buf.put_i32(*partition);
            }
            OffsetsKey::Group { group } => {
                buf.put_i16(GROUP_KEY_VERSION);
                put_string(&mut buf, group);
            }
        }
        buf.freeze()
    }

    /// Decodes a key (versions 0 and 1 are offset keys, 2 a group key).
    pub fn decode(mut buf: &[u8]) -> Result<Self, RecordError> {
        match get_i16(&mut buf)? {
            0 | 1 => Ok(OffsetsKey::Offset {
                group: get_string(&mut buf)?,
                topic: get_string(&mut buf)?,
                partition: get_i32(&mut buf)?,
            }),
            2 => Ok(OffsetsKey::Group { group: get_string(&mut buf)? }),
            v => Err(RecordError::UnknownVersion(v)),
        }
    }

    /// The group the record belongs to.
    pub fn group(&self) -> &str {
        match self {
            OffsetsKey::Offset { group, .. } | OffsetsKey::Group { group } => group,
        }
    }
}

/// A committed offset as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    /// The next offset the group will consume.
    pub offset: i64,
    /// The leader epoch of the last consumed record, or -1.
    pub leader_epoch: i32,
    /// The client's metadata string.
    pub metadata: String,
    /// When the commit happened (ms since the epoch).
    pub commit_timestamp: i64,
}

impl CommittedOffset {
    /// Encodes the value (`OffsetCommitValue` v3).
    pub fn encode(&self) -> Bytes {
        let mut buf = BytesMut::new();
        buf.put_i16(OFFSET_VALUE_VERSION);
        buf.put_i64(self.offset);
        buf.put_i32(self.leader_epoch);
        put_string(&mut buf, &self.metadata);
        buf.put_i64(self.commit_timestamp);
        buf.freeze()
    }

    /// Decodes a value of version 0 to 3.
    pub fn decode(mut buf: &[u8]) -> Result<Self, RecordError> {
        let version = get_i16(&mut buf)?;
        if !(0..=3).contains(&version) {
            return Err(RecordError::UnknownVersion(version));
        }
        let offset = get_i64(&mut buf)?;
        let leader_epoch = if version >= 3 { get_i32(&mut buf)? } else { -1 };
        let metadata = get_string(&mut buf)?;
        let commit_timestamp = get_i64(&mut buf)?;
        Ok(CommittedOffset { offset, leader_epoch, metadata, commit_timestamp })
    }
}

/// One member as stored in a group's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMember {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// Its `group.instance.id` when it is a static member.
    pub instance_id: Option<String>,
    /// The client id it connected with.
    pub client_id: String,
    /// The address it connected from.
    pub client_host: String,
    /// How long a rebalance waits for it to rejoin (ms).
    pub rebalance_timeout_ms: i32,
    /// How long it may go without a heartbeat (ms).
    pub session_timeout_ms: i32,
    /// Its metadata for the group's protocol.
    pub subscription: Bytes,
    /// The assignment the leader gave it.
    pub assignment: Bytes,
}

/// A group's membership as stored after each completed rebalance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredGroup {
    /// The protocol type (`consumer`, `connect`, ...).
    pub protocol_type: String,
    /// The generation.
    pub generation: i32,
    /// The chosen protocol (assignor), if the group has members.
    pub protocol: Option<String>,
    /// The leader's member id, if the group has members.
    pub leader: Option<String>,
    /// When the group last changed state (ms since the epoch).
    pub state_timestamp: i64,
    /// The members.
    pub members: Vec<StoredMember>,
}

impl StoredGroup {
    /// Encodes the value (`GroupMetadataValue` v3).
    pub fn encode(&self) -> Bytes {
        let mut buf = BytesMut::new();
        buf.put_i16(GROUP_VALUE_VERSION);
        put_string(&mut buf, &self.protocol_type);
        buf.put_i32(self.generation);
        put_nullable_string(&mut buf, self.protocol.as_deref());
        put_nullable_string(&mut buf, self.leader.as_deref());
        buf.put_i64(self.state_timestamp);
        buf.put_i32(self.members.len() as i32);
        for m in &self.members {
            put_string(&mut buf, &m.member_id);
            put_nullable_string(&mut buf, m.instance_id.as_deref());
            put_string(&mut buf, &m.client_id);
            put_string(&mut buf, &m.client_host);
            buf.put_i32(m.rebalance_timeout_ms);
            buf.put_i32(m.session_timeout_ms);
            put_bytes(&mut buf, &m.subscription);
            put_bytes(&mut buf, &m.assignment);
        }
        buf.freeze()
    }

    /// Decodes a value of version 0 to 3.
    pub fn decode(mut buf: &[u8]) -> Result<Self, RecordError> {
        let version = get_i16(&mut buf)?;
        if !(0..=3).contains(&version) {
            return Err(RecordError::UnknownVersion(version));
        }
        let protocol_type = get_string(&mut buf)?;
        let generation = get_i32(&mut buf)?;
        let protocol = get_nullable_string(&mut buf)?;
        let leader = get_nullable_string(&mut buf)?;
        let state_timestamp = if version >= 2 { get_i64(&mut buf)? } else { -1 };
        let count = get_i32(&mut buf)?;
        let mut members = Vec::new();
        for _ in 0..count.max(0) {
            let member_id = get_string(&mut buf)?;
            let instance_id = if version >= 3 { get_nullable_string(&mut buf)? } else { None };
            let client_id = get_string(&mut buf)?;
            let client_host = get_string(&mut buf)?;
            let rebalance_timeout_ms = if version >= 1 { get_i32(&mut buf)? } else { -1 };
            let session_timeout_ms = get_i32(&mut buf)?;
            let subscription = get_bytes(&mut buf)?;
            let assignment = get_bytes(&mut buf)?;
            let rebalance_timeout_ms = if rebalance_timeout_ms < 0 { session_timeout_ms } else { rebalance_timeout_ms };
            members.push(StoredMember {
                member_id,
                instance_id,
                client_id,
                client_host,
                rebalance_timeout_ms,
                session_timeout_ms,
                subscription,
                assignment,
            });
        }
        Ok(StoredGroup { protocol_type, generation, protocol, leader, state_timestamp, members })
    }
}

fn put_string(buf: &mut BytesMut, s: &str) {
    buf.put_i16(s.len() as i16);
    buf.put_slice(s.as_bytes());
}

fn put_nullable_string(buf: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => put_string(buf, s),
        None => buf.put_i16(-1),
    }
}

fn put_bytes(buf: &mut BytesMut, b: &[u8]) {
    buf.put_i32(b.len() as i32);
    buf.put_slice(b);
}

fn need(buf: &[u8], n: usize) -> Result<(), RecordError> {
    if buf.len() < n {
        Err(RecordError::Truncated)
    } else {
        Ok(())
    }
}

fn get_i16(buf: &mut &[u8]) -> Result<i16, RecordError> {
    need(buf, 2)?;
    Ok(buf.get_i16())
}

fn get_i32(buf: &mut &[u8]) -> Result<i32, RecordError> {
    need(buf, 4)?;
    Ok(buf.get_i32())
}

fn get_i64(buf: &mut &[u8]) -> Result<i64, RecordError> {
    need(buf, 8)?;
    Ok(buf.get_i64())
}

fn get_nullable_string(buf: &mut &[u8]) -> Result<Option<String>, RecordError> {
    let len = get_i16(buf)?;
    if len < 0 {
        return Ok(None);
    }
    let len = len as usize;
    need(buf, len)?;
    let s = std::str::from_utf8(&buf[..len]).map_err(|_| RecordError::NotUtf8)?.to_owned();
    buf.advance(len);
    Ok(Some(s))
}

fn get_string(buf: &mut &[u8]) -> Result<String, RecordError> {
    Ok(get_nullable_string(buf)?.unwrap_or_default())
}

fn get_bytes(buf: &mut &[u8]) -> Result<Bytes, RecordError> {
    let len = get_i32(buf)?;
    if len < 0 {
        return Ok(Bytes::new());
    }
    let len = len as usize;
    need(buf, len)?;
    let b = Bytes::copy_from_slice(&buf[..len]);
    buf.advance(len);
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_like_kafka() {
        // Java: "my-group".hashCode() == -1906497762, "connect-cluster".hashCode() == 1440343063.
        assert_eq!(partition_for("my-group", 50), 12);
        assert_eq!(partition_for("connect-cluster", 50), 13);
        assert_eq!(partition_for("tidemark", 50), 39);
        assert_eq!(partition_for("", 50), 0);
    }

    #[test]
    fn keys_and_values_round_trip() {
        let key = OffsetsKey::Offset { group: "g".into(), topic: "t".into(), partition: 3 };
        assert_eq!(OffsetsKey::decode(&key.encode()), Ok(key));
        let key = OffsetsKey::Group { group: "g".into() };
        assert_eq!(OffsetsKey::decode(&key.encode()), Ok(key));
        let offset = CommittedOffset { offset: 42, leader_epoch: 1, metadata: "m".into(), commit_timestamp: 9 };
        assert_eq!(CommittedOffset::decode(&offset.encode()), Ok(offset));
        let group = StoredGroup {
            protocol_type: "consumer".into(),
            generation: 4,
            protocol: Some("range".into()),
            leader: Some("a".into()),
            state_timestamp: 7,
            members: vec![StoredMember {
                member_id: "a".into(),
                instance_id: Some("i".into()),
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                rebalance_timeout_ms: 300_000,
                session_timeout_ms: 45_000,
                subscription: Bytes::from_static(b"sub"),
                assignment: Bytes::from_static(b"asg"),
            }],
        };
        assert_eq!(StoredGroup::decode(&group.encode()), Ok(group));
    }

    #[test]
    fn truncated_records_are_errors() {
        let offset = CommittedOffset { offset: 1, leader_epoch: -1, metadata: String::new(), commit_timestamp: 0 };
        let bytes = offset.encode();
        assert_eq!(CommittedOffset::decode(&bytes[..bytes.len() - 1]), Err(RecordError::Truncated));
        assert_eq!(OffsetsKey::decode(&[0, 9]), Err(RecordError::UnknownVersion(9)));
    }
}
