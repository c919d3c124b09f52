//! The Tidemark broker under test: a child process, its log, and its /proc counters.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The log line that announces the Kafka listener, followed by `address=HOST:PORT`.
pub const KAFKA_READY: &str = "kafka listener ready";
/// The log line of `tidemark up` that announces the schema registry's listener.
pub const REGISTRY_READY: &str = "schema registry listener ready";
/// The log line of `tidemark up` that announces the connect worker's listener.
pub const CONNECT_READY: &str = "connect listener ready";
/// Log lines kept for error messages.
const TAIL_LINES: usize = 40;
/// WARN/ERROR lines kept for the report.
const KEPT_PROBLEMS: usize = 10;

/// What the broker wrote to stderr.
#[derive(Debug, Default)]
pub struct BrokerLog {
    /// The last [`TAIL_LINES`] lines.
    pub tail: VecDeque<String>,
    /// Number of lines at WARN or ERROR level.
    pub problems: u64,
    /// The first [`KEPT_PROBLEMS`] WARN/ERROR lines.
    pub first_problems: Vec<String>,
}

/// A listener announced in the log at start.
#[derive(Debug)]
struct Listener {
    /// Its log line ([`KAFKA_READY`], ...).
    marker: &'static str,
    /// `host:port`.
    address: String,
    /// The line's `protocol=` (Kafka listeners: `PLAINTEXT`, `SASL_SSL`, ...).
    protocol: Option<String>,
}

/// A running `tidemark broker` (or `tidemark up`), killed on drop.
pub struct Broker {
    child: Child,
    /// `host:port` of its (PLAINTEXT) Kafka listener.
    pub bootstrap: String,
    /// Each listener announced at start.
    listeners: Vec<Listener>,
    log: Arc<Mutex<BrokerLog>>,
}

impl Broker {
    /// Starts `tidemark broker` on a free loopback port with its data in `data_dir`, one partition per
    /// auto-created topic and `extra_args`, and waits for its listener.
    pub fn start(binary: &Path, data_dir: &Path, extra_args: &[&str]) -> Result<Self> {
        Self::spawn(binary, "broker", data_dir, extra_args, &[], &[KAFKA_READY], &[])
    }

    /// Starts `tidemark broker` as [`Broker::start`] does, with the environment variables `env` set, and waits for
    /// a Kafka listener of each of `protocols` (`PLAINTEXT`, `SASL_SSL`, ...; the PLAINTEXT one is always there,
    /// `extra_args` asks for more with `--kafka-listen PROTOCOL://127.0.0.1:0`). [`Broker::kafka_listener`] answers
    /// their addresses.
    pub fn start_listeners(
        binary: &Path,
        data_dir: &Path,
        extra_args: &[&str],
        env: &[(&str, &str)],
        protocols: &[&str],
    ) -> Result<Self> {
        Self::spawn(binary, "broker", data_dir, extra_args, env, &[KAFKA_READY], protocols)
    }

    /// Starts `tidemark up` (broker, schema registry and connect worker in one process) with every listener on a
    /// free loopback port, its data in `data_dir`, one partition per auto-created topic and `extra_args`, and
    /// waits for its three listeners.
    pub fn start_up(binary: &Path, data_dir: &Path, extra_args: &[&str]) -> Result<Self> {
        let args = [&["--registry-listen", "127.0.0.1:0", "--connect-listen", "127.0.0.1:0"][..], extra_args].concat();
        Self::spawn(binary, "up", data_dir, &args, &[], &[KAFKA_READY, REGISTRY_READY, CONNECT_READY], &[])
    }

