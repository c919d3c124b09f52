//! Times as the sink writes them: instants and times of day in µs, split into calendar parts
//! ([`tidemark_debezium::calendar`] does the date math), and the ISO-8601 strings of Debezium's `ZonedTimestamp`
//! and `ZonedTime` read back into UTC µs.

use tidemark_debezium::calendar::{civil_from_days, days_from_civil};

/// µs in a day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A date and a time of day, the parts of an instant or a local timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// The proleptic Gregorian year (0 is 1 BC).
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// µs past midnight, `0..MICROS_PER_DAY`.
    pub micros: i64,
}

impl DateTime {
    /// The parts of µs since 1970-01-01T00:00.
    pub fn from_micros(micros: i64) -> Self {
        let (year, month, day) = civil_from_days(micros.div_euclid(MICROS_PER_DAY));
        DateTime { year, month, day, micros: micros.rem_euclid(MICROS_PER_DAY) }
    }

    /// The parts of a day since 1970-01-01, at midnight.
    pub fn from_days(days: i64) -> Self {
        let (year, month, day) = civil_from_days(days);
        DateTime { year, month, day, micros: 0 }
    }
}

/// A time of day (or a duration, when negative or past 24 h) in hours, minutes, seconds and µs, without its sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Below zero.
    pub negative: bool,
    /// Hours (may pass 23).
    pub hours: u64,
    /// 0 to 59.
    pub minutes: u8,
    /// 0 to 59.
    pub seconds: u8,
    /// 0 to 999999.
    pub micros: u32,
}

impl Clock {
    /// The parts of a signed count of µs.
    pub fn from_micros(micros: i64) -> Self {
        let magnitude = micros.unsigned_abs();
        let seconds = magnitude / 1_000_000;
        Clock {
            negative: micros < 0,
            hours: seconds / 3600,
            minutes: (seconds / 60 % 60) as u8,
            seconds: (seconds % 60) as u8,
            micros: (magnitude % 1_000_000) as u32,
        }
    }
}

/// µs since the epoch, UTC, of an ISO-8601 instant as Debezium's `ZonedTimestamp` writes it
/// (`2024-02-29T10:00:00.123456Z`, `+10000-01-01T00:00:00Z`, `-0043-03-15T00:00:00.000+01:00`); a fraction finer
/// than µs is truncated.
pub fn parse_zoned_timestamp(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not an ISO-8601 timestamp");
    let mut cursor = Cursor(text.as_bytes());
    let negative = cursor.eat(b'-');
    if !negative {
        cursor.eat(b'+');
    }
    let year = i64::try_from(cursor.number(4, 9).ok_or_else(bad)?).map_err(|_| bad())?;
    let year = if negative { -year } else { year };
    let month = cursor.dash_then(2).ok_or_else(bad)?;
    let day = cursor.dash_then(2).ok_or_else(bad)?;
    if !(cursor.eat(b'T') || cursor.eat(b' ')) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let time = cursor.time().ok_or_else(bad)?;
    let offset = cursor.offset().ok_or_else(bad)?;
    let days = days_from_civil(year, month as u32, day as u32);
    days.checked_mul(MICROS_PER_DAY).and_then(|d| d.checked_add(time - offset)).ok_or_else(bad)
}

/// µs past midnight, UTC, of an ISO-8601 time with an offset as Debezium's `ZonedTime` writes it (`08:00:00.5Z`).
pub fn parse_zoned_time(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not an ISO-8601 time");
    let mut cursor = Cursor(text.as_bytes());
    let time = cursor.time().ok_or_else(bad)?;
    let offset = cursor.offset().ok_or_else(bad)?;
    Ok((time - offset).rem_euclid(MICROS_PER_DAY))
}

