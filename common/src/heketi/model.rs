//! Heketi's entries as typed Rust values, shaped after the export JSON (`heketi db export`).
//!
//! Field order, JSON names and `omitempty` rules follow heketi v10.4's Go types exactly
//! (heketi-db-spec.md §2.5, §3.3), so serialising a [`Db`] with [`super::export`] reproduces
//! heketi's own export byte for byte. Slices that heketi leaves `nil` when absent are
//! `Option<Vec<_>>` (JSON `null`); slices heketi initialises on load are plain `Vec`s (JSON `[]`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Heketi's whole database, keyed by entry id (map order = Go's sorted JSON key order).
///
/// As JSON input, the five buckets every heketi export has are required and unknown top-level
/// keys are refused, so that a topology.json or some other JSON is not mistaken for an empty DB.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Db {
    #[serde(rename = "clusterentries")]
    pub clusters: BTreeMap<String, Cluster>,
    #[serde(rename = "volumeentries")]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(rename = "brickentries")]
    pub bricks: BTreeMap<String, Brick>,
    #[serde(rename = "nodeentries")]
    pub nodes: BTreeMap<String, Node>,
    #[serde(rename = "deviceentries")]
    pub devices: BTreeMap<String, Device>,
    #[serde(rename = "blockvolumeentries", default)]
    pub block_volumes: BTreeMap<String, BlockVolume>,
    #[serde(rename = "dbattributeentries", default)]
    pub attributes: BTreeMap<String, DbAttribute>,
    #[serde(rename = "pendingoperations", default)]
    pub pending_ops: BTreeMap<String, PendingOp>,
}

/// `null` in JSON means an empty list for the slices heketi initialises when it loads an entry.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn null_as_empty_map<'de, D>(d: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}
fn is_false(v: &bool) -> bool {
    !*v
}

// ---------------------------------------------------------------------------------------------
// Cluster

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    #[serde(rename = "Info")]
    pub info: ClusterInfo,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterInfo {
    #[serde(default)]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub nodes: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub volumes: Vec<String>,
    #[serde(default)]
    pub block: bool,
    #[serde(default)]
    pub file: bool,
    #[serde(rename = "blockvolumes", default, deserialize_with = "null_as_empty")]
    pub block_volumes: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Node

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Node {
    #[serde(rename = "State", default)]
    pub state: String,
    #[serde(rename = "Info")]
    pub info: NodeInfo,
    #[serde(rename = "Devices", default, deserialize_with = "null_as_empty")]
    pub devices: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    #[serde(default)]
    pub zone: i64,
    #[serde(default)]
    pub hostnames: HostAddresses,
    #[serde(rename = "cluster", default)]
    pub cluster_id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "null_as_empty_map")]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostAddresses {
    #[serde(default)]
    pub manage: Option<Vec<String>>,
    #[serde(default)]
    pub storage: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// Device

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Device {
    #[serde(rename = "State", default)]
    pub state: String,
    #[serde(rename = "Info")]
    pub info: DeviceInfo,
    #[serde(rename = "Bricks", default, deserialize_with = "null_as_empty")]
    pub bricks: Vec<String>,
    #[serde(rename = "NodeId", default)]
    pub node_id: String,
    /// VG extent size in KiB.
    #[serde(rename = "ExtentSize", default)]
    pub extent_size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "null_as_empty_map")]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub storage: StorageSize,
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_empty")]
    pub paths: Vec<String>,
    #[serde(rename = "pv_uuid", default, skip_serializing_if = "String::is_empty")]
    pub pv_uuid: String,
}

/// Device space in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageSize {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub free: u64,
    #[serde(default)]
    pub used: u64,
}

