//! Test support: NodeReports from the lab captures in `tests/data/corpus/lab-debian12` (real
//! gluster 10.3 / lvm2 2.03.16 outputs of a 3-node heketi-shaped cluster). The capture layout
//! is the lab's own (`commands.json` per node), so this adapter lives with the tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use heketi_doctor_common::inventory::{self, NodeReport, Source, SourceStatus};
use heketi_doctor_common::topology::ClusterSnapshot;

pub fn lab(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/corpus/lab-debian12").join(rel)
}

fn read(dir: &Path, f: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(f)).ok()
}

/// Parse one lab node directory; a missing or unparsable file marks its source failed.
pub fn node_report(dir: &Path) -> NodeReport {
    let hostname = read(dir, "hostname.txt").unwrap_or_default().trim().to_owned();
    let mut r = NodeReport::new(hostname, "lab-capture", 0);
    let meta: serde_json::Value = serde_json::from_str(&read(dir, "commands.json").unwrap()).unwrap();
    if let Some(ip) = meta["ip"].as_str() {
        r.identity.addresses.push(ip.to_owned());
    }
    let status = |r: &mut NodeReport, s: Source, res: Result<(), String>| {
        let st = match res {
            Ok(()) => SourceStatus::Ok,
            Err(e) => SourceStatus::Failed { error: e, retryable: false },
        };
        r.record(s, st, 0);
    };
    let lvm = |f: &str| -> Result<inventory::LvmReport, String> {
        let t = read(dir, f).ok_or("missing")?;
        inventory::parse_lvm_json(&t).map_err(|e| e.to_string())
    };
    match (lvm("vgs.json"), lvm("lvs.json"), lvm("pvs.json")) {
        (Ok(v), Ok(l), Ok(p)) => {
            r.lvm.vgs = v.vgs;
            r.lvm.lvs = l.lvs;
            r.lvm.pvs = p.pvs;
            status(&mut r, Source::Vgs, Ok(()));
            status(&mut r, Source::Lvs, Ok(()));
            status(&mut r, Source::Pvs, Ok(()));
        }
        (v, l, p) => {
            status(&mut r, Source::Vgs, v.map(drop));
            status(&mut r, Source::Lvs, l.map(drop));
            status(&mut r, Source::Pvs, p.map(drop));
        }
    }
    match read(dir, "volume-info.xml")
        .ok_or("missing".to_string())
        .and_then(|t| inventory::parse_volume_info_xml(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => {
            r.gluster.volumes = v;
            status(&mut r, Source::GlusterVolumeInfo, Ok(()));
        }
        Err(e) => status(&mut r, Source::GlusterVolumeInfo, Err(e)),
    }
    if let Some(Ok(p)) = read(dir, "peer-status.xml").map(|t| inventory::parse_peer_status_xml(&t)) {
        r.gluster.peers = p;
        status(&mut r, Source::GlusterPeerStatus, Ok(()));
    }
    if let Some(Ok(p)) = read(dir, "pool-list.xml").map(|t| inventory::parse_pool_list_xml(&t)) {
        r.identity.gluster_uuid = p.iter().find(|x| x.hostname == "localhost").map(|x| x.uuid.clone());
        r.gluster.pool = p;
        status(&mut r, Source::GlusterPoolList, Ok(()));
    }
    let mounts = read(dir, "proc-mounts.txt").map(|t| inventory::parse_proc_mounts(&t));
    let fstab = read(dir, "heketi-fstab.txt").map(|t| inventory::parse_fstab(&t));
    let dirs = read(dir, "brick-dirs.txt").map(|t| inventory::parse_brick_dirs(&t));
    if let (Some(Ok(m)), Some(Ok(f)), Some(Ok(d))) = (mounts, fstab, dirs) {
        r.bricks = inventory::assemble_brick_facts(&[], &d, &m, &f);
        r.mounts = m;
        r.heketi_fstab = f;
        status(&mut r, Source::ProcMounts, Ok(()));
        status(&mut r, Source::HeketiFstab, Ok(()));
        status(&mut r, Source::BrickDirs, Ok(()));
    }
    r
}

/// The snapshot of the three lab nodes under `rel` ("" = consistent state, "after-live-drift").
pub fn snapshot(rel: &str) -> ClusterSnapshot {
    let reports = ["node1", "node2", "node3"].iter().map(|n| node_report(&lab(rel).join(n))).collect();
    ClusterSnapshot { collected_at: 0, reports, unreachable: vec![] }
}

pub fn db(rel: &str) -> heketi_doctor_common::heketi::Db {
    heketi_doctor_common::heketi::load(&std::fs::read(lab(rel)).unwrap()).unwrap().db
}
