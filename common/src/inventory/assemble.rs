//! Raw outputs → [`NodeReport`]: the one code path shared by the agent's live collection and
//! the controller's offline reading of capture directories ([`super::capture`]).
//!
//! The agent runs its command table and reads its files into a [`RawSources`] map (one
//! [`RawSource`] per [`Source`]: how it ran, stdout/stderr/exit code, or why it did not run);
//! [`report_from_raw`] parses each with the matching parser and records a per-source status.
//! Every source fails on its own: garbage, empty, truncated or timed-out output gives that
//! source a `Failed`/`TimedOut` status and the rest of the report still arrives.
//!
//! Cross-source rules:
//! - `vgs`/`pvs`/`lvs` are merged and [`LvmReport::resolve`]d.
//! - When `gluster volume info` fails (glusterd down) the volumes come from glusterd's store
//!   (`/var/lib/glusterd/vols`), likewise the peers when `gluster peer status` fails; the
//!   store's record says so in a warning.
//! - The node's gluster UUID comes from `glusterd.info`, else from `pool list`'s `localhost`.
//! - Brick facts join the brick-dir listing, `/proc/mounts` and heketi's fstab
//!   ([`assemble_brick_facts`]); the listing may also carry the mount-point directories
//!   themselves (`<root>/vg_*/<dir>` lines), which become mount points without a brick dir.
//!
//! Pure: no I/O, no clock (the collection time comes in [`ReportMeta`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::bricks::{assemble_brick_facts, parse_brick_dirs};
use super::error::{Format, ParseError};
use super::gluster::{GlusterVolume, Peer};
use super::gluster_block::{
    parse_gluster_block_info_json, parse_gluster_block_info_text, parse_gluster_block_list_json,
};
use super::gluster_text::{parse_peer_status_text, parse_pool_list_text, parse_volume_info_text};
use super::gluster_xml::{
    parse_peer_status_xml, parse_pool_list_xml, parse_volume_info_xml, parse_volume_status_xml,
};
use super::glusterd_store::{
    parse_glusterd_brickinfo, parse_glusterd_info, parse_glusterd_peer, parse_glusterd_volinfo,
    GlusterdBrickInfo,
};
use super::lsblk::{parse_lsblk_json, parse_lsblk_pairs, parse_lsblk_tree};
use super::lvm::{
    parse_lvm_json, parse_lvm_nameprefixes, parse_lvm_table, parse_vgdisplay_colon, LvmKind, LvmReport,
};
use super::mounts::{parse_fstab, parse_mountinfo, parse_proc_mounts};
use super::naming::HEKETI_MOUNTS_ROOT;
use super::report::{BlockHostingVolume, NodeReport, RawOutput, Source, SourceRecord, SourceStatus};

/// Raw material of a whole node, one entry per source that was attempted.
pub type RawSources = BTreeMap<Source, RawSource>;

/// Every source, in report order. A new [`Source`] variant must be added here
/// ([`source_name`]'s exhaustive match makes the compiler point at it).
pub const ALL_SOURCES: [Source; 16] = [
    Source::Hostname,
    Source::Addresses,
    Source::GlusterdInfo,
    Source::Vgs,
    Source::Pvs,
    Source::Lvs,
    Source::Lsblk,
    Source::GlusterVolumeInfo,
    Source::GlusterVolumeStatus,
    Source::GlusterPeerStatus,
    Source::GlusterPoolList,
    Source::GlusterdStore,
    Source::ProcMounts,
    Source::HeketiFstab,
    Source::BrickDirs,
    Source::GlusterBlock,
];

/// The source's name as it appears in the report JSON (`gluster-volume-info`).
pub fn source_name(source: Source) -> &'static str {
    match source {
        Source::Hostname => "hostname",
        Source::Addresses => "addresses",
        Source::GlusterdInfo => "glusterd-info",
        Source::Vgs => "vgs",
        Source::Pvs => "pvs",
        Source::Lvs => "lvs",
        Source::Lsblk => "lsblk",
        Source::GlusterVolumeInfo => "gluster-volume-info",
        Source::GlusterVolumeStatus => "gluster-volume-status",
        Source::GlusterPeerStatus => "gluster-peer-status",
        Source::GlusterPoolList => "gluster-pool-list",
        Source::GlusterdStore => "glusterd-store",
        Source::ProcMounts => "proc-mounts",
        Source::HeketiFstab => "heketi-fstab",
        Source::BrickDirs => "brick-dirs",
        Source::GlusterBlock => "gluster-block",
    }
}

