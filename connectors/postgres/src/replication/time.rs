//! Postgres timestamps on the replication protocol: microseconds since 2000-01-01 00:00:00 UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2000-01-01 00:00:00 UTC in microseconds since the Unix epoch.
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

/// Converts a protocol timestamp (µs since 2000-01-01 UTC) to a [`SystemTime`].
pub fn pg_time_to_system_time(pg_micros: i64) -> SystemTime {
    let unix_micros = pg_micros.saturating_add(PG_EPOCH_UNIX_MICROS);
    let magnitude = Duration::from_micros(unix_micros.unsigned_abs());
    if unix_micros >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// Converts a [`SystemTime`] to a protocol timestamp (µs since 2000-01-01 UTC), saturating far outside the range.
pub fn system_time_to_pg_time(time: SystemTime) -> i64 {
    let unix_micros = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_micros()).map_or(i64::MIN, |micros| -micros),
    };
    unix_micros.saturating_sub(PG_EPOCH_UNIX_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_postgres_epoch_is_2000_01_01() {
        assert_eq!(pg_time_to_system_time(0), UNIX_EPOCH + Duration::from_secs(946_684_800));
        assert_eq!(system_time_to_pg_time(UNIX_EPOCH + Duration::from_secs(946_684_800)), 0);
        assert_eq!(system_time_to_pg_time(UNIX_EPOCH), -PG_EPOCH_UNIX_MICROS);
    }

    #[test]
    fn round_trips_microseconds() {
        for micros in [-PG_EPOCH_UNIX_MICROS - 1, -1, 1, 817_000_123_456_789] {
            assert_eq!(system_time_to_pg_time(pg_time_to_system_time(micros)), micros);
        }
    }
}
