//! Capture directories → NodeReports → the `ClusterSnapshot` that `heketi-doctor diff|rebuild
//! --snapshot` read.
//!
//! Until the agent lands this is the harness's own "collector": the lab captures every node with
//! the real tools (`lab.sh capture`, the commands of the lab-debian12 captures) and the outputs
//! are parsed here with `common::inventory`'s parsers, as `common/tests/support` does for the
//! corpus. When `common::inventory::capture` (branch `agent`) is merged, `node_report` becomes
//! `report_from_capture_dir(dir, false)`; the capture layout is already the one it reads.

use std::path::Path;

use anyhow::{Context, Result};
use heketi_doctor_common::inventory::{self, NodeReport, Source, SourceStatus};
use heketi_doctor_common::topology::ClusterSnapshot;

fn read(dir: &Path, f: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(f)).ok()
}

fn status<T, E: std::fmt::Display>(r: &mut NodeReport, s: Source, res: &Result<T, E>) {
    let st = match res {
        Ok(_) => SourceStatus::Ok,
        Err(e) => SourceStatus::Failed { error: e.to_string(), retryable: false },
    };
    r.record(s, st, 0);
}

fn parsed<T>(
    dir: &Path,
    file: &str,
    parse: impl Fn(&str) -> Result<T, inventory::ParseError>,
) -> Result<T, String> {
    let text = read(dir, file).ok_or_else(|| format!("{file}: missing"))?;
    parse(&text).map_err(|e| format!("{file}: {e}"))
}

/// One node's capture directory as a NodeReport; a missing or unparsable output marks its
/// source failed (so the facts it would give are unknown, never "absent").
pub fn node_report(dir: &Path) -> Result<NodeReport> {
    let meta: serde_json::Value = serde_json::from_str(
        &read(dir, "commands.json").with_context(|| format!("{}: no commands.json", dir.display()))?,
    )?;
    let hostname = read(dir, "hostname.txt").unwrap_or_default().trim().to_owned();
    let mut r = NodeReport::new(hostname, "e2e-lab-capture", meta["collected_at"].as_i64().unwrap_or(0));
    if let Some(ip) = meta["ip"].as_str() {
        r.identity.addresses.push(ip.to_owned());
    }

    let vgs = parsed(dir, "vgs.json", inventory::parse_lvm_json);
    let lvs = parsed(dir, "lvs.json", inventory::parse_lvm_json);
    let pvs = parsed(dir, "pvs.json", inventory::parse_lvm_json);
    status(&mut r, Source::Vgs, &vgs);
    status(&mut r, Source::Lvs, &lvs);
    status(&mut r, Source::Pvs, &pvs);
    if let (Ok(v), Ok(l), Ok(p)) = (vgs, lvs, pvs) {
        r.lvm.vgs = v.vgs;
        r.lvm.lvs = l.lvs;
        r.lvm.pvs = p.pvs;
    }

    let volumes = parsed(dir, "volume-info.xml", inventory::parse_volume_info_xml);
    status(&mut r, Source::GlusterVolumeInfo, &volumes);
    if let Ok(v) = volumes {
        r.gluster.volumes = v;
    }
    let vstatus = parsed(dir, "volume-status.xml", inventory::parse_volume_status_xml);
    status(&mut r, Source::GlusterVolumeStatus, &vstatus);
    if let Ok(v) = vstatus {
        r.gluster.volume_status = v;
    }
    let peers = parsed(dir, "peer-status.xml", inventory::parse_peer_status_xml);
    status(&mut r, Source::GlusterPeerStatus, &peers);
    if let Ok(p) = peers {
        r.gluster.peers = p;
    }
    let pool = parsed(dir, "pool-list.xml", inventory::parse_pool_list_xml);
    status(&mut r, Source::GlusterPoolList, &pool);
    if let Ok(p) = pool {
        r.identity.gluster_uuid = p.iter().find(|x| x.hostname == "localhost").map(|x| x.uuid.clone());
        r.gluster.pool = p;
    }

    let mounts = parsed(dir, "proc-mounts.txt", inventory::parse_proc_mounts);
    let fstab = parsed(dir, "heketi-fstab.txt", inventory::parse_fstab);
    let dirs = parsed(dir, "brick-dirs.txt", inventory::parse_brick_dirs);
    status(&mut r, Source::ProcMounts, &mounts);
    status(&mut r, Source::HeketiFstab, &fstab);
    status(&mut r, Source::BrickDirs, &dirs);
    let (m, f, d) = (mounts.unwrap_or_default(), fstab.unwrap_or_default(), dirs.unwrap_or_default());
    r.bricks = inventory::assemble_brick_facts(&[], &d, &m, &f);
    r.mounts = m;
    r.heketi_fstab = f;
    Ok(r)
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
