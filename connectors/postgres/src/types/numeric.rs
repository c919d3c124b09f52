//! `numeric` values: [`Numeric`] from the text form (`-123.4500`, `NaN`, `Infinity`) and the binary form (base
//! 10000 digits); the numbers themselves are [`Decimal`]s.

use tidemark_debezium::calendar::push_decimal;
use tidemark_debezium::Decimal;

/// A `numeric` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Numeric {
    /// `NaN`.
    NaN,
    /// `Infinity`.
    PosInf,
    /// `-Infinity`.
    NegInf,
    /// A number.
    Finite(Decimal),
}

impl Numeric {
    /// `numeric`'s output: `NaN`, `Infinity`, `-Infinity` or a plain decimal number.
    pub fn parse(text: &str) -> Result<Numeric, String> {
        match Numeric::special(text) {
            Some(special) => Ok(special),
            None => Ok(Numeric::Finite(Decimal::parse(text)?)),
        }
    }

    /// `numeric`'s send form: digit count, weight, sign, display scale (all 16-bit), then base 10000 digits.
    pub fn from_binary(bytes: &[u8]) -> Result<Numeric, String> {
        let text = binary_text(bytes)?;
        match Numeric::special(&text) {
            Some(special) => Ok(special),
            None => Ok(Numeric::Finite(Decimal::from_text(text)?)),
        }
    }

    /// The value of `NaN`, `Infinity` or `-Infinity`.
    fn special(text: &str) -> Option<Numeric> {
        match text {
            "NaN" => Some(Numeric::NaN),
            "Infinity" => Some(Numeric::PosInf),
            "-Infinity" => Some(Numeric::NegInf),
            _ => None,
        }
    }
}

