//! A real MariaDB server per test: a fresh data directory in a temporary directory on a free port, with the binary
//! log on in the form the MySQL source needs (`binlog_format=ROW`, `binlog_row_image=FULL`,
//! `binlog_row_metadata=FULL`, `server_id=1`).
//!
//! `mariadb-install-db` and `mariadbd` come from Debian's `mariadb-server` (`scripts/test` installs it when
//! `mariadbd` is missing) and run with `--user=root`. The harness creates the user `tidemark` with the grants
//! Debezium asks for; `root` stays reachable through the Unix socket (`unix_socket` authentication).
//! [`MariaDbServer::start_tls`] starts one serving TLS, and optionally refusing TCP connections without it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use tempfile::TempDir;

use crate::process::{free_port, run};
use crate::tls::Certificates;

/// The replication user the harness creates.
const USER: &str = "tidemark";
/// Its password.
const PASSWORD: &str = "tidemark";
/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How many times to pick another port when the chosen one was taken in the meantime.
const START_ATTEMPTS: usize = 5;

/// A running MariaDB server in its own temporary directory. Killed and removed when dropped.
pub struct MariaDbServer {
    /// The address it listens on: always `127.0.0.1`.
    pub host: String,
    /// The TCP port it listens on.
    pub port: u16,
    /// The replication user (`tidemark`): REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD, LOCK TABLES.
    pub user: String,
    /// Its password.
    pub password: String,
    /// The Unix socket on which `root` logs in without a password.
    pub socket: PathBuf,
    child: Option<Child>,
    data_dir: PathBuf,
    /// The TLS flags of `mariadbd`, empty for none.
    tls_args: Vec<String>,
    // Last, so the directory goes after the server stopped.
    dir: TempDir,
}

impl MariaDbServer {
    /// Creates a data directory, starts `mariadbd` on a free port with the binary log on, waits until it accepts
    /// connections and creates the `tidemark` user.
    pub fn start() -> Result<Self> {
        Self::start_with(Vec::new())
    }

    /// Like [`MariaDbServer::start`] with TLS on, serving `certificates`' server certificate and trusting their CA
    /// for client certificates (`--ssl-cert`, `--ssl-key`, `--ssl-ca`); with `require_secure_transport`, TCP
    /// connections without TLS are refused (the Unix socket counts as secure).
    pub fn start_tls(certificates: &Certificates, require_secure_transport: bool) -> Result<Self> {
        let path = |flag: &str, file: &Path| format!("--{flag}={}", file.display());
        let mut args = vec![
            path("ssl-cert", &certificates.server_cert),
            path("ssl-key", &certificates.server_key),
            path("ssl-ca", &certificates.ca),
        ];
        if require_secure_transport {
            args.push("--require-secure-transport=ON".to_owned());
        }
        Self::start_with(args)
    }

