//! [`ColumnConverter`]: one column's Connect schema and the conversion of its values from both paths, prepared once
//! per column (the schema built) so that converting a value does no more than read it.

use mysql_async::binlog::value::BinlogValue;
use tidemark_connect::data::{SchemaRef, Value};
use tidemark_debezium::ColumnSchema;

use super::datum::Datum;
use super::error::TypeError;
use super::mysql_type::{ColumnDef, MySqlType};
use super::settings::TypeSettings;
use super::{binlog_value, json, schema, text_value};

/// Converts the values of one column to Debezium's representation. Build one per column of a table (again when
/// its definition changes) and use it for every row, in the snapshot and in the stream: both paths give the same
/// Connect value for the same stored value.
#[derive(Debug, Clone)]
pub struct ColumnConverter {
    pub(super) def: ColumnDef,
    pub(super) settings: TypeSettings,
    pub(super) schema: SchemaRef,
}

impl ColumnConverter {
    /// The converter of column `def` under `settings`. Fails with [`TypeError::Unsupported`] for a type without a
    /// mapping: the source leaves such a column out of the events.
    pub fn new(def: &ColumnDef, settings: &TypeSettings) -> Result<Self, TypeError> {
        let schema = schema::build(&def.ty, def.optional, settings, &def.name)?;
        Ok(ColumnConverter { def: def.clone(), settings: *settings, schema })
    }

    /// The column's schema (optional when the column accepts NULL), its field's schema in the row.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The column this converter was built for.
    pub fn column(&self) -> &ColumnDef {
        &self.def
    }

    /// A value from a binlog row image, as mysql_common 0.37 decodes row events (integers as `Int`/`UInt`,
    /// DECIMAL and TIMESTAMP as text bytes, DATE and DATETIME as `Date`, TIME as `Time`, ENUM as its index, SET as
    /// its bitmask, the rest as stored bytes). MySQL's binary JSON is written out as text; a partial JSON update is
    /// refused ([`TypeError::PartialJson`]).
    pub fn binlog(&self, value: &BinlogValue<'_>) -> Result<Value, TypeError> {
        let datum = match (value, &self.def.ty) {
            (BinlogValue::Value(value), ty) => binlog_value::decode(ty, value),
            (BinlogValue::Jsonb(jsonb), MySqlType::Json) => json::from_jsonb(jsonb).map(Datum::Text),
            (BinlogValue::Jsonb(_), ty) => Err(format!("binary JSON in a {ty} column")),
            (BinlogValue::JsonDiff(_), _) => return Err(TypeError::PartialJson { column: self.def.name.clone() }),
        };
        self.represent(datum.map_err(|reason| self.malformed("binlog", reason))?, "binlog")
    }

    /// A value from the snapshot: the text protocol's bytes of `SELECT *` (or of
    /// [`ColumnDef::select_expression`]), read on a connection whose `character_set_results` is utf8mb4 (what
    /// mysql_async sets) and whose `time_zone` is `'+00:00'`; or NULL.
    pub fn text(&self, value: &mysql_async::Value) -> Result<Value, TypeError> {
        let datum = match value {
            mysql_async::Value::NULL => Ok(Datum::Null),
            mysql_async::Value::Bytes(bytes) => text_value::decode(&self.def.ty, bytes),
            other => Err(format!("{other:?} is not a text-protocol value")),
        };
        self.represent(datum.map_err(|reason| self.malformed("text", reason))?, "text")
    }

    /// A [`TypeError::Malformed`] for this column.
    pub(super) fn malformed(&self, path: &'static str, reason: String) -> TypeError {
        TypeError::Malformed { column: self.def.name.clone(), type_name: self.def.ty.to_string(), path, reason }
    }
}

impl ColumnSchema for ColumnConverter {
    type Error = TypeError;

    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use tidemark_connect::data::{validate, Struct};
    use tidemark_debezium::calendar::days_from_civil;

    use super::*;
    use crate::types::charset::Charset;
    use crate::types::mysql_type::GeometryKind;
    use crate::types::settings::{BigIntUnsignedHandling, DecimalHandling, TimePrecision};

    fn converter(ty: MySqlType, optional: bool, settings: &TypeSettings) -> ColumnConverter {
        ColumnConverter::new(&ColumnDef { name: "c".to_owned(), ty, optional }, settings).expect("converter")
    }

    /// The value of `text` in the text protocol and of `binlog` in a row image, checked equal and valid.
    fn both(converter: &ColumnConverter, text: &[u8], binlog: mysql_async::Value) -> Value {
        let from_text = converter.text(&mysql_async::Value::Bytes(text.to_vec())).expect("text value");
        let from_binlog = converter.binlog(&BinlogValue::Value(binlog)).expect("binlog value");
        assert_eq!(from_text, from_binlog, "{}", converter.column().ty);
        assert_eq!(validate(converter.schema(), &from_text), Ok(()));
        from_text
    }

