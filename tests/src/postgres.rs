//! A real PostgreSQL server per test: a fresh cluster in a temporary directory on a free port, configured for
//! logical replication (`wal_level=logical`), with SCRAM-SHA-256 password authentication over TCP; or, started with
//! [`PostgresServer::start_tls`], accepting TCP logins over TLS only.
//!
//! The server binaries are taken from the highest version under `/usr/lib/postgresql/*/bin` (Debian's layout;
//! `scripts/test` installs the `postgresql` package when none is there). `initdb` and `pg_ctl` refuse to run as
//! root, so when the tests run as root the directory is handed to the `postgres` user and both run through
//! `runuser -u postgres --`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context, Result};
use tempfile::TempDir;

use crate::process::{free_port, run};
use crate::tls::Certificates;

/// The superuser's name.
const SUPERUSER: &str = "postgres";
/// The superuser's password.
const PASSWORD: &str = "tidemark";
/// How many times to pick another port when the chosen one was taken in the meantime.
const START_ATTEMPTS: usize = 5;

/// A role that, when a test creates it (with `SET password_encryption = 'md5'` first), authenticates with MD5 over
/// TCP: `pg_hba.conf` names it before the SCRAM lines.
pub const MD5_USER: &str = "tidemark_md5";
/// A role that, when a test creates it, authenticates with a cleartext password (`password` in `pg_hba.conf`).
pub const CLEARTEXT_USER: &str = "tidemark_cleartext";
/// A role that, when a test creates it on a server started with [`PostgresServer::start_tls`], must also show a
/// client certificate signed by the server's CA (`clientcert=verify-ca`).
pub const CLIENT_CERT_USER: &str = "tidemark_cert";

/// A running PostgreSQL server in its own temporary directory. Stopped (`pg_ctl stop -m immediate`) and removed when
/// dropped.
pub struct PostgresServer {
    /// The address it listens on: always `127.0.0.1`.
    pub host: String,
    /// The TCP port it listens on.
    pub port: u16,
    /// The superuser (`postgres`), allowed to replicate.
    pub user: String,
    /// The superuser's password.
    pub password: String,
    /// The database to connect to (`postgres`).
    pub dbname: String,
    bin: PathBuf,
    data_dir: PathBuf,
    as_postgres_user: bool,
    /// Whether TCP logins need TLS: then the harness's own sessions go through the Unix socket.
    tls: bool,
    // Last, so the directory goes after the server stopped.
    dir: TempDir,
}

impl PostgresServer {
    /// Creates a cluster (`initdb` with SCRAM-SHA-256 and a password for `postgres`), configures it for logical
    /// replication and starts it on a free port; returns once it accepts connections.
    pub fn start() -> Result<Self> {
        Self::start_with(None)
    }

    /// Like [`PostgresServer::start`] with TLS on (`ssl=on`), serving `certificates`' server certificate and
    /// trusting their CA for client certificates; `pg_hba.conf` has `hostssl` lines only and rejects every TCP
    /// login without TLS (`hostnossl ... reject`), so a plain connection is refused with the server's message.
    /// [`connection_string`](Self::connection_string) and [`session`](Self::session) then use the Unix socket.
    pub fn start_tls(certificates: &Certificates) -> Result<Self> {
        Self::start_with(Some(certificates))
    }

    fn start_with(certificates: Option<&Certificates>) -> Result<Self> {
        let bin = binaries()?;
        // /proc/self belongs to the process's effective user.
        let as_postgres_user = fs::metadata("/proc/self")?.uid() == 0;
        let mut builder = tempfile::Builder::new();
        builder.prefix("tidemark-pg-");
        // The postgres user must be able to reach the directory: $TMPDIR might be under /root.
        let dir = if as_postgres_user { builder.tempdir_in("/tmp") } else { builder.tempdir() }
            .context("creating a temporary directory")?;
        if as_postgres_user {
            run(Command::new("chown").arg(format!("{SUPERUSER}:")).arg(dir.path()))?;
        }
        let password_file = dir.path().join("password");
        fs::write(&password_file, PASSWORD)?;
        let data_dir = dir.path().join("data");
        let mut server = PostgresServer {
            host: "127.0.0.1".to_owned(),
            port: 0,
            user: SUPERUSER.to_owned(),
            password: PASSWORD.to_owned(),
            dbname: "postgres".to_owned(),
            bin,
            data_dir,
            as_postgres_user,
            tls: certificates.is_some(),
            dir,
        };
        server.initdb(&password_file)?;
        fs::remove_file(&password_file)?;
        server.configure()?;
        if let Some(certificates) = certificates {
            server.configure_tls(certificates)?;
        }
        server.start_on_free_port()?;
        Ok(server)
    }

    /// A connection string for `tokio_postgres::connect` (key=value form) without TLS: over TCP, or through the
    /// Unix socket when the server was started with [`PostgresServer::start_tls`].
    pub fn connection_string(&self) -> String {
        self.connection_string_for(&self.dbname)
    }

    fn connection_string_for(&self, dbname: &str) -> String {
        let socket_dir = self.dir.path().display().to_string();
        let host = if self.tls { socket_dir.as_str() } else { self.host.as_str() };
        format!("host={host} port={} user={} password={} dbname={dbname}", self.port, self.user, self.password)
    }

