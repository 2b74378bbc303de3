//! `collect --output text`: a one-screen summary with per-source status and duration.

use std::fmt::Write;

use heketi_doctor_common::inventory::assemble::source_name;
use heketi_doctor_common::inventory::{LvRole, NodeReport, SourceStatus};

pub fn render(r: &NodeReport, wall_ms: u64) -> String {
    let mut s = String::new();
    let id = &r.identity;
    let _ = writeln!(
        s,
        "{}  agent {}  collected_at {}  ({} ms)",
        if id.hostname.is_empty() { "?" } else { &id.hostname },
        r.agent_version,
        r.collected_at,
        wall_ms
    );
    let _ = writeln!(
        s,
        "addresses: {}   gluster uuid: {}",
        if id.addresses.is_empty() { "-".to_string() } else { id.addresses.join(", ") },
        id.gluster_uuid.as_deref().unwrap_or("-")
    );
    let _ = writeln!(s, "\n{:<22} {:<14} {:>8}  detail", "SOURCE", "STATUS", "TIME");
    for (src, rec) in &r.sources {
        let (state, detail) = match &rec.status {
            SourceStatus::Ok => ("ok", rec.warnings.first().cloned().unwrap_or_default()),
            SourceStatus::Failed { error, retryable } => {
                (if *retryable { "failed(retry)" } else { "failed" }, error.clone())
            }
            SourceStatus::NotInstalled { tool } => ("not installed", tool.clone()),
            SourceStatus::TimedOut => ("timed out", rec.command.clone().unwrap_or_default()),
            SourceStatus::Skipped { reason } => ("skipped", reason.clone()),
        };
        let detail: String = detail.chars().take(100).collect();
        let _ = writeln!(s, "{:<22} {:<14} {:>6}ms  {}", source_name(*src), state, rec.duration_ms, detail);
    }
    let lvm = &r.lvm;
    let thin = lvm.lvs.iter().filter(|l| l.role == LvRole::Thin).count();
    let pools = lvm.lvs.iter().filter(|l| l.role == LvRole::ThinPool).count();
    let _ = writeln!(
        s,
        "\nlvm:     {} VGs, {} PVs, {} LVs ({} thin volumes, {} thin pools)",
        lvm.vgs.len(),
        lvm.pvs.len(),
        lvm.lvs.len(),
        thin,
        pools
    );
    let _ = writeln!(s, "disks:   {} block devices", r.block_devices.len());
    let g = &r.gluster;
    let _ = writeln!(
        s,
        "gluster: {} volumes, {} peers, {} in pool",
        g.volumes.len(),
        g.peers.len(),
        g.pool.len()
    );
    let b = &r.bricks;
    let _ = writeln!(
        s,
        "bricks:  {} mount points ({} mounted, {} in heketi fstab, {} with a brick dir)",
        b.len(),
        b.iter().filter(|x| x.mounted).count(),
        b.iter().filter(|x| x.in_fstab).count(),
        b.iter().filter(|x| x.brick_dir.is_some()).count()
    );
    if !r.gluster_block.is_empty() {
        let n: usize = r.gluster_block.iter().map(|h| h.blocks.len()).sum();
        let _ = writeln!(s, "block:   {} block volumes on {} hosting volumes", n, r.gluster_block.len());
    }
    s
}
