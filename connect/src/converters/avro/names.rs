//! Avro names from Connect names, as Confluent's `AvroData` makes them: a dotted Connect name splits into a
//! namespace and a name at the last dot, and with `scrub.invalid.names` every part is made a valid Avro name
//! (`doScrubName`: URL-encode, then every character outside `[A-Za-z0-9_]` becomes `_`, and an `x` goes in front
//! of a leading digit).

/// Confluent's namespace for the names it makes up.
pub(crate) const NAMESPACE: &str = "io.confluent.connect.avro";
/// The record name of an unnamed struct (`ConnectDefault`, then `ConnectDefault2`, ... within one schema).
pub(crate) const DEFAULT_SCHEMA_NAME: &str = "ConnectDefault";
/// [`DEFAULT_SCHEMA_NAME`] in [`NAMESPACE`]: names starting with it are not carried back into Connect.
pub(crate) const DEFAULT_SCHEMA_FULL_NAME: &str = "io.confluent.connect.avro.ConnectDefault";

/// A namespace (`None`: none) and a simple name.
pub(crate) type SplitName = (Option<String>, String);

/// `name` as a valid Avro name when `scrub` is set, unchanged otherwise.
pub(crate) fn scrub(name: &str, scrub: bool) -> String {
    if !scrub || name.is_empty() || is_valid(name) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' => out.push(char::from(byte)),
            // URLEncoder keeps these (or turns a space into '+'); the second pass makes them '_'.
            b'.' | b'-' | b'*' | b' ' => out.push('_'),
            // "%XX" for every other byte of the UTF-8 form; '%' becomes '_'.
            _ => {
                out.push('_');
                out.push_str(&format!("{byte:02X}"));
            }
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'x');
    }
    out
}

/// Whether `name` is already a valid Avro name (letters, digits and `_`, not starting with a digit).
fn is_valid(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// A full Connect name split into namespace and name, each part scrubbed when `scrub_names` is set (Java's
/// `split("\\.")`, which drops trailing empty parts).
pub(crate) fn split(full: &str, scrub_names: bool) -> SplitName {
    if full.is_empty() {
        return (None, String::new());
    }
    let mut parts: Vec<String> = full.split('.').map(|part| scrub(part, scrub_names)).collect();
    while parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    let name = parts.pop().unwrap_or_default();
    match parts.is_empty() {
        true => (None, name),
        false => (Some(parts.join(".")), name),
    }
}

/// The full name of a split name.
pub(crate) fn full(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(space) if !space.is_empty() => format!("{space}.{name}"),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_as_confluent_does() {
        // AvroDataTest.testScrubInvalidNames / doScrubName expectations.
        assert_eq!(scrub("abc_123", true), "abc_123");
        assert_eq!(scrub("1abc", true), "x1abc");
        assert_eq!(scrub("a-b.c d", true), "a_b_c_d");
        assert_eq!(scrub("a$b", true), "a_24b");
        assert_eq!(scrub("é", true), "_C3_A9");
        assert_eq!(scrub("%41", true), "_2541");
        assert_eq!(scrub("a-b", false), "a-b");
        assert_eq!(scrub("", true), "");
    }

    #[test]
    fn splits_at_the_last_dot() {
        assert_eq!(
            split("server1.inventory.customers.Value", false),
            (Some("server1.inventory.customers".into()), "Value".into())
        );
        assert_eq!(split("Value", false), (None, "Value".into()));
        assert_eq!(split("my-db.orders.Value", true), (Some("my_db.orders".into()), "Value".into()));
        assert_eq!(split("a.b.", false), (Some("a".into()), "b".into()));
        assert_eq!(full(Some("a.b"), "C"), "a.b.C");
        assert_eq!(full(None, "C"), "C");
    }
}
