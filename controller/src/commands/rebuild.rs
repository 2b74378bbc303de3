//! `heketi-doctor rebuild`: the DB (or nothing) + the cluster → a repaired export JSON and the
//! plan of every change.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use heketi_doctor_common::heketi::{self, Db};
use heketi_doctor_common::rebuild::{self, Policy, RandomIds};
use heketi_doctor_common::topology;

use crate::cli::{Format, RebuildArgs};
use crate::output::Destination;
use crate::{input, Exit};

pub fn run(args: RebuildArgs) -> Result<Exit> {
    let out = args.output.as_ref().map(|p| Destination::new(Some(p), args.force));
    if !args.dry_run {
        if let Some(d) = &out {
            d.check_writable()?;
        }
    }
    let base = match &args.db {
        Some(p) if args.salvage => {
            let salvaged = heketi::salvage(&input::read_file(p)?);
            let name = p.display().to_string();
            eprint!("{}", salvaged.report.to_text(&name));
            if salvaged.report.outcome == heketi::Outcome::NothingUsable {
                bail!("{name}: salvage recovered nothing usable; run with --from-scratch instead");
            }
            salvaged.db
        }
        Some(p) => input::load_db(p)?.db,
        None => Db::default(),
    };
    let snapshot = super::check::snapshot_from(args.snapshot.as_deref(), &args.collect)?;
    let truth = topology::assemble(&snapshot);

    let mut policy = Policy {
        remove_missing: !args.keep_missing,
        clear_pending: !args.keep_pending,
        cluster_id: args.cluster_id.clone(),
        node_ids: BTreeMap::new(),
    };
    if let Some(t) = &args.topology {
        read_topology(t, &mut policy)?;
    }
    for pair in &args.node_ids {
        let Some((host, id)) = pair.split_once('=') else { bail!("--node-id {pair}: expected HOST=ID") };
        check_id(id).with_context(|| format!("--node-id {pair}"))?;
        policy.node_ids.insert(host.to_owned(), id.to_owned());
    }
    if let Some(id) = &policy.cluster_id {
        check_id(id).context("--cluster-id")?;
    }

    let (db, plan) = rebuild::rebuild(&base, &truth, &policy, &mut RandomIds)
        .map_err(|e| anyhow::anyhow!("rebuild refused: {e}; nothing was written"))?;
    match args.output_format {
        Format::Text => eprint!("{}", rebuild::render_plan_text(&plan)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
    }
    if let Some(p) = &args.plan {
        crate::output::write_atomic_with(p, args.force, |w| {
            serde_json::to_writer_pretty(&mut *w, &plan).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })?;
    }
    if args.dry_run {
        return Ok(Exit::Ok);
    }
    if let Some(dest) = out {
        dest.write_with(|w| heketi::write_export_json(&db, w))?;
        if let Some(p) = &args.output {
            eprintln!(
                "wrote {} — import it with `heketi-doctor import --json {} --db-out heketi.db.new` (or `heketi db import`)",
                p.display(),
                p.display()
            );
        }
    }
    Ok(Exit::Ok)
}

fn check_id(id: &str) -> Result<()> {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        bail!("{id:?} is not a heketi id (32 lowercase hex characters)")
    }
}

/// Cluster and node ids from `heketi-cli topology info --json`.
fn read_topology(path: &Path, policy: &mut Policy) -> Result<()> {
    let bytes = input::read_file(path)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not JSON ({e}); expected `heketi-cli topology info --json` output",
            path.display()
        )
    })?;
    let clusters =
        v["clusters"].as_array().with_context(|| format!("{}: no \"clusters\" list", path.display()))?;
    for c in clusters {
        if policy.cluster_id.is_none() {
            policy.cluster_id = c["id"].as_str().map(str::to_owned);
        }
        for n in c["nodes"].as_array().into_iter().flatten() {
            let Some(id) = n["id"].as_str() else { continue };
            let hosts = n["hostnames"]["manage"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(n["hostnames"]["storage"].as_array().into_iter().flatten());
            for h in hosts.filter_map(|h| h.as_str()) {
                policy.node_ids.insert(h.to_owned(), id.to_owned());
            }
        }
    }
    Ok(())
}
