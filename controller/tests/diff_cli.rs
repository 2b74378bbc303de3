//! `heketi-doctor check` and `diff` as an operator runs them: exit codes, formats, and the
//! findings on the lab captures (real gluster/LVM outputs of a 3-node heketi cluster).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_heketi-doctor");

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data").join(rel)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RUST_LOG").output().expect("run heketi-doctor")
}

fn diff(db: &str, snapshot: &str, format: &str) -> Output {
    run(&[
        "diff",
        "--db",
        data(db).to_str().unwrap(),
        "--snapshot",
        data(snapshot).to_str().unwrap(),
        "--output",
        format,
    ])
}

#[test]
fn consistent_cluster_exits_0_with_no_warning_or_error() {
    let o = diff("corpus/lab-debian12/truth.json", "snapshots/lab-consistent.json", "text");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("0 errors, 0 warnings"), "{out}");
    assert!(out.contains("nodes seen: node1, node2, node3"), "{out}");
}

#[test]
fn drift_exits_1_and_json_findings_have_the_documented_fields() {
    let o = diff("corpus/lab-debian12/truth.json", "snapshots/lab-after-live-drift.json", "json");
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        for key in ["code", "severity", "kind", "id", "message"] {
            assert!(f.get(key).is_some_and(|x| x.is_string()), "{key} missing in {f}");
        }
        assert!(["info", "warning", "error"].contains(&f["severity"].as_str().unwrap()));
        assert!(["cluster", "node", "device", "brick", "volume", "blockvolume", "pendingop"]
            .contains(&f["kind"].as_str().unwrap()));
    }
    let codes: Vec<&str> = findings.iter().map(|f| f["code"].as_str().unwrap()).collect();
    for code in [
        "VOLUME_NOT_IN_DB",
        "BRICK_LV_MISSING",
        "VOLUME_NOT_IN_GLUSTER",
        "BRICK_NOT_MOUNTED",
        "BRICK_FSTAB_MISSING",
        "GID_MISMATCH",
        "FOREIGN_VOLUME",
    ] {
        assert!(codes.contains(&code), "{code} not in {codes:?}");
    }
    assert_eq!(
        v["summary"]["errors"].as_u64().unwrap() as usize,
        findings.iter().filter(|f| f["severity"] == "error").count()
    );
}

#[test]
fn markdown_report_has_a_table() {
    let o = diff("corpus/lab-debian12/drifted-db.json", "snapshots/lab-consistent.json", "markdown");
    assert_eq!(o.status.code(), Some(1));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.starts_with("# heketi-doctor diff"), "{md}");
    assert!(md.contains("| severity | code |") && md.contains("`VOLUME_SIZE_MISMATCH`"), "{md}");
}

