//! ACL authorization end to end, against the real binary and real clients (`--authorizer on`):
//!
//! - a SASL user may do only what its ACLs allow: producing needs WRITE on the topic, consuming in a group READ on
//!   the group and on the topic; a DENY wins over an ALLOW; removing an ACL takes the right away again; every
//!   denial is logged at WARN with the principal, host, operation and resource;
//! - prefixed ACLs: CREATE on a prefix lets a user create topics under it and no other, and DESCRIBE on the prefix
//!   shows it those topics alone in the metadata;
//! - PLAINTEXT clients are `User:ANONYMOUS` and get nothing without ACLs; the ACL APIs need ALTER (DESCRIBE to
//!   list) on the cluster; confluent-kafka's AdminClient creates, describes and deletes ACLs;
//! - ACLs survive a crash and restart;
//! - without `--authorizer` everything is allowed, as before.
//!
//! `tidemark acl add|list|remove` and `tidemark user add` run as the super user `admin` with `--command-config`;
//! the clients are confluent-kafka's, run by `tests/python/secure_clients.py`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use tidemark_tests::cluster::poll_until;
use tidemark_tests::secure_clients::{log_has, strings, Script};
use tidemark_tests::tls::Certificates;
use tidemark_tests::{run_cli_with_input, run_with_input, TidemarkProcess};

/// A SASL user and their password.
#[derive(Debug, Clone, Copy)]
struct User(&'static str, &'static str);

/// The initial user, a super user where the authorizer is on.
const ADMIN: User = User("admin", "adm1n-Pw-7f3k9");
/// A user with only the rights their ACLs give.
const BOB: User = User("bob", "b0b-Pw-x1");
/// The environment variable `--initial-user` takes its password from.
const PASSWORD_VAR: &str = "TIDEMARK_INITIAL_USER_PASSWORD";
/// A listener for anonymous clients and one for SASL users.
const LISTENERS: &str = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0";
/// The authorizer on, with [`ADMIN`] the super user.
const AUTHORIZER: &[&str] = &["--authorizer", "on", "--super-users", "User:admin"];
/// How long a test waits for the broker to log what it should have logged already.
const PATIENCE: Duration = Duration::from_secs(20);

const TOPIC_DENIED: &str = "TOPIC_AUTHORIZATION_FAILED";
const GROUP_DENIED: &str = "GROUP_AUTHORIZATION_FAILED";
const CLUSTER_DENIED: &str = "CLUSTER_AUTHORIZATION_FAILED";

/// A broker with a PLAINTEXT and a SASL_PLAINTEXT listener and the initial user [`ADMIN`], in a directory of its own.
struct Broker {
    dir: tempfile::TempDir,
    /// Flags it was started with, for restarts.
    flags: Vec<String>,
    process: TidemarkProcess,
}

impl Broker {
    /// `tidemark broker` on [`LISTENERS`] with `extra` flags.
    fn start(extra: &[&str]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut flags = strings(&["--initial-user", ADMIN.0, "--group-initial-rebalance-delay-ms", "0"]);
        flags.extend(strings(extra));
        let process = Self::launch(&dir, LISTENERS, &flags)?;
        Ok(Broker { dir, flags, process })
    }

    fn launch(dir: &tempfile::TempDir, listen: &str, flags: &[String]) -> Result<TidemarkProcess> {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        TidemarkProcess::start_with_env(&dir.path().join("data"), listen, &flags, &[(PASSWORD_VAR, ADMIN.1)])
    }

    /// Kills the broker with SIGKILL and starts it again on the same data directory, ports and flags.
    fn restart(&mut self) -> Result<()> {
        self.process.kill9()?;
        let listen = self.process.listen_spec();
        self.process = Self::launch(&self.dir, &listen, &self.flags)?;
        Ok(())
    }

    /// A `--command-config` file for `user` over SASL_PLAINTEXT with SCRAM-SHA-512.
    fn command_config(&self, User(name, password): User) -> Result<PathBuf> {
        let path = self.dir.path().join(format!("{name}.properties"));
        let text = format!(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.username={name}\n\
             sasl.password={password}\n"
        );
        std::fs::write(&path, text)?;
        Ok(path)
    }

    /// Runs `tidemark ARGS` against the SASL_PLAINTEXT listener as `user`; fails with its standard error when it
    /// fails.
    fn cli(&self, user: User, args: &[&str]) -> Result<String> {
        self.cli_with_input(user, args, "")
    }

