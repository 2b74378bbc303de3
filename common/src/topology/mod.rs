//! Ground truth: what the cluster really contains, assembled from every node's report.
//!
//! heketi's naming rules (spec §4) connect the pieces: a VG `vg_<device id>` is a heketi device,
//! a thin LV `brick_<brick id>` a brick (its pool is read from LVM: it is *not* always
//! `tp_<brick id>`), a gluster volume carrying `user.heketi.id` (or named `vol_<id>`) a heketi
//! volume, and a brick `host:path` in gluster names the node (by peer UUID or hostname/address)
//! and, through the path, the device and brick. Everything else is kept as foreign objects.
//!
//! Architecture invariant: what a node did not report (its agent did not answer, or one source
//! failed) is *unknown*, never *absent*. [`ObservedNode::knows`] tells which facts a node
//! supplied; diff and rebuild must consult it before concluding that something is gone.

mod synthesize;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::inventory::naming::{parse_brick_lv_name, parse_brick_path, parse_vg_name, parse_volume_name};
use crate::inventory::{LvRole, NodeReport, Source};

pub use synthesize::snapshot_from_db;

/// Everything gathered in one collection: the reports that arrived and the agents that did not
/// answer. This is the `snapshot.json` that `heketi-doctor collect -o` writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    /// Unix seconds when the collection started.
    pub collected_at: i64,
    pub reports: Vec<NodeReport>,
    pub unreachable: Vec<UnreachableAgent>,
}

/// An agent that did not deliver a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreachableAgent {
    /// The address it was asked at (`host:port`) or the capture directory.
    pub agent: String,
    pub error: String,
}

/// Which kinds of facts a node supplied (a failed source leaves its facts unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Knowledge {
    pub lvm: bool,
    pub gluster: bool,
    pub mounts: bool,
    pub brick_dirs: bool,
    pub fstab: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedNode {
    pub hostname: String,
    pub addresses: Vec<String>,
    pub gluster_uuid: Option<String>,
    /// Every name this node is known by: hostname, addresses, and the names other peers use for
    /// it (`peer status`), plus the brick hosts gluster maps to it.
    pub names: BTreeSet<String>,
    /// Host strings gluster uses in this node's bricks (heketi's `Hostnames.Storage[0]`).
    pub brick_hosts: BTreeSet<String>,
    pub knows: Knowledge,
}

/// A heketi-shaped VG (`vg_<device id>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedDevice {
    pub id: String,
    /// Index into [`GroundTruth::nodes`].
    pub node: usize,
    pub vg: String,
    pub pvs: Vec<String>,
    pub pv_uuid: Option<String>,
    pub size_kib: u64,
    pub free_kib: u64,
    pub extent_kib: u64,
    pub extent_count: u64,
    pub free_extent_count: u64,
}

/// The LVM side of a brick: its thin LV and pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrickLv {
    pub lv: String,
    pub thin_pool: Option<String>,
    /// Virtual size of the thin LV.
    pub size_kib: u64,
    /// Data size of its pool.
    pub pool_size_kib: Option<u64>,
    pub pool_metadata_kib: Option<u64>,
    /// Thin LVs in the same pool (heketi gives every brick its own pool; clones share).
    pub pool_thin_count: usize,
}

/// A heketi brick as seen on disk and in gluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedBrick {
    pub id: String,
    pub node: usize,
    pub device_id: String,
    pub lv: Option<BrickLv>,
    pub mounted: Option<bool>,
    pub mount_source: Option<String>,
    pub in_fstab: Option<bool>,
    /// Group and mode of the brick directory, when it exists.
    pub gid: Option<u32>,
    pub mode: Option<u32>,
    /// The gluster volume listing this brick, its position there, and the arbiter flag.
    pub volume: Option<String>,
    pub position: Option<usize>,
    pub arbiter: bool,
    /// Brick path as gluster has it (or heketi's path rule when gluster does not list it).
    pub path: String,
}

/// Durability as gluster reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ObservedDurability {
    Replicate { replica: u32, arbiter: bool },
    Disperse { data: u32, redundancy: u32 },
    None,
}

/// A brick of a gluster volume, resolved to node/device/brick where possible.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeBrick {
    pub host: String,
    pub path: String,
    pub node: Option<usize>,
    pub device_id: Option<String>,
    pub brick_id: Option<String>,
    pub arbiter: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedVolume {
    pub name: String,
    pub uuid: Option<String>,
    /// `user.heketi.id`, or the id in a `vol_<id>` name.
    pub heketi_id: Option<String>,
    pub durability: ObservedDurability,
    pub bricks: Vec<VolumeBrick>,
    pub options: BTreeMap<String, String>,
    pub started: Option<bool>,
    /// Size in GiB implied by the data bricks' LVs (None when a brick's LV is unknown).
    pub size_gib: Option<u64>,
    /// Nodes whose glusterd reported this volume.
    pub seen_by: Vec<usize>,
}

