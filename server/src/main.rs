use std::process::ExitCode;

use clap::Parser;
use herald_server::cli::{self, Cli, Command, Outcome};
use tracing_subscriber::EnvFilter;

/// Messages are allocated on one thread and freed on another, all the time; glibc's
/// allocator serializes that on arena locks, mimalloc does not (about twice the
/// in-process throughput of `herald bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs its life at info; the client commands speak only when asked.
    let default_level = if matches!(cli.command, Command::Serve(_)) { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match cli::run(cli) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::TimedOut) => ExitCode::from(cli::EXIT_TIMEOUT),
        Err(message) => {
            eprintln!("herald: {message}");
            ExitCode::FAILURE
        }
    }
}
