//! Black-box tests of `heketi-doctor export` / `inspect`: the real binary on the real fixtures
//! (heketi.db files written by heketi ≥ v10.2, with heketi's own `db export` output beside them).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_heketi-doctor");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/heketi-db").join(name)
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut out).unwrap();
    out
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RUST_LOG").output().expect("run heketi-doctor")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A bad input must exit 2 with exactly one line that names the file, and never panic.
fn assert_clean_failure(o: &Output, file: &Path, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "expected one line, got: {err}");
    assert!(err.contains(&file.display().to_string()), "file not named: {err}");
    assert!(err.to_lowercase().contains(&needle.to_lowercase()), "expected {needle:?} in: {err}");
}

#[test]
fn export_is_byte_identical_to_heketi_for_every_fixture() {
    for name in ["small", "medium", "pending", "pending_clone"] {
        let o = run(&["export", "--db", data(&format!("{name}.db")).to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let want = std::fs::read(data(&format!("{name}.json"))).unwrap();
        assert!(o.stdout == want, "{name}: export differs from heketi's");
    }
}

#[test]
fn export_of_large_gzipped_db_is_byte_identical() {
    // large.db.gz is the 25 MB, 2000-volume fixture; --db takes gzip by content.
    let o = run(&["export", "--db", data("large.db.gz").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout == gunzip(&data("large.json.gz")), "large: export differs from heketi's");
}

#[test]
fn export_json_and_gzipped_json_inputs_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let want = std::fs::read(data("medium.json")).unwrap();
    let o = run(&["export", "--db", data("medium.json").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout == want, "JSON input does not reproduce itself");
    // A JSON export named like a bolt file and gzipped: detection is by content.
    let gz = dir.path().join("heketi.db");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &want).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let o = run(&["export", "--db", gz.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout == want);
}

#[test]
fn export_to_file_is_atomic_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let db = data("small.db");
    let o = run(&["export", "--db", db.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(data("small.json")).unwrap());
    std::fs::write(&out, b"keep me").unwrap();
    let o = run(&["export", "--db", db.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_clean_failure(&o, &out, "already exists");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let o = run(&["export", "--db", db.to_str().unwrap(), "-o", out.to_str().unwrap(), "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(data("small.json")).unwrap());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "temporary file left behind");
}

#[test]
fn export_works_while_another_process_holds_an_exclusive_flock() {
    // heketi holds an exclusive flock on its DB while it runs; `heketi db export` then times out.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("heketi.db");
    std::fs::copy(data("small.db"), &db).unwrap();
    // The lock is taken by a separate process, like a running heketi server.
    let mut holder = Command::new("flock")
        .args(["--exclusive", "--nonblock", db.to_str().unwrap(), "sleep", "30"])
        .spawn()
        .expect("flock(1) from util-linux");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(holder.try_wait().unwrap().is_none(), "lock holder exited early");
    // Prove the lock is really held: a second non-blocking flock must fail.
    let probe = Command::new("flock")
        .args(["--exclusive", "--nonblock", db.to_str().unwrap(), "true"])
        .status()
        .unwrap();
    assert!(!probe.success(), "the exclusive lock is not held");
    let before = std::fs::read(&db).unwrap();
    let o = run(&["export", "--db", db.to_str().unwrap()]);
    holder.kill().ok();
    holder.wait().ok();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, std::fs::read(data("small.json")).unwrap());
    assert_eq!(std::fs::read(&db).unwrap(), before, "input was modified");
}

#[test]
fn bad_inputs_exit_2_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);

    std::fs::write(p("empty.db"), b"").unwrap();
    assert_clean_failure(&run(&["export", "--db", p("empty.db").to_str().unwrap()]), &p("empty.db"), "empty");

    // Random bytes (deterministic xorshift so a failure is reproducible).
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let random: Vec<u8> = (0..65536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(p("random.db"), &random).unwrap();
    assert_clean_failure(
        &run(&["export", "--db", p("random.db").to_str().unwrap()]),
        &p("random.db"),
        "not a heketi database",
    );

    // Truncated bolt file: metas intact, tree pages gone.
    let small = std::fs::read(data("small.db")).unwrap();
    for len in [4096 * 2 + 100, 4096 * 5, small.len() / 2] {
        std::fs::write(p("truncated.db"), &small[..len]).unwrap();
        let o = run(&["export", "--db", p("truncated.db").to_str().unwrap()]);
        assert_clean_failure(&o, &p("truncated.db"), "--salvage");
    }

    // JSON that is not a heketi export (a heketi topology.json).
    std::fs::write(p("topology.json"), br#"{"clusters": [{"nodes": []}]}"#).unwrap();
    assert_clean_failure(
        &run(&["export", "--db", p("topology.json").to_str().unwrap()]),
        &p("topology.json"),
        "not a heketi export JSON",
    );
    std::fs::write(p("broken.json"), b"{\"clusterentries\": {").unwrap();
    assert_clean_failure(
        &run(&["export", "--db", p("broken.json").to_str().unwrap()]),
        &p("broken.json"),
        "not a heketi export JSON",
    );

    assert_clean_failure(&run(&["export", "--db", dir.path().to_str().unwrap()]), dir.path(), "directory");
    assert_clean_failure(
        &run(&["export", "--db", p("missing.db").to_str().unwrap()]),
        &p("missing.db"),
        "no such file",
    );

    // Damaged gzip.
    let mut gz = std::fs::read(data("large.db.gz")).unwrap();
    gz.truncate(gz.len() / 3);
    std::fs::write(p("cut.db.gz"), &gz).unwrap();
    assert_clean_failure(
        &run(&["export", "--db", p("cut.db.gz").to_str().unwrap()]),
        &p("cut.db.gz"),
        "gzip",
    );
}

#[test]
fn unreadable_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secret.db");
    std::fs::copy(data("small.db"), &db).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o000)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // root reads anything; run as `nobody` then (setpriv from util-linux).
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let o = if is_root {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN, "export", "--db"])
            .arg(&db)
            .output()
            .expect("setpriv")
    } else {
        run(&["export", "--db", db.to_str().unwrap()])
    };
    assert_clean_failure(&o, &db, "permission denied");
}

#[test]
fn import_writes_a_db_that_exports_back_identically_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let new_db = dir.path().join("heketi.db.new");
    for name in ["small", "pending_clone"] {
        let _ = std::fs::remove_file(&new_db);
        let json = data(&format!("{name}.json"));
        let o = run(&["import", "--json", json.to_str().unwrap(), "--db-out", new_db.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = run(&["export", "--db", new_db.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(o.stdout == std::fs::read(&json).unwrap(), "{name}: import → export differs");
    }
    let before = std::fs::read(&new_db).unwrap();
    let o = run(&[
        "import",
        "--json",
        data("small.json").to_str().unwrap(),
        "--db-out",
        new_db.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &new_db, "already exists");
    assert_eq!(std::fs::read(&new_db).unwrap(), before);
}

// ---------------------------------------------------------------------------------------------
// export --salvage

/// A copy of `name` with the middle BRICK leaf page zeroed (a lost write), and that page's id.
fn with_zeroed_brick_leaf(name: &str) -> (Vec<u8>, u64) {
    let mut bytes = std::fs::read(data(name)).unwrap();
    let s = heketi_doctor_common::bolt::salvage::salvage(&bytes);
    let leaves: Vec<u64> =
        s.live_pages.iter().filter(|p| p.leaf && p.bucket == Some(&b"BRICK"[..])).map(|p| p.id).collect();
    let page = leaves[leaves.len() / 2];
    bytes[page as usize * 4096..(page as usize + 1) * 4096].fill(0);
    (bytes, page)
}

#[test]
fn salvage_of_a_clean_file_is_the_normal_export_and_exits_0() {
    for name in ["small", "medium", "pending", "pending_clone"] {
        let o = run(&["export", "--salvage", "--db", data(&format!("{name}.db")).to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        assert!(o.stdout == std::fs::read(data(&format!("{name}.json"))).unwrap(), "{name}: export differs");
        assert!(stderr(&o).contains("clean read"), "{name}: {}", stderr(&o));
    }
}

#[test]
fn salvage_of_a_damaged_file_exits_3_with_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, page) = with_zeroed_brick_leaf("medium.db");
    let db = dir.path().join("heketi.db");
    std::fs::write(&db, &bytes).unwrap();

    // Without --salvage: one clear line that names the page and suggests --salvage.
    let o = run(&["export", "--db", db.to_str().unwrap()]);
    assert_clean_failure(&o, &db, "--salvage");
    assert!(stderr(&o).contains(&format!("page {page}: invalid page type: 0: 0")), "{}", stderr(&o));

    // With --salvage: the export of what is left, the text report on stderr, exit 3.
    let out = dir.path().join("out.json");
    let o = run(&["export", "--salvage", "--db", db.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in [
        "salvaged WITH LOSSES",
        &format!("page {page}: invalid page type: 0: 0"),
        "all zeros",
        "entries recovered:",
        "BRICK",
        "dangling references",
        "a rebuild must fill these from the live cluster",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    let export = heketi_doctor_common::heketi::load(&std::fs::read(&out).unwrap()).unwrap();
    let full = heketi_doctor_common::heketi::load(&std::fs::read(data("medium.json")).unwrap()).unwrap();
    let lost = full.db.bricks.len() - export.db.bricks.len();
    assert!(lost > 0 && lost < 10, "lost {lost} bricks");
    assert_eq!(export.db.volumes.len(), full.db.volumes.len());

    // --report-json: the same report as JSON, one summary line on stderr.
    let report = dir.path().join("report.json");
    let o = run(&[
        "export",
        "--salvage",
        "--db",
        db.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--force",
        "--report-json",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["outcome"], "losses");
    assert_eq!(r["totals"]["entries"].as_u64().unwrap() as usize, export.db.len());
    assert!(r["damage"].as_array().unwrap().iter().any(|d| d["page"] == page && d["area"] == "tree"));
    let brick = r["buckets"].as_array().unwrap().iter().find(|b| b["bucket"] == "BRICK").unwrap();
    assert_eq!(brick["state"], "damaged");
    assert!(!r["dangling"].as_array().unwrap().is_empty());
    assert_eq!(r["dangling"][0]["bucket"], "BRICK");
    // The report is written atomically and refuses to overwrite without --force.
    let o = run(&[
        "export",
        "--salvage",
        "--db",
        db.to_str().unwrap(),
        "-o",
        dir.path().join("out2.json").to_str().unwrap(),
        "--report-json",
        report.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &report, "already exists");
}

#[test]
fn salvage_with_both_metas_destroyed() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(data("small.db")).unwrap();
    bytes[..2 * 4096].fill(0);
    let db = dir.path().join("heketi.db");
    std::fs::write(&db, &bytes).unwrap();
    // No meta magic: not recognised as bolt, but the hint still points at --salvage.
    let o = run(&["export", "--db", db.to_str().unwrap()]);
    assert_clean_failure(&o, &db, "--salvage");
    assert!(stderr(&o).contains("meta pages are destroyed"), "{}", stderr(&o));
    let o = run(&["export", "--salvage", "--db", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("reconstructed"), "{}", stderr(&o));
    let export = heketi_doctor_common::heketi::load(&o.stdout).unwrap();
    let full = heketi_doctor_common::heketi::load(&std::fs::read(data("small.json")).unwrap()).unwrap();
    assert_eq!(export.db.len(), full.db.len());
}

#[test]
fn salvage_with_nothing_usable_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("random.db");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let random: Vec<u8> = (0..65536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&db, &random).unwrap();
    let out = dir.path().join("out.json");
    let o = run(&["export", "--salvage", "--db", db.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing usable"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn report_json_needs_salvage_and_a_distinct_file() {
    let db = data("small.db");
    let o = run(&["export", "--db", db.to_str().unwrap(), "--report-json", "/tmp/x.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--salvage"), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("same.json");
    let o = run(&[
        "export",
        "--salvage",
        "--db",
        db.to_str().unwrap(),
        "-o",
        f.to_str().unwrap(),
        "--report-json",
        f.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &f, "both as -o and --report-json");
    assert!(!f.exists());
}
