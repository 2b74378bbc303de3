//! Decoded gob values → typed heketi entries, with the defaults heketi applies on load
//! (spec §2.8). Fields are matched by name like Go's decoder; fields this version does not know
//! are ignored; a field of the wrong kind is an error (Go refuses those too).

use std::collections::BTreeMap;

use crate::gob::{Struct, Value};

use super::model::*;

/// A gob value that does not have the shape of the heketi entry it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {path}: expected {expected}, found {found}")]
pub struct ShapeError {
    pub path: &'static str,
    pub expected: &'static str,
    pub found: &'static str,
}

type R<T> = Result<T, ShapeError>;

/// The value at a dotted field path (`"Info.Storage.Total"`); `None` when any part is absent
/// (gob omits zero values, and Go leaves such fields at their defaults).
fn field<'a, 'v>(root: &'a Struct<'v>, path: &'static str) -> R<Option<&'a Value<'v>>> {
    let mut cur = root;
    let mut parts = path.split('.').peekable();
    while let Some(name) = parts.next() {
        let Some(v) = cur.get(name) else { return Ok(None) };
        if parts.peek().is_none() {
            return Ok(Some(v));
        }
        match v {
            Value::Struct(s) => cur = s,
            other => return Err(ShapeError { path, expected: "struct", found: other.kind() }),
        }
    }
    Ok(None)
}

fn string(root: &Struct, path: &'static str) -> R<String> {
    match field(root, path)? {
        None => Ok(String::new()),
        Some(Value::String(b)) => Ok(String::from_utf8_lossy(b).into_owned()),
        Some(v) => Err(ShapeError { path, expected: "string", found: v.kind() }),
    }
}

fn int(root: &Struct, path: &'static str) -> R<i64> {
    match field(root, path)? {
        None => Ok(0),
        Some(Value::Int(i)) => Ok(*i),
        Some(v) => Err(ShapeError { path, expected: "int", found: v.kind() }),
    }
}

fn uint(root: &Struct, path: &'static str) -> R<u64> {
    match field(root, path)? {
        None => Ok(0),
        Some(Value::Uint(u)) => Ok(*u),
        Some(v) => Err(ShapeError { path, expected: "uint", found: v.kind() }),
    }
}

fn boolean(root: &Struct, path: &'static str) -> R<bool> {
    match field(root, path)? {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(ShapeError { path, expected: "bool", found: v.kind() }),
    }
}

fn float32(root: &Struct, path: &'static str) -> R<f32> {
    match field(root, path)? {
        None => Ok(0.0),
        Some(Value::Float(f)) => Ok(*f as f32),
        Some(v) => Err(ShapeError { path, expected: "float", found: v.kind() }),
    }
}

/// A `[]string`; `None` when absent (heketi's `nil`).
fn strings(root: &Struct, path: &'static str) -> R<Option<Vec<String>>> {
    match field(root, path)? {
        None => Ok(None),
        Some(Value::Slice(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(b) => Ok(String::from_utf8_lossy(b).into_owned()),
                other => Err(ShapeError { path, expected: "string element", found: other.kind() }),
            })
            .collect::<R<Vec<_>>>()
            .map(Some),
        Some(v) => Err(ShapeError { path, expected: "slice", found: v.kind() }),
    }
}

fn string_map(root: &Struct, path: &'static str) -> R<Option<BTreeMap<String, String>>> {
    match field(root, path)? {
        None => Ok(None),
        Some(Value::Map(pairs)) => {
            let mut m = BTreeMap::new();
            for (k, v) in pairs {
                match (k, v) {
                    (Value::String(k), Value::String(v)) => {
                        m.insert(
                            String::from_utf8_lossy(k).into_owned(),
                            String::from_utf8_lossy(v).into_owned(),
                        );
                    }
                    (Value::String(_), other) | (other, _) => {
                        return Err(ShapeError { path, expected: "string map entry", found: other.kind() })
                    }
                }
            }
            Ok(Some(m))
        }
        Some(v) => Err(ShapeError { path, expected: "map", found: v.kind() }),
    }
}

fn structs<'a, 'v>(root: &'a Struct<'v>, path: &'static str) -> R<Vec<&'a Struct<'v>>> {
    match field(root, path)? {
        None => Ok(Vec::new()),
        Some(Value::Slice(items)) => items
            .iter()
            .map(|v| match v {
                Value::Struct(s) => Ok(s),
                other => Err(ShapeError { path, expected: "struct element", found: other.kind() }),
            })
            .collect(),
        Some(v) => Err(ShapeError { path, expected: "slice", found: v.kind() }),
    }
}