    fn cli_with_input(&self, user: User, args: &[&str], input: &str) -> Result<String> {
        let config = self.command_config(user)?;
        let config = config.to_string_lossy();
        let connection = ["--bootstrap-servers", self.process.listener("SASL_PLAINTEXT")?, "--command-config", &config];
        run_cli_with_input(&[args, &connection[..]].concat(), input)
    }

    /// `tidemark acl ARGS` as `user`.
    fn acl(&self, user: User, args: &[&str]) -> Result<String> {
        self.cli(user, &[&["acl"][..], args].concat())
    }

    /// `tidemark acl add --principal User:<who> ARGS` as [`ADMIN`].
    fn allow(&self, who: User, args: &[&str]) -> Result<()> {
        self.acl(ADMIN, &[&["add", "--principal", &principal(who)][..], args].concat())?;
        Ok(())
    }

    /// The lines of `tidemark acl list FILTER` as [`ADMIN`].
    fn acls(&self, filter: &[&str]) -> Result<BTreeSet<String>> {
        let listed = self.acl(ADMIN, &[&["list"][..], filter].concat())?;
        Ok(listed.lines().map(str::to_owned).collect())
    }

    /// Adds `user` with `tidemark user add`, as [`ADMIN`].
    fn add_user(&self, user: User) -> Result<()> {
        self.cli_with_input(ADMIN, &["user", "add", user.0], &format!("{}\n", user.1))?;
        Ok(())
    }

    /// `secure_clients.py`'s flags for a client of `user` on the SASL_PLAINTEXT listener (SCRAM-SHA-512), or an
    /// anonymous one on the PLAINTEXT listener.
    fn client(&self, user: Option<User>) -> Result<Vec<String>> {
        Ok(match user {
            Some(User(name, password)) => strings(&[
                "--bootstrap",
                self.process.listener("SASL_PLAINTEXT")?,
                "--protocol",
                "SASL_PLAINTEXT",
                "--mechanism",
                "SCRAM-SHA-512",
                "--user",
                name,
                "--password",
                password,
            ]),
            None => strings(&["--bootstrap", self.process.listener("PLAINTEXT")?, "--protocol", "PLAINTEXT"]),
        })
    }

    /// Waits for the WARN line of an authorization denial with every one of `parts` (`key=value` parts match a
    /// quoted value too).
    fn denied(&self, parts: &[&str]) -> Result<String> {
        let wanted = |line: &str| {
            line.contains("WARN")
                && line.contains("authorization denied")
                && parts.iter().all(|part| log_has(line, part))
        };
        self.process.wait_for_log(&format!("authorization denied {parts:?}"), PATIENCE, wanted)
    }

    /// How many `authorization denied` lines with every one of `parts` it logged.
    fn denials(&self, parts: &[&str]) -> usize {
        let log = self.process.log();
        log.iter()
            .filter(|line| line.contains("authorization denied") && parts.iter().all(|p| log_has(line, p)))
            .count()
    }
}

/// `User:<name>`.
fn principal(User(name, _): User) -> String {
    format!("User:{name}")
}

/// An ACL as `tidemark acl list` prints it, for every host.
fn line(principal: &str, resource: &str, operation: &str, permission: &str) -> String {
    format!("{principal}\t{resource}\t{operation}\t{permission}\t*")
}

/// The set of `lines`.
fn set(lines: &[impl AsRef<str>]) -> BTreeSet<String> {
    lines.iter().map(|line| line.as_ref().to_owned()).collect()
}

/// One attempt to produce `values` to `topic` with confluent-kafka (idempotent or not).
fn produce(flags: &[String], topic: &str, values: &[&str], idempotent: bool) -> Result<Script> {
    let mut command = [&["produce"][..], values, &["--topic", topic, "--timeout", "10"]].concat();
    if idempotent {
        command.push("--idempotent");
    }
    Script::run(&command, flags)
}

/// Producing `values` to `topic` succeeds: every one delivered.
fn produces(flags: &[String], topic: &str, values: &[&str], idempotent: bool) -> Result<()> {
    let script = produce(flags, topic, values, idempotent)?;
    ensure!(
        script.count("delivered")? == values.len() && script.values("failed").is_empty(),
        "expected {} records delivered:\n{script}",
        values.len()
    );
    Ok(())
}

/// Producing to `topic` fails: nothing delivered, and `error` among the delivery errors.
fn produce_fails(flags: &[String], topic: &str, idempotent: bool, error: &str) -> Result<()> {
    let script = produce(flags, topic, &["refused"], idempotent)?;
    ensure!(
        script.count("delivered")? == 0 && script.values("failed").contains(&error),
        "expected the delivery to fail with {error}:\n{script}"
    );
    Ok(())
}

