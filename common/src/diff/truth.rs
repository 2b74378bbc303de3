//! heketi's DB against the ground truth.
//!
//! Rule: a DB object on a node that did not report (or whose relevant source failed) is
//! *unknown*: it gets no "missing" finding, and the report lists the node as not seen.

use std::collections::{BTreeMap, BTreeSet};

use crate::heketi::{Brick, Db, Volume};
use crate::inventory::naming::brick_dir;
use crate::topology::{GroundTruth, ObservedDurability, ObservedVolume};

use super::finding::{Code, Evidence, Finding, Kind, Severity};

/// The DB node ↔ observed node matching.
#[derive(Debug, Clone, Default)]
pub struct NodeMatch {
    /// heketi node id → index in `truth.nodes`.
    pub observed: BTreeMap<String, usize>,
    /// heketi nodes with no report (their objects are unknown).
    pub unseen: BTreeSet<String>,
}

/// Match heketi nodes to reporting nodes by storage/manage hostnames and addresses (and the
/// brick hosts gluster uses for them).
pub fn match_nodes(db: &Db, truth: &GroundTruth) -> NodeMatch {
    let mut m = NodeMatch::default();
    for (id, n) in &db.nodes {
        let names = n.info.hostnames.storage.iter().flatten().chain(n.info.hostnames.manage.iter().flatten());
        let found = names.into_iter().find_map(|h| truth.node_by_name(h));
        match found {
            Some(i) => {
                m.observed.insert(id.clone(), i);
            }
            None => {
                m.unseen.insert(id.clone());
            }
        }
    }
    m
}

/// The observed gluster volume for a DB volume: by heketi id, else by name.
fn observed_volume<'t>(truth: &'t GroundTruth, v: &Volume) -> Option<&'t ObservedVolume> {
    truth.volume_by_heketi_id(&v.info.id).or_else(|| truth.volumes.get(&v.info.name))
}

/// Data size in GiB heketi's bricks of a volume give (spec §4.4).
pub fn db_volume_brick_gib(db: &Db, v: &Volume) -> Option<u64> {
    let bricks: Vec<&Brick> = v.bricks.iter().filter_map(|b| db.bricks.get(b)).collect();
    if bricks.len() != v.bricks.len() || bricks.is_empty() {
        return None;
    }
    let data_bricks: u64 = match v.info.durability.kind.as_str() {
        "disperse" => {
            let d = v.info.durability.disperse.data.max(1) as u64;
            let per_set = d + v.info.durability.disperse.redundancy.max(0) as u64;
            bricks.iter().filter(|b| b.sub_type != 2).map(|b| b.info.size).sum::<u64>() * d / per_set
        }
        "replicate" => {
            let r = v.info.durability.replicate.replica.max(1) as u64;
            let data: Vec<&&Brick> = bricks.iter().filter(|b| b.sub_type != 2).collect();
            let arbiter = data.len() < bricks.len();
            let per_set_data = if arbiter { r - 1 } else { r };
            data.iter().map(|b| b.info.size).sum::<u64>() / per_set_data.max(1)
        }
        _ => bricks.iter().map(|b| b.info.size).sum(),
    };
    Some(data_bricks / (1024 * 1024))
}

