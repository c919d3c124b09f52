//! Decimal values as Kafka Connect carries them: the unscaled integer as big-endian two's complement bytes (Java's
//! `BigInteger.toByteArray()`, shortest form), the scale in the schema's `scale` parameter. A DECIMAL value is a
//! [`super::Value::Bytes`]; this module converts it to and from text (for the JSON converter's `NUMERIC` format) at
//! any precision, with a small arbitrary-precision magnitude in base 2^32.

use bytes::Bytes;
use thiserror::Error;

/// The largest unscaled value handled, in bytes (about 157,000 digits, more than PostgreSQL's `numeric` holds);
/// the text conversions are quadratic, so larger input is refused rather than allowed to stall a task.
pub const MAX_BYTES: usize = 65_536;

/// Why a decimal could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecimalError {
    /// The unscaled value has no bytes (Java's `BigInteger` refuses them too).
    #[error("the unscaled value has no bytes")]
    Empty,
    /// The value is larger than [`MAX_BYTES`].
    #[error("the value is larger than {MAX_BYTES} bytes")]
    TooLarge,
    /// The text is not a JSON number.
    #[error("{0:?} is not a decimal number")]
    Syntax(String),
    /// The number has more fractional digits than the scale keeps.
    #[error("{text} has more fractional digits than scale {scale}")]
    Scale {
        /// The number as given.
        text: String,
        /// The schema's scale.
        scale: i32,
    },
}

/// The shortest two's complement bytes of `unscaled`, as `BigInteger.toByteArray()` gives them.
pub fn unscaled_bytes(unscaled: i128) -> Bytes {
    let full = unscaled.to_be_bytes();
    let redundant = |pair: &[u8]| (pair[0] == 0x00 && pair[1] < 0x80) || (pair[0] == 0xff && pair[1] >= 0x80);
    let skip = full.windows(2).take_while(|pair| redundant(pair)).count();
    Bytes::copy_from_slice(&full[skip..])
}

/// The unscaled value as an `i128`, or `None` when it has no bytes or does not fit.
pub fn unscaled_i128(bytes: &[u8]) -> Option<i128> {
    let negative = bytes.first()? & 0x80 != 0;
    let significant = bytes.iter().skip_while(|&&b| b == if negative { 0xff } else { 0x00 }).count();
    if significant > 16 {
        return None;
    }
    let mut full = [if negative { 0xff } else { 0x00 }; 16];
    full[16 - significant..].copy_from_slice(&bytes[bytes.len() - significant..]);
    Some(i128::from_be_bytes(full))
}

/// The decimal as Java's `BigDecimal.toString()` writes it: `1.56`, `0.00`, `-12`, `1E+3`, `1.5E-8`.
pub fn to_text(unscaled: &[u8], scale: i32) -> Result<String, DecimalError> {
    let (negative, magnitude) = from_twos_complement(unscaled)?;
    let digits = to_digits(magnitude);
    let (n, scale) = (digits.len() as i64, i64::from(scale));
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    let adjusted = n - 1 - scale;
    if scale == 0 {
        out.push_str(&digits);
    } else if scale > 0 && adjusted >= -6 {
        if scale >= n {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (scale - n) as usize));
            out.push_str(&digits);
        } else {
            let point = (n - scale) as usize;
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!("E{}{adjusted}", if adjusted > 0 { "+" } else { "" }));
    }
    Ok(out)
}