pub(crate) fn cluster(s: &Struct) -> R<Cluster> {
    Ok(Cluster {
        info: ClusterInfo {
            id: string(s, "Info.Id")?,
            nodes: strings(s, "Info.Nodes")?.unwrap_or_default(),
            volumes: strings(s, "Info.Volumes")?.unwrap_or_default(),
            block: boolean(s, "Info.ClusterFlags.Block")?,
            file: boolean(s, "Info.ClusterFlags.File")?,
            block_volumes: strings(s, "Info.BlockVolumes")?.unwrap_or_default(),
        },
    })
}

fn state(s: &Struct) -> R<String> {
    let st = string(s, "Entry.State")?;
    Ok(if st.is_empty() { "online".to_owned() } else { st })
}

pub(crate) fn node(s: &Struct) -> R<Node> {
    Ok(Node {
        state: state(s)?,
        info: NodeInfo {
            zone: int(s, "Info.NodeAddRequest.Zone")?,
            hostnames: HostAddresses {
                manage: strings(s, "Info.NodeAddRequest.Hostnames.Manage")?,
                storage: strings(s, "Info.NodeAddRequest.Hostnames.Storage")?,
            },
            cluster_id: string(s, "Info.NodeAddRequest.ClusterId")?,
            tags: string_map(s, "Info.NodeAddRequest.Tags")?.unwrap_or_default(),
            id: string(s, "Info.Id")?,
        },
        devices: strings(s, "Devices")?.unwrap_or_default(),
    })
}

pub(crate) fn device(s: &Struct) -> R<Device> {
    let extent = uint(s, "ExtentSize")?;
    Ok(Device {
        state: state(s)?,
        info: DeviceInfo {
            name: string(s, "Info.Device.Name")?,
            tags: string_map(s, "Info.Device.Tags")?.unwrap_or_default(),
            storage: StorageSize {
                total: uint(s, "Info.Storage.Total")?,
                free: uint(s, "Info.Storage.Free")?,
                used: uint(s, "Info.Storage.Used")?,
            },
            id: string(s, "Info.Id")?,
            paths: strings(s, "Info.Paths")?.unwrap_or_default(),
            pv_uuid: string(s, "Info.PvUUID")?,
        },
        bricks: strings(s, "Bricks")?.unwrap_or_default(),
        node_id: string(s, "NodeId")?,
        extent_size: if extent == 0 { 4096 } else { extent },
    })
}

pub(crate) fn brick(s: &Struct) -> R<Brick> {
    Ok(Brick {
        info: BrickInfo {
            id: string(s, "Info.Id")?,
            path: string(s, "Info.Path")?,
            device_id: string(s, "Info.DeviceId")?,
            node_id: string(s, "Info.NodeId")?,
            volume_id: string(s, "Info.VolumeId")?,
            size: uint(s, "Info.Size")?,
        },
        tp_size: uint(s, "TpSize")?,
        pool_metadata_size: uint(s, "PoolMetadataSize")?,
        pending: PendingItem { id: string(s, "Pending.Id")? },
        lvm_thin_pool: string(s, "LvmThinPool")?,
        lvm_lv: string(s, "LvmLv")?,
        sub_type: int(s, "SubType")?,
    })
}

fn durability_value(s: &Struct) -> R<Option<DurabilityValue>> {
    const PATH: &str = "Durability";
    let Some(v) = s.get(PATH) else { return Ok(None) };
    let Value::Interface(name, inner) = v else {
        return Err(ShapeError { path: PATH, expected: "interface", found: v.kind() });
    };
    let Some(inner) = inner.as_struct() else {
        return Err(ShapeError { path: PATH, expected: "struct", found: inner.kind() });
    };
    Ok(Some(match *name {
        b"*glusterfs.VolumeReplicaDurability" => {
            DurabilityValue::Replicate { replica: int(inner, "ReplicaDurability.Replica")? }
        }
        b"*glusterfs.VolumeDisperseDurability" => DurabilityValue::Disperse {
            data: int(inner, "DisperseDurability.Data")?,
            redundancy: int(inner, "DisperseDurability.Redundancy")?,
        },
        b"*glusterfs.NoneDurability" => DurabilityValue::None,
        _ => {
            return Err(ShapeError {
                path: PATH,
                expected: "a registered durability type",
                found: "unknown type",
            })
        }
    }))
}

