//! The rebuild plan: every difference between the base DB and the rebuilt one, field by field,
//! with the reason and evidence recorded by the step that made it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::diff::{Evidence, Kind};
use crate::heketi::Db;
use crate::topology::GroundTruth;

/// One change: an entity added or removed, or one field changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub kind: Kind,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `added`, `removed`, or the changed field's path (`Info.storage.free`).
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    pub reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

/// An id that did not come from the DB or the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedId {
    pub kind: Kind,
    pub id: String,
    pub how: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub generated_ids: Vec<GeneratedId>,
    /// Nodes in the DB that did not report: nothing of theirs was changed or removed.
    pub nodes_not_seen: Vec<String>,
    pub summary: PlanSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    pub added: usize,
    pub removed: usize,
    pub modified_entities: usize,
    pub field_changes: usize,
}

/// Reasons recorded per entity: (kind, id) → [(reason, evidence)].
pub(crate) type Reasons = BTreeMap<(Kind, String), Vec<(String, Vec<Evidence>)>>;

const DERIVED: &str = "recomputed: heketi derives it from the other entries";

/// The entities of one bucket that differ between base and result, as JSON (entries that are
/// equal are never serialised: a no-op rebuild of 10k entries costs a comparison each).
type Differing = Vec<(String, Option<Value>, Option<Value>)>;

fn differing<T: Serialize + PartialEq>(a: &BTreeMap<String, T>, b: &BTreeMap<String, T>) -> Differing {
    let json = |v: &T| serde_json::to_value(v).unwrap_or(Value::Null);
    let ids: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    ids.into_iter()
        .filter_map(|id| match (a.get(id), b.get(id)) {
            (Some(x), Some(y)) if x == y => None,
            (x, y) => Some((id.clone(), x.map(json), y.map(json))),
        })
        .collect()
}

fn entities(base: &Db, new: &Db) -> Vec<(Kind, Differing)> {
    vec![
        (Kind::Cluster, differing(&base.clusters, &new.clusters)),
        (Kind::Node, differing(&base.nodes, &new.nodes)),
        (Kind::Device, differing(&base.devices, &new.devices)),
        (Kind::Volume, differing(&base.volumes, &new.volumes)),
        (Kind::Brick, differing(&base.bricks, &new.bricks)),
        (Kind::BlockVolume, differing(&base.block_volumes, &new.block_volumes)),
        (Kind::PendingOp, differing(&base.pending_ops, &new.pending_ops)),
    ]
}

fn leaf_diffs(path: &str, old: &Value, new: &Value, out: &mut Vec<(String, Value, Value)>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                leaf_diffs(&p, a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null), out);
            }
        }
        (a, b) if a != b => out.push((path.to_owned(), a.clone(), b.clone())),
        _ => {}
    }
}

