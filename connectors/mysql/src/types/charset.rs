//! [`Charset`]: the character sets whose bytes the binlog path decodes, named as information_schema names them and
//! recognised from the collation ids a table map carries; decoded as the server converts them to utf8mb4 (what
//! the text protocol delivers), so both paths give the same string.

/// A character set of text columns (and of ENUM and SET labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// `utf8mb4`.
    Utf8mb4,
    /// `utf8mb3` (`utf8` before MySQL 8.0.29 and MariaDB 10.6).
    Utf8mb3,
    /// `ascii`.
    Ascii,
    /// `latin1`, which MySQL defines as Windows-1252 with the five bytes it leaves unassigned mapped to the C1
    /// controls of the same value.
    Latin1,
    /// `ucs2`: UTF-16BE without surrogates.
    Ucs2,
    /// `utf16`: UTF-16BE.
    Utf16,
    /// `utf16le`.
    Utf16le,
    /// `utf32`: UTF-32BE.
    Utf32,
}

/// What a collation id stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// Collation 63, `binary`: the column is a binary type.
    Binary,
    /// A character set decoded here.
    Text(Charset),
}

impl Charset {
    /// The character set information_schema's `CHARACTER_SET_NAME` names; `None` for one not decoded here.
    pub fn from_name(name: &str) -> Option<Charset> {
        Some(match name.to_ascii_lowercase().as_str() {
            "utf8mb4" => Charset::Utf8mb4,
            "utf8mb3" | "utf8" => Charset::Utf8mb3,
            "ascii" => Charset::Ascii,
            "latin1" => Charset::Latin1,
            "ucs2" => Charset::Ucs2,
            "utf16" => Charset::Utf16,
            "utf16le" => Charset::Utf16le,
            "utf32" => Charset::Utf32,
            _ => return None,
        })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8mb4 => "utf8mb4",
            Charset::Utf8mb3 => "utf8mb3",
            Charset::Ascii => "ascii",
            Charset::Latin1 => "latin1",
            Charset::Ucs2 => "ucs2",
            Charset::Utf16 => "utf16",
            Charset::Utf16le => "utf16le",
            Charset::Utf32 => "utf32",
        }
    }

    /// The text of `bytes` in this character set. Bytes that are not valid in it become U+FFFD (as Java's decoders
    /// make them), except in `ascii`, where the server's conversion makes bytes above 0x7F `?`.
    pub(super) fn decode(self, bytes: &[u8]) -> String {
        match self {
            Charset::Utf8mb4 | Charset::Utf8mb3 => String::from_utf8_lossy(bytes).into_owned(),
            Charset::Ascii => bytes.iter().map(|&b| if b.is_ascii() { char::from(b) } else { '?' }).collect(),
            Charset::Latin1 => bytes.iter().map(|&b| latin1(b)).collect(),
            Charset::Ucs2 | Charset::Utf16 => utf16(bytes.chunks(2).map(|pair| unit(pair, u16::from_be_bytes))),
            Charset::Utf16le => utf16(bytes.chunks(2).map(|pair| unit(pair, u16::from_le_bytes))),
            Charset::Utf32 => bytes
                .chunks(4)
                .map(|quad| {
                    let code = <[u8; 4]>::try_from(quad).map(u32::from_be_bytes).unwrap_or(u32::MAX);
                    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                })
                .collect(),
        }
    }
}

