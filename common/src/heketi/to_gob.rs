//! Typed heketi entries → gob streams, shaped exactly like heketi v10.4's own values: same type
//! names (including the anonymous struct types' Go source text), same field order, same
//! interface concrete types. The bolt writer stores these; heketi reads them back as its own.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::gob::{self, EncValue, EncodeError, TypeSpec};

use super::model::*;

/// heketi v10's Go types, as gob describes them (spec §2.5).
struct Types {
    cluster: TypeSpec,
    node: TypeSpec,
    device: TypeSpec,
    brick: TypeSpec,
    volume: TypeSpec,
    block_volume: TypeSpec,
    attribute: TypeSpec,
    pending_op: TypeSpec,
    replica_durability: TypeSpec,
    disperse_durability: TypeSpec,
    none_durability: TypeSpec,
}

fn types() -> &'static Types {
    static TYPES: OnceLock<Types> = OnceLock::new();
    TYPES.get_or_init(|| {
        use TypeSpec as T;
        let string_slice = T::slice("StringSlice", T::String);
        let strings = T::slice("[]string", T::String);
        let string_map = T::map("map[string]string", T::String, T::String);
        let entry = T::structure("Entry", vec![("State", T::String)]);
        let pending_item = T::structure("PendingItem", vec![("Id", T::String)]);
        let replica = T::structure("ReplicaDurability", vec![("Replica", T::Int)]);
        let disperse = T::structure("DisperseDurability", vec![("Data", T::Int), ("Redundancy", T::Int)]);
        let replica_durability = T::structure("VolumeReplicaDurability", vec![("ReplicaDurability", replica.clone())]);
        let glusterfs_name = r#"struct { Hosts []string "json:\"hosts\""; MountPoint string "json:\"device\""; Options map[string]string "json:\"options\"" }"#;
        let glusterfs = T::structure(
            glusterfs_name,
            vec![("Hosts", strings.clone()), ("MountPoint", T::String), ("Options", string_map.clone())],
        );
        let mount_name = format!(r#"struct {{ GlusterFS {glusterfs_name} "json:\"glusterfs\"" }}"#);
        Types {
            cluster: T::structure(
                "ClusterEntry",
                vec![(
                    "Info",
                    T::structure(
                        "ClusterInfoResponse",
                        vec![
                            ("Id", T::String),
                            ("Nodes", string_slice.clone()),
                            ("Volumes", string_slice.clone()),
                            ("ClusterFlags", T::structure("ClusterFlags", vec![("Block", T::Bool), ("File", T::Bool)])),
                            ("BlockVolumes", string_slice.clone()),
                        ],
                    ),
                )],
            ),
            node: T::structure(
                "NodeEntry",
                vec![
                    ("Entry", entry.clone()),
                    (
                        "Info",
                        T::structure(
                            "NodeInfo",
                            vec![
                                (
                                    "NodeAddRequest",
                                    T::structure(
                                        "NodeAddRequest",
                                        vec![
                                            ("Zone", T::Int),
                                            (
                                                "Hostnames",
                                                T::structure(
                                                    "HostAddresses",
                                                    vec![("Manage", string_slice.clone()), ("Storage", string_slice.clone())],
                                                ),
                                            ),
                                            ("ClusterId", T::String),
                                            ("Tags", string_map.clone()),
                                        ],
                                    ),
                                ),
                                ("Id", T::String),
                            ],
                        ),
                    ),
                    ("Devices", string_slice.clone()),
                ],
            ),
            device: T::structure(
                "DeviceEntry",
                vec![
                    ("Entry", entry),
                    (
                        "Info",
                        T::structure(
                            "DeviceInfo",
                            vec![
                                ("Device", T::structure("Device", vec![("Name", T::String), ("Tags", string_map.clone())])),
                                (
                                    "Storage",
                                    T::structure(
                                        "StorageSize",
                                        vec![("Total", T::Uint), ("Free", T::Uint), ("Used", T::Uint)],
                                    ),
                                ),
                                ("Id", T::String),
                                ("Paths", strings.clone()),
                                ("PvUUID", T::String),
                            ],
                        ),
                    ),
                    ("Bricks", string_slice.clone()),
                    ("NodeId", T::String),
                    ("ExtentSize", T::Uint),
                ],
            ),
            brick: T::structure(
                "BrickEntry",
                vec![
                    (
                        "Info",
                        T::structure(
                            "BrickInfo",
                            vec![
                                ("Id", T::String),
                                ("Path", T::String),
                                ("DeviceId", T::String),
                                ("NodeId", T::String),
                                ("VolumeId", T::String),
                                ("Size", T::Uint),
                            ],
                        ),
                    ),
                    ("TpSize", T::Uint),
                    ("PoolMetadataSize", T::Uint),
                    ("Pending", pending_item.clone()),
                    ("LvmThinPool", T::String),
                    ("LvmLv", T::String),
                    ("SubType", T::Int),
                ],
            ),
            volume: T::structure(
                "VolumeEntry",
                vec![
                    (
                        "Info",
                        T::structure(
                            "VolumeInfo",
                            vec![
                                (
                                    "VolumeCreateRequest",
                                    T::structure(
                                        "VolumeCreateRequest",
                                        vec![
                                            ("Size", T::Int),
                                            ("Clusters", strings.clone()),
                                            ("Name", T::String),
                                            (
                                                "Durability",
                                                T::structure(
                                                    "VolumeDurabilityInfo",
                                                    vec![
                                                        ("Type", T::String),
                                                        ("Replicate", replica),
                                                        ("Disperse", disperse.clone()),
                                                    ],
                                                ),
                                            ),
                                            ("Gid", T::Int),
                                            ("GlusterVolumeOptions", strings.clone()),
                                            ("Block", T::Bool),
                                            (
                                                "Snapshot",
                                                T::structure(
                                                    r#"struct { Enable bool "json:\"enable\""; Factor float32 "json:\"factor\"" }"#,
                                                    vec![("Enable", T::Bool), ("Factor", T::Float)],
                                                ),
                                            ),
                                        ],
                                    ),
                                ),
                                ("Id", T::String),
                                ("Cluster", T::String),
                                ("Mount", T::structure(&mount_name, vec![("GlusterFS", glusterfs)])),
                                (
                                    "BlockInfo",
                                    T::structure(
                                        r#"struct { FreeSize int "json:\"freesize,omitempty\""; ReservedSize int "json:\"reservedsize,omitempty\""; BlockVolumes sort.StringSlice "json:\"blockvolume,omitempty\""; Restriction api.BlockRestriction "json:\"restriction,omitempty\"" }"#,
                                        vec![
                                            ("FreeSize", T::Int),
                                            ("ReservedSize", T::Int),
                                            ("BlockVolumes", string_slice.clone()),
                                            ("Restriction", T::String),
                                        ],
                                    ),
                                ),
                            ],
                        ),
                    ),
                    ("Bricks", string_slice.clone()),
                    ("Durability", T::Interface),
                    ("GlusterVolumeOptions", strings.clone()),
                    ("Pending", pending_item.clone()),
                ],
            ),
            block_volume: T::structure(
                "BlockVolumeEntry",
                vec![
                    (
                        "Info",
                        T::structure(
                            "BlockVolumeInfo",
                            vec![
                                (
                                    "BlockVolumeCreateRequest",
                                    T::structure(
                                        "BlockVolumeCreateRequest",
                                        vec![
                                            ("Size", T::Int),
                                            ("Clusters", strings.clone()),
                                            ("Name", T::String),
                                            ("Hacount", T::Int),
                                            ("Auth", T::Bool),
                                        ],
                                    ),
                                ),
                                ("Id", T::String),
                                (
                                    "BlockVolume",
                                    T::structure(
                                        r#"struct { Hosts []string "json:\"hosts\""; Iqn string "json:\"iqn\""; Lun int "json:\"lun\""; Username string "json:\"username\""; Password string "json:\"password\"" }"#,
                                        vec![
                                            ("Hosts", strings),
                                            ("Iqn", T::String),
                                            ("Lun", T::Int),
                                            ("Username", T::String),
                                            ("Password", T::String),
                                        ],
                                    ),
                                ),
                                ("Cluster", T::String),
                                ("BlockHostingVolume", T::String),
                                ("UsableSize", T::Int),
                            ],
                        ),
                    ),
                    ("Pending", pending_item.clone()),
                ],
            ),
            attribute: T::structure("DbAttributeEntry", vec![("Key", T::String), ("Value", T::String)]),
            pending_op: T::structure(
                "PendingOperationEntry",
                vec![
                    (
                        "PendingOperation",
                        T::structure(
                            "PendingOperation",
                            vec![
                                ("PendingItem", pending_item),
                                ("Timestamp", T::Int),
                                ("Type", T::Int),
                                (
                                    "Actions",
                                    T::slice(
                                        "[]glusterfs.PendingOperationAction",
                                        T::structure(
                                            "PendingOperationAction",
                                            vec![("Change", T::Int), ("Id", T::String), ("Delta", T::Interface)],
                                        ),
                                    ),
                                ),
                            ],
                        ),
                    ),
                    ("Status", T::String),
                ],
            ),
            none_durability: T::structure("NoneDurability", vec![("VolumeReplicaDurability", replica_durability.clone())]),
            replica_durability,
            disperse_durability: T::structure("VolumeDisperseDurability", vec![("DisperseDurability", disperse)]),
        }
    })
}

