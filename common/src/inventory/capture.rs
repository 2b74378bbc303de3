//! Capture directories: one node's raw outputs as files plus a manifest, for air-gapped sites
//! (`heketi-doctor-agent capture --out DIR` writes one, the controller reads it offline).
//!
//! Layout (the lab captures under `tests/data/corpus/lab-debian12/<node>/` are capture
//! directories too; the agent writes a superset of their manifest):
//!
//! ```text
//! DIR/commands.json            manifest: {"node", "ip", "agent_version", "collected_at",
//!                              "commands": [{"file", "command", "rc", "stderr_file", "source",
//!                              "format", "part", "state", "detail", "truncated", "duration_ms"}]}
//! DIR/vgs.json, lvs.json, …    stdout of each command; `<file>.stderr` beside it when non-empty
//! DIR/glusterd/…               glusterd.info and the store files (peers/*, vols/*/info, …)
//! DIR/gluster-block/…          list/<vol>.json, info/<vol>/<block>.json
//! DIR/report.json              the NodeReport the agent built (informative; readers rebuild it)
//! ```
//!
//! Entries without `source` (the lab's manifests) are recognised by file name; a `glusterd/`
//! tree without manifest entries is read as glusterd's store. Reading never follows paths out
//! of the directory (absolute paths and `..` in the manifest are refused) and caps file sizes.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::assemble::{report_from_raw, RawOutcome, RawPart, RawSource, RawSources, ReportMeta};
use super::error::Format;
use super::report::{NodeReport, RawOutput, Source};

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "commands.json";
/// The agent's own report, written beside the raw outputs.
pub const REPORT_FILE: &str = "report.json";
/// Layout version written by this build.
pub const CAPTURE_VERSION: u32 = 1;
/// Largest file read from a capture directory.
pub const MAX_CAPTURE_FILE: u64 = 256 << 20;
/// Most files read from a `glusterd/` tree.
const MAX_STORE_FILES: usize = 100_000;

/// Why a capture directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: invalid manifest: {error}")]
    Manifest { path: PathBuf, error: serde_json::Error },
    #[error("{path}: manifest names a file outside the capture directory: {file:?}")]
    OutsidePath { path: PathBuf, file: String },
    #[error("{path}: {size} bytes is larger than the {max} bytes a capture file may have")]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    #[error("{path}: capture format {found} is newer than the supported {supported}; upgrade heketi-doctor")]
    Version { path: PathBuf, found: u32, supported: u32 },
}

/// `commands.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Capture layout version (absent in hand-made captures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_version: Option<u32>,
    /// Node name (the lab's captures; the agent writes the hostname).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The node's address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    /// Unix seconds when collection started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<i64>,
    #[serde(default)]
    pub commands: Vec<ManifestEntry>,
}

/// How an entry's command ended (absent: it ran, `done`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    Done,
    NotInstalled,
    TimedOut,
    Error,
    Skipped,
}

/// One command, file or part of a source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// stdout, relative to the capture directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default)]
    pub command: String,
    /// Exit status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rc: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_file: Option<String>,
    /// Absent in the lab's manifests: recognised from `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// Set for a part of a multi-output source (glusterd store file, gluster-block output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<EntryState>,
    /// Error message, skip reason or missing tool, by `state`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A file to write into a capture directory (path relative to it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureFile {
    pub path: String,
    pub contents: String,
}

/// A capture directory read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub manifest: Manifest,
    pub raw: RawSources,
    /// What the reader skipped or chose (unknown files, duplicate sources).
    pub notes: Vec<String>,
}

impl Capture {
    /// The node report of this capture (the same assembly as the live agent).
    pub fn report(&self, include_raw: bool) -> NodeReport {
        let meta = ReportMeta {
            agent_version: self.manifest.agent_version.clone().unwrap_or_else(|| "capture".to_string()),
            collected_at: self.manifest.collected_at.unwrap_or(0),
            include_raw,
            fallback_hostname: self.manifest.node.clone(),
            fallback_addresses: self.manifest.ip.iter().cloned().collect(),
        };
        report_from_raw(&self.raw, &meta)
    }
}

/// Reads a capture directory and builds its [`NodeReport`].
pub fn report_from_capture_dir(dir: &Path, include_raw: bool) -> Result<NodeReport, CaptureError> {
    Ok(read_capture_dir(dir)?.report(include_raw))
}

