//! The `file` sink: every record as one line of JSON in a file, with rotation by size.
//!
//! A line is `{"topic":..,"partition":..,"offset":..,"timestamp":..,"key":..,"value":..,"headers":[[k,v],..]}`,
//! the key and value rendered as JSON without schemas (Kafka's `JsonConverter` with `schemas.enable=false`), so a
//! line says where its record was in the log. `put` appends a batch's lines to the file (readers see them at once);
//! `flush` syncs it, so what the runtime commits is on disk. When the file reaches `file.rotate.bytes` it is renamed `<file>.<n>`
//! (the next free number) and a new one started. A file has one writer: the connector runs one task.
//!
//! After a crash the file may end in a line cut short; starting again trims it, and the records after the last
//! committed offset are written again (at least once).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use futures::future::BoxFuture;

use crate::config::{ConfigDef, ConfigKey, ConfigType};
use crate::connector::{Connector, Rejected, SinkConnector, SinkRecord, SinkTask, TaskError};
use crate::converters::Converter;
use crate::converters::{header_bytes, ConverterType, JsonConverter, JsonConverterConfig};

/// The file sink's class name.
pub const FILE_SINK_CLASS: &str = "io.tidemark.connect.file.FileSinkConnector";
/// Its short name.
pub const FILE_SINK_ALIAS: &str = "file";

/// The `file` sink connector.
#[derive(Debug, Default)]
pub struct FileSinkConnector;

impl Connector for FileSinkConnector {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new([
            ConfigKey::required("file", ConfigType::String, "The file records are appended to, one JSON line each."),
            ConfigKey::optional(
                "file.rotate.bytes",
                ConfigType::Long,
                "0",
                "Start a new file past this size; 0 never.",
            )
            .checked(|v| match v.trim().parse::<i64>() {
                Ok(n) if n >= 0 => Ok(()),
                _ => Err("must be 0 or more".into()),
            }),
        ])
    }

    fn task_configs(&self, props: &BTreeMap<String, String>, _max_tasks: usize) -> Vec<BTreeMap<String, String>> {
        vec![props.clone()]
    }
}

impl SinkConnector for FileSinkConnector {
    fn create_task(&self, config: &BTreeMap<String, String>) -> Result<Box<dyn SinkTask>, TaskError> {
        let def = self.config_def();
        let path = def.value(config, "file").ok_or_else(|| TaskError::Definite("file is required".into()))?;
        let rotate_bytes = def.value(config, "file.rotate.bytes").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        let mut json = JsonConverterConfig::new(ConverterType::Value);
        json.schemas_enable = false;
        Ok(Box::new(FileSinkTask {
            path: PathBuf::from(path),
            rotate_bytes,
            json: JsonConverter::new(json),
            file: None,
            size: 0,
            buffer: Vec::new(),
        }))
    }
}

struct FileSinkTask {
    path: PathBuf,
    rotate_bytes: u64,
    json: JsonConverter,
    /// The open file (taken while a blocking write runs).
    file: Option<File>,
    /// Its size, counting lines written out but not the buffer.
    size: u64,
    buffer: Vec<u8>,
}

impl FileSinkTask {
    /// Appends one record's line to the buffer.
    fn line(&mut self, record: &SinkRecord) -> Result<(), String> {
        let r = &record.record;
        let out = &mut self.buffer;
        out.extend_from_slice(b"{\"topic\":");
        out.extend_from_slice(serde_json::to_string(&r.topic).map_err(|e| e.to_string())?.as_bytes());
        let position = format!(
            ",\"partition\":{},\"offset\":{},\"timestamp\":{},\"key\":",
            r.partition.unwrap_or(-1),
            record.kafka_offset,
            r.timestamp.map_or("null".to_owned(), |t| t.to_string())
        );
        out.extend_from_slice(position.as_bytes());
        let key = self.json.to_bytes(&r.topic, r.key_schema.as_ref(), &r.key).map_err(|e| format!("key: {e}"))?;
        out.extend_from_slice(key.as_deref().unwrap_or(b"null"));
        out.extend_from_slice(b",\"value\":");
        let value =
            self.json.to_bytes(&r.topic, r.value_schema.as_ref(), &r.value).map_err(|e| format!("value: {e}"))?;
        out.extend_from_slice(value.as_deref().unwrap_or(b"null"));
        if !r.headers.is_empty() {
            let headers: Vec<(String, Option<String>)> = r
                .headers
                .iter()
                .map(|h| {
                    let bytes = header_bytes(&h.value)?;
                    Ok((h.key.clone(), bytes.map(|b| String::from_utf8_lossy(&b).into_owned())))
                })
                .collect::<Result<_, String>>()?;
            out.extend_from_slice(b",\"headers\":");
            out.extend_from_slice(serde_json::to_string(&headers).map_err(|e| e.to_string())?.as_bytes());
        }
        out.extend_from_slice(b"}\n");
        Ok(())
    }

