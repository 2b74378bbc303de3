//! Rebuild: a repaired heketi DB from a base (the DB, a salvaged DB, an old backup, or nothing)
//! plus the ground truth, and the plan that lists every change with its reason and evidence.
//!
//! Order of work: nodes → devices → volumes → bricks (adopt what exists, remove what provably
//! no longer exists, fix what differs) → pending operations → everything heketi derives
//! (reference lists, device accounting, mount hosts, block-hosting sizes) → attributes. The plan
//! is then computed by comparing base and result field by field, so nothing changes without
//! being listed; each change carries the reason recorded by the step that made it.
//!
//! Safety: objects on nodes that did not report (or whose source failed) are never removed.

mod plan;

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::{check_db, match_nodes, Evidence, Kind, Severity};
use crate::heketi::schema::{
    ATTR_BRICK_HAS_SUBTYPE_FIELD, ATTR_CLUSTER_HAS_FILE_BLOCK_FLAG, ATTR_DEVICE_HAS_ID_META,
    ATTR_GENERATION_ID, ATTR_HAS_PENDING_OPS_BUCKET,
};
use crate::heketi::*;
use crate::topology::{GroundTruth, ObservedDurability, ObservedVolume};

pub use plan::{render_plan_text, Change, Plan};

/// What to do where the DB and the cluster disagree.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Remove DB entries that provably no longer exist (default); `false` keeps them.
    pub remove_missing: bool,
    /// Remove pending operations (their entries are reconciled with the cluster first).
    pub clear_pending: bool,
    /// Cluster id to use when the DB has none (e.g. a StorageClass `clusterid`).
    pub cluster_id: Option<String>,
    /// Known node ids by hostname (manage or storage), e.g. from an old topology/export.
    pub node_ids: BTreeMap<String, String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { remove_missing: true, clear_pending: true, cluster_id: None, node_ids: BTreeMap::new() }
    }
}

/// Why rebuild could not produce a DB it trusts.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RebuildError {
    #[error("the rebuilt DB fails its own check ({} findings), first: {first}", findings.len())]
    CheckFailed { findings: Vec<crate::diff::Finding>, first: String },
    #[error("the cluster has {0} trusted pools' worth of nodes but the DB none; pass a cluster id per pool")]
    AmbiguousCluster(usize),
}

/// Source of fresh ids (32 lowercase hex, like heketi's `idgen`); injectable for tests.
pub trait IdSource {
    fn next_id(&mut self) -> String;
}

/// Ids from the OS's randomness (`/dev/urandom`), falling back to a time-seeded generator.
#[derive(Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_id(&mut self) -> String {
        let mut b = [0u8; 16];
        let ok = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
            .is_ok();
        if !ok {
            let mut x = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            for byte in &mut b {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = x as u8;
            }
        }
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}

const GIB: u64 = 1024 * 1024;

struct Ctx<'a> {
    db: Db,
    truth: &'a GroundTruth,
    policy: &'a Policy,
    ids: &'a mut dyn IdSource,
    /// (kind, id) → reasons for the changes made to it.
    reasons: plan::Reasons,
    generated: Vec<(Kind, String, String)>,
    /// heketi node id → observed node index.
    node_of: BTreeMap<String, usize>,
    /// Observed node index → heketi node id.
    heketi_node: BTreeMap<usize, String>,
    unseen_nodes: BTreeSet<String>,
}

impl Ctx<'_> {
    fn why(&mut self, kind: Kind, id: &str, reason: impl Into<String>, evidence: Vec<Evidence>) {
        self.reasons.entry((kind, id.to_owned())).or_default().push((reason.into(), evidence));
    }

    fn host(&self, node: usize) -> String {
        self.truth.nodes.get(node).map_or_else(String::new, |n| n.hostname.clone())
    }

    fn ev(&self, node: usize, source: &str) -> Vec<Evidence> {
        vec![Evidence::node(&self.host(node), source)]
    }

    /// Whether the node owning a DB object reported the facts `what` needs.
    fn knows(&self, heketi_node: &str, what: fn(&crate::topology::Knowledge) -> bool) -> bool {
        self.node_of.get(heketi_node).and_then(|i| self.truth.nodes.get(*i)).is_some_and(|n| what(&n.knows))
    }
}

