//! The `tidemark` binary: command-line parsing and wiring, nothing else.
#![forbid(unsafe_code)]

mod acls;
mod args;
mod client;
mod client_properties;
mod config_file;
mod connectors;
mod groups;
mod http_password;
mod http_security;
mod metrics;
mod output;
mod security;
mod serve;
mod users;

use std::io::IsTerminal;

use anyhow::Result;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use args::{Cli, Command, LogFormat};

/// mimalloc instead of the system allocator: the connect runtime allocates per record (values, strings, record
/// buffers) on several threads, where glibc's malloc spent a quarter of the worker's CPU in `scripts/bench connect`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    let raw: Vec<String> = std::env::args().collect();
    config_file::apply_from_args(&raw)?;
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => serve::up(*args).await,
            Command::Broker(args) => serve::broker(*args).await,
            Command::Registry(args) => serve::registry(args).await,
            Command::Connect(args) => serve::connect(args).await,
            Command::Topic { command } => client::topic(command).await,
            Command::Produce(args) => client::produce(args).await,
            Command::Consume(args) => client::consume(args).await,
            Command::Group { command } => groups::run(command).await,
            Command::Connector { command } => connectors::run(command).await,
            Command::User { command } => users::run(command).await,
            Command::Acl { command } => acls::run(command).await,
            Command::HttpUser { name, role } => http_password::print_line(&name, &role),
        }
    });
    match outcome {
        Err(e) if output::is_closed_pipe(&e) => Ok(()),
        other => other,
    }
}
