//! Swapping a cleaned segment in for the segments it replaces so that a crash at any point loses nothing (Kafka's
//! scheme):
//!
//! 1. the cleaner writes `<base>.log.cleaned`, `.index.cleaned` and `.timeindex.cleaned` and syncs them;
//! 2. [`commit`] renames the indexes, then the log, to `.swap` and syncs the directory: **`<base>.log.swap` is the
//!    commit point**;
//! 3. it renames the replaced segments' files to `.deleted` (all but those named like the new segment),
//! 4. renames `<base>.log.swap` over `<base>.log`, then the indexes, and syncs the directory,
//! 5. and removes the `.deleted` files.
//!
//! [`recover`], at open, finishes or undoes what a crash interrupted: `.cleaned` and `.deleted` files go (before
//! step 2 the old segments are whole; after step 3 they are not needed). A `<base>.log.swap` means the swap
//! committed: every segment file in its offset range (from the swap's time index, whose last entry is the end of
//! the range it replaces) goes and the swap is renamed in. An index `.swap` without its log means step 4 was cut
//! short. In both cases the segment's index files are removed, so that opening the segment rebuilds them.

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::scan::SegmentView;
use crate::storage::index::{IndexFile, TimeEntry};
use crate::storage::segment::file_name;

/// Suffix of a cleaned segment's files before the swap.
pub const CLEANED: &str = "cleaned";
const SWAP: &str = "swap";
const DELETED: &str = "deleted";
const LOG: &str = "log";
const INDEXES: [&str; 2] = ["index", "timeindex"];

fn path(dir: &Path, base: i64, extension: &str, suffix: &str) -> PathBuf {
    dir.join(format!("{}.{suffix}", file_name(base, extension)))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn rename_if_present(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Swaps the synced cleaned segment `<base>.*.cleaned` in for the segments with base offsets `replaced`.
pub fn commit(dir: &Path, base: i64, replaced: &[i64]) -> io::Result<()> {
    stage(dir, base)?;
    retire(dir, base, replaced)?;
    install(dir, base)?;
    purge(dir, replaced)
}

/// Steps 1–2: the cleaned files become `.swap` files, the log last; the swap is committed once this returns.
pub(super) fn stage(dir: &Path, base: i64) -> io::Result<()> {
    for extension in INDEXES.into_iter().chain([LOG]) {
        std::fs::rename(path(dir, base, extension, CLEANED), path(dir, base, extension, SWAP))?;
    }
    sync_dir(dir)
}

/// Step 3: the replaced segments other than the one the swap overwrites become `.deleted`.
pub(super) fn retire(dir: &Path, base: i64, replaced: &[i64]) -> io::Result<()> {
    for &old in replaced.iter().filter(|&&old| old != base) {
        for extension in [LOG].into_iter().chain(INDEXES) {
            let name = dir.join(file_name(old, extension));
            rename_if_present(&name, &path(dir, old, extension, DELETED))?;
        }
    }
    Ok(())
}

/// Step 4: the swap files take their final names, the log first.
pub(super) fn install(dir: &Path, base: i64) -> io::Result<()> {
    for extension in [LOG].into_iter().chain(INDEXES) {
        std::fs::rename(path(dir, base, extension, SWAP), dir.join(file_name(base, extension)))?;
    }
    sync_dir(dir)
}

/// Step 5: the retired files go.
pub(super) fn purge(dir: &Path, replaced: &[i64]) -> io::Result<()> {
    for &old in replaced {
        for extension in [LOG].into_iter().chain(INDEXES) {
            remove_if_present(&path(dir, old, extension, DELETED))?;
        }
    }
    Ok(())
}

/// Removes an abandoned cleaned segment's files.
pub fn discard(dir: &Path, base: i64) -> io::Result<()> {
    for extension in [LOG].into_iter().chain(INDEXES) {
        remove_if_present(&path(dir, base, extension, CLEANED))?;
    }
    Ok(())
}

/// A file of the partition directory named `<base>.<extension>[.<suffix>]`.
struct SegmentFile {
    path: PathBuf,
    base: i64,
    extension: String,
    suffix: Option<String>,
}

fn segment_files(dir: &Path) -> io::Result<Vec<SegmentFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut parts = name.splitn(3, '.');
        let (Some(base), Some(extension)) = (parts.next().and_then(|b| b.parse().ok()), parts.next()) else {
            continue;
        };
        if extension == LOG || INDEXES.contains(&extension) {
            let (extension, suffix) = (extension.to_owned(), parts.next().map(str::to_owned));
            files.push(SegmentFile { path: entry.path(), base, extension, suffix });
        }
    }
    Ok(files)
}

