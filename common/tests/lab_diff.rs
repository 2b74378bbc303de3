//! diff on the lab captures: the truth DB against the consistent cluster gives no warning or
//! error; every injected divergence (DB-side D1–D9, live M1–M7) is found with the right code.

mod support;

use heketi_doctor_common::diff::{self, Code, Finding, Severity};
use heketi_doctor_common::topology;

fn findings(db: &str, state: &str) -> Vec<Finding> {
    let truth = topology::assemble(&support::snapshot(state));
    diff::diff(&support::db(db), &truth)
}

fn problems(f: &[Finding]) -> Vec<String> {
    f.iter()
        .filter(|x| x.severity > Severity::Info)
        .map(|x| format!("{} {:?} {} {}", x.code.as_str(), x.severity, x.id, x.message))
        .collect()
}

fn has(f: &[Finding], code: Code, id: &str) -> bool {
    f.iter().any(|x| x.code == code && x.id == id)
}

#[test]
fn consistent_pair_gives_no_warning_or_error() {
    let f = findings("truth.json", "");
    assert!(problems(&f).is_empty(), "false findings:\n{}", problems(&f).join("\n"));
    // The three block volumes cannot be verified without gluster-block: info.
    assert_eq!(f.iter().filter(|x| x.code == Code::BlockVolumeUnverified).count(), 3);
}

#[test]
fn ground_truth_of_the_lab() {
    let t = topology::assemble(&support::snapshot(""));
    assert_eq!(t.nodes.len(), 3);
    assert_eq!(t.devices.len(), 6);
    assert_eq!(t.volumes.len(), 11);
    assert_eq!(t.bricks.len(), 42);
    assert!(t.nodes.iter().all(|n| n.gluster_uuid.is_some() && n.brick_hosts.len() == 1));
}

#[test]
fn every_db_side_divergence_is_found() {
    let f = findings("drifted-db.json", "");
    let p = problems(&f);
    let expect = [
        (Code::VolumeNotInDb, "36b06a8920d1a0325d9630227b9a2e71"), // D1
        (Code::BrickNotInDb, "14413462f57462008edc69c49c7ed5d1"),  // D2
        (Code::DanglingReference, "1d13a801cbb494c7ced2de5399d61bee"), // D2: volume → lost brick
        (Code::DeviceFreeMismatch, "1c43af35ad22a5cd269aed1df5fd749b"), // D3
        (Code::VolumeNotInGluster, "35bf992dc9e9c616612e7696a6cecc1b"), // D4
        (Code::PendingOperation, "06839eb905b6e6e307d4bedc51431193"), // D5
        (Code::BrickEmptyPath, "89d34a422093ad5e55913a7f1e1206c1"), // D6
        (Code::GidMismatch, "8b6aef5836964a51377a9ffc3cb48884"),   // D7
        (Code::MissingBackReference, "c63d6f69947feaa35ff4cb507a2c3b72"), // D8
        (Code::VolumeSizeMismatch, "ed7f0768d78a3f902775dda2da4ff5c5"), // D9
    ];
    let missing: Vec<_> = expect.iter().filter(|(c, id)| !has(&f, *c, id)).collect();
    assert!(missing.is_empty(), "not found: {missing:?}\nall findings:\n{}", p.join("\n"));
}

#[test]
fn every_live_divergence_is_found() {
    let f = findings("truth.json", "after-live-drift");
    let p = problems(&f);
    let expect = [
        (Code::VolumeNotInDb, "1027c4d1c386bbc4cd613e30d8f16adf"), // M1
        (Code::ForeignVolume, "manual_tmp_372"),                   // M2 (info)
        (Code::BrickLvMissing, "0901e271030cd30750dbb424e19baf78"), // M3
        (Code::VolumeNotInGluster, "1d13a801cbb494c7ced2de5399d61bee"), // M4
        (Code::BrickNotMounted, "42599146017782d63fd1f7211f32cb4e"), // M5
        (Code::BrickFstabMissing, "9b823d644c02235277d29f72a57ef0e3"), // M6
        (Code::GidMismatch, "ed7f0768d78a3f902775dda2da4ff5c5"),   // M7: brick d099e3… of this volume
    ];
    let missing: Vec<_> = expect.iter().filter(|(c, id)| !has(&f, *c, id)).collect();
    assert!(missing.is_empty(), "not found: {missing:?}\nall findings:\n{}", p.join("\n"));
}

