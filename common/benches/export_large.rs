//! Rerunnable benchmark: `heketi db export` of the large fixture (2000 volumes, 6000 bricks,
//! 25 MB bolt file), in process. Run with `cargo bench -p heketi-doctor-common --bench
//! export_large`. Prints min / median / max per phase over the iterations and the process's peak
//! RSS. Whole-process numbers: `/usr/bin/time -v target/release/heketi-doctor export --db
//! large.db > /dev/null` (see README).

use std::io::Read;
use std::time::Instant;

use heketi_doctor_common::bolt::BoltFile;
use heketi_doctor_common::heketi;

fn main() {
    let iterations: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/heketi-db/large.db.gz");
    let mut bolt = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("large.db.gz"))
        .read_to_end(&mut bolt)
        .expect("gunzip");
    let mut parse_decode = Vec::new();
    let mut export = Vec::new();
    let mut total = Vec::new();
    let mut out_len = 0;
    for _ in 0..iterations {
        let t0 = Instant::now();
        let file = BoltFile::parse(&bolt).expect("parse");
        let loaded = heketi::from_bolt(&file).expect("decode");
        let t1 = Instant::now();
        let mut sink = Vec::with_capacity(16 << 20);
        heketi::write_export_json(&loaded.db, &mut sink).expect("export");
        let t2 = Instant::now();
        out_len = sink.len();
        parse_decode.push(t1 - t0);
        export.push(t2 - t1);
        total.push(t2 - t0);
    }
    println!("export of large.db ({} bytes in, {} bytes out), {iterations} iterations", bolt.len(), out_len);
    for (name, v) in
        [("bolt+gob decode", &mut parse_decode), ("JSON export", &mut export), ("total", &mut total)]
    {
        v.sort();
        println!(
            "  {name:<16} min {:>8.2?}  median {:>8.2?}  max {:>8.2?}",
            v[0],
            v[v.len() / 2],
            v[v.len() - 1]
        );
    }
    println!("  peak RSS of this process: {}", peak_rss());
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}