/// Completes or undoes an interrupted swap in the partition directory `dir`. Segments whose index files were
/// removed are rebuilt when the log opens them.
pub fn recover(dir: &Path) -> io::Result<()> {
    let files = segment_files(dir)?;
    let has_suffix = |file: &SegmentFile, suffix: &str| file.suffix.as_deref() == Some(suffix);
    let mut changed = false;
    for file in files.iter().filter(|f| has_suffix(f, CLEANED) || has_suffix(f, DELETED)) {
        std::fs::remove_file(&file.path)?;
        changed = true;
    }
    let log_swaps: BTreeSet<i64> =
        files.iter().filter(|f| has_suffix(f, SWAP) && f.extension == LOG).map(|f| f.base).collect();
    for &base in &log_swaps {
        let end = swap_end(dir, base)?;
        tracing::warn!(dir = %dir.display(), base, end, "completing a compaction swap interrupted by a crash");
        for old in files.iter().filter(|f| f.suffix.is_none() && (base..end).contains(&f.base)) {
            remove_if_present(&old.path)?;
        }
        std::fs::rename(path(dir, base, LOG, SWAP), dir.join(file_name(base, LOG)))?;
        changed = true;
    }
    let index_swaps: BTreeSet<i64> =
        files.iter().filter(|f| has_suffix(f, SWAP) && f.extension != LOG).map(|f| f.base).collect();
    for &base in log_swaps.union(&index_swaps) {
        for extension in INDEXES {
            remove_if_present(&path(dir, base, extension, SWAP))?;
            remove_if_present(&dir.join(file_name(base, extension)))?;
        }
        changed = true;
    }
    if changed {
        sync_dir(dir)?;
    }
    Ok(())
}

/// One past the last offset the swap segment replaces: the end entry of its time index, or, should that be
/// missing, one past its last batch.
fn swap_end(dir: &Path, base: i64) -> io::Result<i64> {
    let sealed = IndexFile::<TimeEntry>::load(&path(dir, base, "timeindex", SWAP))
        .ok()
        .and_then(|index| index.entries().last().map(|end| base + i64::from(end.relative_offset)));
    if let Some(end) = sealed {
        return Ok(end);
    }
    let log = File::open(path(dir, base, LOG, SWAP))?;
    let size = log.metadata()?.len();
    let view = SegmentView { base_offset: base, next_offset: base, size, max_timestamp: -1, file: Arc::new(log) };
    let mut end = base;
    view.for_each_header(|header| end = end.max(header.last_offset() + 1)).map_err(io::Error::other)?;
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str, content: &str) {
        std::fs::write(dir.join(name), content).expect("write");
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Old segments 0 and 10 replaced by cleaned segment 0; segment 20 follows.
    fn prepare(dir: &Path) {
        for (base, content) in [(0, "old0"), (10, "old10"), (20, "next")] {
            for extension in ["log", "index", "timeindex"] {
                touch(dir, &file_name(base, extension), content);
            }
        }
        for extension in ["log", "index", "timeindex"] {
            touch(dir, &format!("{}.cleaned", file_name(0, extension)), "new");
        }
    }

    #[test]
    fn compaction_swap_commits_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        prepare(dir.path());
        commit(dir.path(), 0, &[0, 10]).expect("commit");
        let expected: Vec<String> =
            [0, 20].iter().flat_map(|&b| ["index", "log", "timeindex"].map(|e| file_name(b, e))).collect();
        assert_eq!(listing(dir.path()), expected);
        let read = |name: String| std::fs::read_to_string(dir.path().join(name)).expect("read");
        assert_eq!(read(file_name(0, "log")), "new");
        assert_eq!(read(file_name(20, "log")), "next");
    }

    #[test]
    fn compaction_swap_discards_cleaned_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        prepare(dir.path());
        discard(dir.path(), 0).expect("discard");
        assert_eq!(listing(dir.path()).len(), 9);
        assert!(listing(dir.path()).iter().all(|n| !n.ends_with(CLEANED)));
    }
}