    fn bytes(b: &[u8]) -> mysql_async::Value {
        mysql_async::Value::Bytes(b.to_vec())
    }

    #[test]
    fn bigint_unsigned_max_in_both_modes() {
        let ty = MySqlType::BigInt { unsigned: true };
        let long = converter(ty.clone(), true, &TypeSettings::default());
        let max = mysql_async::Value::UInt(u64::MAX);
        assert_eq!(both(&long, b"18446744073709551615", max.clone()), Value::Int64(-1));
        let precise = TypeSettings { bigint_unsigned: BigIntUnsignedHandling::Precise, ..TypeSettings::default() };
        let precise = converter(ty, true, &precise);
        let expected = Bytes::from_static(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(both(&precise, b"18446744073709551615", max), Value::Bytes(expected));
    }

    #[test]
    fn negative_and_long_times() {
        let micro = converter(MySqlType::Time { fsp: 6 }, true, &TypeSettings::default());
        let minimum = mysql_async::Value::Time(true, 34, 22, 59, 59, 0);
        assert_eq!(both(&micro, b"-838:59:59.000000", minimum), Value::Int64(-3_020_399_000_000));
        let half = mysql_async::Value::Time(true, 0, 0, 0, 1, 500_000);
        assert_eq!(both(&micro, b"-00:00:01.500000", half), Value::Int64(-1_500_000));
        let adaptive = TypeSettings { time_precision: TimePrecision::Adaptive, ..TypeSettings::default() };
        let millis = converter(MySqlType::Time { fsp: 3 }, true, &adaptive);
        assert_eq!(
            both(&millis, b"25:00:00.125", mysql_async::Value::Time(false, 1, 1, 0, 0, 125_000)),
            Value::Int32(90_000_125)
        );
        let connect = TypeSettings { time_precision: TimePrecision::Connect, ..TypeSettings::default() };
        let connect = converter(MySqlType::Time { fsp: 0 }, true, &connect);
        assert_eq!(
            both(&connect, b"23:59:59", mysql_async::Value::Time(false, 0, 23, 59, 59, 0)),
            Value::Int32(86_399_000)
        );
        assert!(matches!(connect.text(&bytes(b"-00:00:01")), Err(TypeError::OutOfRange { .. })));
    }

    #[test]
    fn datetimes_by_precision_and_zero_dates() {
        let settings = TypeSettings::default();
        let micros = converter(MySqlType::DateTime { fsp: 6 }, true, &settings);
        let max = mysql_async::Value::Date(9999, 12, 31, 23, 59, 59, 999_999);
        assert_eq!(both(&micros, b"9999-12-31 23:59:59.999999", max), Value::Int64(253_402_300_799_999_999));
        let millis = converter(MySqlType::DateTime { fsp: 3 }, true, &settings);
        let value = mysql_async::Value::Date(1969, 12, 31, 23, 59, 59, 999_000);
        assert_eq!(both(&millis, b"1969-12-31 23:59:59.999", value), Value::Int64(-1));
        let zero = mysql_async::Value::Date(0, 0, 0, 0, 0, 0, 0);
        assert_eq!(both(&micros, b"0000-00-00 00:00:00", zero.clone()), Value::Null);
        let required = converter(MySqlType::DateTime { fsp: 0 }, false, &settings);
        assert_eq!(both(&required, b"0000-00-00 00:00:00", zero.clone()), Value::Int64(0));
        let date = converter(MySqlType::Date, false, &settings);
        assert_eq!(both(&date, b"0000-00-00", zero), Value::Int32(0));
        let adjusted = mysql_async::Value::Date(24, 5, 1, 0, 0, 0, 0);
        assert_eq!(both(&date, b"0024-05-01", adjusted), Value::Int32(days_from_civil(2024, 5, 1) as i32));
        let timestamp = converter(MySqlType::Timestamp { fsp: 0 }, false, &settings);
        assert_eq!(
            both(&timestamp, b"0000-00-00 00:00:00", bytes(b"0")),
            Value::String("1970-01-01T00:00:00Z".to_owned())
        );
        let timestamp = converter(MySqlType::Timestamp { fsp: 6 }, true, &settings);
        let value = both(&timestamp, b"2038-01-19 03:14:07.100000", bytes(b"2147483647.100000"));
        assert_eq!(value, Value::String("2038-01-19T03:14:07.100000Z".to_owned()));
        assert_eq!(both(&timestamp, b"0000-00-00 00:00:00.000000", bytes(b"0")), Value::Null);
    }

    #[test]
    fn bits_sets_enums_and_text() {
        let settings = TypeSettings::default();
        let bit10 = converter(MySqlType::Bit { length: 10 }, true, &settings);
        assert_eq!(both(&bit10, &[0x02, 0x03], bytes(&[0x02, 0x03])), Value::Bytes(Bytes::from_static(&[0x03, 0x02])));
        let set = converter(MySqlType::Set(["a", "b", "c", "d"].map(str::to_owned).to_vec()), true, &settings);
        assert_eq!(both(&set, b"a,c,d", bytes(&[0b1101])), Value::String("a,c,d".to_owned()));
        let labels = MySqlType::Enum(["small", "medium"].map(str::to_owned).to_vec());
        let sizes = converter(labels, true, &settings);
        assert_eq!(both(&sizes, b"medium", mysql_async::Value::Int(2)), Value::String("medium".to_owned()));
        let latin1 = converter(MySqlType::VarChar { charset: Charset::Latin1 }, true, &settings);
        let value = both(&latin1, "café ÿ€".as_bytes(), bytes(b"caf\xe9 \xff\x80"));
        assert_eq!(value, Value::String("café ÿ€".to_owned()));
    }

    #[test]
    fn decimals_in_every_mode() {
        let ty = MySqlType::Decimal { precision: 10, scale: 2 };
        let text = b"-12345678.90";
        let value = |mode| {
            let settings = TypeSettings { decimal: mode, ..TypeSettings::default() };
            both(&converter(ty.clone(), true, &settings), text, bytes(text))
        };
        assert_eq!(value(DecimalHandling::Precise), Value::Bytes(Bytes::from_static(&[0xb6, 0x69, 0xfd, 0x2e])));
        assert_eq!(value(DecimalHandling::Double), Value::Float64(-12_345_678.9));
        assert_eq!(value(DecimalHandling::String), Value::String("-12345678.90".to_owned()));
        let small = TypeSettings { decimal: DecimalHandling::String, ..TypeSettings::default() };
        let small = converter(MySqlType::Decimal { precision: 10, scale: 8 }, true, &small);
        assert_eq!(both(&small, b"0.00000001", bytes(b"0.00000001")), Value::String("1E-8".to_owned()));
    }

    #[test]
    fn geometries_and_points() {
        let settings = TypeSettings::default();
        let mut stored = 4326i32.to_le_bytes().to_vec();
        let wkb = [1u8, 1, 0, 0, 0].into_iter().chain(1.5f64.to_le_bytes()).chain((-2.0f64).to_le_bytes());
        stored.extend(wkb);
        let point = converter(MySqlType::Geometry(GeometryKind::Point), true, &settings);
        let Value::Struct(value) = both(&point, &stored, bytes(&stored)) else { panic!("not a struct") };
        assert_eq!(value.values()[..2], [Value::Float64(1.5), Value::Float64(-2.0)]);
        assert_eq!(value.values()[3], Value::Int32(4326));
        let geometry = converter(MySqlType::Geometry(GeometryKind::Geometry), false, &settings);
        let mut no_srid = vec![0, 0, 0, 0];
        no_srid.extend(&stored[4..]);
        let Value::Struct(value) = both(&geometry, &no_srid, bytes(&no_srid)) else { panic!("not a struct") };
        assert_eq!(value.values(), [Value::Bytes(Bytes::copy_from_slice(&stored[4..])), Value::Null]);
        let empty = geometry.text(&mysql_async::Value::NULL).expect("fallback");
        let expected = Struct::from_values(
            geometry.schema().clone(),
            vec![Value::Bytes(Bytes::from_static(&[1, 7, 0, 0, 0, 0, 0, 0, 0])), Value::Null],
        );
        assert_eq!(Ok(empty), expected.map(Value::Struct));
    }

    #[test]
    fn malformed_values_name_the_column_and_path() {
        let int = converter(MySqlType::Int { unsigned: false }, true, &TypeSettings::default());
        assert!(matches!(int.text(&bytes(b"four")), Err(TypeError::Malformed { path: "text", .. })));
        assert!(matches!(
            int.binlog(&BinlogValue::Value(bytes(b"4"))),
            Err(TypeError::Malformed { path: "binlog", .. })
        ));
        assert!(matches!(int.text(&mysql_async::Value::Int(4)), Err(TypeError::Malformed { .. })));
        assert!(matches!(int.binlog(&BinlogValue::JsonDiff(Vec::new())), Err(TypeError::PartialJson { .. })));
        let unsupported =
            ColumnDef { name: "u".to_owned(), ty: MySqlType::Unsupported("UUID".to_owned()), optional: true };
        assert!(matches!(
            ColumnConverter::new(&unsupported, &TypeSettings::default()),
            Err(TypeError::Unsupported { .. })
        ));
    }
}