/// Rebuild `base` against `truth`.
pub fn rebuild(
    base: &Db,
    truth: &GroundTruth,
    policy: &Policy,
    ids: &mut dyn IdSource,
) -> Result<(Db, Plan), RebuildError> {
    let nm = match_nodes(base, truth);
    let mut cx = Ctx {
        db: base.clone(),
        truth,
        policy,
        ids,
        reasons: BTreeMap::new(),
        generated: Vec::new(),
        heketi_node: nm.observed.iter().map(|(k, v)| (*v, k.clone())).collect(),
        node_of: nm.observed,
        unseen_nodes: nm.unseen,
    };
    let cluster = ensure_cluster(&mut cx)?;
    adopt_nodes(&mut cx, &cluster);
    reconcile_devices(&mut cx);
    reconcile_volumes(&mut cx, &cluster);
    reconcile_bricks(&mut cx);
    reconcile_pending(&mut cx);
    derive(&mut cx);
    attributes(&mut cx);

    let findings: Vec<_> = check_db(&cx.db).into_iter().filter(|f| f.severity > Severity::Info).collect();
    if let Some(first) = findings.first() {
        let first =
            format!("{} {} {}: {}", first.code.as_str(), first.kind.as_str(), first.id, first.message);
        return Err(RebuildError::CheckFailed { findings, first });
    }
    let plan = plan::compute(base, &cx.db, &cx.reasons, cx.generated.clone(), &cx.unseen_nodes, truth);
    Ok((cx.db, plan))
}

fn ensure_cluster(cx: &mut Ctx<'_>) -> Result<String, RebuildError> {
    // A cluster entry lost to damage is still named by its nodes and volumes: bring it back
    // under the same id (its lists are recomputed later).
    let referenced: BTreeSet<String> = cx
        .db
        .nodes
        .values()
        .map(|n| n.info.cluster_id.clone())
        .chain(cx.db.volumes.values().map(|v| v.info.cluster.clone()))
        .chain(cx.db.block_volumes.values().map(|b| b.info.cluster.clone()))
        .filter(|c| !c.is_empty() && !cx.db.clusters.contains_key(c))
        .collect();
    for id in referenced {
        cx.db.clusters.insert(
            id.clone(),
            Cluster { info: ClusterInfo { id: id.clone(), block: true, file: true, ..Default::default() } },
        );
        cx.why(
            Kind::Cluster,
            &id,
            "the cluster entry was lost but its nodes and volumes name it: recreated under the same id",
            vec![],
        );
    }
    if let Some(id) = cx.db.clusters.keys().next() {
        if cx.db.clusters.len() > 1 && cx.policy.cluster_id.is_some() {
            return Ok(cx.policy.cluster_id.clone().unwrap_or_default());
        }
        return Ok(id.clone());
    }
    let (id, how) = match &cx.policy.cluster_id {
        Some(id) => (id.clone(), "given with --cluster-id"),
        None => (cx.ids.next_id(), "generated: the cluster id exists nowhere on disk"),
    };
    cx.generated.push((Kind::Cluster, id.clone(), how.into()));
    cx.db.clusters.insert(
        id.clone(),
        Cluster { info: ClusterInfo { id: id.clone(), block: true, file: true, ..Default::default() } },
    );
    cx.why(Kind::Cluster, &id, "the DB has no cluster: one heketi cluster per gluster trusted pool", vec![]);
    Ok(id)
}

