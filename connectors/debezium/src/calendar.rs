//! The proleptic Gregorian calendar of `java.time` (year 0 is 1 BC) and the ISO-8601 strings Java's formatters write
//! for Debezium's `ZonedTime` and `ZonedTimestamp`.

use std::fmt::Write;

/// Days since 1970-01-01 of a proleptic Gregorian date (year 0 is 1 BC).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian (year, month, day) of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Java's `ISO_OFFSET_TIME` of a UTC time of day: `HH:mm:ss`, the fraction without trailing zeros, `Z`.
pub fn java_zoned_time(micros: i64) -> String {
    let mut out = String::with_capacity(18);
    push_time(&mut out, micros);
    push_trimmed_fraction(&mut out, micros % 1_000_000);
    out.push('Z');
    out
}

/// Debezium's `ZonedTimestamp.toIsoString` in UTC: Java's ISO date (`+` before years above 9999, `-` and at least
/// four digits before negative ones), `T`, `HH:mm:ss`, then exactly `width` fraction digits for a width of 1 to 9
/// or (width 0) the fraction without trailing zeros, then `Z`.
pub fn java_zoned_timestamp(days: i64, micros: i64, width: i32) -> String {
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(32);
    if year > 9999 {
        let _ = write!(out, "+{year}");
    } else if year < 0 {
        let _ = write!(out, "-{:04}", -year);
    } else {
        let _ = write!(out, "{year:04}");
    }
    let _ = write!(out, "-{month:02}-{day:02}T");
    push_time(&mut out, micros);
    let fraction = micros % 1_000_000;
    if (1..=9).contains(&width) {
        let nanos = format!("{:09}", fraction * 1000);
        out.push('.');
        out.push_str(&nanos[..width as usize]);
    } else {
        push_trimmed_fraction(&mut out, fraction);
    }
    out.push('Z');
    out
}

/// `HH:mm:ss` of a time of day in µs.
pub fn push_time(out: &mut String, micros: i64) {
    let seconds = micros / 1_000_000;
    let _ = write!(out, "{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
}

/// `.` and the fraction of a second in µs without trailing zeros; nothing for none.
pub fn push_trimmed_fraction(out: &mut String, fraction: i64) {
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for days in [-1_000_000, -719_468, -1, 0, 1, 10_957, 2_932_896, 100_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn java_forms() {
        assert_eq!(java_zoned_time(8 * 3_600_000_000 + 500_000), "08:00:00.5Z");
        let days = days_from_civil(2024, 2, 29);
        assert_eq!(java_zoned_timestamp(days, 36_000_000_000, 6), "2024-02-29T10:00:00.000000Z");
        assert_eq!(java_zoned_timestamp(days, 36_000_120_000, 0), "2024-02-29T10:00:00.12Z");
        assert_eq!(java_zoned_timestamp(days_from_civil(-43, 3, 15), 0, 3), "-0043-03-15T00:00:00.000Z");
        assert_eq!(java_zoned_timestamp(days_from_civil(10_000, 1, 1), 0, 0), "+10000-01-01T00:00:00Z");
    }
}
