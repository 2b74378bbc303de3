//! glusterd's on-disk store (`/var/lib/glusterd`), readable even when glusterd is down:
//! `vols/<vol>/info`, `vols/<vol>/bricks/<host>:<path with / as ->`, `peers/<uuid>`,
//! `glusterd.info`. All are `key=value` lines (split at the first `=`).
//!
//! Format (glusterd-store.c): `info` starts with `type= count= status= sub_count=
//! stripe_count= replica_count=`, then `arbiter_count=` (only when non-zero, op-version ≥
//! 3.7.6), `disperse_count= redundancy_count=`, `version= transport-type= volume-id=`,
//! `username= password= op-version= client-op-version= quota-version= tier-enabled=`,
//! `thin-arbiter-count=` (only when non-zero), `parent_volname= restored_from_snap=
//! snap-max-hard-limit=`, then the volume options (`key=value`, keys contain a `.`), then
//! `brick-N=<host>:<path with every / replaced by ->` (and `ta-brick-N=` for a thin
//! arbiter). The `/`→`-` encoding is lossy for paths containing `-`; the per-brick file has
//! the exact `path=`. `type` is the base type (0 none/distribute, 1 stripe, 2 replicate,
//! 3 stripe-replicate, 4 disperse, 5 tier) — "Distributed-" is derived from the counts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::{Format, ParseError};
use super::gluster::{GlusterBrick, GlusterVolume, Peer, Transport, VolumeState, VolumeType};
use super::text::clean;

fn key_values(text: &str, format: Format) -> Result<Vec<(String, String)>, ParseError> {
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut out = Vec::new();
    for (no, line) in t.lines().enumerate() {
        let l = line.trim_end_matches('\r');
        if l.trim().is_empty() {
            continue;
        }
        let (k, v) =
            l.split_once('=').ok_or_else(|| ParseError::line(format, no + 1, "expected key=value"))?;
        let k = k.trim();
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(ParseError::line(format, no + 1, format!("bad key {k:?}")));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn num<T: std::str::FromStr>(
    kv: &BTreeMap<String, String>,
    key: &str,
    format: Format,
) -> Result<Option<T>, ParseError> {
    match kv.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|_| ParseError::invalid(format, key, v)),
    }
}

/// A `brick-N=` entry of a volume `info` file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreBrickRef {
    pub index: u32,
    pub host: String,
    /// The path as stored (`-var-lib-heketi-mounts-…`).
    pub encoded_path: String,
    /// Best-effort decoding (every `-` → `/`); exact for heketi brick paths, which contain no
    /// `-`. Prefer [`GlusterdBrickInfo::path`] when the brick file is available.
    pub path: String,
    /// `ta-brick-N` (thin arbiter).
    pub thin_arbiter: bool,
}

/// `/var/lib/glusterd/vols/<vol>/info`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlusterdVolInfo {
    /// Base type code (`type=`).
    pub type_code: u32,
    pub brick_count: u32,
    pub status_code: u32,
    pub sub_count: Option<u32>,
    pub stripe_count: Option<u32>,
    pub replica_count: Option<u32>,
    pub arbiter_count: Option<u32>,
    pub disperse_count: Option<u32>,
    pub redundancy_count: Option<u32>,
    pub thin_arbiter_count: Option<u32>,
    pub version: Option<u64>,
    pub transport_code: Option<u32>,
    pub volume_id: String,
    pub op_version: Option<u32>,
    pub client_op_version: Option<u32>,
    /// Bricks in `brick-N` order.
    pub bricks: Vec<StoreBrickRef>,
    /// Volume options (keys containing `.`, e.g. `user.heketi.id`).
    pub options: BTreeMap<String, String>,
    /// Every other key (username/password are dropped).
    pub other: BTreeMap<String, String>,
}

const VOLINFO_KEYS: &[&str] = &[
    "type",
    "count",
    "status",
    "sub_count",
    "stripe_count",
    "replica_count",
    "arbiter_count",
    "disperse_count",
    "redundancy_count",
    "thin-arbiter-count",
    "version",
    "transport-type",
    "volume-id",
    "op-version",
    "client-op-version",
];

fn brick_ref(key: &str, value: &str, format: Format) -> Result<Option<StoreBrickRef>, ParseError> {
    let (index, thin_arbiter) = if let Some(n) = key.strip_prefix("ta-brick-") {
        (n, true)
    } else if let Some(n) = key.strip_prefix("brick-") {
        (n, false)
    } else {
        return Ok(None);
    };
    let Ok(index) = index.parse::<u32>() else {
        return Ok(None);
    };
    let value = value.trim();
    // host names never contain ":-"; the encoded path starts with '-'
    let (host, encoded) = value
        .split_once(":-")
        .map(|(h, p)| (h, format!("-{p}")))
        .ok_or_else(|| ParseError::invalid(format, key, value))?;
    if host.is_empty() {
        return Err(ParseError::invalid(format, key, value));
    }
    Ok(Some(StoreBrickRef {
        index,
        host: host.to_string(),
        path: encoded.replace('-', "/"),
        encoded_path: encoded,
        thin_arbiter,
    }))
}