/// File name (relative) for a source's output.
pub fn capture_file_name(source: Source, format: Option<Format>) -> &'static str {
    match (source, format) {
        (Source::Hostname, _) => "hostname.txt",
        (Source::Addresses, _) => "addresses.txt",
        (Source::GlusterdInfo, _) => "glusterd/glusterd.info",
        (Source::Vgs, Some(Format::LvmTable | Format::LvmNamePrefixes | Format::VgDisplayColon)) => "vgs.txt",
        (Source::Vgs, _) => "vgs.json",
        (Source::Pvs, Some(Format::LvmTable | Format::LvmNamePrefixes)) => "pvs.txt",
        (Source::Pvs, _) => "pvs.json",
        (Source::Lvs, Some(Format::LvmTable | Format::LvmNamePrefixes)) => "lvs.txt",
        (Source::Lvs, _) => "lvs.json",
        (Source::Lsblk, Some(Format::LsblkPairs)) => "lsblk-pairs.txt",
        (Source::Lsblk, Some(Format::LsblkTree)) => "lsblk-tree.txt",
        (Source::Lsblk, _) => "lsblk.json",
        (Source::GlusterVolumeInfo, Some(Format::GlusterVolumeInfoText)) => "volume-info.txt",
        (Source::GlusterVolumeInfo, _) => "volume-info.xml",
        (Source::GlusterVolumeStatus, _) => "volume-status.xml",
        (Source::GlusterPeerStatus, Some(Format::GlusterPeerStatusText)) => "peer-status.txt",
        (Source::GlusterPeerStatus, _) => "peer-status.xml",
        (Source::GlusterPoolList, Some(Format::GlusterPoolListText)) => "pool-list.txt",
        (Source::GlusterPoolList, _) => "pool-list.xml",
        (Source::GlusterdStore, _) => "glusterd",
        (Source::ProcMounts, Some(Format::MountInfo)) => "mountinfo.txt",
        (Source::ProcMounts, _) => "proc-mounts.txt",
        (Source::HeketiFstab, _) => "heketi-fstab.txt",
        (Source::BrickDirs, _) => "brick-dirs.txt",
        (Source::GlusterBlock, _) => "gluster-block",
    }
}

/// Files of the lab's (and operators') captures, recognised without a `source`; earlier rows
/// win when a directory has several files for one source.
const KNOWN_FILES: &[(&str, Source, Option<Format>)] = &[
    ("hostname.txt", Source::Hostname, None),
    ("addresses.txt", Source::Addresses, None),
    ("glusterd/glusterd.info", Source::GlusterdInfo, Some(Format::GlusterdInfo)),
    ("glusterd.info", Source::GlusterdInfo, Some(Format::GlusterdInfo)),
    ("vgs.json", Source::Vgs, Some(Format::LvmJson)),
    ("vgdisplay-c.txt", Source::Vgs, Some(Format::VgDisplayColon)),
    ("pvs-units-k.json", Source::Pvs, Some(Format::LvmJson)),
    ("pvs.json", Source::Pvs, Some(Format::LvmJson)),
    ("lvs.json", Source::Lvs, Some(Format::LvmJson)),
    ("lsblk.json", Source::Lsblk, Some(Format::LsblkJson)),
    ("lsblk-pairs.txt", Source::Lsblk, Some(Format::LsblkPairs)),
    ("lsblk-tree.txt", Source::Lsblk, Some(Format::LsblkTree)),
    ("volume-info.xml", Source::GlusterVolumeInfo, Some(Format::GlusterVolumeInfoXml)),
    ("volume-info.txt", Source::GlusterVolumeInfo, Some(Format::GlusterVolumeInfoText)),
    ("volume-status.xml", Source::GlusterVolumeStatus, Some(Format::GlusterVolumeStatusXml)),
    ("peer-status.xml", Source::GlusterPeerStatus, Some(Format::GlusterPeerStatusXml)),
    ("peer-status.txt", Source::GlusterPeerStatus, Some(Format::GlusterPeerStatusText)),
    ("pool-list.xml", Source::GlusterPoolList, Some(Format::GlusterPoolListXml)),
    ("pool-list.txt", Source::GlusterPoolList, Some(Format::GlusterPoolListText)),
    ("proc-mounts.txt", Source::ProcMounts, Some(Format::ProcMounts)),
    ("mountinfo.txt", Source::ProcMounts, Some(Format::MountInfo)),
    ("heketi-fstab.txt", Source::HeketiFstab, Some(Format::Fstab)),
    ("brick-dirs.txt", Source::BrickDirs, Some(Format::BrickDirs)),
];