    fn start_with(tls_args: Vec<String>) -> Result<Self> {
        let mariadbd = binary("mariadbd")?;
        let dir = tempfile::Builder::new().prefix("tidemark-mariadb-").tempdir_in("/tmp").context("temp dir")?;
        let data_dir = dir.path().join("data");
        // Its own temporary directory: servers bootstrapping side by side in /tmp have clashed over temporary tables.
        let tmp_dir = dir.path().join("tmp");
        std::fs::create_dir(&tmp_dir)?;
        run(Command::new(binary("mariadb-install-db")?)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data_dir.display()))
            .arg(format!("--tmpdir={}", tmp_dir.display()))
            .args(["--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"]))
        .context("mariadb-install-db")?;
        let mut server = MariaDbServer {
            host: "127.0.0.1".to_owned(),
            port: 0,
            user: USER.to_owned(),
            password: PASSWORD.to_owned(),
            socket: dir.path().join("mariadb.sock"),
            child: None,
            data_dir,
            tls_args,
            dir,
        };
        server.start_on_free_port(&mariadbd)?;
        server.root_sql(&format!(
            "CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';\
             GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD, LOCK TABLES ON *.* TO '{USER}'@'%';"
        ))?;
        Ok(server)
    }

    /// A URL for `mysql_async::Opts::from_url`, as the `tidemark` user.
    pub fn url(&self) -> String {
        format!("mysql://{}:{}@{}:{}/", self.user, self.password, self.host, self.port)
    }

    /// Runs SQL statements as `root` through the Unix socket (the `mariadb` client); returns its tab-separated
    /// output without column names.
    pub fn root_sql(&self, sql: &str) -> Result<String> {
        let output = run(Command::new(binary("mariadb")?)
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.socket.display()))
            .args(["--user=root", "--batch", "--skip-column-names", "-e", sql]))
        .with_context(|| format!("running as root: {sql}"))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The server's error log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("mariadb.err")
    }

    /// Kills the server (SIGKILL, as a crash) and starts it again on the same port and data directory.
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        let mariadbd = binary("mariadbd")?;
        self.spawn(&mariadbd)?;
        self.wait_ready().with_context(|| format!("mariadbd did not restart; its log:\n{}", self.log()))
    }

    /// Starts the server on a port that was free a moment ago; tries another when it was taken in between.
    fn start_on_free_port(&mut self, mariadbd: &Path) -> Result<()> {
        let mut last_error = anyhow!("not started");
        for _ in 0..START_ATTEMPTS {
            self.port = free_port()?;
            self.spawn(mariadbd)?;
            match self.wait_ready() {
                Ok(()) => return Ok(()),
                Err(error) => {
                    self.kill();
                    last_error = error.context(format!("mariadbd did not start; its log:\n{}", self.log()));
                }
            }
        }
        Err(last_error)
    }

    /// Starts `mariadbd` on `self.port` (without waiting for it).
    fn spawn(&mut self, mariadbd: &Path) -> Result<()> {
        let data_dir = self.data_dir.display();
        let child = Command::new(mariadbd)
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={data_dir}"))
            .arg(format!("--tmpdir={}", self.dir.path().join("tmp").display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", self.socket.display()))
            .arg(format!("--log-error={}", self.log_file().display()))
            .arg(format!("--pid-file={}", self.dir.path().join("mariadb.pid").display()))
            .arg(format!("--log-bin={data_dir}/binlog"))
            .args(["--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=FULL"])
            .args(["--server-id=1", "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=2"])
            .args(&self.tls_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting mariadbd")?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until `root` can run a query through the socket, or the server exited, or the timeout passed.
    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.root_sql("SELECT 1").is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!("mariadbd exited with {status}");
                }
            }
            if Instant::now() > deadline {
                bail!("mariadbd did not accept connections within {START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `mariadb` client session as `root`, fed statements on its standard input, which it runs as they come; it
/// stops at the first failing statement. Killed when dropped.
pub struct RootSession {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
}

impl RootSession {
    /// Starts the client on `server`'s socket.
    pub fn open(server: &MariaDbServer) -> Result<Self> {
        let mut child = Command::new(binary("mariadb")?)
            .arg("--no-defaults")
            .arg(format!("--socket={}", server.socket.display()))
            .args(["--user=root", "--batch", "--skip-column-names"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting the mariadb client")?;
        let stdin = child.stdin.take();
        Ok(RootSession { child: Some(child), stdin })
    }

    /// Hands `sql` (a line of statements) to the session; when the client is gone (it stops at the first failing
    /// statement), fails with what it said.
    pub fn send(&mut self, sql: &str) -> Result<()> {
        let stdin = self.stdin.as_mut().context("the session is closed")?;
        if let Err(error) =
            stdin.write_all(sql.as_bytes()).and_then(|()| stdin.write_all(b"\n")).and_then(|()| stdin.flush())
        {
            let said = self.child.take().and_then(|child| child.wait_with_output().ok());
            let said = said.map(|output| String::from_utf8_lossy(&output.stderr).into_owned()).unwrap_or_default();
            return Err(anyhow!("the mariadb client is gone ({error}): {said}"));
        }
        Ok(())
    }

    /// Ends the input and waits until every statement ran; fails with the client's errors.
    pub fn close(mut self) -> Result<()> {
        drop(self.stdin.take());
        let output = self.child.take().context("the session is closed")?.wait_with_output()?;
        ensure!(output.status.success(), "the mariadb client failed: {}", String::from_utf8_lossy(&output.stderr));
        Ok(())
    }
}

impl Drop for RootSession {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A MariaDB program from `PATH`, `/usr/sbin` or `/usr/bin`.
fn binary(name: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.exists())
        .ok_or_else(|| anyhow!("{name} is missing: install mariadb-server (scripts/test does)"))
}
