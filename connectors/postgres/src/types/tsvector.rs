//! `tsvector` from its binary form to the text `tsvectorout` writes (`'fat':2A 'rat':3`), which is what Debezium
//! emits for it.

use std::fmt::Write;

use super::wire::Cursor;

/// The text form of a `tsvector`'s binary form: the lexeme count, then each lexeme NUL-terminated with its
/// position count and positions (weight in the top two bits).
pub(crate) fn text(bytes: &[u8]) -> Result<String, String> {
    let mut cursor = Cursor::new(bytes);
    let count = u32::from_be_bytes(cursor.array()?);
    let mut out = String::new();
    for i in 0..count {
        if i > 0 {
            out.push(' ');
        }
        let lexeme = std::str::from_utf8(cursor.cstring()?).map_err(|_| "a lexeme that is not UTF-8".to_owned())?;
        out.push('\'');
        for c in lexeme.chars() {
            if c == '\'' || c == '\\' {
                out.push(c);
            }
            out.push(c);
        }
        out.push('\'');
        let positions = u16::from_be_bytes(cursor.array()?);
        for p in 0..positions {
            out.push(if p == 0 { ':' } else { ',' });
            let position = u16::from_be_bytes(cursor.array()?);
            let _ = write!(out, "{}", position & 0x3fff);
            match position >> 14 {
                3 => out.push('A'),
                2 => out.push('B'),
                1 => out.push('C'),
                _ => {}
            }
        }
    }
    cursor.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_tsvectorout() {
        // 'a':1 'it''s':2A,3
        let bytes = [0, 0, 0, 2, b'a', 0, 0, 1, 0, 1, b'i', b't', b'\'', b's', 0, 0, 2, 0xc0, 2, 0, 3];
        assert_eq!(text(&bytes), Ok("'a':1 'it''s':2A,3".to_owned()));
        assert_eq!(text(&[0, 0, 0, 0]), Ok(String::new()));
        assert!(text(&[0, 0, 0, 1, b'a']).is_err() && text(&[0, 0, 0, 0, 1]).is_err());
    }
}
