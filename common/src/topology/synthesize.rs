//! What a perfectly consistent cluster would report for a heketi DB: one NodeReport per node with
//! the VGs, thin pools and LVs, gluster volumes, mounts, fstab lines and brick directories heketi
//! would have created. Benchmarks and tests use it to get a matching snapshot for any DB (e.g.
//! the 2000-volume fixture); it is also a preview of what heketi believes is on disk.

use std::collections::BTreeMap;

use crate::heketi::{Db, Volume};
use crate::inventory::naming::{brick_dm_device, brick_mount_point};
use crate::inventory::units::ByteSize;
use crate::inventory::{
    BrickDirStat, BrickFacts, GlusterBrick, GlusterVolume, LogicalVolume, LvRole, MountEntry, NodeReport,
    PhysicalVolume, Source, SourceStatus, VolumeGroup, VolumeState, VolumeType,
};

use super::ClusterSnapshot;

const KIB: u64 = 1024;

/// A deterministic UUID-shaped string derived from a heketi id (for peer and volume UUIDs).
fn uuid_of(id: &str) -> String {
    let h: String = id.chars().chain(std::iter::repeat('0')).take(32).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn first(v: &Option<Vec<String>>) -> String {
    v.as_ref().and_then(|v| v.first().cloned()).unwrap_or_default()
}

fn gluster_volume(db: &Db, v: &Volume) -> GlusterVolume {
    let bricks: Vec<_> = v.bricks.iter().filter_map(|b| db.bricks.get(b)).collect();
    let d = &v.info.durability;
    let (replica, arbiter, disperse, redundancy) = match d.kind.as_str() {
        "replicate" => {
            let arb = bricks.iter().any(|b| b.sub_type == 2);
            (d.replicate.replica.max(1) as u32, u32::from(arb), 0, 0)
        }
        "disperse" => (1, 0, (d.disperse.data + d.disperse.redundancy) as u32, d.disperse.redundancy as u32),
        _ => (1, 0, 0, 0),
    };
    let per_set = if disperse > 0 { disperse } else { replica }.max(1) as usize;
    // gluster's brick order: set by set, arbiter last in its set (heketi's creation order).
    let mut ordered: Vec<&crate::heketi::Brick> = Vec::with_capacity(bricks.len());
    let (arbiters, data): (Vec<_>, Vec<_>) = bricks.iter().partition(|b| b.sub_type == 2);
    let data_per_set = if arbiter > 0 { per_set - 1 } else { per_set };
    for (i, chunk) in data.chunks(data_per_set.max(1)).enumerate() {
        ordered.extend(chunk.iter().copied());
        if let Some(a) = arbiters.get(i) {
            ordered.push(*a);
        }
    }
    let gbricks: Vec<GlusterBrick> = ordered
        .iter()
        .map(|b| GlusterBrick {
            host: db.nodes.get(&b.info.node_id).map(|n| first(&n.info.hostnames.storage)).unwrap_or_default(),
            path: b.info.path.clone(),
            host_uuid: Some(uuid_of(&b.info.node_id)),
            arbiter: b.sub_type == 2,
        })
        .collect();
    let sets = (gbricks.len() / per_set).max(1) as u32;
    let vol_type = match (disperse > 0, replica > 1, sets > 1) {
        (true, _, false) => VolumeType::Disperse,
        (true, _, true) => VolumeType::DistributedDisperse,
        (false, true, false) => VolumeType::Replicate,
        (false, true, true) => VolumeType::DistributedReplicate,
        _ => VolumeType::Distribute,
    };
    let mut options: BTreeMap<String, String> = v
        .gluster_volume_options
        .iter()
        .flatten()
        .filter_map(|o| o.split_once(' ').map(|(k, val)| (k.to_owned(), val.to_owned())))
        .collect();
    options.insert("user.heketi.id".into(), v.info.id.clone());
    GlusterVolume {
        name: v.info.name.clone(),
        id: Some(uuid_of(&v.info.id)),
        vol_type: Some(vol_type),
        status: Some(VolumeState::Started),
        brick_count: gbricks.len() as u32,
        distribute_count: sets,
        replica_count: replica,
        arbiter_count: arbiter,
        disperse_count: disperse,
        redundancy_count: redundancy,
        stripe_count: 1,
        bricks: gbricks,
        options,
        ..Default::default()
    }
}

/// One report per DB node, as a consistent cluster would deliver them.
pub fn snapshot_from_db(db: &Db, collected_at: i64) -> ClusterSnapshot {
    let volumes: Vec<GlusterVolume> = db.volumes.values().map(|v| gluster_volume(db, v)).collect();
    let mut reports = Vec::new();
    for (node_id, n) in &db.nodes {
        let mut r = NodeReport::new(first(&n.info.hostnames.manage), "synthesized", collected_at);
        r.identity.addresses = n.info.hostnames.storage.clone().unwrap_or_default();
        r.identity.gluster_uuid = Some(uuid_of(node_id));
        for s in [
            Source::Vgs,
            Source::Lvs,
            Source::Pvs,
            Source::GlusterVolumeInfo,
            Source::ProcMounts,
            Source::HeketiFstab,
            Source::BrickDirs,
        ] {
            r.record(s, SourceStatus::Ok, 0);
        }
        for dev_id in &n.devices {
            let Some(d) = db.devices.get(dev_id) else { continue };
            let e = d.extent_size.max(1);
            let vg = format!("vg_{dev_id}");
            let total = d.info.storage.total / e;
            // LVM allocates whole extents for every pool, its metadata, and one spare.
            let used_extents: u64 = d
                .bricks
                .iter()
                .filter_map(|b| db.bricks.get(b))
                .map(|b| b.tp_size.div_ceil(e) + b.pool_metadata_size.div_ceil(e))
                .sum();
            r.lvm.vgs.push(VolumeGroup {
                name: vg.clone(),
                size: Some(ByteSize::exact(total * e * KIB)),
                free: Some(ByteSize::exact(total.saturating_sub(used_extents) * e * KIB)),
                extent_size: Some(ByteSize::exact(e * KIB)),
                extent_count: Some(total),
                free_extent_count: Some(total.saturating_sub(used_extents)),
                pvs: vec![d.info.name.clone()],
                ..Default::default()
            });
            r.lvm.pvs.push(PhysicalVolume {
                name: d.info.name.clone(),
                vg: Some(vg.clone()),
                uuid: (!d.info.pv_uuid.is_empty()).then(|| d.info.pv_uuid.clone()),
                ..Default::default()
            });
            for b in d.bricks.iter().filter_map(|b| db.bricks.get(b)) {
                let id = &b.info.id;
                let pool =
                    if b.lvm_thin_pool.is_empty() { format!("tp_{id}") } else { b.lvm_thin_pool.clone() };
                if !r.lvm.lvs.iter().any(|l| l.vg == vg && l.name == pool) {
                    r.lvm.lvs.push(LogicalVolume {
                        name: pool.clone(),
                        vg: vg.clone(),
                        role: LvRole::ThinPool,
                        size: Some(ByteSize::exact(b.tp_size * KIB)),
                        data_size: Some(ByteSize::exact(b.tp_size * KIB)),
                        metadata_size: Some(ByteSize::exact(b.pool_metadata_size * KIB)),
                        ..Default::default()
                    });
                }
                let lv = if b.lvm_lv.is_empty() { format!("brick_{id}") } else { b.lvm_lv.clone() };
                r.lvm.lvs.push(LogicalVolume {
                    name: lv,
                    vg: vg.clone(),
                    role: LvRole::Thin,
                    size: Some(ByteSize::exact(b.info.size.div_ceil(e) * e * KIB)),
                    pool_lv: Some(pool),
                    ..Default::default()
                });
                let mp = brick_mount_point(dev_id, id);
                let dm = brick_dm_device(dev_id, id);
                let entry = MountEntry {
                    source: dm.clone(),
                    mount_point: mp.clone(),
                    fstype: "xfs".into(),
                    options: "rw,inode64,noatime,nouuid".into(),
                    dump: Some(1),
                    pass: Some(2),
                    maj_min: None,
                    root: None,
                };
                r.mounts.push(entry.clone());
                r.heketi_fstab.push(entry);
                let gid = db.volumes.get(&b.info.volume_id).map_or(0, |v| v.info.gid.max(0) as u32);
                r.bricks.push(BrickFacts {
                    mount_point: mp,
                    device_id: Some(dev_id.clone()),
                    brick_id: Some(id.clone()),
                    mounted: true,
                    mount_source: Some(dm.clone()),
                    mount_fstype: Some("xfs".into()),
                    in_fstab: true,
                    fstab_source: Some(dm),
                    brick_dir: Some(BrickDirStat {
                        path: b.info.path.clone(),
                        gid,
                        mode: if gid != 0 { 0o2775 } else { 0o755 },
                        uid: Some(0),
                        volume_id: db.volumes.get(&b.info.volume_id).map(|v| uuid_of(&v.info.id)),
                    }),
                });
            }
        }
        r.gluster.volumes = volumes.clone();
        reports.push(r);
    }
    ClusterSnapshot { collected_at, reports, unreachable: vec![] }
}