    /// Runs `tidemark <command>` with the environment variables `env` and waits until it has logged every one of
    /// `markers` with an address, and a [`KAFKA_READY`] line of each of `protocols`.
    fn spawn(
        binary: &Path,
        command: &str,
        data_dir: &Path,
        extra_args: &[&str],
        env: &[(&str, &str)],
        markers: &'static [&'static str],
        protocols: &[&str],
    ) -> Result<Self> {
        let mut child = Command::new(binary)
            .arg(command)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--kafka-listen", "127.0.0.1:0", "--num-partitions", "1"])
            .args(extra_args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stderr = child.stderr.take().context("broker stderr")?;
        let log = Arc::new(Mutex::new(BrokerLog::default()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let log_writer = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                for &marker in markers {
                    if let Some(address) = ready_address(&line, marker) {
                        let _ = ready_tx.send(Listener { marker, address, protocol: field(&line, "protocol=") });
                    }
                }
                if let Ok(mut log) = log_writer.lock() {
                    if line.contains(" WARN ") || line.contains(" ERROR ") {
                        log.problems += 1;
                        if log.first_problems.len() < KEPT_PROBLEMS {
                            log.first_problems.push(line.clone());
                        }
                    }
                    if log.tail.len() == TAIL_LINES {
                        log.tail.pop_front();
                    }
                    log.tail.push_back(line);
                }
            }
        });
        let mut broker = Broker { child, bootstrap: String::new(), listeners: Vec::new(), log };
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = |broker: &Broker| {
            markers.iter().all(|&m| broker.listener(m).is_some())
                && protocols.iter().all(|&p| broker.kafka_listener(p).is_some())
        };
        while !ready(&broker) {
            match ready_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(found) => broker.listeners.push(found),
                Err(_) => bail!(
                    "tidemark did not log {markers:?} (Kafka listeners {protocols:?}) within 30 s; log:\n{}",
                    broker.log_tail()
                ),
            }
        }
        let plaintext = broker.kafka_listener("PLAINTEXT").or_else(|| broker.listener(KAFKA_READY));
        broker.bootstrap = plaintext.context("no Kafka listener")?.to_owned();
        Ok(broker)
    }

    /// `host:port` of the listener announced by `marker` ([`KAFKA_READY`], [`REGISTRY_READY`], [`CONNECT_READY`]).
    pub fn listener(&self, marker: &str) -> Option<&str> {
        self.listeners.iter().find(|l| l.marker == marker).map(|l| l.address.as_str())
    }

    /// `host:port` of the Kafka listener of `protocol` (`PLAINTEXT`, `SASL_SSL`, ...), as its [`KAFKA_READY`] line
    /// names it with `protocol=`.
    pub fn kafka_listener(&self, protocol: &str) -> Option<&str> {
        self.listeners
            .iter()
            .find(|l| l.marker == KAFKA_READY && l.protocol.as_deref() == Some(protocol))
            .map(|l| l.address.as_str())
    }

    /// The broker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the broker exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait().context("polling the broker")? {
            bail!("the broker exited ({status}); log:\n{}", self.log_tail());
        }
        Ok(())
    }

    /// The last lines of the broker's log.
    pub fn log_tail(&self) -> String {
        self.log.lock().map(|l| l.tail.iter().cloned().collect::<Vec<_>>().join("\n")).unwrap_or_default()
    }

    /// WARN/ERROR line count and the first few of them.
    pub fn problems(&self) -> (u64, Vec<String>) {
        self.log.lock().map(|l| (l.problems, l.first_problems.clone())).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `HOST:PORT` from a `<marker> address=HOST:PORT` log line, e.g. `kafka listener ready address=127.0.0.1:9092`.
fn ready_address(line: &str, marker: &str) -> Option<String> {
    let rest = &line[line.find(marker)? + marker.len()..];
    field(rest, "address=")?.parse::<std::net::SocketAddr>().ok().map(|a| a.to_string())
}

/// The value after `key` (`address=`, `protocol=`) in a log line, up to a space or a comma.
fn field(line: &str, key: &str) -> Option<String> {
    let value = &line[line.find(key)? + key.len()..];
    Some(value.chars().take_while(|c| !c.is_whitespace() && *c != ',').collect())
}

/// Counters of a process from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// User + system CPU time, seconds.
    pub cpu_secs: f64,
    /// System (kernel) CPU time, seconds.
    pub sys_secs: f64,
    /// Peak resident set size (`VmHWM`), KiB.
    pub hwm_kib: u64,
    /// Current resident set size (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// Bytes the process caused to be sent to storage (`write_bytes` of /proc/PID/io).
    pub write_bytes: u64,
    /// Bytes the process caused to be fetched from storage, not the page cache (`read_bytes`).
    pub read_bytes: u64,
}

