//! Transform chains configured exactly as Debezium's documentation configures them, applied to records shaped
//! like Debezium's change events (key struct; value envelope with `before`, `after`, `source`, `op`, `ts_ms`,
//! `transaction`), asserting what the documentation says comes out.
//!
//! The property blocks are copied from Debezium's documentation pages (their source in the Debezium repository,
//! `documentation/modules/ROOT/pages/transformations/*.adoc`). Where a block lists `transforms=outbox,...`, the
//! `,...` stands for the reader's other transforms and is removed before parsing.

use std::collections::BTreeMap;

use tidemark_connect::config::parse_properties;
use tidemark_connect::data::{SchemaBuilder, SchemaRef, Struct, Type, Value};
use tidemark_connect::record::ConnectRecord;
use tidemark_connect::transforms::{validate, TransformChain};

/// A chain from a documentation block.
fn chain(doc_block: &str) -> TransformChain {
    let props = config(doc_block);
    TransformChain::from_config(&props).unwrap_or_else(|errors| panic!("the documented config is refused: {errors:?}"))
}

fn config(doc_block: &str) -> BTreeMap<String, String> {
    parse_properties(&doc_block.replace(",...", ""))
}

fn apply(chain: &TransformChain, record: ConnectRecord) -> Option<ConnectRecord> {
    chain.apply(record).unwrap_or_else(|error| panic!("the record failed: {error}"))
}

fn string() -> SchemaRef {
    SchemaBuilder::string().build().expect("string")
}

fn optional(builder: SchemaBuilder) -> SchemaRef {
    builder.optional().build().expect("optional")
}

/// Debezium's Postgres `source` block.
fn source_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.Source")
        .field("version", string())
        .field("connector", string())
        .field("name", string())
        .field("ts_ms", SchemaBuilder::int64().build().expect("ts_ms"))
        .field(
            "snapshot",
            optional(
                SchemaBuilder::string()
                    .name("io.debezium.data.Enum")
                    .parameter("allowed", "true,last,false,incremental"),
            ),
        )
        .field("db", string())
        .field("sequence", optional(SchemaBuilder::string()))
        .field("schema", string())
        .field("table", string())
        .field("txId", optional(SchemaBuilder::int64()))
        .field("lsn", optional(SchemaBuilder::int64()))
        .field("xmin", optional(SchemaBuilder::int64()))
        .build()
        .expect("source")
}

/// A `source` block for `db`.`schema`.`table` at `lsn`, the change made at `ts_ms`.
fn source(db: &str, table: &str, lsn: i64, ts_ms: i64) -> Value {
    let values = vec![
        "2.7.0.Final".into(),
        "postgresql".into(),
        "dbserver1".into(),
        Value::Int64(ts_ms),
        "false".into(),
        db.into(),
        Value::Null,
        "inventory".into(),
        table.into(),
        Value::Int64(584),
        Value::Int64(lsn),
        Value::Null,
    ];
    Value::Struct(Struct::from_values(source_schema(), values).expect("source"))
}

/// The schemas of one captured table: key, row (`<prefix>.Value`) and envelope (`<prefix>.Envelope`).
struct Table {
    topic: String,
    key: SchemaRef,
    row: SchemaRef,
    envelope: SchemaRef,
}

impl Table {
    fn new(topic: &str, key_fields: &[(&str, SchemaRef)], columns: &[(&str, SchemaRef)]) -> Self {
        let key = key_fields
            .iter()
            .fold(SchemaBuilder::struct_().name(format!("{topic}.Key")), |b, (n, s)| b.field(*n, s.clone()));
        let row =
            columns.iter().fold(SchemaBuilder::struct_().name(format!("{topic}.Value")).optional(), |b, (n, s)| {
                b.field(*n, s.clone())
            });
        let row = row.build().expect("row");
        let transaction = SchemaBuilder::struct_()
            .name("event.block")
            .optional()
            .field("id", string())
            .field("total_order", SchemaBuilder::int64().build().expect("total_order"))
            .field("data_collection_order", SchemaBuilder::int64().build().expect("data_collection_order"))
            .build()
            .expect("transaction");
        let envelope = SchemaBuilder::struct_()
            .name(format!("{topic}.Envelope"))
            .version(1)
            .field("before", row.clone())
            .field("after", row.clone())
            .field("source", source_schema())
            .field("op", string())
            .field("ts_ms", optional(SchemaBuilder::int64()))
            .field("transaction", transaction)
            .build()
            .expect("envelope");
        Table { topic: topic.to_owned(), key: key.build().expect("key"), row, envelope }
    }

