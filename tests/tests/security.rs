//! Security end to end, against the real binary and real clients:
//!
//! - the test certificates (`tidemark_tests::tls`) verify as a server and a client certificate of their CA;
//! - SCRAM-SHA-256 and SCRAM-SHA-512 over TLS (SASL_SSL) and PLAIN over SASL_PLAINTEXT with librdkafka
//!   (confluent-kafka), kafka-python and kcat: records produced and consumed back, and each listener's clients told
//!   the endpoints of that listener;
//! - refusals, seen by the client and logged by the broker: a wrong password, an unknown user, a plaintext client on
//!   a TLS port, a client without SASL on a SASL port, a mechanism not enabled;
//! - users: `tidemark user add|list|delete` and confluent-kafka's Describe/AlterUserScramCredentials, surviving a
//!   restart (where the initial user is not created again);
//! - mutual TLS: a client certificate signed by `--tls-client-ca` is required;
//! - no password in clear in the broker's log, its data directory or `tidemark user list`;
//! - the CLI's librdkafka commands over SASL_SSL with `--command-config`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use tidemark_tests::cluster::poll_until;
use tidemark_tests::secure_clients::{log_has, strings, Script};
use tidemark_tests::tls::Certificates;
use tidemark_tests::{run_cli, run_cli_with_input, TidemarkProcess};

/// The initial user, created by `--initial-user` with its password from the environment.
const ADMIN: &str = "admin";
const ADMIN_PASSWORD: &str = "adm1n-Pw-7f3k9";
/// The environment variable `--initial-user` takes its password from.
const PASSWORD_VAR: &str = "TIDEMARK_INITIAL_USER_PASSWORD";
/// Every listener there is.
const ALL_LISTENERS: &str = "PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";
/// How long a test waits for the broker to log what it should have logged already.
const PATIENCE: Duration = Duration::from_secs(20);

/// A mechanism, a user and their password.
#[derive(Debug, Clone, Copy)]
struct Sasl<'a>(&'a str, &'a str, &'a str);

/// A broker with TLS listeners and the initial user [`ADMIN`], in a directory of its own with its certificates.
struct Secured {
    dir: tempfile::TempDir,
    certs: Certificates,
    /// Flags it was started with, for restarts.
    flags: Vec<String>,
    broker: TidemarkProcess,
}

impl Secured {
    /// `tidemark broker` on `listen` serving the test certificates, with `extra` flags and the initial user.
    fn start(listen: &str, extra: &[&str]) -> Result<Self> {
        Self::start_with_env(listen, extra, &[])
    }

    /// [`Secured::start`] with more environment variables (`RUST_LOG`, say).
    fn start_with_env(listen: &str, extra: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let certs = Certificates::generate(dir.path(), "test", "tidemark-test-client")?;
        let mut flags = certs.server_flags();
        flags.extend(["--initial-user", ADMIN, "--group-initial-rebalance-delay-ms", "0"].map(String::from));
        flags.extend(extra.iter().map(|f| (*f).to_owned()));
        let env = [&[(PASSWORD_VAR, ADMIN_PASSWORD)], env].concat();
        let broker = Self::launch(&dir.path().join("data"), listen, &flags, &env)?;
        Ok(Secured { dir, certs, flags, broker })
    }

    fn launch(data: &Path, listen: &str, flags: &[String], env: &[(&str, &str)]) -> Result<TidemarkProcess> {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        TidemarkProcess::start_with_env(data, listen, &flags, env)
    }

