//! The binary format of `COPY ... TO STDOUT (FORMAT binary)` ("Binary Format" under COPY in PostgreSQL's
//! documentation), read from the chunks the server sends, which do not respect row boundaries: an 11-byte
//! signature, a flags word and a header extension; then per row an `Int16` field count and per field an `Int32`
//! length (-1 for NULL) and the value's bytes in its type's binary send form; then the trailer, a field count of
//! -1. Postgres sends one CopyData message per row, so a chunk usually holds whole rows: those are read in place,
//! and only a row split across chunks is copied (into a carry-over buffer). Values are slices of the data, not
//! copies.

use bytes::{Buf, Bytes, BytesMut};

/// The signature every binary COPY stream starts with.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Header flag bit 16: OIDs are included (refused: tables have no OIDs since PostgreSQL 12).
const HAS_OIDS: u32 = 1 << 16;

/// One row: its field values, each `None` for NULL, in column order.
#[derive(Debug, Clone)]
pub struct CopyRow {
    /// The fields after the count, each an `Int32` length and its bytes; checked when the row was cut out.
    fields: Bytes,
    count: usize,
}

impl CopyRow {
    /// The number of values.
    pub fn len(&self) -> usize {
        self.count
    }

    /// The values in column order, `None` for NULL.
    pub fn values(&self) -> impl Iterator<Item = Option<&[u8]>> + '_ {
        let mut rest = &self.fields[..];
        (0..self.count).map(move |_| {
            let size = rest.get_i32();
            if size < 0 {
                return None;
            }
            let (value, after) = rest.split_at(size as usize);
            rest = after;
            Some(value)
        })
    }
}

/// Reads rows out of binary COPY data as it arrives.
#[derive(Debug, Default)]
pub struct CopyReader {
    /// The chunk being read in place; empty while `carried` holds data.
    chunk: Bytes,
    /// The unread data when a row spans chunks.
    carried: BytesMut,
    header_read: bool,
    finished: bool,
}

impl CopyReader {
    /// A reader before the header.
    pub fn new() -> Self {
        CopyReader::default()
    }

    /// Adds the next chunk of data.
    pub fn push(&mut self, chunk: Bytes) {
        if self.chunk.is_empty() && self.carried.is_empty() {
            self.chunk = chunk;
            return;
        }
        // A row left incomplete: gather what remains of it and the new chunk.
        let rest = std::mem::take(&mut self.chunk);
        self.carried.extend_from_slice(&rest);
        self.carried.extend_from_slice(&chunk);
    }

    /// The next complete row, `None` when more data is needed or the trailer was read. `Err` says what is
    /// malformed.
    pub fn next_row(&mut self) -> Result<Option<CopyRow>, String> {
        if !self.header_read && !self.read_header()? {
            return Ok(None);
        }
        if self.finished {
            return Ok(None);
        }
        let Some(length) = row_length(self.unread())? else { return Ok(None) };
        let mut row = self.take(length);
        let count = row.get_i16();
        if count == -1 {
            self.finished = true;
            return Ok(None);
        }
        // `row_length` checked the count and every field.
        Ok(Some(CopyRow { fields: row, count: count as usize }))
    }

    /// Checks that the data ended with the trailer and nothing after it.
    pub fn finish(&self) -> Result<(), String> {
        if !self.finished {
            return Err("the data ended before the trailer".to_owned());
        }
        if !self.unread().is_empty() {
            return Err(format!("{} bytes after the trailer", self.unread().len()));
        }
        Ok(())
    }

    /// The data not read yet.
    fn unread(&self) -> &[u8] {
        match self.carried.is_empty() {
            true => &self.chunk,
            false => &self.carried,
        }
    }

    /// The next `length` unread bytes, which are there.
    fn take(&mut self, length: usize) -> Bytes {
        match self.carried.is_empty() {
            true => self.chunk.split_to(length),
            false => self.carried.split_to(length).freeze(),
        }
    }

    /// Reads the header once it is all there; `false` when more data is needed.
    fn read_header(&mut self) -> Result<bool, String> {
        const FIXED: usize = SIGNATURE.len() + 8;
        let unread = self.unread();
        if unread.len() < FIXED {
            return Ok(false);
        }
        if &unread[..SIGNATURE.len()] != SIGNATURE {
            return Err("no binary COPY signature".to_owned());
        }
        let mut fixed = &unread[SIGNATURE.len()..FIXED];
        let flags = fixed.get_u32();
        let extension = fixed.get_u32() as usize;
        if flags & HAS_OIDS != 0 {
            return Err("rows with OIDs".to_owned());
        }
        if unread.len() < FIXED + extension {
            return Ok(false);
        }
        self.take(FIXED + extension);
        self.header_read = true;
        Ok(true)
    }
}