fn display_name(kind: Kind, v: &Value) -> Option<String> {
    let s = match kind {
        Kind::Volume | Kind::BlockVolume => v.pointer("/Info/name")?,
        Kind::Brick => v.pointer("/Info/path")?,
        Kind::Device => v.pointer("/Info/name")?,
        Kind::Node => v.pointer("/Info/hostnames/manage/0")?,
        _ => return None,
    };
    s.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

pub(crate) fn compute(
    base: &Db,
    new: &Db,
    reasons: &Reasons,
    generated: Vec<(Kind, String, String)>,
    unseen: &BTreeSet<String>,
    _truth: &GroundTruth,
) -> Plan {
    let mut plan = Plan {
        generated_ids: generated.into_iter().map(|(kind, id, how)| GeneratedId { kind, id, how }).collect(),
        nodes_not_seen: unseen.iter().cloned().collect(),
        ..Default::default()
    };
    let reason_for = |kind: Kind, id: &str| -> (String, Vec<Evidence>) {
        match reasons.get(&(kind, id.to_owned())) {
            Some(rs) => {
                let text: Vec<&str> = rs.iter().map(|(r, _)| r.as_str()).collect();
                let mut ev: Vec<Evidence> = rs.iter().flat_map(|(_, e)| e.iter().cloned()).collect();
                ev.sort();
                ev.dedup();
                (text.join("; "), ev)
            }
            None => (DERIVED.to_owned(), vec![]),
        }
    };
    for (kind, entries) in entities(base, new) {
        for (id, old, newv) in entries {
            let (reason, evidence) = reason_for(kind, &id);
            match (old, newv) {
                (None, Some(v)) => {
                    plan.summary.added += 1;
                    plan.changes.push(Change {
                        kind,
                        name: display_name(kind, &v),
                        id,
                        field: "added".into(),
                        old: None,
                        new: Some(v),
                        reason,
                        evidence,
                    });
                }
                (Some(v), None) => {
                    plan.summary.removed += 1;
                    plan.changes.push(Change {
                        kind,
                        name: display_name(kind, &v),
                        id,
                        field: "removed".into(),
                        old: Some(v),
                        new: None,
                        reason,
                        evidence,
                    });
                }
                (Some(a), Some(b)) => {
                    let mut diffs = Vec::new();
                    leaf_diffs("", &a, &b, &mut diffs);
                    // The durability interface is not part of the JSON; a change to it always
                    // comes with a change of Info.durability.
                    if diffs.is_empty() {
                        continue;
                    }
                    plan.summary.modified_entities += 1;
                    for (field, o, n) in diffs {
                        plan.summary.field_changes += 1;
                        plan.changes.push(Change {
                            kind,
                            id: id.clone(),
                            name: display_name(kind, &b),
                            field,
                            old: Some(o),
                            new: Some(n),
                            reason: reason.clone(),
                            evidence: evidence.clone(),
                        });
                    }
                }
                (None, None) => {}
            }
        }
    }
    plan
}

fn brief(v: &Option<Value>) -> String {
    match v {
        None | Some(Value::Null) => "∅".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(Value::Array(a)) if a.len() > 4 => format!("[{} items]", a.len()),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 100 {
                format!("{}…", &s[..s.char_indices().nth(97).map_or(s.len(), |(i, _)| i)])
            } else {
                s
            }
        }
    }
}

/// The plan for people: one block per entity, one line per change.
pub fn render_plan_text(plan: &Plan) -> String {
    let mut s = String::new();
    let mut last: Option<(Kind, &str)> = None;
    for c in &plan.changes {
        if last != Some((c.kind, c.id.as_str())) {
            let name = c.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
            let ev: Vec<String> = c
                .evidence
                .iter()
                .map(|e| {
                    e.node
                        .as_deref()
                        .filter(|n| !n.is_empty())
                        .map_or(e.source.clone(), |n| format!("{n}: {}", e.source))
                })
                .collect();
            let ev = if ev.is_empty() { String::new() } else { format!(" [{}]", ev.join("; ")) };
            let _ = writeln!(s, "{} {}{name}: {}{ev}", c.kind.as_str(), c.id, c.reason);
            last = Some((c.kind, c.id.as_str()));
        }
        match c.field.as_str() {
            "added" => {
                let _ = writeln!(s, "    + added");
            }
            "removed" => {
                let _ = writeln!(s, "    - removed");
            }
            f => {
                let _ = writeln!(s, "    ~ {f}: {} → {}", brief(&c.old), brief(&c.new));
            }
        }
    }
    for g in &plan.generated_ids {
        let _ = writeln!(s, "new id for {} {}: {}", g.kind.as_str(), g.id, g.how);
    }
    if !plan.nodes_not_seen.is_empty() {
        let _ = writeln!(s, "nodes not seen (nothing of theirs changed): {}", plan.nodes_not_seen.join(", "));
    }
    let m = &plan.summary;
    let _ = writeln!(
        s,
        "{} entities added, {} removed, {} modified ({} field changes)",
        m.added, m.removed, m.modified_entities, m.field_changes
    );
    s
}
