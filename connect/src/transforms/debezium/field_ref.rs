//! The metadata fields `add.fields` and `add.headers` of `ExtractNewRecordState` name: `op`, `ts_ms` (top level),
//! `id`, `total_order`, `data_collection_order` (in `transaction`), anything else in `source` (`table`, `lsn`,
//! `db`, ...), or `struct.field` explicitly; each optionally `field:newName`. The output name is the prefix (`__`)
//! and the field (`__op`, `__table`), or prefix, struct, `_` and field for an explicit struct (`__source_ts_ms`),
//! or prefix and the new name.

use crate::data::{Field, Schema, SchemaError, SchemaRef, Struct, Value};

use super::super::schema_util::optional_copy;

/// One metadata field to copy out of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldRef {
    /// The struct holding it (`source`, `transaction`), or `None` for a top-level field.
    parent: Option<String>,
    /// The field's name in that struct.
    field: String,
    /// The name it gets in the output (`__source_ts_ms`).
    pub(crate) out_name: String,
}

impl FieldRef {
    /// Parses one item of `add.fields` / `add.headers` with its prefix; the error is Debezium's reason.
    pub(crate) fn parse(prefix: &str, spec: &str) -> Result<Self, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        let path: Vec<&str> = parts[0].split('.').collect();
        let (parent, field) = match path[..] {
            [field] => (home_of(field).map(str::to_owned), field.to_owned()),
            [parent, field] => (Some(parent.to_owned()), field.to_owned()),
            _ => return Err(format!("Unexpected field name: {spec}")),
        };
        let out_name = match (&parts[..], &parent) {
            ([_], Some(parent)) if path.len() == 2 => format!("{prefix}{parent}_{field}"),
            ([_], _) => format!("{prefix}{field}"),
            ([_, alias], _) => format!("{prefix}{alias}"),
            _ => return Err(format!("Unexpected field name: {spec}")),
        };
        if field.is_empty() {
            return Err(format!("Unexpected field name: {spec}"));
        }
        Ok(FieldRef { parent, field, out_name })
    }

    /// Whether this is the `op` field (which a tombstone reports as `d` in headers).
    pub(crate) fn is_op(&self) -> bool {
        self.field == "op"
    }

    /// The field in an envelope schema: in its struct, else at the top level (a field another transform added);
    /// `None` when neither has it (the field is then left out).
    pub(crate) fn locate<'a>(&self, envelope: &'a Schema) -> Option<&'a Field> {
        let parent = match &self.parent {
            Some(name) => envelope.field(name).map(|f| f.schema().as_ref()),
            None => Some(envelope),
        };
        parent.and_then(|p| p.field(&self.field)).or_else(|| envelope.field(&self.field))
    }

    /// The schema the copied field gets: the located field's, made optional.
    pub(crate) fn schema_in(&self, envelope: &Schema) -> Option<Result<SchemaRef, SchemaError>> {
        self.locate(envelope).map(|f| optional_copy(f.schema()))
    }

    /// The value of the field in `envelope` (stored values, defaults not applied; null when its struct is null,
    /// as `transaction` is during snapshots).
    pub(crate) fn value_in(&self, envelope: &Struct) -> Value {
        let parent = match &self.parent {
            Some(name) if envelope.schema().field(name).is_some() => match envelope.get_without_default(name) {
                Ok(Value::Struct(parent)) => parent,
                _ => return Value::Null,
            },
            _ => envelope,
        };
        parent
            .get_without_default(&self.field)
            .or_else(|_| envelope.get_without_default(&self.field))
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// The struct an unqualified field lives in.
fn home_of(field: &str) -> Option<&'static str> {
    match field {
        "id" | "total_order" | "data_collection_order" => Some("transaction"),
        "op" | "ts_ms" => None,
        _ => Some("source"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SchemaBuilder;

    fn parse(spec: &str) -> FieldRef {
        FieldRef::parse("__", spec).expect("spec")
    }

    #[test]
    fn names_follow_debezium() {
        assert_eq!(parse("op").out_name, "__op");
        assert_eq!(parse("table").out_name, "__table");
        assert_eq!(parse("lsn").parent.as_deref(), Some("source"));
        assert_eq!(parse("source.ts_ms").out_name, "__source_ts_ms");
        assert_eq!(parse("ts_ms").parent, None);
        assert_eq!(parse("id").parent.as_deref(), Some("transaction"));
        assert_eq!(parse("source.ts_ms:EVENT_TIMESTAMP").out_name, "__EVENT_TIMESTAMP");
        assert_eq!(FieldRef::parse("", "db").map(|f| f.out_name).as_deref(), Ok("db"));
        assert!(FieldRef::parse("__", "a:b:c").is_err());
        assert!(FieldRef::parse("__", "a.b.c").is_err());
    }

    #[test]
    fn locates_and_reads_fields() {
        let source = SchemaBuilder::struct_()
            .field("table", SchemaBuilder::string().build().expect("table"))
            .field("ts_ms", SchemaBuilder::int64().build().expect("ts"))
            .build()
            .expect("source");
        let tx = SchemaBuilder::struct_()
            .optional()
            .field("id", SchemaBuilder::string().build().expect("id"))
            .build()
            .expect("tx");
        let envelope = SchemaBuilder::struct_()
            .field("op", SchemaBuilder::string().build().expect("op"))
            .field("source", source.clone())
            .field("transaction", tx)
            .build()
            .expect("envelope");
        let source_value = Struct::from_values(source, vec!["customers".into(), Value::Int64(5)]).expect("source");
        let event =
            Struct::from_values(envelope.clone(), vec!["u".into(), source_value.into(), Value::Null]).expect("event");
        assert_eq!(parse("table").value_in(&event), Value::from("customers"));
        assert_eq!(parse("source.ts_ms").value_in(&event), Value::Int64(5));
        assert_eq!(parse("op").value_in(&event), Value::from("u"));
        assert_eq!(parse("id").value_in(&event), Value::Null, "no transaction during a snapshot");
        let lsn = parse("lsn");
        assert!(lsn.locate(&envelope).is_none(), "not a Postgres event: left out");
        let schema = parse("source.ts_ms").schema_in(&envelope).expect("found").expect("schema");
        assert!(schema.is_optional());
    }
}
