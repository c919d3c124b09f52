//! `hstore`: pairs from the text form (`"a"=>"1", "b"=>NULL`) or the binary form, and Debezium's two
//! representations, in the iteration order of the `HashMap` pgjdbc parses into: a JSON object string as Jackson
//! writes it (`{"a":"1","b":null}`), or a Connect MAP.

use tidemark_connect::data::Value;

use tidemark_connect::converters::jackson_string as push_json_string;

use super::java::hash_map_order;

/// The pairs of an `hstore`, in the order PostgreSQL wrote them.
pub(crate) type Pairs = Vec<(String, Option<String>)>;

/// The text form: `"key"=>"value"` or `"key"=>NULL` pairs separated by `, `; inside quotes `\` escapes the next
/// character. Unquoted keys and values (which input accepts) are read too.
pub(crate) fn parse_text(text: &str) -> Result<Pairs, String> {
    let mut pairs = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (key, after) = token(rest).ok_or_else(|| format!("{text:?} is not an hstore"))?;
        let key = key.ok_or_else(|| format!("a NULL key in {text:?}"))?;
        let after = after.trim_start().strip_prefix("=>").ok_or_else(|| format!("no => in {text:?}"))?;
        let (value, after) = token(after.trim_start()).ok_or_else(|| format!("{text:?} is not an hstore"))?;
        pairs.push((key, value));
        rest = after.trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
        } else if !rest.is_empty() {
            return Err(format!("{text:?} is not an hstore"));
        }
    }
    Ok(pairs)
}

/// One key or value: a quoted string, or unquoted text up to `=`, `,` or whitespace; unquoted `NULL` is null.
fn token(input: &str) -> Option<(Option<String>, &str)> {
    if let Some(quoted) = input.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((Some(out), &quoted[i + 1..])),
                '\\' => out.push(chars.next()?.1),
                c => out.push(c),
            }
        }
        return None;
    }
    let end = input.find(|c: char| c == '=' || c == ',' || c.is_whitespace()).unwrap_or(input.len());
    let word = &input[..end];
    if word.is_empty() {
        return None;
    }
    Some(((!word.eq_ignore_ascii_case("NULL")).then(|| word.to_owned()), &input[end..]))
}

/// The binary form: the pair count, then each key and value with its length (-1 for a null value).
pub(crate) fn parse_binary(bytes: &[u8]) -> Result<Pairs, String> {
    use fallible_iterator::FallibleIterator;
    let entries = postgres_protocol::types::hstore_from_sql(bytes).map_err(|e| e.to_string())?;
    entries.map(|(k, v)| Ok((k.to_owned(), v.map(str::to_owned)))).collect().map_err(|e| e.to_string())
}

/// `hstore.handling.mode=json`: `{"key":"value","other":null}` in `HashMap` order.
pub(crate) fn json(pairs: &Pairs) -> Value {
    let mut out =
        String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.as_ref().map_or(4, String::len) + 6).sum());
    out.push('{');
    for (n, i) in hash_map_order(pairs.iter().map(|(k, _)| k.as_str())).into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let (key, value) = &pairs[i];
        push_json_string(&mut out, key);
        out.push(':');
        match value {
            Some(value) => push_json_string(&mut out, value),
            None => out.push_str("null"),
        }
    }
    out.push('}');
    Value::String(out)
}

/// `hstore.handling.mode=map`: the pairs as a MAP in `HashMap` order.
pub(crate) fn map(pairs: Pairs) -> Value {
    let order = hash_map_order(pairs.iter().map(|(k, _)| k.as_str()));
    let mut slots: Vec<Option<(String, Option<String>)>> = pairs.into_iter().map(Some).collect();
    Value::Map(
        order
            .into_iter()
            .filter_map(|i| slots[i].take())
            .map(|(k, v)| (Value::String(k), v.map_or(Value::Null, Value::String)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_output_form() {
        let pairs = parse_text(r#""a"=>"1", "b\"c"=>NULL, "d"=>"x\\y""#).expect("hstore");
        assert_eq!(
            pairs,
            vec![
                ("a".to_owned(), Some("1".to_owned())),
                ("b\"c".to_owned(), None),
                ("d".to_owned(), Some("x\\y".to_owned()))
            ]
        );
        assert_eq!(parse_text(""), Ok(vec![]));
        assert_eq!(parse_text("a=>1"), Ok(vec![("a".to_owned(), Some("1".to_owned()))]));
        assert!(parse_text(r#""a"=>"1" "b"=>"2""#).is_err() && parse_text(r#""a"=>"#).is_err());
    }

    #[test]
    fn json_in_hash_map_order() {
        let pairs = vec![("b".to_owned(), Some("2".to_owned())), ("a".to_owned(), None)];
        assert_eq!(json(&pairs), Value::String(r#"{"a":null,"b":"2"}"#.to_owned()));
        assert_eq!(map(pairs), Value::Map(vec![(Value::from("a"), Value::Null), (Value::from("b"), Value::from("2"))]));
    }
}
