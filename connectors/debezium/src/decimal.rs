//! An exact decimal with the arithmetic Debezium's `BigDecimal` handling needs (`setScale`, `stripTrailingZeros`,
//! `toString`, the unscaled two's complement bytes of Kafka Connect's `Decimal`).

use std::fmt::Write;

use bytes::Bytes;
use tidemark_connect::data::decimal;

/// An exact decimal: `digits` × 10^-`scale`, negative when `negative`. `digits` are ASCII digits without leading
/// zeros (`"0"` for zero, which is never negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    /// Below zero.
    pub negative: bool,
    /// The digits of the unscaled value, without leading zeros.
    pub digits: String,
    /// The power of ten the digits are divided by (negative multiplies).
    pub scale: i32,
}

impl Decimal {
    /// A plain decimal number: optional sign, digits, optional fraction (no exponent).
    pub fn parse(text: &str) -> Result<Decimal, String> {
        Decimal::from_text(text.to_owned())
    }

    /// [`Decimal::parse`] of an owned text, whose buffer becomes the digits (a source reads one per value).
    pub fn from_text(mut text: String) -> Result<Decimal, String> {
        let bad = |text: &str| format!("{text:?} is not a decimal number");
        let negative = text.starts_with('-');
        let sign = usize::from(negative || text.starts_with('+'));
        let rest = &text[sign..];
        let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
        if (int.is_empty() && frac.is_empty()) || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad(&text));
        }
        let scale = i32::try_from(frac.len()).map_err(|_| bad(&text))?;
        if let Some(point) = rest.find('.') {
            text.remove(sign + point);
        }
        text.drain(..sign);
        Ok(Decimal::normalized(negative, text, scale))
    }

    /// An integer count of units of 10^-`scale` (the binary form of `money`).
    pub fn from_unscaled(unscaled: i64, scale: i32) -> Decimal {
        Decimal::normalized(unscaled < 0, unscaled.unsigned_abs().to_string(), scale)
    }

    fn normalized(negative: bool, mut digits: String, scale: i32) -> Decimal {
        let zeros = digits.bytes().take_while(|&b| b == b'0').count();
        digits.drain(..zeros.min(digits.len().saturating_sub(1)));
        if digits.is_empty() {
            digits.push('0');
        }
        let negative = negative && digits != "0";
        Decimal { negative, digits, scale }
    }

    /// Java's `setScale(scale)` without rounding: an error when digits other than zeros would be dropped.
    pub fn with_scale(self, scale: i32) -> Result<Decimal, String> {
        if scale >= self.scale {
            return Ok(self.padded(scale));
        }
        let drop = (self.scale - scale) as usize;
        let keep = self.digits.len().saturating_sub(drop);
        if self.digits[keep..].bytes().any(|b| b != b'0') {
            return Err(format!("{} has more than {scale} fraction digits", self.plain()));
        }
        Ok(Decimal::normalized(self.negative, self.digits[..keep].to_owned(), scale))
    }

    /// Java's `setScale(scale, RoundingMode.HALF_UP)`.
    pub fn rounded_half_up(&self, scale: i32) -> Decimal {
        if scale >= self.scale {
            return self.clone().padded(scale);
        }
        let drop = (self.scale - scale) as usize;
        if drop > self.digits.len() {
            return Decimal::normalized(false, "0".to_owned(), scale);
        }
        let keep = self.digits.len() - drop;
        let round_up = self.digits.as_bytes()[keep] >= b'5';
        let mut kept: Vec<u8> = self.digits.as_bytes()[..keep].to_vec();
        if round_up {
            let mut i = kept.len();
            loop {
                if i == 0 {
                    kept.insert(0, b'1');
                    break;
                }
                i -= 1;
                if kept[i] == b'9' {
                    kept[i] = b'0';
                } else {
                    kept[i] += 1;
                    break;
                }
            }
        }
        Decimal::normalized(self.negative, String::from_utf8_lossy(&kept).into_owned(), scale)
    }

    fn padded(self, scale: i32) -> Decimal {
        let Decimal { negative, mut digits, scale: own } = self;
        if digits != "0" {
            digits.extend(std::iter::repeat_n('0', (scale - own) as usize));
        }
        Decimal { negative, digits, scale }
    }

    /// Java's `stripTrailingZeros()` followed by `setScale(0)` when the scale went negative: the form Debezium
    /// gives a `VariableScaleDecimal`.
    pub fn stripped(&self) -> Decimal {
        let trailing = self.digits.bytes().rev().take_while(|&b| b == b'0').count() as i32;
        let strip = trailing.min(self.scale).max(0);
        if self.digits == "0" {
            return Decimal { negative: false, digits: "0".to_owned(), scale: 0 };
        }
        let keep = self.digits.len() - strip as usize;
        Decimal { negative: self.negative, digits: self.digits[..keep].to_owned(), scale: self.scale - strip }
    }

    /// The unscaled value as the shortest big-endian two's complement bytes (Java's
    /// `BigInteger.toByteArray()`), what a Connect `Decimal` holds.
    pub fn unscaled_bytes(&self) -> Result<Bytes, String> {
        if self.digits.len() <= 38 {
            if let Ok(magnitude) = self.digits.parse::<i128>() {
                return Ok(decimal::unscaled_bytes(if self.negative { -magnitude } else { magnitude }));
            }
        }
        let signed = if self.negative { format!("-{}", self.digits) } else { self.digits.clone() };
        decimal::from_text(&signed, 0).map_err(|e| e.to_string())
    }

    /// Java's `BigDecimal.toString()`: plain, or scientific when the exponent is below -6 or the scale negative.
    pub fn java_string(&self) -> String {
        let n = self.digits.len() as i64;
        let scale = i64::from(self.scale);
        let adjusted = n - 1 - scale;
        let mut out = String::with_capacity(self.digits.len() + 8);
        if self.negative {
            out.push('-');
        }
        if scale == 0 {
            out.push_str(&self.digits);
        } else if scale > 0 && adjusted >= -6 {
            if scale >= n {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (scale - n) as usize));
                out.push_str(&self.digits);
            } else {
                let point = (n - scale) as usize;
                out.push_str(&self.digits[..point]);
                out.push('.');
                out.push_str(&self.digits[point..]);
            }
        } else {
            out.push_str(&self.digits[..1]);
            if n > 1 {
                out.push('.');
                out.push_str(&self.digits[1..]);
            }
            let _ = write!(out, "E{}{adjusted}", if adjusted > 0 { "+" } else { "" });
        }
        out
    }

    /// The number without exponent (`numeric_out`'s form for a non-negative scale).
    pub fn plain(&self) -> String {
        if self.scale <= 0 {
            let mut out = if self.negative { format!("-{}", self.digits) } else { self.digits.clone() };
            if self.digits != "0" {
                out.extend(std::iter::repeat_n('0', self.scale.unsigned_abs() as usize));
            }
            return out;
        }
        self.clone().padded(self.scale).java_plain()
    }

    fn java_plain(&self) -> String {
        let n = self.digits.len();
        let scale = self.scale as usize;
        let mut out = String::with_capacity(n + 3);
        if self.negative {
            out.push('-');
        }
        if scale >= n {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', scale - n));
            out.push_str(&self.digits);
        } else {
            out.push_str(&self.digits[..n - scale]);
            out.push('.');
            out.push_str(&self.digits[n - scale..]);
        }
        out
    }

    /// The nearest double (Java's `BigDecimal.doubleValue()`, correctly rounded).
    pub fn to_f64(&self) -> f64 {
        let text = format!("{}{}e{}", if self.negative { "-" } else { "" }, self.digits, -i64::from(self.scale));
        text.parse().unwrap_or(f64::NAN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::parse(text).expect("decimal")
    }

    #[test]
    fn parses_and_prints_like_big_decimal() {
        assert_eq!(dec("-123.4500"), Decimal { negative: true, digits: "1234500".to_owned(), scale: 4 });
        assert_eq!(dec("0.00"), Decimal { negative: false, digits: "0".to_owned(), scale: 2 });
        assert_eq!(dec("-0.0"), Decimal { negative: false, digits: "0".to_owned(), scale: 1 });
        assert_eq!(dec("0.0000001").java_string(), "1E-7");
        assert_eq!(dec("0.000001").java_string(), "0.000001");
        assert_eq!(dec("-12.340").java_string(), "-12.340");
        assert_eq!(dec("0.00").java_string(), "0.00");
        assert_eq!(dec("100").stripped().java_string(), "100");
        assert_eq!(dec("1.500").stripped(), Decimal { negative: false, digits: "15".to_owned(), scale: 1 });
        assert_eq!(dec("0.000").stripped(), Decimal { negative: false, digits: "0".to_owned(), scale: 0 });
        assert!(Decimal::parse("1e5").is_err() && Decimal::parse("").is_err() && Decimal::parse("-").is_err());
    }

    #[test]
    fn scales_exactly_or_half_up() {
        assert_eq!(dec("12.3").with_scale(2).map(|d| d.plain()), Ok("12.30".to_owned()));
        assert_eq!(dec("12.300").with_scale(1).map(|d| d.plain()), Ok("12.3".to_owned()));
        assert!(dec("12.34").with_scale(1).is_err());
        assert_eq!(dec("1200").with_scale(-2).map(|d| d.digits), Ok("12".to_owned()));
        assert_eq!(dec("2.345").rounded_half_up(2).plain(), "2.35");
        assert_eq!(dec("-9.995").rounded_half_up(2).plain(), "-10.00");
        assert_eq!(dec("0.004").rounded_half_up(2).plain(), "0.00");
    }

    #[test]
    fn unscaled_bytes_of_any_size() {
        assert_eq!(dec("12.34").unscaled_bytes().map(|b| b.to_vec()), Ok(vec![0x04, 0xd2]));
        assert_eq!(dec("-1").unscaled_bytes().map(|b| b.to_vec()), Ok(vec![0xff]));
        let big = dec("123456789012345678901234567890123456789012345678901234567890");
        let bytes = big.unscaled_bytes().expect("bytes");
        assert_eq!(decimal::to_text(&bytes, 0).expect("text"), big.digits);
    }
}
