//! Findings: heketi's DB checked on its own (`check`) and against the ground truth (`diff`).
//! Every finding has a stable code, a severity, the entity (kind + heketi id), what the DB says,
//! what was observed, the evidence (node, source) and the suggested repair.

mod check;
mod finding;
mod pvs;
pub mod render;
mod truth;

pub use check::check_db;
pub use finding::{sort_findings, Code, Evidence, Finding, Kind, Severity};
pub use pvs::{diff_pvs, parse_pv_list, HeketiPv, PvError};
pub use truth::{db_volume_brick_gib, diff_against_truth, match_nodes, NodeMatch};

use crate::heketi::Db;
use crate::topology::GroundTruth;

/// Everything `heketi-doctor diff` reports: the DB-only checks plus the comparison with reality,
/// sorted (most severe first).
pub fn diff(db: &Db, truth: &GroundTruth) -> Vec<Finding> {
    let mut f = check_db(db);
    f.extend(diff_against_truth(db, truth));
    sort_findings(&mut f);
    f
}