/// Parses `/var/lib/glusterd/vols/<vol>/info` (the volume's name is the directory name).
pub fn parse_glusterd_volinfo(text: &str) -> Result<GlusterdVolInfo, ParseError> {
    let format = Format::GlusterdVolInfo;
    let pairs = key_values(text, format)?;
    let mut info = GlusterdVolInfo::default();
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in pairs {
        if let Some(b) = brick_ref(&k, &v, format)? {
            info.bricks.push(b);
        } else if VOLINFO_KEYS.contains(&k.as_str()) {
            known.insert(k, v);
        } else if k.contains('.') {
            info.options.insert(k, v);
        } else if k != "username" && k != "password" {
            info.other.insert(k, v);
        }
    }
    let req = |k: &str| ParseError::missing(format, format!("{k}="));
    info.type_code = num(&known, "type", format)?.ok_or_else(|| req("type"))?;
    info.brick_count = num(&known, "count", format)?.ok_or_else(|| req("count"))?;
    info.status_code = num(&known, "status", format)?.ok_or_else(|| req("status"))?;
    info.volume_id = known
        .get("volume-id")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| req("volume-id"))?;
    info.sub_count = num(&known, "sub_count", format)?;
    info.stripe_count = num(&known, "stripe_count", format)?;
    info.replica_count = num(&known, "replica_count", format)?;
    info.arbiter_count = num(&known, "arbiter_count", format)?;
    info.disperse_count = num(&known, "disperse_count", format)?;
    info.redundancy_count = num(&known, "redundancy_count", format)?;
    info.thin_arbiter_count = num(&known, "thin-arbiter-count", format)?;
    info.version = num(&known, "version", format)?;
    info.transport_code = num(&known, "transport-type", format)?;
    info.op_version = num(&known, "op-version", format)?;
    info.client_op_version = num(&known, "client-op-version", format)?;
    info.bricks.sort_by_key(|b| (b.thin_arbiter, b.index));
    Ok(info)
}

impl GlusterdVolInfo {
    /// The volume as `volume info` would show it. `brick_files` (parsed
    /// `vols/<vol>/bricks/*`) supply exact paths and host UUIDs when given.
    pub fn to_volume(&self, name: &str, brick_files: &[GlusterdBrickInfo]) -> GlusterVolume {
        let replica = self.replica_count.unwrap_or(1).max(1);
        let disperse = self.disperse_count.unwrap_or(0);
        let stripe = self.stripe_count.unwrap_or(1).max(1);
        let arbiter_count = self.arbiter_count.unwrap_or(0);
        let group = if disperse > 0 { disperse } else { replica.saturating_mul(stripe) };
        let distributed = self.brick_count > group;
        let base = VolumeType::from_code(self.type_code);
        let vol_type = match (&base, distributed) {
            (VolumeType::Replicate, true) => VolumeType::DistributedReplicate,
            (VolumeType::Disperse, true) => VolumeType::DistributedDisperse,
            (VolumeType::Stripe, true) => VolumeType::DistributedStripe,
            (VolumeType::StripedReplicate, true) => VolumeType::DistributedStripedReplicate,
            _ => base,
        };
        let bricks = self
            .bricks
            .iter()
            .filter(|b| !b.thin_arbiter)
            .map(|b| {
                let file = brick_files
                    .iter()
                    .find(|f| f.hostname == b.host && f.path.replace('/', "-") == b.encoded_path);
                GlusterBrick {
                    host: b.host.clone(),
                    path: file.map(|f| f.path.clone()).unwrap_or_else(|| b.path.clone()),
                    host_uuid: file.and_then(|f| f.uuid.clone()),
                    arbiter: false,
                }
            })
            .collect();
        let mut v = GlusterVolume {
            name: name.to_string(),
            id: Some(self.volume_id.clone()),
            vol_type: Some(vol_type),
            status: Some(VolumeState::from_code(self.status_code)),
            snapshot_count: None,
            brick_count: self.brick_count,
            distribute_count: 0,
            replica_count: replica,
            arbiter_count,
            disperse_count: disperse,
            redundancy_count: self.redundancy_count.unwrap_or(0),
            stripe_count: stripe,
            transport: self.transport_code.map(Transport::from_code),
            bricks,
            options: self.options.clone(),
        };
        v.finish();
        v
    }
}

/// `/var/lib/glusterd/vols/<vol>/bricks/<host>:<encoded path>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlusterdBrickInfo {
    /// Peer UUID of the brick's host (newer releases).
    pub uuid: Option<String>,
    pub hostname: String,
    pub path: String,
    pub real_path: Option<String>,
    pub listen_port: Option<u32>,
    pub rdma_listen_port: Option<u32>,
    pub decommissioned: Option<u32>,
    pub brick_id: Option<String>,
    pub device_path: Option<String>,
    pub mount_dir: Option<String>,
    pub fs_type: Option<String>,
    pub mnt_opts: Option<String>,
    pub vg: Option<String>,
    pub other: BTreeMap<String, String>,
}

