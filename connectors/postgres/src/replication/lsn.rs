//! Log sequence numbers: positions in the write-ahead log.

use std::fmt;
use std::str::FromStr;

/// A position in the write-ahead log, as Postgres counts it: a byte offset, written `16/B374D848` (the high and low
/// 32 bits in upper-case hexadecimal). Ordered as the log is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl Lsn {
    /// `0/0`, the invalid position; `START_REPLICATION ... 0/0` resumes a slot where it was confirmed.
    pub const ZERO: Lsn = Lsn(0);
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// A string that is not an LSN in Postgres's `X/X` form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a log sequence number (expected hexadecimal `X/X`, as in `16/B374D848`)")]
pub struct ParseLsnError(String);

impl FromStr for Lsn {
    type Err = ParseLsnError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseLsnError(text.to_owned());
        let (high, low) = text.split_once('/').ok_or_else(error)?;
        let part = |hex: &str| {
            // from_str_radix alone would accept a sign.
            if hex.is_empty() || hex.len() > 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(error());
            }
            u32::from_str_radix(hex, 16).map_err(|_| error())
        };
        Ok(Lsn((u64::from(part(high)?) << 32) | u64::from(part(low)?)))
    }
}

impl From<u64> for Lsn {
    fn from(position: u64) -> Self {
        Lsn(position)
    }
}

impl From<Lsn> for u64 {
    fn from(lsn: Lsn) -> Self {
        lsn.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_postgres_does() {
        assert_eq!(Lsn(0x16_B374_D848).to_string(), "16/B374D848");
        assert_eq!(Lsn::ZERO.to_string(), "0/0");
        assert_eq!(Lsn(u64::MAX).to_string(), "FFFFFFFF/FFFFFFFF");
    }

    #[test]
    fn parses_what_postgres_writes() {
        assert_eq!("16/B374D848".parse(), Ok(Lsn(0x16_B374_D848)));
        assert_eq!("0/0".parse(), Ok(Lsn::ZERO));
        assert_eq!("0/1a".parse(), Ok(Lsn(0x1A)));
        for bad in ["", "/", "1/", "/1", "1", "1/2/3", "G/0", "+1/0", "123456789/0", " 1/0"] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn orders_as_the_log() {
        let a: Lsn = "0/FFFFFFFF".parse().expect("lsn");
        let b: Lsn = "1/0".parse().expect("lsn");
        assert!(a < b);
        assert_eq!(Lsn::from(u64::from(b)), b);
    }
}