#[test]
fn check_is_quiet_on_consistent_dbs_and_on_fixtures_reports_only_pending_work() {
    let truth = support::db("truth.json");
    let f = diff::check_db(&truth);
    assert!(problems(&f).is_empty(), "{}", problems(&f).join("\n"));
    for name in ["small.json", "medium.json", "pending.json", "pending_clone.json"] {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/heketi-db").join(name);
        let db = heketi_doctor_common::heketi::load(&std::fs::read(p).unwrap()).unwrap().db;
        let f = diff::check_db(&db);
        let unexpected: Vec<_> =
            f.iter().filter(|x| x.severity > Severity::Info && x.code != Code::PendingOperation).collect();
        assert!(unexpected.is_empty(), "{name}: {unexpected:#?}");
        assert_eq!(
            f.iter().filter(|x| x.code == Code::PendingOperation).count(),
            db.pending_ops.len(),
            "{name}"
        );
    }
}

#[test]
fn check_finds_every_injected_inconsistency() {
    use heketi_doctor_common::heketi::DbAttribute;
    let base = support::db("truth.json");
    let vol = base.volumes.values().find(|v| !v.info.block && v.bricks.len() == 3).unwrap().info.id.clone();
    let brick = base.volumes[&vol].bricks[0].clone();
    let dev = base.bricks[&brick].info.device_id.clone();
    let node = base.devices[&dev].node_id.clone();
    let other_node = base.nodes.keys().find(|n| **n != node).unwrap().clone();
    let bhv = base.volumes.values().find(|v| v.info.block).unwrap().info.id.clone();
    type Inject<'a> = Box<dyn Fn(&mut heketi_doctor_common::heketi::Db) + 'a>;
    let cases: Vec<(&str, Code, Inject)> = vec![
        (
            "brick missing from its device's list",
            Code::MissingBackReference,
            Box::new(|db| db.devices.get_mut(&dev).unwrap().bricks.retain(|b| *b != brick)),
        ),
        ("volume lists a lost brick", Code::DanglingReference, Box::new(|db| drop(db.bricks.remove(&brick)))),
        (
            "unsorted brick list",
            Code::UnsortedList,
            Box::new(|db| db.volumes.get_mut(&vol).unwrap().bricks.reverse()),
        ),
        (
            "duplicate in list",
            Code::DuplicateInList,
            Box::new(|db| {
                let v = db.volumes.get_mut(&vol).unwrap();
                let b = v.bricks[0].clone();
                v.bricks.insert(0, b);
            }),
        ),
        (
            "device used wrong",
            Code::DeviceAccountingMismatch,
            Box::new(|db| {
                let d = db.devices.get_mut(&dev).unwrap();
                d.info.storage.used += 4096;
                d.info.storage.free -= 4096;
            }),
        ),
        (
            "total != free + used",
            Code::DeviceAccountingMismatch,
            Box::new(|db| db.devices.get_mut(&dev).unwrap().info.storage.free += 1),
        ),
        (
            "unknown attribute",
            Code::UnknownAttribute,
            Box::new(|db| {
                drop(
                    db.attributes.insert(
                        "DB_FUTURE".into(),
                        DbAttribute { key: "DB_FUTURE".into(), value: "yes".into() },
                    ),
                )
            }),
        ),
        (
            "volume in unknown cluster",
            Code::DanglingReference,
            Box::new(|db| db.volumes.get_mut(&vol).unwrap().info.cluster = "0".repeat(32)),
        ),
        (
            "duplicate hostname",
            Code::DuplicateHostname,
            Box::new(|db| {
                let h = db.nodes[&node].info.hostnames.storage.clone();
                db.nodes.get_mut(&other_node).unwrap().info.hostnames.storage = h;
            }),
        ),
        (
            "empty brick path",
            Code::BrickEmptyPath,
            Box::new(|db| db.bricks.get_mut(&brick).unwrap().info.path.clear()),
        ),
        (
            "pending marker without op",
            Code::PendingMarkerWithoutOp,
            Box::new(|db| db.volumes.get_mut(&vol).unwrap().pending.id = "f".repeat(32)),
        ),
        (
            "block hosting sizes",
            Code::BlockHostingSizeMismatch,
            Box::new(|db| db.volumes.get_mut(&bhv).unwrap().info.block_info.free_size += 1),
        ),
        (
            "mount hosts",
            Code::MountHostsMismatch,
            Box::new(|db| {
                drop(db.volumes.get_mut(&vol).unwrap().info.mount.glusterfs.hosts.as_mut().unwrap().pop())
            }),
        ),
    ];
    for (what, code, inject) in cases {
        let mut db = base.clone();
        inject(&mut db);
        let f = diff::check_db(&db);
        assert!(
            f.iter().any(|x| x.code == code && x.severity > Severity::Info),
            "{what}: {code:?} not found in {:#?}",
            problems(&f)
        );
    }
}

