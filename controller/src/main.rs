//! `heketi-doctor`: tells a GlusterFS operator the truth about their cluster and rebuilds a broken
//! Heketi database from it.
//!
//! Exit codes (documented in `--help` and the README):
//! 0 ok / no drift, 1 drift found, 2 could not run (bad input, no agents), 3 salvaged with losses.

mod cli;
mod clock;
mod commands;
mod http_client;
mod input;
mod output;

use std::process::ExitCode;

use clap::Parser;

/// Process exit codes, stable for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Drift = 1,
    CouldNotRun = 2,
    SalvagedWithLosses = 3,
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose);
    match commands::run(cli.command) {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            // One line, the whole cause chain, no backtrace: what an operator at 3 a.m. needs.
            eprintln!("heketi-doctor: error: {err:#}");
            ExitCode::from(Exit::CouldNotRun as u8)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
