//! Large transactions that pgoutput streams before they commit (`streaming 'on'`): their messages are held, per
//! top-level transaction, as the payloads received, until Stream Commit hands them over in order (to be decoded
//! again, [`Replayed`]), and dropped on Stream Abort.
//!
//! A transaction whose held payloads grow past [`SPILL_BYTES`] moves them to an anonymous temporary file (gone when
//! closed, and when the worker dies), and holds the rest there too, so the worker's memory stays bounded however
//! large a transaction grows. Each entry is the position (8 bytes), the payload's length (4 bytes) and the payload.
//!
//! A Stream Abort naming a subtransaction drops that subtransaction's changes and everything after its first one
//! (its own subtransactions' changes, which can only come after it), as PostgreSQL's own subscriber does. Relation
//! and Type messages are kept through such an abort: pgoutput does not describe a relation twice in one streamed
//! transaction, so later changes may still need the description.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use bytes::Bytes;

use crate::pgoutput::MessageKind;
use crate::replication::Lsn;

/// Held payload bytes of one transaction beyond which it moves to a file.
pub const SPILL_BYTES: usize = 64 << 20;

/// Bytes of an entry's header: the position and the payload's length.
const ENTRY_HEADER: u64 = 12;

/// A held payload and the WAL position it arrived at.
pub type HeldPayload = (Lsn, Bytes);

/// Where a transaction's payloads are.
enum Store {
    /// In memory, with their size in bytes.
    Memory(Vec<HeldPayload>, usize),
    /// In a file of entries `length` bytes long.
    File { file: BufWriter<File>, length: u64 },
}

/// One transaction's held payloads.
struct Held {
    store: Store,
    /// Each subtransaction with changes held, and where its first held payload is: an index into the memory, or a
    /// byte offset into the file.
    subtransactions: Vec<(u32, u64)>,
    /// The position of the first payload that has one (Relation and Type messages have none), kept even if an
    /// aborted subtransaction's change dropped it.
    first_lsn: Option<Lsn>,
}

impl Held {
    /// Where the next payload goes (an index or an offset, as [`Held::subtransactions`]).
    fn mark(&self) -> u64 {
        match &self.store {
            Store::Memory(payloads, _) => payloads.len() as u64,
            Store::File { length, .. } => *length,
        }
    }

    fn push(&mut self, lsn: Lsn, payload: Bytes, spill_bytes: usize) -> io::Result<()> {
        if lsn != Lsn::ZERO && self.first_lsn.is_none() {
            self.first_lsn = Some(lsn);
        }
        let over = match &mut self.store {
            Store::Memory(payloads, size) => {
                *size += payload.len();
                payloads.push((lsn, payload));
                *size > spill_bytes
            }
            Store::File { file, length } => {
                *length += write_entry(file, lsn, &payload)?;
                false
            }
        };
        if over {
            self.spill()?;
        }
        Ok(())
    }

    /// Moves the payloads held in memory to a new file.
    fn spill(&mut self) -> io::Result<()> {
        let Store::Memory(payloads, _) = &mut self.store else { return Ok(()) };
        let mut file = BufWriter::new(tempfile::tempfile()?);
        let mut offsets = Vec::with_capacity(payloads.len() + 1);
        let mut length = 0;
        for (lsn, payload) in payloads.drain(..) {
            offsets.push(length);
            length += write_entry(&mut file, lsn, &payload)?;
        }
        offsets.push(length);
        for (_, mark) in &mut self.subtransactions {
            *mark = offsets[*mark as usize];
        }
        self.store = Store::File { file, length };
        Ok(())
    }

    /// Drops what was held from `mark` on, but its Relation and Type messages.
    fn drop_from(&mut self, mark: u64) -> io::Result<()> {
        match &mut self.store {
            Store::Memory(payloads, size) => {
                let dropped = payloads.split_off(mark as usize);
                payloads.extend(dropped.into_iter().filter(|(_, payload)| describes_types(payload)));
                *size = payloads.iter().map(|(_, payload)| payload.len()).sum();
            }
            Store::File { file, length } => {
                file.flush()?;
                let inner = file.get_mut();
                inner.seek(SeekFrom::Start(mark))?;
                let mut kept = Vec::new();
                {
                    let mut entries = BufReader::new(&mut *inner);
                    while let Some((lsn, payload)) = read_entry(&mut entries)? {
                        if describes_types(&payload) {
                            kept.push((lsn, payload));
                        }
                    }
                }
                inner.set_len(mark)?;
                inner.seek(SeekFrom::Start(mark))?;
                *length = mark;
                for (lsn, payload) in kept {
                    *length += write_entry(file, lsn, &payload)?;
                }
            }
        }
        Ok(())
    }
}

