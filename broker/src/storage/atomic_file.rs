//! Replacing small metadata files so that a crash leaves either the old or the new content.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `contents` to a temporary sibling (`<name>.tmp`, so that files differing only in their extension, such
/// as a segment's files, never share one), fsyncs it, renames it over `path` and fsyncs the directory.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
