//! Collection: the fixed command table ([`table`]) run concurrently by the runner
//! ([`runner`]), plus file/syscall sources ([`files`]), into [`RawSources`]; the report is
//! assembled by `common::inventory::report_from_raw` (the same code the controller runs on
//! capture directories).

pub mod files;
pub mod runner;
pub mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use heketi_doctor_common::inventory::{
    parse_glusterd_volinfo, parse_volume_info_xml, report_from_raw, Format, NodeReport, RawOutcome, RawPart,
    RawSource, RawSources, ReportMeta, Source,
};
use tracing::debug;

use self::files::Missing;
use self::runner::Limits;
use self::table::{Command, Entry, FallbackWhen, Tool, TABLE};

/// Directories searched for tools not configured otherwise (the agent's own PATH is not used).
const SEARCH_PATH: &[&str] = &["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
/// Cap for files read (store files, fstab, mounts).
const MAX_FILE: usize = 16 << 20;
/// gluster-block commands run at most this many at a time.
const GLUSTER_BLOCK_PARALLEL: usize = 4;

/// Where tools are and how to run them: operator configuration only.
#[derive(Clone, Debug, Default)]
pub struct ToolConfig {
    /// `--tool NAME=PATH`.
    pub paths: BTreeMap<Tool, PathBuf>,
    /// `--tool-dir DIR`: tools are looked up here first.
    pub dir: Option<PathBuf>,
    /// `--command-prefix`: argv put before every command (e.g. `nsenter --target 1 --mount --`).
    pub prefix: Vec<String>,
}

impl ToolConfig {
    /// The argv start for `tool`, or `None` when it is not installed.
    fn resolve(&self, tool: Tool) -> Option<Vec<String>> {
        let program = if let Some(p) = self.paths.get(&tool) {
            // without a prefix the path is on this filesystem: absent means not installed
            if self.prefix.is_empty() && !p.exists() {
                return None;
            }
            p.display().to_string()
        } else if let Some(p) = self.dir.as_ref().map(|d| d.join(tool.name())).filter(|p| p.exists()) {
            p.display().to_string()
        } else if !self.prefix.is_empty() {
            // resolved inside the prefix's namespace
            tool.name().to_string()
        } else {
            SEARCH_PATH
                .iter()
                .map(|d| Path::new(d).join(tool.name()))
                .find(|p| p.exists())?
                .display()
                .to_string()
        };
        let mut argv = self.prefix.clone();
        argv.push(program);
        Some(argv)
    }
}

/// Everything that decides what the agent collects.
#[derive(Clone, Debug)]
pub struct CollectConfig {
    pub tools: ToolConfig,
    /// The node's root as the agent sees it (`/`, `/host`, `/proc/<pid>/root`).
    pub host_root: PathBuf,
    /// The mount table file (`/proc/self/mounts`, `/proc/1/mounts`).
    pub proc_mounts: PathBuf,
    /// gluster `--remote-host`.
    pub gluster_remote_host: Option<String>,
    /// Per command (and per file source).
    pub timeout: Duration,
    /// stdout cap per command; more is recorded as truncated (an error).
    pub max_output: usize,
    /// Query gluster-block (when installed).
    pub gluster_block: bool,
}

impl Default for CollectConfig {
    fn default() -> Self {
        CollectConfig {
            tools: ToolConfig::default(),
            host_root: PathBuf::from("/"),
            proc_mounts: PathBuf::from("/proc/self/mounts"),
            gluster_remote_host: None,
            timeout: Duration::from_secs(60),
            max_output: 64 << 20,
            gluster_block: true,
        }
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Collects and assembles a report (with raw outputs kept in it when `include_raw`).
pub async fn collect_report(cfg: &CollectConfig, include_raw: bool) -> (NodeReport, RawSources) {
    let collected_at = unix_now();
    let raw = collect_raw(cfg).await;
    let meta = ReportMeta {
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at,
        include_raw,
        ..Default::default()
    };
    (report_from_raw(&raw, &meta), raw)
}

/// Runs every source concurrently.
pub async fn collect_raw(cfg: &CollectConfig) -> RawSources {
    let cfg = Arc::new(cfg.clone());
    let entry = |source: Source| -> Entry {
        *TABLE.iter().find(|e| e.source == source).expect("every command source is in the table")
    };
    let cmd = |source: Source| {
        let cfg = cfg.clone();
        async move { (source, run_entry(&cfg, &entry(source)).await) }
    };
    let file = |source: Source, f: fn(&CollectConfig) -> RawSource| {
        let cfg = cfg.clone();
        async move { (source, blocking(&cfg, f).await) }
    };
    let gluster_chain = {
        let cfg = cfg.clone();
        async move {
            let info_entry = entry(Source::GlusterVolumeInfo);
            let (info, store) = tokio::join!(
                run_entry(&cfg, &info_entry),
                blocking(&cfg, |c| files::glusterd_store(&c.host_root, MAX_FILE))
            );
            let block = gluster_block(&cfg, &info, &store).await;
            vec![
                (Source::GlusterVolumeInfo, info),
                (Source::GlusterdStore, store),
                (Source::GlusterBlock, block),
            ]
        }
    };
    let (a, b, c, d, e, f, g, h, i, j, k, l, m, chain) = tokio::join!(
        file(Source::Hostname, |c| files::hostname(&c.host_root)),
        cmd(Source::Addresses),
        file(Source::GlusterdInfo, |c| files::file_source(
            &c.host_root,
            "/var/lib/glusterd/glusterd.info",
            MAX_FILE,
            Missing::NotInstalled("glusterd")
        )
        .with_format(Format::GlusterdInfo)),
        cmd(Source::Vgs),
        cmd(Source::Pvs),
        cmd(Source::Lvs),
        cmd(Source::Lsblk),
        cmd(Source::GlusterVolumeStatus),
        cmd(Source::GlusterPeerStatus),
        cmd(Source::GlusterPoolList),
        file(Source::ProcMounts, |c| files::proc_mounts(&c.proc_mounts, MAX_FILE)),
        file(Source::HeketiFstab, |c| files::file_source(
            &c.host_root,
            files::HEKETI_FSTAB,
            MAX_FILE,
            Missing::Empty
        )
        .with_format(Format::Fstab)),
        file(Source::BrickDirs, |c| files::brick_dirs(&c.host_root)),
        gluster_chain,
    );
    let mut raw: RawSources = [a, b, c, d, e, f, g, h, i, j, k, l, m].into_iter().collect();
    raw.extend(chain);
    raw
}

/// A file/syscall source on the blocking pool, under the same timeout as commands (a hung
/// filesystem leaves a thread behind but not the report).
async fn blocking(cfg: &Arc<CollectConfig>, f: fn(&CollectConfig) -> RawSource) -> RawSource {
    let start = Instant::now();
    let c = cfg.clone();
    let task = tokio::task::spawn_blocking(move || f(&c));
    let mut r = match tokio::time::timeout(cfg.timeout, task).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => RawSource::new("", RawOutcome::Error { error: format!("collector task failed: {e}") }),
        Err(_) => RawSource::new("", RawOutcome::TimedOut { output: Default::default() }),
    };
    r.duration_ms = start.elapsed().as_millis() as u64;
    r
}

/// The full argv of a table command, or `None` when its tool is not installed.
fn argv_for(cfg: &CollectConfig, c: &Command) -> Option<Vec<String>> {
    let mut argv = cfg.tools.resolve(c.tool)?;
    if c.tool == Tool::Gluster {
        argv.extend(table::gluster_global_args(cfg.gluster_remote_host.as_deref()));
    }
    argv.extend(c.args.iter().map(|a| a.to_string()));
    Some(argv)
}

fn limits(cfg: &CollectConfig) -> Limits {
    Limits { timeout: cfg.timeout, max_stdout: cfg.max_output }
}

/// Runs one table entry (and its fallback when the primary is refused).
async fn run_entry(cfg: &CollectConfig, e: &Entry) -> RawSource {
    let start = Instant::now();
    let mut r = run_command(cfg, e.source, &e.primary).await;
    if let Some((when, fallback)) = &e.fallback {
        let use_fallback = match &r.outcome {
            RawOutcome::Done { output, .. } if output.exit_code != Some(0) => match when {
                FallbackWhen::Failed => true,
                FallbackWhen::OptionRejected => table::option_rejected(&output.stderr),
            },
            _ => false,
        };
        if use_fallback {
            let first = r.command.clone();
            let why = match &r.outcome {
                RawOutcome::Done { output, .. } => {
                    output.stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string()
                }
                _ => String::new(),
            };
            debug!(source = ?e.source, %first, %why, "falling back");
            r = run_command(cfg, e.source, fallback).await;
            r.notes.push(format!("`{first}` failed ({why}); used this fallback"));
        }
    }
    r.duration_ms = start.elapsed().as_millis() as u64;
    r
}

async fn run_command(cfg: &CollectConfig, source: Source, c: &Command) -> RawSource {
    let Some(argv) = argv_for(cfg, c) else {
        let mut r = RawSource::new(c.tool.name(), RawOutcome::NotInstalled { tool: c.tool.name().into() });
        r.format = c.format;
        return r;
    };
    let run = runner::run(&argv, c.tool.name(), !cfg.tools.prefix.is_empty(), limits(cfg)).await;
    debug!(?source, command = %runner::display(&argv), ms = run.duration.as_millis() as u64, "ran");
    let mut r = RawSource::new(runner::display(&argv), run.outcome);
    r.format = c.format;
    r.duration_ms = run.duration.as_millis() as u64;
    r
}

/// Block-hosting volumes: `features.shard` on (heketi creates them with the
/// `group gluster-block` options), from `volume info` or, when that failed, the store.
fn block_hosting_volumes(info: &RawSource, store: &RawSource) -> Vec<String> {
    let sharded = |opts: &BTreeMap<String, String>| {
        opts.get("features.shard").is_some_and(|v| v == "on" || v == "enable")
    };
    if let RawOutcome::Done { output, truncated: false } = &info.outcome {
        if let Ok(vols) = parse_volume_info_xml(&output.stdout) {
            return vols.into_iter().filter(|v| sharded(&v.options)).map(|v| v.name).collect();
        }
    }
    store
        .parts
        .iter()
        .filter_map(|(key, part)| {
            let vol = key.strip_prefix("vols/")?.strip_suffix("/info")?;
            let RawOutcome::Done { output, .. } = &part.outcome else { return None };
            let vi = parse_glusterd_volinfo(&output.stdout).ok()?;
            sharded(&vi.options).then(|| vol.to_string())
        })
        .collect()
}

/// `gluster-block list` per block-hosting volume, `info` per block volume; parts
/// `list/<vol>` and `info/<vol>/<block>`.
async fn gluster_block(cfg: &CollectConfig, info: &RawSource, store: &RawSource) -> RawSource {
    let start = Instant::now();
    let tool = Tool::GlusterBlock;
    if !cfg.gluster_block {
        return RawSource::new(
            tool.name(),
            RawOutcome::Skipped { reason: "disabled (--no-gluster-block)".into() },
        );
    }
    let Some(base) = cfg.tools.resolve(tool) else {
        return RawSource::new(tool.name(), RawOutcome::NotInstalled { tool: tool.name().into() });
    };
    let volumes = block_hosting_volumes(info, store);
    let mut r =
        RawSource::new(format!("{} list|info <vol> --json", runner::display(&base)), RawOutcome::ok(""));
    r.format = Some(Format::GlusterBlockJson);
    if volumes.is_empty() {
        r.notes.push("no block-hosting volumes (features.shard=on)".into());
    }
    let via_prefix = !cfg.tools.prefix.is_empty();
    let run_all = |jobs: Vec<(String, Vec<String>)>| {
        let base = base.clone();
        async move {
            let sem = Arc::new(tokio::sync::Semaphore::new(GLUSTER_BLOCK_PARALLEL));
            let mut set = tokio::task::JoinSet::new();
            for (key, args) in jobs {
                let mut argv = base.clone();
                argv.extend(args);
                let sem = sem.clone();
                let lim = limits(cfg);
                set.spawn(async move {
                    let _permit = sem.acquire_owned().await;
                    let run = runner::run(&argv, tool.name(), via_prefix, lim).await;
                    (key, RawPart { command: runner::display(&argv), outcome: run.outcome })
                });
            }
            let mut out = Vec::new();
            while let Some(j) = set.join_next().await {
                if let Ok(p) = j {
                    out.push(p);
                }
            }
            out
        }
    };
    let lists =
        run_all(volumes.iter().map(|v| (format!("list/{v}"), table::gluster_block_list_args(v))).collect())
            .await;
    let mut infos = Vec::new();
    for (key, part) in &lists {
        let vol = key.trim_start_matches("list/");
        if let RawOutcome::Done { output, .. } = &part.outcome {
            if let Ok(names) = heketi_doctor_common::inventory::parse_gluster_block_list_json(&output.stdout)
            {
                infos.extend(
                    names.iter().map(|b| (format!("info/{vol}/{b}"), table::gluster_block_info_args(vol, b))),
                );
            }
        }
    }
    let infos = run_all(infos).await;
    r.parts.extend(lists);
    r.parts.extend(infos);
    r.duration_ms = start.elapsed().as_millis() as u64;
    r
}