/// Whether a payload is a Relation or Type message.
fn describes_types(payload: &[u8]) -> bool {
    let kind = payload.first().copied().and_then(MessageKind::from_tag);
    matches!(kind, Some(MessageKind::Relation | MessageKind::Type))
}

/// Writes one entry; its size.
fn write_entry(file: &mut impl Write, lsn: Lsn, payload: &[u8]) -> io::Result<u64> {
    let length = u32::try_from(payload.len()).map_err(|_| io::Error::other("a payload of 4 GiB or more"))?;
    file.write_all(&lsn.0.to_be_bytes())?;
    file.write_all(&length.to_be_bytes())?;
    file.write_all(payload)?;
    Ok(ENTRY_HEADER + u64::from(length))
}

/// Reads the next entry, `None` at the end.
fn read_entry(file: &mut impl Read) -> io::Result<Option<HeldPayload>> {
    let mut header = [0u8; ENTRY_HEADER as usize];
    match file.read_exact(&mut header) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    let (lsn, length) = header.split_at(8);
    let lsn = Lsn(u64::from_be_bytes(lsn.try_into().map_err(io::Error::other)?));
    let length = u32::from_be_bytes(length.try_into().map_err(io::Error::other)?) as usize;
    let mut payload = vec![0; length];
    file.read_exact(&mut payload)?;
    Ok(Some((lsn, Bytes::from(payload))))
}

/// A committed transaction: its payloads in order, and the position of the first that has one.
pub struct Committed {
    /// The payloads.
    pub payloads: Replayed,
    /// The first position.
    pub first_lsn: Option<Lsn>,
}

/// A committed transaction's payloads, in order.
pub enum Replayed {
    /// Held in memory.
    Memory(std::vec::IntoIter<HeldPayload>),
    /// Read back from its file.
    File(BufReader<File>),
}

impl Replayed {
    /// The next payload, `None` after the last.
    pub fn next_payload(&mut self) -> io::Result<Option<HeldPayload>> {
        match self {
            Replayed::Memory(payloads) => Ok(payloads.next()),
            // Blocking reads, but sequential ones of a file just written, mostly from the page cache.
            Replayed::File(file) => read_entry(file),
        }
    }
}

/// The streamed transactions in progress.
pub struct StreamedTransactions {
    transactions: HashMap<u32, Held>,
    spill_bytes: usize,
}

impl Default for StreamedTransactions {
    fn default() -> Self {
        StreamedTransactions::spilling_past(SPILL_BYTES)
    }
}

impl StreamedTransactions {
    /// Transactions that move to a file past `spill_bytes` bytes held.
    pub fn spilling_past(spill_bytes: usize) -> Self {
        StreamedTransactions { transactions: HashMap::new(), spill_bytes }
    }

    /// Holds `payload` of top-level transaction `top`, made by (sub)transaction `xid`.
    pub fn hold(&mut self, top: u32, xid: u32, lsn: Lsn, payload: Bytes) -> io::Result<()> {
        let held = self.transactions.entry(top).or_insert_with(|| Held {
            store: Store::Memory(Vec::new(), 0),
            subtransactions: Vec::new(),
            first_lsn: None,
        });
        if xid != top && !held.subtransactions.iter().any(|(sub, _)| *sub == xid) {
            let mark = held.mark();
            held.subtransactions.push((xid, mark));
        }
        held.push(lsn, payload, self.spill_bytes)
    }