/// One attempt to consume `count` records of `topic` in `group`, from the earliest offset.
fn consume(flags: &[String], topic: &str, group: &str, count: usize) -> Result<Script> {
    let count = count.to_string();
    let command = ["consume", "--topic", topic, "--group", group, "--count", &count, "--timeout", "30"];
    Script::run(&command, flags)
}

/// Consuming `topic` in `group` gives `expected`, in order, without errors.
fn consumes(flags: &[String], topic: &str, group: &str, expected: &[&str]) -> Result<()> {
    let script = consume(flags, topic, group, expected.len())?;
    ensure!(
        script.values("record") == expected && script.values("failed").is_empty(),
        "expected to consume {expected:?}:\n{script}"
    );
    Ok(())
}

/// Consuming `topic` in `group` fails with `error` before any record arrives.
fn consume_fails(flags: &[String], topic: &str, group: &str, error: &str) -> Result<()> {
    let script = consume(flags, topic, group, 1)?;
    ensure!(
        script.count("consumed")? == 0 && script.values("failed").contains(&error),
        "expected consuming to fail with {error}:\n{script}"
    );
    Ok(())
}

#[test]
fn an_authorized_principal_gets_only_what_its_acls_allow() -> Result<()> {
    let broker = Broker::start(AUTHORIZER)?;
    broker.cli(ADMIN, &["topic", "create", "orders"])?;
    broker.add_user(BOB)?;
    let bob = broker.client(Some(BOB))?;
    let user_bob = principal(BOB);

    // No ACL: denied, and logged. librdkafka asks for the topic's metadata first, where bob may not DESCRIBE it, so
    // it fails the records without sending them.
    produce_fails(&bob, "orders", false, TOPIC_DENIED)?;
    let describe = ["host=127.0.0.1", "operation=DESCRIBE", "resource=TOPIC:orders"];
    broker.denied(&[&[&format!("principal={user_bob}")[..]][..], &describe].concat())?;

    // WRITE on the topic: producing works, idempotent too (InitProducerId takes WRITE on any topic, KIP-679).
    broker.allow(BOB, &["--operation", "WRITE", "--topic", "orders"])?;
    produces(&bob, "orders", &["one", "two"], false)?;
    produces(&bob, "orders", &["three"], true)?;

    // Consuming in a group needs READ on the group, then READ on the topic.
    // FindCoordinator wants DESCRIBE on the group, which READ implies.
    consume_fails(&bob, "orders", "g", GROUP_DENIED)?;
    broker.denied(&[&format!("principal={user_bob}"), "operation=DESCRIBE", "resource=GROUP:g"])?;
    broker.allow(BOB, &["--operation", "READ", "--group", "g"])?;
    consume_fails(&bob, "orders", "g", TOPIC_DENIED)?;
    broker.denied(&[&format!("principal={user_bob}"), "operation=READ", "resource=TOPIC:orders"])?;
    broker.allow(BOB, &["--operation", "READ", "--topic", "orders"])?;
    consumes(&bob, "orders", "g", &["one", "two", "three"])?;

    let write = line(&user_bob, "TOPIC:LITERAL:orders", "WRITE", "ALLOW");
    let read = line(&user_bob, "TOPIC:LITERAL:orders", "READ", "ALLOW");
    let read_group = line(&user_bob, "GROUP:LITERAL:g", "READ", "ALLOW");
    let deny_read = line(&user_bob, "TOPIC:LITERAL:orders", "READ", "DENY");
    let all = set(&[&write, &read, &read_group]);
    assert_eq!(broker.acls(&["--principal", &user_bob])?, all);
    assert_eq!(broker.acls(&[])?, all, "nobody else has ACLs");
    assert_eq!(broker.acls(&["--topic", "orders"])?, set(&[&write, &read]));
    assert_eq!(broker.acls(&["--group", "g"])?, set(&[&read_group]));
    assert_eq!(broker.acls(&["--principal", "User:carol"])?, BTreeSet::new());

    // A DENY wins over the ALLOW, and denies that operation only.
    broker.allow(BOB, &["--operation", "READ", "--topic", "orders", "--deny"])?;
    let with_deny = set(&[&write, &read, &read_group, &deny_read]);
    assert_eq!(broker.acls(&["--principal", &user_bob])?, with_deny);
    consume_fails(&bob, "orders", "g", TOPIC_DENIED)?;
    produces(&bob, "orders", &["four"], false)?;

    // Removing an ACL removes exactly it.
    let remove_write = ["remove", "--principal", &user_bob, "--operation", "WRITE", "--topic", "orders"];
    assert_eq!(broker.acl(ADMIN, &remove_write)?, "removed 1 ACLs\n");
    assert_eq!(broker.acl(ADMIN, &remove_write)?, "removed 0 ACLs\n", "nothing left to remove");
    assert_eq!(broker.acls(&["--principal", &user_bob])?, set(&[&read, &read_group, &deny_read]));
    // READ implies DESCRIBE, so now the Produce itself is sent, and refused.
    produce_fails(&bob, "orders", false, TOPIC_DENIED)?;
    broker.denied(&[&format!("principal={user_bob}"), "host=127.0.0.1", "operation=WRITE", "resource=TOPIC:orders"])?;
    Ok(())
}