/// The parser a source uses when its [`RawSource::format`] is not given.
pub fn default_format(source: Source) -> Option<Format> {
    Some(match source {
        Source::Hostname | Source::Addresses | Source::GlusterdStore => return None,
        Source::GlusterdInfo => Format::GlusterdInfo,
        Source::Vgs | Source::Pvs | Source::Lvs => Format::LvmJson,
        Source::Lsblk => Format::LsblkJson,
        Source::GlusterVolumeInfo => Format::GlusterVolumeInfoXml,
        Source::GlusterVolumeStatus => Format::GlusterVolumeStatusXml,
        Source::GlusterPeerStatus => Format::GlusterPeerStatusXml,
        Source::GlusterPoolList => Format::GlusterPoolListXml,
        Source::ProcMounts => Format::ProcMounts,
        Source::HeketiFstab => Format::Fstab,
        Source::BrickDirs => Format::BrickDirs,
        Source::GlusterBlock => Format::GlusterBlockJson,
    })
}

/// How one command ran or one file was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RawOutcome {
    /// The command ran to its end (any exit status), or the file was read.
    Done {
        #[serde(flatten)]
        output: RawOutput,
        /// stdout hit the agent's output cap; what is kept is a prefix and is not parsed.
        #[serde(default)]
        truncated: bool,
    },
    /// The tool (or file) is not on the node.
    NotInstalled { tool: String },
    /// Killed at the agent's timeout; whatever it printed until then.
    TimedOut {
        #[serde(flatten)]
        output: RawOutput,
    },
    /// Could not be run or read at all (permission denied, spawn failure, I/O error).
    Error { error: String },
    /// Deliberately not run (configuration, a dependency failed).
    Skipped { reason: String },
}

impl RawOutcome {
    /// A command/file that produced `stdout` with exit status 0.
    pub fn ok(stdout: impl Into<String>) -> Self {
        RawOutcome::Done {
            output: RawOutput { stdout: stdout.into(), stderr: String::new(), exit_code: Some(0) },
            truncated: false,
        }
    }

    /// The captured output, if the command produced any.
    pub fn output(&self) -> Option<&RawOutput> {
        match self {
            RawOutcome::Done { output, .. } | RawOutcome::TimedOut { output } => Some(output),
            _ => None,
        }
    }
}

/// One sub-output of a source made of several commands or files (glusterd's store: one part
/// per file, keyed by its path relative to `/var/lib/glusterd`; gluster-block: `list/<vol>`
/// and `info/<vol>/<block>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPart {
    pub command: String,
    pub outcome: RawOutcome,
}

/// Everything about one source before parsing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawSource {
    /// The command line (or file) used; shown in the report.
    pub command: String,
    /// Which parser reads stdout; `None`: [`default_format`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    pub outcome: RawOutcome,
    #[serde(default)]
    pub duration_ms: u64,
    /// Messages from the collector (e.g. "`lsblk -J` failed, used `lsblk -P`").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, RawPart>,
}

impl RawSource {
    /// A source with one output and no parts.
    pub fn new(command: impl Into<String>, outcome: RawOutcome) -> Self {
        RawSource {
            command: command.into(),
            format: None,
            outcome,
            duration_ms: 0,
            notes: Vec::new(),
            parts: BTreeMap::new(),
        }
    }

    pub fn with_format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }
}

/// What the caller knows besides the raw outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportMeta {
    pub agent_version: String,
    /// Unix seconds when collection started.
    pub collected_at: i64,
    /// Copy every source's raw output into [`NodeReport::raw`].
    pub include_raw: bool,
    /// Used when the `hostname` source is missing or failed (e.g. a capture's manifest).
    pub fallback_hostname: Option<String>,
    /// Used when the `addresses` source is missing or failed.
    pub fallback_addresses: Vec<String>,
}