    /// The payloads of `top`, which committed, in order; forgotten here.
    pub fn commit(&mut self, top: u32) -> io::Result<Committed> {
        let Some(held) = self.transactions.remove(&top) else {
            return Ok(Committed { payloads: Replayed::Memory(Vec::new().into_iter()), first_lsn: None });
        };
        let payloads = match held.store {
            Store::Memory(payloads, _) => Replayed::Memory(payloads.into_iter()),
            Store::File { file, length } => {
                let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.seek(SeekFrom::Start(0))?;
                tracing::info!(xid = top, bytes = length, "replaying a streamed transaction from its file");
                Replayed::File(BufReader::with_capacity(1 << 20, file))
            }
        };
        Ok(Committed { payloads, first_lsn: held.first_lsn })
    }

    /// `top` aborted (when `subxid == top`), or its subtransaction `subxid` did.
    pub fn abort(&mut self, top: u32, subxid: u32) -> io::Result<()> {
        if subxid == top {
            self.transactions.remove(&top);
            return Ok(());
        }
        let Some(held) = self.transactions.get_mut(&top) else { return Ok(()) };
        let Some(position) = held.subtransactions.iter().position(|(sub, _)| *sub == subxid) else { return Ok(()) };
        let mark = held.subtransactions[position].1;
        held.subtransactions.truncate(position);
        held.drop_from(mark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Insert-tagged payload standing for change `id`.
    fn insert(id: u8) -> Bytes {
        Bytes::from(vec![b'I', id])
    }

    fn relation() -> Bytes {
        Bytes::from(vec![b'R', 0])
    }

    fn replayed(held: &mut StreamedTransactions, top: u32) -> Vec<(u64, u8)> {
        let mut replayed = held.commit(top).expect("commit").payloads;
        let mut out = Vec::new();
        while let Some((lsn, payload)) = replayed.next_payload().expect("read") {
            out.push((lsn.0, payload[1]));
        }
        out
    }

    /// Both ways: held in memory, and moved to a file from the first payload.
    fn both() -> [StreamedTransactions; 2] {
        [StreamedTransactions::default(), StreamedTransactions::spilling_past(0)]
    }

    #[test]
    fn commit_hands_over_in_order_and_abort_drops() {
        for mut held in both() {
            held.hold(10, 10, Lsn(1), insert(1)).expect("hold");
            held.hold(20, 20, Lsn(2), insert(2)).expect("hold");
            held.hold(10, 10, Lsn(3), insert(3)).expect("hold");
            held.abort(20, 20).expect("abort");
            assert_eq!(replayed(&mut held, 10), [(1, 1), (3, 3)]);
            assert!(replayed(&mut held, 10).is_empty());
            assert!(replayed(&mut held, 20).is_empty());
        }
    }

    #[test]
    fn a_subtransaction_abort_drops_it_and_what_followed() {
        for mut held in both() {
            held.hold(10, 10, Lsn(1), insert(1)).expect("hold");
            held.hold(10, 11, Lsn(2), insert(2)).expect("hold");
            held.hold(10, 11, Lsn(3), relation()).expect("hold");
            held.hold(10, 12, Lsn(4), insert(4)).expect("hold");
            held.hold(10, 11, Lsn(5), insert(5)).expect("hold");
            held.abort(10, 11).expect("abort");
            held.hold(10, 10, Lsn(6), insert(6)).expect("hold");
            held.abort(10, 99).expect("abort");
            // The relation of the aborted subtransaction stays.
            assert_eq!(replayed(&mut held, 10), [(1, 1), (3, 0), (6, 6)]);
        }
    }

    #[test]
    fn a_transaction_moves_to_a_file_when_it_grows_past_the_limit() {
        let mut held = StreamedTransactions::spilling_past(5);
        held.hold(10, 10, Lsn(1), insert(1)).expect("hold");
        held.hold(10, 11, Lsn(2), insert(2)).expect("hold");
        assert!(matches!(held.transactions[&10].store, Store::Memory(..)));
        held.hold(10, 11, Lsn(3), insert(3)).expect("hold");
        assert!(matches!(held.transactions[&10].store, Store::File { .. }));
        // The subtransaction's mark moved from an index to an offset with the payloads.
        held.hold(10, 12, Lsn(4), insert(4)).expect("hold");
        held.abort(10, 12).expect("abort");
        held.abort(10, 11).expect("abort");
        held.hold(10, 10, Lsn(5), insert(5)).expect("hold");
        assert_eq!(replayed(&mut held, 10), [(1, 1), (5, 5)]);
    }
}
