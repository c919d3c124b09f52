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
    use super::*;

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