/// Turns raw outputs into a manifest and the files to write beside it. `header` supplies the
/// manifest's top-level fields; its `commands` are replaced.
pub fn to_capture(raw: &RawSources, header: Manifest) -> (Manifest, Vec<CaptureFile>) {
    let mut manifest = Manifest { capture_version: Some(CAPTURE_VERSION), commands: Vec::new(), ..header };
    let mut files = Vec::new();
    for (source, r) in raw {
        let name = capture_file_name(*source, r.format);
        // multi-part sources have only their parts as files (`name` is their directory)
        let multi = matches!(source, Source::GlusterdStore | Source::GlusterBlock);
        let top_file = (!multi).then(|| name.to_string());
        let mut entry = entry_for(&r.command, &r.outcome, top_file, &mut files);
        entry.source = Some(*source);
        entry.format = r.format;
        entry.duration_ms = Some(r.duration_ms);
        entry.notes = r.notes.clone();
        manifest.commands.push(entry);
        for (key, part) in &r.parts {
            let Some(key) = safe_relative(key) else { continue };
            let file = match source {
                Source::GlusterBlock => format!("{name}/{key}.json"),
                _ => format!("{name}/{key}"),
            };
            let mut e = entry_for(&part.command, &part.outcome, Some(file), &mut files);
            e.source = Some(*source);
            e.part = Some(key);
            manifest.commands.push(e);
        }
    }
    (manifest, files)
}

/// A relative path without `.`/`..`/empty components, or `None`.
fn safe_relative(p: &str) -> Option<String> {
    let ok = !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'));
    ok.then(|| p.to_string())
}

fn entry_for(
    command: &str,
    outcome: &RawOutcome,
    file: Option<String>,
    files: &mut Vec<CaptureFile>,
) -> ManifestEntry {
    let mut e = ManifestEntry { command: command.to_string(), ..Default::default() };
    let (state, detail) = match outcome {
        RawOutcome::Done { truncated, .. } => {
            e.truncated = *truncated;
            (EntryState::Done, None)
        }
        RawOutcome::NotInstalled { tool } => (EntryState::NotInstalled, Some(tool.clone())),
        RawOutcome::TimedOut { .. } => (EntryState::TimedOut, None),
        RawOutcome::Error { error } => (EntryState::Error, Some(error.clone())),
        RawOutcome::Skipped { reason } => (EntryState::Skipped, Some(reason.clone())),
    };
    e.state = Some(state);
    e.detail = detail;
    e.rc = outcome.output().and_then(|o| o.exit_code);
    if let (Some(out), Some(file)) = (outcome.output(), file) {
        files.push(CaptureFile { path: file.clone(), contents: out.stdout.clone() });
        if !out.stderr.is_empty() {
            let stderr_file = format!("{file}.stderr");
            files.push(CaptureFile { path: stderr_file.clone(), contents: out.stderr.clone() });
            e.stderr_file = Some(stderr_file);
        }
        e.file = Some(file);
    }
    e
}

/// Reads a capture directory (see the module docs).
pub fn read_capture_dir(dir: &Path) -> Result<Capture, CaptureError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = read_text(&manifest_path)?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|error| CaptureError::Manifest { path: manifest_path.clone(), error })?;
    if let Some(v) = manifest.capture_version.filter(|v| *v > CAPTURE_VERSION) {
        return Err(CaptureError::Version { path: manifest_path, found: v, supported: CAPTURE_VERSION });
    }
    let mut raw: RawSources = BTreeMap::new();
    let mut notes = Vec::new();
    // (source) → priority of the inferred entry that filled it (explicit entries: 0)
    let mut chosen: BTreeMap<Source, usize> = BTreeMap::new();
    for entry in &manifest.commands {
        let inferred = match entry.source {
            Some(s) => Some((s, entry.format, 0usize)),
            None => entry.file.as_deref().and_then(|f| {
                KNOWN_FILES
                    .iter()
                    .position(|(name, _, _)| *name == f)
                    .map(|i| (KNOWN_FILES[i].1, entry.format.or(KNOWN_FILES[i].2), i + 1))
            }),
        };
        let Some((source, format, priority)) = inferred else {
            notes.push(format!(
                "{}: not a known source, ignored",
                entry.file.as_deref().unwrap_or(&entry.command)
            ));
            continue;
        };
        let outcome = outcome_of(dir, entry)?;
        if let Some(key) = &entry.part {
            let Some(key) = safe_relative(key) else {
                notes.push(format!("part {key:?}: not a relative path, ignored"));
                continue;
            };
            let top = raw.entry(source).or_insert_with(|| RawSource::new("", RawOutcome::ok("")));
            top.parts.insert(key, RawPart { command: entry.command.clone(), outcome });
            continue;
        }
        let mut r = RawSource::new(entry.command.clone(), outcome);
        r.format = format;
        r.duration_ms = entry.duration_ms.unwrap_or(0);
        r.notes = entry.notes.clone();
        match chosen.get(&source) {
            Some(&p) if p <= priority => {
                notes.push(format!(
                    "{}: another file already gives {source:?}",
                    entry.file.as_deref().unwrap_or("-")
                ));
                continue;
            }
            Some(_) => {
                notes.push(format!("{}: preferred for {source:?}", entry.file.as_deref().unwrap_or("-")))
            }
            None => {}
        }
        chosen.insert(source, priority);
        // keep parts already attached by earlier part entries
        if let Some(prev) = raw.remove(&source) {
            r.parts = prev.parts;
        }
        raw.insert(source, r);
    }
    // a glusterd/ tree without manifest entries
    let store_dir = dir.join("glusterd");
    if store_dir.is_dir() {
        let info_file = store_dir.join("glusterd.info");
        if let (Entry::Vacant(v), true) = (raw.entry(Source::GlusterdInfo), info_file.is_file()) {
            let r = RawSource::new("glusterd/glusterd.info", RawOutcome::ok(read_text(&info_file)?));
            v.insert(r.with_format(Format::GlusterdInfo));
        }
        if let Entry::Vacant(v) = raw.entry(Source::GlusterdStore) {
            let mut r = RawSource::new("glusterd/", RawOutcome::ok(""));
            for rel in store_files(&store_dir)? {
                let text = read_text(&store_dir.join(&rel))?;
                r.parts.insert(
                    rel.clone(),
                    RawPart { command: format!("glusterd/{rel}"), outcome: RawOutcome::ok(text) },
                );
            }
            v.insert(r);
        }
    }
    Ok(Capture { manifest, raw, notes })
}