// ---------------------------------------------------------------------------------------------
// Brick

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Brick {
    #[serde(rename = "Info")]
    pub info: BrickInfo,
    /// Thin pool data size, KiB.
    #[serde(rename = "TpSize", default)]
    pub tp_size: u64,
    /// Thin pool metadata size, KiB.
    #[serde(rename = "PoolMetadataSize", default)]
    pub pool_metadata_size: u64,
    #[serde(rename = "Pending", default)]
    pub pending: PendingItem,
    /// Empty for bricks older than heketi v8: the pool is then `tp_<brick id>`.
    #[serde(rename = "LvmThinPool", default)]
    pub lvm_thin_pool: String,
    /// Empty unless the LV is not `brick_<brick id>` (clone bricks).
    #[serde(rename = "LvmLv", default)]
    pub lvm_lv: String,
    /// 0 unknown (pre-v8), 1 normal, 2 arbiter.
    #[serde(rename = "SubType", default)]
    pub sub_type: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BrickInfo {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub path: String,
    #[serde(rename = "device", default)]
    pub device_id: String,
    #[serde(rename = "node", default)]
    pub node_id: String,
    #[serde(rename = "volume", default)]
    pub volume_id: String,
    /// Thin LV virtual size, KiB.
    #[serde(default)]
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingItem {
    #[serde(rename = "Id", default)]
    pub id: String,
}

// ---------------------------------------------------------------------------------------------
// Volume

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    #[serde(rename = "Info")]
    pub info: VolumeInfo,
    #[serde(rename = "Bricks", default, deserialize_with = "null_as_empty")]
    pub bricks: Vec<String>,
    /// The gob `Durability` interface; never exported (`json:"-"`), rebuilt from
    /// `info.durability` on import.
    #[serde(skip)]
    pub durability_value: Option<DurabilityValue>,
    #[serde(rename = "GlusterVolumeOptions", default)]
    pub gluster_volume_options: Option<Vec<String>>,
    #[serde(rename = "Pending", default)]
    pub pending: PendingItem,
}

/// The concrete type held by `VolumeEntry.Durability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurabilityValue {
    Replicate { replica: i64 },
    Disperse { data: i64, redundancy: i64 },
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeInfo {
    /// GiB.
    #[serde(default)]
    pub size: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_empty")]
    pub clusters: Vec<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub durability: VolumeDurabilityInfo,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub gid: i64,
    #[serde(
        rename = "glustervolumeoptions",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub gluster_volume_options: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub block: bool,
    #[serde(default)]
    pub snapshot: Snapshot,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub cluster: String,
    #[serde(default)]
    pub mount: Mount,
    #[serde(rename = "blockinfo", default)]
    pub block_info: BlockInfo,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeDurabilityInfo {
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default)]
    pub replicate: ReplicaDurability,
    #[serde(default)]
    pub disperse: DisperseDurability,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplicaDurability {
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub replica: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DisperseDurability {
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub data: i64,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub redundancy: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default)]
    pub enable: bool,
    /// Go float32.
    #[serde(default)]
    pub factor: f32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mount {
    #[serde(default)]
    pub glusterfs: GlusterFsMount,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GlusterFsMount {
    #[serde(default)]
    pub hosts: Option<Vec<String>>,
    /// `host0:volname` (Go field `MountPoint`).
    #[serde(rename = "device", default)]
    pub mount_point: String,
    #[serde(default)]
    pub options: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockInfo {
    /// GiB.
    #[serde(rename = "freesize", default, skip_serializing_if = "is_zero_i64")]
    pub free_size: i64,
    /// GiB.
    #[serde(rename = "reservedsize", default, skip_serializing_if = "is_zero_i64")]
    pub reserved_size: i64,
    #[serde(
        rename = "blockvolume",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub block_volumes: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restriction: String,
}

// ---------------------------------------------------------------------------------------------
// Block volume

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockVolume {
    #[serde(rename = "Info")]
    pub info: BlockVolumeInfo,
    #[serde(rename = "Pending", default)]
    pub pending: PendingItem,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockVolumeInfo {
    /// GiB.
    #[serde(default)]
    pub size: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_empty")]
    pub clusters: Vec<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub hacount: i64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub auth: bool,
    #[serde(default)]
    pub id: String,
    #[serde(rename = "blockvolume", default)]
    pub block_volume: BlockVolumeTarget,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    #[serde(rename = "blockhostingvolume", default, skip_serializing_if = "String::is_empty")]
    pub block_hosting_volume: String,
    #[serde(rename = "usablesize", default, skip_serializing_if = "is_zero_i64")]
    pub usable_size: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockVolumeTarget {
    #[serde(default)]
    pub hosts: Option<Vec<String>>,
    #[serde(default)]
    pub iqn: String,
    #[serde(default)]
    pub lun: i64,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

// ---------------------------------------------------------------------------------------------
// DB attributes and pending operations

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbAttribute {
    #[serde(rename = "Key", default)]
    pub key: String,
    #[serde(rename = "Value", default)]
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PendingOp {
    #[serde(rename = "Id", default)]
    pub id: String,
    /// Unix seconds.
    #[serde(rename = "Timestamp", default)]
    pub timestamp: i64,
    /// Operation type; numbering depends on the heketi release (spec §2.6).
    #[serde(rename = "Type", default)]
    pub op_type: i64,
    #[serde(rename = "Actions", default, deserialize_with = "null_as_empty")]
    pub actions: Vec<PendingAction>,
    #[serde(rename = "Status", default)]
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PendingAction {
    #[serde(rename = "Change", default)]
    pub change: i64,
    #[serde(rename = "Id", default)]
    pub id: String,
    #[serde(rename = "Delta", default)]
    pub delta: Delta,
}

/// `PendingOperationAction.Delta`, a Go `interface{}`: heketi stores an `int` (GiB); a DB that
/// went through `heketi db import` holds a `float64` instead.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Delta {
    #[default]
    Nil,
    Int(i64),
    Uint(u64),
    Float(f64),
}

impl Serialize for Delta {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Delta::Nil => s.serialize_none(),
            Delta::Int(v) => s.serialize_i64(v),
            Delta::Uint(v) => s.serialize_u64(v),
            Delta::Float(v) => s.serialize_f64(v),
        }
    }
}

impl<'de> Deserialize<'de> for Delta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A JSON number holding an integral value is what heketi meant (an `int`); heketi's own
        // import would store a float64 here and then fail to use it (spec §3.4).
        Ok(match Option::<serde_json::Number>::deserialize(d)? {
            None => Delta::Nil,
            Some(n) => {
                if let Some(i) = n.as_i64() {
                    Delta::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Delta::Uint(u)
                } else {
                    let f = n.as_f64().unwrap_or(0.0);
                    if f.fract() == 0.0 && f.abs() < 9.0e15 {
                        Delta::Int(f as i64)
                    } else {
                        Delta::Float(f)
                    }
                }
            }
        })
    }
}
