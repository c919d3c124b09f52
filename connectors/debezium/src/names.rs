//! Debezium's semantic type names.

/// `io.debezium.data.VariableScaleDecimal`: STRUCT {scale INT32, value BYTES}.
pub const VARIABLE_SCALE_DECIMAL: &str = "io.debezium.data.VariableScaleDecimal";
/// `io.debezium.data.geometry.Point`: STRUCT {x, y FLOAT64, wkb optional BYTES, srid optional INT32}.
pub const POINT: &str = "io.debezium.data.geometry.Point";
/// `io.debezium.data.Bits`: BYTES, little-endian, with the `length` parameter.
pub const BITS: &str = "io.debezium.data.Bits";
/// `io.debezium.data.Enum`: STRING with the `allowed` parameter.
pub const ENUM: &str = "io.debezium.data.Enum";
/// `io.debezium.data.EnumSet`: STRING (the members, comma-separated) with the `allowed` parameter.
pub const ENUM_SET: &str = "io.debezium.data.EnumSet";
/// `io.debezium.data.geometry.Geometry`: STRUCT {wkb BYTES, srid optional INT32}.
pub const GEOMETRY: &str = "io.debezium.data.geometry.Geometry";
/// `io.debezium.data.Json`: STRING.
pub const JSON: &str = "io.debezium.data.Json";
/// `io.debezium.data.Uuid`: STRING.
pub const UUID: &str = "io.debezium.data.Uuid";
/// `io.debezium.data.Xml`: STRING.
pub const XML: &str = "io.debezium.data.Xml";
/// `io.debezium.data.Ltree`: STRING.
pub const LTREE: &str = "io.debezium.data.Ltree";
/// `io.debezium.data.Tsvector`: STRING.
pub const TSVECTOR: &str = "io.debezium.data.Tsvector";
/// `io.debezium.time.Date`: INT32 days since the epoch.
pub const DATE: &str = "io.debezium.time.Date";
/// `io.debezium.time.Time`: INT32 milliseconds past midnight.
pub const TIME: &str = "io.debezium.time.Time";
/// `io.debezium.time.MicroTime`: INT64 microseconds past midnight.
pub const MICRO_TIME: &str = "io.debezium.time.MicroTime";
/// `io.debezium.time.Timestamp`: INT64 milliseconds since the epoch.
pub const TIMESTAMP: &str = "io.debezium.time.Timestamp";
/// `io.debezium.time.MicroTimestamp`: INT64 microseconds since the epoch.
pub const MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
/// `io.debezium.time.NanoTime`: INT64 nanoseconds past midnight.
pub const NANO_TIME: &str = "io.debezium.time.NanoTime";
/// `io.debezium.time.NanoTimestamp`: INT64 nanoseconds since the epoch.
pub const NANO_TIMESTAMP: &str = "io.debezium.time.NanoTimestamp";
/// `io.debezium.time.ZonedTime`: STRING, ISO-8601 in UTC.
pub const ZONED_TIME: &str = "io.debezium.time.ZonedTime";
/// `io.debezium.time.ZonedTimestamp`: STRING, ISO-8601 in UTC.
pub const ZONED_TIMESTAMP: &str = "io.debezium.time.ZonedTimestamp";
/// `io.debezium.time.Year`: INT32, the year.
pub const YEAR: &str = "io.debezium.time.Year";
/// `io.debezium.time.MicroDuration`: INT64 microseconds.
pub const MICRO_DURATION: &str = "io.debezium.time.MicroDuration";
/// `io.debezium.time.Interval`: STRING, `P<y>Y<m>M<d>DT<h>H<m>M<s>S`.
pub const INTERVAL: &str = "io.debezium.time.Interval";