/// Writes `tests/data/snapshots/lab-*.json` (ClusterSnapshot files for the CLI tests and the
/// README example) from the lab captures: `cargo test -p heketi-doctor-common --test lab_diff
/// -- --ignored regenerate`.
#[test]
#[ignore]
fn regenerate_snapshots() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/snapshots");
    std::fs::create_dir_all(&dir).unwrap();
    for (state, file) in [("", "lab-consistent.json"), ("after-live-drift", "lab-after-live-drift.json")] {
        let snap = support::snapshot(state);
        std::fs::write(dir.join(file), serde_json::to_string_pretty(&snap).unwrap() + "\n").unwrap();
    }
}

#[test]
fn committed_snapshots_match_the_captures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/snapshots");
    for (state, file) in [("", "lab-consistent.json"), ("after-live-drift", "lab-after-live-drift.json")] {
        let committed: heketi_doctor_common::topology::ClusterSnapshot =
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        assert_eq!(committed, support::snapshot(state), "{file} is stale: run the regenerate test");
    }
}

#[test]
fn an_unreachable_node_is_unknown_not_missing() {
    let mut snap = support::snapshot("after-live-drift");
    let gone = snap.reports.remove(2); // node3: M5/M6 happened there
    snap.unreachable.push(heketi_doctor_common::topology::UnreachableAgent {
        agent: format!("{}:7443", gone.identity.hostname),
        error: "connection refused".into(),
    });
    let f = diff::diff(&support::db("truth.json"), &topology::assemble(&snap));
    let node3 = "405cf5d4fed259c33215ff4f2eebdd04";
    assert!(has(&f, Code::NodeUnreachable, node3), "{:#?}", problems(&f));
    // Nothing on node3 is reported missing or unmounted; the other nodes' drift still shows.
    let node3_bricks: Vec<String> = support::db("truth.json")
        .bricks
        .values()
        .filter(|b| b.info.node_id == node3)
        .map(|b| b.info.id.clone())
        .collect();
    for x in &f {
        if matches!(
            x.code,
            Code::BrickLvMissing | Code::BrickNotMounted | Code::BrickFstabMissing | Code::DeviceVgMissing
        ) {
            assert!(!node3_bricks.contains(&x.id), "{:?} on the unseen node: {}", x.code, x.message);
        }
    }
    assert!(has(&f, Code::BrickLvMissing, "0901e271030cd30750dbb424e19baf78"), "M3 on node2 still found");
}
