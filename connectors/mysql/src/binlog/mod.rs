//! Reading the binary log of a MySQL or MariaDB server: the settings check, the current position, and a stream of
//! typed events from a file and position.

mod error;
mod event;
mod flavor;
mod mariadb;
mod position;
mod reader;
mod stream;
mod table_map;

pub use error::BinlogError;
pub use event::{BinlogEntry, BinlogEvent, RowsChange, RowsKind};
pub use flavor::Flavor;
pub use mariadb::{MariaDbGtid, MariaDbGtidList};
pub use position::BinlogPosition;
pub use reader::BinlogReader;
pub use stream::BinlogEventStream;
pub use table_map::{TableColumn, TableMap};
