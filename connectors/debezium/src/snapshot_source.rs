//! The `source` block a snapshot's records share: Debezium gives every record of a table the same one (the
//! snapshot's time, its position, the table, and the marker, which is `true` for all but a table's ends), so it is
//! built once per table and marker and shared ([`Struct::into_shared`]) instead of built per record.

use tidemark_connect::data::Value;

use crate::event::SnapshotMarker;

/// The `source` block of the table and marker asked for last.
#[derive(Debug, Default)]
pub struct SnapshotSourceBlock {
    last: Option<(usize, SnapshotMarker, Value)>,
}

impl SnapshotSourceBlock {
    /// The block of table `table` (an index among the snapshot's tables) with `marker`: the one asked for last when
    /// it is the same, else the one `build` makes, its values shared.
    pub fn get<E>(
        &mut self,
        table: usize,
        marker: SnapshotMarker,
        build: impl FnOnce() -> Result<Value, E>,
    ) -> Result<Value, E> {
        if let Some((last_table, last_marker, block)) = &self.last {
            if *last_table == table && *last_marker == marker {
                return Ok(block.clone());
            }
        }
        let block = match build()? {
            Value::Struct(block) => Value::Struct(block.into_shared()),
            other => other,
        };
        self.last = Some((table, marker, block.clone()));
        Ok(block)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tidemark_connect::data::{SchemaBuilder, Struct};

    use super::*;

    #[test]
    fn built_once_per_table_and_marker() {
        let schema = SchemaBuilder::struct_()
            .field("snapshot", SchemaBuilder::string().build().expect("field"))
            .build()
            .expect("schema");
        let mut built = 0;
        let mut build = |marker: SnapshotMarker| {
            built += 1;
            Ok::<_, Infallible>(Value::Struct(
                Struct::from_values(schema.clone(), vec![Value::from(marker.as_str())]).expect("struct"),
            ))
        };
        let mut blocks = SnapshotSourceBlock::default();
        let asks = [
            (0, SnapshotMarker::First),
            (0, SnapshotMarker::True),
            (0, SnapshotMarker::True),
            (0, SnapshotMarker::LastInDataCollection),
            (1, SnapshotMarker::FirstInDataCollection),
            (1, SnapshotMarker::True),
            (1, SnapshotMarker::True),
        ];
        let mut values = Vec::new();
        for (table, marker) in asks {
            let block = blocks.get(table, marker, || build(marker)).expect("block");
            let block = block.as_struct().expect("struct").clone();
            assert_eq!(block.values(), [Value::from(marker.as_str())]);
            values.push(block);
        }
        assert_eq!(built, 5, "the repeated asks are answered from the last block");
        assert!(std::ptr::eq(values[1].values(), values[2].values()), "and share its values");
        assert!(std::ptr::eq(values[5].values(), values[6].values()));
    }
}