#[test]
fn prefixed_acls_and_topic_creation() -> Result<()> {
    let broker = Broker::start(AUTHORIZER)?;
    broker.add_user(BOB)?;
    broker.cli(ADMIN, &["topic", "create", "team-b"])?;
    broker.cli(ADMIN, &["topic", "create", "other"])?;
    let prefixed = ["--topic", "team-", "--resource-pattern-type", "prefixed"];
    broker.allow(BOB, &[&["--operation", "CREATE"][..], &prefixed].concat())?;
    assert_eq!(
        broker.acls(&["--principal", &principal(BOB)])?,
        set(&[line(&principal(BOB), "TOPIC:PREFIXED:team-", "CREATE", "ALLOW")])
    );

    // CREATE on the prefix: topics under it, and no other.
    assert_eq!(broker.cli(BOB, &["topic", "create", "team-a"])?, "created topic team-a\n");
    let refused = broker.cli(BOB, &["topic", "create", "other-2"]).expect_err("bob may not create other-2");
    ensure!(format!("{refused:#}").contains("Topic authorization failed"), "{refused:#}");
    broker.denied(&["principal=User:bob", "operation=CREATE", "resource=TOPIC:other-2"])?;
    let created = Script::run(&["create-topics", "team-c", "elsewhere"], &broker.client(Some(BOB))?)?;
    assert_eq!(created.values("created"), ["team-c"], "{created}");
    assert_eq!(created.values("failed"), [format!("elsewhere:{TOPIC_DENIED}")], "{created}");

    // CREATE does not imply DESCRIBE: bob sees no topic yet, not even his own.
    assert_eq!(broker.cli(BOB, &["topic", "list"])?, "");
    broker.allow(BOB, &[&["--operation", "DESCRIBE"][..], &prefixed].concat())?;
    assert_eq!(broker.cli(BOB, &["topic", "list"])?, "team-a\nteam-b\nteam-c\n");
    assert_eq!(broker.cli(ADMIN, &["topic", "list"])?, "other\nteam-a\nteam-b\nteam-c\n");
    // Metadata for a topic named outside the prefix answers TOPIC_AUTHORIZATION_FAILED.
    let hidden = broker.cli(BOB, &["topic", "describe", "other"]).expect_err("other is not bob's to describe");
    ensure!(format!("{hidden:#}").contains("TopicAuthorizationFailed"), "{hidden:#}");
    Ok(())
}