/// A reader over the bytes of an ISO-8601 string.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn eat(&mut self, byte: u8) -> bool {
        match self.0.split_first() {
            Some((&first, rest)) if first == byte => {
                self.0 = rest;
                true
            }
            _ => false,
        }
    }

    /// A number of `min..=max` digits.
    fn number(&mut self, min: usize, max: usize) -> Option<u64> {
        let digits = self.0.iter().take(max).take_while(|b| b.is_ascii_digit()).count();
        if digits < min {
            return None;
        }
        let value = self.0[..digits].iter().fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0'));
        self.0 = &self.0[digits..];
        Some(value)
    }

    fn dash_then(&mut self, digits: usize) -> Option<u64> {
        self.eat(b'-').then(|| self.number(digits, digits)).flatten()
    }

    /// `HH:mm[:ss[.fraction]]` in µs.
    fn time(&mut self) -> Option<i64> {
        let hours = self.number(2, 2)?;
        let minutes = self.eat(b':').then(|| self.number(2, 2)).flatten()?;
        let seconds = if self.eat(b':') { self.number(2, 2)? } else { 0 };
        let mut micros = 0;
        if self.eat(b'.') {
            let digits = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            micros = self.0[..digits.min(6)].iter().fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0'));
            micros *= 10u64.pow(6u32.saturating_sub(digits as u32));
            self.0 = &self.0[digits..];
        }
        if hours > 24 || minutes > 59 || seconds > 60 {
            return None;
        }
        i64::try_from(((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + micros).ok()
    }

    /// `Z`, `±HH`, `±HH:mm` or `±HHmm` in µs east of UTC, then the end; nothing at all is UTC.
    fn offset(&mut self) -> Option<i64> {
        let offset = if self.0.is_empty() || self.eat(b'Z') || self.eat(b'z') {
            0
        } else {
            let sign = if self.eat(b'+') {
                1
            } else if self.eat(b'-') {
                -1
            } else {
                return None;
            };
            let hours = self.number(2, 2)?;
            self.eat(b':');
            let minutes = if self.0.is_empty() { 0 } else { self.number(2, 2)? };
            sign * i64::try_from((hours * 60 + minutes) * 60_000_000).ok()?
        };
        self.0.is_empty().then_some(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoned_timestamps() {
        let days = days_from_civil(2024, 2, 29);
        let ten = days * MICROS_PER_DAY + 36_000_000_000;
        assert_eq!(parse_zoned_timestamp("2024-02-29T10:00:00Z"), Ok(ten));
        assert_eq!(parse_zoned_timestamp("2024-02-29T10:00:00.123456789Z"), Ok(ten + 123_456));
        assert_eq!(parse_zoned_timestamp("2024-02-29T10:00:00.5Z"), Ok(ten + 500_000));
        assert_eq!(parse_zoned_timestamp("2024-02-29T12:00:00+02:00"), Ok(ten));
        assert_eq!(parse_zoned_timestamp("2024-02-29 09:30-0030"), Ok(ten));
        assert_eq!(parse_zoned_timestamp("+10000-01-01T00:00:00Z"), Ok(days_from_civil(10_000, 1, 1) * MICROS_PER_DAY));
        assert_eq!(
            parse_zoned_timestamp("-0043-03-15T00:00:00.000Z"),
            Ok(days_from_civil(-43, 3, 15) * MICROS_PER_DAY)
        );
        for bad in
            ["", "2024-02-29", "2024-13-01T00:00Z", "2024-02-29T10:00:00.Z", "2024-02-29T10:00:00Zx", "24-1-1T00:00"]
        {
            assert!(parse_zoned_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn zoned_times() {
        assert_eq!(parse_zoned_time("08:00:00.5Z"), Ok(8 * 3_600_000_000 + 500_000));
        assert_eq!(parse_zoned_time("01:00:00+02:00"), Ok(23 * 3_600_000_000));
        assert!(parse_zoned_time("8:00Z").is_err());
    }

    #[test]
    fn parts() {
        let micros = days_from_civil(1969, 12, 31) * MICROS_PER_DAY + 1;
        assert_eq!(DateTime::from_micros(micros), DateTime { year: 1969, month: 12, day: 31, micros: 1 });
        assert_eq!(DateTime::from_micros(-1).micros, MICROS_PER_DAY - 1);
        assert_eq!(DateTime::from_days(0), DateTime { year: 1970, month: 1, day: 1, micros: 0 });
        let clock = Clock::from_micros(-(25 * 3_600_000_000 + 61_000_001));
        assert_eq!(clock, Clock { negative: true, hours: 25, minutes: 1, seconds: 1, micros: 1 });
    }
}
