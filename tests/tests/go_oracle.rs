//! Independent oracle: the real bolt 1.3.1 and Go's `encoding/gob` (the libraries heketi itself
//! uses) must accept the heketi.db files our writer produces.
//!
//! `tests/go/heketi-oracle` is a small Go program with heketi v10's entry types (a package named
//! `glusterfs`, so gob's registered durability names match heketi's). It is built once per test
//! run, offline, in GOPATH mode against Debian's `golang-github-boltdb-bolt-dev` (bolt 1.3.1 under
//! `/usr/share/gocode`). For every fixture:
//!
//! 1. the oracle's export of the real heketi-written `.db` equals heketi's own `db export` JSON
//!    byte for byte (this validates the oracle);
//! 2. our `import` (`heketi::load` + `heketi::to_bolt`) of that JSON, at page sizes 4096 and
//!    65536, with and without registry keys: bolt's `Tx.Check` finds nothing (plus key order and
//!    lookups through every branch page), the oracle's export equals the fixture JSON, every entry
//!    decodes to exactly what the real file's entry decodes to (`reflect.DeepEqual`, which also
//!    covers `VolumeEntry.Durability` and the Go type of a pending action's `Delta`, neither of
//!    which is in the JSON; an empty map counts as absent since the JSON cannot carry it), and the
//!    registry keys are the real file's or none; the same for an import from the real `.db`;
//! 3. bolt can keep writing to our file: thousands of puts and deletes, a bucket created and
//!    deleted, every heketi bucket emptied and refilled, `Tx.Check` clean after each transaction,
//!    and the export unchanged afterwards.
//!
//! Without Go or the bolt sources the tests are skipped with one printed line, unless `CI` is
//! set, in which case they fail (`.ci/run` installs both).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use heketi_doctor_common::heketi::{self, BoltWriteOptions};

/// Where Debian's golang-github-boltdb-bolt-dev puts bolt; override with HEKETI_ORACLE_GOPATH.
const DEFAULT_BOLT_GOPATH: &str = "/usr/share/gocode";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/heketi-db").join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    let gz = data(&format!("{name}.gz"));
    if gz.exists() {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap()).read_to_end(&mut out).unwrap();
        out
    } else {
        std::fs::read(data(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

/// The oracle binary, built once per test run. Without Go or bolt: `None` after one line on
/// stderr (written past the test harness's capture so it is seen), or a failure when `CI` is set.
fn oracle_or_skip() -> Option<&'static Path> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let built = try_build_oracle();
        if let Err(why) = &built {
            if std::env::var_os("CI").is_none() {
                let line = format!("go_oracle: skipping the Go/bolt oracle tests: {why}\n");
                let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            }
        }
        built
    });
    match built {
        Ok(bin) => Some(bin),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("CI is set, so the Go/bolt oracle is required, but {why}")
        }
        Err(_) => None,
    }
}

