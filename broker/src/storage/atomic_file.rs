//! Replacing small metadata files so that a crash leaves either the old or the new content.

use std::io::{self, Write};
use std::path::Path;

/// Writes `contents` to a temporary sibling, fsyncs it, renames it over `path` and fsyncs the directory.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
