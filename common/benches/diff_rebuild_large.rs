//! Rerunnable benchmark: diff and rebuild of the large fixture (2000 volumes, 6000 bricks)
//! against a matching cluster snapshot (synthesized from the DB: what a consistent cluster
//! reports). Run with `cargo bench -p heketi-doctor-common --bench diff_rebuild_large`.

use std::io::Read;
use std::time::{Duration, Instant};

use heketi_doctor_common::{diff, heketi, rebuild, topology};

struct Counter(u64);
impl rebuild::IdSource for Counter {
    fn next_id(&mut self) -> String {
        self.0 += 1;
        format!("{:032x}", self.0)
    }
}

fn stats(name: &str, v: &mut [Duration]) {
    v.sort();
    println!(
        "  {name:<28} min {:>9.2?}  median {:>9.2?}  max {:>9.2?}",
        v[0],
        v[v.len() / 2],
        v[v.len() - 1]
    );
}

fn main() {
    let iterations: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/heketi-db/large.db.gz");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("large.db.gz"))
        .read_to_end(&mut bytes)
        .unwrap();
    let db = heketi::load(&bytes).unwrap().db;
    let snapshot = topology::snapshot_from_db(&db, 0);
    let snapshot_json = serde_json::to_vec(&snapshot).unwrap();
    println!(
        "large: {} nodes, {} devices, {} volumes, {} bricks; snapshot JSON {} MB",
        db.nodes.len(),
        db.devices.len(),
        db.volumes.len(),
        db.bricks.len(),
        snapshot_json.len() >> 20
    );
    let (mut parse, mut assemble, mut diffs, mut rebuilds, mut checks) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut findings = 0;
    let mut changes = 0;
    for _ in 0..iterations {
        let t = Instant::now();
        let snap: topology::ClusterSnapshot = serde_json::from_slice(&snapshot_json).unwrap();
        parse.push(t.elapsed());
        let t = Instant::now();
        let truth = topology::assemble(&snap);
        assemble.push(t.elapsed());
        let t = Instant::now();
        findings = diff::diff(&db, &truth).len();
        diffs.push(t.elapsed());
        let t = Instant::now();
        let (_, plan) = rebuild::rebuild(&db, &truth, &rebuild::Policy::default(), &mut Counter(0)).unwrap();
        rebuilds.push(t.elapsed());
        changes = plan.changes.len();
        let t = Instant::now();
        let _ = diff::check_db(&db);
        checks.push(t.elapsed());
    }
    println!("{iterations} iterations; diff: {findings} findings; rebuild: {changes} changes");
    stats("snapshot JSON parse", &mut parse);
    stats("assemble ground truth", &mut assemble);
    stats("diff (check + vs truth)", &mut diffs);
    stats("rebuild (incl. check, plan)", &mut rebuilds);
    stats("check alone", &mut checks);
}