/// `peers/*`, `vols/*/info`, `vols/*/bricks/*` under a glusterd directory, sorted.
fn store_files(store: &Path) -> Result<Vec<String>, CaptureError> {
    let mut out = Vec::new();
    for peer in list_dir(&store.join("peers"))? {
        out.push(format!("peers/{peer}"));
    }
    for vol in list_dir(&store.join("vols"))? {
        let vdir = store.join("vols").join(&vol);
        if vdir.join("info").is_file() {
            out.push(format!("vols/{vol}/info"));
        }
        for b in list_dir(&vdir.join("bricks"))? {
            out.push(format!("vols/{vol}/bricks/{b}"));
        }
        if out.len() > MAX_STORE_FILES {
            break;
        }
    }
    out.truncate(MAX_STORE_FILES);
    Ok(out)
}

/// Names of the entries of `dir` (sorted); empty when it does not exist.
fn list_dir(dir: &Path) -> Result<Vec<String>, CaptureError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(CaptureError::Io { path: dir.to_path_buf(), source }),
    };
    let mut names = Vec::new();
    for e in rd {
        let e = e.map_err(|source| CaptureError::Io { path: dir.to_path_buf(), source })?;
        if let Some(n) = e.file_name().to_str() {
            names.push(n.to_string());
        }
    }
    names.sort();
    Ok(names)
}

fn outcome_of(dir: &Path, e: &ManifestEntry) -> Result<RawOutcome, CaptureError> {
    let read = |f: &Option<String>| -> Result<String, CaptureError> {
        match f {
            None => Ok(String::new()),
            Some(f) => read_text(&inside(dir, f)?),
        }
    };
    let detail = || e.detail.clone().unwrap_or_default();
    Ok(match e.state.unwrap_or(EntryState::Done) {
        EntryState::Done => RawOutcome::Done {
            output: RawOutput { stdout: read(&e.file)?, stderr: read(&e.stderr_file)?, exit_code: e.rc },
            truncated: e.truncated,
        },
        EntryState::TimedOut => RawOutcome::TimedOut {
            output: RawOutput { stdout: read(&e.file)?, stderr: read(&e.stderr_file)?, exit_code: e.rc },
        },
        EntryState::NotInstalled => RawOutcome::NotInstalled { tool: detail() },
        EntryState::Error => RawOutcome::Error { error: detail() },
        EntryState::Skipped => RawOutcome::Skipped { reason: detail() },
    })
}

/// `dir/rel`, refusing paths that leave `dir`.
fn inside(dir: &Path, rel: &str) -> Result<PathBuf, CaptureError> {
    let p = Path::new(rel);
    if p.components().all(|c| matches!(c, Component::Normal(_))) {
        Ok(dir.join(p))
    } else {
        Err(CaptureError::OutsidePath { path: dir.join(MANIFEST_FILE), file: rel.to_string() })
    }
}

/// A file as text (invalid UTF-8 replaced), refusing files above [`MAX_CAPTURE_FILE`].
fn read_text(path: &Path) -> Result<String, CaptureError> {
    let io = |source| CaptureError::Io { path: path.to_path_buf(), source };
    let f = fs::File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    if size > MAX_CAPTURE_FILE {
        return Err(CaptureError::TooLarge { path: path.to_path_buf(), size, max: MAX_CAPTURE_FILE });
    }
    let mut buf = Vec::with_capacity(size as usize);
    f.take(MAX_CAPTURE_FILE + 1).read_to_end(&mut buf).map_err(io)?;
    Ok(match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}