fn adopt_nodes(cx: &mut Ctx<'_>, cluster: &str) {
    for (i, n) in cx.truth.nodes.iter().enumerate() {
        if cx.heketi_node.contains_key(&i) {
            continue;
        }
        let has_heketi_objects = cx.truth.devices.values().any(|d| d.node == i);
        if !has_heketi_objects {
            continue;
        }
        let known = n.names.iter().find_map(|h| cx.policy.node_ids.get(h)).cloned();
        let (id, how) = match known {
            Some(id) => (id, "taken from the given topology"),
            None => (cx.ids.next_id(), "generated: node ids exist nowhere outside heketi's DB"),
        };
        cx.generated.push((Kind::Node, id.clone(), how.into()));
        let storage = n
            .brick_hosts
            .iter()
            .next()
            .cloned()
            .or_else(|| n.addresses.first().cloned())
            .unwrap_or_else(|| n.hostname.clone());
        cx.db.nodes.insert(
            id.clone(),
            Node {
                state: "online".into(),
                info: NodeInfo {
                    zone: 1,
                    hostnames: HostAddresses {
                        manage: Some(vec![n.hostname.clone()]),
                        storage: Some(vec![storage]),
                    },
                    cluster_id: cluster.to_owned(),
                    tags: BTreeMap::new(),
                    id: id.clone(),
                },
                devices: vec![],
            },
        );
        let ev = cx.ev(i, "vgs");
        cx.why(Kind::Node, &id, format!("node {} has heketi VGs but no DB entry: adopted", n.hostname), ev);
        cx.heketi_node.insert(i, id.clone());
        cx.node_of.insert(id, i);
    }
}

fn reconcile_devices(cx: &mut Ctx<'_>) {
    let truth = cx.truth;
    for (id, od) in &truth.devices {
        let Some(node_id) = cx.heketi_node.get(&od.node).cloned() else { continue };
        let ev = cx.ev(od.node, "vgs");
        match cx.db.devices.get_mut(id) {
            None => {
                cx.db.devices.insert(
                    id.clone(),
                    Device {
                        state: "online".into(),
                        info: DeviceInfo {
                            name: od.pvs.first().cloned().unwrap_or_default(),
                            storage: StorageSize { total: od.size_kib, free: od.size_kib, used: 0 },
                            id: id.clone(),
                            // heketi v10 records the path given at `device add` plus its udev
                            // symlinks; the PV path is what is certain.
                            paths: od.pvs.first().cloned().into_iter().collect(),
                            pv_uuid: od.pv_uuid.clone().unwrap_or_default(),
                            ..Default::default()
                        },
                        bricks: vec![],
                        node_id,
                        extent_size: if od.extent_kib > 0 { od.extent_kib } else { 4096 },
                    },
                );
                cx.why(
                    Kind::Device,
                    id,
                    format!("VG {} exists but the DB has no device: adopted", od.vg),
                    ev,
                );
            }
            Some(d) => {
                let mut reasons = Vec::new();
                if d.node_id != node_id {
                    d.node_id = node_id;
                    reasons.push("the VG is on another node than the DB said");
                }
                if d.info.storage.total != od.size_kib {
                    d.info.storage.total = od.size_kib;
                    reasons.push("device size set from the VG");
                }
                if od.extent_kib > 0 && d.extent_size != od.extent_kib {
                    d.extent_size = od.extent_kib;
                    reasons.push("extent size set from the VG");
                }
                for r in reasons {
                    cx.why(Kind::Device, id, r, ev.clone());
                }
            }
        }
    }
    if !cx.policy.remove_missing {
        return;
    }
    let gone: Vec<String> = cx
        .db
        .devices
        .iter()
        .filter(|(id, d)| cx.knows(&d.node_id, |k| k.lvm) && !truth.devices.contains_key(*id))
        .map(|(id, _)| id.clone())
        .collect();
    for id in gone {
        let node = cx.node_of[&cx.db.devices[&id].node_id];
        let ev = cx.ev(node, "vgs");
        cx.why(Kind::Device, &id, format!("VG vg_{id} does not exist on {}: removed", cx.host(node)), ev);
        cx.db.devices.remove(&id);
    }
}

