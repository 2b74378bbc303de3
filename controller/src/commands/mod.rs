//! One module per subcommand; each returns the process exit code.

mod certs;
mod check;
pub mod collect;
mod export;
mod import;
mod inspect;
mod rebuild;
mod report;
mod serve;

use anyhow::Result;

use crate::cli::Command;
use crate::Exit;

pub fn run(cmd: Command) -> Result<Exit> {
    match cmd {
        Command::Export(a) => export::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Import(a) => import::run(a),
        Command::Check(a) => check::run_check(a),
        Command::Diff(a) => check::run_diff(a),
        Command::Rebuild(a) => rebuild::run(a),
        Command::Collect(a) => collect::run(a),
        Command::Certs(a) => certs::run(a),
        Command::Report(a) => report::run(a),
        Command::Serve(a) => serve::run(a),
    }
}
