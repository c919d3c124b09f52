//! A cursor over a binary value, for the send forms read field by field.

/// Reads big-endian fields off the front of a value's bytes.
pub(crate) struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { rest: bytes }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or_else(|| "the value ends too soon".to_owned())?;
        self.rest = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Bytes up to a NUL, which is consumed.
    pub fn cstring(&mut self) -> Result<&'a [u8], String> {
        let end = self.rest.iter().position(|&b| b == 0).ok_or_else(|| "a string without its NUL".to_owned())?;
        let text = self.take(end)?;
        self.take(1)?;
        Ok(text)
    }

    /// Succeeds when every byte was read.
    pub fn finish(self) -> Result<(), String> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(format!("{n} bytes after the value")),
        }
    }
}