/// Volume options heketi would have stored: its own `user.heketi.*` keys (not the id, which
/// heketi adds when talking to gluster), between the empty pre/post entries v9+ writes.
fn heketi_options(ov: &ObservedVolume) -> Vec<String> {
    let mut v = vec![String::new()];
    v.extend(
        ov.options
            .iter()
            .filter(|(k, _)| k.starts_with("user.heketi.") && *k != "user.heketi.id")
            .map(|(k, val)| format!("{k} {val}")),
    );
    v.push(String::new());
    v
}

fn durability_info(d: ObservedDurability) -> VolumeDurabilityInfo {
    match d {
        ObservedDurability::Replicate { replica, .. } => VolumeDurabilityInfo {
            kind: "replicate".into(),
            replicate: ReplicaDurability { replica: i64::from(replica) },
            disperse: DisperseDurability::default(),
        },
        ObservedDurability::Disperse { data, redundancy } => VolumeDurabilityInfo {
            kind: "disperse".into(),
            replicate: ReplicaDurability::default(),
            disperse: DisperseDurability { data: i64::from(data), redundancy: i64::from(redundancy) },
        },
        ObservedDurability::None => VolumeDurabilityInfo { kind: "none".into(), ..Default::default() },
    }
}

fn reconcile_volumes(cx: &mut Ctx<'_>, cluster: &str) {
    let truth = cx.truth;
    for ov in truth.volumes.values() {
        let Some(hid) = ov.heketi_id.clone() else { continue }; // foreign: left alone
        let ev = vec![Evidence::node(
            &ov.seen_by.first().map_or(String::new(), |i| cx.host(*i)),
            "gluster volume info",
        )];
        let existing = if cx.db.volumes.contains_key(&hid) {
            Some(hid.clone())
        } else {
            cx.db.volumes.values().find(|v| v.info.name == ov.name).map(|v| v.info.id.clone())
        };
        let gid = observed_gid(truth, ov);
        match existing {
            None => {
                let vol = Volume {
                    info: VolumeInfo {
                        size: ov.size_gib.unwrap_or(0) as i64,
                        name: ov.name.clone(),
                        durability: durability_info(ov.durability),
                        gid: i64::from(gid.unwrap_or(0)),
                        snapshot: snapshot_of(truth, ov),
                        id: hid.clone(),
                        cluster: cluster.to_owned(),
                        ..Default::default()
                    },
                    gluster_volume_options: Some(heketi_options(ov)),
                    ..Default::default()
                };
                cx.db.volumes.insert(hid.clone(), vol);
                cx.why(
                    Kind::Volume,
                    &hid,
                    format!("gluster volume {} was made by heketi but had no DB entry: adopted", ov.name),
                    ev,
                );
            }
            Some(id) => {
                let v = cx.db.volumes.get_mut(&id).expect("just found");
                let mut reasons: Vec<String> = Vec::new();
                if v.info.name != ov.name {
                    v.info.name = ov.name.clone();
                    reasons.push("name set from gluster".into());
                }
                let dur = durability_info(ov.durability);
                if v.info.durability.kind != dur.kind
                    || (dur.kind == "replicate"
                        && v.info.durability.replicate.replica != dur.replicate.replica)
                    || (dur.kind == "disperse" && v.info.durability.disperse != dur.disperse)
                {
                    v.info.durability = dur;
                    v.durability_value = None;
                    reasons.push("durability set from gluster".into());
                }
                if let Some(size) = ov.size_gib {
                    if v.info.size != size as i64 {
                        reasons.push(format!("size {} GiB → {size} GiB from its bricks", v.info.size));
                        v.info.size = size as i64;
                    }
                }
                if let Some(g) = gid {
                    if v.info.gid != i64::from(g) {
                        reasons.push(format!("gid {} → {g} from the brick directories", v.info.gid));
                        v.info.gid = i64::from(g);
                    }
                }
                for r in reasons {
                    cx.why(Kind::Volume, &id, r, ev.clone());
                }
            }
        }
    }
    if !truth.gluster_known || !cx.policy.remove_missing {
        return;
    }
    let gone: Vec<String> = cx
        .db
        .volumes
        .values()
        .filter(|v| {
            truth.volume_by_heketi_id(&v.info.id).is_none() && !truth.volumes.contains_key(&v.info.name)
        })
        .map(|v| v.info.id.clone())
        .collect();
    for id in gone {
        let name = cx.db.volumes[&id].info.name.clone();
        let lvs_left =
            cx.db.volumes[&id].bricks.iter().any(|b| truth.bricks.get(b).is_some_and(|o| o.lv.is_some()));
        let note = if lvs_left {
            " — its brick LVs still exist: recreate the volume from them if the data is needed, or remove them"
        } else {
            ""
        };
        cx.why(
            Kind::Volume,
            &id,
            format!("gluster has no volume {name}: removed with its bricks{note}"),
            vec![Evidence::node("", "gluster volume info")],
        );
        let v = cx.db.volumes.remove(&id).expect("listed");
        for b in v.bricks {
            if cx.db.bricks.remove(&b).is_some() {
                cx.why(Kind::Brick, &b, format!("its volume {name} no longer exists in gluster"), vec![]);
            }
        }
        for bv in v.info.block_info.block_volumes {
            if cx.db.block_volumes.remove(&bv).is_some() {
                cx.why(
                    Kind::BlockVolume,
                    &bv,
                    format!("its block-hosting volume {name} no longer exists"),
                    vec![],
                );
            }
        }
    }
}