fn try_build_oracle() -> Result<PathBuf, String> {
    let bolt_gopath = std::env::var("HEKETI_ORACLE_GOPATH").unwrap_or_else(|_| DEFAULT_BOLT_GOPATH.into());
    let bolt_src = Path::new(&bolt_gopath).join("src/github.com/boltdb/bolt/db.go");
    let version = Command::new("go").arg("version").env("GOTOOLCHAIN", "local").output();
    match version {
        Ok(o) if o.status.success() => {}
        _ => return Err("`go` not found (apt-get install golang-go golang-github-boltdb-bolt-dev)".into()),
    }
    if !bolt_src.exists() {
        return Err(format!(
            "bolt sources not found at {} (apt-get install golang-github-boltdb-bolt-dev)",
            bolt_src.display()
        ));
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("go/heketi-oracle");
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-oracle");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let bin = work.join("heketi-oracle");
    // GOPATH mode, offline: no modules, no proxy, no user go env; the build cache lives in
    // target/ so later runs only relink.
    let out = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg("heketioracle")
        .env("GOPATH", format!("{}:{}", src.display(), bolt_gopath))
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .env("GOENV", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .env("GOCACHE", work.join("gocache"))
        .output()
        .map_err(|e| format!("go build: {e}"))?;
    if !out.status.success() {
        // A broken oracle is a test failure even outside CI: Go and bolt are present.
        panic!("go build of the heketi oracle failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(bin)
}

fn oracle_cmd(bin: &Path, cmd: &str, files: &[&Path]) -> Output {
    Command::new(bin).arg(cmd).args(files).output().expect("run heketi-oracle")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `heketi-oracle check`: bolt's Tx.Check plus cursor order and Get lookups; exit 0, no errors.
fn assert_check_clean(bin: &Path, db: &Path) {
    let o = oracle_cmd(bin, "check", &[db]);
    assert!(o.status.success(), "bolt check of {} failed:\n{}", db.display(), text(&o));
}

/// `heketi-oracle export` must reproduce heketi's export JSON byte for byte.
fn assert_export_eq(bin: &Path, db: &Path, json: &[u8], what: &str) {
    let o = oracle_cmd(bin, "export", &[db]);
    assert!(o.status.success(), "{what}: oracle export of {} failed:\n{}", db.display(), text(&o));
    if o.stdout != json {
        let at =
            o.stdout.iter().zip(json).position(|(a, b)| a != b).unwrap_or(o.stdout.len().min(json.len()));
        let from = at.saturating_sub(200);
        panic!(
            "{what}: oracle export of {} differs from the fixture JSON at byte {at} (lengths {} vs {}):\n--- oracle:\n{}\n--- fixture:\n{}",
            db.display(),
            o.stdout.len(),
            json.len(),
            String::from_utf8_lossy(&o.stdout[from..(at + 200).min(o.stdout.len())]),
            String::from_utf8_lossy(&json[from..(at + 200).min(json.len())]),
        );
    }
}

fn registry(bin: &Path, db: &Path) -> String {
    let o = oracle_cmd(bin, "registry", &[db]);
    assert!(o.status.success(), "registry {}: {}", db.display(), text(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn write_file(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).unwrap();
    std::io::Write::write_all(&mut f, bytes).unwrap();
}

fn oracle_fixture(name: &str) {
    let Some(bin) = oracle_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let json = fixture_bytes(&format!("{name}.json"));

    // 1. The oracle against heketi's own file and export (a copy: bolt never touches fixtures).
    let real = dir.path().join("real.db");
    let real_bytes = fixture_bytes(&format!("{name}.db"));
    write_file(&real, &real_bytes);
    assert_check_clean(bin, &real);
    assert_export_eq(bin, &real, &json, &format!("{name}: real heketi.db (oracle validation)"));
    let real_registry = registry(bin, &real);
    assert!(!real_registry.is_empty(), "{name}: the real file has registry keys");

    // 2. Our import of heketi's JSON, in all four shapes.
    let loaded = heketi::load(&json).unwrap();
    for page_size in [4096, 65536] {
        for registry_keys in [true, false] {
            let what = format!("{name}: ours, page size {page_size}, registry keys {registry_keys}");
            let bytes = heketi::to_bolt(&loaded.db, &BoltWriteOptions { page_size, registry_keys })
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let ours = dir.path().join(format!("ours-{page_size}-{registry_keys}.db"));
            write_file(&ours, &bytes);

            let o = oracle_cmd(bin, "check", &[&ours]);
            assert!(o.status.success(), "{what}: bolt check failed:\n{}", text(&o));
            assert!(text(&o).contains(&format!("page size {page_size},")), "{what}: {}", text(&o));
            assert_export_eq(bin, &ours, &json, &what);
            let o = oracle_cmd(bin, "compare", &[&real, &ours]);
            assert!(o.status.success(), "{what}: entries decode differently from heketi's:\n{}", text(&o));
            let expected_registry = if registry_keys { real_registry.as_str() } else { "" };
            assert_eq!(registry(bin, &ours), expected_registry, "{what}: registry keys");

            // 3. bolt writes to our file (a copy) and still finds it consistent.
            if registry_keys == (page_size == 4096) {
                let copy = dir.path().join(format!("mutated-{page_size}-{registry_keys}.db"));
                std::fs::copy(&ours, &copy).unwrap();
                let o = oracle_cmd(bin, "mutate", &[&copy]);
                assert!(o.status.success(), "{what}: bolt writes to our file:\n{}", text(&o));
                assert_check_clean(bin, &copy);
                assert_export_eq(bin, &copy, &json, &format!("{what}, after bolt's writes"));
                assert_eq!(
                    registry(bin, &copy),
                    expected_registry,
                    "{what}: registry keys after bolt's writes"
                );
            }
            assert_eq!(std::fs::read(&ours).unwrap(), bytes, "{what}: read-only checks left the file alone");
        }
    }

    // `import` also takes a heketi.db as its source.
    let what = format!("{name}: ours, imported from the real heketi.db");
    let from_db = heketi::load(&real_bytes).unwrap();
    let ours = dir.path().join("ours-from-db.db");
    write_file(&ours, &heketi::to_bolt(&from_db.db, &BoltWriteOptions::default()).unwrap());
    assert_check_clean(bin, &ours);
    assert_export_eq(bin, &ours, &json, &what);
    let o = oracle_cmd(bin, "compare", &[&real, &ours]);
    assert!(o.status.success(), "{what}: entries decode differently from heketi's:\n{}", text(&o));
    assert_eq!(registry(bin, &ours), real_registry, "{what}: registry keys");
}

#[test]
fn oracle_small() {
    oracle_fixture("small");
}

#[test]
fn oracle_medium() {
    oracle_fixture("medium");
}

#[test]
fn oracle_pending() {
    oracle_fixture("pending");
}

#[test]
fn oracle_pending_clone() {
    oracle_fixture("pending_clone");
}

#[test]
fn oracle_large() {
    oracle_fixture("large");
}

/// The oracle is not a rubber stamp: it sees unsorted keys, a wrong page type and an entry that
/// decodes differently.
#[test]
fn oracle_detects_damage() {
    let Some(bin) = oracle_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let json = fixture_bytes("small.json");
    let loaded = heketi::load(&json).unwrap();
    let good = heketi::to_bolt(&loaded.db, &BoltWriteOptions::default()).unwrap();
    let ps = 4096;
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as usize;
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    // The first leaf page whose first two elements are plain (not bucket) 32-byte keys.
    let leaf = (3..good.len() / ps)
        .find(|&p| {
            let h = p * ps;
            let e = h + 16;
            u16_at(&good, h + 8) == 0x02
                && u16_at(&good, h + 10) >= 2
                && u32_at(&good, e) == 0
                && u32_at(&good, e + 16) == 0
                && u32_at(&good, e + 8) == 32
                && u32_at(&good, e + 24) == 32
        })
        .expect("a leaf page of 32-byte keys");

    let mut swapped = good.clone();
    let e = leaf * ps + 16;
    let (k1, k2) = (e + u32_at(&good, e + 4), e + 16 + u32_at(&good, e + 20));
    swapped[k1..k1 + 32].copy_from_slice(&good[k2..k2 + 32]);
    swapped[k2..k2 + 32].copy_from_slice(&good[k1..k1 + 32]);
    let path = dir.path().join("swapped.db");
    write_file(&path, &swapped);
    let o = oracle_cmd(bin, "check", &[&path]);
    assert!(!o.status.success() && text(&o).contains("not ascending"), "{}", text(&o));

    let mut retyped = good.clone();
    retyped[leaf * ps + 8] = 0x10; // leaf → freelist
    let path = dir.path().join("retyped.db");
    write_file(&path, &retyped);
    let o = oracle_cmd(bin, "check", &[&path]);
    assert!(!o.status.success(), "a leaf page typed freelist passed bolt's check:\n{}", text(&o));

    let good_path = dir.path().join("good.db");
    write_file(&good_path, &good);
    let mut db = loaded.db.clone();
    let node = db.nodes.values_mut().next().unwrap();
    node.info.zone += 1;
    let path = dir.path().join("changed.db");
    write_file(&path, &heketi::to_bolt(&db, &BoltWriteOptions::default()).unwrap());
    let o = oracle_cmd(bin, "compare", &[&good_path, &path]);
    assert!(!o.status.success() && text(&o).contains("differs: NODE"), "{}", text(&o));
}
