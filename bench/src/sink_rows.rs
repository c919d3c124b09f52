//! The rows of the `sink` benchmark, in every form it writes them: Avro records in Confluent's framing for the
//! topics (what the JDBC sink reads), `COPY ... FROM STDIN` text for the references, and the text of each value as
//! the sink binds it. A row is a function of its key and its revision, so each form is generated afresh and all of
//! them agree value for value (the benchmark checks the tables against each other at the end).

use std::fmt::Write as _;

/// The table's columns, key first, in the order of the Avro value's fields and of the COPY text.
pub const COLUMNS: [&str; 7] = ["id", "rev", "name", "price", "updated_at", "active", "note"];

/// The table's definition after its name (what the sink's `schema.evolution=basic` would create from the records'
/// schemas: Avro `decimal(12, 2)` is `numeric(12, 2)`, `timestamp-millis` is `timestamp`).
pub const TABLE_DEFINITION: &str = "(id bigint PRIMARY KEY, rev integer NOT NULL, name text NOT NULL, \
     price numeric(12, 2) NOT NULL, updated_at timestamp NOT NULL, active boolean NOT NULL, note text NOT NULL)";

/// The Avro schema of the record key.
pub const KEY_SCHEMA: &str =
    r#"{"type":"record","name":"Key","namespace":"tidemark.bench.sink","fields":[{"name":"id","type":"long"}]}"#;

/// The Avro schema of the record value: the whole row, as a flat record (no envelope).
pub const VALUE_SCHEMA: &str = r#"{"type":"record","name":"Row","namespace":"tidemark.bench.sink","fields":[
{"name":"id","type":"long"},
{"name":"rev","type":"int"},
{"name":"name","type":"string"},
{"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
{"name":"updated_at","type":{"type":"long","logicalType":"timestamp-millis"}},
{"name":"active","type":"boolean"},
{"name":"note","type":"string"}]}"#;

/// Words the notes are made of (no tab, newline or backslash: COPY text needs no escaping).
const WORDS: [&str; 16] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima",
    "mike", "november", "oscar", "papa",
];

/// `updated_at` of revision 1 of row 0: 2023-11-14 22:13:20 UTC, in milliseconds since the epoch.
const BASE_MILLIS: i64 = 1_700_000_000_000;
const MILLIS_PER_DAY: i64 = 86_400_000;

/// One row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The key.
    pub id: i64,
    /// The revision: 1 in the insert pass, 2 in the upsert pass.
    pub rev: i32,
    /// A short text.
    pub name: String,
    /// `price` in cents (`numeric(12, 2)`).
    pub price_cents: i64,
    /// Milliseconds since the epoch (`timestamp`, UTC).
    pub updated_at_millis: i64,
    /// A boolean.
    pub active: bool,
    /// A longer text (about 40 characters).
    pub note: String,
}

impl Row {
    /// Row `id` at revision `rev`: every column differs between revisions.
    pub fn new(id: i64, rev: i32) -> Row {
        let mix = (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(rev as u64 * 0x2545_f491_4f6c_dd1d);
        let word = |shift: u32| WORDS[((mix >> shift) & 15) as usize];
        Row {
            id,
            rev,
            name: format!("customer {id:08} r{rev}"),
            price_cents: ((mix >> 8) % 10_000_000) as i64,
            updated_at_millis: BASE_MILLIS + id * 1_000 + (mix % 1_000) as i64 + i64::from(rev) * MILLIS_PER_DAY,
            active: (mix >> 40) & 1 == 1,
            note: format!("{} {} {} {} order {id} rev {rev}", word(44), word(48), word(52), word(56)),
        }
    }

    /// The values' text, as Postgres reads it in COPY text and in a text parameter, in [`COLUMNS`] order.
    pub fn texts(&self) -> [String; 7] {
        [
            self.id.to_string(),
            self.rev.to_string(),
            self.name.clone(),
            price_text(self.price_cents),
            timestamp_text(self.updated_at_millis),
            if self.active { "true" } else { "false" }.to_owned(),
            self.note.clone(),
        ]
    }

    /// Appends the row as a line of COPY text (tab-separated, no value needs escaping).
    pub fn copy_line(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.id,
            self.rev,
            self.name,
            price_text(self.price_cents),
            timestamp_text(self.updated_at_millis),
            if self.active { 't' } else { 'f' },
            self.note
        );
    }

    /// The record key in Avro binary, after Confluent's framing with `schema_id`.
    pub fn avro_key(&self, schema_id: u32, out: &mut Vec<u8>) {
        frame(schema_id, out);
        long(self.id, out);
    }