/// Snapshot settings implied by the thin pools: heketi sizes each pool as brick × factor
/// (factor 1 when snapshots are off, typically 1.5 when on).
fn snapshot_of(truth: &GroundTruth, ov: &ObservedVolume) -> Snapshot {
    let ratio = ov
        .bricks
        .iter()
        .filter(|b| !b.arbiter)
        .filter_map(|b| truth.bricks.get(b.brick_id.as_deref()?)?.lv.as_ref())
        .find_map(|l| Some(l.pool_size_kib? as f64 / l.size_kib.max(1) as f64));
    match ratio {
        // Pools are rounded up to whole extents: only a clearly larger pool means snapshots.
        Some(r) if r > 1.05 => Snapshot { enable: true, factor: ((r * 10.0).round() / 10.0) as f32 },
        _ => Snapshot { enable: false, factor: 1.0 },
    }
}

/// The group owning a volume's brick directories: the majority (a tie goes to a non-root
/// group, since heketi only ever sets one group for all bricks of a volume).
fn observed_gid(truth: &GroundTruth, ov: &ObservedVolume) -> Option<u32> {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for b in &ov.bricks {
        if let Some(g) = b.brick_id.as_ref().and_then(|id| truth.bricks.get(id)).and_then(|b| b.gid) {
            *counts.entry(g).or_default() += 1;
        }
    }
    counts.iter().max_by_key(|(g, n)| (**n, **g != 0)).map(|(g, _)| *g)
}

/// heketi's `TpSize` / `PoolMetadataSize` for a brick (spec §4.4).
pub fn brick_pool_sizes(brick_kib: u64, factor: f32, extent_kib: u64) -> (u64, u64) {
    let align = |x: u64| if extent_kib == 0 { x } else { x.div_ceil(extent_kib) * extent_kib };
    let tp = align((brick_kib as f64 * f64::from(factor)) as u64);
    let pms = align(((tp as f64 * 0.005) as u64).min(16 * GIB));
    (tp, pms)
}