/// At most this many stderr lines become warnings of one source.
const MAX_STDERR_WARNINGS: usize = 20;

/// Why one source's output was not usable.
enum Failure {
    Parse(ParseError),
    Other(String),
}

impl From<ParseError> for Failure {
    fn from(e: ParseError) -> Self {
        Failure::Parse(e)
    }
}

impl Failure {
    fn into_status(self, context: Option<String>) -> SourceStatus {
        let (msg, retryable) = match self {
            Failure::Parse(e) => (e.to_string(), e.is_retryable()),
            Failure::Other(m) => (m, false),
        };
        let error = match context {
            Some(c) => format!("{c}: {msg}"),
            None => msg,
        };
        SourceStatus::Failed { error, retryable }
    }
}

type Parsed<T> = Result<(T, Vec<String>), Failure>;

/// Builds a report from raw outputs. Never fails: every problem is a per-source status.
pub fn report_from_raw(raw: &RawSources, meta: &ReportMeta) -> NodeReport {
    let mut b = Builder { report: NodeReport::new("", meta.agent_version.clone(), meta.collected_at), raw };

    // identity
    let hostname = b.single(Source::Hostname, |text, _| {
        let name = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(Failure::Other(format!("hostname: not a host name: {:?}", first_chars(text, 60))));
        }
        Ok((name.to_string(), Vec::new()))
    });
    b.report.identity.hostname = hostname.or_else(|| meta.fallback_hostname.clone()).unwrap_or_default();
    let addresses = b.single(Source::Addresses, |text, _| {
        parse_ip_addresses(text).map(|a| (a, Vec::new())).map_err(Failure::Other)
    });
    b.report.identity.addresses = addresses.unwrap_or_else(|| meta.fallback_addresses.clone());

    let glusterd = b.single(Source::GlusterdInfo, |text, _| Ok((parse_glusterd_info(text)?, Vec::new())));

    // LVM
    let mut lvm = LvmReport::default();
    for (source, kind) in [(Source::Vgs, LvmKind::Vg), (Source::Pvs, LvmKind::Pv), (Source::Lvs, LvmKind::Lv)]
    {
        if let Some(r) = b.single(source, |text, format| parse_lvm(text, format, kind)) {
            lvm.merge(r);
        }
    }
    lvm.resolve();
    lvm.warnings.clear(); // already recorded per source
    b.report.lvm = lvm;

    if let Some(devs) = b.single(Source::Lsblk, |text, format| {
        let devs = match format {
            Some(Format::LsblkPairs) => parse_lsblk_pairs(text)?,
            Some(Format::LsblkTree) => parse_lsblk_tree(text)?,
            _ => parse_lsblk_json(text)?,
        };
        Ok((devs, Vec::new()))
    }) {
        b.report.block_devices = devs;
    }

    // gluster CLI
    let cli_volumes = b.single(Source::GlusterVolumeInfo, |text, format| {
        let v = match format {
            Some(Format::GlusterVolumeInfoText) => parse_volume_info_text(text)?,
            _ => parse_volume_info_xml(text)?,
        };
        Ok((v, Vec::new()))
    });
    if let Some(st) =
        b.single(Source::GlusterVolumeStatus, |text, _| Ok((parse_volume_status_xml(text)?, Vec::new())))
    {
        b.report.gluster.volume_status = st;
    }
    let cli_peers = b.single(Source::GlusterPeerStatus, |text, format| {
        let p = match format {
            Some(Format::GlusterPeerStatusText) => parse_peer_status_text(text)?,
            _ => parse_peer_status_xml(text)?,
        };
        Ok((p, Vec::new()))
    });
    if let Some(pool) = b.single(Source::GlusterPoolList, |text, format| {
        let p = match format {
            Some(Format::GlusterPoolListText) => parse_pool_list_text(text)?,
            _ => parse_pool_list_xml(text)?,
        };
        Ok((p, Vec::new()))
    }) {
        b.report.gluster.pool = pool;
    }

    // glusterd's store, the fallback while glusterd is down
    let store = b.glusterd_store();
    match (cli_volumes, &store) {
        (Some(v), Some(s)) => {
            let cli: Vec<&str> = v.iter().map(|v| v.name.as_str()).collect();
            let only_store: Vec<&str> =
                s.volumes.iter().map(|v| v.name.as_str()).filter(|n| !cli.contains(n)).collect();
            if !only_store.is_empty() {
                b.warn(
                    Source::GlusterdStore,
                    format!("volumes in the store but not in `volume info`: {}", only_store.join(", ")),
                );
            }
            b.report.gluster.volumes = v;
        }
        (Some(v), None) => b.report.gluster.volumes = v,
        (None, Some(s)) => {
            b.report.gluster.volumes = s.volumes.clone();
            if b.raw.contains_key(&Source::GlusterVolumeInfo) {
                b.warn(Source::GlusterdStore, "volumes taken from the store: `gluster volume info` failed");
            }
        }
        (None, None) => {}
    }
    match (cli_peers, &store) {
        (Some(p), _) => b.report.gluster.peers = p,
        (None, Some(s)) => {
            b.report.gluster.peers = s.peers.clone();
            if b.raw.contains_key(&Source::GlusterPeerStatus) {
                b.warn(Source::GlusterdStore, "peers taken from the store: `gluster peer status` failed");
            }
        }
        (None, None) => {}
    }
    b.report.identity.gluster_uuid = glusterd
        .as_ref()
        .map(|g| g.uuid.clone())
        .or_else(|| b.report.gluster.pool.iter().find(|p| p.hostname == "localhost").map(|p| p.uuid.clone()));
    b.report.gluster.glusterd = glusterd;

    // mounts, fstab, bricks
    let mounts = b.single(Source::ProcMounts, |text, format| {
        let m = match format {
            Some(Format::MountInfo) => parse_mountinfo(text)?,
            _ => parse_proc_mounts(text)?,
        };
        Ok((m, Vec::new()))
    });
    let fstab = b.single(Source::HeketiFstab, |text, _| Ok((parse_fstab(text)?, Vec::new())));
    let dirs = b.single(Source::BrickDirs, |text, _| Ok((parse_brick_dirs(text)?, Vec::new())));
    if let Some(dirs) = dirs {
        let mount_dirs: Vec<String> = dirs
            .iter()
            .map(|d| d.path.trim_end_matches('/').to_string())
            .filter(|p| is_mount_dir(p))
            .collect();
        if mounts.is_none() {
            b.warn(Source::BrickDirs, "mount state unknown: /proc/mounts was not read");
        }
        b.report.bricks = assemble_brick_facts(
            &mount_dirs,
            &dirs,
            mounts.as_deref().unwrap_or_default(),
            fstab.as_deref().unwrap_or_default(),
        );
    }
    b.report.mounts = mounts.unwrap_or_default();
    b.report.heketi_fstab = fstab.unwrap_or_default();

    b.gluster_block();

    // every source has a record
    for s in ALL_SOURCES {
        if !b.report.sources.contains_key(&s) {
            b.report.record(s, SourceStatus::Skipped { reason: "not collected".into() }, 0);
        }
    }
    if meta.include_raw {
        for (s, r) in raw {
            if let Some(out) = raw_output(r) {
                b.report.raw.insert(*s, out);
            }
        }
    }
    b.report
}

