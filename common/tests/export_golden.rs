//! Golden-file test over the fixtures: bolt → gob → entries → export JSON must equal, byte for
//! byte, what heketi's own `db export` wrote for the same file.

use std::io::Read;
use std::path::{Path, PathBuf};

use heketi_doctor_common::bolt::BoltFile;
use heketi_doctor_common::heketi::{self, SchemaGeneration, SourceFormat};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/heketi-db").join(name)
}

fn read_maybe_gz(name: &str) -> Vec<u8> {
    let raw = std::fs::read(data(name)).unwrap();
    if name.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
        out
    } else {
        raw
    }
}

#[test]
fn every_fixture_exports_byte_identical() {
    for (db, json) in [
        ("small.db", "small.json"),
        ("medium.db", "medium.json"),
        ("pending.db", "pending.json"),
        ("pending_clone.db", "pending_clone.json"),
        ("large.db.gz", "large.json.gz"),
    ] {
        let bytes = read_maybe_gz(db);
        let file = BoltFile::parse(&bytes).unwrap();
        let loaded = heketi::from_bolt(&file).unwrap();
        let ours = heketi::to_export_json(&loaded.db);
        let theirs = read_maybe_gz(json);
        if ours != theirs {
            let at =
                ours.iter().zip(&theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
            let lo = at.saturating_sub(200);
            panic!(
                "{db}: first difference at byte {at}\nours:   {}\ntheirs: {}",
                String::from_utf8_lossy(&ours[lo..(at + 100).min(ours.len())]),
                String::from_utf8_lossy(&theirs[lo..(at + 100).min(theirs.len())])
            );
        }
        assert_eq!(SchemaGeneration::of(&loaded.db), SchemaGeneration::V10, "{db}");
    }
}

#[test]
fn export_json_input_loads_to_the_same_db_as_the_bolt_file() {
    for name in ["small", "medium", "pending", "pending_clone"] {
        let from_bolt = heketi::load(&read_maybe_gz(&format!("{name}.db"))).unwrap();
        let from_json = heketi::load(&read_maybe_gz(&format!("{name}.json"))).unwrap();
        assert_eq!(from_bolt.format, SourceFormat::Bolt);
        assert_eq!(from_json.format, SourceFormat::ExportJson);
        // The durability interface is not part of the JSON; everything else must agree.
        let mut a = from_bolt.db.clone();
        for v in a.volumes.values_mut() {
            v.durability_value = None;
        }
        assert_eq!(a, from_json.db, "{name}");
    }
}

#[test]
fn registry_keys_are_skipped_and_counted() {
    let loaded = heketi::load(&read_maybe_gz("pending.db")).unwrap();
    // pending.db's NODE bucket holds MANAGE/STORAGE keys for its 3 nodes.
    assert_eq!(loaded.registry_keys, 6);
    assert_eq!(loaded.db.nodes.len(), 3);
}

#[test]
fn durability_interface_matches_the_durability_request() {
    let loaded = heketi::load(&read_maybe_gz("medium.db")).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for v in loaded.db.volumes.values() {
        let d = v.durability_value.expect("every v10 volume has a Durability interface");
        let kind = match d {
            heketi::DurabilityValue::Replicate { replica } => {
                assert_eq!(replica, v.info.durability.replicate.replica);
                "replicate"
            }
            heketi::DurabilityValue::Disperse { data, redundancy } => {
                assert_eq!(
                    (data, redundancy),
                    (v.info.durability.disperse.data, v.info.durability.disperse.redundancy)
                );
                "disperse"
            }
            heketi::DurabilityValue::None => "none",
        };
        assert_eq!(kind, v.info.durability.kind, "{}", v.info.id);
        seen.insert(kind);
    }
    assert!(seen.contains("replicate") && seen.contains("disperse"), "medium has both kinds: {seen:?}");
}