fn reconcile_bricks(cx: &mut Ctx<'_>) {
    let truth = cx.truth;
    for ov in truth.volumes.values() {
        let Some(hid) = &ov.heketi_id else { continue };
        let Some(vid) = (if cx.db.volumes.contains_key(hid) {
            Some(hid.clone())
        } else {
            cx.db.volumes.values().find(|v| v.info.name == ov.name).map(|v| v.info.id.clone())
        }) else {
            continue;
        };
        let volume_size = cx.db.volumes[&vid].info.size.max(0) as u64;
        let sets = match ov.durability {
            ObservedDurability::Replicate { replica, .. } => ov.bricks.len() / (replica.max(1) as usize),
            ObservedDurability::Disperse { data, redundancy } => {
                ov.bricks.len() / ((data + redundancy).max(1) as usize)
            }
            ObservedDurability::None => ov.bricks.len(),
        }
        .max(1) as u64;
        let data = match ov.durability {
            ObservedDurability::Disperse { data, .. } => u64::from(data.max(1)),
            _ => 1,
        };
        for vb in &ov.bricks {
            let (Some(bid), Some(dev)) = (vb.brick_id.clone(), vb.device_id.clone()) else { continue };
            let Some(node) = vb.node.and_then(|n| cx.heketi_node.get(&n).cloned()) else { continue };
            let ob = truth.bricks.get(&bid);
            let lv = ob.and_then(|b| b.lv.as_ref());
            let extent = truth.devices.get(&dev).map_or(4096, |d| d.extent_kib.max(1));
            // heketi stores the unrounded brick size; LVM rounds it up to whole extents.
            let formula = volume_size * GIB / sets / data;
            let size = match lv {
                Some(l) if !vb.arbiter && l.size_kib >= formula && l.size_kib - formula < extent => formula,
                Some(l) => l.size_kib,
                None => formula,
            };
            let ev = vec![Evidence::node(&vb.node.map_or(String::new(), |n| cx.host(n)), "lvs")];
            let existing = cx.db.bricks.get(&bid).cloned();
            let mut b = existing.clone().unwrap_or_default();
            b.info.id = bid.clone();
            b.info.path = vb.path.clone();
            b.info.device_id = dev.clone();
            b.info.node_id = node.clone();
            b.info.volume_id = vid.clone();
            if existing.is_none() || lv.is_some() {
                b.info.size = size;
            }
            if let Some(l) = lv {
                if let Some(p) = l.pool_size_kib {
                    b.tp_size = p;
                }
                if let Some(m) = l.pool_metadata_kib {
                    b.pool_metadata_size = m;
                }
                if let Some(pool) = &l.thin_pool {
                    b.lvm_thin_pool = pool.clone();
                }
                b.lvm_lv = if l.lv == format!("brick_{bid}") { String::new() } else { l.lv.clone() };
            } else if existing.is_none() {
                let (tp, pms) = brick_pool_sizes(size, 1.0, extent);
                b.tp_size = tp;
                b.pool_metadata_size = pms;
                b.lvm_thin_pool = format!("tp_{bid}");
            }
            b.sub_type = if vb.arbiter { 2 } else { 1 };
            match existing {
                None => cx.why(
                    Kind::Brick,
                    &bid,
                    format!("brick of gluster volume {} had no DB entry: adopted", ov.name),
                    ev,
                ),
                Some(old) if old != b => cx.why(Kind::Brick, &bid, "set from gluster and LVM", ev),
                _ => {}
            }
            cx.db.bricks.insert(bid, b);
        }
        // Gluster's brick list is the volume's brick list.
        let listed: Vec<String> = ov
            .bricks
            .iter()
            .filter_map(|b| b.brick_id.clone())
            .filter(|b| cx.db.bricks.contains_key(b))
            .collect();
        let v = cx.db.volumes.get_mut(&vid).expect("volume exists");
        let mut sorted = listed;
        sorted.sort();
        if v.bricks != sorted {
            v.bricks = sorted;
            cx.why(Kind::Volume, &vid, "brick list set from gluster", vec![]);
        }
    }
    if !cx.policy.remove_missing {
        return;
    }
    // DB bricks that gluster no longer lists in their volume. A brick gluster still lists is
    // kept even when its LV is gone: heketi needs the entry to replace the brick.
    let mut gone = Vec::new();
    let mut kept = Vec::new();
    for (id, b) in &cx.db.bricks {
        let listed_by_gluster = truth.bricks.get(id).is_some_and(|o| o.volume.is_some());
        let lv_missing = cx.knows(&b.info.node_id, |k| k.lvm)
            && truth.bricks.get(id).and_then(|o| o.lv.as_ref()).is_none();
        if truth.gluster_known && !listed_by_gluster {
            gone.push((id.clone(), lv_missing));
        } else if lv_missing {
            let ev = cx.node_of.get(&b.info.node_id).map_or(vec![], |n| cx.ev(*n, "lvs"));
            kept.push((id.clone(), ev));
        }
    }
    for (id, ev) in kept {
        cx.why(
            Kind::Brick,
            &id,
            "kept although its LV is gone: gluster still lists it; replace the brick",
            ev,
        );
    }
    for (id, lv_missing) in gone {
        let b = cx.db.bricks.remove(&id).expect("listed");
        let reason = if lv_missing {
            "neither gluster nor LVM has it any more: removed".to_owned()
        } else {
            format!("gluster does not list it in any volume: removed (its LV brick_{id} is left on disk)")
        };
        let ev = cx.node_of.get(&b.info.node_id).map_or(vec![], |n| cx.ev(*n, "gluster volume info"));
        cx.why(Kind::Brick, &id, reason, ev);
        if let Some(v) = cx.db.volumes.get_mut(&b.info.volume_id) {
            v.bricks.retain(|x| *x != id);
        }
    }
}

