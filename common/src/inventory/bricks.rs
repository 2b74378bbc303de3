//! Brick directories under `/var/lib/heketi/mounts` and the per-brick facts a node report
//! carries (mounted?, from which device, owner, mode, `trusted.glusterfs.volume-id`, fstab).
//!
//! Capture format (one line per existing `<mount point>/brick` directory), as produced on the
//! lab by `stat -c '%n %g %a'` and by the agent:
//!
//! ```text
//! <path> <gid> <octal mode>[ uid=<uid>][ volume-id=<0xhex|uuid|->]
//! ```
//!
//! The lab captures have only the first three fields; the agent appends `uid=` and
//! `volume-id=` (the brick root's `trusted.glusterfs.volume-id` xattr, `-` when absent).
//! Paths may contain spaces (fields are taken from the right).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::{Format, ParseError};
use super::mounts::MountEntry;
use super::naming::{parse_brick_path, BrickPathKind, BRICK_SUBDIR, HEKETI_MOUNTS_ROOT};
use super::text::clean;

/// Serialises a mode as an octal string (`"2775"`).
mod octal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{mode:o}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let s = String::deserialize(d)?;
        u32::from_str_radix(&s, 8).map_err(serde::de::Error::custom)
    }
}

/// `stat` of one brick directory (`<mount point>/brick`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrickDirStat {
    pub path: String,
    pub gid: u32,
    /// Permission bits incl. setgid (`0o2775` for heketi bricks of a volume with a gid).
    #[serde(with = "octal")]
    pub mode: u32,
    #[serde(default)]
    pub uid: Option<u32>,
    /// `trusted.glusterfs.volume-id` as a UUID string.
    #[serde(default)]
    pub volume_id: Option<String>,
}

/// Normalises a volume-id xattr (`0x1e50d27bf70e4a238f976dfda3546da7`, bare hex or a UUID)
/// to the dashed lowercase UUID form gluster prints as `Volume ID`.
pub fn normalize_volume_id(s: &str) -> Option<String> {
    let t = s.trim();
    let hex: String = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t)
        .chars()
        .filter(|c| *c != '-')
        .collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

/// Parses the brick dir listing (see the module docs). An empty listing is valid (no bricks).
pub fn parse_brick_dirs(text: &str) -> Result<Vec<BrickDirStat>, ParseError> {
    let format = Format::BrickDirs;
    let t = clean(text);
    let mut out = Vec::new();
    for (no, line) in t.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut toks: Vec<&str> = line.split_whitespace().collect();
        let mut uid = None;
        let mut volume_id = None;
        while let Some(last) = toks.last() {
            if let Some(v) = last.strip_prefix("uid=") {
                uid = Some(
                    v.parse::<u32>()
                        .map_err(|_| ParseError::line(format, no + 1, format!("bad uid {v:?}")))?,
                );
            } else if let Some(v) = last.strip_prefix("volume-id=") {
                if v != "-" && !v.is_empty() {
                    volume_id =
                        Some(normalize_volume_id(v).ok_or_else(|| {
                            ParseError::line(format, no + 1, format!("bad volume-id {v:?}"))
                        })?);
                }
            } else {
                break;
            }
            toks.pop();
        }
        if toks.len() < 3 {
            return Err(ParseError::line(format, no + 1, "expected '<path> <gid> <mode>'"));
        }
        let mode_s = toks[toks.len() - 1];
        let gid_s = toks[toks.len() - 2];
        let path = toks[..toks.len() - 2].join(" ");
        if !path.starts_with('/') {
            return Err(ParseError::line(format, no + 1, format!("path is not absolute: {path:?}")));
        }
        let gid = gid_s
            .parse::<u32>()
            .map_err(|_| ParseError::line(format, no + 1, format!("bad gid {gid_s:?}")))?;
        let mode = u32::from_str_radix(mode_s, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .ok_or_else(|| ParseError::line(format, no + 1, format!("bad octal mode {mode_s:?}")))?;
        out.push(BrickDirStat { path, gid, mode, uid, volume_id });
    }
    Ok(out)
}

/// Everything known about one brick mount point under `/var/lib/heketi/mounts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrickFacts {
    /// `/var/lib/heketi/mounts/vg_<dev>/brick_<brick>` (or any other dir found there).
    pub mount_point: String,
    /// From the path when it follows heketi's naming.
    pub device_id: Option<String>,
    pub brick_id: Option<String>,
    /// In `/proc/mounts` on this mount point.
    pub mounted: bool,
    /// The mounted device (`/dev/mapper/vg_<dev>-brick_<brick>` when healthy).
    pub mount_source: Option<String>,
    pub mount_fstype: Option<String>,
    /// Listed in heketi's fstab, and with which device.
    pub in_fstab: bool,
    pub fstab_source: Option<String>,
    /// `stat` of `<mount point>/brick`; `None` when the directory does not exist (typically
    /// because nothing is mounted).
    pub brick_dir: Option<BrickDirStat>,
}

/// Joins the listing of mount-point directories (`mount_dirs`, e.g. from `readdir`; may be
/// empty), brick dir stats, `/proc/mounts` and heketi's fstab into one [`BrickFacts`] per
/// mount point under `/var/lib/heketi/mounts/vg_*/` (sorted by path). Mount points only known
/// from mounts/fstab/brick dirs are included too.
pub fn assemble_brick_facts(
    mount_dirs: &[String],
    brick_dirs: &[BrickDirStat],
    mounts: &[MountEntry],
    fstab: &[MountEntry],
) -> Vec<BrickFacts> {
    let under_root = |p: &str| {
        p.strip_prefix(HEKETI_MOUNTS_ROOT)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|r| r.trim_end_matches('/').split('/').count() == 2)
    };
    let norm = |p: &str| p.trim_end_matches('/').to_string();
    let mut facts: BTreeMap<String, BrickFacts> = BTreeMap::new();
    for d in mount_dirs {
        let mp = norm(d);
        if under_root(&mp) {
            facts_entry(&mut facts, mp);
        }
    }
    for m in mounts {
        let mp = norm(&m.mount_point);
        if under_root(&mp) {
            let f = facts_entry(&mut facts, mp);
            f.mounted = true;
            f.mount_source = Some(m.source.clone());
            f.mount_fstype = Some(m.fstype.clone());
        }
    }
    for m in fstab {
        let mp = norm(&m.mount_point);
        if under_root(&mp) {
            let f = facts_entry(&mut facts, mp);
            f.in_fstab = true;
            f.fstab_source = Some(m.source.clone());
        }
    }
    for b in brick_dirs {
        let p = norm(&b.path);
        let Some(mp) = p.strip_suffix(&format!("/{BRICK_SUBDIR}")) else {
            continue;
        };
        if under_root(mp) {
            facts_entry(&mut facts, mp.to_string()).brick_dir = Some(b.clone());
        }
    }
    facts.into_values().collect()
}

fn facts_entry(facts: &mut BTreeMap<String, BrickFacts>, mp: String) -> &mut BrickFacts {
    facts.entry(mp.clone()).or_insert_with(|| {
        let ids = parse_brick_path(&mp).filter(|p| p.kind == BrickPathKind::MountPoint);
        BrickFacts {
            device_id: ids.as_ref().map(|p| p.device_id.clone()),
            brick_id: ids.map(|p| p.brick_id),
            mount_point: mp,
            ..Default::default()
        }
    })
}