    /// Kills the broker and starts it again on the same data directory and ports, with `env`.
    fn restart(&mut self, env: &[(&str, &str)]) -> Result<()> {
        self.broker.kill9()?;
        let listen = self.broker.listen_spec();
        self.broker = Self::launch(&self.data_dir(), &listen, &self.flags, env)?;
        Ok(())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `secure_clients.py`'s flags for a client speaking `protocol` to the broker's `listener` listener, logging in
    /// with `sasl`; TLS clients trust the test CA.
    fn client(&self, listener: &str, protocol: &str, sasl: Option<Sasl>) -> Result<Vec<String>> {
        let mut flags = strings(&["--bootstrap", self.broker.listener(listener)?, "--protocol", protocol]);
        if protocol.ends_with("SSL") {
            flags.extend(strings(&["--ca", &self.certs.ca.to_string_lossy()]));
        }
        if let Some(Sasl(mechanism, user, password)) = sasl {
            flags.extend(strings(&["--mechanism", mechanism, "--user", user, "--password", password]));
        }
        Ok(flags)
    }

    /// [`Secured::client`] on the listener of its own protocol.
    fn login(&self, protocol: &str, sasl: Sasl) -> Result<Vec<String>> {
        self.client(protocol, protocol, Some(sasl))
    }

    /// A `--command-config` file for `user` over SASL_SSL with SCRAM-SHA-512.
    fn command_config(&self, user: &str, password: &str) -> Result<PathBuf> {
        let path = self.dir.path().join(format!("{user}.properties"));
        let text = format!(
            "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.username={user}\nsasl.password={password}\n\
             ssl.ca.location={}\n",
            self.certs.ca.display()
        );
        std::fs::write(&path, text)?;
        Ok(path)
    }

    /// Runs `tidemark ARGS` against the SASL_SSL listener as [`ADMIN`], with `input` on its standard input.
    fn cli(&self, args: &[&str], input: &str) -> Result<String> {
        let config = self.command_config(ADMIN, ADMIN_PASSWORD)?;
        let config = config.to_string_lossy();
        let connection = ["--bootstrap-servers", self.broker.listener("SASL_SSL")?, "--command-config", &config];
        run_cli_with_input(&[args, &connection[..]].concat(), input)
    }

    /// Waits for a WARN line containing every one of `parts` (`user=` fields match quoted or not).
    fn warned(&self, parts: &[&str]) -> Result<String> {
        let wanted = |line: &str| line.contains("WARN") && parts.iter().all(|part| log_has(line, part));
        self.broker.wait_for_log(&format!("WARN {parts:?}"), PATIENCE, wanted)
    }
}

/// Produces `count` records to `topic` and consumes them back in a group, with `client` (`confluent` or
/// `kafka-python`) and `flags`.
fn round_trip(client: &str, topic: &str, count: usize, flags: &[String]) -> Result<()> {
    let count = count.to_string();
    let command = ["roundtrip", "--client", client, "--topic", topic, "--count", &count];
    let script = Script::run(&command, flags)?;
    ensure!(script.values("consumed") == [count.as_str()], "{client} on {topic}:\n{script}");
    Ok(())
}

/// Connects with confluent-kafka and fetches the metadata; answers the brokers it was told of.
fn connects(flags: &[String]) -> Result<Vec<String>> {
    let script = Script::run(&["connect"], flags)?;
    ensure!(script.values("outcome") == ["connected"], "expected to connect:\n{script}");
    Ok(script.values("brokers").iter().flat_map(|b| b.split(',')).map(str::to_owned).collect())
}

/// Connects with confluent-kafka, which must be refused; answers the errors it reported.
fn refused(flags: &[String]) -> Result<Vec<String>> {
    let script = Script::run(&["connect"], flags)?;
    ensure!(script.values("outcome") == ["refused"], "expected a refusal:\n{script}");
    Ok(script.values("error").into_iter().map(str::to_owned).collect())
}

/// `errors` has one containing `text`.
fn ensure_error(errors: &[String], text: &str) -> Result<()> {
    ensure!(errors.iter().any(|e| e.contains(text)), "no client error with {text:?}: {errors:#?}");
    Ok(())
}

#[test]
fn test_certificates_verify_against_their_ca() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let certs = Certificates::generate(dir.path(), "one", "alice")?;
    let stranger = Certificates::generate(dir.path(), "two", "mallory")?;
    let verify = |ca: &Path, purpose: &str, cert: &Path, host: &[&str]| -> Result<bool> {
        let output = Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(ca)
            .args(["-purpose", purpose])
            .args(host)
            .arg(cert)
            .output()
            .context("running openssl")?;
        Ok(output.status.success())
    };
    assert!(verify(&certs.ca, "sslserver", &certs.server_cert, &["-verify_hostname", "localhost"])?);
    assert!(verify(&certs.ca, "sslserver", &certs.server_cert, &["-verify_ip", "127.0.0.1"])?);
    assert!(!verify(&certs.ca, "sslserver", &certs.server_cert, &["-verify_hostname", "example.com"])?);
    assert!(verify(&certs.ca, "sslclient", &certs.client_cert, &[])?);
    assert!(!verify(&certs.ca, "sslclient", &stranger.client_cert, &[])?, "another CA's certificate");
    for key in [&certs.server_key, &certs.client_key] {
        assert!(std::fs::read_to_string(key)?.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
    }
    Ok(())
}

#[test]
fn librdkafka_authenticates_with_scram_over_tls_and_plain() -> Result<()> {
    let secured = Secured::start(ALL_LISTENERS, &[])?;
    let broker = &secured.broker;
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let flags = secured.login("SASL_SSL", Sasl(mechanism, ADMIN, ADMIN_PASSWORD))?;
        assert_eq!(connects(&flags)?, [broker.listener("SASL_SSL")?], "{mechanism}: told of the SASL_SSL endpoint");
        round_trip("confluent", &format!("librdkafka-{mechanism}"), 200, &flags)?;
    }
    let plain = secured.login("SASL_PLAINTEXT", Sasl("PLAIN", ADMIN, ADMIN_PASSWORD))?;
    assert_eq!(connects(&plain)?, [broker.listener("SASL_PLAINTEXT")?], "told of the SASL_PLAINTEXT endpoint");
    round_trip("confluent", "librdkafka-plain", 200, &plain)?;
    let open = secured.client("PLAINTEXT", "PLAINTEXT", None)?;
    assert_eq!(connects(&open)?, [broker.listener("PLAINTEXT")?], "the PLAINTEXT listener stays open");
    Ok(())
}

