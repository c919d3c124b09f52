//! Command-line flags. Every flag can also come from `TIDEMARK_<FLAG>` or from the TOML file given with
//! `--config` (keys are flag names without dashes in front, e.g. `data-dir = "/var/lib/tidemark"`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Tidemark: change data capture in one binary.
#[derive(Debug, Parser)]
#[command(name = "tidemark", version, about)]
pub struct Cli {
    /// A TOML file of flag values; flags and environment variables take precedence over it.
    #[arg(long, global = true, env = "TIDEMARK_CONFIG")]
    pub config: Option<PathBuf>,
    /// How log lines are written to standard error: `text` for people, `json` (one object a line, with `timestamp`,
    /// `level`, `target`, `message` and the event's fields) for log collectors. `RUST_LOG` chooses what is logged.
    #[arg(long, global = true, env = "TIDEMARK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// A feature switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every component that exists in one process, single node: the embedded default.
    Up(Box<UpArgs>),
    /// The broker alone.
    Broker(Box<BrokerCommandArgs>),
    /// The schema registry alone, against any Kafka cluster.
    Registry(RegistryCommandArgs),
    /// The connect worker alone, against any Kafka cluster.
    Connect(ConnectCommandArgs),
    /// Manage topics.
    Topic {
        /// The topic operation.
        #[command(subcommand)]
        command: TopicCommand,
    },
    /// Produce lines from standard input, one record per line.
    Produce(ProduceArgs),
    /// Print records of a topic, one value per line.
    Consume(ConsumeArgs),
    /// Manage connectors on a connect worker.
    Connector {
        /// The connector operation.
        #[command(subcommand)]
        command: ConnectorCommand,
    },
    /// Inspect consumer groups and move their committed offsets.
    Group {
        /// The group operation.
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// Manage the SASL/SCRAM users brokers authenticate (Kafka's `kafka-configs --entity-type users`).
    User {
        /// The user operation.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage ACLs (Kafka's `kafka-acls`): what each principal may do once `--authorizer on`.
    Acl {
        /// The ACL operation.
        #[command(subcommand)]
        command: AclCommand,
    },
    /// Prints an `--http-auth-file` line for a user whose password is the first line of standard input, the
    /// password kept hashed: `user:NAME:SCRAM-SHA-256$...:ROLE`.
    HttpUser {
        /// The user name.
        name: String,
        /// What the user may do: `admin` or `read-only`.
        #[arg(long, value_parser = ["admin", "read-only"])]
        role: String,
    },
}

/// ACL operations, through any broker of the cluster (CreateAcls, DescribeAcls, DeleteAcls).
#[derive(Debug, Subcommand)]
pub enum AclCommand {
    /// Adds ACLs: one per operation given.
    Add {
        /// Which ACLs.
        #[command(flatten)]
        acl: AclArgs,
        /// Deny instead of allow (a deny wins over any allow).
        #[arg(long)]
        deny: bool,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Lists ACLs: all, or those of a principal or resource.
    List {
        /// Only this principal's (`User:<name>`).
        #[arg(long)]
        principal: Option<String>,
        /// Only those of this resource.
        #[command(flatten)]
        resource: AclResourceFilter,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Removes the ACLs matching exactly: principal, resource, pattern type, host, operations and permission.
    Remove {
        /// Which ACLs.
        #[command(flatten)]
        acl: AclArgs,
        /// Remove DENY ACLs instead of ALLOW ones.
        #[arg(long)]
        deny: bool,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// One or more ACLs of one principal on one resource.
#[derive(Debug, Args)]
pub struct AclArgs {
    /// The principal, `User:<name>` (`User:*` for everyone).
    #[arg(long)]
    pub principal: String,
    /// Operations, separated by commas: READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION,
    /// DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE or ALL.
    #[arg(long, value_delimiter = ',', required = true)]
    pub operation: Vec<String>,
    /// The client host (IP address) the ACLs apply to; `*` is every host.
    #[arg(long, default_value = "*")]
    pub host: String,
    /// Whether the resource name is literal or a prefix.
    #[arg(long, value_enum, default_value_t = PatternArg::Literal)]
    pub resource_pattern_type: PatternArg,
    /// The resource.
    #[command(flatten)]
    pub resource: AclResource,
}

/// The resource of an ACL: exactly one of the flags.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct AclResource {
    /// A topic (`*` for every topic).
    #[arg(long)]
    pub topic: Option<String>,
    /// A consumer group (`*` for every group).
    #[arg(long)]
    pub group: Option<String>,
    /// The cluster.
    #[arg(long)]
    pub cluster: bool,
    /// A transactional id.
    #[arg(long)]
    pub transactional_id: Option<String>,
}

/// The resource of `acl list`: at most one of the flags.
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct AclResourceFilter {
    /// A topic.
    #[arg(long)]
    pub topic: Option<String>,
    /// A consumer group.
    #[arg(long)]
    pub group: Option<String>,
    /// The cluster.
    #[arg(long)]
    pub cluster: bool,
}

/// How an ACL's resource name matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PatternArg {
    /// The name itself (`*` matches every resource).
    Literal,
    /// Every resource whose name starts with it.
    Prefixed,
}

/// User operations, through any broker of the cluster (AlterUserScramCredentials and
/// DescribeUserScramCredentials).
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds a user, or changes their password: the password is the first line of standard input.
    Add {
        /// The user name.
        name: String,
        /// The SCRAM mechanisms to give the user credentials for, separated by commas.
        #[arg(long, value_delimiter = ',', default_value = "SCRAM-SHA-256,SCRAM-SHA-512")]
        mechanism: Vec<String>,
        /// PBKDF2 iterations of the credentials (4096 to 16384).
        #[arg(long, default_value_t = 8192)]
        iterations: i32,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Removes a user's credentials: those of `--mechanism`, or all of them.
    Delete {
        /// The user name.
        name: String,
        /// Only these SCRAM mechanisms, separated by commas.
        #[arg(long, value_delimiter = ',')]
        mechanism: Vec<String>,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Lists the users with their mechanisms and iterations (never a password: brokers keep none).
    List {
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// Flags of the server commands.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Directory of the broker's data.
    #[arg(long, env = "TIDEMARK_DATA_DIR", default_value = "./tidemark-data")]
    pub data_dir: PathBuf,
    /// The Kafka listeners, `[PROTOCOL://]HOST:PORT`, repeated or separated by commas (Kafka's `listeners`):
    /// PROTOCOL is PLAINTEXT (the default), SSL, SASL_PLAINTEXT or SASL_SSL, one listener of each at most; port 0
    /// picks a free port. In a cluster the first is where the other brokers reach this one.
    #[arg(long, env = "TIDEMARK_KAFKA_LISTEN", default_value = "127.0.0.1:9092", value_delimiter = ',')]
    pub kafka_listen: Vec<String>,
    /// Where clients are told to connect, `[PROTOCOL://]HOST:PORT` for any listener whose bound address is not
    /// it (Kafka's `advertised.listeners`); matched to listeners by protocol.
    #[arg(long, env = "TIDEMARK_ADVERTISED_KAFKA", value_delimiter = ',')]
    pub advertised_kafka: Vec<String>,
    /// The TLS listeners' certificate chain, PEM.
    #[arg(long, env = "TIDEMARK_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of `--tls-cert`, PEM.
    #[arg(long, env = "TIDEMARK_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Certificate authorities (PEM) whose client certificates TLS listeners require (Kafka's
    /// `ssl.client.auth=required`); without it clients need none.
    #[arg(long, env = "TIDEMARK_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// SASL mechanisms offered on SASL listeners, separated by commas (Kafka's `sasl.enabled.mechanisms`). PLAIN
    /// checks the password against the user's SCRAM credential.
    #[arg(
        long,
        env = "TIDEMARK_SASL_ENABLED_MECHANISMS",
        value_delimiter = ',',
        default_value = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
    )]
    pub sasl_enabled_mechanisms: Vec<String>,
    /// Authorize every request with ACLs (`on`: what no ACL allows is denied, as Kafka with its
    /// StandardAuthorizer) or allow everything (`off`). Manage ACLs with `tidemark acl`.
    #[arg(long, env = "TIDEMARK_AUTHORIZER", value_enum, default_value_t = Switch::Off)]
    pub authorizer: Switch,
    /// Principals allowed everything whatever the ACLs say, separated by semicolons (Kafka's `super.users`), e.g.
    /// `User:admin;User:ops`.
    #[arg(long, env = "TIDEMARK_SUPER_USERS", value_delimiter = ';')]
    pub super_users: Vec<String>,
    /// A SASL user created at start-up, with SCRAM-SHA-256 and SCRAM-SHA-512 credentials, unless the user exists
    /// already; the password comes from the environment variable TIDEMARK_INITIAL_USER_PASSWORD. The first user,
    /// who adds the others with `tidemark user add`.
    #[arg(long, env = "TIDEMARK_INITIAL_USER")]
    pub initial_user: Option<String>,
    /// This broker's node id.
    #[arg(long, env = "TIDEMARK_NODE_ID", default_value_t = 1)]
    pub node_id: i32,
    /// Create unknown topics when clients ask for them (`true` or `false`).
    #[arg(long, env = "TIDEMARK_AUTO_CREATE_TOPICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_create_topics: bool,
    /// Partitions of automatically created topics.
    #[arg(long, env = "TIDEMARK_NUM_PARTITIONS", default_value_t = 1)]
    pub num_partitions: i32,
    /// Replicas of topics created without a replication factor: automatically created ones, and those of the
    /// schema registry and the connect worker (Kafka's `default.replication.factor`). A cluster wants 3.
    #[arg(long, env = "TIDEMARK_DEFAULT_REPLICATION_FACTOR", default_value_t = 1)]
    pub default_replication_factor: i16,
    /// In-sync replicas an `acks=all` write needs, for every topic without its own `min.insync.replicas`.
    #[arg(long, env = "TIDEMARK_MIN_INSYNC_REPLICAS", default_value_t = 1)]
    pub min_insync_replicas: u16,
    /// Largest request frame accepted, in bytes.
    #[arg(long, env = "TIDEMARK_MAX_REQUEST_BYTES", default_value_t = tidemark_broker::config::DEFAULT_MAX_REQUEST_BYTES)]
    pub max_request_bytes: usize,
    /// How often retention deletes old segments, in milliseconds.
    #[arg(long, env = "TIDEMARK_RETENTION_CHECK_INTERVAL_MS", default_value_t = 300_000)]
    pub retention_check_interval_ms: u64,
    /// How long the log cleaner sleeps when no compacted partition needs cleaning, in milliseconds (Kafka's
    /// `log.cleaner.backoff.ms`).
    #[arg(long, env = "TIDEMARK_LOG_CLEANER_BACKOFF_MS", default_value_t = 15_000)]
    pub log_cleaner_backoff_ms: u64,
    /// How long the first rebalance of an empty group waits for more members, in milliseconds.
    #[arg(long, env = "TIDEMARK_GROUP_INITIAL_REBALANCE_DELAY_MS", default_value_t = 3000)]
    pub group_initial_rebalance_delay_ms: u64,
    /// Shortest session timeout a group member may ask for, in milliseconds.
    #[arg(long, env = "TIDEMARK_GROUP_MIN_SESSION_TIMEOUT_MS", default_value_t = 6000)]
    pub group_min_session_timeout_ms: u64,
    /// Partitions of `__consumer_offsets` when it is first created.
    #[arg(long, env = "TIDEMARK_OFFSETS_TOPIC_PARTITIONS", default_value_t = 50)]
    pub offsets_topic_partitions: i32,
    /// The controller voters of a cluster, `ID@HOST:PORT` separated by commas (their controller listeners).
    /// Without it the broker is a single node.
    #[arg(long, env = "TIDEMARK_VOTERS", requires = "controller_listen")]
    pub voters: Option<String>,
    /// Address of this node's controller listener (Raft and broker-to-controller requests); needed with
    /// `--voters`. Every node of a cluster has one, voter or not.
    #[arg(long, env = "TIDEMARK_CONTROLLER_LISTEN")]
    pub controller_listen: Option<SocketAddr>,
    /// Address the other nodes reach this node's controller listener at (default: the bound address).
    #[arg(long, env = "TIDEMARK_ADVERTISED_CONTROLLER")]
    pub advertised_controller: Option<String>,
    /// A file holding the secret every node of the cluster shares (at least 16 bytes, e.g. from `openssl rand
    /// -hex 32`; surrounding whitespace is ignored). Controller requests between nodes are signed with it, and
    /// brokers authenticate to each other's inter-broker listener (the first `--kafka-listen`, which must then be
    /// SASL_PLAINTEXT or SASL_SSL) with a login made from it. The environment variable TIDEMARK_CLUSTER_SECRET
    /// may hold the secret itself instead.
    #[arg(long, env = "TIDEMARK_CLUSTER_SECRET_FILE", requires = "voters")]
    pub cluster_secret_file: Option<PathBuf>,
    /// The CA (PEM) that signed the other brokers' certificates, checked when this broker connects to their
    /// SASL_SSL inter-broker listener.
    #[arg(long, env = "TIDEMARK_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// A broker that has not heartbeated for this long is fenced and its partitions get other leaders, in
    /// milliseconds (Kafka's `broker.session.timeout.ms`).
    #[arg(long, env = "TIDEMARK_BROKER_SESSION_TIMEOUT_MS", default_value_t = 9000)]
    pub broker_session_timeout_ms: u64,
    /// How often a broker heartbeats to the active controller, in milliseconds (`broker.heartbeat.interval.ms`).
    #[arg(long, env = "TIDEMARK_BROKER_HEARTBEAT_INTERVAL_MS", default_value_t = 2000)]
    pub broker_heartbeat_interval_ms: u64,
    /// A follower not caught up with its leader for this long leaves the ISR, in milliseconds (Kafka's
    /// `replica.lag.time.max.ms`).
    #[arg(long, env = "TIDEMARK_REPLICA_LAG_TIME_MAX_MS", default_value_t = 30_000)]
    pub replica_lag_time_max_ms: u64,
    /// Move leaderships back to preferred replicas once they are in sync again (`true` or `false`; Kafka's
    /// `auto.leader.rebalance.enable`).
    #[arg(long, env = "TIDEMARK_AUTO_LEADER_REBALANCE", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_leader_rebalance: bool,
    /// How often the active controller checks for leaderships to move back, in milliseconds (Kafka's
    /// `leader.imbalance.check.interval.seconds`).
    #[arg(long, env = "TIDEMARK_LEADER_IMBALANCE_CHECK_INTERVAL_MS", default_value_t = 300_000)]
    pub leader_imbalance_check_interval_ms: u64,
}

/// Flags of `tidemark broker`.
#[derive(Debug, Args)]
pub struct BrokerCommandArgs {
    /// The broker.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Address of an HTTP listener serving the broker's Prometheus metrics on `GET /metrics`; port 0 picks a free
    /// port. Without it there is none (`tidemark up` serves every component's metrics on the connect listener).
    #[arg(long, env = "TIDEMARK_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

/// Flags of `tidemark up`: every component in one process.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The broker.
    #[command(flatten)]
    pub server: ServerArgs,
    /// The schema registry.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The connect worker.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The HTTP APIs' security.
    #[command(flatten)]
    pub http: HttpSecurityArgs,
}

/// Security of the HTTP APIs (the schema registry and the connect worker).
#[derive(Debug, Args)]
pub struct HttpSecurityArgs {
    /// Serve the HTTP APIs over TLS with this certificate chain (PEM).
    #[arg(long, env = "TIDEMARK_HTTP_TLS_CERT", requires = "http_tls_key")]
    pub http_tls_cert: Option<PathBuf>,
    /// The private key of `--http-tls-cert` (PEM).
    #[arg(long, env = "TIDEMARK_HTTP_TLS_KEY", requires = "http_tls_cert")]
    pub http_tls_key: Option<PathBuf>,
    /// Require authentication on the HTTP APIs: a file of callers, one a line, `user:NAME:PASSWORD:ROLE` (HTTP
    /// basic) or `token:TOKEN:ROLE` (bearer), ROLE `admin` or `read-only`. Keep it readable by tidemark only.
    #[arg(long, env = "TIDEMARK_HTTP_AUTH_FILE")]
    pub http_auth_file: Option<PathBuf>,
}

/// Flags of the connect worker.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Address of the connect worker's REST listener; port 0 picks a free port.
    #[arg(long, env = "TIDEMARK_CONNECT_LISTEN", default_value = "127.0.0.1:8083")]
    pub connect_listen: SocketAddr,
    /// The compacted topic of connector configs (Kafka Connect's `config.storage.topic`).
    #[arg(long, env = "TIDEMARK_CONFIG_STORAGE_TOPIC", default_value = "connect-configs")]
    pub config_storage_topic: String,
    /// The compacted topic of source offsets (`offset.storage.topic`).
    #[arg(long, env = "TIDEMARK_OFFSET_STORAGE_TOPIC", default_value = "connect-offsets")]
    pub offset_storage_topic: String,
    /// The compacted topic of statuses (`status.storage.topic`).
    #[arg(long, env = "TIDEMARK_STATUS_STORAGE_TOPIC", default_value = "connect-status")]
    pub status_storage_topic: String,
    /// A schema registry: connectors that name no `key.converter`/`value.converter` then use Avro through it (as a
    /// Kafka Connect worker configured with `io.confluent.connect.avro.AvroConverter`); without it they use JSON.
    /// `tidemark up` uses its bundled registry unless this is given.
    #[arg(long, env = "TIDEMARK_SCHEMA_REGISTRY_URL")]
    pub schema_registry_url: Option<String>,
}

/// Flags of `tidemark connect`.
#[derive(Debug, Args)]
pub struct ConnectCommandArgs {
    /// The worker.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The cluster holding its topics.
    #[command(flatten)]
    pub client: ClientArgs,
    /// The HTTP API's security.
    #[command(flatten)]
    pub http: HttpSecurityArgs,
}

/// Flags of the schema registry.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Address of the schema registry's HTTP listener; port 0 picks a free port.
    #[arg(long, env = "TIDEMARK_REGISTRY_LISTEN", default_value = "127.0.0.1:8081")]
    pub registry_listen: SocketAddr,
    /// Largest schema the registry accepts, in bytes.
    #[arg(long, env = "TIDEMARK_MAX_SCHEMA_BYTES", default_value_t = 1024 * 1024)]
    pub max_schema_bytes: usize,
    /// The compacted topic holding the registry's state (Confluent's `kafkastore.topic`).
    #[arg(long, env = "TIDEMARK_SCHEMAS_TOPIC", default_value = "_schemas")]
    pub schemas_topic: String,
}

/// Flags of `tidemark registry`.
#[derive(Debug, Args)]
pub struct RegistryCommandArgs {
    /// The registry.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The cluster holding its topic.
    #[command(flatten)]
    pub client: ClientArgs,
    /// The HTTP API's security.
    #[command(flatten)]
    pub http: HttpSecurityArgs,
}

/// How to reach a Kafka cluster.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Comma-separated `host:port` list of brokers.
    #[arg(long, env = "TIDEMARK_BOOTSTRAP_SERVERS", default_value = "127.0.0.1:9092")]
    pub bootstrap_servers: String,
    /// A file of Kafka client properties, `key=value` a line (`#` comments), as Kafka's tools take with
    /// `--command-config`: `security.protocol`, `sasl.mechanism`, `sasl.username`, `sasl.password`,
    /// `ssl.ca.location`, and any other librdkafka property.
    #[arg(long, env = "TIDEMARK_COMMAND_CONFIG")]
    pub command_config: Option<PathBuf>,
}

/// Topic operations.
#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// Create a topic.
    Create {
        /// Topic name.
        name: String,
        /// Number of partitions.
        #[arg(long, default_value_t = 1)]
        partitions: i32,
        /// Number of replicas of each partition; -1 takes the brokers' `--default-replication-factor`.
        #[arg(long, default_value_t = -1, allow_hyphen_values = true)]
        replication_factor: i32,
        /// A topic config as `name=value`; repeatable.
        #[arg(long = "config-entry", value_name = "NAME=VALUE")]
        configs: Vec<String>,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List topics (internal ones such as `__consumer_offsets` only with `--include-internal`).
    List {
        /// Also list internal topics.
        #[arg(long)]
        include_internal: bool,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show a topic's partitions, offsets and configs.
    Describe {
        /// Topic name.
        name: String,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a topic and its data.
    Delete {
        /// Topic name.
        name: String,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// Flags of `tidemark produce`.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// Topic to write to.
    pub topic: String,
    /// A key for every record (records are placed by Kafka's murmur2 partitioner).
    #[arg(long, conflicts_with = "key_separator")]
    pub key: Option<String>,
    /// Split each line at the first occurrence of this separator into key and value.
    #[arg(long)]
    pub key_separator: Option<String>,
    /// The cluster.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Flags of `tidemark consume`.
#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// Topic to read.
    pub topic: String,
    /// Start at the earliest offset instead of the end.
    #[arg(long)]
    pub from_beginning: bool,
    /// Read only this partition.
    #[arg(long)]
    pub partition: Option<i32>,
    /// Start at this offset (requires --partition).
    #[arg(long, requires = "partition")]
    pub offset: Option<i64>,
    /// Stop after this many records.
    #[arg(long)]
    pub max: Option<u64>,
    /// Print `key<TAB>value` instead of the value alone.
    #[arg(long)]
    pub print_key: bool,
    /// Consume as a member of this consumer group, resuming from (and committing) its offsets.
    #[arg(long, conflicts_with_all = ["partition", "offset"])]
    pub group: Option<String>,
    /// The cluster.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Consumer group operations.
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// List groups with their state.
    List {
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show a group's members, assignments, committed offsets, log end offsets and lag.
    Describe {
        /// Group id.
        group: String,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Move the committed offsets of an inactive group.
    ResetOffsets {
        /// Group id.
        group: String,
        /// The topic whose offsets move (all its partitions).
        #[arg(long)]
        topic: String,
        /// Where the offsets go.
        #[command(flatten)]
        target: ResetTarget,
        /// The cluster.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// Where `group reset-offsets` moves a group's offsets: exactly one of the flags.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ResetTarget {
    /// To each partition's earliest offset.
    #[arg(long)]
    pub to_earliest: bool,
    /// To each partition's end.
    #[arg(long)]
    pub to_latest: bool,
    /// To this offset (clamped to each partition's range).
    #[arg(long, value_name = "N")]
    pub to_offset: Option<i64>,
}

/// How to reach a connect worker.
#[derive(Debug, Args)]
pub struct ConnectUrl {
    /// The worker's REST address.
    #[arg(long = "connect-url", env = "TIDEMARK_CONNECT_URL", default_value = "http://127.0.0.1:8083")]
    pub base: String,
    /// CA certificates (PEM) trusted for an https worker, besides the system's.
    #[arg(long = "connect-ca", env = "TIDEMARK_CONNECT_CA")]
    pub ca: Option<PathBuf>,
    /// `NAME:PASSWORD` for a worker with `--http-auth-file` (HTTP basic auth); better given in the environment
    /// than as a flag, which `ps` shows.
    #[arg(long = "connect-user", env = "TIDEMARK_CONNECT_USER", hide_env_values = true)]
    pub user: Option<String>,
}

impl ConnectUrl {
    /// The URL of `path` on the worker.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }
}

/// Connector operations.
#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// List connectors with their state.
    List {
        /// The worker.
        #[command(flatten)]
        connect: ConnectUrl,
    },
    /// Create a connector from a JSON file (`{"name", "config"}`) or a properties file with `name=`.
    Create {
        /// The file.
        file: PathBuf,
        /// The worker.
        #[command(flatten)]
        connect: ConnectUrl,
    },
    /// Show a connector's and its tasks' state.
    Status {
        /// Connector name.
        name: String,
        /// The worker.
        #[command(flatten)]
        connect: ConnectUrl,
    },
    /// Pause a connector.
    Pause {
        /// Connector name.
        name: String,
        /// The worker.
        #[command(flatten)]
        connect: ConnectUrl,
    },
    /// Resume a paused connector.
    Resume {
        /// Connector name.
        name: String,
        /// The worker.
        #[command(flatten)]
        connect: ConnectUrl,
    },
    /// Restart a connector's tasks from their stored positions.
    Restart {
        /// Connector name.
        name: String,
        /// Only the tasks that failed.
        #[arg(long)]
        only_failed: bool,
        /// The worker.
        #[command(flatten)]
        connect: ConnectUrl,
    },
    /// Delete a connector.
    Delete {
        /// Connector name.
        name: String,
        /// The worker.
        #[command(flatten)]
        connect: ConnectUrl,
    },
}