/// The encoding of collation `id`, for the ids of MySQL 8 and MariaDB 10.11 (MariaDB's NO PAD collations are the
/// PAD SPACE id plus 1024; its UCA 14.0.0 collations from 2048 carry the character set in bits 8 to 10). `None` for
/// a character set not decoded here.
pub(super) fn encoding_of_collation(id: u16) -> Option<Encoding> {
    let text = |charset| Some(Encoding::Text(charset));
    match id {
        63 => Some(Encoding::Binary),
        5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 => text(Charset::Latin1),
        11 | 65 => text(Charset::Ascii),
        33 | 76 | 83 | 192..=215 | 223 | 576..=578 => text(Charset::Utf8mb3),
        45 | 46 | 224..=247 | 255..=323 | 608..=610 => text(Charset::Utf8mb4),
        35 | 90 | 128..=151 | 159 | 640..=642 => text(Charset::Ucs2),
        54 | 55 | 101..=124 | 672..=674 => text(Charset::Utf16),
        56 | 62 => text(Charset::Utf16le),
        60 | 61 | 160..=183 | 736..=738 => text(Charset::Utf32),
        1024..=2047 => encoding_of_collation(id - 1024).filter(|e| *e != Encoding::Binary),
        2048..=3327 => match (id - 2048) >> 8 {
            0 => text(Charset::Utf8mb3),
            1 => text(Charset::Utf8mb4),
            2 => text(Charset::Ucs2),
            3 => text(Charset::Utf16),
            _ => text(Charset::Utf32),
        },
        _ => None,
    }
}

/// The character of a latin1 byte, as MySQL's latin1 (Windows-1252 with 0x81, 0x8D, 0x8F, 0x90, 0x9D kept as C1
/// controls) converts it to Unicode.
fn latin1(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{02C6}',
        '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}', '\u{0090}', '\u{2018}',
        '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}',
        '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
    ];
    match byte {
        0x80..=0x9f => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// A 16-bit code unit from two bytes; a lone trailing byte is an invalid unit.
fn unit(pair: &[u8], read: fn([u8; 2]) -> u16) -> Option<u16> {
    <[u8; 2]>::try_from(pair).ok().map(read)
}

/// The text of UTF-16 code units; invalid units and unpaired surrogates become U+FFFD.
fn utf16(units: impl Iterator<Item = Option<u16>>) -> String {
    let mut out = String::new();
    let mut valid = Vec::new();
    for unit in units {
        match unit {
            Some(unit) => valid.push(unit),
            None => {
                out.extend(char::decode_utf16(valid.drain(..)).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    out.extend(char::decode_utf16(valid).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_as_the_server_converts() {
        assert_eq!(Charset::Latin1.decode(b"caf\xe9 \xff\x80\x81"), "café ÿ€\u{81}");
        assert_eq!(Charset::Utf8mb4.decode("zß😀".as_bytes()), "zß😀");
        assert_eq!(Charset::Ascii.decode(b"ab\xe9"), "ab?");
        assert_eq!(Charset::Utf16.decode(&[0xd8, 0x3d, 0xde, 0x00, 0x00, 0x41]), "😀A");
        assert_eq!(Charset::Utf16le.decode(&[0x41, 0x00, 0x42]), "A\u{FFFD}");
        assert_eq!(Charset::Ucs2.decode(&[0x00, 0xe9]), "é");
        assert_eq!(Charset::Utf32.decode(&[0, 1, 0xf6, 0x00, 0, 0x11, 0, 0]), "😀\u{FFFD}");
    }

    #[test]
    fn names_and_collations() {
        assert_eq!(Charset::from_name("UTF8"), Some(Charset::Utf8mb3));
        assert_eq!(Charset::from_name("latin2"), None);
        assert_eq!(Charset::Utf16le.name(), "utf16le");
        assert_eq!(encoding_of_collation(63), Some(Encoding::Binary));
        assert_eq!(encoding_of_collation(8), Some(Encoding::Text(Charset::Latin1)));
        assert_eq!(encoding_of_collation(255), Some(Encoding::Text(Charset::Utf8mb4)));
        // MariaDB: utf8mb4_nopad_bin, utf8mb4_uca1400_ai_ci, utf32_uca1400_ai_ci.
        assert_eq!(encoding_of_collation(1070), Some(Encoding::Text(Charset::Utf8mb4)));
        assert_eq!(encoding_of_collation(2304), Some(Encoding::Text(Charset::Utf8mb4)));
        assert_eq!(encoding_of_collation(3072), Some(Encoding::Text(Charset::Utf32)));
        assert_eq!(encoding_of_collation(9), None); // latin2_general_ci
        assert_eq!(encoding_of_collation(1087), None); // 63 + 1024 is no collation
    }
}
