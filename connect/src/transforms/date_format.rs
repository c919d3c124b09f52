//! Java's `SimpleDateFormat` patterns in UTC, as `TimestampRouter` uses them (`timestamp.format`): the pattern is
//! parsed once into fields and literals, then each timestamp is formatted without allocation beyond the output.
//!
//! Letters supported: `G` era, `y` year (`yy` two digits), `M` month (`MMM` / `MMMM` names), `d` day of month,
//! `D` day of year, `E` day name, `u` day number of week (1 = Monday), `a` AM/PM, `H` hour 0-23, `k` 1-24,
//! `K` 0-11, `h` 1-12, `m` minute, `s` second, `S` millisecond, `z` / `Z` / `X` the zone (always UTC). Text in
//! single quotes is literal (`''` is a quote); other non-letters are literal. Week-based letters (`w`, `W`, `F`,
//! `Y`) are refused. Dates are proleptic Gregorian (Java switches to Julian before 1582).

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const SUPPORTED: &str = "GyMdDEuaHkKhmsSzZX";

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    Field(char, usize),
}

/// A parsed `SimpleDateFormat` pattern.
#[derive(Debug, Clone)]
pub(crate) struct DateFormat {
    tokens: Vec<Token>,
}

impl DateFormat {
    /// Parses `pattern`; the error is Java's reason (`Illegal pattern character 'w'`, `Unterminated quote`).
    pub(crate) fn parse(pattern: &str) -> Result<Self, String> {
        let mut tokens: Vec<Token> = Vec::new();
        let mut literal = String::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    literal.push('\'');
                    continue;
                }
                loop {
                    match chars.next() {
                        None => return Err("Unterminated quote".into()),
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(q) => literal.push(q),
                    }
                }
            } else if c.is_ascii_alphabetic() {
                if !SUPPORTED.contains(c) {
                    return Err(format!("Illegal pattern character '{c}'"));
                }
                let mut count = 1;
                while chars.peek() == Some(&c) {
                    chars.next();
                    count += 1;
                }
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                tokens.push(Token::Field(c, count));
            } else {
                literal.push(c);
            }
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        Ok(DateFormat { tokens })
    }

    /// `epoch_ms` (milliseconds since 1970-01-01T00:00:00Z) formatted in UTC.
    pub(crate) fn format(&self, epoch_ms: i64) -> String {
        let days = epoch_ms.div_euclid(86_400_000);
        let ms_of_day = epoch_ms.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let hour = ms_of_day / 3_600_000;
        let minute = ms_of_day / 60_000 % 60;
        let second = ms_of_day / 1000 % 60;
        let millis = ms_of_day % 1000;
        let weekday = (days + 3).rem_euclid(7); // 1970-01-01 was a Thursday; 0 = Monday
        let mut out = String::with_capacity(24);
        for token in &self.tokens {
            let (letter, count) = match token {
                Token::Literal(text) => {
                    out.push_str(text);
                    continue;
                }
                Token::Field(letter, count) => (*letter, *count),
            };
            match letter {
                'G' => out.push_str(if year > 0 { "AD" } else { "BC" }),
                'y' => {
                    let year_of_era = if year > 0 { year } else { 1 - year };
                    if count == 2 {
                        pad(&mut out, year_of_era % 100, 2);
                    } else {
                        pad(&mut out, year_of_era, count);
                    }
                }
                'M' if count >= 4 => out.push_str(MONTHS[(month - 1) as usize]),
                'M' if count == 3 => out.push_str(&MONTHS[(month - 1) as usize][..3]),
                'M' => pad(&mut out, month, count),
                'd' => pad(&mut out, day, count),
                'D' => pad(&mut out, days - days_from_civil(year, 1, 1) + 1, count),
                'E' if count >= 4 => out.push_str(DAYS[weekday as usize]),
                'E' => out.push_str(&DAYS[weekday as usize][..3]),
                'u' => pad(&mut out, weekday + 1, count),
                'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
                'H' => pad(&mut out, hour, count),
                'k' => pad(&mut out, if hour == 0 { 24 } else { hour }, count),
                'K' => pad(&mut out, hour % 12, count),
                'h' => pad(&mut out, if hour % 12 == 0 { 12 } else { hour % 12 }, count),
                'm' => pad(&mut out, minute, count),
                's' => pad(&mut out, second, count),
                'S' => pad(&mut out, millis, count),
                'z' => out.push_str(if count >= 4 { "Coordinated Universal Time" } else { "UTC" }),
                'Z' => out.push_str("+0000"),
                _ => out.push('Z'), // 'X': ISO 8601 zone, "Z" for UTC
            }
        }
        out
    }
}

fn pad(out: &mut String, value: i64, width: usize) {
    use std::fmt::Write;
    let _ = write!(out, "{value:0width$}");
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01, proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day count since 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(pattern: &str, ms: i64) -> String {
        DateFormat::parse(pattern).expect("pattern").format(ms)
    }

    #[test]
    fn formats_like_simple_date_format_in_utc() {
        // 2019-05-03T13:31:34.484Z, a Friday (the timestamp of Debezium's outbox example).
        let ms = 1_556_890_294_484;
        assert_eq!(format("yyyyMMdd", ms), "20190503");
        assert_eq!(format("yyyy-MM-dd HH:mm:ss.SSS", ms), "2019-05-03 13:31:34.484");
        assert_eq!(format("yy/M/d h:m a", ms), "19/5/3 1:31 PM");
        assert_eq!(format("EEE, d MMM yyyy", ms), "Fri, 3 May 2019");
        assert_eq!(format("EEEE MMMM D u", ms), "Friday May 123 5");
        assert_eq!(format("yyyy-MM-dd'T'HH:mm:ssX", ms), "2019-05-03T13:31:34Z");
        assert_eq!(format("'o''clock' Z z G", ms), "o'clock +0000 UTC AD");
        assert_eq!(format("k K S", 0), "24 0 0");
        assert_eq!(format("yyyyMMddHH", -1), "1969123123", "before the epoch");
        assert_eq!(format("yyyy-MM-dd", 951_782_400_000), "2000-02-29");
    }

    #[test]
    fn refuses_unknown_letters_and_open_quotes() {
        assert_eq!(DateFormat::parse("yyyy-ww").err().as_deref(), Some("Illegal pattern character 'w'"));
        assert_eq!(DateFormat::parse("yyyy'T").err().as_deref(), Some("Unterminated quote"));
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-719_468, -1, 0, 59, 10_957, 18_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
