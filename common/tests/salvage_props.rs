//! Property tests of salvage: random damage to any fixture never makes it panic or hang, and what
//! it returns is always consistent (report ↔ database, export and report serialise).

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use heketi_doctor_common::heketi::{self, Outcome};
use proptest::prelude::*;

const FIXTURES: [&str; 4] = ["small", "medium", "pending", "pending_clone"];

fn fixtures() -> &'static Vec<Vec<u8>> {
    static CACHE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CACHE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/heketi-db");
        FIXTURES.iter().map(|n| std::fs::read(dir.join(format!("{n}.db"))).unwrap()).collect()
    })
}

/// Salvages `data` and checks the invariants every result must satisfy.
fn salvage_checked(data: &[u8]) -> Result<(), TestCaseError> {
    let s = heketi::salvage(data);
    let r = &s.report;
    // Every recovered entry is in the report, once, and nothing else is.
    prop_assert_eq!(r.entries.len(), s.db.len());
    for e in &r.entries {
        prop_assert!(s.db.contains(e.bucket, &e.id), "{} {} reported but not recovered", e.bucket, e.id);
    }
    prop_assert_eq!(r.totals.entries, s.db.len());
    prop_assert_eq!(r.outcome == Outcome::NothingUsable, s.db.is_empty() && r.outcome != Outcome::Clean);
    if r.outcome == Outcome::Clean {
        prop_assert!(r.damage.iter().all(|d| !d.affects_live));
        prop_assert!(r
            .entries
            .iter()
            .all(|e| e.origin == heketi_doctor_common::bolt::salvage::Origin::LiveTree));
    }
    // Everything renders.
    serde_json::to_vec(r).unwrap();
    prop_assert!(!r.to_text("x").is_empty());
    heketi::to_export_json(&s.db);
    Ok(())
}

proptest! {
    // 2 × 128 cases: about 256 damaged files per run, a few seconds in a debug build.
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Random bytes overwritten anywhere in a fixture (metas, tree, free pages, tail).
    #[test]
    fn random_byte_flips_never_panic(
        which in 0..FIXTURES.len(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..24),
    ) {
        let mut d = fixtures()[which].clone();
        for (at, x) in flips {
            let i = at.index(d.len());
            d[i] ^= x;
        }
        salvage_checked(&d)?;
    }

    /// Flips concentrated in the pages below pgid (where the tree lives), plus a random cut.
    #[test]
    fn flips_in_tree_pages_and_truncation_never_panic(
        which in 0..FIXTURES.len(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 1u8..), 0..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut d = fixtures()[which].clone();
        let used = (d.len() * 3 / 4).max(1);
        for (page, off, x) in flips {
            let i = page.index(used / 4096) * 4096 + off.index(4096);
            if let Some(b) = d.get_mut(i) {
                *b ^= x;
            }
        }
        if truncate {
            d.truncate(cut.index(d.len()));
        }
        salvage_checked(&d)?;
    }
}

/// A gzip of a damaged file, and a gzip cut short: salvage decompresses what it can.
#[test]
fn damaged_gzip_input_is_salvaged_as_far_as_it_goes() {
    let data = &fixtures()[1];
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, data).unwrap();
    let gz = enc.finish().unwrap();
    let whole = heketi::salvage(&gz);
    assert_eq!(whole.report.outcome, Outcome::Clean);
    assert!(whole.report.input.gzip.as_ref().is_some_and(|g| g.error.is_none()));
    let cut = heketi::salvage(&gz[..gz.len() * 2 / 3]);
    let g = cut.report.input.gzip.clone().unwrap();
    assert!(g.error.is_some() && g.decompressed > 0, "{g:?}");
    assert!(!cut.db.is_empty());
    assert_ne!(cut.report.outcome, Outcome::Clean);
    // The normal loader refuses it and says salvage can help.
    let mut out = Vec::new();
    let e = flate2::read::GzDecoder::new(&gz[..gz.len() * 2 / 3]).read_to_end(&mut out).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    assert!(heketi::load(&gz[..gz.len() * 2 / 3]).unwrap_err().is_damage());
}

/// Inputs that are not a database at all.
#[test]
fn non_databases_are_nothing_usable() {
    for input in [&b""[..], b"{", b"hello world", &[0u8; 65536][..]] {
        let s = heketi::salvage(input);
        assert_eq!(s.report.outcome, Outcome::NothingUsable, "{:?}", &input[..input.len().min(8)]);
        assert!(s.db.is_empty());
    }
    // An export JSON is loaded as is.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/heketi-db");
    let json = std::fs::read(dir.join("small.json")).unwrap();
    let s = heketi::salvage(&json);
    assert_eq!(s.report.outcome, Outcome::Clean);
    assert_eq!(heketi::to_export_json(&s.db), json);
}