    fn row(&self, values: Vec<Value>) -> Value {
        Value::Struct(Struct::from_values(self.row.clone(), values).expect("row"))
    }

    /// A change event: `op` with the before and after rows, keyed by `key`.
    fn event(
        &self,
        key: Vec<Value>,
        op: &str,
        before: Value,
        after: Value,
        source: Value,
        ts_ms: i64,
    ) -> ConnectRecord {
        let key = Struct::from_values(self.key.clone(), key).expect("key");
        let values = vec![before, after, source, op.into(), Value::Int64(ts_ms), Value::Null];
        let envelope = Struct::from_values(self.envelope.clone(), values).expect("envelope");
        envelope.validate().expect("a valid envelope");
        ConnectRecord::new(
            &self.topic,
            (Some(self.key.clone()), key.into()),
            (Some(self.envelope.clone()), envelope.into()),
        )
    }

    /// The tombstone Debezium emits after a delete.
    fn tombstone(&self, key: Vec<Value>) -> ConnectRecord {
        let key = Struct::from_values(self.key.clone(), key).expect("key");
        ConnectRecord::new(&self.topic, (Some(self.key.clone()), key.into()), (None, Value::Null))
    }
}

fn field<'a>(record: &'a ConnectRecord, name: &str) -> &'a Value {
    let row = record.value.as_struct().unwrap_or_else(|| panic!("a struct value, not {:?}", record.value));
    row.get(name).unwrap_or_else(|_| panic!("no field {name} in {:?}", row.schema().fields()))
}

fn field_names(record: &ConnectRecord) -> Vec<String> {
    record.value_schema.as_ref().map(|s| s.fields().iter().map(|f| f.name().to_owned()).collect()).unwrap_or_default()
}

fn header<'a>(record: &'a ConnectRecord, key: &str) -> Option<&'a Value> {
    record.last_header(key).map(|h| &h.value)
}

// ---------------------------------------------------------------------------------------------------------------
// Outbox Event Router (debezium.io/documentation/reference/stable/transformations/outbox-event-router.html)
// ---------------------------------------------------------------------------------------------------------------

/// The documented payload of the example outbox message.
const ORDER_PAYLOAD: &str = r#"{"id": 1, "lineItems": [{"id": 1, "item": "Debezium in Action", "status": "ENTERED", "quantity": 2, "totalPrice": 39.98}, {"id": 2, "item": "Debezium for Dummies", "status": "ENTERED", "quantity": 1, "totalPrice": 29.99}], "orderDate": "2019-01-31T12:13:01", "customerId": 123}"#;

/// The outbox table of the page's example message (id, aggregateid, aggregatetype, payload, timestamp, type), plus
/// the `eventType` column its "additional fields" section refers to.
fn outbox_table() -> Table {
    Table::new(
        "dbserver1-bare.inventory.outboxevent",
        &[("id", SchemaBuilder::string().name("io.debezium.data.Uuid").build().expect("uuid"))],
        &[
            ("id", SchemaBuilder::string().name("io.debezium.data.Uuid").build().expect("uuid")),
            ("aggregateid", string()),
            ("aggregatetype", string()),
            ("payload", optional(SchemaBuilder::string().name("io.debezium.data.Json").version(1))),
            ("timestamp", SchemaBuilder::int64().build().expect("timestamp")),
            ("type", string()),
            ("eventType", optional(SchemaBuilder::string())),
        ],
    )
}