/// Why an entry cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToGobError {
    /// heketi's import refuses the same (`Not a known volume durability type`).
    #[error("volume {id}: not a known volume durability type: {kind:?}")]
    UnknownDurability { id: String, kind: String },
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

fn s(v: &str) -> EncValue {
    EncValue::String(v.to_owned())
}

fn strs(v: &[String]) -> EncValue {
    EncValue::Slice(v.iter().map(|x| EncValue::String(x.clone())).collect())
}

fn opt_strs(v: &Option<Vec<String>>) -> EncValue {
    strs(v.as_deref().unwrap_or_default())
}

/// Tags and similar maps: heketi keeps them `nil` unless set, so an empty map is not sent.
fn tags(m: &BTreeMap<String, String>) -> EncValue {
    if m.is_empty() {
        EncValue::Map(None)
    } else {
        EncValue::Map(Some(m.iter().map(|(k, v)| (s(k), s(v))).collect()))
    }
}

fn pending(p: &PendingItem) -> EncValue {
    EncValue::Struct(vec![s(&p.id)])
}

pub fn cluster(c: &Cluster) -> Result<Vec<u8>, ToGobError> {
    let i = &c.info;
    let v = EncValue::Struct(vec![EncValue::Struct(vec![
        s(&i.id),
        strs(&i.nodes),
        strs(&i.volumes),
        EncValue::Struct(vec![EncValue::Bool(i.block), EncValue::Bool(i.file)]),
        strs(&i.block_volumes),
    ])]);
    Ok(gob::encode(&types().cluster, &v, &[])?)
}