/// Objects heketi did not create: reported as info, never as errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ForeignObject {
    VolumeGroup { node: usize, name: String },
    LogicalVolume { node: usize, vg: String, name: String },
    Volume { name: String },
}

/// The assembled truth.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub nodes: Vec<ObservedNode>,
    pub unreachable: Vec<UnreachableAgent>,
    pub devices: BTreeMap<String, ObservedDevice>,
    pub bricks: BTreeMap<String, ObservedBrick>,
    /// Gluster volumes by name.
    pub volumes: BTreeMap<String, ObservedVolume>,
    pub foreign: Vec<ForeignObject>,
    /// Whether any glusterd answered: without it, the volume list is unknown.
    pub gluster_known: bool,
    /// heketi volume id → gluster volume name (index over `volumes`).
    #[serde(skip)]
    by_heketi_id: BTreeMap<String, String>,
}

impl GroundTruth {
    /// The node a host string (IP or name, as heketi stores it) refers to.
    pub fn node_by_name(&self, host: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.names.contains(host))
    }

    /// The observed volume carrying this heketi id.
    pub fn volume_by_heketi_id(&self, id: &str) -> Option<&ObservedVolume> {
        if self.by_heketi_id.is_empty() {
            return self.volumes.values().find(|v| v.heketi_id.as_deref() == Some(id));
        }
        self.by_heketi_id.get(id).and_then(|name| self.volumes.get(name))
    }
}

const KIB: u64 = 1024;
const GIB_IN_KIB: u64 = 1024 * 1024;

fn kib(b: Option<crate::inventory::units::ByteSize>) -> u64 {
    b.map_or(0, |b| b.bytes / KIB)
}

/// Assemble the ground truth from a snapshot.
pub fn assemble(snapshot: &ClusterSnapshot) -> GroundTruth {
    let mut truth = GroundTruth { unreachable: snapshot.unreachable.clone(), ..Default::default() };

    for r in &snapshot.reports {
        let ok = |s: Source| r.source_ok(s);
        let mut names: BTreeSet<String> = BTreeSet::new();
        if !r.identity.hostname.is_empty() {
            names.insert(r.identity.hostname.clone());
            // `node1.example.com` is also `node1` to operators and kubelets.
            if let Some((short, _)) = r.identity.hostname.split_once('.') {
                names.insert(short.to_owned());
            }
        }
        names.extend(r.identity.addresses.iter().cloned());
        let gluster_uuid =
            r.identity.gluster_uuid.clone().or_else(|| r.gluster.glusterd.as_ref().map(|g| g.uuid.clone()));
        truth.nodes.push(ObservedNode {
            hostname: r.identity.hostname.clone(),
            addresses: r.identity.addresses.clone(),
            gluster_uuid,
            names,
            brick_hosts: BTreeSet::new(),
            knows: Knowledge {
                lvm: ok(Source::Vgs) && ok(Source::Lvs),
                gluster: ok(Source::GlusterVolumeInfo),
                mounts: ok(Source::ProcMounts),
                brick_dirs: ok(Source::BrickDirs),
                fstab: ok(Source::HeketiFstab),
            },
        });
    }
    // Names peers use for each other (peer status lists the *other* nodes).
    for r in &snapshot.reports {
        for p in r.gluster.peers.iter().chain(&r.gluster.pool) {
            if p.hostname == "localhost" {
                continue;
            }
            if let Some(n) =
                truth.nodes.iter_mut().find(|n| n.gluster_uuid.as_deref() == Some(p.uuid.as_str()))
            {
                n.names.extend(p.hostnames.iter().cloned());
                n.names.insert(p.hostname.clone());
            }
        }
    }

    for (node, r) in snapshot.reports.iter().enumerate() {
        if truth.nodes[node].knows.lvm {
            collect_lvm(&mut truth, node, r);
        }
    }
    collect_gluster(&mut truth, snapshot);
    for (node, r) in snapshot.reports.iter().enumerate() {
        collect_mounts(&mut truth, node, r);
    }
    for v in truth.volumes.values_mut() {
        v.size_gib = volume_size_gib(v, &truth.bricks);
    }
    truth.by_heketi_id =
        truth.volumes.values().filter_map(|v| Some((v.heketi_id.clone()?, v.name.clone()))).collect();
    truth
}

