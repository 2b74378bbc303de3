//! Rendering findings for people (text, Markdown) and machines (JSON).

use std::fmt::Write as _;

use serde::Serialize;

use super::finding::{Finding, Severity};

/// A diff/check result with its context, as written by `--output json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report<'a> {
    pub summary: Summary,
    /// Nodes that reported (hostnames).
    pub nodes_seen: Vec<String>,
    /// Agents that did not answer: their objects are unknown, not missing.
    pub nodes_not_seen: Vec<String>,
    pub findings: &'a [Finding],
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub info: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Self {
        let n = |s| findings.iter().filter(|f| f.severity == s).count();
        Summary { errors: n(Severity::Error), warnings: n(Severity::Warning), info: n(Severity::Info) }
    }

    /// Drift = any warning or error (info is what could not be verified).
    pub fn has_drift(&self) -> bool {
        self.errors + self.warnings > 0
    }
}

fn sev(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARN",
        Severity::Info => "info",
    }
}

fn short(v: &Option<serde_json::Value>) -> Option<String> {
    let v = v.as_ref()?;
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(if s.len() > 160 {
        format!("{}…", &s[..s.char_indices().nth(157).map_or(s.len(), |(i, _)| i)])
    } else {
        s
    })
}

/// Text for a terminal: findings grouped by severity, with DB/observed values, evidence and
/// the suggested repair, then a one-line summary.
pub fn render_text(r: &Report<'_>) -> String {
    let mut s = String::new();
    for f in r.findings {
        let name = f.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        let _ =
            writeln!(s, "{:<5} {:<26} {} {}{name}", sev(f.severity), f.code.as_str(), f.kind.as_str(), f.id);
        let _ = writeln!(s, "      {}", f.message);
        if let Some(db) = short(&f.db) {
            let _ = writeln!(s, "      db:       {db}");
        }
        if let Some(obs) = short(&f.observed) {
            let _ = writeln!(s, "      observed: {obs}");
        }
        if !f.evidence.is_empty() {
            let ev: Vec<String> = f
                .evidence
                .iter()
                .map(|e| match &e.node {
                    Some(n) => format!("{n}: {}", e.source),
                    None => e.source.clone(),
                })
                .collect();
            let _ = writeln!(s, "      evidence: {}", ev.join("; "));
        }
        if let Some(rep) = &f.repair {
            let _ = writeln!(s, "      repair:   {rep}");
        }
    }
    let m = r.summary;
    let _ = writeln!(
        s,
        "{}{} errors, {} warnings, {} info; nodes seen: {}{}",
        if r.findings.is_empty() { "" } else { "\n" },
        m.errors,
        m.warnings,
        m.info,
        if r.nodes_seen.is_empty() { "-".to_owned() } else { r.nodes_seen.join(", ") },
        if r.nodes_not_seen.is_empty() {
            String::new()
        } else {
            format!("; NOT seen (their objects are unknown): {}", r.nodes_not_seen.join(", "))
        }
    );
    s
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A Markdown page: summary and one table row per finding.
pub fn render_markdown(r: &Report<'_>, title: &str) -> String {
    let mut s = String::new();
    let m = r.summary;
    let _ = writeln!(s, "# {title}\n");
    let _ = writeln!(s, "**{} errors, {} warnings, {} info.**\n", m.errors, m.warnings, m.info);
    let _ = writeln!(
        s,
        "- Nodes seen: {}",
        if r.nodes_seen.is_empty() { "-".into() } else { r.nodes_seen.join(", ") }
    );
    if !r.nodes_not_seen.is_empty() {
        let _ = writeln!(
            s,
            "- **Not seen** (objects there are unknown, not missing): {}",
            r.nodes_not_seen.join(", ")
        );
    }
    if r.findings.is_empty() {
        let _ = writeln!(s, "\nNo findings: the database matches the cluster.");
        return s;
    }
    let _ = writeln!(s, "\n| severity | code | kind | id | message | db | observed | repair |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for f in r.findings {
        let id = match &f.name {
            Some(n) => format!("`{}` ({})", f.id, md_escape(n)),
            None => format!("`{}`", f.id),
        };
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
            sev(f.severity),
            f.code.as_str(),
            f.kind.as_str(),
            id,
            md_escape(&f.message),
            md_escape(&short(&f.db).unwrap_or_default()),
            md_escape(&short(&f.observed).unwrap_or_default()),
            md_escape(f.repair.as_deref().unwrap_or("")),
        );
    }
    s
}

