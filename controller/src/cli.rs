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
    /// Write a new heketi.db from an export JSON (what `heketi db import` does), without heketi.
    Import(ImportArgs),
    /// Check a heketi database on its own: references, lists, accounting, pending operations.
    Check(CheckArgs),
    /// Compare a heketi database with the real cluster (a snapshot from `collect`).
    Diff(DiffArgs),
    /// Rebuild an import-ready heketi DB (export JSON) from the DB and the real cluster.
    Rebuild(RebuildArgs),
    /// Gather every node's report (from agents over mTLS, or capture directories) into a snapshot.
    Collect(CollectArgs),
    /// Create a CA plus agent and controller certificates (for sites without cert-manager).
    Certs(CertsArgs),
    /// One scheduled run: collect + diff, a timestamped JSON and Markdown report, what changed
    /// since the previous one, and Prometheus metrics for the textfile collector.
    Report(ReportArgs),
    /// Run `report` periodically and serve /metrics, /healthz and the latest report over HTTP.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// HTTP address for /metrics, /healthz, /report (Markdown) and /report.json.
    #[arg(long, default_value = "0.0.0.0:9480")]
    pub listen: String,
    /// Time between reports: `90s`, `15m`, `1h`.
    #[arg(long, default_value = "1h", value_parser = parse_interval)]
    pub interval: std::time::Duration,
    #[command(flatten)]
    pub report: ReportArgs,
}

