//! Comparing a DB heketi-doctor produced with the lab's truth (the export JSON the lab wrote
//! while building the cluster), field by field, as readable differences.

use std::collections::{BTreeMap, BTreeSet};

use heketi_doctor_common::heketi::Db;
use serde_json::Value;

/// Fields the cluster cannot tell, whatever the tool: heketi keeps them only in its DB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// Cluster and node ids were given to the tool (`--cluster-id`, `--node-id`): must match.
    Same,
    /// Cluster and node ids are new: nodes are matched by their storage address instead.
    Fresh,
}

fn load_value(db: &Db) -> Value {
    serde_json::from_slice(&heketi_doctor_common::heketi::to_export_json(db)).expect("export JSON of a Db")
}

/// heketi node id → storage hostname.
fn node_hosts(db: &Db) -> BTreeMap<String, String> {
    db.nodes
        .values()
        .map(|n| {
            let host = n.info.hostnames.storage.as_ref().and_then(|s| s.first().cloned()).unwrap_or_default();
            (n.info.id.clone(), host)
        })
        .collect()
}

fn leaf_differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let n = Value::Null;
                leaf_differences(x.get(k).unwrap_or(&n), y.get(k).unwrap_or(&n), &format!("{path}/{k}"), out);
            }
        }
        (x, y) if x != y => out.push(format!("{path}: got {x}, lab has {y}")),
        _ => {}
    }
}

fn normalize_id_orders(db: &mut Value) {
    let sort = |v: &mut Value| {
        if let Value::Array(a) = v {
            a.sort_by_key(|x| x.to_string());
        }
    };
    if let Some(cs) = db["clusterentries"].as_object_mut() {
        for c in cs.values_mut() {
            sort(&mut c["Info"]["nodes"]);
        }
    }
    if let Some(vs) = db["volumeentries"].as_object_mut() {
        for v in vs.values_mut() {
            let m = &mut v["Info"]["mount"]["glusterfs"];
            sort(&mut m["hosts"]);
            m["device"] = Value::Null;
            m["options"] = Value::Null;
        }
    }
}

/// Differences between `got` and the lab's `truth` in every volume, brick and device (and the
/// nodes' hostnames and device lists), after mapping node/cluster ids when they are fresh.
/// `ignore` drops differences whose path contains one of the strings.
pub fn differences(got: &Db, truth: &Db, ids: Ids, ignore: &[&str]) -> Vec<String> {
    let mut g = load_value(got);
    let t = load_value(truth);
    if ids == Ids::Fresh {
        // Rewrite got's node and cluster ids to the lab's, matching nodes by storage address.
        let truth_by_host: BTreeMap<String, String> =
            node_hosts(truth).into_iter().map(|(id, h)| (h, id)).collect();
        let mut map: BTreeMap<String, String> = node_hosts(got)
            .into_iter()
            .filter_map(|(id, host)| truth_by_host.get(&host).map(|t| (id, t.clone())))
            .collect();
        if let (Some(gc), Some(tc)) = (got.clusters.keys().next(), truth.clusters.keys().next()) {
            map.insert(gc.clone(), tc.clone());
        }
        let text = serde_json::to_string(&g).expect("JSON");
        let mut replaced = text;
        for (from, to) in &map {
            replaced = replaced.replace(&format!("\"{from}\""), &format!("\"{to}\""));
        }
        g = serde_json::from_str(&replaced).expect("JSON");
    }
    let mut t = t;
    if ids == Ids::Fresh {
        // Orders that follow the ids: cluster.Nodes is sorted by node id, and the volumes'
        // mount hosts follow it (heketi recomputes them on every read). Compare them as sets.
        for v in [&mut g, &mut t] {
            normalize_id_orders(v);
        }
    }
    let mut out = Vec::new();
    for bucket in ["volumeentries", "brickentries", "deviceentries", "nodeentries", "clusterentries"] {
        leaf_differences(&g[bucket], &t[bucket], &format!("/{bucket}"), &mut out);
    }
    out.retain(|d| !ignore.iter().any(|i| d.contains(i)));
    out
}
