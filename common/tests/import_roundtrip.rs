//! `import` path: export JSON → typed Db → gob values → a fresh bolt file; reading that file back
//! must reproduce the JSON byte for byte, and the file must satisfy everything bolt 1.3.1's
//! `Tx.Check` verifies (every page below pgid reachable exactly once or free, only branch/leaf
//! pages in trees, keys sorted, freelist page present).

use std::io::Read;
use std::path::Path;

use heketi_doctor_common::bolt::{self, BoltFile};
use heketi_doctor_common::gob;
use heketi_doctor_common::heketi::{self, BoltWriteOptions, BucketKind};

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/heketi-db").join(name);
    let raw = std::fs::read(&p).unwrap();
    if name.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
        out
    } else {
        raw
    }
}

/// bolt 1.3.1's `Tx.Check`, over our reader's page accounting and tree walk.
fn assert_bolt_check_clean(file: &[u8]) {
    let db = BoltFile::parse(file).expect("parse");
    for m in db.metas() {
        let m = m.as_ref().expect("both metas valid");
        assert!(m.checksum_ok);
        assert!(m.root < m.pgid && m.freelist < m.pgid);
    }
    let stats = db.page_stats().expect("page stats");
    assert!(stats.is_consistent(), "page accounting: {stats:?}");
    assert_eq!(stats.free_pages, 0, "a fresh file has no free pages");
    // Both metas describe the same complete tree.
    assert_eq!(db.read_all().unwrap(), db.read_all_from_meta(1 - db.meta_index()).unwrap());
    assert!(db.page_stats_from_meta(1 - db.meta_index()).unwrap().is_consistent());
}

#[test]
fn every_fixture_round_trips_through_our_bolt_writer() {
    for (json, page_size) in [
        ("small.json", 4096),
        ("medium.json", 4096),
        ("pending.json", 4096),
        ("pending_clone.json", 65536),
        ("large.json.gz", 4096),
    ] {
        let input = fixture(json);
        let loaded = heketi::load(&input).unwrap();
        let opts = BoltWriteOptions { page_size, ..Default::default() };
        let file = heketi::to_bolt(&loaded.db, &opts).unwrap();
        assert_bolt_check_clean(&file);
        let back = heketi::load(&file).unwrap();
        assert_eq!(back.buckets, BucketKind::ALL.to_vec(), "{json}: all eight buckets");
        assert_eq!(heketi::to_export_json(&back.db), input, "{json}: export after import differs");
        // One MANAGE and one STORAGE key per node in these fixtures.
        assert_eq!(back.registry_keys, 2 * loaded.db.nodes.len(), "{json}");
    }
}

#[test]
fn values_written_decode_like_heketis_own() {
    // The original bolt file's values and ours must decode to the same typed entries, with the
    // same gob type names (so heketi's decoder sees its own types).
    let original = fixture("medium.db");
    let loaded = heketi::load(&original).unwrap();
    let ours = heketi::to_bolt(&loaded.db, &BoltWriteOptions::default()).unwrap();
    let a = BoltFile::parse(&original).unwrap();
    let b = BoltFile::parse(&ours).unwrap();
    for kind in BucketKind::ALL {
        let name = kind.bucket_name().as_bytes();
        let theirs = a.bucket(name).unwrap().unwrap();
        let mine = b.bucket(name).unwrap().unwrap();
        for kv in theirs.iter().filter(|kv| !kind.is_registry_key(kv.key)) {
            let m = mine.iter().find(|x| x.key == kv.key).expect("same keys");
            let (dt, dm) = (gob::decode(kv.value).unwrap(), gob::decode(m.value).unwrap());
            assert_eq!(dt.type_name, dm.type_name);
            let names = |d: &gob::Decoded| {
                let mut v: Vec<String> = d.types.iter().map(|(_, t)| t.name().to_owned()).collect();
                v.sort();
                v
            };
            assert_eq!(names(&dt), names(&dm), "{kind} {}", String::from_utf8_lossy(kv.key));
            assert_eq!(
                heketi::decode_entry(kv.value, Some(kind)).unwrap(),
                heketi::decode_entry(m.value, Some(kind)).unwrap()
            );
        }
    }
}

#[test]
fn imported_json_gets_heketis_durability_interface() {
    let loaded = heketi::load(&fixture("medium.json")).unwrap();
    let file = heketi::to_bolt(&loaded.db, &BoltWriteOptions::default()).unwrap();
    let back = heketi::load(&file).unwrap();
    let bolt_original = heketi::load(&fixture("medium.db")).unwrap();
    for (id, v) in &back.db.volumes {
        assert_eq!(v.durability_value, bolt_original.db.volumes[id].durability_value, "{id}");
    }
}

#[test]
fn unknown_durability_and_duplicate_hostnames_are_refused() {
    let mut db = heketi::load(&fixture("small.json")).unwrap().db;
    let mut bad = db.clone();
    bad.volumes.values_mut().next().unwrap().info.durability.kind = "mirror".into();
    let e = heketi::to_bolt(&bad, &BoltWriteOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not a known volume durability type"), "{e}");
    let host = db.nodes.values().next().unwrap().info.hostnames.storage.clone();
    db.nodes.values_mut().nth(1).unwrap().info.hostnames.storage = host;
    let e = heketi::to_bolt(&db, &BoltWriteOptions::default()).unwrap_err();
    assert!(e.to_string().contains("is used by nodes"), "{e}");
}

#[test]
fn bolt_writer_splits_and_inlines_like_bolt() {
    use bolt::write::{write_file, BucketData};
    // Tiny bucket → inline; a bucket of 1000 keys → a tree with branch pages; a huge value →
    // overflow pages.
    let small = BucketData { name: b"A".to_vec(), entries: vec![(b"k".to_vec(), b"v".to_vec())] };
    let many = BucketData {
        name: b"B".to_vec(),
        entries: (0..1000).map(|i| (format!("key{i:05}").into_bytes(), vec![b'x'; 100])).collect(),
    };
    let huge = BucketData { name: b"C".to_vec(), entries: vec![(b"big".to_vec(), vec![7u8; 20000])] };
    let file = write_file(&[small, many, huge], 4096).unwrap();
    assert_bolt_check_clean(&file);
    let db = BoltFile::parse(&file).unwrap();
    let buckets = db.read_all().unwrap();
    assert!(buckets[0].inline && !buckets[1].inline && !buckets[2].inline);
    assert_eq!(buckets[1].entries.len(), 1000);
    assert_eq!(buckets[2].entries[0].value, &vec![7u8; 20000][..]);
    let stats = db.page_stats().unwrap();
    assert!(stats.branch_pages >= 1 && stats.overflow_pages >= 4, "{stats:?}");
    // Leaves are filled to about half a page, as bolt does: 1000 × 124 bytes → ≈ 62 leaves.
    assert!((55..=75).contains(&stats.leaf_pages), "{stats:?}");
}