/// `<mounts root>/<vg dir>/<dir>`: a brick mount point directory.
fn is_mount_dir(p: &str) -> bool {
    p.strip_prefix(HEKETI_MOUNTS_ROOT)
        .and_then(|r| r.strip_prefix('/'))
        .is_some_and(|r| r.split('/').count() == 2 && r.split('/').all(|c| !c.is_empty()))
}

fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn parse_lvm(text: &str, format: Option<Format>, kind: LvmKind) -> Parsed<LvmReport> {
    let mut r = match format {
        Some(Format::LvmTable) => parse_lvm_table(text)?,
        Some(Format::LvmNamePrefixes) => parse_lvm_nameprefixes(text)?,
        Some(Format::VgDisplayColon) => LvmReport { vgs: parse_vgdisplay_colon(text)?, ..Default::default() },
        _ => parse_lvm_json(text)?,
    };
    // A vgs output without a vg report (or with the wrong report) is not this source.
    let (empty, what) = match kind {
        LvmKind::Vg => (r.vgs.is_empty() && (!r.pvs.is_empty() || !r.lvs.is_empty()), "vg"),
        LvmKind::Pv => (r.pvs.is_empty() && (!r.vgs.is_empty() || !r.lvs.is_empty()), "pv"),
        LvmKind::Lv => (r.lvs.is_empty() && (!r.vgs.is_empty() || !r.pvs.is_empty()), "lv"),
    };
    if empty {
        return Err(Failure::Other(format!("no \"{what}\" report in the output")));
    }
    let warnings = std::mem::take(&mut r.warnings);
    Ok((r, warnings))
}

