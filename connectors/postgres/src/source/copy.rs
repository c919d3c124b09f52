//! The binary format of `COPY ... TO STDOUT (FORMAT binary)` ("Binary Format" under COPY in PostgreSQL's
//! documentation), read from the chunks the server sends, which do not respect row boundaries: an 11-byte
//! signature, a flags word and a header extension; then per row an `Int16` field count and per field an `Int32`
//! length (-1 for NULL) and the value's bytes in its type's binary send form; then the trailer, a field count of
//! -1. Values are slices of the received chunks, not copies.

use bytes::{Buf, Bytes, BytesMut};

/// The signature every binary COPY stream starts with.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Header flag bit 16: OIDs are included (refused: tables have no OIDs since PostgreSQL 12).
const HAS_OIDS: u32 = 1 << 16;

/// One row: a value per column, `None` for NULL.
pub type CopyRow = Vec<Option<Bytes>>;

/// Reads rows out of binary COPY data as it arrives.
#[derive(Debug, Default)]
pub struct CopyReader {
    buffer: BytesMut,
    header_read: bool,
    finished: bool,
}

impl CopyReader {
    /// A reader before the header.
    pub fn new() -> Self {
        CopyReader::default()
    }

    /// Adds the next chunk of data.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
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
        let Some(length) = self.row_length()? else { return Ok(None) };
        let mut row = self.buffer.split_to(length).freeze();
        let count = row.get_i16();
        if count == -1 {
            self.finished = true;
            return Ok(None);
        }
        let mut values = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for _ in 0..count {
            let size = row.get_i32();
            values.push(if size < 0 { None } else { Some(row.split_to(size as usize)) });
        }
        Ok(Some(values))
    }

    /// Checks that the data ended with the trailer and nothing after it.
    pub fn finish(&self) -> Result<(), String> {
        if !self.finished {
            return Err("the data ended before the trailer".to_owned());
        }
        if !self.buffer.is_empty() {
            return Err(format!("{} bytes after the trailer", self.buffer.len()));
        }
        Ok(())
    }

    /// Reads the header once it is all there; `false` when more data is needed.
    fn read_header(&mut self) -> Result<bool, String> {
        const FIXED: usize = SIGNATURE.len() + 8;
        if self.buffer.len() < FIXED {
            return Ok(false);
        }
        if &self.buffer[..SIGNATURE.len()] != SIGNATURE {
            return Err("no binary COPY signature".to_owned());
        }
        let mut fixed = &self.buffer[SIGNATURE.len()..FIXED];
        let flags = fixed.get_u32();
        let extension = fixed.get_u32() as usize;
        if flags & HAS_OIDS != 0 {
            return Err("rows with OIDs".to_owned());
        }
        if self.buffer.len() < FIXED + extension {
            return Ok(false);
        }
        self.buffer.advance(FIXED + extension);
        self.header_read = true;
        Ok(true)
    }

    /// The length of the next row (or the trailer) if it is all in the buffer.
    fn row_length(&self) -> Result<Option<usize>, String> {
        let mut view = &self.buffer[..];
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

    fn read_in_chunks(data: &[u8], size: usize) -> Result<Vec<CopyRow>, String> {
        let mut reader = CopyReader::new();
        let mut rows = Vec::new();
        for chunk in data.chunks(size) {
            reader.push(chunk);
            while let Some(row) = reader.next_row()? {
                rows.push(row);
            }
        }
        reader.finish()?;
        Ok(rows)
    }

    #[test]
    fn rows_across_any_chunking() {
        let data = stream();
        let expected = vec![
            vec![Some(Bytes::from_static(&[0, 0, 0, 42])), None],
            vec![Some(Bytes::from_static(&[0, 0, 0, 7])), Some(Bytes::from_static(b"hi"))],
        ];
        for size in 1..=data.len() {
            assert_eq!(read_in_chunks(&data, size), Ok(expected.clone()), "chunks of {size}");
        }
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