#[test]
fn check_on_fixtures() {
    let o = run(&["check", "--db", data("heketi-db/small.db").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    // pending.db holds 38 pending operations: warnings, so exit 1, and nothing else above info.
    let o = run(&["check", "--db", data("heketi-db/pending.db").to_str().unwrap(), "--output", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let above_info: Vec<&serde_json::Value> =
        v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] != "info").collect();
    assert_eq!(above_info.len(), 38);
    assert!(above_info.iter().all(|f| f["code"] == "PENDING_OPERATION"));
}

#[test]
fn bad_snapshot_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("snap.json");
    std::fs::write(&bad, b"{\"nope\": 1}").unwrap();
    let o = run(&[
        "diff",
        "--db",
        data("heketi-db/small.db").to_str().unwrap(),
        "--snapshot",
        bad.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("snap.json") && err.contains("not a heketi-doctor snapshot"), "{err}");
}

#[test]
fn rebuild_writes_a_db_that_diffs_clean_and_imports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("repaired.json");
    let plan = dir.path().join("plan.json");
    let o = run(&[
        "rebuild",
        "--db",
        data("corpus/lab-debian12/drifted-db.json").to_str().unwrap(),
        "--snapshot",
        data("snapshots/lab-consistent.json").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--plan",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("was made by heketi but had no DB entry: adopted"), "{text}");
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert!(p["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["reason"].as_str().is_some_and(|r| !r.is_empty())));
    // The result agrees with the cluster…
    let o = diff(out.to_str().unwrap(), "snapshots/lab-consistent.json", "text");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    // …and becomes a heketi.db that reads back identically.
    let new_db = dir.path().join("heketi.db");
    let o = run(&["import", "--json", out.to_str().unwrap(), "--db-out", new_db.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["export", "--db", new_db.to_str().unwrap()]);
    assert_eq!(o.stdout, std::fs::read(&out).unwrap());
}

#[test]
fn rebuild_dry_run_writes_nothing_and_from_scratch_needs_no_db() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "rebuild",
        "--from-scratch",
        "--snapshot",
        data("snapshots/lab-consistent.json").to_str().unwrap(),
        "--dry-run",
        "--output-format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // A cluster and three nodes get new ids: they exist nowhere on disk.
    assert_eq!(plan["generated_ids"].as_array().unwrap().len(), 4);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "dry run wrote a file");
}

#[test]
fn kubernetes_pvs_are_a_third_source() {
    let args = |pvs: &str| {
        run(&[
            "diff",
            "--db",
            data("corpus/lab-debian12/truth.json").to_str().unwrap(),
            "--snapshot",
            data("snapshots/lab-consistent.json").to_str().unwrap(),
            "--pvs",
            data(pvs).to_str().unwrap(),
            "--output",
            "json",
        ])
    };
    let o = args("k8s/pvs-lab-consistent.json");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    let o = args("k8s/pvs-lab-drift.json");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    let has = |code: &str, id: &str| f.iter().any(|x| x["code"] == code && x["id"] == id);
    assert!(has("PV_GID_MISMATCH", "4366226a847206c560e03bc1a5b60401"));
    assert!(has("PV_SIZE_MISMATCH", "3b2951af8e4cd2e1f6ef218fee048fc0"));
    assert!(has("PV_VOLUME_MISSING", "deadbeefdeadbeefdeadbeefdeadbeef"));
    assert!(has("VOLUME_WITHOUT_PV", "c7aec41cfe3b3a80343ce95d9cbce899"));
}

#[test]
fn rebuild_of_a_damaged_db_with_salvage_and_capture_dirs_gives_the_truth() {
    // The README's main job: a heketi.db with a BRICK leaf page overwritten by a freelist page
    // (`invalid page type: 18: 10`) and drifted from the cluster, plus the nodes' captures.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("repaired.json");
    let damaged = data("heketi-db/lab-drifted-damaged.db");
    let o = run(&["export", "--db", damaged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid page type: 18: 10"));
    let mut args =
        vec!["rebuild", "--db", damaged.to_str().unwrap(), "--salvage", "-o", out.to_str().unwrap()];
    let nodes: Vec<String> =
        (1..=3).map(|i| data(&format!("corpus/lab-debian12/node{i}")).to_str().unwrap().to_owned()).collect();
    for n in &nodes {
        args.extend(["--from-dir", n.as_str()]);
    }
    let o = run(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("salvaged WITH LOSSES") && err.contains("adopted"), "{err}");
    let rebuilt: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data("corpus/lab-debian12/truth.json")).unwrap()).unwrap();
    // Everything but what no disk records (the generation id of the import, and the snapshot flag
    // of one volume created with snapshots enabled at factor 1) equals the truth.
    for key in [
        "clusterentries",
        "nodeentries",
        "deviceentries",
        "brickentries",
        "blockvolumeentries",
        "pendingoperations",
    ] {
        assert_eq!(rebuilt[key], truth[key], "{key}");
    }
    let mut rv = rebuilt["volumeentries"].clone();
    rv["36b06a8920d1a0325d9630227b9a2e71"]["Info"]["snapshot"]["enable"] = serde_json::Value::Bool(true);
    assert_eq!(rv, truth["volumeentries"]);
}
