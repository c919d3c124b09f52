//! The proleptic Gregorian calendar of `java.time` (year 0 is 1 BC) and the ISO-8601 strings Java's formatters write
//! for Debezium's `ZonedTime` and `ZonedTimestamp`.

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
/// or (width 0) the fraction without trailing zeros, then `Z`. `micros` is a time of day (not negative).
pub fn java_zoned_timestamp(days: i64, micros: i64, width: i32) -> String {
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(32);
    if year > 9999 {
        out.push('+');
    } else if year < 0 {
        out.push('-');
    }
    push_decimal(&mut out, year.unsigned_abs(), 4);
    out.push('-');
    push_decimal(&mut out, u64::from(month), 2);
    out.push('-');
    push_decimal(&mut out, u64::from(day), 2);
    out.push('T');
    push_time(&mut out, micros);
    let fraction = micros.unsigned_abs() % 1_000_000;
    match u32::try_from(width) {
        Ok(width @ 1..=9) => {
            // The first `width` of the nanoseconds' nine digits.
            out.push('.');
            push_decimal(&mut out, fraction * 1000 / 10u64.pow(9 - width), width as usize);
        }
        _ => push_trimmed_fraction(&mut out, fraction as i64),
    }
    out.push('Z');
    out
}

/// `HH:mm:ss` of a time of day in µs (not negative).
pub fn push_time(out: &mut String, micros: i64) {
    let seconds = micros.unsigned_abs() / 1_000_000;
    push_decimal(out, seconds / 3600, 2);
    out.push(':');
    push_decimal(out, seconds / 60 % 60, 2);
    out.push(':');
    push_decimal(out, seconds % 60, 2);
}

/// `.` and the fraction of a second in µs (not negative) without trailing zeros; nothing for none.
pub fn push_trimmed_fraction(out: &mut String, fraction: i64) {
    let mut fraction = fraction.unsigned_abs();
    if fraction == 0 {
        return;
    }
    let mut width = 6;
    while fraction.is_multiple_of(10) {
        fraction /= 10;
        width -= 1;
    }
    out.push('.');
    push_decimal(out, fraction, width);
}

/// Appends `n` in decimal, zero-padded to at least `width` digits. Sources write such numbers for every record
/// (times, `source.sequence`), and `write!`/`format!` cost several times this.
pub fn push_decimal(out: &mut String, n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let start = start.min(digits.len().saturating_sub(width));
    // Only ASCII digits were written, so this always succeeds.
    if let Ok(text) = std::str::from_utf8(&digits[start..]) {
        out.push_str(text);
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
        assert_eq!(java_zoned_timestamp(days, 86_399_000_005, 9), "2024-02-29T23:59:59.000005000Z");
        assert_eq!(java_zoned_timestamp(days, 86_399_000_005, 5), "2024-02-29T23:59:59.00000Z");
        assert_eq!(java_zoned_timestamp(days, 86_399_000_005, 0), "2024-02-29T23:59:59.000005Z");
        assert_eq!(java_zoned_timestamp(days_from_civil(5, 1, 1), 0, 0), "0005-01-01T00:00:00Z");
    }

    #[test]
    fn decimals() {
        let pushed = |n: u64, width: usize| {
            let mut out = String::new();
            push_decimal(&mut out, n, width);
            out
        };
        assert_eq!(pushed(0, 1), "0");
        assert_eq!(pushed(7, 4), "0007");
        assert_eq!(pushed(12345, 2), "12345");
        assert_eq!(pushed(u64::MAX, 25), u64::MAX.to_string());
    }
}
