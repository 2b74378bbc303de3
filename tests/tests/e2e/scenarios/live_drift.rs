//! (b) The cluster drifts behind heketi's back — with the real tools, inside the nodes — and
//! `diff` must name each change; `rebuild` must then follow the cluster, leaving only what a DB
//! cannot fix (host-side problems). Runs last: it changes the live cluster.

use anyhow::{ensure, Context, Result};

use super::db_drift::roles;
use crate::e2e::{expect_findings, findings, load_db, Ctx, Verdict};

/// node index (1-based) of a heketi node id, by its storage address.
fn node_index(ctx: &Ctx, node_id: &str) -> Result<usize> {
    let ip = ctx.truth.nodes[node_id]
        .info
        .hostnames
        .storage
        .as_ref()
        .and_then(|s| s.first())
        .context("no storage host")?;
    (1..=ctx.lab.nodes).find(|i| ctx.lab.node_ip(*i) == *ip).with_context(|| format!("no lab node has {ip}"))
}

struct Brick {
    id: String,
    node: usize,
    vg: String,
    pool: String,
    path: String,
}

fn brick(ctx: &Ctx, id: &str) -> Result<Brick> {
    let b = &ctx.truth.bricks[id];
    Ok(Brick {
        id: id.to_owned(),
        node: node_index(ctx, &b.info.node_id)?,
        vg: format!("vg_{}", b.info.device_id),
        pool: b.lvm_thin_pool.clone(),
        path: b.info.path.clone(),
    })
}

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    let r = roles(&ctx.truth)?;
    let t = ctx.truth.clone();
    let lab = &ctx.lab;

    // M1: a heketi volume deleted in gluster (heketi was not asked).
    let m1 = t.volumes[&r.distribute].info.name.clone();
    lab.gluster(1, &["volume", "stop", &m1, "force"])?;
    lab.gluster(1, &["volume", "delete", &m1])?;

    // M2: a brick's LV removed. A thin LV alone cannot be removed without its pool active
    // (device-mapper), so its pool goes, as heketi's own brick cleanup removes it.
    let m2 = brick(ctx, &t.volumes[&r.gid2000].bricks[0])?;
    lab.exec(m2.node, &["lvremove", "-f", &format!("{}/{}", m2.vg, m2.pool)])?.check().context("lvremove")?;

    // M3: a brick directory chgrp'ed.
    let m3 = brick(ctx, t.volumes[&r.arbiter].bricks.iter().find(|b| t.bricks[*b].sub_type == 1).unwrap())?;
    lab.sh(m3.node, &format!("chgrp 4242 {}", m3.path))?;

    // M4: a volume someone made by hand (not heketi's: info only).
    let ip1 = lab.node_ip(1);
    lab.sh(1, "mountpoint -q /mnt || mount -t tmpfs -o size=1g e2e-manual /mnt; mkdir -p /mnt/manual/brick")?;
    lab.gluster(1, &["volume", "create", "manual_e2e", &format!("{ip1}:/mnt/manual/brick")])?;
    lab.gluster(1, &["volume", "start", "manual_e2e"])?;
    // M5: a heketi volume the DB does not know: made the way heketi makes volumes (thin pools,
    // LVs, mounts, fstab, user.heketi.id) by another heketi, or before a DB restore.
    let o = lab.run(&["add-volume", "-", "replicate:3", "1", "2100"], std::time::Duration::from_secs(180))?;
    let o = o.check().context("lab.sh add-volume")?;
    let rogue = o.stdout.split_whitespace().next().context("add-volume printed no id")?.to_owned();
    let rogue = rogue.as_str();

    // M6: a brick unmounted (lazily: the brick process holds it), M7: a brick's fstab line lost.
    let expanded = &t.volumes[&r.expanded].bricks;
    let m6 = brick(ctx, &expanded[1])?;
    let mount_point = m6.path.trim_end_matches("/brick").to_owned();
    lab.sh(m6.node, &format!("umount -l {mount_point}"))?;
    let m7 = brick(ctx, &expanded[2])?;
    lab.sh(m7.node, &format!("sed -i '/brick_{}/d' /var/lib/heketi/fstab", m7.id))?;

    let snap = ctx.snapshot("drifted")?;
    let db = ctx.lab.heketi_db();
    let (code, report) = ctx.diff(&db, &snap)?;
    ensure!(code == Some(1), "diff after live drift: exit {code:?}, want 1");
    expect_findings(
        &report,
        &[
            ("VOLUME_NOT_IN_GLUSTER", &r.distribute, "M1 volume deleted in gluster"),
            ("BRICK_LV_MISSING", &m2.id, "M2 brick LV removed"),
            ("GID_MISMATCH", &r.arbiter, "M3 brick dir chgrp'ed"),
            ("FOREIGN_VOLUME", "manual_e2e", "M4 volume made by hand"),
            ("VOLUME_NOT_IN_DB", rogue, "M5 heketi volume unknown to the DB"),
            ("BRICK_NOT_MOUNTED", &m6.id, "M6 brick unmounted"),
            ("BRICK_FSTAB_MISSING", &m7.id, "M7 fstab line removed"),
        ],
    )?;

    // rebuild follows the cluster; what is left are host-side problems a DB cannot fix.
    let repaired = ctx.path("drifted.repaired.json");
    ctx.hd_paths(&[&"rebuild", &"--db", &db, &"--snapshot", &snap, &"-o", &repaired])?
        .check()
        .context("rebuild after live drift")?;
    let rebuilt = load_db(&repaired)?;
    ensure!(
        !rebuilt.volumes.contains_key(&r.distribute),
        "M1: the deleted volume is still in the rebuilt DB"
    );
    ensure!(
        rebuilt.volumes.get(rogue).is_some_and(|v| v.bricks.len() == 3 && v.info.gid == 2100),
        "M5: the unknown heketi volume was not adopted with its 3 bricks and gid: {:?}",
        rebuilt.volumes.get(rogue)
    );
    ensure!(
        !rebuilt.volumes.values().any(|v| v.info.name == "manual_e2e"),
        "M4: a foreign volume was adopted"
    );
    let repaired_db = ctx.path("drifted.repaired.db");
    ctx.import(&repaired, &repaired_db)?;
    let (_, report) = ctx.diff(&repaired_db, &snap)?;
    let host_side =
        ["BRICK_NOT_MOUNTED", "BRICK_FSTAB_MISSING", "ORPHAN_BRICK_LV", "BRICK_LV_MISSING", "GID_MISMATCH"];
    let left: Vec<String> = findings(&report)
        .into_iter()
        .filter(|(c, s, _)| s != "info" && !host_side.contains(&c.as_str()))
        .map(|(c, s, i)| format!("{s} {c} {i}"))
        .collect();
    ensure!(left.is_empty(), "after rebuild, findings a DB should have fixed:\n{}", left.join("\n"));
    Ok(Verdict::Pass)
}
