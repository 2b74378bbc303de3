//! `heketi-doctor report`: files written, metrics that a Prometheus parser accepts, and what
//! changed since the previous report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_heketi-doctor");

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data").join(rel)
}

fn report(dir: &Path, snapshot: &str, keep: &str) -> Output {
    Command::new(BIN)
        .args(["report", "--db"])
        .arg(data("corpus/lab-debian12/truth.json"))
        .arg("--snapshot")
        .arg(data(snapshot))
        .arg("--out-dir")
        .arg(dir)
        .args(["--keep", keep])
        .output()
        .unwrap()
}

fn latest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("latest.json")).unwrap()).unwrap()
}

fn metrics(dir: &Path) -> prometheus_parse::Scrape {
    let text = std::fs::read_to_string(dir.join("heketi_doctor.prom")).unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text format")
}

fn gauge(s: &prometheus_parse::Scrape, name: &str) -> f64 {
    match s.samples.iter().find(|x| x.metric == name).map(|x| &x.value) {
        Some(prometheus_parse::Value::Gauge(v)) | Some(prometheus_parse::Value::Untyped(v)) => *v,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn reports_metrics_and_changes_since_the_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let o = report(d, "snapshots/lab-consistent.json", "2");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let m = metrics(d);
    assert_eq!(gauge(&m, "heketi_doctor_drift"), 0.0);
    assert_eq!(gauge(&m, "heketi_doctor_nodes_seen"), 3.0);
    assert_eq!(gauge(&m, "heketi_doctor_nodes_unseen"), 0.0);
    assert!(gauge(&m, "heketi_doctor_last_success_timestamp_seconds") > 1.7e9);
    assert!(std::fs::read_to_string(d.join("latest.md")).unwrap().contains("first report"));

    // Live drift: new findings, exit 1, per-code metrics.
    let o = report(d, "snapshots/lab-after-live-drift.json", "2");
    assert_eq!(o.status.code(), Some(1));
    let j = latest(d);
    let new: Vec<&str> =
        j["changes"]["new"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert!(new.contains(&"VOLUME_NOT_IN_DB") && new.contains(&"BRICK_LV_MISSING"), "{new:?}");
    // Only informational findings can disappear here (e.g. "not started" of the deleted volume).
    for r in j["changes"]["resolved"].as_array().unwrap() {
        assert!(
            ["VOLUME_NOT_STARTED", "BLOCK_VOLUME_UNVERIFIED"].contains(&r["code"].as_str().unwrap()),
            "{r}"
        );
    }
    assert!(std::fs::read_to_string(d.join("latest.md")).unwrap().contains("**new** `VOLUME_NOT_IN_DB`"));
    let m = metrics(d);
    assert_eq!(gauge(&m, "heketi_doctor_drift"), 1.0);
    let errors_by_code: f64 = m
        .samples
        .iter()
        .filter(|s| s.metric == "heketi_doctor_findings" && s.labels.get("severity") == Some("error"))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(errors_by_code, j["summary"]["errors"].as_f64().unwrap());

    // Back to consistent: the drift is resolved; only --keep 2 reports remain.
    let o = report(d, "snapshots/lab-consistent.json", "2");
    assert_eq!(o.status.code(), Some(0));
    let j = latest(d);
    let info_only = ["VOLUME_NOT_STARTED", "BLOCK_VOLUME_UNVERIFIED"];
    for n in j["changes"]["new"].as_array().unwrap() {
        assert!(info_only.contains(&n["code"].as_str().unwrap()), "{n}");
    }
    let resolved: Vec<&str> =
        j["changes"]["resolved"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    for code in new.iter().filter(|c| !info_only.contains(c)) {
        assert!(resolved.contains(code), "{code} not resolved: {resolved:?}");
    }
    let reports = std::fs::read_dir(d)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("report-"))
        .count();
    assert_eq!(reports, 4, "2 reports × (json + md)");
}
