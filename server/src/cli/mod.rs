//! The `herald` command line: `serve`, `passwd` and the everyday client commands.

mod bench;
mod client;
mod relay;
mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use client::Outcome;

/// The exit status of `herald receive` when its timeout passes first.
pub const EXIT_TIMEOUT: u8 = 3;

#[derive(Debug, Parser)]
#[command(name = "herald", version, about = "Herald: a JMS message broker", propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the broker as a server.
    Serve(ServeArgs),
    /// Print the argon2 hash of a password (read from stdin) for the config file.
    Passwd,
    /// Send messages: BODY, or one per line of stdin when BODY is not given.
    Send(SendArgs),
    /// Receive messages and print each body on its own line.
    Receive(ReceiveArgs),
    /// Print the messages waiting on a queue without consuming them.
    Browse(BrowseArgs),
    /// Print every destination with its depth, consumers and counts.
    Stat(ClientArgs),
    /// Measure throughput and latency.
    Bench(bench::BenchArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides the config file's listeners).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Data directory (default ./herald-data).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Clone, Debug, Args)]
pub struct ClientArgs {
    /// The broker: tcp://HOST:PORT (optionally ?user=U&password=P) or vm://NAME.
    #[arg(long, default_value = "tcp://127.0.0.1:7171", env = "HERALD_URL")]
    pub url: String,
    #[arg(long, env = "HERALD_USER")]
    pub user: Option<String>,
    #[arg(long, env = "HERALD_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

#[derive(Clone, Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    #[arg(long, value_name = "NAME")]
    pub queue: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub topic: Option<String>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub target: Target,
    /// Send each body this many times.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// Without BODY: send bodies of this many bytes instead of reading stdin.
    #[arg(long, value_name = "BYTES")]
    pub size: Option<usize>,
    /// PERSISTENT delivery (the default, as in JMS).
    #[arg(long, conflicts_with = "non_persistent")]
    pub persistent: bool,
    #[arg(long)]
    pub non_persistent: bool,
    /// A property, k=v (int, long, double and boolean inferred from v) or k:TYPE=v.
    #[arg(long = "property", value_name = "K=V")]
    pub properties: Vec<String>,
    /// Priority 0-9.
    #[arg(long)]
    pub priority: Option<u8>,
    /// Time to live in milliseconds.
    #[arg(long, value_name = "MS")]
    pub ttl: Option<i64>,
    pub body: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReceiveArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub target: Target,
    /// A durable subscription name (topics; needs --client-id).
    #[arg(long, requires = "client_id")]
    pub durable: Option<String>,
    #[arg(long)]
    pub client_id: Option<String>,
    #[arg(long)]
    pub selector: Option<String>,
    /// Exit once this many messages have arrived.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// Give up (exit status 3) after this many milliseconds in total.
    #[arg(long, value_name = "MS")]
    pub timeout: Option<u64>,
    /// Print headers and properties too.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct BrowseArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[arg(long, value_name = "NAME")]
    pub queue: String,
    #[arg(long)]
    pub selector: Option<String>,
    #[arg(long, short)]
    pub verbose: bool,
}

/// Runs a command. `Err` is a one-line message for stderr.
pub fn run(cli: Cli) -> Result<Outcome, String> {
    match cli.command {
        Command::Serve(args) => serve::serve(args).map(|()| Outcome::Done),
        Command::Passwd => client::passwd().map(|()| Outcome::Done),
        Command::Send(args) => client::send(args).map(|()| Outcome::Done),
        Command::Receive(args) => client::receive(args),
        Command::Browse(args) => client::browse(args).map(|()| Outcome::Done),
        Command::Stat(args) => client::stat(args).map(|()| Outcome::Done),
        Command::Bench(args) => bench::bench(args).map(|()| Outcome::Done),
    }
}
