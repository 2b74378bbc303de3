//! `heketi-doctor check` (the DB alone) and `heketi-doctor diff` (the DB against the cluster).

use anyhow::Result;
use heketi_doctor_common::diff::{self, render, Finding};
use heketi_doctor_common::topology::{self, ClusterSnapshot, GroundTruth};

use crate::cli::{CheckArgs, DiffArgs, ReportFormat};
use crate::{input, Exit};

pub fn run_check(args: CheckArgs) -> Result<Exit> {
    let loaded = input::load_db(&args.db.db)?;
    let mut findings = diff::check_db(&loaded.db);
    if let Some(p) = &args.pvs {
        findings.extend(diff::diff_pvs(&loaded.db, &load_pvs(p)?));
    }
    diff::sort_findings(&mut findings);
    emit(
        &findings,
        &GroundTruth::default(),
        args.output,
        &format!("heketi-doctor check: {}", args.db.db.display()),
    )
}

pub fn run_diff(args: DiffArgs) -> Result<Exit> {
    let loaded = input::load_db(&args.db.db)?;
    let snapshot = snapshot_from(args.snapshot.as_deref(), &args.collect)?;
    let truth = topology::assemble(&snapshot);
    let mut findings = diff::diff(&loaded.db, &truth);
    if let Some(p) = &args.pvs {
        findings.extend(diff::diff_pvs(&loaded.db, &load_pvs(p)?));
        diff::sort_findings(&mut findings);
    }
    emit(&findings, &truth, args.output, &format!("heketi-doctor diff: {}", args.db.db.display()))
}

/// Read `kubectl get pv -o json` output.
fn load_pvs(path: &std::path::Path) -> Result<Vec<diff::HeketiPv>> {
    let bytes = input::read_file(path)?;
    let text = String::from_utf8_lossy(&bytes);
    diff::parse_pv_list(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The snapshot file when given, else a collection now.
pub fn snapshot_from(
    file: Option<&std::path::Path>,
    collect: &crate::cli::CollectSources,
) -> Result<ClusterSnapshot> {
    match file {
        Some(p) => load_snapshot(p),
        None => super::collect::gather(collect),
    }
}

/// Read a snapshot written by `collect -o`.
pub fn load_snapshot(path: &std::path::Path) -> Result<ClusterSnapshot> {
    let bytes = input::read_file(path)?;
    let snap: ClusterSnapshot = serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a heketi-doctor snapshot ({e}); write one with `heketi-doctor collect -o`",
            path.display()
        )
    })?;
    if snap.reports.is_empty() {
        anyhow::bail!(
            "{}: the snapshot has no node report ({} agents unreachable); nothing to compare with",
            path.display(),
            snap.unreachable.len()
        );
    }
    Ok(snap)
}

fn emit(findings: &[Finding], truth: &GroundTruth, format: ReportFormat, title: &str) -> Result<Exit> {
    let report = render::Report {
        summary: render::Summary::of(findings),
        nodes_seen: truth.nodes.iter().map(|n| n.hostname.clone()).collect(),
        nodes_not_seen: truth.unreachable.iter().map(|u| format!("{} ({})", u.agent, u.error)).collect(),
        findings,
    };
    let out = match format {
        ReportFormat::Text => render::render_text(&report),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        ReportFormat::Markdown => render::render_markdown(&report, title),
    };
    crate::output::Destination::Stdout.write(out.as_bytes())?;
    Ok(if report.summary.has_drift() { Exit::Drift } else { Exit::Ok })
}
