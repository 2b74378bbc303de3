//! GlusterFS types shared by the XML, text and glusterd-store parsers.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$vm])* $var,)+
            /// A value this crate does not know (kept verbatim).
            Other(String),
        }

        impl $name {
            /// gluster's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$var => $s,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($s) { return $name::$var; })+
                $name::Other(t.to_string())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::from(s.to_string())
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// gluster's volume type (`typeStr`, text `Type:`).
    VolumeType {
        Distribute => "Distribute",
        Replicate => "Replicate",
        DistributedReplicate => "Distributed-Replicate",
        Disperse => "Disperse",
        DistributedDisperse => "Distributed-Disperse",
        Stripe => "Stripe",
        StripedReplicate => "Striped-Replicate",
        DistributedStripe => "Distributed-Stripe",
        DistributedStripedReplicate => "Distributed-Striped-Replicate",
        Tier => "Tier",
    }
}

string_enum! {
    /// Volume state (`statusStr`, text `Status:`).
    VolumeState {
        Created => "Created",
        Started => "Started",
        Stopped => "Stopped",
    }
}

string_enum! {
    /// Transport (`transport` 0/1/2, text `Transport-type:`).
    Transport {
        Tcp => "tcp",
        Rdma => "rdma",
        TcpRdma => "tcp,rdma",
    }
}

impl VolumeType {
    /// The CLI's numeric `<type>` (cli adds 5 to the base type when a volume has more than one
    /// subvolume).
    pub fn from_code(code: u32) -> VolumeType {
        match code {
            0 => VolumeType::Distribute,
            1 => VolumeType::Stripe,
            2 => VolumeType::Replicate,
            3 => VolumeType::StripedReplicate,
            4 => VolumeType::Disperse,
            5 => VolumeType::Tier,
            6 => VolumeType::DistributedStripe,
            7 => VolumeType::DistributedReplicate,
            8 => VolumeType::DistributedStripedReplicate,
            9 => VolumeType::DistributedDisperse,
            other => VolumeType::Other(format!("type {other}")),
        }
    }

    pub fn is_disperse(&self) -> bool {
        matches!(self, VolumeType::Disperse | VolumeType::DistributedDisperse)
    }

    pub fn is_stripe(&self) -> bool {
        matches!(
            self,
            VolumeType::Stripe
                | VolumeType::StripedReplicate
                | VolumeType::DistributedStripe
                | VolumeType::DistributedStripedReplicate
        )
    }
}

impl VolumeState {
    /// `<status>` / glusterd store `status=`: 0 created, 1 started, 2 stopped.
    pub fn from_code(code: u32) -> VolumeState {
        match code {
            0 => VolumeState::Created,
            1 => VolumeState::Started,
            2 => VolumeState::Stopped,
            other => VolumeState::Other(format!("status {other}")),
        }
    }
}

impl Transport {
    /// `<transport>` / store `transport-type=`: 0 tcp, 1 rdma, 2 both.
    pub fn from_code(code: u32) -> Transport {
        match code {
            0 => Transport::Tcp,
            1 => Transport::Rdma,
            2 => Transport::TcpRdma,
            other => Transport::Other(format!("transport {other}")),
        }
    }
}

/// One brick of a volume, in gluster's order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlusterBrick {
    /// Host part exactly as gluster prints it (heketi's `Hostnames.Storage[0]`).
    pub host: String,
    pub path: String,
    /// Peer UUID of the brick's host (XML `hostUuid` / `uuid=` attribute, store `uuid=`).
    pub host_uuid: Option<String>,
    pub arbiter: bool,
}

