//! Dates and times as the server writes them in the text protocol (`2024-02-29`, `-838:59:59.000000`,
//! `2024-01-02 03:04:05.120`), and MySQL's zero dates.

use tidemark_debezium::calendar::days_from_civil;

/// Microseconds in a second.
pub(super) const MICROS_PER_SECOND: i64 = 1_000_000;
/// Microseconds in a day.
pub(super) const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// A date as the server stores it, none of its parts zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CivilDate {
    year: i64,
    month: u32,
    day: u32,
}

impl CivilDate {
    /// The date; `None` for MySQL's zero date and the partly zero ones (`0000-00-00`, `2024-00-10`,
    /// `0000-01-01`), which Debezium's binlog reader turns into null.
    pub fn new(year: i64, month: u32, day: u32) -> Option<CivilDate> {
        (year != 0 && month != 0 && day != 0).then_some(CivilDate { year, month, day })
    }

    /// Days since 1970-01-01; with `adjust` (`enable.time.adjuster`), years 1 to 69 are read as 2001 to 2069 and
    /// 70 to 99 as 1970 to 1999, as Debezium's adjuster does.
    pub fn days(self, adjust: bool) -> i64 {
        let year = match self.year {
            0..=69 if adjust => self.year + 2000,
            70..=99 if adjust => self.year + 1900,
            year => year,
        };
        days_from_civil(year, self.month, self.day)
    }
}

/// A time of day (or a date's time) in µs from its parts.
pub(super) fn micros_of(hours: i64, minutes: i64, seconds: i64, micros: i64) -> i64 {
    ((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND + micros
}

/// `YYYY-MM-DD`; `None` for a zero date.
pub(super) fn parse_date(text: &str) -> Result<Option<CivilDate>, String> {
    let bad = || format!("{text:?} is not a date");
    let mut parts = text.splitn(3, '-');
    let mut next = || parts.next().and_then(digits).ok_or_else(bad);
    let (year, month, day) = (next()?, next()?, next()?);
    let month = u32::try_from(month).map_err(|_| bad())?;
    let day = u32::try_from(day).map_err(|_| bad())?;
    Ok(CivilDate::new(year, month, day))
}

/// `[-]H+:MM:SS[.f]` (TIME ranges from -838:59:59 to 838:59:59): signed µs.
pub(super) fn parse_time(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a time");
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let magnitude = parse_clock(rest).ok_or_else(bad)?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// `YYYY-MM-DD HH:MM:SS[.f]`: the date and the time of day in µs; `None` for a zero date.
pub(super) fn parse_datetime(text: &str) -> Result<Option<(CivilDate, i64)>, String> {
    let bad = || format!("{text:?} is not a date and time");
    let (date, time) = text.split_once(' ').ok_or_else(bad)?;
    let time = parse_clock(time).filter(|&micros| micros < MICROS_PER_DAY).ok_or_else(bad)?;
    Ok(parse_date(date)?.map(|date| (date, time)))
}

/// `H+:MM:SS[.f]` in µs.
fn parse_clock(text: &str) -> Option<i64> {
    let (clock, fraction) = match text.split_once('.') {
        Some((clock, fraction)) => (clock, fraction),
        None => (text, ""),
    };
    let mut parts = clock.splitn(3, ':');
    let hours = digits(parts.next()?)?;
    let minutes = digits(parts.next()?).filter(|m| *m < 60)?;
    let seconds = digits(parts.next()?).filter(|s| *s < 60)?;
    Some(micros_of(hours, minutes, seconds, fraction_micros(fraction)?))
}

/// Up to six fraction digits as µs (`5` is 500000).
pub(super) fn fraction_micros(fraction: &str) -> Option<i64> {
    if fraction.len() > 6 || (!fraction.is_empty() && digits(fraction).is_none()) {
        return None;
    }
    let padded = format!("{fraction:0<6}");
    padded.parse().ok()
}

/// A run of ASCII digits as a number.
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_text_protocols_forms() {
        assert_eq!(parse_date("2024-02-29").map(|d| d.map(|d| d.days(true))), Ok(Some(19_782)));
        assert_eq!(parse_date("0000-00-00"), Ok(None));
        assert_eq!(parse_date("2024-00-10"), Ok(None));
        assert!(parse_date("2024-02").is_err() && parse_date("20x4-01-01").is_err());
        assert_eq!(parse_time("-838:59:59.000000"), Ok(-3_020_399_000_000));
        assert_eq!(parse_time("838:59:59"), Ok(3_020_399_000_000));
        assert_eq!(parse_time("-00:00:01.5"), Ok(-1_500_000));
        assert!(
            parse_time("12:60:00").is_err() && parse_time("1:2").is_err() && parse_time("00:00:00.1234567").is_err()
        );
        let (date, micros) = parse_datetime("9999-12-31 23:59:59.999999").expect("parses").expect("not zero");
        assert_eq!(date.days(true) * MICROS_PER_DAY + micros, 253_402_300_799_999_999);
        assert_eq!(parse_datetime("0000-00-00 00:00:00"), Ok(None));
        assert!(parse_datetime("2024-01-01 24:00:00").is_err());
    }

    #[test]
    fn adjusts_two_digit_years_when_asked() {
        let date = CivilDate::new(24, 5, 1).expect("date");
        assert_eq!(date.days(true), days_from_civil(2024, 5, 1));
        assert_eq!(date.days(false), days_from_civil(24, 5, 1));
        assert_eq!(CivilDate::new(99, 1, 1).map(|d| d.days(true)), Some(days_from_civil(1999, 1, 1)));
        assert_eq!(CivilDate::new(100, 1, 1).map(|d| d.days(true)), Some(days_from_civil(100, 1, 1)));
    }
}