/// Addresses from `ip -j address show` (JSON) or `ip -o address show` (one line per address).
/// Loopback and link-local addresses are left out.
pub fn parse_ip_addresses(text: &str) -> Result<Vec<String>, String> {
    let t = text.trim_start_matches('\u{feff}').trim();
    if t.is_empty() {
        return Err("ip address: empty output".into());
    }
    let mut out: Vec<String> = Vec::new();
    let mut push = |addr: &str, scope: &str| {
        if scope != "host" && scope != "link" && !addr.is_empty() && !out.iter().any(|a| a == addr) {
            out.push(addr.to_string());
        }
    };
    if t.starts_with('[') {
        let v: serde_json::Value =
            serde_json::from_str(t).map_err(|e| format!("ip -j address: invalid JSON: {e}"))?;
        let ifaces = v.as_array().ok_or_else(|| "ip -j address: expected an array".to_string())?;
        for iface in ifaces {
            let infos = iface.get("addr_info").and_then(|a| a.as_array());
            for info in infos.into_iter().flatten() {
                let local = info.get("local").and_then(|l| l.as_str()).unwrap_or("");
                let scope = info.get("scope").and_then(|s| s.as_str()).unwrap_or("");
                push(local, scope);
            }
        }
    } else {
        for (no, line) in t.lines().enumerate() {
            let toks: Vec<&str> = line.split_whitespace().collect();
            let Some(i) = toks.iter().position(|t| *t == "inet" || *t == "inet6") else {
                if line.trim().is_empty() {
                    continue;
                }
                return Err(format!(
                    "ip -o address: line {}: no inet/inet6 field: {:?}",
                    no + 1,
                    first_chars(line, 60)
                ));
            };
            let addr = toks.get(i + 1).and_then(|a| a.split('/').next()).unwrap_or("");
            let scope = toks.iter().position(|t| *t == "scope").and_then(|j| toks.get(j + 1)).unwrap_or(&"");
            push(addr, scope);
        }
    }
    Ok(out)
}

/// The store as read from its files.
struct Store {
    volumes: Vec<GlusterVolume>,
    peers: Vec<Peer>,
}

struct Builder<'a> {
    report: NodeReport,
    raw: &'a RawSources,
}