pub fn node(n: &Node) -> Result<Vec<u8>, ToGobError> {
    let i = &n.info;
    let v = EncValue::Struct(vec![
        EncValue::Struct(vec![s(&n.state)]),
        EncValue::Struct(vec![
            EncValue::Struct(vec![
                EncValue::Int(i.zone),
                EncValue::Struct(vec![opt_strs(&i.hostnames.manage), opt_strs(&i.hostnames.storage)]),
                s(&i.cluster_id),
                tags(&i.tags),
            ]),
            s(&i.id),
        ]),
        strs(&n.devices),
    ]);
    Ok(gob::encode(&types().node, &v, &[])?)
}

pub fn device(d: &Device) -> Result<Vec<u8>, ToGobError> {
    let i = &d.info;
    let v = EncValue::Struct(vec![
        EncValue::Struct(vec![s(&d.state)]),
        EncValue::Struct(vec![
            EncValue::Struct(vec![s(&i.name), tags(&i.tags)]),
            EncValue::Struct(vec![
                EncValue::Uint(i.storage.total),
                EncValue::Uint(i.storage.free),
                EncValue::Uint(i.storage.used),
            ]),
            s(&i.id),
            strs(&i.paths),
            s(&i.pv_uuid),
        ]),
        strs(&d.bricks),
        s(&d.node_id),
        EncValue::Uint(d.extent_size),
    ]);
    Ok(gob::encode(&types().device, &v, &[])?)
}

pub fn brick(b: &Brick) -> Result<Vec<u8>, ToGobError> {
    let i = &b.info;
    let v = EncValue::Struct(vec![
        EncValue::Struct(vec![
            s(&i.id),
            s(&i.path),
            s(&i.device_id),
            s(&i.node_id),
            s(&i.volume_id),
            EncValue::Uint(i.size),
        ]),
        EncValue::Uint(b.tp_size),
        EncValue::Uint(b.pool_metadata_size),
        pending(&b.pending),
        s(&b.lvm_thin_pool),
        s(&b.lvm_lv),
        EncValue::Int(b.sub_type),
    ]);
    Ok(gob::encode(&types().brick, &v, &[])?)
}

/// The `Durability` interface heketi stores: the volume's own if it was read from a bolt file,
/// else rebuilt from `Info.durability` exactly as `heketi db import` does (spec §2.9, §3.4).
pub fn durability_of(v: &Volume) -> Result<DurabilityValue, ToGobError> {
    if let Some(d) = v.durability_value {
        return Ok(d);
    }
    let d = &v.info.durability;
    let or = |x: i64, default: i64| if x == 0 { default } else { x };
    Ok(match d.kind.as_str() {
        "replicate" => DurabilityValue::Replicate { replica: or(d.replicate.replica, 2) },
        "disperse" => DurabilityValue::Disperse {
            data: or(d.disperse.data, 4),
            redundancy: or(d.disperse.redundancy, 2),
        },
        "none" | "" => DurabilityValue::None,
        other => return Err(ToGobError::UnknownDurability { id: v.info.id.clone(), kind: other.to_owned() }),
    })
}

