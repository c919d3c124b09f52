//! TupleData: the column values of one row, as `logicalrep_write_tuple` sends them.

use bytes::Bytes;

use super::error::DecodeError;
use super::reader::Reader;

/// One column's value in a row message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnValue {
    /// `n`: SQL NULL.
    Null,
    /// `u`: an unchanged TOASTed value that pgoutput did not send. The value is *unknown* here, not empty: the
    /// old row (REPLICA IDENTITY FULL) or a placeholder must stand in for it, never an invented value.
    UnchangedToast,
    /// `t`: the value in the type's text output form, as sent (not NUL-terminated, not re-encoded).
    Text(Bytes),
    /// `b`: the value in the type's binary send form (when the session asked for `binary 'true'` and the type
    /// has a send function).
    Binary(Bytes),
}

/// The values of one row, one per column of the relation in the relation's column order (dropped and generated
/// columns are not sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TupleData {
    /// The column values.
    pub columns: Vec<ColumnValue>,
}

/// The old row an Update or Delete carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldTuple {
    /// `K`: the replica identity key (DEFAULT or USING INDEX). Every column is present; those outside the key
    /// are [`ColumnValue::Null`].
    Key(TupleData),
    /// `O`: the whole old row (REPLICA IDENTITY FULL). Unchanged TOASTed values can still be
    /// [`ColumnValue::UnchangedToast`] in it.
    Full(TupleData),
}

impl OldTuple {
    /// The old row's values, whichever form they came in.
    pub fn tuple(&self) -> &TupleData {
        match self {
            OldTuple::Key(tuple) | OldTuple::Full(tuple) => tuple,
        }
    }
}

impl TupleData {
    /// Reads `Int16` column count, then per column a kind byte and, for `t` and `b`, an `Int32` length and the
    /// value.
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let count = usize::from(r.u16("column count")?);
        // Each column takes at least its kind byte: never reserve more than the payload can hold.
        let mut columns = Vec::with_capacity(count.min(r.remaining()));
        for _ in 0..count {
            let value = match r.u8("column kind")? {
                b'n' => ColumnValue::Null,
                b'u' => ColumnValue::UnchangedToast,
                b't' => ColumnValue::Text(r.counted_bytes("text column value")?),
                b'b' => ColumnValue::Binary(r.counted_bytes("binary column value")?),
                other => return Err(r.unexpected("column kind", other, "'n', 'u', 't' or 'b'")),
            };
            columns.push(value);
        }
        Ok(TupleData { columns })
    }
}

#[cfg(test)]
mod tests {
    use super::super::kind::MessageKind;
    use super::super::test_support::Payload;
    use super::*;

    fn decode(payload: Payload) -> Result<TupleData, DecodeError> {
        let mut r = Reader::new(payload.build(), MessageKind::Insert);
        let tuple = TupleData::decode(&mut r)?;
        r.finish()?;
        Ok(tuple)
    }

    #[test]
    fn every_column_kind() {
        let payload = Payload::new()
            .int16(5)
            .byte(b'n')
            .byte(b'u')
            .byte(b't')
            .counted(b"42")
            .byte(b'b')
            .counted(&[0, 0, 0, 42])
            .byte(b't')
            .counted(b"");
        let tuple = decode(payload).expect("tuple");
        assert_eq!(
            tuple.columns,
            vec![
                ColumnValue::Null,
                ColumnValue::UnchangedToast,
                ColumnValue::Text(Bytes::from_static(b"42")),
                ColumnValue::Binary(Bytes::from_static(&[0, 0, 0, 42])),
                ColumnValue::Text(Bytes::new()),
            ]
        );
    }

    #[test]
    fn zero_columns() {
        assert_eq!(decode(Payload::new().int16(0)), Ok(TupleData { columns: vec![] }));
    }

    #[test]
    fn unknown_column_kind_is_named() {
        let error = decode(Payload::new().int16(1).byte(b'x')).expect_err("bad kind");
        assert_eq!(
            error,
            DecodeError::UnexpectedByte {
                message: MessageKind::Insert,
                field: "column kind",
                found: b'x',
                expected: "'n', 'u', 't' or 'b'"
            }
        );
    }

    #[test]
    fn a_huge_column_count_does_not_allocate_or_panic() {
        let error = decode(Payload::new().int16(u16::MAX).byte(b'n')).expect_err("short");
        assert!(matches!(error, DecodeError::Truncated { field: "column kind", .. }), "{error}");
    }

    #[test]
    fn old_tuple_gives_its_values() {
        let tuple = TupleData { columns: vec![ColumnValue::Null] };
        assert_eq!(OldTuple::Key(tuple.clone()).tuple(), &tuple);
        assert_eq!(OldTuple::Full(tuple.clone()).tuple(), &tuple);
    }
}
