//! Command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// heketi-doctor node agent: read-only inventory of LVM, block devices, GlusterFS and heketi
/// brick mounts on this node, served over gRPC with mutual TLS.
///
/// The agent runs only its fixed command table (lvm vgs/pvs/lvs, lsblk, gluster volume
/// info|status / peer status / pool list, gluster-block list|info, ip address), never a shell;
/// nothing a client sends changes what runs.
///
/// Exit codes: 0 ok, 1 report produced but some source failed (collect, capture),
/// 2 could not run (bad flag, unreadable certificate, port in use).
#[derive(Debug, Parser)]
#[command(name = "heketi-doctor-agent", version)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// More logs (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve heketidoctor.v1.NodeInventory (+ grpc.health.v1) with mutual TLS.
    Serve(ServeArgs),
    /// Collect once and print the report (debugging).
    Collect(CollectArgs),
    /// Collect once and write every raw output plus a manifest into a directory (air-gapped
    /// sites; `heketi-doctor` reads such directories offline).
    Capture(CaptureArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:9477")]
    pub listen: SocketAddr,
    /// The agent's certificate (PEM, with intermediates).
    #[arg(long, value_name = "FILE", required_unless_present = "insecure")]
    pub tls_cert: Option<PathBuf>,
    /// The agent's private key (PEM).
    #[arg(long, value_name = "FILE", required_unless_present = "insecure")]
    pub tls_key: Option<PathBuf>,
    /// CA certificate(s) (PEM) that client certificates must chain to.
    #[arg(long, value_name = "FILE", required_unless_present = "insecure")]
    pub client_ca: Option<PathBuf>,
    /// Serve plaintext without client authentication (tests, port-forwarding); logs a warning.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key", "client_ca"])]
    pub insecure: bool,
    /// Also serve only grpc.health.v1 in plaintext here (kubelet gRPC probes cannot do mTLS).
    #[arg(long, value_name = "ADDR:PORT")]
    pub health_listen: Option<SocketAddr>,
    /// Never collect more often than this for Collect calls (a newer report is shared).
    #[arg(long, value_name = "SECS", default_value_t = 2)]
    pub min_collect_interval: u64,
    /// Watch interval when the client asks for none.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub watch_interval: u64,
    /// Smallest Watch interval a client may ask for.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub watch_min_interval: u64,
    #[command(flatten)]
    pub collect: CollectionArgs,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Include every raw output in the JSON report.
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub collect: CollectionArgs,
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Directory to create (must not exist unless --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing DIR.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub collect: CollectionArgs,
}

/// Where the node's tools and files are. Operator configuration only.
#[derive(Debug, Args)]
pub struct CollectionArgs {
    /// The node's root filesystem as the agent sees it (e.g. /host, /proc/<pid>/root).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub host_root: PathBuf,
    /// Mount table to read (in a container with hostPID: /proc/1/mounts).
    #[arg(long, value_name = "FILE", default_value = "/proc/self/mounts")]
    pub proc_mounts: PathBuf,
    /// Look tools up in this directory first (lvm, lsblk, gluster, gluster-block, ip).
    #[arg(long, value_name = "DIR")]
    pub tool_dir: Option<PathBuf>,
    /// Path of one tool, e.g. --tool lvm=/usr/sbin/lvm (repeatable).
    #[arg(long = "tool", value_name = "NAME=PATH")]
    pub tools: Vec<String>,
    /// Words put before every command, split on whitespace
    /// (e.g. 'nsenter --target 1 --mount --uts --ipc --net --pid --').
    #[arg(long, value_name = "ARGS")]
    pub command_prefix: Option<String>,
    /// gluster --remote-host for the gluster commands.
    #[arg(long, value_name = "HOST")]
    pub gluster_remote_host: Option<String>,
    /// Timeout per command (and per file source); the process group is killed after it.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub command_timeout: u64,
    /// stdout cap per command; a longer output is an error for that source.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_output_bytes: usize,
    /// Do not query gluster-block.
    #[arg(long)]
    pub no_gluster_block: bool,
}