pub fn volume(vol: &Volume) -> Result<Vec<u8>, ToGobError> {
    let t = types();
    let i = &vol.info;
    let (iface, concrete) = match durability_of(vol)? {
        DurabilityValue::Replicate { replica } => (
            (
                "*glusterfs.VolumeReplicaDurability",
                EncValue::Struct(vec![EncValue::Struct(vec![EncValue::Int(replica)])]),
            ),
            &t.replica_durability,
        ),
        DurabilityValue::Disperse { data, redundancy } => (
            (
                "*glusterfs.VolumeDisperseDurability",
                EncValue::Struct(vec![EncValue::Struct(vec![
                    EncValue::Int(data),
                    EncValue::Int(redundancy),
                ])]),
            ),
            &t.disperse_durability,
        ),
        DurabilityValue::None => (
            (
                "*glusterfs.NoneDurability",
                EncValue::Struct(vec![EncValue::Struct(vec![EncValue::Struct(vec![EncValue::Int(1)])])]),
            ),
            &t.none_durability,
        ),
    };
    let g = &i.mount.glusterfs;
    let v = EncValue::Struct(vec![
        EncValue::Struct(vec![
            EncValue::Struct(vec![
                EncValue::Int(i.size),
                strs(&i.clusters),
                s(&i.name),
                EncValue::Struct(vec![
                    s(&i.durability.kind),
                    EncValue::Struct(vec![EncValue::Int(i.durability.replicate.replica)]),
                    EncValue::Struct(vec![
                        EncValue::Int(i.durability.disperse.data),
                        EncValue::Int(i.durability.disperse.redundancy),
                    ]),
                ]),
                EncValue::Int(i.gid),
                strs(&i.gluster_volume_options),
                EncValue::Bool(i.block),
                EncValue::Struct(vec![
                    EncValue::Bool(i.snapshot.enable),
                    EncValue::Float(f64::from(i.snapshot.factor)),
                ]),
            ]),
            s(&i.id),
            s(&i.cluster),
            EncValue::Struct(vec![EncValue::Struct(vec![
                opt_strs(&g.hosts),
                s(&g.mount_point),
                // A mount options map heketi created is sent even when empty.
                EncValue::Map(g.options.as_ref().map(|m| m.iter().map(|(k, v)| (s(k), s(v))).collect())),
            ])]),
            EncValue::Struct(vec![
                EncValue::Int(i.block_info.free_size),
                EncValue::Int(i.block_info.reserved_size),
                strs(&i.block_info.block_volumes),
                s(&i.block_info.restriction),
            ]),
        ]),
        strs(&vol.bricks),
        EncValue::Interface(Some(Box::new((iface.0.to_owned(), concrete.clone(), iface.1)))),
        opt_strs(&vol.gluster_volume_options),
        pending(&vol.pending),
    ]);
    Ok(gob::encode(&t.volume, &v, std::slice::from_ref(concrete))?)
}

pub fn block_volume(bv: &BlockVolume) -> Result<Vec<u8>, ToGobError> {
    let i = &bv.info;
    let b = &i.block_volume;
    let v = EncValue::Struct(vec![
        EncValue::Struct(vec![
            EncValue::Struct(vec![
                EncValue::Int(i.size),
                strs(&i.clusters),
                s(&i.name),
                EncValue::Int(i.hacount),
                EncValue::Bool(i.auth),
            ]),
            s(&i.id),
            EncValue::Struct(vec![
                opt_strs(&b.hosts),
                s(&b.iqn),
                EncValue::Int(b.lun),
                s(&b.username),
                s(&b.password),
            ]),
            s(&i.cluster),
            s(&i.block_hosting_volume),
            EncValue::Int(i.usable_size),
        ]),
        pending(&bv.pending),
    ]);
    Ok(gob::encode(&types().block_volume, &v, &[])?)
}

pub fn attribute(a: &DbAttribute) -> Result<Vec<u8>, ToGobError> {
    Ok(gob::encode(&types().attribute, &EncValue::Struct(vec![s(&a.key), s(&a.value)]), &[])?)
}

