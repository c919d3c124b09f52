//! The compatibility checker against a table of cases, each citing the schema-resolution rule it checks
//! (Avro specification 1.11.1, "Schema Resolution", and Confluent's definitions of the levels).

use tidemark_schema_registry::avro::{
    check, check_level, find_conflict, parse, CompatibilityLevel, IncompatibilityKind, ParsedSchema,
};

/// Test results; a failing case explains itself in the error.
type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

use CompatibilityLevel::{
    Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive, None as NoChecks,
};

/// One row: registering `new` after `existing` (oldest first) under `level`.
struct Case {
    /// The rule the row checks.
    rule: &'static str,
    level: CompatibilityLevel,
    existing: Vec<String>,
    new: String,
    /// Empty: compatible. Otherwise texts that must all appear in the messages (error types, paths, details).
    expect: &'static [&'static str],
}

fn case(rule: &'static str, level: CompatibilityLevel, existing: &[String], new: String) -> Case {
    Case { rule, level, existing: existing.to_vec(), new, expect: &[] }
}

fn fails(
    rule: &'static str,
    level: CompatibilityLevel,
    existing: &[String],
    new: String,
    expect: &'static [&'static str],
) -> Case {
    Case { rule, level, existing: existing.to_vec(), new, expect }
}

/// A record `name` with `fields` (JSON objects, comma-separated).
fn record(name: &str, fields: &str) -> String {
    format!(r#"{{"type":"record","name":"{name}","fields":[{fields}]}}"#)
}

/// The record `User` with one field `f` of type `ty`.
fn one(ty: &str) -> String {
    record("User", &format!(r#"{{"name":"f","type":{ty}}}"#))
}

/// A field without a default.
fn field(name: &str, ty: &str) -> String {
    format!(r#"{{"name":"{name}","type":{ty}}}"#)
}

/// A field with a default.
fn field_default(name: &str, ty: &str, default: &str) -> String {
    format!(r#"{{"name":"{name}","type":{ty},"default":{default}}}"#)
}

fn enumeration(symbols: &str, default: Option<&str>) -> String {
    let default = default.map(|d| format!(r#","default":"{d}""#)).unwrap_or_default();
    format!(r#"{{"type":"enum","name":"Color","symbols":[{symbols}]{default}}}"#)
}

fn decimal(precision: u32, scale: u32) -> String {
    format!(r#"{{"type":"bytes","logicalType":"decimal","precision":{precision},"scale":{scale}}}"#)
}

/// A singly linked list of `value`s, with `extra` fields appended to each node.
fn linked_list(value: &str, extra: &str) -> String {
    record(
        "Node",
        &format!(r#"{{"name":"value","type":{value}}},{{"name":"next","type":["null","Node"],"default":null}}{extra}"#),
    )
}

fn cases() -> Vec<Case> {
    let v = |s: String| vec![s];
    let mut cases = vec![
        // Primitive promotions: "int is promotable to long, float, or double".
        case("promotion: int is promotable to long", Backward, &v(one(r#""int""#)), one(r#""long""#)),
        case("promotion: int is promotable to float", Backward, &v(one(r#""int""#)), one(r#""float""#)),
        case("promotion: int is promotable to double", Backward, &v(one(r#""int""#)), one(r#""double""#)),
        // "long is promotable to float or double"
        case("promotion: long is promotable to float", Backward, &v(one(r#""long""#)), one(r#""float""#)),
        case("promotion: long is promotable to double", Backward, &v(one(r#""long""#)), one(r#""double""#)),
        // "float is promotable to double"
        case("promotion: float is promotable to double", Backward, &v(one(r#""float""#)), one(r#""double""#)),
        case("promotion at the root: int read as long", Backward, &v(r#""int""#.into()), r#""long""#.into()),
        fails(
            "no demotion: long is not promotable to int",
            Backward,
            &v(one(r#""long""#)),
            one(r#""int""#),
            &["TYPE_MISMATCH", "/fields/0/type", "reader type: INT not compatible with writer type: LONG"],
        ),
        fails(
            "no demotion: double is not promotable to float",
            Backward,
            &v(one(r#""double""#)),
            one(r#""float""#),
            &["TYPE_MISMATCH", "reader type: FLOAT not compatible with writer type: DOUBLE"],
        ),
        fails(
            "no demotion at the root, path '/'",
            Backward,
            &v(r#""long""#.into()),
            r#""int""#.into(),
            &["(path '/')", "TYPE_MISMATCH"],
        ),
        case(
            "FORWARD: the old reader (long) promotes the new writer (int)",
            Forward,
            &v(one(r#""long""#)),
            one(r#""int""#),
        ),
        fails(
            "FORWARD: the old reader (int) cannot read the new writer (long)",
            Forward,
            &v(one(r#""int""#)),
            one(r#""long""#),
            &[
                "reader type: INT not compatible with writer type: LONG",
                "in the old schema does not match with the new schema",
            ],
        ),
        fails("FULL: a promotion holds one way only", Full, &v(one(r#""int""#)), one(r#""long""#), &["TYPE_MISMATCH"]),
        fails(
            "primitives: int and string do not match",
            Backward,
            &v(one(r#""int""#)),
            one(r#""string""#),
            &["TYPE_MISMATCH"],
        ),
        fails(
            "primitives: boolean and int do not match",
            Backward,
            &v(one(r#""boolean""#)),
            one(r#""int""#),
            &["TYPE_MISMATCH"],
        ),
        // "string is promotable to bytes", "bytes is promotable to string"
        case("promotion: string is promotable to bytes", Backward, &v(one(r#""string""#)), one(r#""bytes""#)),
        case("promotion: bytes is promotable to string", Backward, &v(one(r#""bytes""#)), one(r#""string""#)),
        case(
            "promotion: string and bytes promote both ways, so FULL holds",
            Full,
            &v(one(r#""string""#)),
            one(r#""bytes""#),
        ),
        fails(
            "primitives: string is not promotable to int",
            Backward,
            &v(one(r#""string""#)),
            one(r#""int""#),
            &["reader type: INT not compatible with writer type: STRING"],
        ),
    ];

    // Records: "if the reader's record schema has a field with no default value, and writer's schema does not have a
    // field with the same name, an error is signalled"; "if the writer's record contains a field with a name not
    // present in the reader's record, the writer's value for that field is ignored".
    let a = field("a", r#""int""#);
    let v1 = record("User", &a);
    let with_b_default = record("User", &format!("{a},{}", field_default("b", r#""string""#, r#""x""#)));
    let with_b = record("User", &format!("{a},{}", field("b", r#""string""#)));
    let with_optional = record("User", &format!("{a},{}", field_default("c", r#"["null","string"]"#, "null")));
    cases.extend([
        case("record: a reader field the writer lacks takes its default", Backward, &v(v1.clone()), with_b_default.clone()),
        fails(
            "record: a reader field the writer lacks needs a default",
            Backward,
            &v(v1.clone()),
            with_b.clone(),
            &["READER_FIELD_MISSING_DEFAULT_VALUE", "The field 'b' at path '/fields/1' in the new schema has no default value and is missing in the old schema"],
        ),
        case("record: a writer field the reader lacks is ignored (FORWARD, added field)", Forward, &v(v1.clone()), with_b.clone()),
        case("record: a writer field the reader lacks is ignored (BACKWARD, removed field)", Backward, &v(with_b.clone()), v1.clone()),
        fails(
            "record: FORWARD, the old reader's field removed without default",
            Forward,
            &v(with_b.clone()),
            v1.clone(),
            &["READER_FIELD_MISSING_DEFAULT_VALUE", "in the old schema has no default value and is missing in the new schema"],
        ),
        case("record: FORWARD, a removed field the old reader has a default for", Forward, &v(with_b_default.clone()), v1.clone()),
        case("record: FULL, adding a field with a default", Full, &v(v1.clone()), with_b_default.clone()),
        fails("record: FULL, adding a field without a default", Full, &v(v1.clone()), with_b.clone(), &["'/fields/1'"]),
        case("record: FULL, removing a field with a default", Full, &v(with_b_default.clone()), v1.clone()),
        case("record: FULL, adding an optional union field defaulting to null", Full, &v(v1.clone()), with_optional),
        case(
            "record: fields are matched by name, so their order may differ",
            Full,
            &v(record("User", &format!("{a},{}", field("z", r#""long""#)))),
            record("User", &format!("{},{a}", field("z", r#""long""#))),
        ),
        case(
            "record: a reader field's alias matches a writer field (rename with alias)",
            Backward,
            &v(record("User", &field("name", r#""string""#))),
            record("User", r#"{"name":"full_name","aliases":["name"],"type":"string"}"#),
        ),
        fails(
            "record: a rename without alias is a removal plus an addition without default",
            Backward,
            &v(record("User", &field("name", r#""string""#))),
            record("User", &field("full_name", r#""string""#)),
            &["READER_FIELD_MISSING_DEFAULT_VALUE", "'full_name'"],
        ),
        fails(
            "record: aliases are the reader's, so the old reader does not know the renamed field (FORWARD)",
            Forward,
            &v(record("User", &field("name", r#""string""#))),
            record("User", r#"{"name":"full_name","aliases":["name"],"type":"string"}"#),
            &["READER_FIELD_MISSING_DEFAULT_VALUE", "'name'"],
        ),
    ]);

    // Enums: "if the writer's symbol is not present in the reader's enum and the reader has a default value, then
    // that value is used, otherwise an error is signalled".
    let ab = one(&enumeration(r#""A","B""#, None));
    let abc = one(&enumeration(r#""A","B","C""#, None));
    let ab_default = one(&enumeration(r#""A","B""#, Some("A")));
    let abc_default = one(&enumeration(r#""A","B","C""#, Some("A")));
    cases.extend([
        case("enum: a reader with more symbols reads every writer symbol", Backward, &v(ab.clone()), abc.clone()),
        fails(
            "enum: a writer symbol missing from the reader, no enum default",
            Forward,
            &v(ab.clone()),
            abc.clone(),
            &["MISSING_ENUM_SYMBOLS", "'/fields/0/type/symbols'", "additionalInfo:'[C]'"],
        ),
        case(
            "enum: the old reader's enum default covers a new symbol",
            Forward,
            &v(ab_default.clone()),
            abc_default.clone(),
        ),
        fails(
            "enum: removing a symbol the old writer used, no enum default",
            Backward,
            &v(abc.clone()),
            ab.clone(),
            &["MISSING_ENUM_SYMBOLS", "The new schema is missing enum symbols '[C]'"],
        ),
        case(
            "enum: removing a symbol, the new reader has an enum default",
            Backward,
            &v(abc.clone()),
            ab_default.clone(),
        ),
        fails("enum: FULL, adding a symbol without enum defaults", Full, &v(ab), abc, &["MISSING_ENUM_SYMBOLS"]),
        case("enum: FULL, adding a symbol with enum defaults on both sides", Full, &v(ab_default), abc_default),
        fails(
            "enum: names must match (rename without alias)",
            Backward,
            &v(one(r#"{"type":"enum","name":"Color","symbols":["A"]}"#)),
            one(r#"{"type":"enum","name":"Colour","symbols":["A"]}"#),
            &["NAME_MISMATCH", "'/fields/0/type/name'", "expected: Color"],
        ),
        case(
            "enum: a reader alias matches the writer's name",
            Backward,
            &v(one(r#"{"type":"enum","name":"Color","symbols":["A"]}"#)),
            one(r#"{"type":"enum","name":"Colour","aliases":["Color"],"symbols":["A"]}"#),
        ),
    ]);

    // Unions: "if writer's is a union, but reader's is not: if the reader's schema matches the selected writer's
    // schema, it is recursively resolved against it"; "if reader's is a union, but writer's is not: the first schema
    // in the reader's union that matches the writer's schema is recursively resolved against it"; "if both are
    // unions: the first schema in the reader's union that matches the selected writer's union schema...".
    cases.extend([
        fails(
            "union: a writer union into a non-union reader, every writer branch must resolve",
            Backward,
            &v(one(r#"["null","string"]"#)),
            one(r#""string""#),
            &["TYPE_MISMATCH", "'/fields/0/type/0'", "reader type: STRING not compatible with writer type: NULL"],
        ),
        case(
            "union: a non-union writer into a reader union with its type",
            Backward,
            &v(one(r#""string""#)),
            one(r#"["null","string"]"#),
        ),
        fails(
            "union: FORWARD, the old non-union reader cannot read the null branch",
            Forward,
            &v(one(r#""string""#)),
            one(r#"["null","string"]"#),
            &["TYPE_MISMATCH", "'/fields/0/type/0'"],
        ),
        case(
            "union: adding a branch to the reader",
            Backward,
            &v(one(r#"["null","string"]"#)),
            one(r#"["null","string","int"]"#),
        ),
        fails(
            "union: FORWARD, a new writer branch the old reader union lacks",
            Forward,
            &v(one(r#"["null","string"]"#)),
            one(r#"["null","string","int"]"#),
            &["MISSING_UNION_BRANCH", "'/fields/0/type/2'", "reader union lacking writer type: INT"],
        ),
        fails(
            "union: removing a branch the old writer used",
            Backward,
            &v(one(r#"["null","string","int"]"#)),
            one(r#"["null","string"]"#),
            &[
                "MISSING_UNION_BRANCH",
                "The new schema is missing a type inside a union field at path '/fields/0/type/2' in the old schema",
            ],
        ),
        case(
            "union: FORWARD, removing a branch the old reader still has",
            Forward,
            &v(one(r#"["null","string","int"]"#)),
            one(r#"["null","string"]"#),
        ),
        case(
            "union: branches match through promotion (int into long)",
            Backward,
            &v(one(r#"["null","int"]"#)),
            one(r#"["null","long"]"#),
        ),
        case("union: branch order does not matter", Full, &v(one(r#"["null","string"]"#)), one(r#"["string","null"]"#)),
        case(
            "union: a non-union int matches a reader branch by promotion",
            Backward,
            &v(one(r#""int""#)),
            one(r#"["null","long"]"#),
        ),
        fails(
            "union: the first matching reader branch (same record name) is resolved recursively",
            Backward,
            &v(one(&record("Inner", &a))),
            one(&format!(r#"["null",{}]"#, record("Inner", &format!("{a},{}", field("b", r#""int""#))))),
            &["READER_FIELD_MISSING_DEFAULT_VALUE", "'/fields/0/type/fields/1'"],
        ),
        fails(
            "union: no reader branch matches a writer record of another name",
            Backward,
            &v(one(&record("Inner", &a))),
            one(&format!(r#"["null",{}]"#, record("Other", &a))),
            &["MISSING_UNION_BRANCH", "reader union lacking writer type: RECORD"],
        ),
    ]);

    // Fixed: "both schemas are fixed whose sizes and (unqualified) names match".
    let fixed = |name: &str, size: u32, aliases: &str| {
        one(&format!(r#"{{"type":"fixed","name":"{name}","size":{size}{aliases}}}"#))
    };
    cases.extend([
        case("fixed: same name and size", Full, &v(fixed("Hash", 16, "")), fixed("Hash", 16, "")),
        fails(
            "fixed: sizes must match",
            Backward,
            &v(fixed("Hash", 16, "")),
            fixed("Hash", 32, ""),
            &["FIXED_SIZE_MISMATCH", "'/fields/0/type/size'", "expected: 16, found: 32"],
        ),
        fails(
            "fixed: names must match",
            Backward,
            &v(fixed("Hash", 16, "")),
            fixed("Digest", 16, ""),
            &["NAME_MISMATCH", "expected: Hash"],
        ),
        case(
            "fixed: a reader alias matches the writer's name",
            Backward,
            &v(fixed("Hash", 16, "")),
            fixed("Digest", 16, r#","aliases":["Hash"]"#),
        ),
    ]);

    // Named types: "both schemas are records with the same (unqualified) name"; aliases: "a reader may use aliases
    // to read data written with another name".
    let user = |name: &str, extra: &str| {
        format!(
            r#"{{"type":"record","name":"{name}","namespace":"com.acme"{extra},"fields":[{{"name":"a","type":"int"}}]}}"#
        )
    };
    cases.extend([
        fails(
            "names: renaming a record without an alias",
            Backward,
            &v(user("User", "")),
            user("Customer", ""),
            &["NAME_MISMATCH", "(path '/name')", "expected: com.acme.User"],
        ),
        case(
            "names: renaming a record with the old full name as reader alias",
            Backward,
            &v(user("User", "")),
            user("Customer", r#","aliases":["com.acme.User"]"#),
        ),
        case(
            "names: a relative alias is qualified by the reader's namespace",
            Backward,
            &v(user("User", "")),
            user("Customer", r#","aliases":["User"]"#),
        ),
        fails(
            "names: FORWARD, the old reader has no alias for the new name",
            Forward,
            &v(user("User", "")),
            user("Customer", r#","aliases":["com.acme.User"]"#),
            &["NAME_MISMATCH", "expected: com.acme.Customer"],
        ),
        case(
            "names: the unqualified name decides, so a namespace move is compatible",
            Full,
            &v(user("User", "")),
            r#"{"type":"record","name":"User","namespace":"org.other","fields":[{"name":"a","type":"int"}]}"#.into(),
        ),
        fails(
            "names: a nested record renamed without alias",
            Backward,
            &v(one(&record("Inner", &a))),
            one(&record("Renamed", &a)),
            &["NAME_MISMATCH", "'/fields/0/type/name'"],
        ),
    ]);

    // Nested and recursive records: "schemas for fields with the same name in both records are resolved
    // recursively".
    let nested =
        |fields: &str| record("Outer", &format!(r#"{},{{"name":"inner","type":{}}}"#, a, record("Inner", fields)));
    cases.extend([
        case(
            "nested: a field with default added to a nested record",
            Backward,
            &v(nested(&a)),
            nested(&format!("{a},{}", field_default("b", r#""int""#, "0"))),
        ),
        fails(
            "nested: a field without default added to a nested record",
            Backward,
            &v(nested(&a)),
            nested(&format!("{a},{}", field("b", r#""int""#))),
            &["READER_FIELD_MISSING_DEFAULT_VALUE", "'/fields/1/type/fields/1'"],
        ),
        case(
            "recursive: a linked list resolves against itself",
            FullTransitive,
            &v(linked_list(r#""int""#, "")),
            linked_list(r#""int""#, ""),
        ),
        case(
            "recursive: a field with default added to a linked list node",
            Full,
            &v(linked_list(r#""int""#, "")),
            linked_list(r#""int""#, &format!(",{}", field_default("label", r#""string""#, r#""""#))),
        ),
        fails(
            "recursive: a field without default added to a linked list node (and the walk ends)",
            Backward,
            &v(linked_list(r#""int""#, "")),
            linked_list(r#""int""#, &format!(",{}", field("label", r#""string""#))),
            &["READER_FIELD_MISSING_DEFAULT_VALUE", "'/fields/2'"],
        ),
        case(
            "recursive: a linked list's values promoted int to long",
            Backward,
            &v(linked_list(r#""int""#, "")),
            linked_list(r#""long""#, ""),
        ),
        fails(
            "recursive: FULL, promotion one way only",
            Full,
            &v(linked_list(r#""int""#, "")),
            linked_list(r#""long""#, ""),
            &["TYPE_MISMATCH"],
        ),
    ]);

    // Logical types: "a logical type is always serialized using its underlying Avro type"; decimals "match if their
    // scales and precisions match" (Tidemark: equal scale, reader precision at least the writer's).
    cases.extend([
        case("decimal: the same precision and scale", Full, &v(one(&decimal(10, 2))), one(&decimal(10, 2))),
        fails(
            "decimal: a different scale reads other numbers",
            Backward,
            &v(one(&decimal(10, 2))),
            one(&decimal(10, 4)),
            &[
                "TYPE_MISMATCH",
                "reader type: BYTES (decimal(10,4)) not compatible with writer type: BYTES (decimal(10,2))",
            ],
        ),
        case(
            "decimal: a wider reader precision holds every value",
            Backward,
            &v(one(&decimal(10, 2))),
            one(&decimal(12, 2)),
        ),
        fails(
            "decimal: FORWARD, the old reader's narrower precision",
            Forward,
            &v(one(&decimal(10, 2))),
            one(&decimal(12, 2)),
            &["TYPE_MISMATCH"],
        ),
        case("decimal: read as its underlying bytes", Backward, &v(one(&decimal(10, 2))), one(r#""bytes""#)),
        fails(
            "decimal on fixed: the fixed sizes must match",
            Backward,
            &v(one(r#"{"type":"fixed","name":"Money","size":8,"logicalType":"decimal","precision":10,"scale":2}"#)),
            one(r#"{"type":"fixed","name":"Money","size":16,"logicalType":"decimal","precision":10,"scale":2}"#),
            &["FIXED_SIZE_MISMATCH"],
        ),
        case(
            "timestamp-millis and timestamp-micros resolve as their underlying long",
            Backward,
            &v(one(r#"{"type":"long","logicalType":"timestamp-millis"}"#)),
            one(r#"{"type":"long","logicalType":"timestamp-micros"}"#),
        ),
        fails(
            "timestamp-millis (a long) is not readable as int",
            Backward,
            &v(one(r#"{"type":"long","logicalType":"timestamp-millis"}"#)),
            one(r#""int""#),
            &["reader type: INT not compatible with writer type: LONG"],
        ),
        case(
            "date (an int) promotes to long",
            Backward,
            &v(one(r#"{"type":"int","logicalType":"date"}"#)),
            one(r#""long""#),
        ),
        fails(
            "date (an int) is not a string",
            Backward,
            &v(one(r#"{"type":"int","logicalType":"date"}"#)),
            one(r#""string""#),
            &["TYPE_MISMATCH"],
        ),
        case(
            "uuid resolves as its underlying string",
            Full,
            &v(one(r#"{"type":"string","logicalType":"uuid"}"#)),
            one(r#""string""#),
        ),
        fails(
            "uuid on string and uuid on fixed have different underlying types",
            Backward,
            &v(one(r#"{"type":"string","logicalType":"uuid"}"#)),
            one(r#"{"type":"fixed","name":"Id","size":16,"logicalType":"uuid"}"#),
            &["reader type: FIXED not compatible with writer type: STRING"],
        ),
    ]);

    // Arrays and maps: "this resolution algorithm is applied recursively to the reader's and writer's array item
    // schemas" / "value schemas".
    let array = |items: &str| one(&format!(r#"{{"type":"array","items":{items}}}"#));
    let map = |values: &str| one(&format!(r#"{{"type":"map","values":{values}}}"#));
    cases.extend([
        case("array: items resolve recursively (int to long)", Backward, &v(array(r#""int""#)), array(r#""long""#)),
        fails(
            "array: items that do not resolve",
            Backward,
            &v(array(r#""long""#)),
            array(r#""int""#),
            &["'/fields/0/type/items'"],
        ),
        case("map: values resolve recursively (int to double)", Backward, &v(map(r#""int""#)), map(r#""double""#)),
        fails(
            "map: values that do not resolve",
            Backward,
            &v(map(r#""string""#)),
            map(r#""int""#),
            &["'/fields/0/type/values'"],
        ),
        fails(
            "array and map do not match",
            Backward,
            &v(array(r#""int""#)),
            map(r#""int""#),
            &["reader type: MAP not compatible with writer type: ARRAY"],
        ),
        fails(
            "array of records: a field without default added to the item record",
            Backward,
            &v(array(&record("Item", &a))),
            array(&record("Item", &format!("{a},{}", field("b", r#""int""#)))),
            &["'/fields/0/type/items/fields/1'"],
        ),
    ]);

    // Levels: BACKWARD and FORWARD check the latest version only, *_TRANSITIVE every version, NONE nothing.
    // Each step of v1 -> v2 -> v3 is fine but v1 -> v3 is not.
    let b_default = field_default("b", r#""string""#, r#""x""#);
    let b_required = field("b", r#""string""#);
    let steps = [v1.clone(), record("User", &format!("{a},{b_default}"))];
    let v3 = record("User", &format!("{a},{b_required}"));
    let forward_steps = [record("User", &format!("{a},{b_required}")), record("User", &format!("{a},{b_default}"))];
    cases.extend([
        case("BACKWARD checks the latest version only (v3 reads v2)", Backward, &steps, v3.clone()),
        fails(
            "BACKWARD_TRANSITIVE checks every version (v3 cannot read v1)",
            BackwardTransitive,
            &steps,
            v3.clone(),
            &["READER_FIELD_MISSING_DEFAULT_VALUE", "'b'"],
        ),
        case("FORWARD checks the latest version only (v2 reads v3)", Forward, &forward_steps, v1.clone()),
        fails(
            "FORWARD_TRANSITIVE checks every version (v1 cannot read v3)",
            ForwardTransitive,
            &forward_steps,
            v1.clone(),
            &["READER_FIELD_MISSING_DEFAULT_VALUE", "in the old schema has no default value"],
        ),
        case("FULL checks the latest version only", Full, &steps, v3.clone()),
        fails(
            "FULL_TRANSITIVE checks every version",
            FullTransitive,
            &steps,
            v3.clone(),
            &["READER_FIELD_MISSING_DEFAULT_VALUE"],
        ),
        case(
            "FULL_TRANSITIVE: optional fields added one at a time stay compatible with every version",
            FullTransitive,
            &[v1.clone(), with_b_default.clone()],
            record("User", &format!("{a},{b_default},{}", field_default("c", r#"["null","long"]"#, "null"))),
        ),
        case(
            "BACKWARD: an older incompatible version does not count",
            Backward,
            &[one(r#""string""#), one(r#""int""#)],
            one(r#""long""#),
        ),
        fails(
            "BACKWARD_TRANSITIVE: the older incompatible version counts",
            BackwardTransitive,
            &[one(r#""string""#), one(r#""int""#)],
            one(r#""long""#),
            &["reader type: LONG not compatible with writer type: STRING"],
        ),
        case("NONE: any change is accepted (type change)", NoChecks, &v(one(r#""int""#)), one(r#""string""#)),
        case("NONE: any change is accepted (record renamed)", NoChecks, &v(user("User", "")), user("Customer", "")),
        case("a first version is compatible at every level", FullTransitive, &[], v1.clone()),
        case("BACKWARD: the same schema again", Backward, &v(v1.clone()), v1.clone()),
        case("FORWARD_TRANSITIVE: the same schema again", ForwardTransitive, &[v1.clone(), v1.clone()], v1),
    ]);
    cases
}

fn parsed(text: &str) -> Result<ParsedSchema> {
    parse::<&str>(text, &[]).map_err(|e| format!("parsing {text}: {e}").into())
}

#[test]
fn compatibility_table() -> Result<()> {
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for level in CompatibilityLevel::ALL {
        assert!(cases.iter().any(|c| c.level == level), "no case for {level}");
    }
    let mut failures = Vec::new();
    for case in &cases {
        let new = parsed(&case.new)?;
        let existing = case.existing.iter().map(|s| parsed(s)).collect::<Result<Vec<_>>>()?;
        let messages = check_level(case.level, &new, &existing);
        let joined = messages.join("\n");
        let ok = if case.expect.is_empty() {
            messages.is_empty()
        } else {
            !messages.is_empty() && case.expect.iter().all(|text| joined.contains(text))
        };
        if !ok {
            failures.push(format!("[{}] {}: expected {:?}, got:\n{joined}", case.level, case.rule, case.expect));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
    Ok(())
}

#[test]
fn transitive_conflict_names_the_version() -> Result<()> {
    let v1 = parsed(&record("User", &field("a", r#""int""#)))?;
    let v2 = parsed(&record("User", r#"{"name":"a","type":"int"},{"name":"b","type":"string","default":"x"}"#))?;
    let v3 = parsed(&record("User", r#"{"name":"a","type":"int"},{"name":"b","type":"string"}"#))?;
    assert_eq!(find_conflict(Backward, &v3, &[&v1, &v2]), None);
    let conflict = find_conflict(BackwardTransitive, &v3, &[&v1, &v2]).ok_or("v1 conflicts")?;
    assert_eq!(conflict.index, 0);
    assert_eq!(conflict.messages.len(), 1);
    Ok(())
}

#[test]
fn full_lists_forward_messages_first() -> Result<()> {
    let old = parsed(&record("User", r#"{"name":"a","type":"int"}"#))?;
    let new = parsed(&record("User", r#"{"name":"b","type":"int"}"#))?;
    let messages = check_level(Full, &new, &[old]);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("The field 'a' at path '/fields/0' in the old schema"), "{messages:?}");
    assert!(messages[1].contains("The field 'b' at path '/fields/0' in the new schema"), "{messages:?}");
    Ok(())
}

#[test]
fn reports_every_incompatibility_with_its_path() -> Result<()> {
    let writer = parsed(&record(
        "R",
        r#"{"name":"a","type":"long"},{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}},
           {"name":"h","type":{"type":"fixed","name":"H","size":4}}"#,
    ))?;
    let reader = parsed(&record(
        "R",
        r#"{"name":"a","type":"int"},{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}},
           {"name":"h","type":{"type":"fixed","name":"H","size":8}},{"name":"n","type":"int"}"#,
    ))?;
    let found: Vec<(IncompatibilityKind, String, String)> =
        check(&reader, &writer).into_iter().map(|i| (i.kind, i.path, i.info)).collect();
    assert_eq!(
        found,
        vec![
            (
                IncompatibilityKind::TypeMismatch,
                "/fields/0/type".to_owned(),
                "reader type: INT not compatible with writer type: LONG".to_owned()
            ),
            (IncompatibilityKind::MissingEnumSymbols, "/fields/1/type/symbols".to_owned(), "[Y]".to_owned()),
            (
                IncompatibilityKind::FixedSizeMismatch,
                "/fields/2/type/size".to_owned(),
                "expected: 4, found: 8".to_owned()
            ),
            (IncompatibilityKind::ReaderFieldMissingDefaultValue, "/fields/3".to_owned(), "n".to_owned()),
        ]
    );
    Ok(())
}

#[test]
fn named_types_from_references() -> Result<()> {
    let address_v1 =
        r#"{"type":"record","name":"Address","namespace":"acme","fields":[{"name":"street","type":"string"}]}"#;
    let address_v2 = r#"{"type":"record","name":"Address","namespace":"acme","fields":[
        {"name":"street","type":"string"},{"name":"zip","type":"string","default":""}]}"#;
    let address_v3 = r#"{"type":"record","name":"Address","namespace":"acme","fields":[
        {"name":"street","type":"string"},{"name":"zip","type":"string"}]}"#;
    let person = r#"{"type":"record","name":"Person","namespace":"acme","fields":[
        {"name":"home","type":"Address"},{"name":"work","type":["null","acme.Address"],"default":null}]}"#;
    let v1 = parse(person, &[address_v1])?;
    let v2 = parse(person, &[address_v2])?;
    let v3 = parse(person, &[address_v3])?;
    assert!(check_level(FullTransitive, &v2, &[&v1]).is_empty());
    // Address (new) against Address (old) is one pair of records: reported once, where the walk first met it.
    let messages = check_level(Backward, &v3, &[&v1]);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("The field 'zip' at path '/fields/0/type/fields/1'"), "{messages:?}");
    Ok(())
}

#[test]
fn recursion_through_several_types_terminates() -> Result<()> {
    let tree = |extra: &str| {
        format!(
            r#"{{"type":"record","name":"Tree","fields":[
                {{"name":"children","type":{{"type":"array","items":"Tree"}}}},
                {{"name":"meta","type":{{"type":"map","values":["null",{{"type":"record","name":"Leaf","fields":[
                    {{"name":"up","type":["null","Tree"]}}{extra}]}}]}}}}]}}"#
        )
    };
    let old = parsed(&tree(""))?;
    let new = parsed(&tree(r#",{"name":"w","type":"int"}"#))?;
    assert!(check_level(FullTransitive, &old, &[&old]).is_empty());
    let messages = check_level(Full, &new, &[&old]);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("'/fields/1/type/values/1/fields/1'"), "{messages:?}");
    Ok(())
}
