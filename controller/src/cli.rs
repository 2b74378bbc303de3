use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "Exit codes: 0 ok / no drift, 1 drift found, 2 could not run (bad input, \
                          unreachable agents), 3 salvaged with losses.";

/// Tell the truth about a GlusterFS cluster managed by Heketi, and repair heketi.db from it.
#[derive(Debug, Parser)]
#[command(name = "heketi-doctor", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the JSON `heketi db export` would write for a heketi.db (no heketi binary, no lock).
    Export(ExportArgs),
    /// One-screen summary of a heketi database: schema, entry counts, clusters, pending
    /// operations, file layout.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct DbArg {
    /// The database: a heketi.db (BoltDB), an export JSON (`heketi db export`, `heketi-cli db
    /// dump`), or either gzipped. Detected by content; opened read-only, never locked.
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
}

#[derive(Debug, Args)]
pub struct OutputArg {
    /// Output file; `-` or absent = stdout. Written atomically (temp file, fsync, rename).
    #[arg(short = 'o', long = "output-file", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArg,
    #[command(flatten)]
    pub out: OutputArg,
    /// Salvage a damaged heketi.db (`invalid page type`, zeroed or overwritten pages, destroyed
    /// meta pages, truncation): export every entry still intact and report on stderr what was
    /// damaged, where each entry came from and which ids are referenced but lost. Exit 0 if the
    /// file read cleanly, 3 if it was damaged, 2 if nothing was usable.
    #[arg(long)]
    pub salvage: bool,
    /// With --salvage: write the salvage report as JSON to FILE instead of the text report on
    /// stderr (atomic; --force replaces an existing file).
    #[arg(long, value_name = "FILE", requires = "salvage")]
    pub report_json: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}