pub fn pending_op(op: &PendingOp) -> Result<Vec<u8>, ToGobError> {
    let actions = op
        .actions
        .iter()
        .map(|a| {
            let delta = match a.delta {
                Delta::Nil => None,
                Delta::Int(i) => Some(("int", TypeSpec::Int, EncValue::Int(i))),
                Delta::Uint(u) => Some(("uint", TypeSpec::Uint, EncValue::Uint(u))),
                Delta::Float(f) => Some(("float64", TypeSpec::Float, EncValue::Float(f))),
            };
            EncValue::Struct(vec![
                EncValue::Int(a.change),
                s(&a.id),
                EncValue::Interface(delta.map(|(n, t, v)| Box::new((n.to_owned(), t, v)))),
            ])
        })
        .collect();
    let v = EncValue::Struct(vec![
        EncValue::Struct(vec![
            EncValue::Struct(vec![s(&op.id)]),
            EncValue::Int(op.timestamp),
            EncValue::Int(op.op_type),
            EncValue::Slice(actions),
        ]),
        s(&op.status),
    ]);
    Ok(gob::encode(&types().pending_op, &v, &[])?)
}

/// Options for [`to_bolt`].
#[derive(Debug, Clone)]
pub struct BoltWriteOptions {
    /// Page size of the new file: 4096 on x86-64/arm64 hosts, 65536 on ppc64le.
    pub page_size: usize,
    /// Write heketi's `MANAGE<host>`/`STORAGE<host>` node registry keys, which heketi uses to
    /// refuse a second node with the same hostname (heketi v10's own import leaves them out).
    pub registry_keys: bool,
}

impl Default for BoltWriteOptions {
    fn default() -> Self {
        BoltWriteOptions { page_size: 4096, registry_keys: true }
    }
}

/// Why a database cannot be written as a bolt file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoltWriteError {
    #[error("{bucket} {key}: {source}")]
    Entry { bucket: super::BucketKind, key: String, source: ToGobError },
    #[error("hostname {host:?} is used by nodes {first} and {second}; heketi requires unique hostnames")]
    DuplicateHostname { host: String, first: String, second: String },
    #[error(transparent)]
    Bolt(#[from] crate::bolt::write::WriteError),
}

/// Write `db` as a complete heketi.db: all eight buckets (heketi creates them all), every entry
/// under its own id, values encoded as heketi v10 encodes them.
pub fn to_bolt(db: &Db, opts: &BoltWriteOptions) -> Result<Vec<u8>, BoltWriteError> {
    use super::BucketKind as K;
    use crate::bolt::write::{write_file, BucketData};

    fn entries<T>(
        kind: K,
        map: &BTreeMap<String, T>,
        enc: impl Fn(&T) -> Result<Vec<u8>, ToGobError>,
    ) -> Result<BucketData, BoltWriteError> {
        let entries = map
            .iter()
            .map(|(id, e)| {
                enc(e).map(|v| (id.as_bytes().to_vec(), v)).map_err(|source| BoltWriteError::Entry {
                    bucket: kind,
                    key: id.clone(),
                    source,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(BucketData { name: kind.bucket_name().as_bytes().to_vec(), entries })
    }

    let mut node_bucket = entries(K::Node, &db.nodes, node)?;
    if opts.registry_keys {
        let mut seen: BTreeMap<Vec<u8>, &str> = BTreeMap::new();
        for (id, n) in &db.nodes {
            let hosts = n.info.hostnames.manage.iter().flatten().map(|h| ("MANAGE", h));
            let hosts = hosts.chain(n.info.hostnames.storage.iter().flatten().map(|h| ("STORAGE", h)));
            for (prefix, host) in hosts {
                let key = format!("{prefix}{host}").into_bytes();
                match seen.get(&key) {
                    Some(first) if *first != id.as_str() => {
                        return Err(BoltWriteError::DuplicateHostname {
                            host: host.clone(),
                            first: (*first).to_owned(),
                            second: id.clone(),
                        })
                    }
                    Some(_) => continue, // the same host listed twice on one node
                    None => {
                        seen.insert(key.clone(), id);
                        node_bucket.entries.push((key, id.as_bytes().to_vec()));
                    }
                }
            }
        }
    }
    let buckets = vec![
        entries(K::Cluster, &db.clusters, cluster)?,
        node_bucket,
        entries(K::Volume, &db.volumes, volume)?,
        entries(K::Device, &db.devices, device)?,
        entries(K::Brick, &db.bricks, brick)?,
        entries(K::BlockVolume, &db.block_volumes, block_volume)?,
        entries(K::DbAttribute, &db.attributes, attribute)?,
        entries(K::PendingOperations, &db.pending_ops, pending_op)?,
    ];
    Ok(write_file(&buckets, opts.page_size)?)
}
