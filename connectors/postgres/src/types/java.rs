//! The few Java behaviours Debezium's output depends on, reproduced: `Double.toString`, the iteration order of a
//! `java.util.HashMap` of strings, Jackson's JSON string escaping, and `UUID.nameUUIDFromBytes`.

use std::fmt::Write;

use super::md5::md5;

/// Java's `Double.toString(double)`: the shortest digits that round-trip, plain for magnitudes from 10^-3 up to
/// 10^7 (`1234.5`, `1.0`), otherwise computerized scientific notation (`1.0E7`, `1.5E-4`).
pub(crate) fn double_to_string(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let sci = format!("{:e}", value.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if value < 0.0 {
        out.push('-');
    }
    if (-3..7).contains(&exponent) {
        if exponent < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        } else {
            let point = exponent as usize + 1;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        let _ = write!(out, "E{exponent}");
    }
    out
}

/// Java's `String.hashCode()`: over UTF-16 code units, `h = 31 * h + c`, wrapping.
fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The order in which a `java.util.HashMap` (default capacity and load factor) filled with `keys` in this order
/// iterates them: by bucket (the spread hash masked by the final capacity), insertion order within a bucket.
/// Returns the positions of the keys in that order. (Buckets of nine or more keys in a table of 64 or more, which
/// Java turns into trees, are not modelled.)
pub(crate) fn hash_map_order<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let spread: Vec<u32> = keys
        .map(|key| {
            let h = string_hash(key) as u32;
            h ^ (h >> 16)
        })
        .collect();
    let mut capacity = 16usize;
    let mut bucket_sizes = vec![0usize; capacity];
    for (size, &hash) in spread.iter().enumerate() {
        let bucket = hash as usize & (capacity - 1);
        let crowded = bucket_sizes[bucket] >= 8 && capacity < 64;
        bucket_sizes[bucket] += 1;
        let mut grow = |capacity: &mut usize| {
            *capacity *= 2;
            bucket_sizes = vec![0usize; *capacity];
            for &h in &spread[..=size] {
                bucket_sizes[h as usize & (*capacity - 1)] += 1;
            }
        };
        if crowded {
            grow(&mut capacity);
        }
        if size + 1 > capacity / 4 * 3 {
            grow(&mut capacity);
        }
    }
    let mut order: Vec<usize> = (0..spread.len()).collect();
    order.sort_by_key(|&i| spread[i] as usize & (capacity - 1));
    order
}

/// A JSON string literal as Jackson writes it: `"` and `\` escaped, `\b \t \n \f \r`, other control characters
/// as `\u00XX` (upper-case hex), everything else as is.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `UUID.nameUUIDFromBytes`: the MD5 of the bytes as a version 3 UUID, lower-case.
pub(crate) fn name_uuid_from_bytes(bytes: &[u8]) -> String {
    let mut hash = md5(bytes);
    hash[6] = (hash[6] & 0x0f) | 0x30;
    hash[8] = (hash[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, b) in hash.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_like_java() {
        assert_eq!(double_to_string(1234.56), "1234.56");
        assert_eq!(double_to_string(1.0), "1.0");
        assert_eq!(double_to_string(-0.5), "-0.5");
        assert_eq!(double_to_string(0.001), "0.001");
        assert_eq!(double_to_string(0.0001), "1.0E-4");
        assert_eq!(double_to_string(1.5e-4), "1.5E-4");
        assert_eq!(double_to_string(9_999_999.0), "9999999.0");
        assert_eq!(double_to_string(10_000_000.0), "1.0E7");
        assert_eq!(double_to_string(123_456_789.25), "1.2345678925E8");
        assert_eq!(double_to_string(-92_233_720_368_547_760.0), "-9.223372036854776E16");
        assert_eq!(double_to_string(0.0), "0.0");
    }

    #[test]
    fn hash_map_iteration_order() {
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("hello"), 99_162_322);
        // "b" (98) lands in bucket 2, "a" (97) in bucket 1: a HashMap iterates "a" first.
        assert_eq!(hash_map_order(["b", "a"].into_iter()), vec![1, 0]);
        // Keys colliding in one bucket keep their insertion order ("Aa" and "BB" hash alike).
        assert_eq!(hash_map_order(["BB", "Aa"].into_iter()), vec![0, 1]);
        // Thirteen keys grow the table to 32 buckets.
        let keys: Vec<String> = (0..13).map(|i| format!("k{i}")).collect();
        let order = hash_map_order(keys.iter().map(String::as_str));
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..13).collect::<Vec<_>>());
    }

    #[test]
    fn json_strings_and_uuids() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\n\u{1}é");
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001é\"");
        // Java: UUID.nameUUIDFromBytes(new byte[0]).
        assert_eq!(name_uuid_from_bytes(b""), "d41d8cd9-8f00-3204-a980-0998ecf8427e");
        // md5("__debezium_unavailable_value") = b68a35a717adc5b3ef2aae46edb4545a, with the version 3 bits.
        assert_eq!(name_uuid_from_bytes(b"__debezium_unavailable_value"), "b68a35a7-17ad-35b3-af2a-ae46edb4545a");
    }
}