/// The page's raw Debezium message: an insert into the outbox table with the example's values.
fn outbox_insert(table: &Table, aggregate_type: &str) -> ConnectRecord {
    let event_id = "406c07f3-26f0-4eea-a50c-109940064b8f";
    let after = table.row(vec![
        event_id.into(),
        "1".into(),
        aggregate_type.into(),
        ORDER_PAYLOAD.into(),
        Value::Int64(1_556_890_294_344),
        "OrderCreated".into(),
        "order-created".into(),
    ]);
    let source = source("orderdb", "outboxevent", 24_064_704, 1_556_890_294_448);
    table.event(vec![event_id.into()], "c", Value::Null, after, source, 1_556_890_294_484)
}

/// "Basic configuration" block.
const OUTBOX_BASIC: &str = "
transforms=outbox,...
transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
";

#[test]
fn outbox_basic_configuration_emits_the_documented_message() {
    let chain = chain(OUTBOX_BASIC);
    let table = outbox_table();
    // The page's example row has aggregatetype "Order" and shows the topic `outbox.event.order`; the SMT does not
    // change case (Debezium's RegexRouter copies the value), so "Order" goes to `outbox.event.Order` and an
    // aggregate type "order" to the documented `outbox.event.order`.
    let out = apply(&chain, outbox_insert(&table, "order")).expect("emitted");
    assert_eq!(out.topic, "outbox.event.order");
    assert_eq!(apply(&chain, outbox_insert(&table, "Order")).expect("emitted").topic, "outbox.event.Order");
    // Kafka Message key: "1" (the aggregateid).
    assert_eq!(out.key, Value::from("1"));
    assert_eq!(out.key_schema.as_ref().map(|s| s.schema_type()), Some(Type::String));
    // Kafka Message Headers: id=<the event id>.
    assert_eq!(header(&out, "id"), Some(&Value::from("406c07f3-26f0-4eea-a50c-109940064b8f")));
    assert_eq!(out.headers.len(), 1);
    // Kafka Message Timestamp: 1556890294484 (the change event's ts_ms).
    assert_eq!(out.timestamp, Some(1_556_890_294_484));
    // The value is solely the payload column, with its schema.
    assert_eq!(out.value, Value::from(ORDER_PAYLOAD));
    assert_eq!(out.value_schema.as_ref().and_then(|s| s.name()), Some("io.debezium.data.Json"));
}

/// "Emitting messages with additional fields": the `eventType` column as a header named `type`.
const OUTBOX_HEADER_FIELD: &str = "
transforms=outbox,...
transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
transforms.outbox.table.fields.additional.placement=eventType:header:type
";

/// The same section: the `eventType` column in the envelope, as `type`.
const OUTBOX_ENVELOPE_FIELD: &str = "
transforms=outbox,...
transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
transforms.outbox.table.fields.additional.placement=eventType:envelope:type
";

#[test]
fn outbox_additional_fields_go_to_headers_or_the_envelope() {
    let table = outbox_table();
    let out = apply(&chain(OUTBOX_HEADER_FIELD), outbox_insert(&table, "order")).expect("emitted");
    assert_eq!(header(&out, "type"), Some(&Value::from("order-created")));
    assert_eq!(out.value, Value::from(ORDER_PAYLOAD), "a header placement keeps the value the bare payload");

    let out = apply(&chain(OUTBOX_ENVELOPE_FIELD), outbox_insert(&table, "order")).expect("emitted");
    assert_eq!(field_names(&out), ["payload", "type"]);
    assert_eq!(field(&out, "payload"), &Value::from(ORDER_PAYLOAD));
    assert_eq!(field(&out, "type"), &Value::from("order-created"));
    let schema = out.value_schema.expect("an envelope schema");
    assert_eq!(schema.name(), Some("dbserver1-bare.inventory.outboxevent.order.Value"));
}

/// "Expanding escaped JSON String as JSON" block.
const OUTBOX_EXPAND_JSON: &str = "
transforms=outbox,...
transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
transforms.outbox.table.expand.json.payload=true
value.converter=org.apache.kafka.connect.json.JsonConverter
";

