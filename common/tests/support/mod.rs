//! Test support: NodeReports from the lab captures in `tests/data/corpus/lab-debian12` (real
//! gluster 10.3 / lvm2 2.03.16 outputs of a 3-node heketi-shaped cluster). The capture layout
//! is the lab's own (`commands.json` per node), so this adapter lives with the tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use heketi_doctor_common::inventory::NodeReport;
use heketi_doctor_common::topology::ClusterSnapshot;

pub fn lab(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/corpus/lab-debian12").join(rel)
}

/// One lab node directory, read as a capture directory (the lab's `commands.json` layout is
/// what `heketi-doctor-agent capture` writes).
pub fn node_report(dir: &Path) -> NodeReport {
    heketi_doctor_common::inventory::capture::report_from_capture_dir(dir, false)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// The snapshot of the three lab nodes under `rel` ("" = consistent state, "after-live-drift").
pub fn snapshot(rel: &str) -> ClusterSnapshot {
    let reports = ["node1", "node2", "node3"].iter().map(|n| node_report(&lab(rel).join(n))).collect();
    ClusterSnapshot { collected_at: 0, reports, unreachable: vec![] }
}

pub fn db(rel: &str) -> heketi_doctor_common::heketi::Db {
    heketi_doctor_common::heketi::load(&std::fs::read(lab(rel)).unwrap()).unwrap().db
}
