//! Capture directories → NodeReports → the `ClusterSnapshot` that `heketi-doctor diff|rebuild
//! --snapshot` read. The lab captures every node with the real tools (`lab.sh capture`) in the
//! layout `heketi-doctor-agent capture` writes, and `common::inventory::capture` reads it — the
//! same code path as the controller's `collect --from-dir`.

use std::path::Path;

use anyhow::{Context, Result};
use heketi_doctor_common::inventory::capture::report_from_capture_dir;
use heketi_doctor_common::inventory::NodeReport;
use heketi_doctor_common::topology::ClusterSnapshot;

/// One node's capture directory as a report.
pub fn node_report(dir: &Path) -> Result<NodeReport> {
    report_from_capture_dir(dir, false).with_context(|| format!("reading capture {}", dir.display()))
}

/// The snapshot of the given capture directories, written to `out` as JSON.
pub fn write_snapshot(dirs: &[std::path::PathBuf], out: &Path) -> Result<ClusterSnapshot> {
    let reports = dirs.iter().map(|d| node_report(d)).collect::<Result<Vec<_>>>()?;
    let collected_at = reports.iter().map(|r| r.collected_at).min().unwrap_or(0);
    let snap = ClusterSnapshot { collected_at, reports, unreachable: vec![] };
    std::fs::write(out, serde_json::to_string_pretty(&snap)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(snap)
}