#[test]
fn outbox_expands_the_json_payload_into_a_struct() {
    let out = apply(&chain(OUTBOX_EXPAND_JSON), outbox_insert(&outbox_table(), "order")).expect("emitted");
    assert_eq!(out.topic, "outbox.event.order");
    // {"id": 1, "lineItems": [...], "orderDate": "2019-01-31T12:13:01", "customerId": 123}
    assert_eq!(field_names(&out), ["id", "lineItems", "orderDate", "customerId"]);
    assert_eq!(field(&out, "id"), &Value::Int32(1));
    assert_eq!(field(&out, "orderDate"), &Value::from("2019-01-31T12:13:01"));
    assert_eq!(field(&out, "customerId"), &Value::Int32(123));
    let Value::Array(lines) = field(&out, "lineItems") else { panic!("lineItems is an array") };
    let second = lines[1].as_struct().expect("a line item struct");
    assert_eq!(second.get("item"), Ok(&Value::from("Debezium for Dummies")));
    assert_eq!(second.get("totalPrice"), Ok(&Value::Float64(29.99)));
    assert_eq!(second.get("quantity"), Ok(&Value::Int32(1)));
    assert_eq!(out.value.as_struct().map(Struct::validate), Some(Ok(())));
}

// Applying transformations selectively
// (debezium.io/documentation/reference/stable/transformations/applying-transformations-selectively.html):
// "TopicNameMatch predicate for the outbox event router transformation".
const OUTBOX_WITH_PREDICATE: &str = "
transforms=outbox
transforms.outbox.predicate=IsOutboxTable
transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
predicates=IsOutboxTable
predicates.IsOutboxTable.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches
predicates.IsOutboxTable.pattern=outbox.event.*
";

#[test]
fn outbox_router_applies_only_where_the_predicate_matches() {
    let chain = chain(OUTBOX_WITH_PREDICATE);
    let mut outbox = outbox_insert(&outbox_table(), "order");
    outbox.topic = "outbox.events".into();
    assert_eq!(apply(&chain, outbox).expect("emitted").topic, "outbox.event.order");
    let customers = customers_table();
    let other = customers.event(
        vec![1001.into()],
        "c",
        Value::Null,
        customer(&customers, 1001, "Sally"),
        source("inventory", "customers", 1, 2),
        3,
    );
    assert_eq!(apply(&chain, other.clone()), Some(other), "records of other topics pass unmodified");
}

#[test]
fn outbox_skips_deletes_and_tombstones() {
    let chain = chain(OUTBOX_BASIC);
    let table = outbox_table();
    let insert = outbox_insert(&table, "order");
    let before = insert.value.as_struct().and_then(|e| e.get("after").ok()).cloned().expect("row");
    let delete = table.event(
        vec!["406c07f3-26f0-4eea-a50c-109940064b8f".into()],
        "d",
        before,
        Value::Null,
        source("orderdb", "outboxevent", 2, 3),
        4,
    );
    assert_eq!(apply(&chain, delete), None, "deletes of outbox rows are filtered out");
    assert_eq!(apply(&chain, table.tombstone(vec!["406c07f3-26f0-4eea-a50c-109940064b8f".into()])), None);
}

// ---------------------------------------------------------------------------------------------------------------
// New Record State Extraction (debezium.io/documentation/reference/stable/transformations/event-flattening.html)
// ---------------------------------------------------------------------------------------------------------------

fn customers_table() -> Table {
    Table::new(
        "dbserver1.inventory.customers",
        &[("id", SchemaBuilder::int32().build().expect("id"))],
        &[
            ("id", SchemaBuilder::int32().build().expect("id")),
            ("first_name", string()),
            ("email", optional(SchemaBuilder::string())),
        ],
    )
}

fn customer(table: &Table, id: i32, name: &str) -> Value {
    table.row(vec![id.into(), name.into(), format!("{}@example.com", name.to_lowercase()).into()])
}

/// "Configuration": the default behaviour.
const UNWRAP_DEFAULT: &str = "
transforms=unwrap,...
transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
";