/// The unscaled value at `scale` of a send form that is a finite number fitting an `i128` with no nonzero digit
/// beyond `scale`: a `numeric(p, s)` column's Debezium bytes without going through text and [`Decimal`], as most
/// values of such columns allow. `None` for the rest, which go the general way (it also words the errors).
pub(crate) fn unscaled_at(bytes: &[u8], scale: i32) -> Option<i128> {
    let word = |i: usize| bytes.get(2 * i..2 * i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let (ndigits, weight, sign, dscale) = (word(0)?, i32::from(word(1)? as i16), word(2)?, word(3)?);
    if bytes.len() != 8 + 2 * usize::from(ndigits) {
        return None;
    }
    let negative = match sign {
        0x0000 => false,
        0x4000 => true,
        _ => return None,
    };
    let mut unscaled: i128 = 0;
    for i in 0..ndigits {
        let digit = word(4 + usize::from(i))?;
        if digit > 9999 {
            return None;
        }
        if digit == 0 {
            continue;
        }
        // Digits past the display scale are not part of the value (`numeric_out` drops them; Postgres never sends
        // nonzero ones): left to the general way.
        let displayed = 4 * (weight - i32::from(i)) + i32::from(dscale);
        if displayed < 0 && (displayed <= -4 || digit % 10u16.pow(displayed.unsigned_abs()) != 0) {
            return None;
        }
        // The digit's place in units of 10^-scale.
        let exponent = 4 * (weight - i32::from(i)) + scale;
        let term = if exponent >= 0 {
            i128::from(digit).checked_mul(10i128.checked_pow(exponent.unsigned_abs())?)?
        } else {
            let divisor = 10i128.checked_pow(exponent.unsigned_abs())?;
            if i128::from(digit) % divisor != 0 {
                return None;
            }
            i128::from(digit) / divisor
        };
        unscaled = unscaled.checked_add(term)?;
    }
    Some(if negative { -unscaled } else { unscaled })
}

/// The text `numeric_out` would write for a send form.
pub(crate) fn binary_text(bytes: &[u8]) -> Result<String, String> {
    let word = |i: usize| bytes.get(2 * i..2 * i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let header = |i: usize| word(i).ok_or_else(|| "a numeric value is at least 8 bytes".to_owned());
    let (ndigits, weight, sign, dscale) = (header(0)?, header(1)? as i16, header(2)?, header(3)?);
    if bytes.len() != 8 + 2 * usize::from(ndigits) {
        return Err(format!("{} bytes for {ndigits} digits", bytes.len()));
    }
    let negative = match sign {
        0x0000 => false,
        0x4000 => true,
        0xC000 => return Ok("NaN".to_owned()),
        0xD000 => return Ok("Infinity".to_owned()),
        0xF000 => return Ok("-Infinity".to_owned()),
        other => return Err(format!("unknown numeric sign {other:#06x}")),
    };
    let digit = |group: i32| -> Result<u16, String> {
        let d = if group < 0 || group >= i32::from(ndigits) { 0 } else { word(4 + group as usize).unwrap_or(0) };
        if d > 9999 {
            return Err(format!("numeric digit {d} is above 9999"));
        }
        Ok(d)
    };
    let mut out = String::with_capacity(4 * usize::from(ndigits) + 8);
    if negative {
        out.push('-');
    }
    let weight = i32::from(weight);
    if weight < 0 {
        out.push('0');
    }
    for group in 0..=weight {
        let d = digit(group)?;
        push_decimal(&mut out, u64::from(d), if group == 0 { 1 } else { 4 });
    }
    if dscale > 0 {
        out.push('.');
        let start = out.len();
        let mut group = weight + 1;
        while out.len() - start < usize::from(dscale) {
            push_decimal(&mut out, u64::from(digit(group)?), 4);
            group += 1;
        }
        out.truncate(start + usize::from(dscale));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tidemark_connect::data::decimal;

    use super::*;

    /// The send form of `digits` (base 10000, most significant first) with `weight` and `dscale`.
    fn send_form(negative: bool, weight: i16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [digits.len() as u16, weight as u16, if negative { 0x4000 } else { 0 }, dscale] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        for digit in digits {
            bytes.extend_from_slice(&digit.to_be_bytes());
        }
        bytes
    }

    proptest! {
        /// Wherever the fast way answers, it agrees with the general one (text, then `Decimal` at the scale).
        #[test]
        fn unscaled_at_agrees_with_the_general_way(
            negative: bool,
            weight in -6i16..8,
            dscale in 0u16..20,
            digits in proptest::collection::vec(0u16..10000, 0..9),
            scale in -4i32..12,
        ) {
            let bytes = send_form(negative, weight, dscale, &digits);
            let general = binary_text(&bytes)
                .and_then(Decimal::from_text)
                .and_then(|d| d.with_scale(scale))
                .and_then(|d| d.unscaled_bytes());
            if let Some(unscaled) = unscaled_at(&bytes, scale) {
                prop_assert_eq!(Ok(decimal::unscaled_bytes(unscaled)), general);
            }
        }

        /// Send forms as Postgres writes them (every digit within the display scale), at scales around the display
        /// scale: the fast way answers whenever the scale keeps every digit, and agrees with the general one.
        #[test]
        fn unscaled_at_answers_what_postgres_sends(
            negative: bool,
            weight in -3i16..5,
            digits in proptest::collection::vec(0u16..10000, 1..6),
            extra in 0u16..4,
            delta in -3i32..4,
        ) {
            let dscale = (4 * (digits.len() as i32 - 1 - i32::from(weight))).max(0) as u16 + extra;
            let scale = i32::from(dscale) + delta;
            let bytes = send_form(negative, weight, dscale, &digits);
            let general = binary_text(&bytes)
                .and_then(Decimal::from_text)
                .and_then(|d| d.with_scale(scale))
                .and_then(|d| d.unscaled_bytes());
            match unscaled_at(&bytes, scale) {
                Some(unscaled) => prop_assert_eq!(Ok(decimal::unscaled_bytes(unscaled)), general),
                None => prop_assert!(delta < 0, "no answer at scale {} for {:?}", scale, binary_text(&bytes)),
            }
        }
    }

    #[test]
    fn unscaled_at_answers_the_usual_values() {
        // 12.34 at scale 2 and 4; -0.0001 at scale 4; 10000000 at scale 0 and -2.
        let twelve = [0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x0d, 0x48];
        assert_eq!(unscaled_at(&twelve, 2), Some(1234));
        assert_eq!(unscaled_at(&twelve, 4), Some(123_400));
        assert_eq!(unscaled_at(&twelve, 1), None, "a digit beyond the scale: the general way says so");
        assert_eq!(unscaled_at(&[0, 1, 0xff, 0xff, 0x40, 0, 0, 4, 0, 1], 4), Some(-1));
        assert_eq!(unscaled_at(&[0, 1, 0, 1, 0, 0, 0, 0, 0x03, 0xe8], 0), Some(10_000_000));
        assert_eq!(unscaled_at(&[0, 1, 0, 1, 0, 0, 0, 0, 0x03, 0xe8], -2), Some(100_000));
        assert_eq!(unscaled_at(&[0, 0, 0, 0, 0, 0, 0, 3], 3), Some(0));
        assert_eq!(unscaled_at(&[0, 0, 0, 0, 0xc0, 0, 0, 0], 2), None, "NaN");
        assert_eq!(unscaled_at(&[0, 1, 0, 0], 2), None, "too short");
    }

    #[test]
    fn binary_form() {
        // 12.34: ndigits 2, weight 0, sign +, dscale 2, digits 12 3400.
        let bytes = [0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x0d, 0x48];
        assert_eq!(binary_text(&bytes), Ok("12.34".to_owned()));
        // -0.0001: ndigits 1, weight -1, sign -, dscale 4, digit 1.
        assert_eq!(binary_text(&[0, 1, 0xff, 0xff, 0x40, 0, 0, 4, 0, 1]), Ok("-0.0001".to_owned()));
        // 10000000: ndigits 1, weight 1, dscale 0, digit 1000? no: 1000|0000 → digits [1000], weight 1.
        assert_eq!(binary_text(&[0, 1, 0, 1, 0, 0, 0, 0, 0x03, 0xe8]), Ok("10000000".to_owned()));
        assert_eq!(binary_text(&[0, 0, 0, 0, 0xc0, 0, 0, 0]), Ok("NaN".to_owned()));
        assert_eq!(binary_text(&[0, 0, 0, 0, 0, 0, 0, 3]), Ok("0.000".to_owned()));
        assert!(binary_text(&[0, 1, 0, 0]).is_err());
    }
}
