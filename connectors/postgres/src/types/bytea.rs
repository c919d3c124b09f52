//! `bytea`: its text forms (`\x` hex, the default `bytea_output`, and the older escape form).

/// The bytes of `bytea`'s text output: `\x` and hex digits, or the escape form (`\\`, `\ooo`, other bytes as
/// themselves).
pub(crate) fn parse_text(text: &[u8]) -> Result<Vec<u8>, String> {
    if let Some(hex) = text.strip_prefix(b"\\x") {
        if hex.len() % 2 != 0 {
            return Err("odd number of hex digits".to_owned());
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        return hex
            .chunks(2)
            .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| "not hex digits after \\x".to_owned());
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'\\' {
            out.push(text[i]);
            i += 1;
        } else if text.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let octal = text.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
            let octal = octal.ok_or_else(|| "a backslash not followed by \\ or three octal digits".to_owned())?;
            let value = octal.iter().fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            out.push(u8::try_from(value).map_err(|_| format!("octal escape {value:o} is above 377"))?);
            i += 4;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_text_forms() {
        assert_eq!(parse_text(b"\\x00ff10"), Ok(vec![0, 255, 16]));
        assert_eq!(parse_text(b"\\x"), Ok(vec![]));
        assert_eq!(parse_text(b"a\\\\b\\000\\377"), Ok(vec![b'a', b'\\', b'b', 0, 255]));
        assert!(parse_text(b"\\x0").is_err() && parse_text(b"\\xzz").is_err() && parse_text(b"\\9").is_err());
    }
}