impl Builder<'_> {
    fn record(&mut self, source: Source, status: SourceStatus, raw: &RawSource) -> &mut SourceRecord {
        let rec = self.report.record(source, status, raw.duration_ms);
        rec.command = Some(raw.command.clone()).filter(|c| !c.is_empty());
        rec.warnings.extend(raw.notes.iter().cloned());
        rec
    }

    fn warn(&mut self, source: Source, msg: impl Into<String>) {
        if let Some(r) = self.report.sources.get_mut(&source) {
            r.warnings.push(msg.into());
        }
    }

    /// Parses a single-output source; records its status; returns the value when it parsed.
    fn single<T>(
        &mut self,
        source: Source,
        parse: impl FnOnce(&str, Option<Format>) -> Parsed<T>,
    ) -> Option<T> {
        let raw = self.raw.get(&source)?;
        let format = raw.format.or(default_format(source));
        let (output, truncated) = match &raw.outcome {
            RawOutcome::Done { output, truncated } => (output, *truncated),
            other => {
                let status = status_without_output(other);
                let rec = self.record(source, status, raw);
                if let Some(out) = other.output() {
                    rec.warnings.extend(stderr_lines(&out.stderr));
                }
                return None;
            }
        };
        if truncated {
            let status = SourceStatus::Failed {
                error: format!(
                    "output truncated at the agent's cap ({} bytes kept); not parsed",
                    output.stdout.len()
                ),
                retryable: false,
            };
            self.record(source, status, raw).warnings.extend(stderr_lines(&output.stderr));
            return None;
        }
        let exit = output.exit_code;
        match parse(&output.stdout, format) {
            Ok((value, warnings)) => {
                let rec = self.record(source, SourceStatus::Ok, raw);
                if let Some(code) = exit.filter(|c| *c != 0) {
                    rec.warnings.push(format!("exit status {code}"));
                }
                rec.warnings.extend(warnings);
                rec.warnings.extend(stderr_lines(&output.stderr));
                Some(value)
            }
            Err(f) => {
                let context = exit.filter(|c| *c != 0).map(|code| match last_line(&output.stderr) {
                    Some(l) => format!("exit status {code} ({l})"),
                    None => format!("exit status {code}"),
                });
                let status = f.into_status(context);
                self.record(source, status, raw).warnings.extend(stderr_lines(&output.stderr));
                None
            }
        }
    }

    /// `GlusterdStore`: parts `peers/<uuid>`, `vols/<vol>/info`, `vols/<vol>/bricks/<file>`.
    fn glusterd_store(&mut self) -> Option<Store> {
        let source = Source::GlusterdStore;
        let raw = self.raw.get(&source)?;
        if let Some(status) = match &raw.outcome {
            RawOutcome::Done { .. } => None,
            other => Some(status_without_output(other)),
        } {
            self.record(source, status, raw);
            return None;
        }
        let mut failures: Vec<String> = Vec::new();
        let mut peers = Vec::new();
        let mut infos = BTreeMap::new();
        let mut bricks: BTreeMap<String, Vec<GlusterdBrickInfo>> = BTreeMap::new();
        for (key, part) in &raw.parts {
            let text = match &part.outcome {
                RawOutcome::Done { output, truncated: false } => output.stdout.as_str(),
                RawOutcome::Done { truncated: true, .. } => {
                    failures.push(format!("{key}: truncated"));
                    continue;
                }
                other => {
                    failures.push(format!("{key}: {}", describe(other)));
                    continue;
                }
            };
            let segs: Vec<&str> = key.split('/').collect();
            let res = match segs.as_slice() {
                ["peers", _] => parse_glusterd_peer(text).map(|p| peers.push(p)),
                ["vols", vol, "info"] => parse_glusterd_volinfo(text).map(|i| {
                    infos.insert(vol.to_string(), i);
                }),
                ["vols", vol, "bricks", _] => parse_glusterd_brickinfo(text)
                    .map(|bi| bricks.entry(vol.to_string()).or_default().push(bi)),
                _ => Ok(()), // other store files are not used
            };
            if let Err(e) = res {
                failures.push(format!("{key}: {e}"));
            }
        }
        let volumes: Vec<GlusterVolume> = infos
            .iter()
            .map(|(name, info)| info.to_volume(name, bricks.get(name).map(Vec::as_slice).unwrap_or_default()))
            .collect();
        let status = if failures.is_empty() {
            SourceStatus::Ok
        } else {
            SourceStatus::Failed {
                error: format!(
                    "{} of {} store files unusable; first: {}",
                    failures.len(),
                    raw.parts.len(),
                    failures[0]
                ),
                retryable: false,
            }
        };
        let rec = self.record(source, status, raw);
        rec.warnings.extend(failures.into_iter().skip(1).take(MAX_STDERR_WARNINGS));
        Some(Store { volumes, peers })
    }

    /// `GlusterBlock`: parts `list/<vol>` and `info/<vol>/<block>`.
    fn gluster_block(&mut self) {
        let source = Source::GlusterBlock;
        let Some(raw) = self.raw.get(&source) else { return };
        if let Some(status) = match &raw.outcome {
            RawOutcome::Done { .. } => None,
            other => Some(status_without_output(other)),
        } {
            self.record(source, status, raw);
            return;
        }
        let text_format = raw.format == Some(Format::GlusterBlockText);
        let mut failures: Vec<String> = Vec::new();
        let mut hosting: BTreeMap<String, BlockHostingVolume> = BTreeMap::new();
        for (key, part) in &raw.parts {
            let text = match &part.outcome {
                // gluster-block exits non-zero with a JSON error object: let the parser say it
                RawOutcome::Done { output, truncated: false } => output.stdout.as_str(),
                other => {
                    failures.push(format!("{key}: {}", describe(other)));
                    continue;
                }
            };
            let segs: Vec<&str> = key.splitn(3, '/').collect();
            match segs.as_slice() {
                ["list", vol] => match parse_gluster_block_list_json(text) {
                    Ok(_) => {
                        hosting.entry(vol.to_string()).or_insert_with(|| BlockHostingVolume {
                            volume: vol.to_string(),
                            blocks: Vec::new(),
                        });
                    }
                    Err(e) => failures.push(format!("{key}: {e}")),
                },
                ["info", vol, _] => {
                    let parsed = if text_format {
                        parse_gluster_block_info_text(text)
                    } else {
                        parse_gluster_block_info_json(text)
                    };
                    match parsed {
                        Ok(info) => hosting
                            .entry(vol.to_string())
                            .or_insert_with(|| BlockHostingVolume {
                                volume: vol.to_string(),
                                blocks: Vec::new(),
                            })
                            .blocks
                            .push(info),
                        Err(e) => failures.push(format!("{key}: {e}")),
                    }
                }
                _ => {}
            }
        }
        self.report.gluster_block = hosting.into_values().collect();
        let status = if failures.is_empty() {
            SourceStatus::Ok
        } else {
            SourceStatus::Failed {
                error: format!(
                    "{} of {} outputs unusable; first: {}",
                    failures.len(),
                    raw.parts.len(),
                    failures[0]
                ),
                retryable: false,
            }
        };
        let rec = self.record(source, status, raw);
        rec.warnings.extend(failures.into_iter().skip(1).take(MAX_STDERR_WARNINGS));
    }
}

