//! Recognising a Debezium change event envelope and finding its parts.
//!
//! Debezium's transforms check that the value schema's name ends in `.Envelope`; Tidemark checks the shape (a
//! struct with `op`, `before` and `after` fields), which every Debezium envelope has and which also recognises
//! envelopes built without Debezium's schema names.

use crate::data::{Field, Schema, Struct, Value};

/// The operation field (`c`, `u`, `d`, `r`, `t`, `m`).
pub(crate) const OP: &str = "op";
/// The row before the change.
pub(crate) const BEFORE: &str = "before";
/// The row after the change.
pub(crate) const AFTER: &str = "after";
/// The event's own timestamp, ms.
pub(crate) const TS_MS: &str = "ts_ms";

/// Where the parts of an envelope schema are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape<'a> {
    /// The `op` field.
    pub(crate) op: &'a Field,
    /// The `before` field.
    pub(crate) before: &'a Field,
    /// The `after` field.
    pub(crate) after: &'a Field,
}

impl<'a> Shape<'a> {
    /// The shape of `schema`, if it is an envelope's.
    pub(crate) fn of(schema: &'a Schema) -> Option<Self> {
        Some(Shape { op: schema.field(OP)?, before: schema.field(BEFORE)?, after: schema.field(AFTER)? })
    }
}

/// The operation code of an envelope ("" when null).
pub(crate) fn op_of(envelope: &Struct, shape: &Shape<'_>) -> String {
    envelope.get_index(shape.op.index()).and_then(Value::as_str).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SchemaBuilder;

    #[test]
    fn recognises_the_shape() {
        let row = SchemaBuilder::struct_().optional().build().expect("row");
        let envelope = SchemaBuilder::struct_()
            .name("server1.public.t.Envelope")
            .field("before", row.clone())
            .field("after", row)
            .field("op", SchemaBuilder::string().build().expect("op"))
            .build()
            .expect("envelope");
        let shape = Shape::of(&envelope).expect("shape");
        assert_eq!((shape.before.index(), shape.after.index(), shape.op.index()), (0, 1, 2));
        let heartbeat = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.Heartbeat")
            .field("ts_ms", SchemaBuilder::int64().build().expect("ts"))
            .build()
            .expect("heartbeat");
        assert!(Shape::of(&heartbeat).is_none());
        let event = Struct::from_values(envelope, vec![Value::Null, Value::Null, "c".into()]).expect("event");
        assert_eq!(op_of(&event, &Shape::of(event.schema()).expect("shape")), "c");
    }
}