    /// The record value in Avro binary, after Confluent's framing with `schema_id`.
    pub fn avro_value(&self, schema_id: u32, out: &mut Vec<u8>) {
        frame(schema_id, out);
        long(self.id, out);
        long(i64::from(self.rev), out);
        bytes(self.name.as_bytes(), out);
        bytes(&decimal_bytes(self.price_cents), out);
        long(self.updated_at_millis, out);
        out.push(u8::from(self.active));
        bytes(self.note.as_bytes(), out);
    }
}

/// The COPY text of rows `1..=rows` at revision `rev`.
pub fn copy_text(rows: u64, rev: i32) -> String {
    let mut out = String::with_capacity(rows as usize * 110);
    for id in 1..=rows as i64 {
        Row::new(id, rev).copy_line(&mut out);
    }
    out
}

/// Confluent's wire format: magic byte 0, then the schema id (big-endian).
fn frame(schema_id: u32, out: &mut Vec<u8>) {
    out.push(0);
    out.extend_from_slice(&schema_id.to_be_bytes());
}

/// An Avro `long` (or `int`): zig-zag, then a variable-length integer.
fn long(value: i64, out: &mut Vec<u8>) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Avro `bytes` or `string`: the length, then the bytes.
fn bytes(data: &[u8], out: &mut Vec<u8>) {
    long(data.len() as i64, out);
    out.extend_from_slice(data);
}

/// The unscaled value of an Avro decimal: big-endian two's complement, as few bytes as hold it.
fn decimal_bytes(unscaled: i64) -> Vec<u8> {
    let all = unscaled.to_be_bytes();
    let mut start = 0;
    while start < all.len() - 1 {
        let (byte, next) = (all[start], all[start + 1]);
        let redundant = (byte == 0 && next & 0x80 == 0) || (byte == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    all[start..].to_vec()
}

/// `123.45` from 12345 cents (non-negative).
fn price_text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` of milliseconds since the epoch (after 1970), as the sink writes a `timestamp`.
fn timestamp_text(millis: i64) -> String {
    let (days, in_day) = (millis.div_euclid(MILLIS_PER_DAY), millis.rem_euclid(MILLIS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    let (secs, ms) = (in_day / 1_000, in_day % 1_000);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}", secs / 3600, secs / 60 % 60, secs % 60, ms * 1000)
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avro_numbers() {
        let encoded = |v: i64| {
            let mut out = Vec::new();
            long(v, &mut out);
            out
        };
        assert_eq!(encoded(0), [0]);
        assert_eq!(encoded(-1), [1]);
        assert_eq!(encoded(1), [2]);
        assert_eq!(encoded(64), [0x80, 1]);
        assert_eq!(decimal_bytes(0), [0]);
        assert_eq!(decimal_bytes(127), [0x7f]);
        assert_eq!(decimal_bytes(128), [0, 0x80]);
        assert_eq!(decimal_bytes(12_345), [0x30, 0x39]);
        assert_eq!(decimal_bytes(-1), [0xff]);
    }

    #[test]
    fn texts() {
        assert_eq!(price_text(5), "0.05");
        assert_eq!(price_text(1_234_567), "12345.67");
        assert_eq!(timestamp_text(0), "1970-01-01 00:00:00.000000");
        assert_eq!(timestamp_text(BASE_MILLIS + 7), "2023-11-14 22:13:20.007000");
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn a_row_agrees_with_itself() {
        let (one, two) = (Row::new(42, 1), Row::new(42, 2));
        assert_ne!(one.name, two.name);
        assert_ne!(one.note, two.note);
        assert_ne!(one.updated_at_millis, two.updated_at_millis);
        let mut line = String::new();
        one.copy_line(&mut line);
        let texts = one.texts();
        let fields: Vec<&str> = line.trim_end().split('\t').collect();
        assert_eq!(fields.len(), COLUMNS.len());
        for (i, (field, text)) in fields.iter().zip(&texts).enumerate() {
            if COLUMNS[i] == "active" {
                assert_eq!(text.starts_with('t'), field.starts_with('t'));
            } else {
                assert_eq!(field, text, "column {}", COLUMNS[i]);
            }
        }
        let mut value = Vec::new();
        one.avro_value(7, &mut value);
        assert_eq!(&value[..5], [0, 0, 0, 0, 7]);
        assert_eq!(value[5], 84, "zig-zag 42");
    }
}