#[test]
fn unwrap_default_flattens_to_the_after_state() {
    let chain = chain(UNWRAP_DEFAULT);
    let table = customers_table();
    let update = table.event(
        vec![1004.into()],
        "u",
        customer(&table, 1004, "Anne"),
        customer(&table, 1004, "Anne Marie"),
        source("postgres", "customers", 33_854_056, 1_559_033_904_863),
        1_559_033_904_986,
    );
    let out = apply(&chain, update.clone()).expect("kept");
    // {"field1": "newvalue1", ...}: the after row, and nothing else.
    assert_eq!(field_names(&out), ["id", "first_name", "email"]);
    assert_eq!(field(&out, "first_name"), &Value::from("Anne Marie"));
    assert_eq!(out.value_schema.as_ref().and_then(|s| s.name()), Some("dbserver1.inventory.customers.Value"));
    assert_eq!((out.topic.as_str(), &out.key, out.headers.is_empty()), (update.topic.as_str(), &update.key, true));
    // Deletes leave a record with a null value (the `tombstone` mode, the default); Debezium's own tombstone goes.
    let delete = table.event(
        vec![1004.into()],
        "d",
        customer(&table, 1004, "Anne Marie"),
        Value::Null,
        source("postgres", "customers", 2, 3),
        4,
    );
    let out = apply(&chain, delete).expect("a delete marker");
    assert!(out.value.is_null());
    assert_eq!(apply(&chain, table.tombstone(vec![1004.into()])), None);
}

/// "Configuration": the `.properties` example that sets several options.
const UNWRAP_SEVERAL_OPTIONS: &str = "
transforms=unwrap,...
transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
transforms.unwrap.drop.tombstones=false
transforms.unwrap.delete.handling.mode=rewrite
transforms.unwrap.add.fields=table,lsn
";

/// The table of the page's rewrite example: `"value": {"pk": 2, "cola": null, "__deleted": "true"}`.
fn pk_cola_table() -> Table {
    let pk = || SchemaBuilder::int32().build().expect("pk");
    Table::new(
        "dbserver1.inventory.mytable",
        &[("pk", pk())],
        &[("pk", pk()), ("cola", optional(SchemaBuilder::string()))],
    )
}

#[test]
fn unwrap_rewrites_deletes_keeps_tombstones_and_adds_table_and_lsn() {
    let chain = chain(UNWRAP_SEVERAL_OPTIONS);
    let table = pk_cola_table();
    let delete = table.event(
        vec![2.into()],
        "d",
        table.row(vec![2.into(), Value::Null]),
        Value::Null,
        source("postgres", "mytable", 24_023_128, 1_559_033_904_863),
        1_559_033_904_986,
    );
    let out = apply(&chain, delete).expect("the delete is kept, rewritten");
    // "value": {"pk": 2, "cola": null, "__deleted": "true"}, with the table and lsn metadata added.
    assert_eq!(field_names(&out), ["pk", "cola", "__table", "__lsn", "__deleted"]);
    assert_eq!(field(&out, "pk"), &Value::Int32(2));
    assert_eq!(field(&out, "cola"), &Value::Null);
    assert_eq!(field(&out, "__deleted"), &Value::from("true"));
    assert_eq!(field(&out, "__table"), &Value::from("mytable"));
    assert_eq!(field(&out, "__lsn"), &Value::Int64(24_023_128));
    // drop.tombstones=false: "Keeps tombstone records for DELETE operations in the event stream."
    let tombstone = table.tombstone(vec![2.into()]);
    assert_eq!(apply(&chain, tombstone.clone()), Some(tombstone));
    // Other operations are marked as not deleted.
    let insert = table.event(
        vec![3.into()],
        "c",
        Value::Null,
        table.row(vec![3.into(), "x".into()]),
        source("postgres", "mytable", 5, 6),
        7,
    );
    assert_eq!(field(&apply(&chain, insert).expect("kept"), "__deleted"), &Value::from("false"));
}

/// "Adding metadata" block.
const UNWRAP_ADD_METADATA: &str = "
transforms=unwrap,...
transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
transforms.unwrap.add.fields=op,table,lsn,source.ts_ms
transforms.unwrap.add.headers=db
transforms.unwrap.delete.handling.mode=rewrite
";

