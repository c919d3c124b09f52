//! tests/python/secure_clients.py (confluent-kafka and kafka-python with TLS and SASL) from the tests' side, and
//! the small helpers the security tests share.

use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::{python, repo_root};

/// What one run of `secure_clients.py` printed.
#[derive(Debug)]
pub struct Script {
    command: String,
    stdout: String,
    stderr: String,
}

impl Script {
    /// Runs `secure_clients.py COMMAND...` with `flags`; fails, with everything it printed, when the script failed.
    pub fn run(command: &[&str], flags: &[String]) -> Result<Self> {
        let output = Command::new(python())
            .arg(repo_root().join("tests/python/secure_clients.py"))
            .args(command)
            .args(flags)
            .output()
            .context("running secure_clients.py with the test venv's Python")?;
        let script = Script {
            command: command.join(" "),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        ensure!(output.status.success(), "secure_clients.py failed:\n{script}");
        Ok(script)
    }

    /// What it printed to standard output.
    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    /// The values of the `key=value` lines with this key.
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.stdout.lines().filter_map(|line| line.strip_prefix(key)?.strip_prefix('=')).collect()
    }

    /// The value of the single `key=N` line.
    pub fn count(&self, key: &str) -> Result<usize> {
        match self.values(key)[..] {
            [value] => value.parse().with_context(|| format!("{key}={value}")),
            _ => bail!("no single {key}= line:\n{self}"),
        }
    }
}

impl std::fmt::Display for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all: Vec<&str> = self.stderr.lines().collect();
        let tail = all[all.len().saturating_sub(40)..].join("\n");
        write!(f, "secure_clients.py {}\nstdout:\n{}\nstderr (tail):\n{tail}", self.command, self.stdout)
    }
}

/// Owned copies of `words`.
pub fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// Whether a log line has `part`; a `key=value` part matches a quoted value too (`key="value"`).
pub fn log_has(line: &str, part: &str) -> bool {
    match part.split_once('=') {
        Some((key, value)) if !value.is_empty() => line.contains(part) || line.contains(&format!("{key}=\"{value}\"")),
        _ => line.contains(part),
    }
}
