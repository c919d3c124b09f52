//! Dates and times: the ISO text forms PostgreSQL writes under `DateStyle=ISO` and `TimeZone=UTC`
//! (`2024-02-29`, `0044-03-15 BC`, `12:00:00.5`, `10:00:00+02`, `2024-02-29 10:00:00+00`, `infinity`), the
//! binary forms (microseconds and days since 2000-01-01), and the ISO-8601 strings Java's formatters write for
//! Debezium's `ZonedTime` and `ZonedTimestamp`.
//!
//! Calendar arithmetic is the proleptic Gregorian calendar of both PostgreSQL and `java.time`, with year 0 for
//! 1 BC.

use tidemark_debezium::calendar::{civil_from_days, days_from_civil, push_time, push_trimmed_fraction};

/// Microseconds in a day.
pub(crate) const DAY_MICROS: i64 = 86_400_000_000;
/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
pub(crate) const PG_EPOCH_DAYS: i64 = 10_957;

/// A `date`: days since 1970-01-01, or an infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Date {
    /// Days since 1970-01-01.
    Days(i64),
    /// `infinity`.
    PosInf,
    /// `-infinity`.
    NegInf,
}

/// A `timestamp` (local) or `timestamptz` (UTC) instant, or an infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// Days since 1970-01-01 and microseconds into the day (`0..DAY_MICROS`).
    At { days: i64, micros: i64 },
    /// `infinity`.
    PosInf,
    /// `-infinity`.
    NegInf,
}

impl Date {
    /// From days since 2000-01-01 (the binary form), `i32::MAX` and `i32::MIN` being the infinities.
    pub fn from_pg_days(days: i32) -> Date {
        match days {
            i32::MAX => Date::PosInf,
            i32::MIN => Date::NegInf,
            days => Date::Days(i64::from(days) + PG_EPOCH_DAYS),
        }
    }
}

impl Stamp {
    /// From microseconds since 2000-01-01 (the binary form), `i64::MAX` and `i64::MIN` being the infinities.
    pub fn from_pg_micros(micros: i64) -> Stamp {
        match micros {
            i64::MAX => Stamp::PosInf,
            i64::MIN => Stamp::NegInf,
            _ => {
                Stamp::At { days: micros.div_euclid(DAY_MICROS) + PG_EPOCH_DAYS, micros: micros.rem_euclid(DAY_MICROS) }
            }
        }
    }

