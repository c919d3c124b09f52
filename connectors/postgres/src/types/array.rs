//! Arrays: the elements of the text form (`{1,2,"a b",NULL}`, with `[1:3]=` bounds when they do not start at 1)
//! and of the binary form (dimensions, then each element with its length), in row-major order.
//!
//! Debezium maps a one-dimensional array; a multi-dimensional one is flattened here (row-major), which is
//! lossless for the values though not for the shape.

use std::borrow::Cow;

use fallible_iterator::FallibleIterator;

/// The elements of an array's text form, null for an unquoted `NULL`.
pub(crate) fn parse_text(text: &str) -> Result<Vec<Option<Cow<'_, str>>>, String> {
    let bad = |why: &str| format!("{text:?} is not an array: {why}");
    let body = match text.strip_prefix('[') {
        Some(_) => text.split_once('=').map(|(_, body)| body).ok_or_else(|| bad("bounds without ="))?,
        None => text,
    };
    let mut elements = Vec::new();
    let mut parser = Parser { input: body, at: 0 };
    parser.list(&mut elements, 0).map_err(bad)?;
    if parser.at != body.len() {
        return Err(bad("text after the closing brace"));
    }
    Ok(elements)
}

struct Parser<'a> {
    input: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    /// `{item,item,...}` where an item is a nested list, a quoted string or unquoted text.
    fn list(&mut self, out: &mut Vec<Option<Cow<'a, str>>>, depth: usize) -> Result<(), &'static str> {
        if depth > 6 {
            return Err("more than 6 dimensions");
        }
        self.skip_spaces();
        if self.peek() != Some(b'{') {
            return Err("no opening brace");
        }
        self.at += 1;
        self.skip_spaces();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.skip_spaces();
            match self.peek() {
                Some(b'{') => self.list(out, depth + 1)?,
                Some(b'"') => out.push(Some(self.quoted()?)),
                Some(_) => out.push(self.unquoted()?),
                None => return Err("no closing brace"),
            }
            self.skip_spaces();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err("an element not followed by , or }"),
            }
        }
    }

    fn quoted(&mut self) -> Result<Cow<'a, str>, &'static str> {
        let start = self.at + 1;
        let mut owned: Option<String> = None;
        let mut i = start;
        let bytes = self.input.as_bytes();
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    self.at = i + 1;
                    return Ok(owned.map_or(Cow::Borrowed(&self.input[start..i]), Cow::Owned));
                }
                b'\\' => {
                    let escaped = self.input[i + 1..].chars().next().ok_or("a backslash at the end")?;
                    let text = owned.get_or_insert_with(|| self.input[start..i].to_owned());
                    text.push(escaped);
                    i += 1 + escaped.len_utf8();
                }
                _ => {
                    let c = self.input[i..].chars().next().ok_or("a broken character")?;
                    if let Some(text) = owned.as_mut() {
                        text.push(c);
                    }
                    i += c.len_utf8();
                }
            }
        }
        Err("an unterminated quoted element")
    }

    fn unquoted(&mut self) -> Result<Option<Cow<'a, str>>, &'static str> {
        let start = self.at;
        let rest = &self.input[start..];
        let len = rest.find([',', '}', '{', '"']).ok_or("no closing brace")?;
        self.at += len;
        let word = rest[..len].trim_end();
        if word.is_empty() {
            return Err("an empty unquoted element");
        }
        Ok((!word.eq_ignore_ascii_case("NULL")).then_some(Cow::Borrowed(word)))
    }
}

/// The elements of an array's binary form, null where the length is -1.
pub(crate) fn parse_binary(bytes: &[u8]) -> Result<Vec<Option<&[u8]>>, String> {
    let array = postgres_protocol::types::array_from_sql(bytes).map_err(|e| e.to_string())?;
    array.values().collect().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(text: &str) -> Vec<Option<String>> {
        parse_text(text).expect("array").into_iter().map(|e| e.map(Cow::into_owned)).collect()
    }

    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some((*v).to_owned())).collect()
    }

    #[test]
    fn text_form() {
        assert_eq!(elements("{1,2,3}"), some(&["1", "2", "3"]));
        assert_eq!(elements("{}"), some(&[]));
        assert_eq!(
            elements(r#"{"a b",NULL,"NULL","q\"uo\\te",plain}"#),
            vec![
                Some("a b".to_owned()),
                None,
                Some("NULL".to_owned()),
                Some("q\"uo\\te".to_owned()),
                Some("plain".to_owned())
            ]
        );
        assert_eq!(elements("{{1,2},{3,4}}"), some(&["1", "2", "3", "4"]));
        assert_eq!(elements("[0:1]={7,8}"), some(&["7", "8"]));
        assert_eq!(elements(r#"{"é",ü}"#), some(&["é", "ü"]));
        for bad in ["", "{", "{1,}", "{1}x", "{\"a}", "[0:1]{1}"] {
            assert!(parse_text(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn binary_form() {
        // int4[] {1,NULL}: 1 dimension, has nulls, oid 23, length 2, lower bound 1.
        let bytes =
            [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 23, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 255, 255, 255, 255];
        assert_eq!(parse_binary(&bytes), Ok(vec![Some(&[0u8, 0, 0, 1][..]), None]));
        assert_eq!(parse_binary(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23]), Ok(vec![]));
        assert!(parse_binary(&bytes[..30]).is_err());
    }
}
