//! The enumerated settings every Debezium connector shares, with Debezium's names, values and defaults, and the way
//! it reads them.

/// `decimal.handling.mode`: how exact decimals (Postgres `numeric` and `money`, MySQL `DECIMAL`) are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalHandling {
    /// `precise` (the default): Kafka Connect's `Decimal` (unscaled bytes), or Debezium's `VariableScaleDecimal`
    /// struct for a `numeric` without a declared scale. NaN and infinities cannot be represented.
    #[default]
    Precise,
    /// `double`: FLOAT64 (NaN and infinities included).
    Double,
    /// `string`: the number as Java's `BigDecimal.toString()` writes it; NaN and infinities as `NAN`,
    /// `POSITIVE_INFINITY`, `NEGATIVE_INFINITY`.
    String,
}

/// `time.precision.mode`: how `date`, `time` and `timestamp` values are represented (`timetz` and `timestamptz` are
/// ISO strings in every mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimePrecision {
    /// `adaptive` (the default): Debezium's types chosen by the column's precision: `io.debezium.time.Time`
    /// (milliseconds) for `time(0..3)`, `MicroTime` for `time(4..6)` and `time`; `Timestamp` (milliseconds) for
    /// `timestamp(0..3)`, `MicroTimestamp` otherwise; `io.debezium.time.Date` days.
    #[default]
    Adaptive,
    /// `adaptive_time_microseconds`: as `adaptive`, but every `time` is `MicroTime`.
    AdaptiveTimeMicroseconds,
    /// `connect`: Kafka Connect's `Date`, `Time` and `Timestamp` (milliseconds; finer precision is truncated).
    Connect,
}

/// `binary.handling.mode`: how binary strings (Postgres `bytea`, MySQL `BINARY`, `VARBINARY`, `BLOB`) are
/// represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryHandling {
    /// `bytes` (the default): BYTES.
    #[default]
    Bytes,
    /// `base64`: a STRING in standard base64 with padding.
    Base64,
    /// `base64-url-safe`: a STRING in the URL-safe base64 alphabet with padding.
    Base64UrlSafe,
    /// `hex`: a STRING of lower-case hex digits.
    Hex,
}

/// The option named by `value` (case-insensitively, as Debezium compares its enumerated settings), or why none
/// is.
pub fn choose<T: Copy>(value: &str, options: &[(&str, T)]) -> Result<T, String> {
    options.iter().find(|(name, _)| name.eq_ignore_ascii_case(value)).map(|(_, option)| *option).ok_or_else(|| {
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        format!("{value:?} is not one of {}", names.join(", "))
    })
}
