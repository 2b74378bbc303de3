//! (a) The cluster as the lab built it: every node captured with the real tools, the snapshot
//! assembled, and `heketi-doctor diff` against the lab's heketi.db finds nothing.

use anyhow::{ensure, Context, Result};
use heketi_doctor_common::inventory::Source;
use heketi_doctor_common::topology::{self, ClusterSnapshot};

use crate::e2e::{load_db, problems, Ctx, Verdict};

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    let snap_path = ctx.clean_snapshot()?;
    let snap: ClusterSnapshot = serde_json::from_str(&std::fs::read_to_string(&snap_path)?)?;

    // Every source the capture collected was parsed (the lab has no gluster-block, so that
    // source is "not collected", which is not a failure).
    for r in &snap.reports {
        let failed: Vec<String> = r
            .sources
            .iter()
            .filter(|(_, rec)| {
                !rec.status.is_ok()
                    && !matches!(rec.status, heketi_doctor_common::inventory::SourceStatus::Skipped { .. })
            })
            .map(|(s, rec)| format!("{s:?}: {:?}", rec.status))
            .collect();
        ensure!(failed.is_empty(), "{}: sources failed: {failed:?}", r.identity.hostname);
        ensure!(
            r.source_ok(Source::BrickDirs) && !r.bricks.is_empty(),
            "{}: no bricks seen",
            r.identity.hostname
        );
    }
    // The ground truth has exactly what the lab built.
    let gt = topology::assemble(&snap);
    let t = &ctx.truth;
    ensure!(gt.nodes.len() == ctx.lab.nodes, "nodes: {} seen", gt.nodes.len());
    ensure!(gt.nodes.iter().all(|n| n.gluster_uuid.is_some()), "a node without gluster uuid: {:?}", gt.nodes);
    ensure!(
        gt.devices.len() == t.devices.len(),
        "devices: {} seen, lab made {}",
        gt.devices.len(),
        t.devices.len()
    );
    ensure!(
        gt.bricks.len() == t.bricks.len(),
        "bricks: {} seen, lab made {}",
        gt.bricks.len(),
        t.bricks.len()
    );
    let heketi_volumes = gt.volumes.values().filter(|v| v.heketi_id.is_some()).count();
    ensure!(
        heketi_volumes == t.volumes.len(),
        "volumes: {heketi_volumes} seen, lab made {}",
        t.volumes.len()
    );
    ensure!(gt.foreign.is_empty(), "foreign objects in a clean lab: {:?}", gt.foreign);

    // diff: exit 0, nothing above info.
    let db = ctx.lab.heketi_db();
    let (code, report) = ctx.diff(&db, &snap_path)?;
    let p = problems(&report);
    ensure!(code == Some(0) && p.is_empty(), "diff exit {code:?}, findings:\n{}", p.join("\n"));

    // check: the lab's DB is consistent on its own.
    let o = ctx.hd_paths(&[&"check", &"--db", &db])?;
    ensure!(o.ok(), "check: {}\n{}", o.describe(), o.stdout);

    // export reads back what the lab wrote (import renews the generation id, as heketi's does).
    let exported = ctx.path("clean.export.json");
    ctx.hd_paths(&[&"export", &"--db", &db, &"-o", &exported])?.check().context("export")?;
    let mut got = load_db(&exported)?;
    let mut want = ctx.truth.clone();
    got.attributes.remove("DB_GENERATION_ID");
    want.attributes.remove("DB_GENERATION_ID");
    ensure!(got == want, "export of the lab's heketi.db differs from the lab's export JSON");
    Ok(Verdict::Pass)
}
