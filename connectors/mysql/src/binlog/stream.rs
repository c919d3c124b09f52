//! The stream of typed events: mysql_async's binlog stream, with rows decoded against their table maps, MariaDB's
//! own events decoded by hand, and the current binlog file tracked from the ROTATE events.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use mysql_async::binlog::events::{Event, EventData, RowsEventData};
use mysql_async::binlog::EventFlags;
use mysql_async::BinlogStream;

use super::error::BinlogError;
use super::event::{BinlogEntry, BinlogEvent, RowsChange, RowsKind};
use super::gtid::{MySqlGtid, ServerUuid};
use super::mariadb::{self, decode_binlog_checkpoint, decode_gtid, decode_gtid_list};
use super::table_map::TableMap;

/// The length of the checksum the first, artificial ROTATE event's file name wrongly carries.
const CHECKSUM_LEN: usize = 4;

/// Typed binlog events from a position; see [`super::BinlogReader::stream_from`] and
/// [`super::BinlogReader::stream_from_gtids`].
pub struct BinlogEventStream {
    inner: BinlogStream,
    /// The first event, read when the stream started and not yet returned.
    first: Option<Event>,
    /// The server closed the stream.
    ended: bool,
    tables: HashMap<u64, Arc<TableMap>>,
    /// The binlog file the events come from.
    file: Arc<str>,
    /// The server writes CRC32 checksums (`binlog_checksum` is not NONE).
    checksum: bool,
    /// A FORMAT_DESCRIPTION event arrived; until then mysql_common does not know events carry checksums.
    format_known: bool,
}

impl BinlogEventStream {
    /// Wraps a requested stream and waits for its first event: mysql_async sends the dump request without reading
    /// the answer, so this is where a refused position (error 1236, [`BinlogError::Purged`]) shows. `file` is the
    /// requested file (empty when starting by GTID; the first, artificial ROTATE event names it); `checksum` tells
    /// whether the server checksums its events.
    pub(crate) async fn start(mut inner: BinlogStream, file: &str, checksum: bool) -> Result<Self, BinlogError> {
        let first = inner.next().await.transpose()?;
        Ok(BinlogEventStream {
            inner,
            ended: first.is_none(),
            first,
            tables: HashMap::new(),
            file: Arc::from(file),
            checksum,
            format_known: false,
        })
    }

    /// The next event the source cares about; `None` when the server closed the stream. A position the server
    /// cannot serve any longer is [`BinlogError::Purged`].
    pub async fn next(&mut self) -> Option<Result<BinlogEntry, BinlogError>> {
        loop {
            let event = match self.first.take() {
                Some(event) => event,
                None if self.ended => return None,
                None => match self.inner.next().await {
                    Some(Ok(event)) => event,
                    Some(Err(error)) => return Some(Err(error.into())),
                    None => {
                        self.ended = true;
                        return None;
                    }
                },
            };
            match self.decode(&event) {
                Ok(Some(entry)) => return Some(Ok(entry)),
                Ok(None) => continue,
                Err(error) => return Some(Err(error)),
            }
        }
    }

    /// Closes the replication connection.
    pub async fn close(self) -> Result<(), BinlogError> {
        Ok(self.inner.close().await?)
    }

    /// Turns one raw event into a typed one, or `None` for events skipped on purpose.
    fn decode(&mut self, event: &Event) -> Result<Option<BinlogEntry>, BinlogError> {
        let header = event.header();
        let decoded = match header.event_type_raw() {
            mariadb::GTID_EVENT => {
                let body = decode_gtid(event.data(), header.server_id())?;
                Some(BinlogEvent::MariaDbGtid {
                    gtid: body.gtid,
                    standalone: body.standalone,
                    commit_id: body.commit_id,
                })
            }
            mariadb::GTID_LIST_EVENT => Some(BinlogEvent::MariaDbGtidList(decode_gtid_list(event.data())?)),
            mariadb::BINLOG_CHECKPOINT_EVENT => {
                Some(BinlogEvent::BinlogCheckpoint { file: decode_binlog_checkpoint(event.data())? })
            }
            // The SQL text of the following rows events: the rows themselves are what counts.
            mariadb::ANNOTATE_ROWS_EVENT => None,
            _ => match event.read_data()? {
                Some(data) => self.decode_data(data)?,
                None => None,
            },
        };
        let Some(event) = decoded else { return Ok(None) };
        let mut file = self.file.clone();
        if let BinlogEvent::Rotate { file: next, .. } = &event {
            self.file = Arc::from(next.as_str());
            // A real ROTATE ends its file; an artificial one stands for the file it names.
            if header.flags().contains(EventFlags::LOG_EVENT_ARTIFICIAL_F) {
                file = self.file.clone();
            }
        }
        Ok(Some(BinlogEntry {
            server_id: header.server_id(),
            timestamp: header.timestamp(),
            file,
            next_pos: header.log_pos(),
            event,
        }))
    }

    /// Decodes the events mysql_common knows.
    fn decode_data(&mut self, data: EventData<'_>) -> Result<Option<BinlogEvent>, BinlogError> {
        Ok(match data {
            EventData::FormatDescriptionEvent(_) => {
                self.format_known = true;
                None
            }
            EventData::RotateEvent(rotate) => {
                let mut name = rotate.name_raw();
                if !self.format_known && self.checksum && name.len() > CHECKSUM_LEN {
                    name = &name[..name.len() - CHECKSUM_LEN];
                }
                Some(BinlogEvent::Rotate { file: String::from_utf8_lossy(name).into_owned(), pos: rotate.position() })
            }
            EventData::GtidEvent(gtid) => {
                Some(BinlogEvent::MySqlGtid { gtid: MySqlGtid { uuid: ServerUuid(gtid.sid()), gno: gtid.gno() } })
            }
            EventData::TableMapEvent(table_map) => {
                let table = Arc::new(TableMap::from_event(&table_map)?);
                self.tables.insert(table.table_id, table.clone());
                Some(BinlogEvent::TableMap(table))
            }
            EventData::RowsEvent(rows) => Some(BinlogEvent::Rows(self.decode_rows(&rows)?)),
            EventData::QueryEvent(query) => Some(BinlogEvent::Query {
                thread: query.thread_id(),
                schema: query.schema().into_owned(),
                query: query.query().into_owned(),
            }),
            EventData::XidEvent(xid) => Some(BinlogEvent::Xid { xid: xid.xid }),
            _ => None,
        })
    }

    /// Decodes the rows of a rows event with the table map announced before it.
    fn decode_rows(&self, rows: &RowsEventData<'_>) -> Result<RowsChange, BinlogError> {
        let table_id = rows.table_id();
        let table = self.tables.get(&table_id).cloned().ok_or(BinlogError::UnknownTable(table_id))?;
        let table_map_event = self.inner.get_tme(table_id).ok_or(BinlogError::UnknownTable(table_id))?;
        let kind = match rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => RowsKind::Insert,
            RowsEventData::UpdateRowsEventV1(_)
            | RowsEventData::UpdateRowsEvent(_)
            | RowsEventData::PartialUpdateRowsEvent(_) => RowsKind::Update,
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => RowsKind::Delete,
        };
        let rows = rows.rows(table_map_event).collect::<Result<Vec<_>, _>>()?;
        Ok(RowsChange { kind, table, rows })
    }
}