/// A gluster volume as reported by `volume info` (XML or text) or glusterd's store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlusterVolume {
    pub name: String,
    /// Volume UUID (`Volume ID`).
    pub id: Option<String>,
    pub vol_type: Option<VolumeType>,
    pub status: Option<VolumeState>,
    pub snapshot_count: Option<u32>,
    pub brick_count: u32,
    /// Number of subvolumes, derived from the brick and replica/disperse/stripe counts (never
    /// taken from XML `distCount`, whose meaning changed between releases).
    pub distribute_count: u32,
    /// Bricks per replica set including the arbiter (1 when not replicated).
    pub replica_count: u32,
    pub arbiter_count: u32,
    /// Bricks per disperse set (data + redundancy), 0 when not dispersed.
    pub disperse_count: u32,
    pub redundancy_count: u32,
    /// Legacy stripe count (1 when not striped).
    pub stripe_count: u32,
    pub transport: Option<Transport>,
    pub bricks: Vec<GlusterBrick>,
    /// Reconfigured options (`Options Reconfigured`), compared as a map (order varies by node).
    pub options: BTreeMap<String, String>,
}

/// heketi's volume id option (v9+).
pub const HEKETI_ID_OPTION: &str = "user.heketi.id";

impl GlusterVolume {
    /// `user.heketi.id`, if set.
    pub fn heketi_id(&self) -> Option<&str> {
        self.options.get(HEKETI_ID_OPTION).map(String::as_str)
    }

    /// Bricks per subvolume (replica set / disperse set / stripe group; 1 for pure distribute).
    pub fn subvolume_size(&self) -> u32 {
        if self.disperse_count > 0 {
            self.disperse_count
        } else {
            self.replica_count.max(1).saturating_mul(self.stripe_count.max(1))
        }
    }

    /// Normalises counts and derives what older/other outputs leave out: `brick_count` from the
    /// list when absent, `distribute_count`, and arbiter flags (last brick of every replica set)
    /// when `arbiter_count > 0` but no brick carries the flag.
    pub(crate) fn finish(&mut self) {
        self.replica_count = self.replica_count.max(1);
        self.stripe_count = self.stripe_count.max(1);
        if self.brick_count == 0 {
            self.brick_count = u32::try_from(self.bricks.len()).unwrap_or(u32::MAX);
        }
        let group = self.subvolume_size();
        self.distribute_count = if self.brick_count == 0 { 0 } else { (self.brick_count / group).max(1) };
        if self.arbiter_count > 0 && self.replica_count > 1 && !self.bricks.iter().any(|b| b.arbiter) {
            let r = self.replica_count as usize;
            for (i, b) in self.bricks.iter_mut().enumerate() {
                b.arbiter = i % r == r - 1;
            }
        }
    }
}

/// A trusted-pool peer (`peer status`, `pool list`, glusterd's `peers/<uuid>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Peer {
    pub uuid: String,
    /// Primary hostname (`localhost` for the local node in `pool list`).
    pub hostname: String,
    /// All known names (primary first).
    pub hostnames: Vec<String>,
    /// `None` when the source does not say (glusterd store).
    pub connected: Option<bool>,
    /// glusterd friend state code (3 = Peer in Cluster).
    pub state: Option<u32>,
    pub state_str: Option<String>,
}

/// One brick line of `volume status --xml`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrickStatus {
    pub host: String,
    pub path: String,
    pub peer_id: Option<String>,
    pub online: bool,
    pub port: Option<u32>,
    pub rdma_port: Option<u32>,
    pub pid: Option<u32>,
    /// `status … detail` only:
    pub size_total: Option<u64>,
    pub size_free: Option<u64>,
    pub device: Option<String>,
    pub block_size: Option<u64>,
    pub mount_options: Option<String>,
    pub fs_name: Option<String>,
    pub inodes_total: Option<u64>,
    pub inodes_free: Option<u64>,
}

/// A daemon line of `volume status --xml` (self-heal, NFS, quota, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DaemonStatus {
    /// e.g. `Self-heal Daemon`.
    pub name: String,
    /// `localhost` or the peer's name.
    pub host: String,
    pub peer_id: Option<String>,
    pub online: bool,
    pub pid: Option<u32>,
}

/// `volume status --xml` for one volume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeStatusReport {
    pub volume: String,
    pub bricks: Vec<BrickStatus>,
    pub daemons: Vec<DaemonStatus>,
}