/// Compare the DB with the truth.
pub fn diff_against_truth(db: &Db, truth: &GroundTruth) -> Vec<Finding> {
    let mut out = Vec::new();
    let nm = match_nodes(db, truth);
    let node_name = |i: usize| truth.nodes.get(i).map_or("?", |n| n.hostname.as_str()).to_owned();

    // ---- nodes
    for id in &nm.unseen {
        let n = &db.nodes[id];
        let hosts: Vec<String> = n.info.hostnames.storage.iter().flatten().cloned().collect();
        let (code, sev, msg) = if truth.unreachable.is_empty() {
            (Code::NodeNotFound, Severity::Error, "no reporting node matches this node's hostnames")
        } else {
            (
                Code::NodeUnreachable,
                Severity::Warning,
                "no report from this node: its devices, bricks and volumes are unknown, not missing",
            )
        };
        out.push(
            Finding::new(code, sev, Kind::Node, id, msg)
                .name(hosts.join(","))
                .db(&n.info.hostnames)
                .observed(
                    truth.unreachable.iter().map(|u| format!("{}: {}", u.agent, u.error)).collect::<Vec<_>>(),
                )
                .repair("make the node's agent reachable (or check the node's hostnames) and run again"),
        );
    }
    let matched: BTreeSet<usize> = nm.observed.values().copied().collect();
    for (i, n) in truth.nodes.iter().enumerate() {
        let has_heketi_vgs = truth.devices.values().any(|d| d.node == i);
        if !matched.contains(&i) && has_heketi_vgs {
            out.push(
                Finding::new(
                    Code::NodeNotInDb,
                    Severity::Warning,
                    Kind::Node,
                    &n.hostname,
                    "a node with heketi VGs is not in the DB",
                )
                .name(&n.hostname)
                .observed(&n.names)
                .evidence(Evidence::node(&n.hostname, "vgs"))
                .repair("add the node to the DB (rebuild adopts it)"),
            );
        }
    }
    let node_of = |heketi_node: &str| nm.observed.get(heketi_node).copied();

    // ---- devices
    for (id, d) in &db.devices {
        let Some(ni) = node_of(&d.node_id) else { continue };
        let node = &truth.nodes[ni];
        if !node.knows.lvm {
            continue;
        }
        let Some(od) = truth.devices.get(id) else {
            out.push(
                Finding::new(
                    Code::DeviceVgMissing,
                    Severity::Error,
                    Kind::Device,
                    id,
                    format!("VG vg_{id} does not exist on {}", node.hostname),
                )
                .name(&d.info.name)
                .db(&d.info.name)
                .evidence(Evidence::node(&node.hostname, "vgs"))
                .repair("remove the device and its bricks from the DB (or restore the disk)"),
            );
            continue;
        };
        if od.node != ni {
            out.push(
                Finding::new(
                    Code::DeviceNodeMismatch,
                    Severity::Error,
                    Kind::Device,
                    id,
                    "the VG is on another node than the DB says",
                )
                .db(&d.node_id)
                .observed(node_name(od.node))
                .evidence(Evidence::node(&node_name(od.node), "vgs"))
                .repair("move the device to the node that has the VG"),
            );
        }
        if od.size_kib != d.info.storage.total {
            out.push(
                Finding::new(
                    Code::DeviceSizeMismatch,
                    Severity::Warning,
                    Kind::Device,
                    id,
                    "device size differs from the VG size",
                )
                .db(d.info.storage.total)
                .observed(od.size_kib)
                .evidence(Evidence::node(&node_name(od.node), "vgs"))
                .repair("set total to the VG size (KiB) and recompute free"),
            );
        }
        // heketi's accounting: used = Σ (pool data + pool metadata) of the bricks on the VG.
        // Orphan LVs (in no gluster volume and not in the DB) are reported on their own; a DB
        // brick whose LV is gone makes the comparison meaningless (reported as BRICK_LV_MISSING).
        let accountable =
            |b: &&crate::topology::ObservedBrick| b.volume.is_some() || db.bricks.contains_key(&b.id);
        let bricks_here: Vec<_> = truth
            .bricks
            .values()
            .filter(|b| b.device_id == *id && b.lv.is_some())
            .filter(accountable)
            .collect();
        // DB bricks whose LV is gone keep their DB charge here (BRICK_LV_MISSING covers them).
        let charged_missing: u64 = d
            .bricks
            .iter()
            .filter(|b| truth.bricks.get(*b).is_none_or(|o| o.lv.is_none()))
            .filter_map(|b| db.bricks.get(b))
            .filter(|b| b.lvm_lv.is_empty())
            .map(|b| b.tp_size + b.pool_metadata_size)
            .sum();
        let complete = bricks_here.iter().all(|b| b.lv.as_ref().is_some_and(|l| l.pool_size_kib.is_some()));
        if complete {
            // Pools shared by several thin LVs (clones) are charged once.
            let mut pools = BTreeSet::new();
            let used: u64 = bricks_here
                .iter()
                .filter_map(|b| b.lv.as_ref())
                .filter(|l| l.thin_pool.is_none() || pools.insert(l.thin_pool.clone()))
                .map(|l| l.pool_size_kib.unwrap_or(0) + l.pool_metadata_kib.unwrap_or(0))
                .sum::<u64>()
                + charged_missing;
            let expected_free = od.size_kib.saturating_sub(used);
            if d.info.storage.used != used || d.info.storage.free != expected_free {
                out.push(
                    Finding::new(
                        Code::DeviceFreeMismatch,
                        Severity::Warning,
                        Kind::Device,
                        id,
                        format!(
                            "used/free differ from the thin pools on the VG by {} KiB",
                            d.info.storage.used.abs_diff(used)
                        ),
                    )
                    .db(serde_json::json!({"used": d.info.storage.used, "free": d.info.storage.free}))
                    .observed(serde_json::json!({"used": used, "free": expected_free}))
                    .evidence(Evidence::node(&node_name(od.node), "lvs"))
                    .repair("recompute used/free from the bricks' pools"),
                );
            }
        }
    }
    for (id, od) in &truth.devices {
        if !db.devices.contains_key(id) {
            out.push(
                Finding::new(
                    Code::DeviceNotInDb,
                    Severity::Warning,
                    Kind::Device,
                    id,
                    format!("VG {} is not a device in the DB", od.vg),
                )
                .name(od.pvs.join(","))
                .observed(od)
                .evidence(Evidence::node(&node_name(od.node), "vgs"))
                .repair("adopt the device (rebuild)"),
            );
        }
    }

    // ---- bricks
    let mut gids: BTreeMap<&str, Vec<(&str, u32, String)>> = BTreeMap::new();
    for (id, b) in &db.bricks {
        let Some(ni) = node_of(&b.info.node_id) else { continue };
        let node = &truth.nodes[ni];
        let ob = truth.bricks.get(id);
        let volume_pending = db.volumes.get(&b.info.volume_id).is_some_and(|v| !v.pending.id.is_empty());
        let sev_missing =
            if !b.pending.id.is_empty() || volume_pending { Severity::Warning } else { Severity::Error };
        if node.knows.lvm && ob.and_then(|o| o.lv.as_ref()).is_none() {
            out.push(
                Finding::new(
                    Code::BrickLvMissing,
                    sev_missing,
                    Kind::Brick,
                    id,
                    format!("LV brick_{id} does not exist on {}", node.hostname),
                )
                .name(&b.info.path)
                .evidence(Evidence::node(&node.hostname, "lvs"))
                .repair("remove the brick from the DB (and from gluster if listed), or restore the LV"),
            );
        }
        let Some(ob) = ob else { continue };
        // An empty path is a DB-only finding (check); otherwise gluster's path must match.
        if !b.info.path.is_empty() && ob.volume.is_some() && ob.path != b.info.path {
            out.push(
                Finding::new(
                    Code::BrickPathMismatch,
                    Severity::Warning,
                    Kind::Brick,
                    id,
                    "brick path differs from gluster's",
                )
                .db(&b.info.path)
                .observed(&ob.path)
                .evidence(Evidence::node(&node.hostname, "gluster volume info"))
                .repair("set the path from gluster"),
            );
        }
        if let Some(lv) = &ob.lv {
            let extent = truth.devices.get(&ob.device_id).map_or(4096, |d| d.extent_kib.max(1));
            // LVM rounds virtual sizes up to whole extents; heketi stores the unrounded size.
            if lv.size_kib < b.info.size || lv.size_kib - b.info.size >= extent {
                out.push(
                    Finding::new(
                        Code::BrickSizeMismatch,
                        Severity::Warning,
                        Kind::Brick,
                        id,
                        "thin LV size differs from the DB",
                    )
                    .db(b.info.size)
                    .observed(lv.size_kib)
                    .evidence(Evidence::node(&node.hostname, "lvs"))
                    .repair("set the brick size from LVM"),
                );
            }
            let db_pool =
                if b.lvm_thin_pool.is_empty() { format!("tp_{id}") } else { b.lvm_thin_pool.clone() };
            if lv.thin_pool.as_deref().is_some_and(|p| p != db_pool) {
                out.push(
                    Finding::new(
                        Code::BrickPoolMismatch,
                        Severity::Warning,
                        Kind::Brick,
                        id,
                        "thin pool differs from the DB",
                    )
                    .db(&db_pool)
                    .observed(&lv.thin_pool)
                    .evidence(Evidence::node(&node.hostname, "lvs"))
                    .repair("set LvmThinPool from LVM"),
                );
            }
        }
        // A brick whose LV is gone is reported as such, not also as unmounted.
        if ob.mounted == Some(false) && ob.lv.is_some() {
            out.push(
                Finding::new(
                    Code::BrickNotMounted,
                    Severity::Error,
                    Kind::Brick,
                    id,
                    format!("brick is not mounted on {}", node.hostname),
                )
                .name(brick_dir(&b.info.device_id, id))
                .evidence(Evidence::node(&node.hostname, "mounts"))
                .repair(format!(
                    "mount it (mount {})",
                    crate::inventory::naming::brick_mount_point(&b.info.device_id, id)
                )),
            );
        }
        if ob.in_fstab == Some(false) && ob.lv.is_some() {
            out.push(
                Finding::new(
                    Code::BrickFstabMissing,
                    Severity::Warning,
                    Kind::Brick,
                    id,
                    format!("brick is missing from heketi's fstab on {}", node.hostname),
                )
                .evidence(Evidence::node(&node.hostname, "fstab"))
                .repair("add the brick's line to heketi's fstab so it is mounted after a reboot"),
            );
        }
        if let (Some(v), Some(gid)) = (db.volumes.get(&b.info.volume_id), ob.gid) {
            if v.info.gid != i64::from(gid) {
                gids.entry(v.info.id.as_str()).or_default().push((id.as_str(), gid, node.hostname.clone()));
            }
        }
    }
    // One finding per volume, listing the bricks whose directory group disagrees.
    for (vid, bricks) in gids {
        let v = &db.volumes[vid];
        let observed: BTreeSet<u32> = bricks.iter().map(|(_, g, _)| *g).collect();
        let mut f = Finding::new(
            Code::GidMismatch,
            Severity::Warning,
            Kind::Volume,
            vid,
            format!("volume gid {} but brick directories are owned by group {:?}", v.info.gid, observed),
        )
        .name(&v.info.name)
        .db(v.info.gid)
        .observed(
            bricks.iter().map(|(b, g, _)| serde_json::json!({"brick": b, "gid": g})).collect::<Vec<_>>(),
        )
        .repair("set the volume gid from the brick directories (or chgrp the brick dirs back)");
        for (_, _, host) in bricks {
            f = f.evidence(Evidence::node(&host, "brick dirs"));
        }
        f.evidence.dedup();
        out.push(f);
    }
    for (id, ob) in &truth.bricks {
        if db.bricks.contains_key(id) || ob.lv.is_none() && ob.volume.is_none() {
            continue;
        }
        let host = node_name(ob.node);
        match &ob.volume {
            Some(vol) => out.push(
                Finding::new(Code::BrickNotInDb, Severity::Error, Kind::Brick, id, format!("brick of gluster volume {vol} has no DB entry"))
                    .name(&ob.path)
                    .observed(ob)
                    .evidence(Evidence::node(&host, "gluster volume info"))
                    .repair("create the brick entry from LVM and gluster (rebuild)"),
            ),
            None => out.push(
                Finding::new(Code::OrphanBrickLv, Severity::Warning, Kind::Brick, id, "brick LV in no gluster volume and not in the DB")
                    .name(&ob.path)
                    .observed(ob)
                    .evidence(Evidence::node(&host, "lvs"))
                    .repair("leftover of a failed create/delete: remove the LV and its pool after checking it holds no data"),
            ),
        }
    }

    // ---- volumes
    let mut db_volume_names = BTreeSet::new();
    for (id, v) in &db.volumes {
        db_volume_names.insert(v.info.name.as_str());
        let ov = observed_volume(truth, v);
        let pending = !v.pending.id.is_empty();
        let Some(ov) = ov else {
            if truth.gluster_known {
                let (sev, why) = if pending {
                    (Severity::Warning, " (an operation on it is pending)")
                } else {
                    (Severity::Error, "")
                };
                out.push(
                    Finding::new(Code::VolumeNotInGluster, sev, Kind::Volume, id, format!("gluster has no volume {}{why}", v.info.name))
                        .name(&v.info.name)
                        .evidence(Evidence::node(&first_gluster_node(truth), "gluster volume info"))
                        .repair("remove the volume and its bricks from the DB (or recreate it in gluster from its bricks)"),
                );
            }
            continue;
        };
        let ev = Evidence::node(
            &ov.seen_by.first().map_or(String::new(), |i| node_name(*i)),
            "gluster volume info",
        );
        if ov.name != v.info.name {
            out.push(
                Finding::new(
                    Code::VolumeNameMismatch,
                    Severity::Warning,
                    Kind::Volume,
                    id,
                    "gluster volume name differs from the DB",
                )
                .db(&v.info.name)
                .observed(&ov.name)
                .evidence(ev.clone())
                .repair("set the name from gluster"),
            );
        }
        if ov.started == Some(false) {
            out.push(
                // heketi keeps no started/stopped state: this is operational, not drift.
                Finding::new(
                    Code::VolumeNotStarted,
                    Severity::Info,
                    Kind::Volume,
                    id,
                    "the gluster volume is not started",
                )
                .name(&v.info.name)
                .evidence(ev.clone())
                .repair(format!("gluster volume start {}", ov.name)),
            );
        }
        let db_dur = match v.info.durability.kind.as_str() {
            "replicate" => ObservedDurability::Replicate {
                replica: v.info.durability.replicate.replica as u32,
                arbiter: v.bricks.iter().any(|b| db.bricks.get(b).is_some_and(|b| b.sub_type == 2))
                    || v.gluster_volume_options.iter().flatten().any(|o| o == "user.heketi.arbiter true"),
            },
            "disperse" => ObservedDurability::Disperse {
                data: v.info.durability.disperse.data as u32,
                redundancy: v.info.durability.disperse.redundancy as u32,
            },
            _ => ObservedDurability::None,
        };
        if db_dur != ov.durability {
            out.push(
                Finding::new(
                    Code::VolumeDurabilityMismatch,
                    Severity::Error,
                    Kind::Volume,
                    id,
                    "durability differs from gluster's",
                )
                .name(&v.info.name)
                .db(db_dur)
                .observed(ov.durability)
                .evidence(ev.clone())
                .repair("set the durability from gluster"),
            );
        }
        // Brick membership: gluster's brick list against the DB's.
        let observed_ids: BTreeSet<&str> = ov.bricks.iter().filter_map(|b| b.brick_id.as_deref()).collect();
        for b in &v.bricks {
            if !observed_ids.contains(b.as_str()) {
                out.push(
                    Finding::new(
                        Code::BrickNotInVolume,
                        if pending { Severity::Warning } else { Severity::Error },
                        Kind::Brick,
                        b,
                        format!("the DB lists this brick in volume {} but gluster does not", v.info.name),
                    )
                    .name(&v.info.name)
                    .evidence(ev.clone())
                    .repair("remove the brick from the volume in the DB"),
                );
            }
        }
        for b in &ov.bricks {
            let Some(bid) = b.brick_id.as_deref() else { continue };
            if !v.bricks.iter().any(|x| x == bid) && db.bricks.contains_key(bid) {
                out.push(
                    Finding::new(
                        Code::BrickNotInVolume,
                        Severity::Error,
                        Kind::Brick,
                        bid,
                        format!(
                            "gluster lists this brick in volume {} but the DB volume does not",
                            v.info.name
                        ),
                    )
                    .name(&b.path)
                    .evidence(ev.clone())
                    .repair("add the brick to the volume's list in the DB"),
                );
            }
        }
        if let Some(obs) = ov.size_gib {
            if !pending && obs != v.info.size.max(0) as u64 {
                out.push(
                    Finding::new(
                        Code::VolumeSizeMismatch,
                        Severity::Error,
                        Kind::Volume,
                        id,
                        format!("volume is {} GiB in the DB but its bricks give {obs} GiB", v.info.size),
                    )
                    .name(&v.info.name)
                    .db(v.info.size)
                    .observed(obs)
                    .evidence(Evidence::node(&ev.node.clone().unwrap_or_default(), "lvs"))
                    .repair("set the size from the bricks"),
                );
            }
        }
    }
    for ov in truth.volumes.values() {
        let known = ov.heketi_id.as_deref().is_some_and(|h| db.volumes.contains_key(h))
            || db_volume_names.contains(ov.name.as_str());
        if known {
            continue;
        }
        let ev = Evidence::node(
            &ov.seen_by.first().map_or(String::new(), |i| node_name(*i)),
            "gluster volume info",
        );
        match &ov.heketi_id {
            Some(hid) => out.push(
                Finding::new(
                    Code::VolumeNotInDb,
                    Severity::Error,
                    Kind::Volume,
                    hid,
                    format!("gluster volume {} was made by heketi but is not in the DB", ov.name),
                )
                .name(&ov.name)
                .observed(ov)
                .evidence(ev)
                .repair("import it: create the volume and brick entries from gluster and LVM (rebuild)"),
            ),
            None => out.push(
                Finding::new(
                    Code::ForeignVolume,
                    Severity::Info,
                    Kind::Volume,
                    &ov.name,
                    format!("gluster volume {} was not made by heketi", ov.name),
                )
                .name(&ov.name)
                .evidence(ev)
                .repair("none: heketi does not manage it"),
            ),
        }
    }

    // ---- block volumes: gluster-block is not queried by every agent
    for (id, bv) in &db.block_volumes {
        let hosting = db.volumes.get(&bv.info.block_hosting_volume).map_or("?", |v| v.info.name.as_str());
        let seen = truth.volumes.contains_key(hosting);
        out.push(
            Finding::new(
                Code::BlockVolumeUnverified,
                Severity::Info,
                Kind::BlockVolume,
                id,
                format!(
                    "block volume not verified: no gluster-block listing (hosting volume {hosting}{})",
                    if seen { " exists" } else { "" }
                ),
            )
            .name(&bv.info.name),
        );
    }
    out
}

fn first_gluster_node(truth: &GroundTruth) -> String {
    truth.nodes.iter().find(|n| n.knows.gluster).map_or(String::new(), |n| n.hostname.clone())
}
