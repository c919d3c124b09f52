//! [`Path`]: where a walk through a value is, kept on the stack and turned into text only for an error.

use super::error::{Reason, ValidationError};

/// A position inside a value, linked to its parent: walking allocates nothing, an error renders it once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    /// The value itself, `$`.
    Root,
    /// A struct field, `.name`.
    Field(&'a Path<'a>, &'a str),
    /// An array element, `[i]`.
    Index(&'a Path<'a>, usize),
    /// The key of a map's entry, `{key #i}`.
    MapKey(&'a Path<'a>, usize),
    /// The value of a map's entry, `{value #i}`.
    MapValue(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// The path of a struct field below this one.
    pub(crate) fn field<'b>(&'b self, name: &'b str) -> Path<'b> {
        Path::Field(self, name)
    }

    /// The path of an array element below this one.
    pub(crate) fn index<'b>(&'b self, index: usize) -> Path<'b> {
        Path::Index(self, index)
    }

    /// The path of a map entry's key below this one.
    pub(crate) fn map_key<'b>(&'b self, index: usize) -> Path<'b> {
        Path::MapKey(self, index)
    }

    /// The path of a map entry's value below this one.
    pub(crate) fn map_value<'b>(&'b self, index: usize) -> Path<'b> {
        Path::MapValue(self, index)
    }

    /// An error at this path.
    pub(crate) fn error(&self, reason: impl Into<Reason>) -> ValidationError {
        let mut path = String::new();
        self.render(&mut path);
        ValidationError { path, reason: reason.into() }
    }

    fn render(&self, out: &mut String) {
        match self {
            Path::Root => out.push('$'),
            Path::Field(parent, name) => {
                parent.render(out);
                out.push('.');
                out.push_str(name);
            }
            Path::Index(parent, i) => {
                parent.render(out);
                out.push_str(&format!("[{i}]"));
            }
            Path::MapKey(parent, i) => {
                parent.render(out);
                out.push_str(&format!("{{key #{i}}}"));
            }
            Path::MapValue(parent, i) => {
                parent.render(out);
                out.push_str(&format!("{{value #{i}}}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_from_the_root() {
        let root = Path::Root;
        let after = root.field("after");
        let tags = after.field("tags");
        let third = tags.index(2);
        assert_eq!(third.error(Reason::Base64).path, "$.after.tags[2]");
        assert_eq!(after.map_key(0).error(Reason::Base64).path, "$.after{key #0}");
        assert_eq!(after.map_value(4).error(Reason::Base64).to_string(), "$.after{value #4}: invalid base64");
        assert_eq!(root.error(Reason::Base64).path, "$");
    }
}