    /// Writes the buffer out (syncing the file when `sync`), rotating it when it has grown past the limit.
    async fn write_out(&mut self, sync: bool) -> Result<(), TaskError> {
        let file = match self.file.take() {
            Some(file) => file,
            None => return Err(TaskError::Definite(format!("{} is not open", self.path.display()))),
        };
        let buffer = std::mem::take(&mut self.buffer);
        let path = self.path.clone();
        let rotate = self.rotate_bytes > 0 && self.size + buffer.len() as u64 >= self.rotate_bytes;
        let written = tokio::task::spawn_blocking(move || write_lines(file, &buffer, sync || rotate, rotate, &path))
            .await
            .map_err(|e| TaskError::Definite(format!("writing {}: {e}", self.path.display())))?;
        let (file, size) =
            written.map_err(|e| TaskError::Transient(format!("writing {}: {e}", self.path.display())))?;
        self.file = Some(file);
        self.size = size;
        Ok(())
    }
}

/// Appends `lines`, syncs when asked, and when `rotate` renames the file aside and opens a new one; answers the
/// open file and its size.
fn write_lines(mut file: File, lines: &[u8], sync: bool, rotate: bool, path: &Path) -> std::io::Result<(File, u64)> {
    file.write_all(lines)?;
    if sync {
        file.sync_data()?;
    }
    if rotate {
        let aside = (1u32..).map(|n| PathBuf::from(format!("{}.{n}", path.display()))).find(|p| !p.exists());
        if let Some(aside) = aside {
            std::fs::rename(path, aside)?;
            return Ok((open_trimmed(path)?, 0));
        }
    }
    let size = file.metadata()?.len();
    Ok((file, size))
}

/// Opens `path` for appending, created when missing, with a last line cut short by a crash removed.
fn open_trimmed(path: &Path) -> std::io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
    let len = file.metadata()?.len();
    let mut end = len;
    let mut chunk = [0u8; 4096];
    // Walks back to just after the last newline.
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
            end = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    if end < len {
        file.set_len(end)?;
        file.sync_data()?;
    }
    file.seek(SeekFrom::End(0))?;
    Ok(file)
}

impl SinkTask for FileSinkTask {
    fn start(&mut self) -> BoxFuture<'_, Result<(), TaskError>> {
        Box::pin(async move {
            let path = self.path.clone();
            let opened = tokio::task::spawn_blocking(move || {
                let file = open_trimmed(&path)?;
                let size = file.metadata()?.len();
                Ok::<_, std::io::Error>((file, size))
            })
            .await
            .map_err(|e| TaskError::Definite(format!("opening {}: {e}", self.path.display())))?;
            let (file, size) =
                opened.map_err(|e| TaskError::Transient(format!("opening {}: {e}", self.path.display())))?;
            self.file = Some(file);
            self.size = size;
            Ok(())
        })
    }

    fn put<'a>(&'a mut self, records: &'a [SinkRecord]) -> BoxFuture<'a, Result<Vec<Rejected>, TaskError>> {
        Box::pin(async move {
            let mut rejected = Vec::new();
            for (index, record) in records.iter().enumerate() {
                let mark = self.buffer.len();
                if let Err(reason) = self.line(record) {
                    self.buffer.truncate(mark);
                    rejected.push(Rejected { index, reason });
                }
            }
            if !self.buffer.is_empty() {
                self.write_out(false).await?;
            }
            Ok(rejected)
        })
    }

    fn flush(&mut self) -> BoxFuture<'_, Result<(), TaskError>> {
        Box::pin(self.write_out(true))
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        self.file = None;
        self.buffer.clear();
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_short_last_line_is_trimmed() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, b"{\"a\":1}\n{\"a\":2}\n{\"a\"").expect("write");
        drop(open_trimmed(&path).expect("open"));
        assert_eq!(std::fs::read(&path).expect("read"), b"{\"a\":1}\n{\"a\":2}\n");
        std::fs::write(&path, b"{\"a\"").expect("write");
        drop(open_trimmed(&path).expect("open"));
        assert_eq!(std::fs::read(&path).expect("read"), b"");
    }
}