pub(crate) fn volume(s: &Struct) -> R<Volume> {
    Ok(Volume {
        info: VolumeInfo {
            size: int(s, "Info.VolumeCreateRequest.Size")?,
            clusters: strings(s, "Info.VolumeCreateRequest.Clusters")?.unwrap_or_default(),
            name: string(s, "Info.VolumeCreateRequest.Name")?,
            durability: VolumeDurabilityInfo {
                kind: string(s, "Info.VolumeCreateRequest.Durability.Type")?,
                replicate: ReplicaDurability {
                    replica: int(s, "Info.VolumeCreateRequest.Durability.Replicate.Replica")?,
                },
                disperse: DisperseDurability {
                    data: int(s, "Info.VolumeCreateRequest.Durability.Disperse.Data")?,
                    redundancy: int(s, "Info.VolumeCreateRequest.Durability.Disperse.Redundancy")?,
                },
            },
            gid: int(s, "Info.VolumeCreateRequest.Gid")?,
            gluster_volume_options: strings(s, "Info.VolumeCreateRequest.GlusterVolumeOptions")?
                .unwrap_or_default(),
            block: boolean(s, "Info.VolumeCreateRequest.Block")?,
            snapshot: Snapshot {
                enable: boolean(s, "Info.VolumeCreateRequest.Snapshot.Enable")?,
                factor: float32(s, "Info.VolumeCreateRequest.Snapshot.Factor")?,
            },
            id: string(s, "Info.Id")?,
            cluster: string(s, "Info.Cluster")?,
            mount: Mount {
                glusterfs: GlusterFsMount {
                    hosts: strings(s, "Info.Mount.GlusterFS.Hosts")?,
                    mount_point: string(s, "Info.Mount.GlusterFS.MountPoint")?,
                    options: string_map(s, "Info.Mount.GlusterFS.Options")?,
                },
            },
            block_info: BlockInfo {
                free_size: int(s, "Info.BlockInfo.FreeSize")?,
                reserved_size: int(s, "Info.BlockInfo.ReservedSize")?,
                block_volumes: strings(s, "Info.BlockInfo.BlockVolumes")?.unwrap_or_default(),
                restriction: string(s, "Info.BlockInfo.Restriction")?,
            },
        },
        bricks: strings(s, "Bricks")?.unwrap_or_default(),
        durability_value: durability_value(s)?,
        gluster_volume_options: strings(s, "GlusterVolumeOptions")?,
        pending: PendingItem { id: string(s, "Pending.Id")? },
    })
}

pub(crate) fn block_volume(s: &Struct) -> R<BlockVolume> {
    Ok(BlockVolume {
        info: BlockVolumeInfo {
            size: int(s, "Info.BlockVolumeCreateRequest.Size")?,
            clusters: strings(s, "Info.BlockVolumeCreateRequest.Clusters")?.unwrap_or_default(),
            name: string(s, "Info.BlockVolumeCreateRequest.Name")?,
            hacount: int(s, "Info.BlockVolumeCreateRequest.Hacount")?,
            auth: boolean(s, "Info.BlockVolumeCreateRequest.Auth")?,
            id: string(s, "Info.Id")?,
            block_volume: BlockVolumeTarget {
                hosts: strings(s, "Info.BlockVolume.Hosts")?,
                iqn: string(s, "Info.BlockVolume.Iqn")?,
                lun: int(s, "Info.BlockVolume.Lun")?,
                username: string(s, "Info.BlockVolume.Username")?,
                password: string(s, "Info.BlockVolume.Password")?,
            },
            cluster: string(s, "Info.Cluster")?,
            block_hosting_volume: string(s, "Info.BlockHostingVolume")?,
            usable_size: int(s, "Info.UsableSize")?,
        },
        pending: PendingItem { id: string(s, "Pending.Id")? },
    })
}

pub(crate) fn db_attribute(s: &Struct) -> R<DbAttribute> {
    Ok(DbAttribute { key: string(s, "Key")?, value: string(s, "Value")? })
}

fn delta(a: &Struct) -> R<Delta> {
    const PATH: &str = "Actions.Delta";
    let Some(v) = a.get("Delta") else { return Ok(Delta::Nil) };
    let Value::Interface(name, inner) = v else {
        return Err(ShapeError { path: PATH, expected: "interface", found: v.kind() });
    };
    if name.is_empty() {
        return Ok(Delta::Nil);
    }
    Ok(match **inner {
        Value::Int(i) => Delta::Int(i),
        Value::Uint(u) => Delta::Uint(u),
        Value::Float(f) => Delta::Float(f),
        ref other => return Err(ShapeError { path: PATH, expected: "a number", found: other.kind() }),
    })
}

pub(crate) fn pending_op(s: &Struct) -> R<PendingOp> {
    let actions = structs(s, "PendingOperation.Actions")?
        .into_iter()
        .map(|a| Ok(PendingAction { change: int(a, "Change")?, id: string(a, "Id")?, delta: delta(a)? }))
        .collect::<R<Vec<_>>>()?;
    Ok(PendingOp {
        id: string(s, "PendingOperation.PendingItem.Id")?,
        timestamp: int(s, "PendingOperation.Timestamp")?,
        op_type: int(s, "PendingOperation.Type")?,
        actions,
        status: string(s, "Status")?,
    })
}