/// Parses one brick file of glusterd's store.
pub fn parse_glusterd_brickinfo(text: &str) -> Result<GlusterdBrickInfo, ParseError> {
    let format = Format::GlusterdBrickInfo;
    let mut kv: BTreeMap<String, String> = key_values(text, format)?.into_iter().collect();
    let mut take = |k: &str| kv.remove(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let hostname = take("hostname").ok_or_else(|| ParseError::missing(format, "hostname="))?;
    let path = take("path").ok_or_else(|| ParseError::missing(format, "path="))?;
    let parse_port = |v: Option<String>, key: &str| -> Result<Option<u32>, ParseError> {
        match v {
            None => Ok(None),
            Some(s) => s.parse::<u32>().map(Some).map_err(|_| ParseError::invalid(format, key, s)),
        }
    };
    let uuid = take("uuid");
    let real_path = take("real_path");
    let listen_port = take("listen-port");
    let rdma = take("rdma.listen-port");
    let decommissioned = take("decommissioned");
    let brick_id = take("brick-id");
    let device_path = take("device_path");
    let mount_dir = take("mount_dir");
    let fs_type = take("fs-type");
    let mnt_opts = take("mnt-opts");
    let vg = take("vg");
    Ok(GlusterdBrickInfo {
        uuid,
        hostname,
        path,
        real_path,
        listen_port: parse_port(listen_port, "listen-port")?,
        rdma_listen_port: parse_port(rdma, "rdma.listen-port")?,
        decommissioned: parse_port(decommissioned, "decommissioned")?,
        brick_id,
        device_path,
        mount_dir,
        fs_type,
        mnt_opts,
        vg,
        other: kv,
    })
}

/// Parses `/var/lib/glusterd/peers/<uuid>` (`uuid=`, `state=`, `hostname1=`…`hostnameN=`).
pub fn parse_glusterd_peer(text: &str) -> Result<Peer, ParseError> {
    let format = Format::GlusterdPeer;
    let pairs = key_values(text, format)?;
    let mut uuid = None;
    let mut state = None;
    let mut names: Vec<(u32, String)> = Vec::new();
    for (k, v) in pairs {
        let v = v.trim().to_string();
        if k == "uuid" {
            uuid = Some(v);
        } else if k == "state" {
            state = Some(v.parse::<u32>().map_err(|_| ParseError::invalid(format, "state", v.clone()))?);
        } else if let Some(n) = k.strip_prefix("hostname") {
            let idx = n.parse::<u32>().map_err(|_| ParseError::invalid(format, "hostname key", k.clone()))?;
            if !v.is_empty() {
                names.push((idx, v));
            }
        }
    }
    let uuid = uuid.filter(|u| !u.is_empty()).ok_or_else(|| ParseError::missing(format, "uuid="))?;
    names.sort_by_key(|(i, _)| *i);
    let hostnames: Vec<String> = names.into_iter().map(|(_, n)| n).collect();
    Ok(Peer {
        uuid,
        hostname: hostnames.first().cloned().unwrap_or_default(),
        hostnames,
        connected: None,
        state,
        state_str: state.map(peer_state_str),
    })
}

/// glusterd friend-state names (`glusterd_friend_sm_state_names`).
fn peer_state_str(code: u32) -> String {
    const NAMES: &[&str] = &[
        "Establishing Connection",
        "Probe Sent to Peer",
        "Probe Received from Peer",
        "Peer in Cluster",
        "Accepted peer request",
        "Sent and Received peer request",
        "Peer Rejected",
        "Peer detach in progress",
        "Probe Received from peer",
        "Connected to Peer",
        "Peer is connected and Accepted",
    ];
    NAMES.get(code as usize).map(|s| s.to_string()).unwrap_or_else(|| format!("state {code}"))
}

/// `/var/lib/glusterd/glusterd.info`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlusterdInfo {
    /// This node's peer UUID.
    pub uuid: String,
    pub operating_version: Option<u32>,
    pub other: BTreeMap<String, String>,
}

/// Parses `/var/lib/glusterd/glusterd.info` (`UUID=…`, `operating-version=…`).
pub fn parse_glusterd_info(text: &str) -> Result<GlusterdInfo, ParseError> {
    let format = Format::GlusterdInfo;
    let mut kv: BTreeMap<String, String> = key_values(text, format)?.into_iter().collect();
    let uuid = kv
        .remove("UUID")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ParseError::missing(format, "UUID="))?;
    let operating_version = match kv.remove("operating-version") {
        None => None,
        Some(v) => {
            Some(v.trim().parse::<u32>().map_err(|_| ParseError::invalid(format, "operating-version", v))?)
        }
    };
    Ok(GlusterdInfo { uuid, operating_version, other: kv })
}
