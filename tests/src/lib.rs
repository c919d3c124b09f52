//! The harness for Tidemark's end-to-end tests: starts the real `tidemark` binary on a free port in a temporary
//! directory, and builds librdkafka clients pointed at it.
#![forbid(unsafe_code)]

pub mod cdc;
pub mod cluster;
pub mod connect_client;
pub mod mariadb;
pub mod postgres;
mod process;
pub mod rng;
pub mod secure_clients;
pub mod tls;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Offset, TopicPartitionList};

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The `tidemark` binary built alongside the tests (`cargo build --bins` first; `scripts/test` does).
pub fn tidemark_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test> -> target/<profile>/tidemark
    let profile_dir = exe.parent().and_then(Path::parent).ok_or_else(|| anyhow!("unexpected test path"))?;
    let binary = profile_dir.join("tidemark");
    if !binary.exists() {
        bail!("{} is missing: run `cargo build --bins` (scripts/test does) before the tests", binary.display());
    }
    Ok(binary)
}

/// A running `tidemark` server process (`broker`, `up`, `registry` or `connect`). Killed when dropped.
pub struct TidemarkProcess {
    child: Child,
    /// `host:port` of its Kafka listener (for `registry` and `connect`, of the cluster they use); with several
    /// listeners, the PLAINTEXT one, else the first logged.
    pub bootstrap: String,
    /// `host:port` of each Kafka listener by security protocol (`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT`, `SASL_SSL`).
    pub listeners: BTreeMap<String, String>,
    /// Every line it wrote to standard error so far.
    log: Arc<Mutex<Vec<String>>>,
    /// `http://host:port` of its schema registry, when it runs one (`tidemark up`, `tidemark registry`).
    pub registry_url: Option<String>,
    /// `http://host:port` of its connect worker, when it runs one (`tidemark up`, `tidemark connect`).
    pub connect_url: Option<String>,
}

/// The log line of a listener, followed by its address.
const KAFKA_READY: &str = "kafka listener ready address=";
const REGISTRY_READY: &str = "schema registry listener ready address=";
const CONNECT_READY: &str = "connect listener ready address=";

impl TidemarkProcess {
    /// Starts `tidemark broker` storing in `data_dir`, on a free port, with extra flags; returns once it listens.
    pub fn start(data_dir: &Path, extra_args: &[&str]) -> Result<Self> {
        Self::start_on(data_dir, "127.0.0.1:0", extra_args)
    }

    /// Like [`TidemarkProcess::start`] on a given listen address (a restart reuses its port).
    pub fn start_on(data_dir: &Path, listen: &str, extra_args: &[&str]) -> Result<Self> {
        Self::start_with_env(data_dir, listen, extra_args, &[])
    }

    /// Like [`TidemarkProcess::start_on`] with environment variables set for the process; `listen` may name
    /// several listeners (`PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0`): returns once each one listens.
    pub fn start_with_env(data_dir: &Path, listen: &str, extra_args: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let args = [&["broker", "--kafka-listen", listen][..], extra_args].concat();
        Self::spawn_with_env(Some(data_dir), &args, env, &[KAFKA_READY])
    }

    /// Starts `tidemark up` (broker, registry, connect worker) on the given listen addresses (`127.0.0.1:0` for
    /// free ports); the worker listens on a free port unless `extra_args` gives `--connect-listen`.
    pub fn start_up(data_dir: &Path, kafka: &str, registry: &str, extra_args: &[&str]) -> Result<Self> {
        let connect: &[&str] =
            if extra_args.contains(&"--connect-listen") { &[] } else { &["--connect-listen", "127.0.0.1:0"] };
        let args = [&["up", "--kafka-listen", kafka, "--registry-listen", registry][..], connect, extra_args].concat();
        Self::spawn(Some(data_dir), &args, &[KAFKA_READY, REGISTRY_READY, CONNECT_READY])
    }

    /// Starts `tidemark registry` alone against the Kafka cluster at `bootstrap`, listening on `listen`.
    pub fn start_registry(bootstrap: &str, listen: &str) -> Result<Self> {
        let args = ["registry", "--bootstrap-servers", bootstrap, "--registry-listen", listen];
        let mut registry = Self::spawn(None, &args, &[REGISTRY_READY])?;
        registry.bootstrap = bootstrap.to_owned();
        Ok(registry)
    }