/// The length of the next row (or the trailer) if it is all in `data`.
fn row_length(mut view: &[u8]) -> Result<Option<usize>, String> {
    if view.len() < 2 {
        return Ok(None);
    }
    let count = view.get_i16();
    if count == -1 {
        return Ok(Some(2));
    }
    if count < 0 {
        return Err(format!("a field count of {count}"));
    }
    let mut length = 2;
    for _ in 0..count {
        if view.len() < 4 {
            return Ok(None);
        }
        let size = view.get_i32();
        length += 4;
        if size < -1 {
            return Err(format!("a field length of {size}"));
        }
        let size = size.max(0) as usize;
        if view.len() < size {
            return Ok(None);
        }
        view.advance(size);
        length += size;
    }
    Ok(Some(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        let mut data = SIGNATURE.to_vec();
        data.extend_from_slice(&0u32.to_be_bytes());
        data.extend_from_slice(&2u32.to_be_bytes());
        data.extend_from_slice(b"xx");
        // (42, NULL) then (7, 'hi'), then the trailer.
        data.extend_from_slice(&2i16.to_be_bytes());
        data.extend_from_slice(&4i32.to_be_bytes());
        data.extend_from_slice(&42i32.to_be_bytes());
        data.extend_from_slice(&(-1i32).to_be_bytes());
        data.extend_from_slice(&2i16.to_be_bytes());
        data.extend_from_slice(&4i32.to_be_bytes());
        data.extend_from_slice(&7i32.to_be_bytes());
        data.extend_from_slice(&2i32.to_be_bytes());
        data.extend_from_slice(b"hi");
        data.extend_from_slice(&(-1i16).to_be_bytes());
        data
    }

    type Values = Vec<Option<Vec<u8>>>;

    fn read_in_chunks(data: &[u8], size: usize) -> Result<Vec<Values>, String> {
        let mut reader = CopyReader::new();
        let mut rows = Vec::new();
        for chunk in data.chunks(size) {
            reader.push(Bytes::copy_from_slice(chunk));
            while let Some(row) = reader.next_row()? {
                assert_eq!(row.len(), row.values().count());
                rows.push(row.values().map(|v| v.map(<[u8]>::to_vec)).collect());
            }
        }
        reader.finish()?;
        Ok(rows)
    }

    #[test]
    fn rows_across_any_chunking() {
        let data = stream();
        let expected = vec![vec![Some(vec![0, 0, 0, 42]), None], vec![Some(vec![0, 0, 0, 7]), Some(b"hi".to_vec())]];
        for size in 1..=data.len() {
            assert_eq!(read_in_chunks(&data, size), Ok(expected.clone()), "chunks of {size}");
        }
    }

    #[test]
    fn rows_in_chunks_of_their_own_are_read_in_place() {
        // As Postgres sends them: the header with nothing else, then one message per row, then the trailer.
        let data = Bytes::from(stream());
        let mut reader = CopyReader::new();
        let mut rows = Vec::new();
        for (start, end) in [(0, 21), (21, 35), (35, 51), (51, 53)] {
            reader.push(data.slice(start..end));
            while let Some(row) = reader.next_row().expect("row") {
                let first = row.values().next().flatten().expect("a value");
                assert!(data.as_ptr_range().contains(&first.as_ptr()), "a slice of the received chunk");
                rows.push(row);
            }
        }
        assert_eq!((rows.len(), reader.finish()), (2, Ok(())));
    }

    #[test]
    fn malformed_data_is_refused() {
        let data = stream();
        assert!(read_in_chunks(&data[..data.len() - 2], 7).is_err(), "no trailer");
        let mut extra = data.clone();
        extra.push(0);
        assert!(read_in_chunks(&extra, 7).is_err(), "bytes after the trailer");
        let mut bad = data.clone();
        bad[0] = b'X';
        assert!(read_in_chunks(&bad, 100).is_err(), "signature");
        let mut oids = data.clone();
        oids[11..15].copy_from_slice(&HAS_OIDS.to_be_bytes());
        assert!(read_in_chunks(&oids, 100).is_err(), "oids");
        let mut negative = data;
        negative[21..23].copy_from_slice(&(-5i16).to_be_bytes());
        assert!(read_in_chunks(&negative, 100).is_err(), "field count");
    }
}
