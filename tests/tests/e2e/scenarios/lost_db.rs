//! (e) The DB is lost: `rebuild --from-scratch` from the cluster alone must give back every
//! volume, brick and device exactly as the lab made them. Cluster and node ids exist only in
//! heketi: fresh ones are generated (compared by node address), or taken from the operator
//! (`--cluster-id`, `--node-id`), and then they must match too.

use anyhow::{ensure, Context, Result};

use crate::e2e::compare::{self, Ids};
use crate::e2e::{load_db, problems, Ctx, Verdict};

/// Not on any disk, so no tool can recover them from the cluster alone: node zones (the lab
/// sets zone = node number, heketi's default is 1), and the GlusterVolumeOptions heketi passed
/// but that are not heketi's own (`user.heketi.*`): they look like any option set later.
const UNKNOWABLE: &[&str] = &["/Info/zone", "/GlusterVolumeOptions"];

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    let snap = ctx.clean_snapshot()?;

    // 1. Nothing known: fresh cluster and node ids.
    let out = ctx.path("lost.fresh.json");
    ctx.hd_paths(&[&"rebuild", &"--from-scratch", &"--snapshot", &snap, &"-o", &out])?
        .check()
        .context("rebuild --from-scratch")?;
    let db_path = ctx.path("lost.fresh.db");
    ctx.import(&out, &db_path)?;
    let got = load_db(&db_path)?;
    ensure!(got.volumes.len() == ctx.truth.volumes.len(), "volumes: {} rebuilt", got.volumes.len());
    ensure!(got.bricks.len() == ctx.truth.bricks.len(), "bricks: {} rebuilt", got.bricks.len());
    ensure!(got.devices.len() == ctx.truth.devices.len(), "devices: {} rebuilt", got.devices.len());
    let d = compare::differences(&got, &ctx.truth, Ids::Fresh, UNKNOWABLE);
    ensure!(d.is_empty(), "from scratch, fresh ids: {} differences:\n{}", d.len(), d.join("\n"));
    check_options(&got, ctx)?;
    let (code, report) = ctx.diff(&db_path, &snap)?;
    let p = problems(&report);
    ensure!(code == Some(0) && p.is_empty(), "diff of the rebuilt DB: exit {code:?}\n{}", p.join("\n"));

    // 2. The operator knows the ids (StorageClass clusterid, an old topology info).
    let cluster = ctx.truth.clusters.keys().next().context("lab has no cluster")?.clone();
    let mut args: Vec<String> =
        vec!["rebuild".into(), "--from-scratch".into(), "--cluster-id".into(), cluster];
    for n in ctx.truth.nodes.values() {
        let host =
            n.info.hostnames.manage.as_ref().and_then(|m| m.first()).context("node without manage host")?;
        args.push("--node-id".into());
        args.push(format!("{host}={}", n.info.id));
    }
    let out = ctx.path("lost.known-ids.json");
    args.extend(["--snapshot".into(), snap.display().to_string(), "-o".into(), out.display().to_string()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    ctx.hd(&a)?.check().context("rebuild --from-scratch with known ids")?;
    let got = load_db(&out)?;
    let d = compare::differences(&got, &ctx.truth, Ids::Same, UNKNOWABLE);
    ensure!(d.is_empty(), "from scratch, known ids: {} differences:\n{}", d.len(), d.join("\n"));
    Ok(Verdict::Pass)
}

/// heketi's own options (`user.heketi.*` except the id) must come back.
fn check_options(got: &heketi_doctor_common::heketi::Db, ctx: &Ctx) -> Result<()> {
    for (id, v) in &ctx.truth.volumes {
        let heketi_opts = |v: &heketi_doctor_common::heketi::Volume| -> Vec<String> {
            let mut o: Vec<String> = v
                .gluster_volume_options
                .iter()
                .flatten()
                .filter(|o| o.starts_with("user.heketi.") && !o.starts_with("user.heketi.id "))
                .cloned()
                .collect();
            o.sort();
            o
        };
        let g = got.volumes.get(id).context("volume missing")?;
        ensure!(
            heketi_opts(g) == heketi_opts(v),
            "volume {id}: heketi options {:?}, lab has {:?}",
            heketi_opts(g),
            heketi_opts(v)
        );
    }
    Ok(())
}
