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

fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn serve_reports_periodically_over_http() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--interval", "1s", "--db"])
        .arg(data("corpus/lab-debian12/truth.json"))
        .arg("--snapshot")
        .arg(data("snapshots/lab-after-live-drift.json"))
        .arg("--out-dir")
        .arg(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line.trim().split("listening on ").nth(1).unwrap().split(',').next().unwrap().to_owned();
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (code, body) = http_get(&addr, "/healthz");
        if code == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never healthy: {code} {body}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (code, body) = http_get(&addr, "/metrics");
    assert_eq!(code, 200);
    let m = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap();
    assert!(m.samples.iter().any(|s| s.metric == "heketi_doctor_drift"));
    let (code, body) = http_get(&addr, "/report");
    assert_eq!(code, 200);
    assert!(body.contains("VOLUME_NOT_IN_DB"), "{body}");
    let (code, body) = http_get(&addr, "/report.json");
    assert_eq!(code, 200);
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["summary"]["errors"].as_u64().unwrap() > 0
    );
    // It keeps running reports: a second one appears.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let n = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".json")
                && e.as_ref().unwrap().file_name().to_string_lossy().starts_with("report-")
        })
        .count();
    assert!(n >= 2, "{n} reports");
    // SIGTERM: graceful exit.
    Command::new("kill").arg(child.id().to_string()).status().unwrap();
    let st = child.wait().unwrap();
    assert!(st.success(), "{st:?}");
}
