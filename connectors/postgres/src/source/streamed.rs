//! Large transactions that pgoutput streams before they commit (`streaming 'on'`): their messages are held, per
//! top-level transaction, until Stream Commit hands them over in order, and dropped on Stream Abort.
//!
//! A Stream Abort naming a subtransaction drops that subtransaction's changes and everything after its first one
//! (its own subtransactions' changes, which can only come after it), as PostgreSQL's own subscriber does. Relation
//! messages are kept through such an abort: pgoutput does not describe a relation twice in one streamed
//! transaction, so later changes may still need the description.
//!
//! Held in memory for now; spilling to disk is still to come.

use std::collections::HashMap;

use crate::pgoutput::Message;
use crate::replication::Lsn;

/// A held message and the WAL position it arrived at.
pub type HeldMessage = (Lsn, Message);

#[derive(Debug, Default)]
struct Held {
    messages: Vec<HeldMessage>,
    /// Each subtransaction with changes held, and the index of its first held message, in arrival order.
    subtransactions: Vec<(u32, usize)>,
}

/// The streamed transactions in progress.
#[derive(Debug, Default)]
pub struct StreamedTransactions {
    transactions: HashMap<u32, Held>,
}

impl StreamedTransactions {
    /// Holds `message` of top-level transaction `top`, made by (sub)transaction `xid`.
    pub fn hold(&mut self, top: u32, xid: u32, lsn: Lsn, message: Message) {
        let held = self.transactions.entry(top).or_default();
        if xid != top && !held.subtransactions.iter().any(|(sub, _)| *sub == xid) {
            held.subtransactions.push((xid, held.messages.len()));
        }
        held.messages.push((lsn, message));
    }

    /// The messages of `top`, which committed, in order; forgotten here.
    pub fn commit(&mut self, top: u32) -> Vec<HeldMessage> {
        self.transactions.remove(&top).map(|held| held.messages).unwrap_or_default()
    }

    /// `top` aborted (when `subxid == top`), or its subtransaction `subxid` did.
    pub fn abort(&mut self, top: u32, subxid: u32) {
        if subxid == top {
            self.transactions.remove(&top);
            return;
        }
        let Some(held) = self.transactions.get_mut(&top) else { return };
        let Some(position) = held.subtransactions.iter().position(|(sub, _)| *sub == subxid) else { return };
        let start = held.subtransactions[position].1;
        held.subtransactions.truncate(position);
        let dropped = held.messages.split_off(start);
        held.messages.extend(dropped.into_iter().filter(|(_, m)| matches!(m, Message::Relation(_) | Message::Type(_))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pgoutput::{Insert, Relation, ReplicaIdentity, TupleData};

    fn insert(xid: u32, id: u8) -> Message {
        Message::Insert(Insert { xid: Some(xid), relation_oid: u32::from(id), new: TupleData { columns: vec![] } })
    }

    fn relation(xid: u32) -> Message {
        Message::Relation(Relation {
            xid: Some(xid),
            oid: 1,
            namespace: "public".into(),
            name: "t".into(),
            replica_identity: ReplicaIdentity::Default,
            columns: vec![],
        })
    }

    fn ids(messages: &[HeldMessage]) -> Vec<u32> {
        messages
            .iter()
            .map(|(_, m)| match m {
                Message::Insert(i) => i.relation_oid,
                _ => 0,
            })
            .collect()
    }

    #[test]
    fn commit_hands_over_in_order_and_abort_drops() {
        let mut held = StreamedTransactions::default();
        held.hold(10, 10, Lsn(1), insert(10, 1));
        held.hold(20, 20, Lsn(2), insert(20, 2));
        held.hold(10, 10, Lsn(3), insert(10, 3));
        held.abort(20, 20);
        assert_eq!(ids(&held.commit(10)), [1, 3]);
        assert!(held.commit(10).is_empty());
        assert!(held.commit(20).is_empty());
    }

    #[test]
    fn a_subtransaction_abort_drops_it_and_what_followed() {
        let mut held = StreamedTransactions::default();
        held.hold(10, 10, Lsn(1), insert(10, 1));
        held.hold(10, 11, Lsn(2), insert(11, 2));
        held.hold(10, 11, Lsn(3), relation(11));
        held.hold(10, 12, Lsn(4), insert(12, 4));
        held.hold(10, 11, Lsn(5), insert(11, 5));
        held.abort(10, 11);
        held.hold(10, 10, Lsn(6), insert(10, 6));
        held.abort(10, 99);
        let messages = held.commit(10);
        // The relation of the aborted subtransaction stays.
        assert_eq!(ids(&messages), [1, 0, 6]);
        assert_eq!(messages.iter().map(|(lsn, _)| lsn.0).collect::<Vec<_>>(), [1, 3, 6]);
    }
}