/// The unscaled bytes of a JSON number (`-1.5`, `2E+3`, `0.125e-2`) at `scale`; trailing zeros beyond the scale are
/// dropped, other digits beyond it are an error, never rounded away.
pub fn from_text(text: &str, scale: i32) -> Result<Bytes, DecimalError> {
    let syntax = || DecimalError::Syntax(text.to_owned());
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().map_err(|_| syntax())?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || (mantissa.contains('.') && !all_digits(frac)) || (int.len() > 1 && int.starts_with('0')) {
        return Err(syntax());
    }
    let max_digits = MAX_BYTES as i64 * 3;
    let shift = exponent.saturating_sub(frac.len() as i64).saturating_add(i64::from(scale));
    let mut digits: String = int.chars().chain(frac.chars()).collect();
    if shift >= 0 {
        if digits.len() as i64 + shift > max_digits {
            return Err(DecimalError::TooLarge);
        }
        digits.extend(std::iter::repeat_n('0', shift as usize));
    } else {
        let keep = digits.len().saturating_sub(shift.unsigned_abs().try_into().unwrap_or(usize::MAX));
        if digits[keep..].bytes().any(|b| b != b'0') {
            return Err(DecimalError::Scale { text: text.to_owned(), scale });
        }
        digits.truncate(keep);
    }
    if digits.len() as i64 > max_digits {
        return Err(DecimalError::TooLarge);
    }
    Ok(to_twos_complement(negative, &from_digits(&digits)))
}

/// Sign and magnitude (little-endian base 2^32 limbs) of two's complement bytes.
fn from_twos_complement(bytes: &[u8]) -> Result<(bool, Vec<u32>), DecimalError> {
    let negative = bytes.first().ok_or(DecimalError::Empty)? & 0x80 != 0;
    if bytes.len() > MAX_BYTES {
        return Err(DecimalError::TooLarge);
    }
    let mut be = bytes.to_vec();
    if negative {
        negate(&mut be);
    }
    let limbs = be.rchunks(4).map(|chunk| chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b))).collect();
    Ok((negative, limbs))
}

/// Shortest two's complement bytes of a signed magnitude.
fn to_twos_complement(negative: bool, magnitude: &[u32]) -> Bytes {
    let mut be: Vec<u8> =
        std::iter::once(0u8).chain(magnitude.iter().rev().flat_map(|limb| limb.to_be_bytes())).collect();
    let is_zero = be.iter().all(|&b| b == 0);
    if negative && !is_zero {
        negate(&mut be);
    }
    let redundant = |pair: &[u8]| (pair[0] == 0x00 && pair[1] < 0x80) || (pair[0] == 0xff && pair[1] >= 0x80);
    let skip = be.windows(2).take_while(|pair| redundant(pair)).count();
    Bytes::copy_from_slice(&be[skip..])
}

/// Two's complement negation of big-endian bytes in place (invert, add one).
fn negate(be: &mut [u8]) {
    let mut carry = true;
    for byte in be.iter_mut().rev() {
        let (sum, overflow) = (!*byte).overflowing_add(u8::from(carry));
        *byte = sum;
        carry = overflow;
    }
}

/// Decimal digits of a magnitude, `"0"` for zero.
fn to_digits(mut limbs: Vec<u32>) -> String {
    const CHUNK: u64 = 1_000_000_000;
    let mut chunks = Vec::new();
    loop {
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
        if limbs.is_empty() {
            break;
        }
        let mut rem = 0u64;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / CHUNK) as u32;
            rem = cur % CHUNK;
        }
        chunks.push(rem as u32);
    }
    let mut out = match chunks.pop() {
        Some(first) => first.to_string(),
        None => return "0".to_owned(),
    };
    for chunk in chunks.iter().rev() {
        out.push_str(&format!("{chunk:09}"));
    }
    out
}

