//! (c) The DB drifts from the cluster: the lab's export JSON is edited the way heketi bugs and
//! hand edits leave it, re-imported, and diffed against the unchanged cluster. Every edit must be
//! reported with its code and id; `rebuild` of the drifted DB must give back the lab's truth.

use anyhow::{ensure, Context, Result};
use heketi_doctor_common::heketi::{to_export_json, Db};

use crate::e2e::compare::{self, Ids};
use crate::e2e::{expect_findings, load_db, problems, Ctx, Verdict};

/// The lab's volumes by role (deploy/lab/layout.conf).
pub struct Roles {
    pub disperse: String,
    pub distribute: String,
    pub arbiter: String,
    pub gid2000: String,
    pub expanded: String,
}

pub fn roles(db: &Db) -> Result<Roles> {
    let find = |what: &str, f: &dyn Fn(&heketi_doctor_common::heketi::Volume) -> bool| {
        db.volumes
            .values()
            .find(|v| f(v))
            .map(|v| v.info.id.clone())
            .with_context(|| format!("no {what} volume in the lab"))
    };
    let has_opt = |v: &heketi_doctor_common::heketi::Volume, o: &str| {
        v.gluster_volume_options.as_ref().is_some_and(|l| l.iter().any(|x| x == o))
    };
    Ok(Roles {
        disperse: find("disperse", &|v| v.info.durability.kind == "disperse")?,
        distribute: find("distribute", &|v| v.info.durability.kind == "none")?,
        arbiter: find("arbiter", &|v| has_opt(v, "user.heketi.arbiter true"))?,
        gid2000: find("gid 2000", &|v| v.info.gid == 2000)?,
        expanded: find("expanded", &|v| v.info.durability.kind == "replicate" && v.bricks.len() == 6)?,
    })
}

/// Removes a volume with its bricks from a DB, keeping the DB consistent on its own.
fn forget_volume(db: &mut Db, vid: &str) {
    let v = db.volumes.remove(vid).expect("volume");
    for c in db.clusters.values_mut() {
        c.info.volumes.retain(|x| x != vid);
    }
    for b in &v.bricks {
        let brick = db.bricks.remove(b).expect("brick");
        let d = db.devices.get_mut(&brick.info.device_id).expect("device");
        d.bricks.retain(|x| x != b);
        let charge = brick.tp_size + brick.pool_metadata_size;
        d.info.storage.used -= charge;
        d.info.storage.free += charge;
    }
}

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    let snap = ctx.clean_snapshot()?;
    let r = roles(&ctx.truth)?;
    let mut db = ctx.truth.clone();

    // D1: a volume heketi lost (its entry and bricks gone; the volume lives on in gluster).
    forget_volume(&mut db, &r.disperse);
    // D2: a ghost volume heketi believes in that gluster never had.
    let ghost = "0e2e0000000000000000000000000001".to_owned();
    let mut g = db.volumes[&r.distribute].clone();
    g.info.id = ghost.clone();
    g.info.name = format!("vol_{ghost}");
    g.info.mount.glusterfs.mount_point =
        format!("{}:vol_{ghost}", g.info.mount.glusterfs.mount_point.split(':').next().unwrap_or_default());
    g.bricks.clear();
    db.volumes.insert(ghost.clone(), g);
    for c in db.clusters.values_mut() {
        c.info.volumes.push(ghost.clone());
        c.info.volumes.sort();
    }
    // D3: the gid heketi recorded is not the brick directories' group.
    db.volumes.get_mut(&r.gid2000).unwrap().info.gid = 4000;
    // D4: a size that does not match the bricks.
    db.volumes.get_mut(&r.arbiter).unwrap().info.size += 1;
    // D5: device accounting off by one extent.
    let dev = db.devices.keys().next().unwrap().clone();
    {
        let d = db.devices.get_mut(&dev).unwrap();
        d.info.storage.used += 4096;
        d.info.storage.free -= 4096;
    }
    // D6: a node that no longer lists one of its devices.
    let node = db.devices[&dev].node_id.clone();
    db.nodes.get_mut(&node).unwrap().devices.retain(|d| *d != dev);
    // D7: a brick whose path was lost (heketi's "delete-bricks-with-empty-path" case).
    let empty_path_brick = db.volumes[&r.expanded].bricks[0].clone();
    db.bricks.get_mut(&empty_path_brick).unwrap().info.path.clear();

    let json = ctx.path("db-drift.export.json");
    std::fs::write(&json, to_export_json(&db))?;
    let drifted = ctx.path("db-drift.db");
    ctx.import(&json, &drifted)?;

    let (code, report) = ctx.diff(&drifted, &snap)?;
    ensure!(code == Some(1), "diff of a drifted DB: exit {code:?}, want 1");
    expect_findings(
        &report,
        &[
            ("VOLUME_NOT_IN_DB", &r.disperse, "D1 volume missing from the DB"),
            ("VOLUME_NOT_IN_GLUSTER", &ghost, "D2 ghost volume"),
            ("GID_MISMATCH", &r.gid2000, "D3 gid"),
            ("VOLUME_SIZE_MISMATCH", &r.arbiter, "D4 size"),
            ("DEVICE_ACCOUNTING_MISMATCH", &dev, "D5 device used/free"),
            ("MISSING_BACK_REFERENCE", &node, "D6 node's device list"),
            ("BRICK_EMPTY_PATH", &empty_path_brick, "D7 brick path"),
        ],
    )?;

    // rebuild from the drifted DB + the cluster gives back the lab's truth, ids and all.
    let repaired = ctx.path("db-drift.repaired.json");
    let plan = ctx.path("db-drift.plan.json");
    ctx.hd_paths(&[&"rebuild", &"--db", &drifted, &"--snapshot", &snap, &"-o", &repaired, &"--plan", &plan])?
        .check()
        .context("rebuild of the drifted DB")?;
    let repaired_db = ctx.path("db-drift.repaired.db");
    ctx.import(&repaired, &repaired_db)?;
    let (code, report) = ctx.diff(&repaired_db, &snap)?;
    let p = problems(&report);
    ensure!(code == Some(0) && p.is_empty(), "diff after rebuild: exit {code:?}\n{}", p.join("\n"));
    let d = compare::differences(&load_db(&repaired_db)?, &ctx.truth, Ids::Same, &[]);
    ensure!(d.is_empty(), "rebuilt DB differs from the lab's truth:\n{}", d.join("\n"));
    Ok(Verdict::Pass)
}