#[test]
fn unwrap_adds_the_documented_metadata_fields_and_header() {
    let chain = chain(UNWRAP_ADD_METADATA);
    let table = Table::new(
        "dbserver1.inventory.MY_TABLE",
        &[("id", SchemaBuilder::int32().build().expect("id"))],
        &[("id", SchemaBuilder::int32().build().expect("id")), ("name", string())],
    );
    let create = table.event(
        vec![1.into()],
        "c",
        Value::Null,
        table.row(vec![1.into(), "a".into()]),
        source("inventory", "MY_TABLE", 123_456_789, 123_456_789),
        123_456_999,
    );
    let out = apply(&chain, create).expect("kept");
    // {"__op": "c", "__table": "MY_TABLE", "__lsn": "123456789", "__source_ts_ms": "123456789"}
    assert_eq!(field(&out, "__op"), &Value::from("c"));
    assert_eq!(field(&out, "__table"), &Value::from("MY_TABLE"));
    assert_eq!(field(&out, "__lsn"), &Value::Int64(123_456_789));
    assert_eq!(field(&out, "__source_ts_ms"), &Value::Int64(123_456_789));
    assert_eq!(field(&out, "__deleted"), &Value::from("false"));
    // "Also, simplified Kafka records would have a __db header."
    assert_eq!(header(&out, "__db"), Some(&Value::from("inventory")));
    // A delete, rewritten, carries the metadata too; the tombstone is dropped (drop.tombstones defaults to true).
    let delete = table.event(
        vec![1.into()],
        "d",
        table.row(vec![1.into(), "a".into()]),
        Value::Null,
        source("inventory", "MY_TABLE", 9, 9),
        9,
    );
    let out = apply(&chain, delete).expect("kept");
    assert_eq!((field(&out, "__op"), field(&out, "__deleted")), (&Value::from("d"), &Value::from("true")));
    assert_eq!(apply(&chain, table.tombstone(vec![1.into()])), None);
}

#[test]
fn unwrap_passes_records_that_are_not_change_events() {
    let chain = chain(UNWRAP_DEFAULT);
    let schema_change = SchemaBuilder::struct_()
        .name("io.debezium.connector.mysql.SchemaChangeValue")
        .field("databaseName", string())
        .field("ddl", string())
        .build()
        .expect("schema change");
    let value = Struct::from_values(schema_change.clone(), vec!["inventory".into(), "ALTER TABLE t ADD c INT".into()])
        .expect("value");
    let record = ConnectRecord::new("dbserver1", (None, Value::Null), (Some(schema_change), value.into()));
    assert_eq!(apply(&chain, record.clone()), Some(record));
}

// ---------------------------------------------------------------------------------------------------------------
// Both together, and validation
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn a_chain_names_every_bad_setting() {
    let props = config(
        "
connector.class=io.debezium.connector.postgresql.PostgresConnector
transforms=unwrap,route,outbox
transforms.unwrap.type=io.debezium.transforms.ExtractNewRecord
transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.route.replacement=$1
transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
transforms.outbox.route.topic.regex=(?<routedByValue>.*)
transforms.outbox.route.topic.replacement=outbox.${aggregate}
transforms.outbox.predicate=isOutbox
",
    );
    let errors = validate(&props);
    let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "transforms.unwrap.type",
            "transforms.route.regex",
            "transforms.outbox.route.topic.replacement",
            "transforms.outbox.predicate",
        ]
    );
    assert!(
        errors[0].message.contains("io.debezium.transforms.ExtractNewRecord could not be found"),
        "{}",
        errors[0].message
    );
    assert!(errors[1].message.contains("Missing required configuration"), "{}", errors[1].message);
    assert!(errors[2].message.contains("No group with name {aggregate}"), "{}", errors[2].message);
    assert_eq!(TransformChain::from_config(&props).err().map(|e| e.len()), Some(4));
}

#[test]
fn unwrap_then_route_in_one_chain() {
    let chain = chain(
        "
transforms=unwrap,route
transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
transforms.unwrap.add.fields=op
transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.route.regex=([^.]+)\\.([^.]+)\\.([^.]+)
transforms.route.replacement=$3
",
    );
    let table = customers_table();
    let create = table.event(
        vec![1.into()],
        "c",
        Value::Null,
        customer(&table, 1, "Sally"),
        source("postgres", "customers", 1, 2),
        3,
    );
    let out = apply(&chain, create).expect("kept");
    assert_eq!(out.topic, "customers");
    assert_eq!(field(&out, "__op"), &Value::from("c"));
}
