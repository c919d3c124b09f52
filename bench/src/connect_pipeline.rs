//! Connector runs of the `connect` benchmark: create a datagen source and/or a file sink through the worker's REST
//! API, then watch the sink's file (counting its lines as they are appended) and the worker's `/metrics` until
//! every record has arrived.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::connect_api::{ConnectApi, Metrics};

/// How often the file and the metrics are looked at.
const WATCH_EVERY: Duration = Duration::from_millis(20);
/// How often the connectors' statuses are checked for a failed task.
const STATUS_EVERY: Duration = Duration::from_secs(1);
/// Give up when nothing moves for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Metric: records a source task wrote durably.
const SOURCE_WRITTEN: &str = "connect_source_records_written_total";
/// Metric: records handed to a sink task.
const SINK_PUT: &str = "connect_sink_records_put_total";

/// A datagen source connector.
#[derive(Debug, Clone)]
pub struct Source {
    /// The connector's name.
    pub name: String,
    /// The topic it writes.
    pub topic: String,
    /// Records it generates (`iterations`).
    pub records: u64,
    /// Records per poll (`batch.size`).
    pub batch: u64,
}

impl Source {
    /// The connector's config: as fast as the log takes records, one task.
    fn config(&self) -> Vec<(&'static str, String)> {
        vec![
            ("connector.class", "datagen".to_owned()),
            ("tasks.max", "1".to_owned()),
            ("kafka.topic", self.topic.clone()),
            ("rate", "0".to_owned()),
            ("iterations", self.records.to_string()),
            ("batch.size", self.batch.to_string()),
        ]
    }
}

/// A file sink connector.
#[derive(Debug, Clone)]
pub struct Sink {
    /// The connector's name.
    pub name: String,
    /// The topic it reads.
    pub topic: String,
    /// The file it writes.
    pub file: PathBuf,
    /// Records per batch (`consumer.override.max.poll.records`).
    pub max_poll_records: u64,
    /// `offset.flush.interval.ms`.
    pub flush_ms: u64,
}

impl Sink {
    /// The connector's config: one task.
    fn config(&self) -> Vec<(&'static str, String)> {
        vec![
            ("connector.class", "file".to_owned()),
            ("tasks.max", "1".to_owned()),
            ("topics", self.topic.clone()),
            ("file", self.file.display().to_string()),
            ("offset.flush.interval.ms", self.flush_ms.to_string()),
            ("consumer.override.max.poll.records", self.max_poll_records.to_string()),
        ]
    }
}

/// What one connector run measured; every instant is since the first connector was created.
#[derive(Debug, Clone)]
pub struct PipelineRun {
    /// Records expected.
    pub records: u64,
    /// Until the run was done: the file held every record (with a sink), or the source had written every record.
    pub elapsed: Duration,
    /// When the source's metrics first showed every record written durably (watched every 20 ms).
    pub source_done: Option<Duration>,
    /// When the sink's metrics first showed every record handed to it.
    pub sink_put_done: Option<Duration>,
    /// When the file first held a line.
    pub first_line: Option<Duration>,
    /// Lines in the file at the end (more than `records` would show records delivered twice).
    pub file_lines: u64,
    /// Bytes in the file at the end.
    pub file_bytes: u64,
    /// The worker's metrics at the end.
    pub metrics: Metrics,
}

impl PipelineRun {
    /// Records per second over the whole run.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

/// Counts the lines of a file that only grows, reading only what was appended since the last call.
struct LineCounter {
    path: PathBuf,
    file: Option<File>,
    lines: u64,
    bytes: u64,
    chunk: Vec<u8>,
}

impl LineCounter {
    fn new(path: &Path) -> Self {
        Self { path: path.to_owned(), file: None, lines: 0, bytes: 0, chunk: vec![0; 1 << 20] }
    }