/// A finding's identity across reports: the same problem on the same entity.
pub fn finding_key(f: &Finding) -> (super::Code, super::Kind, String) {
    (f.code, f.kind, f.id.clone())
}

/// What changed since the previous report: (new findings, resolved findings).
pub fn changes_since<'a>(
    previous: &'a [Finding],
    current: &'a [Finding],
) -> (Vec<&'a Finding>, Vec<&'a Finding>) {
    let prev: std::collections::BTreeSet<_> = previous.iter().map(finding_key).collect();
    let cur: std::collections::BTreeSet<_> = current.iter().map(finding_key).collect();
    (
        current.iter().filter(|f| !prev.contains(&finding_key(f))).collect(),
        previous.iter().filter(|f| !cur.contains(&finding_key(f))).collect(),
    )
}

/// Prometheus text exposition (for the node-exporter textfile collector and `/metrics`).
pub fn render_prometheus(r: &Report<'_>, finished_at: i64, duration_secs: f64) -> String {
    let mut s = String::new();
    let mut counts: std::collections::BTreeMap<(String, &'static str), usize> =
        std::collections::BTreeMap::new();
    for f in r.findings {
        *counts.entry((f.code.as_str(), f.severity.as_str())).or_default() += 1;
    }
    let _ = writeln!(s, "# HELP heketi_doctor_findings Findings of the last report, by code and severity.");
    let _ = writeln!(s, "# TYPE heketi_doctor_findings gauge");
    for ((code, sev), n) in &counts {
        let _ = writeln!(s, "heketi_doctor_findings{{code=\"{code}\",severity=\"{sev}\"}} {n}");
    }
    for (sev, n) in [("error", r.summary.errors), ("warning", r.summary.warnings), ("info", r.summary.info)] {
        if !counts.keys().any(|(_, s)| *s == sev) {
            let _ = writeln!(s, "heketi_doctor_findings{{code=\"\",severity=\"{sev}\"}} {n}");
        }
    }
    let _ = writeln!(s, "# HELP heketi_doctor_drift 1 when the last report found a warning or an error.");
    let _ = writeln!(s, "# TYPE heketi_doctor_drift gauge");
    let _ = writeln!(s, "heketi_doctor_drift {}", u8::from(r.summary.has_drift()));
    let _ = writeln!(s, "# HELP heketi_doctor_nodes_seen Nodes that delivered a report.");
    let _ = writeln!(s, "# TYPE heketi_doctor_nodes_seen gauge");
    let _ = writeln!(s, "heketi_doctor_nodes_seen {}", r.nodes_seen.len());
    let _ = writeln!(s, "# HELP heketi_doctor_nodes_unseen Agents that did not answer.");
    let _ = writeln!(s, "# TYPE heketi_doctor_nodes_unseen gauge");
    let _ = writeln!(s, "heketi_doctor_nodes_unseen {}", r.nodes_not_seen.len());
    let _ = writeln!(s, "# HELP heketi_doctor_last_success_timestamp_seconds When the last report finished.");
    let _ = writeln!(s, "# TYPE heketi_doctor_last_success_timestamp_seconds gauge");
    let _ = writeln!(s, "heketi_doctor_last_success_timestamp_seconds {finished_at}");
    let _ = writeln!(s, "# HELP heketi_doctor_report_duration_seconds How long the last report took.");
    let _ = writeln!(s, "# TYPE heketi_doctor_report_duration_seconds gauge");
    let _ = writeln!(s, "heketi_doctor_report_duration_seconds {duration_secs:.3}");
    s
}
