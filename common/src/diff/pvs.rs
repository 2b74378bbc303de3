//! Kubernetes PersistentVolumes as a third source: heketi-provisioned PVs carry the heketi volume
//! id, the gid and the size. Input is the JSON of `kubectl get pv -o json` (no cluster client).

use serde_json::Value;

use crate::heketi::Db;

use super::finding::{Code, Evidence, Finding, Kind, Severity};

/// A PV backed by heketi (file volume) or by gluster-block through heketi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeketiPv {
    pub name: String,
    /// `gluster.kubernetes.io/heketi-volume-id` (file) or `gluster.org/volume-id` (block).
    pub volume_id: Option<String>,
    /// `spec.glusterfs.path` (file) or the `glusterBlockShare` annotation (block).
    pub volume_name: Option<String>,
    pub gid: Option<i64>,
    pub size_gib: Option<i64>,
    pub block: bool,
    pub claim: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PvError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a PV list: expected `kubectl get pv -o json` output (an object with \"items\")")]
    NotAList,
}

/// Capacity strings like `5Gi`, `1Ti`, `1024Mi`, `5G` → GiB (rounded up).
fn gib(q: &str) -> Option<i64> {
    let q = q.trim();
    let split = q.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let bytes = n * match unit {
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "K" | "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "" => 1.0,
        _ => return None,
    };
    Some((bytes / 1024f64.powi(3)).ceil() as i64)
}

/// The heketi-backed PVs of a `kubectl get pv -o json` list (other PVs are skipped).
pub fn parse_pv_list(json: &str) -> Result<Vec<HeketiPv>, PvError> {
    let v: Value = serde_json::from_str(json)?;
    let items = match (&v["items"], v["kind"].as_str()) {
        (Value::Array(items), _) => items.clone(),
        (_, Some("PersistentVolume")) => vec![v.clone()],
        _ => return Err(PvError::NotAList),
    };
    let mut out = Vec::new();
    for pv in items {
        let ann = &pv["metadata"]["annotations"];
        let s = |x: &Value| x.as_str().map(str::to_owned);
        let file_id = s(&ann["gluster.kubernetes.io/heketi-volume-id"]);
        let block_share = s(&ann["glusterBlockShare"]);
        let glusterfs = &pv["spec"]["glusterfs"];
        if file_id.is_none() && block_share.is_none() && glusterfs.is_null() {
            continue;
        }
        let block = block_share.is_some();
        out.push(HeketiPv {
            name: s(&pv["metadata"]["name"]).unwrap_or_default(),
            volume_id: if block { s(&ann["gluster.org/volume-id"]) } else { file_id },
            volume_name: if block { block_share } else { s(&glusterfs["path"]) },
            gid: ann["pv.beta.kubernetes.io/gid"].as_str().and_then(|g| g.parse().ok()),
            size_gib: pv["spec"]["capacity"]["storage"].as_str().and_then(gib),
            block,
            claim: pv["spec"]["claimRef"]["name"]
                .as_str()
                .map(|c| format!("{}/{c}", pv["spec"]["claimRef"]["namespace"].as_str().unwrap_or("?"))),
        });
    }
    Ok(out)
}

/// Findings between the DB and the PVs.
pub fn diff_pvs(db: &Db, pvs: &[HeketiPv]) -> Vec<Finding> {
    let mut out = Vec::new();
    let ev = |pv: &HeketiPv| Evidence { node: None, source: format!("pv/{}", pv.name) };
    let mut used_volumes = std::collections::BTreeSet::new();
    for pv in pvs {
        if pv.block {
            let bv = pv.volume_id.as_ref().and_then(|id| db.block_volumes.get(id)).or_else(|| {
                db.block_volumes.values().find(|b| Some(&b.info.name) == pv.volume_name.as_ref())
            });
            if bv.is_none() {
                out.push(
                    Finding::new(Code::PvVolumeMissing, Severity::Error, Kind::BlockVolume, pv.volume_id.clone().unwrap_or_else(|| pv.name.clone()), format!("PV {} uses a block volume the DB does not have", pv.name))
                        .name(pv.volume_name.clone().unwrap_or_default())
                        .evidence(ev(pv))
                        .repair("if the block volume exists in gluster-block, rebuild adopts it; otherwise the PV's data is gone"),
                );
            }
            continue;
        }
        let vol = pv
            .volume_id
            .as_ref()
            .and_then(|id| db.volumes.get(id))
            .or_else(|| db.volumes.values().find(|v| Some(&v.info.name) == pv.volume_name.as_ref()));
        let Some(vol) = vol else {
            out.push(
                Finding::new(
                    Code::PvVolumeMissing,
                    Severity::Error,
                    Kind::Volume,
                    pv.volume_id.clone().unwrap_or_else(|| pv.name.clone()),
                    format!(
                        "PV {} ({}) uses a volume the DB does not have",
                        pv.name,
                        pv.claim.as_deref().unwrap_or("unbound")
                    ),
                )
                .name(pv.volume_name.clone().unwrap_or_default())
                .evidence(ev(pv))
                .repair(
                    "if the gluster volume exists, rebuild adopts it; otherwise the PV points at nothing",
                ),
            );
            continue;
        };
        used_volumes.insert(vol.info.id.as_str());
        if let Some(g) = pv.gid {
            if g != vol.info.gid {
                out.push(
                    Finding::new(Code::PvGidMismatch, Severity::Warning, Kind::Volume, &vol.info.id, format!("PV {} says gid {g}, the DB {}", pv.name, vol.info.gid))
                        .name(&vol.info.name)
                        .db(vol.info.gid)
                        .observed(g)
                        .evidence(ev(pv))
                        .repair("the pod's supplemental group comes from the PV: make the brick dirs, DB and PV agree"),
                );
            }
        }
        if let Some(size) = pv.size_gib {
            if size != vol.info.size {
                out.push(
                    Finding::new(Code::PvSizeMismatch, Severity::Warning, Kind::Volume, &vol.info.id, format!("PV {} is {size} GiB, the volume {} GiB", pv.name, vol.info.size))
                        .name(&vol.info.name)
                        .db(vol.info.size)
                        .observed(size)
                        .evidence(ev(pv))
                        .repair("an expansion that reached only one side: compare with the bricks (diff) and fix the other"),
                );
            }
        }
    }
    for v in db.volumes.values() {
        if used_volumes.contains(v.info.id.as_str()) || v.info.block || v.info.name == "heketidbstorage" {
            continue;
        }
        out.push(
            Finding::new(Code::VolumeWithoutPv, Severity::Info, Kind::Volume, &v.info.id, "no PV uses this volume (leaked by a deleted PV with reclaim policy Retain, or used outside Kubernetes)")
                .name(&v.info.name)
                .repair("check who uses it before deleting it"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn capacities() {
        assert_eq!(super::gib("5Gi"), Some(5));
        assert_eq!(super::gib("1Ti"), Some(1024));
        assert_eq!(super::gib("1536Mi"), Some(2));
        assert_eq!(super::gib("10G"), Some(10));
        assert_eq!(super::gib("lots"), None);
    }
}
