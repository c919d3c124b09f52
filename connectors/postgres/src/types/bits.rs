//! `bit(n)` and `varbit(n)`: the bits from the text form (`10110011`) or the binary form (bit count, then the
//! bits first to last, most significant first), and Debezium's representations: a boolean for one bit, else
//! `io.debezium.data.Bits` bytes.
//!
//! Debezium reads the bit string as a binary number (the last bit is bit 0) and writes Java's
//! `BitSet.toByteArray()` of it: little-endian, only as many bytes as the highest set bit needs (none for all
//! zeros).

/// A bit string, one `bool` per bit, first bit first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bits(pub Vec<bool>);

impl Bits {
    /// The text form: `0` and `1` characters.
    pub fn parse(text: &str) -> Result<Bits, String> {
        text.bytes()
            .map(|b| match b {
                b'0' => Ok(false),
                b'1' => Ok(true),
                _ => Err(format!("{text:?} is not a bit string")),
            })
            .collect::<Result<Vec<bool>, String>>()
            .map(Bits)
    }

    /// The binary form: the bit count (int32), then the bits packed most significant first.
    pub fn from_binary(bytes: &[u8]) -> Result<Bits, String> {
        let varbit = postgres_protocol::types::varbit_from_sql(bytes).map_err(|e| e.to_string())?;
        let packed = varbit.bytes();
        Ok(Bits((0..varbit.len()).map(|i| packed[i / 8] & (0x80 >> (i % 8)) != 0).collect()))
    }

    /// Debezium's boolean of a one-bit column: whether the number is not zero.
    pub fn any(&self) -> bool {
        self.0.iter().any(|&bit| bit)
    }

    /// Debezium's `io.debezium.data.Bits` value: the little-endian bytes of the number, without high zero bytes.
    pub fn little_endian(&self) -> Vec<u8> {
        let n = self.0.len();
        let mut out = vec![0u8; n.div_ceil(8)];
        for (i, _) in self.0.iter().enumerate().filter(|(_, &bit)| bit) {
            let position = n - 1 - i;
            out[position / 8] |= 1 << (position % 8);
        }
        while out.last() == Some(&0) {
            out.pop();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(text: &str) -> Bits {
        Bits::parse(text).expect("bits")
    }

    #[test]
    fn little_endian_like_bitset() {
        assert_eq!(bits("10110011").little_endian(), vec![0xb3]);
        assert_eq!(bits("0000000101").little_endian(), vec![0x05]);
        assert_eq!(bits("0000000100000000").little_endian(), vec![0x00, 0x01]);
        assert_eq!(bits("1000000000").little_endian(), vec![0x00, 0x02]);
        assert_eq!(bits("0000").little_endian(), Vec::<u8>::new());
        assert!(bits("01").any() && !bits("00").any() && !bits("").any());
        assert!(Bits::parse("012").is_err());
    }

    #[test]
    fn binary_form() {
        assert_eq!(Bits::from_binary(&[0, 0, 0, 10, 0b1000_0000, 0b0100_0000]), Ok(bits("1000000001")));
        assert!(Bits::from_binary(&[0, 0, 0, 10, 0]).is_err());
    }
}