#[test]
fn kafka_python_authenticates_with_scram_over_tls_and_plain() -> Result<()> {
    let secured = Secured::start(ALL_LISTENERS, &[])?;
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let flags = secured.login("SASL_SSL", Sasl(mechanism, ADMIN, ADMIN_PASSWORD))?;
        round_trip("kafka-python", &format!("kafka-python-{mechanism}"), 200, &flags)?;
    }
    let plain = secured.login("SASL_PLAINTEXT", Sasl("PLAIN", ADMIN, ADMIN_PASSWORD))?;
    round_trip("kafka-python", "kafka-python-plain", 200, &plain)
}

#[test]
fn kcat_lists_produces_and_consumes_over_sasl_ssl() -> Result<()> {
    let secured = Secured::start(ALL_LISTENERS, &[])?;
    let address = secured.broker.listener("SASL_SSL")?;
    let ca = format!("ssl.ca.location={}", secured.certs.ca.display());
    let password = format!("sasl.password={ADMIN_PASSWORD}");
    let user = format!("sasl.username={ADMIN}");
    let security =
        ["security.protocol=SASL_SSL", "sasl.mechanisms=SCRAM-SHA-512", &user, &password, &ca].map(|x| ["-X", x]);
    let kcat = |args: &[&str], input: &str| -> Result<String> {
        let mut command = Command::new("kcat");
        command.args(["-b", address]).args(security.concat()).args(args);
        let output = tidemark_tests::run_with_input(&mut command, input)
            .context("kcat must be installed (scripts/test installs it)")?;
        ensure!(output.status.success(), "kcat {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    kcat(&["-t", "kcat-secure", "-P", "-K", ":"], "k1:one\nk2:two\n")?;
    let consumed = kcat(&["-t", "kcat-secure", "-C", "-o", "beginning", "-e", "-f", "%k=%s@%o\n"], "")?;
    assert_eq!(consumed, "k1=one@0\nk2=two@1\n");
    let listing = kcat(&["-L", "-t", "kcat-secure"], "")?;
    assert!(listing.contains(&format!("broker 1 at {address}")), "the SASL_SSL endpoint:\n{listing}");
    assert!(listing.contains("partition 0, leader 1"), "{listing}");
    Ok(())
}

#[test]
fn refusals_reach_the_client_and_the_broker_log() -> Result<()> {
    let secured = Secured::start(ALL_LISTENERS, &[])?;
    let invalid = "Authentication failed during authentication due to invalid credentials with SASL mechanism \
                   SCRAM-SHA-256";

    let errors = refused(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-256", ADMIN, "not-the-password"))?)?;
    ensure_error(&errors, invalid)?;
    secured.warned(&["authentication failed", &format!("user={ADMIN}"), "mechanism=SCRAM-SHA-256"])?;

    let errors = refused(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-256", "mallory", "whatever-1"))?)?;
    ensure_error(&errors, invalid)?;
    secured.warned(&["authentication failed", "user=mallory", "mechanism="])?;

    // A client without TLS on the TLS port: the broker sees no TLS handshake.
    refused(&secured.client("SASL_SSL", "SASL_PLAINTEXT", Some(Sasl("PLAIN", ADMIN, ADMIN_PASSWORD)))?)?;
    secured.warned(&["TLS handshake failed; connection refused"])?;

    // Clients without SASL on SASL listeners get no further than ApiVersions.
    refused(&secured.client("SASL_PLAINTEXT", "PLAINTEXT", None)?)?;
    secured.warned(&["request before SASL authentication", "listener=SASL_PLAINTEXT"])?;
    refused(&secured.client("SASL_SSL", "SSL", None)?)?;
    secured.warned(&["request before SASL authentication", "listener=SASL_SSL"])?;

    // None of this bothered the others.
    connects(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-256", ADMIN, ADMIN_PASSWORD))?)?;
    Ok(())
}

#[test]
fn a_mechanism_not_enabled_is_refused() -> Result<()> {
    let secured = Secured::start(ALL_LISTENERS, &["--sasl-enabled-mechanisms", "SCRAM-SHA-512"])?;
    let errors = refused(&secured.login("SASL_PLAINTEXT", Sasl("PLAIN", ADMIN, ADMIN_PASSWORD))?)?;
    ensure_error(&errors, "Unsupported SASL mechanism")?;
    secured.warned(&["authentication refused: SASL mechanism not enabled", "mechanism=PLAIN"])?;
    let errors = refused(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-256", ADMIN, ADMIN_PASSWORD))?)?;
    ensure_error(&errors, "Unsupported SASL mechanism")?;
    secured.warned(&["authentication refused: SASL mechanism not enabled", "mechanism=SCRAM-SHA-256"])?;
    connects(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-512", ADMIN, ADMIN_PASSWORD))?)?;
    Ok(())
}

/// `user NAME MECHANISM:ITERATIONS,...` lines of `secure_clients.py describe-users`, as a map.
fn described_users(secured: &Secured) -> Result<BTreeMap<String, String>> {
    let flags = secured.login("SASL_SSL", Sasl("SCRAM-SHA-512", ADMIN, ADMIN_PASSWORD))?;
    let script = Script::run(&["describe-users"], &flags)?;
    let users = script.stdout().lines().filter_map(|l| l.strip_prefix("user ")?.split_once(' '));
    Ok(users.map(|(user, credentials)| (user.to_owned(), credentials.to_owned())).collect())
}

#[test]
fn users_are_managed_with_the_cli_and_the_admin_api_and_survive_a_restart() -> Result<()> {
    let mut secured = Secured::start("PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0", &[])?;
    let (bob, carol) = (Sasl("SCRAM-SHA-256", "bob", "b0b-Pw-x1"), Sasl("SCRAM-SHA-512", "carol", "car0l-Pw-x2"));

    let added = secured.cli(&["user", "add", "bob"], "b0b-Pw-x1\n")?;
    assert_eq!(added, "user bob: SCRAM-SHA-256, SCRAM-SHA-512 credentials set\n");
    let listed = secured.cli(&["user", "list"], "")?;
    let both = "SCRAM-SHA-256 (iterations 8192), SCRAM-SHA-512 (iterations 8192)";
    assert!(listed.lines().any(|l| l == format!("bob\t{both}")), "{listed}");
    assert!(listed.lines().any(|l| l.starts_with("admin\t")), "{listed}");
    round_trip("confluent", "bobs", 50, &secured.login("SASL_SSL", bob)?)?;
    connects(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-512", "bob", "b0b-Pw-x1"))?)?;

    let users = described_users(&secured)?;
    assert_eq!(
        users.get("bob").map(String::as_str),
        Some("SCRAM-SHA-256:8192,SCRAM-SHA-512:8192"),
        "all users described: {users:?}"
    );
    assert!(users.contains_key(ADMIN), "{users:?}");

    let flags = secured.login("SASL_SSL", Sasl("SCRAM-SHA-512", ADMIN, ADMIN_PASSWORD))?;
    let upserted = Script::run(&["upsert-user", "carol", "car0l-Pw-x2"], &flags)?;
    assert_eq!(upserted.values("altered"), ["carol"], "{upserted}");
    round_trip("confluent", "carols", 50, &secured.login("SASL_SSL", carol)?)?;
    assert!(described_users(&secured)?.contains_key("carol"));

    let deleted = secured.cli(&["user", "delete", "bob"], "")?;
    assert_eq!(deleted, "user bob: credentials removed\n");
    let errors = refused(&secured.login("SASL_SSL", bob)?)?;
    ensure_error(&errors, "Authentication failed")?;
    secured.warned(&["authentication failed", "user=bob"])?;
    assert!(!secured.cli(&["user", "list"], "")?.contains("bob"));

    // A restart keeps the users; the initial user exists already, so another password in the environment changes
    // nothing.
    secured.restart(&[(PASSWORD_VAR, "another-initial-password")])?;
    connects(&secured.login("SASL_SSL", carol)?)?;
    connects(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-256", ADMIN, ADMIN_PASSWORD))?)?;
    refused(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-256", ADMIN, "another-initial-password"))?)?;
    refused(&secured.login("SASL_SSL", bob)?)?;
    let listed = secured.cli(&["user", "list"], "")?;
    assert!(listed.lines().any(|l| l == format!("carol\t{both}")), "{listed}");
    Ok(())
}

#[test]
fn mutual_tls_requires_a_client_certificate_signed_by_the_ca() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let certs = Certificates::generate(dir.path(), "mtls", "trusted-client")?;
    let stranger = Certificates::generate(dir.path(), "stranger", "untrusted-client")?;
    let mut flags = certs.server_flags();
    flags.extend(strings(&["--tls-client-ca", &certs.ca.to_string_lossy()]));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let listen = "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0";
    let broker = TidemarkProcess::start_with_env(&dir.path().join("data"), listen, &flags, &[])?;
    let address = broker.listener("SSL")?;
    let client = |identity: Option<&Certificates>| -> Vec<String> {
        let mut flags = strings(&["--bootstrap", address, "--protocol", "SSL", "--ca", &certs.ca.to_string_lossy()]);
        if let Some(identity) = identity {
            let (cert, key) = (identity.client_cert.to_string_lossy(), identity.client_key.to_string_lossy());
            flags.extend(strings(&["--cert", &cert, "--key", &key]));
        }
        flags
    };

    assert_eq!(connects(&client(Some(&certs)))?, [address], "told of the SSL endpoint");
    round_trip("confluent", "mtls", 100, &client(Some(&certs)))?;
    round_trip("kafka-python", "mtls-kafka-python", 100, &client(Some(&certs)))?;

    let failures = || broker.log().iter().filter(|l| l.contains("WARN") && l.contains("TLS handshake failed")).count();
    refused(&client(None))?;
    poll_until("a failed TLS handshake logged (no client certificate)", || Ok(failures()), |&n| n > 0)?;
    let before = failures();
    refused(&client(Some(&stranger)))?;
    poll_until("a failed TLS handshake logged (another CA's certificate)", || Ok(failures()), |&n| n > before)?;
    Ok(())
}

#[test]
fn no_password_appears_in_the_log_the_data_or_the_user_list() -> Result<()> {
    // Debug logging, so that not even a debug line may carry a password.
    let secured = Secured::start_with_env(ALL_LISTENERS, &[], &[("RUST_LOG", "debug")])?;
    let wrong = "wr0ng-Pw-zz9";
    let bob_password = "b0b-Secret-q4";

    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        round_trip("confluent", "secrets", 10, &secured.login("SASL_SSL", Sasl(mechanism, ADMIN, ADMIN_PASSWORD))?)?;
    }
    round_trip(
        "confluent",
        "secrets-plain",
        10,
        &secured.login("SASL_PLAINTEXT", Sasl("PLAIN", ADMIN, ADMIN_PASSWORD))?,
    )?;
    refused(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-512", ADMIN, wrong))?)?;
    refused(&secured.login("SASL_PLAINTEXT", Sasl("PLAIN", ADMIN, wrong))?)?;
    secured.cli(&["user", "add", "bob"], &format!("{bob_password}\n"))?;
    connects(&secured.login("SASL_SSL", Sasl("SCRAM-SHA-256", "bob", bob_password))?)?;
    connects(&secured.login("SASL_PLAINTEXT", Sasl("PLAIN", "bob", bob_password))?)?;
    let listed = secured.cli(&["user", "list"], "")?;
    secured.warned(&["authentication failed", "mechanism=PLAIN"])?;

    let passwords = [ADMIN_PASSWORD, wrong, bob_password];
    let log = secured.broker.log().join("\n");
    ensure!(log.contains("authentication failed"), "the log is captured");
    for password in passwords {
        ensure!(!log.contains(password), "the broker logged the password {password:?}");
        ensure!(!listed.contains(password), "`tidemark user list` shows {password:?}:\n{listed}");
    }
    let users = secured.data_dir().join("meta/users.json");
    let users_text = std::fs::read_to_string(&users).with_context(|| format!("reading {}", users.display()))?;
    ensure!(users_text.contains("bob") && users_text.contains(ADMIN), "{users_text}");
    for file in files_under(&secured.data_dir())? {
        let bytes = std::fs::read(&file)?;
        for password in passwords {
            let found = bytes.windows(password.len()).any(|w| w == password.as_bytes());
            ensure!(!found, "{} holds the password {password:?}", file.display());
        }
    }
    Ok(())
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(files_under(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

#[test]
fn the_cli_works_over_sasl_ssl_with_command_config() -> Result<()> {
    let secured = Secured::start("PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0", &[])?;
    secured.cli(&["topic", "create", "cli-secure", "--partitions", "2"], "")?;
    assert_eq!(secured.cli(&["topic", "list"], "")?, "cli-secure\n");
    let described = secured.cli(&["topic", "describe", "cli-secure"], "")?;
    assert!(described.contains("2 partitions"), "{described}");
    secured.cli(&["produce", "cli-secure", "--key", "k"], "one\ntwo\nthree\n")?;
    let consumed = secured.cli(&["consume", "cli-secure", "--from-beginning", "--max", "3"], "")?;
    assert_eq!(consumed, "one\ntwo\nthree\n");

    // Without the properties the SASL_SSL listener does not answer the CLI.
    let address = secured.broker.listener("SASL_SSL")?;
    let plain = run_cli(&["topic", "list", "--bootstrap-servers", address]);
    assert!(plain.is_err(), "a plaintext CLI is refused: {plain:?}");
    Ok(())
}
