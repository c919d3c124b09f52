//! Consumer groups: the classic group protocol's coordinator and the committed offsets it keeps in
//! `__consumer_offsets` (DESIGN.md §1).
//!
//! - [`membership`]: the state machine of one group (join, sync, heartbeat, leave, session expiry).
//! - [`coordinator`]: every group, their offsets, and their records in `__consumer_offsets`.
//! - [`offsets_topic`]: the record layout of `__consumer_offsets` (Kafka's own).

pub mod committed;
pub mod consumer_protocol;
pub mod coordinator;
mod log_store;
pub mod member;
pub mod membership;
pub mod offsets_topic;

pub use coordinator::{Committer, GroupCoordinator, GroupDescription, GroupListing, MemberDescription, OffsetCommit};
pub use member::{JoinParams, JoinResult, JoinedMember, SyncResult};
pub use membership::GroupState;
pub use offsets_topic::{CommittedOffset, OFFSETS_TOPIC};