fn parse_interval(s: &str) -> Result<std::time::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("{s:?}: expected a number and s, m or h (e.g. 1h)"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?}: unit must be s, m or h")),
    };
    if secs == 0 {
        return Err("the interval must be positive".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// The cluster's state from a snapshot file (or collect now with the flags below).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["agents", "agents_dns", "from_dirs"])]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub collect: CollectSources,
    /// Kubernetes PVs (`kubectl get pv -o json`) as a third source.
    #[arg(long, value_name = "FILE")]
    pub pvs: Option<PathBuf>,
    /// Where reports, `latest.*` and `heketi_doctor.prom` go.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// How many timestamped reports to keep.
    #[arg(long, default_value_t = 24)]
    pub keep: usize,
    /// Also write the rebuild plan (what `rebuild` would change) into the report.
    #[arg(long)]
    pub rebuild_preview: bool,
    /// Also push the metrics to this Prometheus Pushgateway (`http://pushgateway:9091`).
    #[arg(long, value_name = "URL")]
    pub pushgateway: Option<String>,
}

#[derive(Debug, Args)]
pub struct CertsArgs {
    /// Directory for ca.crt/ca.key, agent.crt/agent.key, controller.crt/controller.key.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Names (DNS or IP) the agent certificate is valid for; repeatable. Default: the headless
    /// Service names and localhost.
    #[arg(long = "agent-name", value_name = "NAME")]
    pub agent_names: Vec<String>,
    /// Validity in days.
    #[arg(long, default_value_t = 825)]
    pub days: u32,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub sources: CollectSources,
    /// Write the snapshot here (atomically); `-` or absent = stdout.
    #[arg(short = 'o', long = "output-file", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// Where node reports come from: agents (mTLS gRPC) or capture directories (offline).
#[derive(Debug, Args, Clone)]
pub struct CollectSources {
    /// An agent to ask (HOST:PORT); repeatable.
    #[arg(long = "agent", value_name = "HOST:PORT")]
    pub agents: Vec<String>,
    /// Every address of this DNS name is an agent (a Kubernetes headless Service): NAME:PORT.
    #[arg(long, value_name = "NAME:PORT")]
    pub agents_dns: Option<String>,
    /// A directory written by `heketi-doctor-agent capture` (one per node); repeatable.
    #[arg(long = "from-dir", value_name = "DIR")]
    pub from_dirs: Vec<PathBuf>,
    /// CA that signed the agents' certificates.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The controller's client certificate and key (signed by the CA the agents trust).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Name to verify in the agents' certificates (needed when agents are addressed by IP).
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Plaintext gRPC, for agents started with --insecure (test setups only).
    #[arg(long)]
    pub insecure: bool,
    /// Per-agent deadline for one attempt, in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Attempts after the first, with exponential backoff (1 s, 2 s, 4 s …).
    #[arg(long, default_value_t = 2)]
    pub retries: u32,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// The base: the current heketi.db, an older backup or export. Not needed with --from-scratch.
    #[arg(long, value_name = "FILE", required_unless_present = "from_scratch")]
    pub db: Option<PathBuf>,
    /// Start from nothing (the DB is lost): everything comes from the cluster.
    #[arg(long, conflicts_with = "db")]
    pub from_scratch: bool,
    /// The DB is damaged: use everything salvage recovers from it as the base (the salvage
    /// report goes to stderr; what it lost is filled in from the cluster).
    #[arg(long, requires = "db")]
    pub salvage: bool,
    /// The cluster's state: a snapshot written by `heketi-doctor collect -o` (or collect now
    /// with --agent / --agents-dns / --from-dir).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["agents", "agents_dns", "from_dirs"])]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub collect: CollectSources,
    /// Where to write the repaired export JSON (for `heketi db import` or `heketi-doctor import`).
    #[arg(short = 'o', long = "output-file", value_name = "FILE", required_unless_present = "dry_run")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Also write the plan as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Print the plan only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keep DB entries that no longer exist in the cluster instead of removing them.
    #[arg(long)]
    pub keep_missing: bool,
    /// Keep pending operations (default: clear them; their entries are reconciled).
    #[arg(long)]
    pub keep_pending: bool,
    /// The cluster id to use when the DB has none (e.g. the StorageClass `clusterid`).
    #[arg(long, value_name = "ID")]
    pub cluster_id: Option<String>,
    /// Known node ids: HOST=ID (HOST = manage or storage hostname); repeatable.
    #[arg(long = "node-id", value_name = "HOST=ID")]
    pub node_ids: Vec<String>,
    /// `heketi-cli topology info --json` output from before the damage: cluster and node ids.
    #[arg(long, value_name = "FILE")]
    pub topology: Option<PathBuf>,
    /// Plan format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output_format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Kubernetes PVs (`kubectl get pv -o json`) to compare too: volume ids, gids, sizes.
    #[arg(long, value_name = "FILE")]
    pub pvs: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// The cluster's state: a snapshot written by `heketi-doctor collect -o` (or collect now
    /// with --agent / --agents-dns / --from-dir).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["agents", "agents_dns", "from_dirs"])]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub collect: CollectSources,
    /// Kubernetes PVs (`kubectl get pv -o json`) as a third source.
    #[arg(long, value_name = "FILE")]
    pub pvs: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export JSON to import (a bolt file or gzip is accepted too).
    #[arg(long, value_name = "FILE")]
    pub json: PathBuf,
    /// The new heketi.db to create; refused if it exists.
    #[arg(long, value_name = "FILE")]
    pub db_out: PathBuf,
    /// Page size of the new file: 4096 for x86-64/arm64 heketi hosts, 65536 for ppc64le.
    #[arg(long, default_value_t = 4096, value_parser = parse_page_size)]
    pub page_size: usize,
    /// Leave out the MANAGE/STORAGE hostname registry keys (heketi v10's own import does).
    #[arg(long)]
    pub no_registry_keys: bool,
}

#[derive(Debug, Args, Clone)]
pub struct DbArg {
    /// The database: a heketi.db (BoltDB), an export JSON (`heketi db export`, `heketi-cli db
    /// dump`), or either gzipped — detected by content; opened read-only, never locked. Or a
    /// running heketi's URL (`http://heketi:8080`): its `GET /db/dump`, authenticated with
    /// HEKETI_CLI_USER / HEKETI_CLI_KEY.
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

fn parse_page_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n.is_power_of_two() && (1024..=65536).contains(&n) => Ok(n),
        _ => Err("a power of two from 1024 to 65536 (4096 on x86-64, 65536 on ppc64le)".into()),
    }
}
