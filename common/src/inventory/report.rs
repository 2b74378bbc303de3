//! [`NodeReport`]: everything the agent collects on one node. Travels as JSON (snapshots,
//! capture dirs) and is mapped to the gRPC proto by the agent/controller.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::bricks::BrickFacts;
use super::error::ParseError;
use super::gluster::{GlusterVolume, Peer, VolumeStatusReport};
use super::gluster_block::BlockVolumeInfo;
use super::glusterd_store::GlusterdInfo;
use super::lsblk::BlockDevice;
use super::lvm::LvmReport;
use super::mounts::MountEntry;

/// Version of the [`NodeReport`] JSON layout; bump on incompatible changes.
pub const NODE_REPORT_SCHEMA_VERSION: u32 = 1;

/// Why a serialised [`NodeReport`] could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("node report: invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("node report: schema {found} is newer than the supported {supported}; upgrade heketi-doctor")]
    Schema { found: u32, supported: u32 },
}

/// One thing the agent collects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Hostname,
    Addresses,
    GlusterdInfo,
    Vgs,
    Pvs,
    Lvs,
    Lsblk,
    GlusterVolumeInfo,
    GlusterVolumeStatus,
    GlusterPeerStatus,
    GlusterPoolList,
    /// `/var/lib/glusterd/vols/*` read directly (fallback when glusterd is down)
    GlusterdStore,
    ProcMounts,
    HeketiFstab,
    BrickDirs,
    GlusterBlock,
}

/// How collecting one source went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SourceStatus {
    Ok,
    /// The command ran but failed, or its output could not be parsed.
    Failed {
        error: String,
        /// Worth running again later (gluster lock contention, CLI timeout).
        #[serde(default)]
        retryable: bool,
    },
    /// The tool is not installed on the node (e.g. no gluster-block).
    NotInstalled {
        tool: String,
    },
    /// Killed after the agent's timeout.
    TimedOut,
    /// Deliberately not collected (configuration, dependency failed).
    Skipped {
        reason: String,
    },
}

impl SourceStatus {
    pub fn is_ok(&self) -> bool {
        matches!(self, SourceStatus::Ok)
    }

    /// A parse failure as a source status (keeps the retryable hint).
    pub fn from_parse_error(e: &ParseError) -> Self {
        SourceStatus::Failed { error: e.to_string(), retryable: e.is_retryable() }
    }
}

/// Status and cost of one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub status: SourceStatus,
    pub duration_ms: u64,
    /// The command line (or file) used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Non-fatal messages (stderr warnings, lines skipped by the parser).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Who the node is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeIdentity {
    pub hostname: String,
    /// All IP addresses of the node (textual form, as gluster/heketi use them).
    pub addresses: Vec<String>,
    /// glusterd's peer UUID (`/var/lib/glusterd/glusterd.info`).
    pub gluster_uuid: Option<String>,
}

/// gluster state as seen from this node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlusterInventory {
    pub glusterd: Option<GlusterdInfo>,
    pub volumes: Vec<GlusterVolume>,
    /// `volume status --xml` (brick online/port/pid, device with `detail`).
    pub volume_status: Vec<VolumeStatusReport>,
    /// `peer status`: the other peers.
    pub peers: Vec<Peer>,
    /// `pool list`: all members including this node (`localhost`).
    pub pool: Vec<Peer>,
}

/// Block volumes of one block-hosting volume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlockHostingVolume {
    pub volume: String,
    pub blocks: Vec<BlockVolumeInfo>,
}

/// Raw command output kept for audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: Option<i32>,
}

/// Everything collected on one node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    pub schema_version: u32,
    pub identity: NodeIdentity,
    pub agent_version: String,
    /// Unix seconds when collection started (passed in by the caller).
    pub collected_at: i64,
    /// Per source: ok / failed / not installed, and how long it took.
    pub sources: BTreeMap<Source, SourceRecord>,
    #[serde(default)]
    pub lvm: LvmReport,
    #[serde(default)]
    pub block_devices: Vec<BlockDevice>,
    #[serde(default)]
    pub gluster: GlusterInventory,
    /// `/proc/mounts`.
    #[serde(default)]
    pub mounts: Vec<MountEntry>,
    /// `/var/lib/heketi/fstab`.
    #[serde(default)]
    pub heketi_fstab: Vec<MountEntry>,
    /// One entry per mount point under `/var/lib/heketi/mounts/vg_*/`.
    #[serde(default)]
    pub bricks: Vec<BrickFacts>,
    #[serde(default)]
    pub gluster_block: Vec<BlockHostingVolume>,
    /// Optional raw outputs per source.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<Source, RawOutput>,
}

impl NodeReport {
    /// An empty report; sources are added with [`NodeReport::record`].
    pub fn new(hostname: impl Into<String>, agent_version: impl Into<String>, collected_at: i64) -> Self {
        NodeReport {
            schema_version: NODE_REPORT_SCHEMA_VERSION,
            identity: NodeIdentity { hostname: hostname.into(), ..Default::default() },
            agent_version: agent_version.into(),
            collected_at,
            sources: BTreeMap::new(),
            lvm: LvmReport::default(),
            block_devices: Vec::new(),
            gluster: GlusterInventory::default(),
            mounts: Vec::new(),
            heketi_fstab: Vec::new(),
            bricks: Vec::new(),
            gluster_block: Vec::new(),
            raw: BTreeMap::new(),
        }
    }

    /// Records how a source went.
    pub fn record(&mut self, source: Source, status: SourceStatus, duration_ms: u64) -> &mut SourceRecord {
        let rec = SourceRecord { status, duration_ms, command: None, warnings: Vec::new() };
        match self.sources.entry(source) {
            Entry::Occupied(mut o) => {
                o.insert(rec);
                o.into_mut()
            }
            Entry::Vacant(v) => v.insert(rec),
        }
    }

    /// True when the source was collected and parsed.
    pub fn source_ok(&self, source: Source) -> bool {
        self.sources.get(&source).is_some_and(|r| r.status.is_ok())
    }

    /// Serialises to pretty JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Reads a report; rejects reports written by a newer, incompatible schema.
    pub fn from_json(text: &str) -> Result<Self, ReportError> {
        let r: NodeReport = serde_json::from_str(text)?;
        if r.schema_version > NODE_REPORT_SCHEMA_VERSION {
            return Err(ReportError::Schema {
                found: r.schema_version,
                supported: NODE_REPORT_SCHEMA_VERSION,
            });
        }
        Ok(r)
    }
}