impl std::ops::Add for ProcSample {
    type Output = Self;

    /// The counters of two processes together (peak RSS: the sum of both peaks).
    fn add(self, other: Self) -> Self {
        Self {
            cpu_secs: self.cpu_secs + other.cpu_secs,
            sys_secs: self.sys_secs + other.sys_secs,
            hwm_kib: self.hwm_kib + other.hwm_kib,
            rss_kib: self.rss_kib + other.rss_kib,
            write_bytes: self.write_bytes + other.write_bytes,
            read_bytes: self.read_bytes + other.read_bytes,
        }
    }
}

/// Reads `/proc/<pid>/{stat,status,io}`; `pid` `None` is this process. `ticks` is `getconf CLK_TCK`.
pub fn sample(pid: Option<u32>, ticks: f64) -> Result<ProcSample> {
    let dir = match pid {
        Some(pid) => format!("/proc/{pid}"),
        None => "/proc/self".to_string(),
    };
    let stat = std::fs::read_to_string(format!("{dir}/stat")).with_context(|| format!("reading {dir}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the line.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).context("malformed stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let tick = |i: usize| -> Result<f64> {
        Ok(fields.get(i).context("short stat")?.parse::<u64>().context("stat field")? as f64)
    };
    let cpu_secs = (tick(11)? + tick(12)?) / ticks;
    let sys_secs = tick(12)? / ticks;
    let status = std::fs::read_to_string(format!("{dir}/status")).with_context(|| format!("reading {dir}/status"))?;
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let io = std::fs::read_to_string(format!("{dir}/io")).unwrap_or_default();
    let io_bytes = |key: &str| -> u64 {
        io.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    };
    Ok(ProcSample {
        cpu_secs,
        sys_secs,
        hwm_kib: kib("VmHWM:"),
        rss_kib: kib("VmRSS:"),
        write_bytes: io_bytes("write_bytes:"),
        read_bytes: io_bytes("read_bytes:"),
    })
}

/// Machine-wide CPU counters from the first line of /proc/stat, in clock ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineSample {
    /// All CPU time (every field).
    pub total: u64,
    /// Time waiting for I/O with nothing else to run.
    pub iowait: u64,
    /// Time the hypervisor ran something else while this VM wanted to run.
    pub steal: u64,
}

/// Reads the machine-wide CPU counters.
pub fn machine_sample() -> Result<MachineSample> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let line = stat.lines().next().context("empty /proc/stat")?;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice; guest time is inside user.
    let fields: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    let field = |i: usize| fields.get(i).copied().unwrap_or(0);
    Ok(MachineSample { total: fields.iter().take(8).sum(), iowait: field(4), steal: field(7) })
}

/// Clock ticks per second for /proc CPU times (`getconf CLK_TCK`, 100 if that fails).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

#[cfg(test)]
mod tests {
    use super::{field, ready_address, CONNECT_READY, KAFKA_READY, REGISTRY_READY};

    #[test]
    fn parses_ready_line() {
        let line = "2026-11-23T10:00:00Z  INFO tidemark_broker::server: kafka listener ready address=127.0.0.1:40123";
        assert_eq!(ready_address(line, KAFKA_READY).as_deref(), Some("127.0.0.1:40123"));
        assert_eq!(ready_address(line, CONNECT_READY), None);
        assert_eq!(ready_address("kafka listener ready", KAFKA_READY), None);
        let line = "INFO tidemark: schema registry listener ready address=127.0.0.1:8081";
        assert_eq!(ready_address(line, REGISTRY_READY).as_deref(), Some("127.0.0.1:8081"));
        assert_eq!(ready_address(line, KAFKA_READY), None);
        let line = "INFO tidemark_broker::server: kafka listener ready address=127.0.0.1:9093 protocol=SASL_SSL";
        assert_eq!(ready_address(line, KAFKA_READY).as_deref(), Some("127.0.0.1:9093"));
        assert_eq!(field(line, "protocol=").as_deref(), Some("SASL_SSL"));
    }
}
