//! `heketi-doctor-agent`: read-only inventory of one GlusterFS/LVM node, served over gRPC with
//! mutual TLS (`serve`), printed once (`collect`) or written as a capture directory
//! (`capture`). The only program of the project that spawns processes, and only those of its
//! fixed command table (`collect::table`).

mod capture;
mod cli;
mod collect;
mod server;
mod text;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use clap::Parser;
use heketi_doctor_common::inventory::{NodeReport, SourceStatus};

use crate::cli::{Cli, CollectionArgs, Command, LogFormat, Output};
use crate::collect::table::Tool;
use crate::collect::{CollectConfig, ToolConfig};

/// Process exit codes, stable for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Ok = 0,
    SourcesFailed = 1,
    CouldNotRun = 2,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match (&cli.command, cli.verbose) {
        (_, 2..) => "debug",
        (Command::Serve(_), _) | (_, 1) => "info",
        _ => "warn",
    };
    init_logging(cli.log_format, default_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("heketi-doctor-agent: error: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::CouldNotRun as u8);
        }
    };
    let result = runtime.block_on(run(cli.command));
    // a hung file source may hold a blocking thread: do not wait for it
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            eprintln!("heketi-doctor-agent: error: {err:#}");
            ExitCode::from(Exit::CouldNotRun as u8)
        }
    }
}

fn init_logging(format: LogFormat, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Json => b.json().with_current_span(true).try_init(),
        LogFormat::Text => b.try_init(),
    };
}

async fn run(command: Command) -> Result<Exit> {
    match command {
        Command::Serve(a) => {
            let tls = match (a.insecure, a.tls_cert, a.tls_key, a.client_ca) {
                (true, ..) => None,
                (false, Some(cert), Some(key), Some(client_ca)) => Some(server::TlsFiles { cert, key, client_ca }),
                _ => bail!("TLS is required: give --tls-cert, --tls-key and --client-ca (or --insecure for plaintext)"),
            };
            let secs = Duration::from_secs;
            let policy = server::Policy {
                min_collect_interval: secs(a.min_collect_interval),
                watch_default: secs(a.watch_interval.max(a.watch_min_interval)),
                watch_min: secs(a.watch_min_interval.max(1)),
                watch_max: secs(3600).max(secs(a.watch_min_interval)),
            };
            let cfg = server::ServeConfig {
                listen: a.listen,
                tls,
                health_listen: a.health_listen,
                policy,
                collect: collect_config(&a.collect)?,
            };
            server::serve(cfg).await?;
            Ok(Exit::Ok)
        }
        Command::Collect(a) => {
            let cfg = collect_config(&a.collect)?;
            let start = Instant::now();
            let (report, _raw) = collect::collect_report(&cfg, a.raw).await;
            let wall = start.elapsed().as_millis() as u64;
            match a.output {
                Output::Json => println!("{}", report.to_json()?),
                Output::Text => print!("{}", text::render(&report, wall)),
            }
            Ok(exit_for(&report))
        }
        Command::Capture(a) => {
            let cfg = collect_config(&a.collect)?;
            if a.out.exists() && !a.force {
                bail!(
                    "{} already exists; choose another --out or add --force to replace it",
                    a.out.display()
                );
            }
            let (report, raw) = collect::collect_report(&cfg, false).await;
            capture::write_capture(&a.out, &raw, &report, a.force)?;
            eprintln!(
                "heketi-doctor-agent: wrote {} ({} sources, {} failed)",
                a.out.display(),
                report.sources.len(),
                heketi_doctor_proto::failed_sources(&report).len()
            );
            Ok(exit_for(&report))
        }
    }
}

fn exit_for(report: &NodeReport) -> Exit {
    let failed = report
        .sources
        .values()
        .any(|r| matches!(r.status, SourceStatus::Failed { .. } | SourceStatus::TimedOut));
    if failed {
        Exit::SourcesFailed
    } else {
        Exit::Ok
    }
}

fn collect_config(a: &CollectionArgs) -> Result<CollectConfig> {
    let mut tools = ToolConfig { dir: a.tool_dir.clone(), ..Default::default() };
    for spec in &a.tools {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| anyhow!("--tool {spec:?}: expected NAME=PATH (e.g. lvm=/usr/sbin/lvm)"))?;
        let tool = Tool::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
            anyhow!("--tool {spec:?}: unknown tool {name:?} (known: {})", known.join(", "))
        })?;
        tools.paths.insert(tool, path.into());
    }
    if let Some(d) = &a.tool_dir {
        if !d.is_dir() {
            bail!("--tool-dir {}: not a directory", d.display());
        }
    }
    if let Some(p) = &a.command_prefix {
        tools.prefix = p.split_whitespace().map(str::to_string).collect();
        if tools.prefix.is_empty() {
            bail!("--command-prefix: empty");
        }
    }
    if !a.host_root.is_dir() {
        bail!("--host-root {}: not a directory", a.host_root.display());
    }
    if a.command_timeout == 0 {
        bail!("--command-timeout: must be at least 1 second");
    }
    Ok(CollectConfig {
        tools,
        host_root: a.host_root.clone(),
        proc_mounts: a.proc_mounts.clone(),
        gluster_remote_host: a.gluster_remote_host.clone(),
        timeout: Duration::from_secs(a.command_timeout),
        max_output: a.max_output_bytes.max(1024),
        gluster_block: !a.no_gluster_block,
    })
}
