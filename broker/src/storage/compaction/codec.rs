//! A batch's records section through its own compression codec, with kafka-protocol's codecs: decompressed to be
//! filtered record by record, recompressed with the same codec after.

use std::borrow::Cow;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::compression::{Compressor, Decompressor, Gzip, Lz4, Snappy, Zstd};

use super::records::RecordsError;

const NONE: i16 = 0;
const GZIP: i16 = 1;
const SNAPPY: i16 = 2;
const LZ4: i16 = 3;
const ZSTD: i16 = 4;

/// The records section decompressed with `codec` (the batch's compression id); borrowed when uncompressed.
pub fn decompress(codec: i16, section: &[u8]) -> Result<Cow<'_, [u8]>, RecordsError> {
    if codec == NONE {
        return Ok(Cow::Borrowed(section));
    }
    let mut input = Bytes::copy_from_slice(section);
    let records = match codec {
        GZIP => decompress_with::<Gzip>(&mut input),
        SNAPPY => decompress_with::<Snappy>(&mut input),
        LZ4 => decompress_with::<Lz4>(&mut input),
        ZSTD => decompress_with::<Zstd>(&mut input),
        other => Err(unknown(other)),
    }?;
    Ok(Cow::Owned(records.into()))
}

/// Appends `records` (an uncompressed records section) to `out`, compressed with `codec`.
pub fn compress(codec: i16, records: &[u8], out: &mut BytesMut) -> Result<(), RecordsError> {
    match codec {
        NONE => {
            out.put_slice(records);
            Ok(())
        }
        GZIP => compress_with::<Gzip>(records, out),
        SNAPPY => compress_with::<Snappy>(records, out),
        LZ4 => compress_with::<Lz4>(records, out),
        ZSTD => compress_with::<Zstd>(records, out),
        other => Err(unknown(other)),
    }
}

fn decompress_with<D: Decompressor<Bytes>>(input: &mut Bytes) -> Result<Bytes, RecordsError> {
    D::decompress(input, |buf| Ok(buf.copy_to_bytes(buf.remaining()))).map_err(|e| RecordsError::Codec(e.to_string()))
}

fn compress_with<C: Compressor<BytesMut>>(records: &[u8], out: &mut BytesMut) -> Result<(), RecordsError> {
    C::compress(out, |buf| {
        buf.put_slice(records);
        Ok(())
    })
    .map_err(|e| RecordsError::Codec(e.to_string()))
}

fn unknown(codec: i16) -> RecordsError {
    RecordsError::Codec(format!("unknown compression codec {codec}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_codecs_round_trip() {
        let records: Vec<u8> = (0..20_000u32).flat_map(|i| (i % 251).to_be_bytes()).collect();
        for codec in [NONE, GZIP, SNAPPY, LZ4, ZSTD] {
            let mut compressed = BytesMut::new();
            compress(codec, &records, &mut compressed).expect("compress");
            if codec != NONE {
                assert!(compressed.len() < records.len(), "codec {codec} compresses");
            }
            let back = decompress(codec, &compressed).expect("decompress");
            assert_eq!(&back[..], &records[..], "codec {codec}");
        }
        assert!(matches!(decompress(5, b""), Err(RecordsError::Codec(_))));
        assert!(matches!(decompress(GZIP, b"not gzip"), Err(RecordsError::Codec(_))));
    }
}
