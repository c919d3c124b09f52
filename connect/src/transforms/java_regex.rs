//! Java's regular-expression semantics where Kafka Connect's transforms rely on them: `Matcher.matches()` (the
//! whole text must match, not a part of it) and `Matcher.replaceFirst` with Java's replacement syntax (`$1`,
//! `${name}`, `\$` for a literal dollar), which differs from the `regex` crate's (`$1a` is group 1 then `a` in
//! Java, the group named `1a` in Rust).
//!
//! Patterns are compiled by the `regex` crate, which shares Java's syntax for everything a topic pattern needs
//! (classes, groups, `(?<name>...)`, alternation, quantifiers, `(?i)`); look-around, back-references and
//! possessive quantifiers do not exist there and are refused when the config is validated.

use regex::Regex;

/// A pattern compiled twice: anchored at both ends for `matches()`, plain for `find()` / `replaceFirst`.
#[derive(Debug, Clone)]
pub(crate) struct JavaRegex {
    whole: Regex,
    find: Regex,
}

impl JavaRegex {
    /// Compiles `pattern`; the error says why it is not a valid expression.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let explain = |e: regex::Error| format!("not a valid regular expression: {}", one_line(&e.to_string()));
        let find = Regex::new(pattern).map_err(explain)?;
        let whole = Regex::new(&format!(r"\A(?:{pattern})\z")).map_err(explain)?;
        Ok(JavaRegex { whole, find })
    }

    /// Whether the whole of `text` matches (`Matcher.matches()`).
    pub(crate) fn matches(&self, text: &str) -> bool {
        self.whole.is_match(text)
    }

    /// The number of capturing groups (`Matcher.groupCount()`).
    fn group_count(&self) -> usize {
        self.find.captures_len().saturating_sub(1)
    }

    /// The number of the group called `name`.
    fn group_named(&self, name: &str) -> Option<usize> {
        self.find.capture_names().position(|n| n == Some(name))
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One piece of a parsed replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Text copied as it is.
    Literal(String),
    /// The text of a capturing group (nothing when the group did not take part in the match).
    Group(usize),
}

/// A replacement in Java's syntax, checked against the groups of its pattern once, at configuration.
#[derive(Debug, Clone)]
pub(crate) struct Replacement {
    parts: Vec<Part>,
}

impl Replacement {
    /// Parses `text` as `Matcher.appendReplacement` reads it against `regex`'s groups; the error is Java's reason.
    pub(crate) fn parse(text: &str, regex: &JavaRegex) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => literal.push(chars.next().ok_or("character to be escaped is missing")?),
                '$' => {
                    let group = match chars.next() {
                        Some('{') => {
                            let mut name = String::new();
                            loop {
                                match chars.next() {
                                    Some('}') => break,
                                    Some(c) if c.is_ascii_alphanumeric() => name.push(c),
                                    _ => return Err("named capturing group is missing trailing '}'".into()),
                                }
                            }
                            if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
                                return Err("capturing group name {".to_owned()
                                    + &name
                                    + "} starts with digit character");
                            }
                            regex.group_named(&name).ok_or_else(|| format!("No group with name {{{name}}}"))?
                        }
                        Some(d) if d.is_ascii_digit() => {
                            let mut number = d as usize - '0' as usize;
                            if number > regex.group_count() {
                                return Err(format!("No group {number}"));
                            }
                            while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                                let longer = number * 10 + next as usize;
                                if longer > regex.group_count() {
                                    break;
                                }
                                number = longer;
                                chars.next();
                            }
                            number
                        }
                        _ => return Err("Illegal group reference".into()),
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Group(group));
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Replacement { parts })
    }

    /// `text` with the first match of `regex` replaced (`Matcher.replaceFirst`), or `None` when nothing matches.
    pub(crate) fn replace_first(&self, regex: &JavaRegex, text: &str) -> Option<String> {
        let captures = regex.find.captures(text)?;
        let whole = captures.get(0)?;
        let mut out = String::with_capacity(text.len() + 16);
        out.push_str(&text[..whole.start()]);
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Group(n) => out.push_str(captures.get(*n).map_or("", |m| m.as_str())),
            }
        }
        out.push_str(&text[whole.end()..]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(pattern: &str, replacement: &str, text: &str) -> Option<String> {
        let regex = JavaRegex::new(pattern).expect("pattern");
        let replacement = Replacement::parse(replacement, &regex).expect("replacement");
        regex.matches(text).then(|| replacement.replace_first(&regex, text)).flatten()
    }

    #[test]
    fn matches_the_whole_text_only() {
        let regex = JavaRegex::new("a|ab").expect("regex");
        assert!(regex.matches("ab"));
        assert!(!JavaRegex::new("b").expect("regex").matches("ab"));
        assert!(JavaRegex::new("(?i)ORDERS").expect("regex").matches("orders"));
    }

    #[test]
    fn replaces_with_javas_syntax() {
        assert_eq!(
            replace("dbserver1\\.(\\w+)\\.(\\w+)", "$2_$1", "dbserver1.inventory.orders").as_deref(),
            Some("orders_inventory")
        );
        assert_eq!(replace("(.*)", "$1a", "x").as_deref(), Some("xa"), "Java reads $1a as group 1 then 'a'");
        assert_eq!(replace("(.*)", "$10", "x").as_deref(), Some("x0"), "no group 10: group 1 then '0'");
        assert_eq!(
            replace("(?<routedByValue>.*)", "outbox.event.${routedByValue}", "order").as_deref(),
            Some("outbox.event.order")
        );
        assert_eq!(replace("(a)|(b)", "[$2]", "a").as_deref(), Some("[]"), "a group outside the match is empty");
        assert_eq!(replace("(.*)", "\\$1 \\\\", "x").as_deref(), Some("$1 \\"));
        assert_eq!(replace("x", "y", "z"), None);
    }

    #[test]
    fn refuses_what_java_refuses() {
        let regex = JavaRegex::new("(a)").expect("regex");
        assert_eq!(Replacement::parse("$2", &regex).err().as_deref(), Some("No group 2"));
        assert_eq!(Replacement::parse("$x", &regex).err().as_deref(), Some("Illegal group reference"));
        assert_eq!(Replacement::parse("${b}", &regex).err().as_deref(), Some("No group with name {b}"));
        assert!(Replacement::parse("${b", &regex).is_err());
        assert!(Replacement::parse("a\\", &regex).is_err());
        assert!(JavaRegex::new("(?<=a)b").is_err(), "look-behind does not exist in the regex crate");
        assert!(JavaRegex::new("(").is_err());
    }
}
