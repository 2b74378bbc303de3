//! `heketi-doctor report`: one scheduled run. Collect (or read a snapshot), diff, and write into
//! `--out-dir`: `report-<UTC>.json` and `.md`, `latest.json`/`latest.md`, and
//! `heketi_doctor.prom` (Prometheus text format, for node-exporter's textfile collector). The
//! Markdown states what changed since the previous report; old reports beyond `--keep` go.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use heketi_doctor_common::diff::{self, render, Finding};
use heketi_doctor_common::rebuild;
use heketi_doctor_common::topology;

use crate::cli::ReportArgs;
use crate::output::write_atomic_with;
use crate::{input, Exit};

/// Timestamped reports in `dir`, oldest first.
fn previous_reports(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("report-") && n.ends_with(".json"))
        })
        .collect();
    // `report-<stamp>.json` then `report-<stamp>-1.json` …: order by (stamp, sequence).
    let key = |p: &PathBuf| {
        let n = p.file_stem().and_then(|n| n.to_str()).unwrap_or("").trim_start_matches("report-").to_owned();
        match n.split_once('-') {
            Some((stamp, seq)) => (stamp.to_owned(), seq.parse::<u64>().unwrap_or(0)),
            None => (n, 0),
        }
    };
    v.sort_by_key(key);
    v
}

fn read_findings(p: &Path) -> Option<Vec<Finding>> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).ok()?).ok()?;
    serde_json::from_value(v["findings"].clone()).ok()
}

pub fn run(args: ReportArgs) -> Result<Exit> {
    run_ref(&args)
}

/// One report run (shared with `serve`).
pub fn run_ref(args: &ReportArgs) -> Result<Exit> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("{}: cannot create", args.out_dir.display()))?;
    let loaded = input::load_db(&args.db.db)?;
    let snapshot = super::check::snapshot_from(args.snapshot.as_deref(), &args.collect)?;
    let truth = topology::assemble(&snapshot);
    let mut findings = diff::diff(&loaded.db, &truth);
    if let Some(p) = &args.pvs {
        let text = String::from_utf8_lossy(&input::read_file(p)?).into_owned();
        findings.extend(diff::diff_pvs(
            &loaded.db,
            &diff::parse_pv_list(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        ));
        diff::sort_findings(&mut findings);
    }
    let report = render::Report {
        summary: render::Summary::of(&findings),
        nodes_seen: truth.nodes.iter().map(|n| n.hostname.clone()).collect(),
        nodes_not_seen: truth.unreachable.iter().map(|u| format!("{} ({})", u.agent, u.error)).collect(),
        findings: &findings,
    };

    let earlier = previous_reports(&args.out_dir);
    let previous = earlier.last().and_then(|p| read_findings(p).map(|f| (p.clone(), f)));
    let finished = crate::clock::now();
    // Two runs in one second get distinct names (`-1`, `-2` …), still in time order.
    let base = format!("report-{}", crate::clock::stamp(finished));
    let mut name = base.clone();
    let mut n = 0;
    while args.out_dir.join(format!("{name}.json")).exists() {
        n += 1;
        name = format!("{base}-{n}");
    }

    let mut md =
        render::render_markdown(&report, &format!("heketi-doctor report {}", crate::clock::stamp(finished)));
    let _ = writeln!(md, "\n## Changes since the previous report\n");
    let changes = match &previous {
        None => {
            let _ = writeln!(md, "This is the first report in {}.", args.out_dir.display());
            serde_json::json!({"previous": null, "new": [], "resolved": []})
        }
        Some((p, prev)) => {
            let (new, resolved) = render::changes_since(prev, &findings);
            let prev_name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if new.is_empty() && resolved.is_empty() {
                let _ = writeln!(md, "No change since `{prev_name}`.");
            }
            for f in &new {
                let _ = writeln!(
                    md,
                    "- **new** `{}` {} `{}`: {}",
                    f.code.as_str(),
                    f.kind.as_str(),
                    f.id,
                    f.message
                );
            }
            for f in &resolved {
                let _ = writeln!(
                    md,
                    "- **resolved** `{}` {} `{}`: {}",
                    f.code.as_str(),
                    f.kind.as_str(),
                    f.id,
                    f.message
                );
            }
            let keys = |v: &[&Finding]| {
                v.iter()
                    .map(|f| serde_json::json!({"code": f.code, "kind": f.kind, "id": f.id}))
                    .collect::<Vec<_>>()
            };
            serde_json::json!({"previous": prev_name, "new": keys(&new), "resolved": keys(&resolved)})
        }
    };
    let mut json = serde_json::json!({
        "generated_at": finished,
        "db": args.db.db.display().to_string(),
        "summary": report.summary,
        "nodes_seen": report.nodes_seen,
        "nodes_not_seen": report.nodes_not_seen,
        "changes": changes,
        "findings": findings,
    });
    if args.rebuild_preview {
        match rebuild::rebuild(&loaded.db, &truth, &rebuild::Policy::default(), &mut rebuild::RandomIds) {
            Ok((_, plan)) => {
                let _ = writeln!(md, "\n## Rebuild preview\n\n```\n{}```", rebuild::render_plan_text(&plan));
                json["rebuild_preview"] = serde_json::to_value(&plan)?;
            }
            Err(e) => {
                let _ = writeln!(md, "\n## Rebuild preview\n\nNot possible: {e}");
                json["rebuild_preview"] = serde_json::json!({"error": e.to_string()});
            }
        }
    }
    let json_text = serde_json::to_string_pretty(&json)? + "\n";
    let dir = &args.out_dir;
    let put =
        |file: &str, body: &str| write_atomic_with(&dir.join(file), true, |w| w.write_all(body.as_bytes()));
    put(&format!("{name}.json"), &json_text)?;
    put(&format!("{name}.md"), &md)?;
    put("latest.json", &json_text)?;
    put("latest.md", &md)?;
    let prom = render::render_prometheus(&report, finished, started.elapsed().as_secs_f64());
    put("heketi_doctor.prom", &prom)?;
    if let Some(gw) = &args.pushgateway {
        crate::http_client::push_metrics(gw, &prom)?;
    }

    // Keep the newest `--keep` timestamped reports.
    let all = previous_reports(dir);
    if all.len() > args.keep {
        for old in &all[..all.len() - args.keep] {
            let _ = std::fs::remove_file(old);
            let _ = std::fs::remove_file(old.with_extension("md"));
        }
    }
    eprintln!(
        "{}: {} errors, {} warnings, {} info → {}",
        name,
        report.summary.errors,
        report.summary.warnings,
        report.summary.info,
        dir.join(format!("{name}.md")).display()
    );
    Ok(if report.summary.has_drift() { Exit::Drift } else { Exit::Ok })
}