fn reconcile_pending(cx: &mut Ctx<'_>) {
    if !cx.policy.clear_pending {
        return;
    }
    let ops: Vec<String> = cx.db.pending_ops.keys().cloned().collect();
    for op in ops {
        cx.db.pending_ops.remove(&op);
        cx.why(Kind::PendingOp, &op, "removed: its entries were reconciled with the cluster (what exists is kept, what does not is removed)", vec![]);
    }
    for v in cx.db.volumes.values_mut() {
        v.pending.id.clear();
    }
    for b in cx.db.bricks.values_mut() {
        b.pending.id.clear();
    }
    for bv in cx.db.block_volumes.values_mut() {
        bv.pending.id.clear();
    }
}

/// Everything heketi derives from the entries: reference lists, device accounting, mount
/// hosts, block-hosting sizes.
fn derive(cx: &mut Ctx<'_>) {
    let db = &mut cx.db;
    // Drop references to entries that do not exist (a damaged or drifted base).
    let volume_ids: BTreeSet<String> = db.volumes.keys().cloned().collect();
    let node_ids: BTreeSet<String> = db.nodes.keys().cloned().collect();
    db.bricks.retain(|_, b| volume_ids.contains(&b.info.volume_id) || b.info.volume_id.is_empty());
    let device_ids: BTreeSet<String> = db.devices.keys().cloned().collect();
    db.bricks.retain(|_, b| device_ids.contains(&b.info.device_id));
    db.devices.retain(|_, d| node_ids.contains(&d.node_id));
    db.block_volumes.retain(|_, bv| volume_ids.contains(&bv.info.block_hosting_volume));

    // Device brick lists and accounting.
    let mut by_device: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, b) in &db.bricks {
        by_device.entry(b.info.device_id.clone()).or_default().push(id.clone());
    }
    for (id, d) in db.devices.iter_mut() {
        d.bricks = by_device.remove(id).unwrap_or_default();
        let used: u64 = d
            .bricks
            .iter()
            .filter_map(|b| db.bricks.get(b))
            .filter(|b| b.lvm_lv.is_empty())
            .map(|b| b.tp_size + b.pool_metadata_size)
            .sum();
        d.info.storage.used = used;
        d.info.storage.free = d.info.storage.total.saturating_sub(used);
    }
    // Node device lists.
    let mut by_node: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, d) in &db.devices {
        by_node.entry(d.node_id.clone()).or_default().push(id.clone());
    }
    for (id, n) in db.nodes.iter_mut() {
        n.devices = by_node.remove(id).unwrap_or_default();
    }
    // Volume brick lists (bricks point at their volume).
    let mut by_volume: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, b) in &db.bricks {
        by_volume.entry(b.info.volume_id.clone()).or_default().push(id.clone());
    }
    let mut bv_by_volume: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, bv) in &db.block_volumes {
        bv_by_volume.entry(bv.info.block_hosting_volume.clone()).or_default().push(id.clone());
    }
    // Cluster lists.
    for (cid, c) in db.clusters.iter_mut() {
        c.info.nodes =
            db.nodes.values().filter(|n| n.info.cluster_id == *cid).map(|n| n.info.id.clone()).collect();
        c.info.volumes =
            db.volumes.values().filter(|v| v.info.cluster == *cid).map(|v| v.info.id.clone()).collect();
        c.info.block_volumes =
            db.block_volumes.values().filter(|b| b.info.cluster == *cid).map(|b| b.info.id.clone()).collect();
    }
    // Volumes: brick lists, mount info, block-hosting sizes.
    for (id, v) in db.volumes.iter_mut() {
        v.bricks = by_volume.remove(id).unwrap_or_default();
        let hosts: Vec<String> = db.clusters.get(&v.info.cluster).map_or(vec![], |c| {
            c.info
                .nodes
                .iter()
                .filter_map(|n| db.nodes.get(n))
                .filter_map(|n| n.info.hostnames.storage.as_ref().and_then(|s| s.first().cloned()))
                .collect()
        });
        if let Some(first) = hosts.first() {
            v.info.mount.glusterfs.mount_point = format!("{first}:{}", v.info.name);
            let backup = hosts[1..].join(",");
            v.info.mount.glusterfs.options =
                Some(BTreeMap::from([("backup-volfile-servers".to_owned(), backup)]));
            v.info.mount.glusterfs.hosts = Some(hosts);
        }
        let bvs = bv_by_volume.remove(id).unwrap_or_default();
        if v.info.block || !bvs.is_empty() {
            v.info.block = true;
            let used: i64 = bvs.iter().filter_map(|b| db.block_volumes.get(b)).map(|b| b.info.size).sum();
            let bi = &mut v.info.block_info;
            if v.info.size != bi.free_size + bi.reserved_size + used {
                // heketi's own fix-up (fixIncorrectBlockHostingFreeSize), with the reserve it
                // gives new block-hosting volumes.
                bi.reserved_size = v.info.size - v.info.size * 98 / 100;
                bi.free_size = (v.info.size - bi.reserved_size - used).max(0);
            }
        }
        v.info.block_info.block_volumes = bvs;
    }
    for bv in db.block_volumes.values_mut() {
        if let Some(v) = db.volumes.get(&bv.info.block_hosting_volume) {
            bv.info.cluster = v.info.cluster.clone();
        }
    }
}

fn attributes(cx: &mut Ctx<'_>) {
    for key in [
        ATTR_CLUSTER_HAS_FILE_BLOCK_FLAG,
        ATTR_HAS_PENDING_OPS_BUCKET,
        ATTR_BRICK_HAS_SUBTYPE_FIELD,
        ATTR_DEVICE_HAS_ID_META,
    ] {
        if cx.db.attributes.get(key).is_none_or(|a| a.value != "yes") {
            cx.db.attributes.insert(key.into(), DbAttribute { key: key.into(), value: "yes".into() });
        }
    }
    if !cx.db.attributes.contains_key(ATTR_GENERATION_ID) {
        let id = cx.ids.next_id();
        cx.db
            .attributes
            .insert(ATTR_GENERATION_ID.into(), DbAttribute { key: ATTR_GENERATION_ID.into(), value: id });
    }
    // Unknown attributes make heketi v9+ refuse to start.
    cx.db.attributes.retain(|k, _| schema::KNOWN_ATTRIBUTES.contains(&k.as_str()));
}
