//! Reading the binary log of a MySQL or MariaDB server: the settings check, the current position, and a stream of
//! typed events from a file and position or from a GTID set ([`GtidSet`]).

mod error;
mod event;
mod flavor;
mod gtid;
mod mariadb;
mod position;
mod reader;
mod stream;
mod table_map;

pub use error::{BinlogError, GtidError};
pub use event::{BinlogEntry, BinlogEvent, RowsChange, RowsKind};
pub use flavor::Flavor;
pub use gtid::{Gtid, GtidSet, MySqlGtid, ServerUuid};
pub use mariadb::{MariaDbGtid, MariaDbGtidList};
pub use position::BinlogPosition;
pub use reader::{position_on, BinlogReader};
pub use stream::BinlogEventStream;
pub use table_map::{TableColumn, TableMap};
