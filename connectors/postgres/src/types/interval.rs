//! `interval` values: the `IntervalStyle=postgres` text form (`1 year 2 mons -3 days +04:05:06.789`), the binary
//! form (microseconds, days, months), and Debezium's two representations of them, computed as pgjdbc's
//! `PGInterval` and Debezium's `MicroDuration` / `Interval` compute them.

/// An interval as PostgreSQL stores it: months, days and microseconds, each with its own sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

/// Debezium's average month: 365.25 / 12 days.
const DAYS_PER_MONTH_AVG: f64 = 365.25 / 12.0;

impl Interval {
    /// The binary form: microseconds (int64), days (int32), months (int32).
    pub fn from_binary(bytes: &[u8]) -> Result<Interval, String> {
        let bytes: &[u8; 16] = bytes.try_into().map_err(|_| format!("an interval is 16 bytes, not {}", bytes.len()))?;
        let micros =
            i64::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]]);
        let days = i32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let months = i32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        Ok(Interval { months, days, micros })
    }

    /// The `postgres` style text: `[n year[s]] [n mon[s]] [n day[s]] [[+|-]HH:MM:SS[.f]]`.
    pub fn parse(text: &str) -> Result<Interval, String> {
        let bad = || format!("{text:?} is not an interval in the postgres style");
        let mut interval = Interval { months: 0, days: 0, micros: 0 };
        let mut tokens = text.split_ascii_whitespace();
        while let Some(token) = tokens.next() {
            if token.contains(':') {
                interval.micros = time_part(token).ok_or_else(bad)?;
                continue;
            }
            let number: i32 = token.strip_prefix('+').unwrap_or(token).parse().map_err(|_| bad())?;
            match tokens.next().ok_or_else(bad)? {
                "year" | "years" => interval.months = number.checked_mul(12).ok_or_else(bad)?,
                "mon" | "mons" => interval.months = interval.months.checked_add(number).ok_or_else(bad)?,
                "day" | "days" => interval.days = number,
                _ => return Err(bad()),
            }
        }
        Ok(interval)
    }

    /// The fields pgjdbc's `PGInterval` parses from the text form: years, months, days, hours, minutes, whole
    /// seconds and microseconds (each carrying the sign of its part).
    fn fields(&self) -> (i32, i32, i32, i64, i64, i64, i64) {
        let years = self.months / 12;
        let months = self.months % 12;
        let micros = self.micros;
        (
            years,
            months,
            self.days,
            micros / 3_600_000_000,
            micros / 60_000_000 % 60,
            micros / 1_000_000 % 60,
            micros % 1_000_000,
        )
    }

    /// Debezium's `MicroDuration.durationMicros`, in the same double arithmetic and truncation.
    pub fn micro_duration(&self) -> i64 {
        let (years, months, days, hours, minutes, seconds, micros) = self.fields();
        let seconds = seconds as f64 + micros as f64 / 1e6;
        let month_count = years.wrapping_mul(12).wrapping_add(months);
        let number_of_days = f64::from(month_count) * DAYS_PER_MONTH_AVG + f64::from(days);
        let number_of_seconds = (((number_of_days * 24.0 + hours as f64) * 60.0) + minutes as f64) * 60.0 + seconds;
        (number_of_seconds * 1e6 + 0.0) as i64
    }

    /// Debezium's `Interval.toIsoString`: `P<years>Y<months>M<days>DT<hours>H<minutes>M<seconds>S`, the seconds
    /// without trailing zeros.
    pub fn iso_string(&self) -> String {
        let (years, months, days, hours, minutes, seconds, micros) = self.fields();
        let negative = seconds < 0 || micros < 0;
        let mut secs = format!("{}{}", if negative { "-" } else { "" }, seconds.unsigned_abs());
        if micros != 0 {
            let fraction = format!("{:06}", micros.unsigned_abs());
            secs.push('.');
            secs.push_str(fraction.trim_end_matches('0'));
        }
        format!("P{years}Y{months}M{days}DT{hours}H{minutes}M{secs}S")
    }
}

/// `[+|-]H+:MM:SS[.ffffff]` as signed microseconds.
fn time_part(token: &str) -> Option<i64> {
    let (negative, body) = match token.as_bytes().first()? {
        b'-' => (true, &token[1..]),
        b'+' => (false, &token[1..]),
        _ => (false, token),
    };
    let (hms, fraction) = body.split_once('.').unwrap_or((body, ""));
    let mut parts = hms.split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds: i64 = parts.next().unwrap_or("0").parse().ok()?;
    if parts.next().is_some() || fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut micros = 0;
    for (i, b) in fraction.bytes().chain(std::iter::repeat(b'0')).take(6).enumerate() {
        micros += i64::from(b - b'0') * 10i64.pow(5 - i as u32);
    }
    let total = hours.checked_mul(3_600_000_000)?.checked_add((minutes * 60 + seconds) * 1_000_000 + micros)?;
    Some(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Interval {
        Interval::parse(text).expect("interval")
    }

    #[test]
    fn parses_the_postgres_style() {
        assert_eq!(parse("1 mon 2 days 03:00:00"), Interval { months: 1, days: 2, micros: 10_800_000_000 });
        assert_eq!(parse("1 year 2 mons"), Interval { months: 14, days: 0, micros: 0 });
        assert_eq!(
            parse("-1 years -2 mons +3 days -04:05:06.789"),
            Interval { months: -14, days: 3, micros: -14_706_789_000 }
        );
        assert_eq!(parse("00:00:00"), Interval { months: 0, days: 0, micros: 0 });
        assert_eq!(parse("-00:00:00.5"), Interval { months: 0, days: 0, micros: -500_000 });
        assert_eq!(parse("1234:00:00"), Interval { months: 0, days: 0, micros: 1234 * 3_600_000_000 });
        assert!(Interval::parse("1 fortnight").is_err() && Interval::parse("P1D").is_err());
    }

    #[test]
    fn debezium_representations() {
        // A month is 30.4375 days: (30.4375 + 2) days and 3 hours.
        assert_eq!(parse("1 mon 2 days 03:00:00").micro_duration(), 2_813_400_000_000);
        assert_eq!(parse("1 year 2 mons 3 days 04:05:06.789").iso_string(), "P1Y2M3DT4H5M6.789S");
        assert_eq!(parse("-00:00:00.5").iso_string(), "P0Y0M0DT0H0M-0.5S");
        assert_eq!(parse("00:00:00").iso_string(), "P0Y0M0DT0H0M0S");
        assert_eq!(parse("-1 days").micro_duration(), -86_400_000_000);
    }
}