fn status_without_output(outcome: &RawOutcome) -> SourceStatus {
    match outcome {
        RawOutcome::NotInstalled { tool } => SourceStatus::NotInstalled { tool: tool.clone() },
        RawOutcome::TimedOut { .. } => SourceStatus::TimedOut,
        RawOutcome::Error { error } => SourceStatus::Failed { error: error.clone(), retryable: false },
        RawOutcome::Skipped { reason } => SourceStatus::Skipped { reason: reason.clone() },
        RawOutcome::Done { .. } => SourceStatus::Ok,
    }
}

fn describe(outcome: &RawOutcome) -> String {
    match outcome {
        RawOutcome::Done { truncated: true, .. } => "output truncated".into(),
        RawOutcome::Done { .. } => "ok".into(),
        RawOutcome::NotInstalled { tool } => format!("{tool} not installed"),
        RawOutcome::TimedOut { .. } => "timed out".into(),
        RawOutcome::Error { error } => error.clone(),
        RawOutcome::Skipped { reason } => format!("skipped: {reason}"),
    }
}

fn stderr_lines(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut out: Vec<String> = lines.iter().take(MAX_STDERR_WARNINGS).map(|l| l.to_string()).collect();
    if lines.len() > MAX_STDERR_WARNINGS {
        out.push(format!("… {} more stderr lines", lines.len() - MAX_STDERR_WARNINGS));
    }
    out
}

fn last_line(s: &str) -> Option<String> {
    s.lines().map(str::trim).rfind(|l| !l.is_empty()).map(|l| first_chars(l, 200))
}

/// The raw output kept in the report for audit; parts are joined under `==> key <==` headers.
fn raw_output(r: &RawSource) -> Option<RawOutput> {
    if r.parts.is_empty() {
        return r.outcome.output().cloned();
    }
    let mut out = RawOutput::default();
    for (key, part) in &r.parts {
        out.stdout.push_str(&format!("==> {key} <==\n"));
        match part.outcome.output() {
            Some(o) => {
                out.stdout.push_str(&o.stdout);
                if !o.stderr.is_empty() {
                    out.stderr.push_str(&format!("==> {key} <==\n{}", o.stderr));
                }
            }
            None => out.stdout.push_str(&format!("({})\n", describe(&part.outcome))),
        }
        if !out.stdout.ends_with('\n') {
            out.stdout.push('\n');
        }
    }
    Some(out)
}
