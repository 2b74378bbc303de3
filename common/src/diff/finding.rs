//! The finding format shared by `check`, `diff` and reports.

use serde::{Deserialize, Serialize};

/// How bad a finding is. Consistent data yields no warning or error; what cannot be verified is
/// info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// The kind of heketi entity a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cluster,
    Node,
    Device,
    Brick,
    Volume,
    #[serde(rename = "blockvolume")]
    BlockVolume,
    #[serde(rename = "pendingop")]
    PendingOp,
}

impl Kind {
    /// The serialised name (`volume`, `blockvolume`, `pendingop`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cluster => "cluster",
            Kind::Node => "node",
            Kind::Device => "device",
            Kind::Brick => "brick",
            Kind::Volume => "volume",
            Kind::BlockVolume => "blockvolume",
            Kind::PendingOp => "pendingop",
        }
    }
}

impl Severity {
    /// The serialised name (`info`, `warning`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Stable finding codes. The serialised names never change; new codes may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    // DB against reality
    NodeUnreachable,
    NodeNotFound,
    NodeNotInDb,
    DeviceVgMissing,
    DeviceNotInDb,
    DeviceNodeMismatch,
    DeviceSizeMismatch,
    DeviceFreeMismatch,
    BrickLvMissing,
    BrickNotInDb,
    BrickNotInVolume,
    BrickNotMounted,
    BrickFstabMissing,
    BrickSizeMismatch,
    BrickPoolMismatch,
    BrickPathMismatch,
    OrphanBrickLv,
    VolumeNotInDb,
    VolumeNotInGluster,
    VolumeNotStarted,
    VolumeSizeMismatch,
    VolumeDurabilityMismatch,
    VolumeNameMismatch,
    GidMismatch,
    ForeignVolume,
    BlockVolumeUnverified,
    // DB against Kubernetes PVs
    PvVolumeMissing,
    PvGidMismatch,
    PvSizeMismatch,
    VolumeWithoutPv,
    // DB alone
    PendingOperation,
    DanglingReference,
    MissingBackReference,
    KeyIdMismatch,
    UnsortedList,
    DuplicateInList,
    DeviceAccountingMismatch,
    BrickEmptyPath,
    BrickSizeFormula,
    MountHostsMismatch,
    BlockHostingSizeMismatch,
    DuplicateHostname,
    UnknownAttribute,
    PendingMarkerWithoutOp,
}

impl Code {
    /// The stable name (`VOLUME_NOT_IN_DB`).
    pub fn as_str(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

/// Where a fact came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    /// The node (hostname) that reported it; `None` for facts from the DB itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// `db`, `lvs`, `vgs`, `gluster volume info`, `mounts`, `fstab`, `brick dirs`, `pvs` …
    pub source: String,
}

impl Evidence {
    pub fn db() -> Self {
        Evidence { node: None, source: "db".into() }
    }
    pub fn node(node: &str, source: &str) -> Self {
        Evidence { node: Some(node.to_owned()), source: source.to_owned() }
    }
}

/// One discrepancy, with what the DB says, what was observed, the evidence and the repair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub kind: Kind,
    /// The heketi id (or the name where there is none, e.g. a volume heketi never knew).
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair: Option<String>,
}

impl Finding {
    pub fn new(
        code: Code,
        severity: Severity,
        kind: Kind,
        id: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            code,
            severity,
            kind,
            id: id.into(),
            name: None,
            message: message.into(),
            db: None,
            observed: None,
            evidence: Vec::new(),
            repair: None,
        }
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn db(mut self, v: impl Serialize) -> Self {
        self.db = serde_json::to_value(v).ok();
        self
    }

    pub fn observed(mut self, v: impl Serialize) -> Self {
        self.observed = serde_json::to_value(v).ok();
        self
    }

    pub fn evidence(mut self, e: Evidence) -> Self {
        self.evidence.push(e);
        self
    }

    pub fn repair(mut self, r: impl Into<String>) -> Self {
        self.repair = Some(r.into());
        self
    }
}

/// Sort findings for stable output: most severe first, then by kind, id and code.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(a.kind.cmp(&b.kind)).then(a.id.cmp(&b.id)).then(a.code.cmp(&b.code))
    });
}