/// The magnitude of a string of ASCII digits (checked by the caller), nine digits at a time.
fn from_digits(digits: &str) -> Vec<u32> {
    let digits = digits.as_bytes();
    let mut limbs: Vec<u32> = Vec::new();
    let mut start = 0;
    let mut end = match digits.len() % 9 {
        0 => digits.len().min(9),
        head => head,
    };
    while start < digits.len() {
        let chunk = &digits[start..end];
        let mut carry = chunk.iter().fold(0u64, |acc, &d| acc * 10 + u64::from(d.wrapping_sub(b'0')));
        let mul = 10u64.pow(chunk.len() as u32);
        for limb in limbs.iter_mut() {
            let cur = u64::from(*limb) * mul + carry;
            *limb = cur as u32;
            carry = cur >> 32;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
        (start, end) = (end, end + 9);
    }
    limbs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_twos_complement_like_java() {
        assert_eq!(&unscaled_bytes(156)[..], &[0x00, 0x9c]);
        assert_eq!(&unscaled_bytes(0)[..], &[0x00]);
        assert_eq!(&unscaled_bytes(-1)[..], &[0xff]);
        assert_eq!(&unscaled_bytes(-128)[..], &[0x80]);
        assert_eq!(&unscaled_bytes(-156)[..], &[0xff, 0x64]);
        assert_eq!(&unscaled_bytes(127)[..], &[0x7f]);
        assert_eq!(unscaled_bytes(i128::MIN).len(), 16);
        for v in [0, 1, -1, 127, 128, -128, -129, 156, i64::MAX as i128, i128::MIN, i128::MAX] {
            assert_eq!(unscaled_i128(&unscaled_bytes(v)), Some(v));
        }
        assert_eq!(unscaled_i128(&[0x00, 0x00, 0x9c]), Some(156));
        assert_eq!(unscaled_i128(&[]), None);
        assert_eq!(unscaled_i128(&[1; 17]), None);
    }

    #[test]
    fn text_like_big_decimal_to_string() {
        let text = |v: i128, scale| to_text(&unscaled_bytes(v), scale).expect("text");
        assert_eq!(text(156, 2), "1.56");
        assert_eq!(text(15600, 4), "1.5600");
        assert_eq!(text(-156, 2), "-1.56");
        assert_eq!(text(0, 2), "0.00");
        assert_eq!(text(5, 3), "0.005");
        assert_eq!(text(12, 0), "12");
        assert_eq!(text(1, 7), "1E-7");
        assert_eq!(text(123, 10), "1.23E-8");
        assert_eq!(text(1, -3), "1E+3");
        assert_eq!(text(0, -2), "0E+2");
        assert_eq!(text(123_456_789_123_456_789, 17), "1.23456789123456789");
        assert_eq!(to_text(&[], 0), Err(DecimalError::Empty));
        let huge = to_text(&[0x7f; 40], 0).expect("huge");
        assert_eq!(huge.len(), 97);
        assert_eq!(from_text(&huge, 0).expect("back"), Bytes::from(vec![0x7f; 40]));
    }

    #[test]
    fn parses_json_numbers_at_a_scale() {
        let parse = |text: &str, scale| from_text(text, scale).map(|b| unscaled_i128(&b));
        assert_eq!(parse("1.56", 2), Ok(Some(156)));
        assert_eq!(parse("1.5600", 2), Ok(Some(156)));
        assert_eq!(parse("1.5", 2), Ok(Some(150)));
        assert_eq!(parse("-0.5", 1), Ok(Some(-5)));
        assert_eq!(parse("2E+3", 0), Ok(Some(2000)));
        assert_eq!(parse("1e-7", 7), Ok(Some(1)));
        assert_eq!(parse("0", 3), Ok(Some(0)));
        assert_eq!(parse("-0", 0), Ok(Some(0)));
        assert_eq!(parse("100", -2), Ok(Some(1)));
        assert_eq!(parse("1.567", 2), Err(DecimalError::Scale { text: "1.567".to_owned(), scale: 2 }));
        for bad in ["", "-", "1.", ".5", "01", "1e", "1x", "+1", "1.2.3"] {
            assert_eq!(parse(bad, 0), Err(DecimalError::Syntax(bad.to_owned())), "{bad}");
        }
        assert_eq!(parse("1e999999999", 0), Err(DecimalError::TooLarge));
        assert!(matches!(parse("1e-999999999", 0), Err(DecimalError::Scale { .. })));
        assert_eq!(parse("1e-999999999", 999_999_999), Ok(Some(1)));
    }
}