    /// Starts `tidemark connect` alone against the Kafka cluster at `bootstrap`, its REST API on `listen`
    /// (`127.0.0.1:0` for a free port; a restart passes the address it had), with extra flags such as
    /// `--schema-registry-url`; returns once the API listens, which is after the worker loaded its state topics.
    pub fn start_connect(bootstrap: &str, listen: &str, extra_args: &[&str]) -> Result<Self> {
        let args =
            [&["connect", "--bootstrap-servers", bootstrap, "--connect-listen", listen][..], extra_args].concat();
        let mut connect = Self::spawn(None, &args, &[CONNECT_READY])?;
        connect.bootstrap = bootstrap.to_owned();
        Ok(connect)
    }

    /// Runs the binary with `args` (and `--data-dir` when given) and waits for the `ready` log lines, in any order.
    fn spawn(data_dir: Option<&Path>, args: &[&str], ready: &'static [&'static str]) -> Result<Self> {
        Self::spawn_with_env(data_dir, args, &[], ready)
    }

    /// [`TidemarkProcess::spawn`] with environment variables. A Kafka listener logs its protocol after its address;
    /// one line is awaited for each listener `--kafka-listen` names.
    fn spawn_with_env(
        data_dir: Option<&Path>,
        args: &[&str],
        env: &[(&str, &str)],
        ready: &'static [&'static str],
    ) -> Result<Self> {
        let mut command = Command::new(tidemark_binary()?);
        command.args(args);
        if let Some(dir) = data_dir {
            command.arg("--data-dir").arg(dir);
        }
        // TIDEMARK_TEST_LOG sets the tests' servers' RUST_LOG, for debugging.
        command.env("RUST_LOG", std::env::var("TIDEMARK_TEST_LOG").unwrap_or_else(|_| "info".to_owned()));
        command.envs(env.iter().copied());
        let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().context("starting tidemark")?;
        let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let captured = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[tidemark] {line}");
                for marker in ready {
                    if let Some(rest) = line.split(marker).nth(1) {
                        let mut words = rest.split_whitespace();
                        let address = words.next().unwrap_or_default().to_owned();
                        let protocol = words.find_map(|w| w.strip_prefix("protocol=")).unwrap_or("PLAINTEXT");
                        let _ = tx.send((*marker, address, protocol.trim_matches('"').to_owned()));
                    }
                }
                captured.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line);
            }
        });
        let kafka_listeners = if ready.contains(&KAFKA_READY) { kafka_listener_count(args) } else { 0 };
        let mut found = std::collections::HashMap::new();
        let mut listeners = BTreeMap::new();
        let mut first_kafka = None;
        while found.len() < ready.len() || listeners.len() < kafka_listeners {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok((marker, address, protocol)) => {
                    if marker == KAFKA_READY {
                        first_kafka.get_or_insert_with(|| address.clone());
                        listeners.insert(protocol, address.clone());
                    }
                    found.insert(marker, address);
                }
                Err(_) => {
                    let _ = child.kill();
                    bail!("tidemark did not report its listeners within 30 s")
                }
            }
        }
        let bootstrap = listeners.get("PLAINTEXT").cloned().or(first_kafka).unwrap_or_default();
        let registry_url = found.remove(REGISTRY_READY).map(|a| format!("http://{a}"));
        let connect_url = found.remove(CONNECT_READY).map(|a| format!("http://{a}"));
        Ok(TidemarkProcess { child, bootstrap, listeners, log, registry_url, connect_url })
    }

    /// The address of its Kafka listener for `protocol` (`SASL_SSL`, ...).
    pub fn listener(&self, protocol: &str) -> Result<&str> {
        self.listeners.get(protocol).map(String::as_str).with_context(|| format!("no {protocol} listener"))
    }

    /// Its listeners as `--kafka-listen` takes them (`PLAINTEXT://127.0.0.1:4242,SASL_SSL://...`), to restart it
    /// on the same ports.
    pub fn listen_spec(&self) -> String {
        self.listeners.iter().map(|(protocol, address)| format!("{protocol}://{address}")).collect::<Vec<_>>().join(",")
    }

    /// The lines it wrote to standard error so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Waits up to `timeout` for a logged line that `wanted` accepts (one logged earlier counts too); answers it.
    pub fn wait_for_log(&self, what: &str, timeout: Duration, wanted: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.log().into_iter().find(|line| wanted(line)) {
                return Ok(line);
            }
            if Instant::now() > deadline {
                bail!("no log line {what} within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` (`STOP`, `CONT`, ...) to the process, as `kill -<signal>` does.
    pub fn signal(&self, signal: &str) -> Result<()> {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status()?;
        if !status.success() {
            bail!("kill -{signal} {} failed", self.child.id());
        }
        Ok(())
    }

    /// Kills the process with SIGKILL, as a crash would, and waits for it.
    pub fn kill9(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for TidemarkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many Kafka listeners the `--kafka-listen` flags among `args` name (one when there is no such flag).
fn kafka_listener_count(args: &[&str]) -> usize {
    let named: usize = args
        .windows(2)
        .filter(|pair| pair[0] == "--kafka-listen")
        .map(|pair| pair[1].split(',').filter(|l| !l.trim().is_empty()).count())
        .sum();
    named.max(1)
}

/// A librdkafka config pointed at `bootstrap`.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

/// A consumer assigned to every given partition of `topic` from the start, without a group (librdkafka wants a
/// group id to assign partitions; nothing is committed under it).
pub fn consumer_from_start(bootstrap: &str, topic: &str, partitions: i32) -> Result<BaseConsumer> {
    let consumer: BaseConsumer =
        client_config(bootstrap).set("group.id", "tidemark-tests").set("enable.auto.commit", "false").create()?;
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    Ok(consumer)
}

/// Polls until `count` records arrived or `timeout` passed; returns what arrived.
pub fn consume(consumer: &BaseConsumer, count: usize, timeout: Duration) -> Result<Vec<OwnedMessage>> {
    let deadline = std::time::Instant::now() + timeout;
    let mut messages = Vec::with_capacity(count);
    while messages.len() < count && std::time::Instant::now() < deadline {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            messages.push(message?.detach());
        }
    }
    Ok(messages)
}

/// The Python interpreter of the test venv (`scripts/test` creates it with kafka-python and confluent-kafka).
pub fn python() -> PathBuf {
    std::env::var_os("TIDEMARK_PYTHON").map_or_else(|| repo_root().join("target/pyenv/bin/python"), PathBuf::from)
}

/// Runs the `tidemark` CLI with `args` and returns its standard output; fails when it exits non-zero.
pub fn run_cli(args: &[&str]) -> Result<String> {
    run_cli_with_input(args, "")
}

/// [`run_cli`] with `input` on its standard input (a password for `tidemark user add`, records to produce).
pub fn run_cli_with_input(args: &[&str], input: &str) -> Result<String> {
    let output =
        run_with_input(Command::new(tidemark_binary()?).args(args), input).context("running the tidemark CLI")?;
    if !output.status.success() {
        bail!("tidemark {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `command` with `input` on its standard input and its output captured; answers how it ended.
pub fn run_with_input(command: &mut Command, input: &str) -> Result<Output> {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let input = input.to_owned();
    // Written on a thread, so that a command answering while it reads cannot block on a full pipe. A command that
    // does not read its input may exit first: a broken pipe here is its exit status's business.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output()?;
    let _ = writer.join();
    Ok(output)
}

/// Where a `tidemark up` listens, to start it again on the same addresses.
pub struct UpAddresses {
    /// The Kafka listener.
    pub kafka: String,
    /// The registry, `host:port`.
    pub registry: String,
    /// The connect worker, `host:port`.
    pub connect: String,
}

impl UpAddresses {
    /// The addresses a started `tidemark up` bound.
    pub fn of(tidemark: &TidemarkProcess) -> Result<Self> {
        let strip = |url: &Option<String>| url.as_deref().map(|u| u.trim_start_matches("http://").to_owned());
        Ok(UpAddresses {
            kafka: tidemark.bootstrap.clone(),
            registry: strip(&tidemark.registry_url).context("no registry")?,
            connect: strip(&tidemark.connect_url).context("no connect worker")?,
        })
    }

    /// The connect worker's URL.
    pub fn connect_url(&self) -> String {
        format!("http://{}", self.connect)
    }

    /// `tidemark up` again on `dir`, on the same addresses (after a kill, say).
    pub fn restart(&self, dir: &Path) -> Result<TidemarkProcess> {
        TidemarkProcess::start_up(dir, &self.kafka, &self.registry, &["--connect-listen", &self.connect])
    }
}