fn collect_lvm(truth: &mut GroundTruth, node: usize, r: &NodeReport) {
    let lvm = &r.lvm;
    for vg in &lvm.vgs {
        let Some(id) = parse_vg_name(&vg.name) else {
            truth.foreign.push(ForeignObject::VolumeGroup { node, name: vg.name.clone() });
            continue;
        };
        let pvs: Vec<_> = lvm.pvs.iter().filter(|p| p.vg.as_deref() == Some(vg.name.as_str())).collect();
        let extent_kib = kib(vg.extent_size);
        truth.devices.insert(
            id.to_owned(),
            ObservedDevice {
                id: id.to_owned(),
                node,
                vg: vg.name.clone(),
                pvs: if pvs.is_empty() {
                    vg.pvs.clone()
                } else {
                    pvs.iter().map(|p| p.name.clone()).collect()
                },
                pv_uuid: pvs.first().and_then(|p| p.uuid.clone()),
                size_kib: match (vg.extent_count, extent_kib) {
                    (Some(c), e) if e > 0 => c * e,
                    _ => kib(vg.size),
                },
                free_kib: match (vg.free_extent_count, extent_kib) {
                    (Some(c), e) if e > 0 => c * e,
                    _ => kib(vg.free),
                },
                extent_kib,
                extent_count: vg.extent_count.unwrap_or(0),
                free_extent_count: vg.free_extent_count.unwrap_or(0),
            },
        );
    }
    // Pools by (VG, name) and how many thin LVs each serves: one pass, not one per brick.
    let mut pools: BTreeMap<(&str, &str), (&crate::inventory::LogicalVolume, usize)> = BTreeMap::new();
    for lv in lvm.lvs.iter().filter(|l| l.role == LvRole::ThinPool) {
        pools.insert((lv.vg.as_str(), lv.name.as_str()), (lv, 0));
    }
    for lv in &lvm.lvs {
        if let Some(e) = lv.pool_lv.as_deref().and_then(|p| pools.get_mut(&(lv.vg.as_str(), p))) {
            e.1 += 1;
        }
    }
    for lv in &lvm.lvs {
        let heketi_vg = parse_vg_name(&lv.vg);
        if lv.hidden
            || matches!(lv.role, LvRole::ThinPoolData | LvRole::ThinPoolMetadata | LvRole::PoolMetadataSpare)
        {
            continue;
        }
        let Some(device_id) = heketi_vg else {
            // LVs of foreign VGs belong to the foreign VG; not listed one by one.
            continue;
        };
        match (lv.role, parse_brick_lv_name(&lv.name)) {
            (LvRole::Thin, Some(brick_id)) => {
                let found = lv.pool_lv.as_deref().and_then(|p| pools.get(&(lv.vg.as_str(), p)));
                let pool = found.map(|(p, _)| *p);
                let pool_thin_count = found.map_or(0, |(_, n)| *n);
                truth.bricks.insert(
                    brick_id.to_owned(),
                    ObservedBrick {
                        id: brick_id.to_owned(),
                        node,
                        device_id: device_id.to_owned(),
                        lv: Some(BrickLv {
                            lv: lv.name.clone(),
                            thin_pool: lv.pool_lv.clone(),
                            size_kib: kib(lv.size),
                            pool_size_kib: pool.map(|p| kib(p.data_size.or(p.size))),
                            pool_metadata_kib: pool.and_then(|p| p.metadata_size).map(|m| m.bytes / KIB),
                            pool_thin_count,
                        }),
                        path: crate::inventory::naming::brick_dir(device_id, brick_id),
                        ..Default::default()
                    },
                );
            }
            (LvRole::ThinPool, _) => {} // pools are described through their bricks
            _ => truth.foreign.push(ForeignObject::LogicalVolume {
                node,
                vg: lv.vg.clone(),
                name: lv.name.clone(),
            }),
        }
    }
}

fn durability_of(v: &crate::inventory::GlusterVolume) -> ObservedDurability {
    if v.disperse_count > 0 {
        ObservedDurability::Disperse {
            data: v.disperse_count.saturating_sub(v.redundancy_count),
            redundancy: v.redundancy_count,
        }
    } else if v.replica_count > 1 {
        ObservedDurability::Replicate { replica: v.replica_count, arbiter: v.arbiter_count > 0 }
    } else {
        ObservedDurability::None
    }
}