    /// Reads what was appended; answers the lines so far (0 while the file does not exist).
    fn advance(&mut self) -> Result<u64> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(file) => self.file = Some(file),
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
                Err(e) => return Err(e).with_context(|| format!("opening {}", self.path.display())),
            }
        }
        let Some(file) = self.file.as_mut() else { return Ok(0) };
        loop {
            let read = file.read(&mut self.chunk).with_context(|| format!("reading {}", self.path.display()))?;
            if read == 0 {
                return Ok(self.lines);
            }
            self.bytes += read as u64;
            self.lines += self.chunk[..read].iter().filter(|&&b| b == b'\n').count() as u64;
        }
    }
}

/// Creates `sink` (first, so that its group is forming while the source starts) and `source`, whichever are
/// given, and watches until the sink's file holds `records` lines, or without a sink until the source has written
/// `records` records. The connectors are deleted afterwards.
pub fn run(api: &ConnectApi, source: Option<&Source>, sink: Option<&Sink>, records: u64) -> Result<PipelineRun> {
    let mut counter = sink.map(|s| LineCounter::new(&s.file));
    let names: Vec<&str> = sink.map(|s| s.name.as_str()).into_iter().chain(source.map(|s| s.name.as_str())).collect();
    let start = Instant::now();
    if let Some(sink) = sink {
        api.create(&sink.name, &sink.config())?;
    }
    if let Some(source) = source {
        api.create(&source.name, &source.config())?;
    }
    let (mut source_done, mut sink_put_done, mut first_line) = (None, None, None);
    let (mut progress, mut last_move) = (0.0, Instant::now());
    let mut last_status = Instant::now();
    let (elapsed, metrics) = loop {
        let lines = match counter.as_mut() {
            Some(counter) => counter.advance()?,
            None => 0,
        };
        let now = start.elapsed();
        if lines > 0 && first_line.is_none() {
            first_line = Some(now);
        }
        let metrics = api.metrics()?;
        let written = source.map_or(0.0, |s| metrics.of(SOURCE_WRITTEN, &s.name));
        let put = sink.map_or(0.0, |s| metrics.of(SINK_PUT, &s.name));
        if source.is_some() && written >= records as f64 && source_done.is_none() {
            source_done = Some(now);
        }
        if sink.is_some() && put >= records as f64 && sink_put_done.is_none() {
            sink_put_done = Some(now);
        }
        let done = match counter {
            Some(_) => lines >= records,
            None => source_done.is_some(),
        };
        if done {
            break (now, metrics);
        }
        let moved = lines as f64 + written + put;
        if moved > progress {
            (progress, last_move) = (moved, Instant::now());
        } else if last_move.elapsed() > STALL_TIMEOUT {
            bail!("stalled for {STALL_TIMEOUT:?}: {lines} lines in the file, {written} written, {put} put");
        }
        if last_status.elapsed() > STATUS_EVERY {
            for name in &names {
                api.check_not_failed(name)?;
            }
            last_status = Instant::now();
        }
        std::thread::sleep(WATCH_EVERY);
    };
    // Lines written after the last one counted would show a duplicate delivery.
    std::thread::sleep(WATCH_EVERY);
    let (file_lines, file_bytes) = match counter.as_mut() {
        Some(counter) => (counter.advance()?, counter.bytes),
        None => (0, 0),
    };
    for name in &names {
        api.delete(name)?;
    }
    Ok(PipelineRun { records, elapsed, source_done, sink_put_done, first_line, file_lines, file_bytes, metrics })
}

#[cfg(test)]
mod tests {
    use super::LineCounter;

    #[test]
    fn counts_appended_lines() {
        let dir = std::env::temp_dir().join(format!("tidemark-bench-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("out.jsonl");
        let mut counter = LineCounter::new(&path);
        assert_eq!(counter.advance().expect("missing file"), 0);
        std::fs::write(&path, b"a\nb\nc").expect("write");
        assert_eq!(counter.advance().expect("count"), 2);
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
        std::io::Write::write_all(&mut file, b"\nd\n").expect("append");
        assert_eq!(counter.advance().expect("count"), 4);
        assert_eq!(counter.bytes, 8);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