/// Runs `kcat ARGS` against `address` (no security); answers its standard output.
fn kcat(address: &str, args: &[&str], input: &str) -> Result<String> {
    let mut command = Command::new("kcat");
    command.args(["-b", address]).args(args);
    let output = run_with_input(&mut command, input).context("kcat must be installed (scripts/test installs it)")?;
    ensure!(output.status.success(), "kcat {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn anonymous_plaintext_clients_are_denied_and_the_acl_apis_need_cluster_rights() -> Result<()> {
    let broker = Broker::start(AUTHORIZER)?;
    broker.add_user(BOB)?;
    broker.cli(ADMIN, &["topic", "create", "orders"])?;
    let plaintext = broker.process.listener("PLAINTEXT")?;

    // A PLAINTEXT client is User:ANONYMOUS, which has no ACL.
    let listing = kcat(plaintext, &["-L"], "")?;
    ensure!(listing.contains(" 0 topics:") && !listing.contains("orders"), "no topic shown:\n{listing}");
    let anonymous = broker.client(None)?;
    produce_fails(&anonymous, "orders", false, TOPIC_DENIED)?;
    broker.denied(&["principal=User:ANONYMOUS", "resource=TOPIC:orders"])?;
    broker.acl(ADMIN, &["add", "--principal", "User:ANONYMOUS", "--operation", "DESCRIBE", "--topic", "orders"])?;
    let listing = kcat(plaintext, &["-L"], "")?;
    ensure!(listing.contains(" 1 topics:") && listing.contains("topic \"orders\""), "orders shown:\n{listing}");

    // The ACL APIs need ALTER on the cluster to change ACLs, DESCRIBE to list them; admin is a super user.
    let added = broker.acl(BOB, &["add", "--principal", "User:bob", "--operation", "ALL", "--topic", "*"]);
    let refused = added.expect_err("bob may not add ACLs");
    ensure!(format!("{refused:#}").contains("ClusterAuthorizationFailed"), "{refused:#}");
    broker.denied(&["principal=User:bob", "operation=ALTER", "resource=CLUSTER:kafka-cluster"])?;
    let listed = broker.acl(BOB, &["list"]).expect_err("bob may not list ACLs");
    ensure!(format!("{listed:#}").contains("ClusterAuthorizationFailed"), "{listed:#}");
    broker.denied(&["principal=User:bob", "operation=DESCRIBE", "resource=CLUSTER:kafka-cluster"])?;
    let bob = broker.client(Some(BOB))?;
    let created = Script::run(&["create-acls", "User:bob/TOPIC/LITERAL/*/ALL/ALLOW/*"], &bob)?;
    let all_topics = line("User:bob", "TOPIC:LITERAL:*", "ALL", "ALLOW");
    assert_eq!(created.values("failed"), [format!("{all_topics}:{CLUSTER_DENIED}")], "{created}");
    // librdkafka drops DescribeAcls' error code (rd_kafka_DescribeAclsResponse_parse): bob is shown no ACL at all,
    // though there is one, and the broker logs the refusal.
    let cluster_describe = ["principal=User:bob", "operation=DESCRIBE", "resource=CLUSTER:kafka-cluster"];
    let before = broker.denials(&cluster_describe);
    let described = Script::run(&["describe-acls", "ANY/ANY/ANY/ANY/ANY/ANY/ANY"], &bob)?;
    ensure!(described.stdout().trim().is_empty(), "nothing described to bob: {described}");
    poll_until("bob's DescribeAcls denied", || Ok(broker.denials(&cluster_describe)), |&n| n > before)?;
    let removed = Script::run(&["delete-acls", "ANY/ANY/ANY/ANY/ANY/ANY/ANY"], &bob)?;
    assert_eq!(removed.values("failed"), [CLUSTER_DENIED], "{removed}");
    produce_fails(&bob, "orders", false, TOPIC_DENIED)?;

    // confluent-kafka's AdminClient as admin: create, describe, delete.
    let admin = broker.client(Some(ADMIN))?;
    let carol = [
        "User:carol/TOPIC/LITERAL/orders/READ/ALLOW/*",
        "User:carol/GROUP/PREFIXED/carols-/READ/ALLOW/*",
        "User:carol/CLUSTER/LITERAL/kafka-cluster/IDEMPOTENT_WRITE/DENY/127.0.0.1",
    ];
    let carols = [
        line("User:carol", "TOPIC:LITERAL:orders", "READ", "ALLOW"),
        line("User:carol", "GROUP:PREFIXED:carols-", "READ", "ALLOW"),
        "User:carol\tCLUSTER:LITERAL:kafka-cluster\tIDEMPOTENT_WRITE\tDENY\t127.0.0.1".to_owned(),
    ];
    let created = Script::run(&[&["create-acls"][..], &carol].concat(), &admin)?;
    assert_eq!(set(&created.values("created")), set(&carols), "{created}");
    ensure!(created.values("failed").is_empty(), "{created}");
    let described = Script::run(&["describe-acls", "User:carol/ANY/ANY/ANY/ANY/ANY/ANY"], &admin)?;
    assert_eq!(set(&described.values("acl")), set(&carols), "{described}");
    let on_orders = Script::run(&["describe-acls", "ANY/TOPIC/LITERAL/orders/ANY/ANY/ANY"], &admin)?;
    let anonymous_describe = line("User:ANONYMOUS", "TOPIC:LITERAL:orders", "DESCRIBE", "ALLOW");
    assert_eq!(set(&on_orders.values("acl")), set(&[&carols[0], &anonymous_describe]));
    // What the AdminClient created, the CLI lists, and the other way round.
    assert_eq!(broker.acls(&["--principal", "User:carol"])?, set(&carols));
    let everyone = Script::run(&["describe-acls", "ANY/ANY/ANY/ANY/ANY/ANY/ANY"], &admin)?;
    assert_eq!(
        set(&everyone.values("acl")),
        set(&[&carols[0], &carols[1], &carols[2], &anonymous_describe]),
        "{everyone}"
    );
    let deleted = Script::run(&["delete-acls", "User:carol/ANY/ANY/ANY/READ/ALLOW/ANY"], &admin)?;
    assert_eq!(set(&deleted.values("deleted")), set(&carols[..2]), "{deleted}");
    let left = Script::run(&["describe-acls", "ANY/ANY/ANY/ANY/ANY/ANY/ANY"], &admin)?;
    assert_eq!(set(&left.values("acl")), set(&[&carols[2], &anonymous_describe]), "{left}");
    let deleted = Script::run(&["delete-acls", "User:carol/CLUSTER/ANY/ANY/ANY/ANY/ANY"], &admin)?;
    assert_eq!(deleted.values("deleted"), [carols[2].as_str()], "{deleted}");
    assert_eq!(broker.acls(&["--principal", "User:carol"])?, BTreeSet::new());
    Ok(())
}

#[test]
fn acls_survive_a_restart() -> Result<()> {
    let mut broker = Broker::start(AUTHORIZER)?;
    broker.add_user(BOB)?;
    broker.cli(ADMIN, &["topic", "create", "orders"])?;
    broker.cli(ADMIN, &["topic", "create", "other"])?;
    broker.allow(BOB, &["--operation", "WRITE,READ", "--topic", "orders"])?;
    broker.allow(BOB, &["--operation", "READ", "--group", "g"])?;
    broker.allow(BOB, &["--operation", "WRITE", "--topic", "other", "--deny"])?;
    let before = broker.acls(&[])?;
    assert_eq!(before.len(), 4, "{before:?}");
    let bob = broker.client(Some(BOB))?;
    produces(&bob, "orders", &["before"], false)?;

    broker.restart()?;
    let bob = broker.client(Some(BOB))?;
    assert_eq!(broker.acls(&[])?, before);
    produces(&bob, "orders", &["after"], false)?;
    consumes(&bob, "orders", "g", &["before", "after"])?;
    produce_fails(&bob, "other", false, TOPIC_DENIED)?;
    consume_fails(&bob, "orders", "another-group", GROUP_DENIED)?;
    Ok(())
}

#[test]
fn without_the_authorizer_everything_is_allowed() -> Result<()> {
    let broker = Broker::start(&[])?;
    broker.add_user(BOB)?;
    let bob = broker.client(Some(BOB))?;
    produces(&bob, "anywhere", &["one", "two"], false)?;
    produces(&bob, "anywhere", &["three"], true)?;
    consumes(&bob, "anywhere", "any-group", &["one", "two", "three"])?;
    let anonymous = broker.client(None)?;
    produces(&anonymous, "open", &["x"], false)?;
    consumes(&anonymous, "open", "open-group", &["x"])?;
    assert_eq!(broker.cli(BOB, &["topic", "list"])?, "anywhere\nopen\n");
    ensure!(broker.denials(&[]) == 0, "nothing denied:\n{}", broker.process.log().join("\n"));
    Ok(())
}

#[test]
fn a_client_certificate_names_the_principal_its_acls_apply_to() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let certificates = Certificates::generate(dir.path(), "mtls", "alice")?;
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let mut flags = strings(&["--initial-user", ADMIN.0, "--tls-client-ca", &path(&certificates.ca)]);
    flags.extend(certificates.server_flags());
    flags.extend(strings(AUTHORIZER));
    let process = Broker::launch(&dir, "SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", &flags)?;
    let broker = Broker { dir, flags, process };
    broker.cli(ADMIN, &["topic", "create", "certified"])?;
    let alice = strings(&[
        "--bootstrap",
        broker.process.listener("SSL")?,
        "--protocol",
        "SSL",
        "--ca",
        &path(&certificates.ca),
        "--cert",
        &path(&certificates.client_cert),
        "--key",
        &path(&certificates.client_key),
    ]);
    produce_fails(&alice, "certified", false, TOPIC_DENIED)?;
    broker.denied(&["principal=User:CN=alice", "resource=TOPIC:certified"])?;
    broker.acl(ADMIN, &["add", "--principal", "User:CN=alice", "--operation", "WRITE", "--topic", "certified"])?;
    produces(&alice, "certified", &["from-alice"], false)
}
