//! MariaDB's own events, which mysql_common does not decode: GTID (162), GTID_LIST (163) and BINLOG_CHECKPOINT (161).
//! Their bodies (after the common header, without the checksum) are decoded here by hand, little-endian as all
//! binlog integers.

use super::error::BinlogError;

/// MariaDB's ANNOTATE_ROWS event: the SQL text of the following rows events; skipped.
pub(crate) const ANNOTATE_ROWS_EVENT: u8 = 160;
/// MariaDB's BINLOG_CHECKPOINT event: the oldest binlog file still needed for crash recovery.
pub(crate) const BINLOG_CHECKPOINT_EVENT: u8 = 161;
/// MariaDB's GTID event: starts an event group (transaction or DDL).
pub(crate) const GTID_EVENT: u8 = 162;
/// MariaDB's GTID_LIST event: the last GTID of every domain before this binlog file.
pub(crate) const GTID_LIST_EVENT: u8 = 163;

/// The GTID event flag: the group is a single statement without BEGIN ... COMMIT/XID.
const FL_STANDALONE: u8 = 1;
/// The GTID event flag: a group commit id follows the flags.
const FL_GROUP_COMMIT_ID: u8 = 2;

/// A MariaDB GTID, `domain-server-sequence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MariaDbGtid {
    /// The replication domain.
    pub domain_id: u32,
    /// The server that originally wrote the event group.
    pub server_id: u32,
    /// The sequence number within the domain.
    pub seq_no: u64,
}

impl std::fmt::Display for MariaDbGtid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.domain_id, self.server_id, self.seq_no)
    }
}

/// A decoded GTID event (162): the GTID of the event group it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GtidEventBody {
    pub gtid: MariaDbGtid,
    pub standalone: bool,
    pub commit_id: Option<u64>,
}

/// The GTID_LIST event's content: the binlog state (last GTID per domain and server) before the file it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MariaDbGtidList {
    /// The GTIDs, in the server's order.
    pub gtids: Vec<MariaDbGtid>,
}

/// Decodes a GTID event body: `seq_no u64, domain_id u32, flags u8`, then `commit_id u64` when flagged. The
/// server id is the event header's.
pub(crate) fn decode_gtid(body: &[u8], server_id: u32) -> Result<GtidEventBody, BinlogError> {
    let mut input = Reader { body, event: "GTID" };
    let seq_no = input.u64()?;
    let domain_id = input.u32()?;
    let flags = input.u8()?;
    let commit_id = if flags & FL_GROUP_COMMIT_ID != 0 { Some(input.u64()?) } else { None };
    Ok(GtidEventBody {
        gtid: MariaDbGtid { domain_id, server_id, seq_no },
        standalone: flags & FL_STANDALONE != 0,
        commit_id,
    })
}

/// Decodes a GTID_LIST event body: `count u32` (its low 28 bits; the high 4 are flags), then per GTID
/// `domain_id u32, server_id u32, seq_no u64`.
pub(crate) fn decode_gtid_list(body: &[u8]) -> Result<MariaDbGtidList, BinlogError> {
    let mut input = Reader { body, event: "GTID_LIST" };
    let count = input.u32()? & 0x0fff_ffff;
    let mut gtids = Vec::new();
    for _ in 0..count {
        let domain_id = input.u32()?;
        let server_id = input.u32()?;
        let seq_no = input.u64()?;
        gtids.push(MariaDbGtid { domain_id, server_id, seq_no });
    }
    Ok(MariaDbGtidList { gtids })
}

/// Decodes a BINLOG_CHECKPOINT event body: `length u32`, then the file name.
pub(crate) fn decode_binlog_checkpoint(body: &[u8]) -> Result<String, BinlogError> {
    let mut input = Reader { body, event: "BINLOG_CHECKPOINT" };
    let length = input.u32()? as usize;
    let name = input.take(length)?;
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// A cursor over an event body that fails with [`BinlogError::Malformed`] when it runs short.
struct Reader<'a> {
    body: &'a [u8],
    event: &'static str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BinlogError> {
        if self.body.len() < n {
            return Err(BinlogError::Malformed { event: self.event, reason: "body too short" });
        }
        let (head, rest) = self.body.split_at(n);
        self.body = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BinlogError> {
        let mut bytes = [0; N];
        bytes.copy_from_slice(self.take(N)?);
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, BinlogError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, BinlogError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, BinlogError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_gtid_event_with_and_without_commit_id() {
        let mut body = 17u64.to_le_bytes().to_vec();
        body.extend(3u32.to_le_bytes());
        body.push(FL_STANDALONE);
        let event = decode_gtid(&body, 7).expect("decodes");
        assert_eq!(event.gtid, MariaDbGtid { domain_id: 3, server_id: 7, seq_no: 17 });
        assert!(event.standalone);
        assert_eq!(event.commit_id, None);
        assert_eq!(event.gtid.to_string(), "3-7-17");

        body[12] = FL_GROUP_COMMIT_ID;
        body.extend(99u64.to_le_bytes());
        let event = decode_gtid(&body, 7).expect("decodes");
        assert!(!event.standalone);
        assert_eq!(event.commit_id, Some(99));
        assert!(decode_gtid(&body[..20], 7).is_err());
    }

    #[test]
    fn decodes_a_gtid_list_and_a_checkpoint() {
        let mut body = (2u32 | 0x1000_0000).to_le_bytes().to_vec();
        for (domain, server, seq) in [(0u32, 1u32, 5u64), (1, 2, 9)] {
            body.extend(domain.to_le_bytes());
            body.extend(server.to_le_bytes());
            body.extend(seq.to_le_bytes());
        }
        let list = decode_gtid_list(&body).expect("decodes");
        let texts: Vec<String> = list.gtids.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["0-1-5", "1-2-9"]);

        let mut body = 13u32.to_le_bytes().to_vec();
        body.extend(b"binlog.000001");
        assert_eq!(decode_binlog_checkpoint(&body).expect("decodes"), "binlog.000001");
        assert!(decode_binlog_checkpoint(&body[..8]).is_err());
    }
}