fn collect_gluster(truth: &mut GroundTruth, snapshot: &ClusterSnapshot) {
    for (node, r) in snapshot.reports.iter().enumerate() {
        if !truth.nodes[node].knows.gluster {
            continue;
        }
        truth.gluster_known = true;
        for v in &r.gluster.volumes {
            if let Some(seen) = truth.volumes.get_mut(&v.name) {
                seen.seen_by.push(node);
                continue;
            }
            let heketi_id =
                v.heketi_id().map(str::to_owned).or_else(|| parse_volume_name(&v.name).map(str::to_owned));
            let bricks = v
                .bricks
                .iter()
                .map(|b| {
                    let by_uuid = b
                        .host_uuid
                        .as_deref()
                        .and_then(|u| truth.nodes.iter().position(|n| n.gluster_uuid.as_deref() == Some(u)));
                    let node = by_uuid.or_else(|| truth.nodes.iter().position(|n| n.names.contains(&b.host)));
                    let ids = parse_brick_path(&b.path);
                    VolumeBrick {
                        host: b.host.clone(),
                        path: b.path.clone(),
                        node,
                        device_id: ids.as_ref().map(|i| i.device_id.clone()),
                        brick_id: ids.map(|i| i.brick_id),
                        arbiter: b.arbiter,
                    }
                })
                .collect();
            if heketi_id.is_none() {
                truth.foreign.push(ForeignObject::Volume { name: v.name.clone() });
            }
            truth.volumes.insert(
                v.name.clone(),
                ObservedVolume {
                    name: v.name.clone(),
                    uuid: v.id.clone(),
                    heketi_id,
                    durability: durability_of(v),
                    bricks,
                    options: v.options.clone(),
                    started: v.status.as_ref().map(|s| matches!(s, crate::inventory::VolumeState::Started)),
                    size_gib: None,
                    seen_by: vec![node],
                },
            );
        }
    }
    // Wire bricks to volumes, and teach nodes the host strings gluster uses for them.
    let mut links = Vec::new();
    for v in truth.volumes.values() {
        for (pos, b) in v.bricks.iter().enumerate() {
            links.push((v.name.clone(), pos, b.clone()));
        }
    }
    for (volume, pos, b) in links {
        if let Some(n) = b.node {
            truth.nodes[n].brick_hosts.insert(b.host.clone());
            truth.nodes[n].names.insert(b.host.clone());
        }
        let Some(brick_id) = b.brick_id.clone() else { continue };
        let entry = truth.bricks.entry(brick_id.clone()).or_insert_with(|| ObservedBrick {
            id: brick_id,
            node: b.node.unwrap_or(usize::MAX),
            device_id: b.device_id.clone().unwrap_or_default(),
            path: b.path.clone(),
            ..Default::default()
        });
        entry.volume = Some(volume);
        entry.position = Some(pos);
        entry.arbiter = b.arbiter;
        entry.path = b.path.clone();
    }
}

fn collect_mounts(truth: &mut GroundTruth, node: usize, r: &NodeReport) {
    let knows = truth.nodes[node].knows;
    for f in &r.bricks {
        let Some(brick_id) = f.brick_id.as_deref() else { continue };
        let Some(b) = truth.bricks.get_mut(brick_id) else { continue };
        if b.node != node {
            continue;
        }
        if knows.mounts {
            b.mounted = Some(f.mounted);
            b.mount_source = f.mount_source.clone();
        }
        if knows.fstab {
            b.in_fstab = Some(f.in_fstab);
        }
        if let Some(d) = &f.brick_dir {
            b.gid = Some(d.gid);
            b.mode = Some(d.mode);
        }
    }
    // A brick whose facts were readable but which has no entry in the listing: not mounted.
    for b in truth.bricks.values_mut().filter(|b| b.node == node) {
        if knows.mounts && b.mounted.is_none() {
            b.mounted = Some(false);
        }
        if knows.fstab && b.in_fstab.is_none() {
            b.in_fstab = Some(false);
        }
    }
}

/// GiB implied by the data bricks (spec §4.4): the data bricks' sizes summed and divided by the
/// data bricks per set — replica copies and disperse redundancy carry no extra capacity, arbiter
/// bricks none at all. Independent of brick order, so expanded volumes with sets of different
/// sizes come out right. LVM rounds thin LV sizes up to whole extents: the result is floored.
fn volume_size_gib(v: &ObservedVolume, bricks: &BTreeMap<String, ObservedBrick>) -> Option<u64> {
    let mut data_kib = 0u64;
    for b in v.bricks.iter().filter(|b| !b.arbiter) {
        data_kib += bricks.get(b.brick_id.as_deref()?)?.lv.as_ref()?.size_kib;
    }
    let total = match v.durability {
        ObservedDurability::Replicate { replica, arbiter } => {
            data_kib / u64::from(replica.saturating_sub(u32::from(arbiter)).max(1))
        }
        ObservedDurability::Disperse { data, redundancy } => {
            data_kib * u64::from(data) / u64::from((data + redundancy).max(1))
        }
        ObservedDurability::None => data_kib,
    };
    (!v.bricks.is_empty()).then_some(total / GIB_IN_KIB)
}