    /// Microseconds since 1970-01-01, saturating (as Java's `TimeUnit.toMicros` does).
    pub fn epoch_micros(days: i64, micros: i64) -> i64 {
        let total = i128::from(days) * i128::from(DAY_MICROS) + i128::from(micros);
        total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Milliseconds since 1970-01-01, rounded down (Java's `Instant.toEpochMilli()`).
    pub fn epoch_millis(days: i64, micros: i64) -> i64 {
        let total = i128::from(days) * 86_400_000 + i128::from(micros.div_euclid(1000));
        total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// `YYYY-MM-DD` (four or more year digits) with an optional ` BC`, or `infinity` / `-infinity`.
pub(crate) fn parse_date(text: &str) -> Result<Date, String> {
    match text {
        "infinity" => return Ok(Date::PosInf),
        "-infinity" => return Ok(Date::NegInf),
        _ => {}
    }
    let (body, bc) = strip_bc(text);
    Ok(Date::Days(parse_ymd(body, bc).ok_or_else(|| format!("{text:?} is not an ISO date"))?))
}

/// `HH:MM:SS[.ffffff]` as microseconds past midnight (up to 24:00:00).
pub(crate) fn parse_time(text: &str) -> Result<i64, String> {
    time_micros(text).ok_or_else(|| format!("{text:?} is not a time of day"))
}

/// A `timetz`: `HH:MM:SS[.ffffff]±HH[:MM[:SS]]` as (local microseconds past midnight, offset seconds east).
pub(crate) fn parse_timetz(text: &str) -> Result<(i64, i32), String> {
    let bad = || format!("{text:?} is not a time of day with an offset");
    let sign = text.rfind(['+', '-']).ok_or_else(bad)?;
    let micros = time_micros(&text[..sign]).ok_or_else(bad)?;
    let offset = parse_offset(&text[sign..]).ok_or_else(bad)?;
    Ok((micros, offset))
}

/// A `timestamp` (`with_zone` false: `YYYY-MM-DD HH:MM:SS[.ffffff][ BC]`) or `timestamptz` (an offset after the
/// time), as the UTC instant; `infinity` and `-infinity` too.
pub(crate) fn parse_timestamp(text: &str, with_zone: bool) -> Result<Stamp, String> {
    match text {
        "infinity" => return Ok(Stamp::PosInf),
        "-infinity" => return Ok(Stamp::NegInf),
        _ => {}
    }
    let bad = || format!("{text:?} is not an ISO timestamp");
    let (body, bc) = strip_bc(text);
    let (date, time) = body.split_once(' ').ok_or_else(bad)?;
    let days = parse_ymd(date, bc).ok_or_else(bad)?;
    let (time, offset) = if with_zone {
        let sign = time.rfind(['+', '-']).ok_or_else(bad)?;
        (&time[..sign], parse_offset(&time[sign..]).ok_or_else(bad)?)
    } else {
        (time, 0)
    };
    let local = time_micros(time).ok_or_else(bad)?;
    let utc = local - i64::from(offset) * 1_000_000;
    Ok(Stamp::At { days: days + utc.div_euclid(DAY_MICROS), micros: utc.rem_euclid(DAY_MICROS) })
}

fn strip_bc(text: &str) -> (&str, bool) {
    match text.strip_suffix(" BC") {
        Some(body) => (body, true),
        None => (text, false),
    }
}

fn parse_ymd(text: &str, bc: bool) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(year) || month.len() != 2 || day.len() != 2 || !all_digits(month) || !all_digits(day) {
        return None;
    }
    let year: i64 = year.parse().ok()?;
    let (month, day): (u32, u32) = (month.parse().ok()?, day.parse().ok()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(if bc { 1 - year } else { year }, month, day))
}

fn time_micros(text: &str) -> Option<i64> {
    let (hms, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut parts = hms.splitn(3, ':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    let two = |s: &str| match s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
        true => s.parse::<i64>().ok(),
        false => None,
    };
    let (h, m, s) = (two(h)?, two(m)?, two(s)?);
    if fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) || h > 24 || m > 59 || s > 60 {
        return None;
    }
    let mut micros = 0;
    for (i, b) in fraction.bytes().chain(std::iter::repeat(b'0')).take(6).enumerate() {
        micros += i64::from(b - b'0') * 10i64.pow(5 - i as u32);
    }
    Some(((h * 60 + m) * 60 + s) * 1_000_000 + micros)
}

/// `±HH[:MM[:SS]]` as seconds east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
    let negative = text.starts_with('-');
    let mut seconds = 0;
    for (i, part) in text.get(1..)?.split(':').enumerate() {
        if i > 2 || part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        seconds += part.parse::<i32>().ok()? * [3600, 60, 1][i];
    }
    Some(if negative { -seconds } else { seconds })
}

/// `date_out`: `YYYY-MM-DD`, ` BC` for years before 1, `infinity`, `-infinity`.
pub(crate) fn pg_date_text(date: Date) -> String {
    match date {
        Date::PosInf => "infinity".to_owned(),
        Date::NegInf => "-infinity".to_owned(),
        Date::Days(days) => {
            let (year, month, day) = civil_from_days(days);
            let (year, bc) = if year <= 0 { (1 - year, " BC") } else { (year, "") };
            format!("{year:04}-{month:02}-{day:02}{bc}")
        }
    }
}

/// `timestamp_out` (`with_zone` false) or `timestamptz_out` under `TimeZone=UTC` (`+00` after the time).
pub(crate) fn pg_timestamp_text(stamp: Stamp, with_zone: bool) -> String {
    let Stamp::At { days, micros } = stamp else {
        return if stamp == Stamp::PosInf { "infinity" } else { "-infinity" }.to_owned();
    };
    let (year, month, day) = civil_from_days(days);
    let (year, bc) = if year <= 0 { (1 - year, " BC") } else { (year, "") };
    let mut out = format!("{year:04}-{month:02}-{day:02} ");
    push_time(&mut out, micros);
    push_trimmed_fraction(&mut out, micros % 1_000_000);
    if with_zone {
        out.push_str("+00");
    }
    out.push_str(bc);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_epoch_and_bc_dates() {
        assert_eq!(days_from_civil(2000, 1, 1), PG_EPOCH_DAYS);
        assert_eq!(parse_date("0001-01-01 BC"), Ok(Date::Days(days_from_civil(0, 1, 1))));
    }

    #[test]
    fn parses_iso_text() {
        assert_eq!(parse_time("24:00:00"), Ok(DAY_MICROS));
        assert_eq!(parse_time("00:00:00.5"), Ok(500_000));
        assert!(parse_time("1:00:00").is_err() && parse_time("00:00:00.1234567").is_err());
        assert_eq!(parse_timetz("10:00:00+02"), Ok((36_000_000_000, 7200)));
        assert_eq!(parse_timetz("10:00:00-03:30"), Ok((36_000_000_000, -12_600)));
        let stamp = parse_timestamp("2024-02-29 12:00:00+02", true).expect("timestamptz");
        assert_eq!(stamp, Stamp::At { days: days_from_civil(2024, 2, 29), micros: 36_000_000_000 });
        let midnight = parse_timestamp("2024-03-01 01:00:00+05", true).expect("timestamptz");
        assert_eq!(midnight, Stamp::At { days: days_from_civil(2024, 2, 29), micros: 20 * 3_600_000_000 });
        assert_eq!(parse_timestamp("infinity", false), Ok(Stamp::PosInf));
    }

    #[test]
    fn writes_postgres_and_java_forms() {
        let stamp = Stamp::from_pg_micros(-1);
        assert_eq!(pg_timestamp_text(stamp, true), "1999-12-31 23:59:59.999999+00");
        let bc = Stamp::At { days: days_from_civil(-43, 3, 15), micros: 0 };
        assert_eq!(pg_timestamp_text(bc, false), "0044-03-15 00:00:00 BC");
        assert_eq!(pg_date_text(Date::Days(days_from_civil(-43, 3, 15))), "0044-03-15 BC");
    }
}