    /// A blocking SQL session on database `dbname` of this server (without TLS, as
    /// [`connection_string`](Self::connection_string)).
    pub fn session(&self, dbname: &str) -> Result<PgSession> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let config = self.connection_string_for(dbname);
        let (client, connection) = runtime.block_on(tokio_postgres::connect(&config, tokio_postgres::NoTls))?;
        runtime.spawn(connection);
        Ok(PgSession { runtime, client })
    }

    /// The server's log so far (it logs to a file next to the data directory).
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    fn initdb(&self, password_file: &Path) -> Result<()> {
        let mut initdb = self.command("initdb");
        initdb
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-U", SUPERUSER, "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"])
            .arg(format!("--pwfile={}", password_file.display()));
        run(&mut initdb).context("initdb")?;
        Ok(())
    }

    /// Appends the replication settings to `postgresql.conf` and replaces `pg_hba.conf`.
    fn configure(&self) -> Result<()> {
        let socket_dir = self.dir.path().display();
        let settings = format!(
            "\n# tidemark test harness\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{socket_dir}'\n\
             wal_level = logical\n\
             max_replication_slots = 20\n\
             max_wal_senders = 20\n\
             max_connections = 50\n\
             shared_buffers = 32MB\n\
             fsync = off\n\
             full_page_writes = off\n\
             password_encryption = 'scram-sha-256'\n"
        );
        let conf = self.data_dir.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).context("reading postgresql.conf")?;
        text.push_str(&settings);
        fs::write(&conf, text)?;
        let hba = format!(
            "local all all scram-sha-256\n\
             host all {MD5_USER} 127.0.0.1/32 md5\n\
             host all {CLEARTEXT_USER} 127.0.0.1/32 password\n\
             host replication all 127.0.0.1/32 scram-sha-256\n\
             host all all 127.0.0.1/32 scram-sha-256\n"
        );
        fs::write(self.data_dir.join("pg_hba.conf"), hba)?;
        Ok(())
    }

    /// Copies the certificates into the data directory (the key owned by the server's user, mode 0600, as the
    /// server demands), turns `ssl` on and replaces `pg_hba.conf` with TLS-only TCP lines.
    fn configure_tls(&self, certificates: &Certificates) -> Result<()> {
        let files = [
            (&certificates.server_cert, "server.crt"),
            (&certificates.server_key, "server.key"),
            (&certificates.ca, "root.crt"),
        ];
        for (from, to) in files {
            let to = self.data_dir.join(to);
            fs::copy(from, &to).with_context(|| format!("copying {}", from.display()))?;
            fs::set_permissions(&to, fs::Permissions::from_mode(0o600))?;
            if self.as_postgres_user {
                run(Command::new("chown").arg(format!("{SUPERUSER}:")).arg(&to))?;
            }
        }
        let conf = self.data_dir.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).context("reading postgresql.conf")?;
        text.push_str(
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'root.crt'\n",
        );
        fs::write(&conf, text)?;
        let hba = format!(
            "local all all scram-sha-256\n\
             hostssl all {CLIENT_CERT_USER} 127.0.0.1/32 scram-sha-256 clientcert=verify-ca\n\
             hostssl replication {CLIENT_CERT_USER} 127.0.0.1/32 scram-sha-256 clientcert=verify-ca\n\
             hostssl replication all 127.0.0.1/32 scram-sha-256\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostnossl replication all 127.0.0.1/32 reject\n\
             hostnossl all all 127.0.0.1/32 reject\n"
        );
        fs::write(self.data_dir.join("pg_hba.conf"), hba)?;
        Ok(())
    }

    /// Starts the server on a port that was free a moment ago; tries another when it was taken in between.
    fn start_on_free_port(&mut self) -> Result<()> {
        let mut last_error = anyhow!("not started");
        for _ in 0..START_ATTEMPTS {
            self.port = free_port()?;
            let mut pg_ctl = self.command("pg_ctl");
            pg_ctl
                .args(["start", "-w", "-t", "120", "-D"])
                .arg(&self.data_dir)
                .arg("-l")
                .arg(self.log_file())
                .args(["-o", &format!("-p {}", self.port)]);
            match run(&mut pg_ctl) {
                Ok(_) => return Ok(()),
                Err(error) => last_error = error.context(format!("pg_ctl start; server log:\n{}", self.log())),
            }
        }
        Err(last_error)
    }

    /// A command running the server binary `name`, as the `postgres` user when the tests run as root.
    fn command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", SUPERUSER, "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").args(["stop", "-m", "immediate", "-D"]).arg(&self.data_dir).output();
    }
}

/// The `bin` directory of the highest PostgreSQL version under `/usr/lib/postgresql`.
fn binaries() -> Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let entries = fs::read_dir(root).with_context(|| format!("{} is missing: install postgresql", root.display()))?;
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
        .ok_or_else(|| anyhow!("no /usr/lib/postgresql/*/bin/initdb: install postgresql"))
}

/// Blocking SQL against one database of a [`PostgresServer`], for synchronous test code: a tokio-postgres client on
/// a runtime of its own.
pub struct PgSession {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl PgSession {
    /// Runs `sql` (one or more statements, simple query protocol).
    pub fn execute(&self, sql: &str) -> Result<()> {
        self.runtime.block_on(self.client.batch_execute(sql)).with_context(|| format!("running {sql}"))
    }

    /// The rows of `sql`, each value as its text (None for NULL).
    pub fn rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        let messages =
            self.runtime.block_on(self.client.simple_query(sql)).with_context(|| format!("running {sql}"))?;
        Ok(messages
            .iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect())
    }
}
