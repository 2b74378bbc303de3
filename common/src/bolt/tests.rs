//! Tests of the bolt reader against the real heketi fixtures, synthetic files and damage.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;

use super::meta::fnv1a64;
use super::page::{BRANCH_PAGE, FREELIST_PAGE, LEAF_PAGE, META_PAGE};
use super::tree::MAX_DEPTH;
use super::*;

// ---------------------------------------------------------------------------------------------
// Fixtures

const FIXTURES: [&str; 5] = ["small", "medium", "pending", "pending_clone", "large"];

/// Bucket name → key of heketi's export JSON.
const BUCKET_JSON: [(&str, &str); 8] = [
    ("CLUSTER", "clusterentries"),
    ("VOLUME", "volumeentries"),
    ("BRICK", "brickentries"),
    ("NODE", "nodeentries"),
    ("DEVICE", "deviceentries"),
    ("BLOCKVOLUME", "blockvolumeentries"),
    ("DBATTRIBUTE", "dbattributeentries"),
    ("PENDING_OPERATIONS", "pendingoperations"),
];

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/heketi-db")
}

fn read_maybe_gz(stem: &str, ext: &str) -> Vec<u8> {
    let plain = data_dir().join(format!("{stem}.{ext}"));
    if plain.exists() {
        return std::fs::read(plain).unwrap();
    }
    let gz = std::fs::read(data_dir().join(format!("{stem}.{ext}.gz"))).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
    out
}

/// Fixture bytes, loaded once per process.
fn fixture(name: &str) -> &'static [u8] {
    static CACHE: OnceLock<BTreeMap<&'static str, Vec<u8>>> = OnceLock::new();
    let map = CACHE.get_or_init(|| FIXTURES.iter().map(|&n| (n, read_maybe_gz(n, "db"))).collect());
    &map[name]
}

/// Entry count per bucket as heketi exported it.
fn json_counts(name: &str) -> BTreeMap<&'static str, usize> {
    let json: serde_json::Value = serde_json::from_slice(&read_maybe_gz(name, "json")).unwrap();
    BUCKET_JSON
        .iter()
        .map(|&(bucket, key)| {
            let n = match &json[key] {
                serde_json::Value::Object(m) => m.len(),
                serde_json::Value::Array(a) => a.len(),
                serde_json::Value::Null => 0,
                other => panic!("{name}: unexpected {key}: {other}"),
            };
            (bucket, n)
        })
        .collect()
}

fn is_registry(key: &[u8]) -> bool {
    [&b"MANAGE"[..], b"STORAGE", b"DEVICE"].iter().any(|p| key.starts_with(p))
}

#[test]
fn fixtures_match_heketi_export() {
    for name in FIXTURES {
        let data = fixture(name);
        let file = BoltFile::parse(data).unwrap();
        assert_eq!(file.page_size(), 4096, "{name}");
        assert!(!file.meta().big_endian);
        let buckets = file.read_all().unwrap();
        let expected = json_counts(name);

        let names: Vec<&[u8]> = buckets.iter().map(|b| b.name).collect();
        assert_eq!(file.bucket_names().unwrap(), names, "{name}");
        let mut sorted: Vec<&[u8]> = expected.keys().map(|k| k.as_bytes()).collect();
        sorted.sort();
        assert_eq!(names, sorted, "{name}: bucket names");

        for b in &buckets {
            let bname = std::str::from_utf8(b.name).unwrap();
            let count = b.entries.iter().filter(|kv| !is_registry(kv.key)).count();
            assert_eq!(count, expected[bname], "{name}: bucket {bname}");
            assert!(
                b.entries.windows(2).all(|w| w[0].key < w[1].key),
                "{name}: {bname} keys not strictly ascending"
            );
            assert_eq!(b.inline, b.root_page == 0);
            assert_eq!(b.sequence, 0);
            // Gob streams are non-empty; registry values are 32-byte ids.
            for kv in &b.entries {
                assert!(!kv.value.is_empty(), "{name}: {bname} empty value");
                if is_registry(kv.key) {
                    assert_eq!(kv.value.len(), 32, "{name}: registry value");
                }
            }
            // bucket() agrees with read_all().
            assert_eq!(file.bucket(b.name).unwrap().unwrap(), b.entries);
        }
        assert_eq!(file.bucket(b"NO_SUCH_BUCKET").unwrap(), None);
    }
}

#[test]
fn fixtures_page_accounting() {
    for name in FIXTURES {
        let data = fixture(name);
        let file = BoltFile::parse(data).unwrap();
        for index in 0..2 {
            if name == "pending" && index == 1 {
                continue; // damaged older tree, see older_meta_tree_is_readable
            }
            let s = file.page_stats_from_meta(index).unwrap();
            eprintln!("{name} meta {index}: {s:?}");
            assert_eq!(s.meta_pages, 2);
            assert_eq!(s.free_but_used, 0, "{name} meta {index}");
            assert_eq!(s.unaccounted_pages, 0, "{name} meta {index}");
            // The freelist page itself must be counted too: bolt's Tx.Check treats it as
            // reachable from the meta.
            assert_eq!(
                s.meta_pages + s.reachable_pages + s.freelist_pages + s.free_pages,
                s.pgid,
                "{name} meta {index}"
            );
            assert!(s.is_consistent());
            assert_eq!(s.reachable_pages, s.branch_pages + s.leaf_pages + s.overflow_pages);
            assert!(s.file_pages >= s.pgid);
        }
        assert_eq!(file.page_stats().unwrap(), file.page_stats_from_meta(file.meta_index()).unwrap());
    }
}

#[test]
fn older_meta_tree_is_readable() {
    for name in FIXTURES {
        let file = BoltFile::parse(fixture(name)).unwrap();
        let other = 1 - file.meta_index();
        let older = file.metas()[other].as_ref().unwrap();
        assert!(older.txid < file.meta().txid, "{name}");
        let result = file.read_all_from_meta(other);
        if name == "pending" {
            // The older meta (txid 81) of pending.db points into pages that a later transaction
            // (txid >= 83, whose meta never reached the file) reused after tx 82 freed them: page
            // 21, VOLUME's root in tree 81, now holds a freelist page listing 85 (allocated by
            // tx 82) as free, and BLOCKVOLUME's and DEVICE's subtrees share pages. The older tree
            // is therefore not guaranteed intact; the reader must say so.
            let e = result.unwrap_err();
            assert!(matches!(e, BoltError::PageReferencedTwice { page: 46, .. }), "{e}");
            let e = file.page_stats_from_meta(other).unwrap_err();
            assert!(matches!(e, BoltError::PageReferencedTwice { .. }), "{e}");
        } else {
            assert!(!result.unwrap().is_empty(), "{name}");
        }
    }
    let file = BoltFile::parse(fixture("small")).unwrap();
    assert!(matches!(file.read_all_from_meta(2), Err(BoltError::NoSuchMeta { index: 2 })));
}

#[test]
fn fixtures_exercise_inline_and_overflow_and_branches() {
    let mut inline = 0;
    let mut real = 0;
    let mut branches = 0;
    let mut overflow = 0;
    for name in FIXTURES {
        let file = BoltFile::parse(fixture(name)).unwrap();
        for b in file.read_all().unwrap() {
            if b.inline {
                inline += 1;
            } else {
                real += 1;
            }
        }
        let s = file.page_stats().unwrap();
        branches += s.branch_pages;
        overflow += s.overflow_pages;
    }
    assert!(
        inline > 0 && real > 0 && branches > 0 && overflow > 0,
        "inline {inline} real {real} branches {branches} overflow {overflow}"
    );
}

// ---------------------------------------------------------------------------------------------
// Byte editing helpers (fixtures are little-endian)

fn put_u16(d: &mut [u8], off: usize, v: u16) {
    d[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(d: &mut [u8], off: usize, v: u32) {
    d[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(d: &mut [u8], off: usize, v: u64) {
    d[off..off + 8].copy_from_slice(&v.to_le_bytes());
}
fn get_u32(d: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(d[off..off + 4].try_into().unwrap())
}
fn get_u64(d: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(d[off..off + 8].try_into().unwrap())
}

/// Recomputes the checksum of the meta page at `off` (little-endian).
fn reseal_meta(d: &mut [u8], off: usize) {
    let sum = fnv1a64(&d[off + 16..off + 72]);
    put_u64(d, off + 72, sum);
}

/// Info about a fixture gathered before damaging a copy.
struct Layout {
    data: Vec<u8>,
    ps: usize,
    meta: Meta,
    meta_index: usize,
    pages: Vec<tree::VisitedPage>,
}

fn layout(name: &str) -> Layout {
    let data = fixture(name).to_vec();
    let file = BoltFile::parse(&data).unwrap();
    let pages = file.tree_pages(file.meta_index()).unwrap();
    let (ps, meta, meta_index) = (file.page_size(), file.meta().clone(), file.meta_index());
    Layout { data, ps, meta, meta_index, pages }
}

impl Layout {
    /// A reachable page with the given flags (and no overflow), other than the meta root.
    fn find(&self, flags: u16) -> u64 {
        self.pages
            .iter()
            .find(|p| p.header.flags == flags && p.header.overflow == 0 && p.id != self.meta.root)
            .unwrap_or_else(|| panic!("no page with flags {flags:#x}"))
            .id
    }
    fn off(&self, page: u64) -> usize {
        page as usize * self.ps
    }
    fn read_all(&self) -> Result<Vec<Bucket<'_>>, BoltError> {
        BoltFile::parse(&self.data)?.read_all()
    }
}

fn expect_err(l: &Layout) -> BoltError {
    let err = l.read_all().expect_err("damage must be detected");
    // page_stats walks the same tree: it must fail too, and never panic.
    assert!(BoltFile::parse(&l.data).unwrap().page_stats().is_err());
    err
}

// ---------------------------------------------------------------------------------------------
// Meta selection

#[test]
fn corrupt_newer_meta_falls_back_to_older() {
    for name in FIXTURES {
        let mut l = layout(name);
        let active = l.meta_index;
        // Flip a byte of the txid of the meta in use.
        l.data[active * l.ps + 64] ^= 0x01;
        let file = BoltFile::parse(&l.data).unwrap();
        assert_eq!(file.meta_index(), 1 - active, "{name}");
        assert!(matches!(
            file.metas()[active],
            Err(BoltError::Checksum { index, .. }) if index == active
        ));
        // pending.db's older tree is damaged (see older_meta_tree_is_readable).
        assert_eq!(file.read_all().is_ok(), name != "pending", "{name}");
    }
}

#[test]
fn both_metas_bad_is_an_error() {
    let mut l = layout("small");
    l.data[64] ^= 0x01;
    l.data[l.ps + 64] ^= 0x01;
    let err = BoltFile::parse(&l.data).unwrap_err();
    assert!(
        matches!(&err, BoltError::NoValidMeta { meta0, meta1 }
            if matches!(**meta0, BoltError::Checksum { index: 0, .. })
            && matches!(**meta1, BoltError::Checksum { index: 1, .. })),
        "{err}"
    );
    assert!(err.to_string().contains("checksum error"), "{err}");
}

#[test]
fn zero_checksum_is_accepted() {
    let mut l = layout("small");
    let off = l.meta_index * l.ps;
    put_u64(&mut l.data, off + 72, 0);
    let file = BoltFile::parse(&l.data).unwrap();
    assert_eq!(file.meta_index(), l.meta_index);
    assert!(file.meta().checksum_ok);
    assert_eq!(file.meta().checksum, 0);
    file.read_all().unwrap();
}

#[test]
fn meta_validation_errors() {
    // Version.
    let mut l = layout("small");
    put_u32(&mut l.data, 20, 3);
    reseal_meta(&mut l.data, 0);
    let file = BoltFile::parse(&l.data).unwrap();
    assert_eq!(file.meta_index(), 1);
    let e = file.metas()[0].clone().unwrap_err();
    assert!(e.to_string().contains("version mismatch"), "{e}");

    // Magic destroyed: meta 1 still found by probing 4096.
    let mut l = layout("small");
    l.data[16..20].copy_from_slice(&[1, 2, 3, 4]);
    let file = BoltFile::parse(&l.data).unwrap();
    assert_eq!(file.meta_index(), 1);
    let e = file.metas()[0].clone().unwrap_err();
    assert!(e.to_string().contains("invalid database"), "{e}");
    file.read_all().unwrap();

    // Implausible page size with a valid checksum in both metas.
    let mut l = layout("small");
    for m in 0..2 {
        put_u32(&mut l.data, m * 4096 + 24, 1000);
        reseal_meta(&mut l.data, m * 4096);
    }
    let e = BoltFile::parse(&l.data).unwrap_err();
    assert!(e.to_string().contains("invalid page size 1000"), "{e}");
}

#[test]
fn meta_decode_gives_raw_fields_of_a_bad_meta() {
    let mut l = layout("small");
    l.data[64] ^= 0x01;
    let raw = Meta::decode(&l.data, 0, 0).unwrap();
    assert!(!raw.checksum_ok);
    assert_eq!(raw.page_size, 4096);
    assert!(raw.validate().is_err());
    assert_eq!(raw.header_flags, META_PAGE);
}

// ---------------------------------------------------------------------------------------------
// Damage

#[test]
fn empty_and_tiny_inputs() {
    assert!(matches!(BoltFile::parse(&[]), Err(BoltError::NoValidMeta { .. })));
    let one_page = &fixture("small")[..4096];
    let e = BoltFile::parse(one_page).unwrap_err();
    assert!(matches!(e, BoltError::FileTooSmall { .. }), "{e}");
    assert!(e.to_string().contains("file size too small"));
    for len in 0..200 {
        assert!(BoltFile::parse(&fixture("small")[..len]).is_err());
    }
}

/// Small deterministic PRNG (xorshift64*), so failures are reproducible.
fn prng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_bytes_are_rejected() {
    for seed in 1..20u64 {
        let mut next = prng(seed);
        let junk: Vec<u8> = (0..128 * 1024).map(|_| next() as u8).collect();
        assert!(BoltFile::parse(&junk).is_err());

        // Valid metas followed by random pages.
        let mut l = layout("small");
        for b in &mut l.data[2 * 4096..] {
            *b = next() as u8;
        }
        expect_err(&l);
    }
}

#[test]
fn truncation_at_many_lengths() {
    for name in ["small", "medium"] {
        let full = fixture(name);
        let file = BoltFile::parse(full).unwrap();
        let need = (file.meta().pgid as usize) * file.page_size();
        let mut lengths: Vec<usize> = (0..full.len()).step_by(509).collect();
        lengths.extend([need - 1, need, need + 1, 8191, 8192, 8193, full.len() - 1]);
        for len in lengths {
            let cut = &full[..len];
            let result = BoltFile::parse(cut).and_then(|f| f.read_all());
            if len < need {
                let e = result.expect_err("truncated file must fail");
                if len >= 2 * 4096 {
                    assert!(matches!(e, BoltError::FileTruncated { .. }), "{len}: {e}");
                }
                // page_stats does not require the whole file but must not panic.
                if let Ok(f) = BoltFile::parse(cut) {
                    let _ = f.page_stats();
                }
            } else {
                assert!(result.is_ok(), "{name} truncated at {len} >= {need}");
            }
        }
    }
}

#[test]
fn freelist_flags_on_tree_pages_give_invalid_page_type() {
    for flags in [BRANCH_PAGE, LEAF_PAGE] {
        let mut l = layout("large");
        let page = l.find(flags);
        let off = l.off(page);
        put_u16(&mut l.data, off + 8, FREELIST_PAGE);
        let e = expect_err(&l);
        let text = e.to_string();
        assert!(text.contains(&format!("invalid page type: {page}: 10")), "{text}");
        assert!(matches!(e, BoltError::InvalidPageType { page: p, flags: 0x10, .. } if p == page));
    }
}

#[test]
fn zeroed_page_gives_invalid_page_type_0_0() {
    for flags in [BRANCH_PAGE, LEAF_PAGE] {
        let mut l = layout("large");
        let page = l.find(flags);
        let off = l.off(page);
        l.data[off..off + l.ps].fill(0);
        let text = expect_err(&l).to_string();
        assert!(text.contains(&format!("page {page}: invalid page type: 0: 0")), "{text}");
    }
    // The root bucket's root.
    let mut l = layout("small");
    let off = l.off(l.meta.root);
    l.data[off..off + l.ps].fill(0);
    let text = expect_err(&l).to_string();
    assert!(text.contains("invalid page type: 0: 0"), "{text}");
    assert!(text.contains("referenced from meta 0 root"), "{text}");
}

/// Offset of element `i` of the page at `off`.
fn elem(off: usize, i: usize) -> usize {
    off + 16 + 16 * i
}

#[test]
fn branch_cycles_are_detected() {
    // To itself.
    let mut l = layout("large");
    let branch = l.find(BRANCH_PAGE);
    let off = l.off(branch);
    put_u64(&mut l.data, elem(off, 1) + 8, branch);
    let e = expect_err(&l);
    assert!(matches!(e, BoltError::PageReferencedTwice { page, .. } if page == branch), "{e}");

    // To an ancestor: the root bucket's leaf that holds this bucket.
    let mut l = layout("large");
    let branch = l.find(BRANCH_PAGE);
    let off = l.off(branch);
    let root = l.meta.root;
    put_u64(&mut l.data, elem(off, 0) + 8, root);
    let e = expect_err(&l);
    assert!(matches!(e, BoltError::PageReferencedTwice { page, .. } if page == root), "{e}");
    assert!(e.to_string().contains("reached twice"));

    // Two branch elements pointing to the same child (shared page).
    let mut l = layout("large");
    let branch = l.find(BRANCH_PAGE);
    let off = l.off(branch);
    let child0 = get_u64(&l.data, elem(off, 0) + 8);
    put_u64(&mut l.data, elem(off, 1) + 8, child0);
    assert!(matches!(expect_err(&l), BoltError::PageReferencedTwice { .. }));
}

#[test]
fn element_key_past_page_end() {
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let off = l.off(leaf);
    put_u32(&mut l.data, elem(off, 0) + 8, 5000);
    let e = expect_err(&l);
    assert!(
        matches!(
            e,
            BoltError::Page {
                page,
                fault: PageFault::KeyOutOfBounds { index: 0, limit: 4096, .. }
            } if page == leaf
        ),
        "{e}"
    );
    assert!(e.to_string().contains("element 0 key out of bounds"), "{e}");

    // Value past the end.
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let off = l.off(leaf);
    put_u32(&mut l.data, elem(off, 0) + 12, u32::MAX);
    let e = expect_err(&l);
    assert!(e.to_string().contains("element 0 value out of bounds"), "{e}");

    // Branch key past the end.
    let mut l = layout("large");
    let branch = l.find(BRANCH_PAGE);
    let off = l.off(branch);
    put_u32(&mut l.data, elem(off, 0) + 4, u32::MAX);
    let e = expect_err(&l);
    assert!(e.to_string().contains("key out of bounds"), "{e}");

    // Element count larger than the page.
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let o = l.off(leaf);
    put_u16(&mut l.data, o + 10, 0xFFFF);
    let e = expect_err(&l);
    assert!(e.to_string().contains("elements do not fit"), "{e}");

    // Keys out of order inside a page: swap the pos of elements 0 and 1 is not enough (pos is
    // relative), so make element 1's key equal element 0's by pointing it there.
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let off = l.off(leaf);
    let pos0 = get_u32(&l.data, elem(off, 0) + 4);
    put_u32(&mut l.data, elem(off, 1) + 4, pos0 - 16);
    let e = expect_err(&l);
    assert!(e.to_string().contains("not greater than the previous key"), "{e}");
}

#[test]
fn overflow_past_end_of_file_or_pgid() {
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let o = l.off(leaf);
    put_u32(&mut l.data, o + 12, u32::MAX);
    let e = expect_err(&l);
    assert!(matches!(e, BoltError::PageOutOfFile { page, .. } if page == leaf), "{e}");
    assert!(e.to_string().contains("past end of file"));

    // Past pgid but inside the file (large has free space after pgid).
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let file_pages = (l.data.len() / l.ps) as u64;
    assert!(file_pages > l.meta.pgid);
    let o = l.off(leaf);
    put_u32(&mut l.data, o + 12, (l.meta.pgid - leaf) as u32);
    let e = expect_err(&l);
    assert!(matches!(e, BoltError::SpanBeyondPgid { page, .. } if page == leaf), "{e}");

    // Overflow into the next reachable page.
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let next = l.pages.iter().map(|p| p.id).filter(|&id| id > leaf).min().unwrap();
    let o = l.off(leaf);
    put_u32(&mut l.data, o + 12, (next - leaf) as u32);
    assert!(matches!(expect_err(&l), BoltError::PageReferencedTwice { .. }));
}

#[test]
fn page_ids_at_or_beyond_pgid_and_wrong_ids() {
    // Branch element → pgid.
    let mut l = layout("large");
    let branch = l.find(BRANCH_PAGE);
    let off = l.off(branch);
    let pgid = l.meta.pgid;
    put_u64(&mut l.data, elem(off, 0) + 8, pgid);
    let e = expect_err(&l);
    assert!(
        matches!(e, BoltError::PageBeyondPgid { page, from: PageRef::Branch { page: b, index: 0 }, .. }
            if page == pgid && b == branch),
        "{e}"
    );

    // Branch element → u64::MAX.
    let mut l = layout("large");
    let branch = l.find(BRANCH_PAGE);
    let off = l.off(branch);
    put_u64(&mut l.data, elem(off, 0) + 8, u64::MAX);
    assert!(matches!(expect_err(&l), BoltError::PageBeyondPgid { .. }));

    // Meta root → pgid (checksum resealed so the meta stays valid).
    let mut l = layout("small");
    let off = l.meta_index * l.ps;
    put_u64(&mut l.data, off + 32, l.meta.pgid);
    reseal_meta(&mut l.data, off);
    let e = expect_err(&l);
    assert!(matches!(e, BoltError::PageBeyondPgid { from: PageRef::MetaRoot { .. }, .. }), "{e}");

    // Branch element → meta page 1 (bolt: "invalid page type: 1: 4").
    let mut l = layout("large");
    let branch = l.find(BRANCH_PAGE);
    let off = l.off(branch);
    put_u64(&mut l.data, elem(off, 0) + 8, 1);
    let text = expect_err(&l).to_string();
    assert!(text.contains("invalid page type: 1: 4"), "{text}");

    // Header id differs from position.
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let o = l.off(leaf);
    put_u64(&mut l.data, o, leaf + 1);
    let e = expect_err(&l);
    assert!(
        matches!(e, BoltError::PageIdMismatch { page, header_id, .. } if page == leaf && header_id == leaf + 1),
        "{e}"
    );
}

#[test]
fn bucket_element_flags() {
    // A plain key/value in the root bucket.
    let mut l = layout("small");
    let off = l.off(l.meta.root);
    put_u32(&mut l.data, elem(off, 0), 0);
    let e = expect_err(&l);
    assert!(matches!(e, BoltError::Page { fault: PageFault::NotABucket { index: 0 }, .. }), "{e}");

    // A nested bucket inside a heketi bucket.
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let o = l.off(leaf);
    put_u32(&mut l.data, elem(o, 0), 1);
    let e = expect_err(&l);
    assert!(
        matches!(e, BoltError::Page { page, fault: PageFault::NestedBucket { index: 0 } } if page == leaf),
        "{e}"
    );

    // Unknown flags.
    let mut l = layout("large");
    let leaf = l.find(LEAF_PAGE);
    let o = l.off(leaf);
    put_u32(&mut l.data, elem(o, 0), 0x80);
    let e = expect_err(&l);
    assert!(e.to_string().contains("unknown flags 0x80"), "{e}");
}

/// Offset of the value of root-bucket element `name` in the layout's root leaf.
fn root_value_off(l: &Layout, name: &[u8]) -> (usize, usize) {
    let off = l.off(l.meta.root);
    assert_eq!(u16::from_le_bytes(l.data[off + 8..off + 10].try_into().unwrap()), LEAF_PAGE);
    let count = u16::from_le_bytes(l.data[off + 10..off + 12].try_into().unwrap()) as usize;
    for i in 0..count {
        let e = elem(off, i);
        let pos = get_u32(&l.data, e + 4) as usize;
        let ksize = get_u32(&l.data, e + 8) as usize;
        if &l.data[e + pos..e + pos + ksize] == name {
            return (i, e + pos + ksize);
        }
    }
    panic!("no bucket {name:?}")
}

#[test]
fn inline_bucket_damage() {
    let l = layout("small");
    let file = BoltFile::parse(&l.data).unwrap();
    let inline = file
        .read_all()
        .unwrap()
        .into_iter()
        .find(|b| b.inline && !b.entries.is_empty())
        .expect("small has a non-empty inline bucket")
        .name
        .to_vec();

    // Inline page flags → freelist.
    let mut l = layout("small");
    let (index, v) = root_value_off(&l, &inline);
    put_u16(&mut l.data, v + 16 + 8, FREELIST_PAGE);
    let e = expect_err(&l);
    assert!(
        matches!(e, BoltError::InlineBucket { index: i, fault: PageFault::InvalidInlinePageType { flags: 0x10, .. }, .. } if i == index),
        "{e}"
    );
    assert!(e.to_string().contains("invalid page type: 0: 10"), "{e}");

    // Inline element count too large for the value.
    let mut l = layout("small");
    let (_, v) = root_value_off(&l, &inline);
    put_u16(&mut l.data, v + 16 + 10, 200);
    let e = expect_err(&l);
    assert!(matches!(e, BoltError::InlineBucket { fault: PageFault::ElementsOutOfBounds { .. }, .. }), "{e}");

    // Inline value size shrunk below the bucket header.
    let mut l = layout("small");
    let (index, _) = root_value_off(&l, &inline);
    let off = l.off(l.meta.root);
    put_u32(&mut l.data, elem(off, index) + 12, 8);
    let e = expect_err(&l);
    assert!(matches!(e, BoltError::Page { fault: PageFault::BucketValueTooShort { len: 8, .. }, .. }), "{e}");

    // Nested bucket in an inline bucket.
    let mut l = layout("small");
    let (_, v) = root_value_off(&l, &inline);
    put_u32(&mut l.data, elem(v + 16, 0), 1);
    assert!(matches!(
        expect_err(&l),
        BoltError::InlineBucket { fault: PageFault::NestedBucket { index: 0 }, .. }
    ));
}

#[test]
fn freelist_damage_fails_page_stats_only() {
    let mut l = layout("small");
    let off = l.off(l.meta.freelist);
    put_u16(&mut l.data, off + 8, LEAF_PAGE);
    let file = BoltFile::parse(&l.data).unwrap();
    file.read_all().unwrap();
    let e = file.page_stats().unwrap_err();
    assert!(
        e.to_string().contains("invalid page type") && e.to_string().contains("expected freelist"),
        "{e}"
    );

    let mut l = layout("small");
    let off = l.off(l.meta.freelist);
    put_u16(&mut l.data, off + 10, 0xFFFE);
    let e = BoltFile::parse(&l.data).unwrap().page_stats().unwrap_err();
    assert!(e.to_string().contains("does not fit"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Synthetic files

/// Builds bolt files page by page (little-endian, like bolt on amd64).
struct Synth {
    ps: usize,
    data: Vec<u8>,
}

fn page_bytes(id: u64, flags: u16, count: u16, body: &[u8], ps: usize) -> Vec<u8> {
    let size = 16 + body.len();
    let pages = size / ps + 1;
    let mut p = vec![0u8; pages * ps];
    put_u64(&mut p, 0, id);
    put_u16(&mut p, 8, flags);
    put_u16(&mut p, 10, count);
    put_u32(&mut p, 12, (pages - 1) as u32);
    p[16..size].copy_from_slice(body);
    p
}

/// Body of a leaf page: elements then key/value data.
fn leaf_body(elems: &[(u32, &[u8], &[u8])]) -> Vec<u8> {
    let n = elems.len();
    let mut head = Vec::new();
    let mut tail = Vec::new();
    for (i, (flags, k, v)) in elems.iter().enumerate() {
        let pos = 16 * (n - i) + tail.len();
        head.extend_from_slice(&flags.to_le_bytes());
        head.extend_from_slice(&(pos as u32).to_le_bytes());
        head.extend_from_slice(&(k.len() as u32).to_le_bytes());
        head.extend_from_slice(&(v.len() as u32).to_le_bytes());
        tail.extend_from_slice(k);
        tail.extend_from_slice(v);
    }
    head.extend(tail);
    head
}

fn branch_body(elems: &[(&[u8], u64)]) -> Vec<u8> {
    let n = elems.len();
    let mut head = Vec::new();
    let mut tail = Vec::new();
    for (i, (k, child)) in elems.iter().enumerate() {
        let pos = 16 * (n - i) + tail.len();
        head.extend_from_slice(&(pos as u32).to_le_bytes());
        head.extend_from_slice(&(k.len() as u32).to_le_bytes());
        head.extend_from_slice(&child.to_le_bytes());
        tail.extend_from_slice(k);
    }
    head.extend(tail);
    head
}

fn bucket_header(root: u64) -> Vec<u8> {
    let mut v = root.to_le_bytes().to_vec();
    v.extend_from_slice(&0u64.to_le_bytes());
    v
}

fn inline_bucket(elems: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut v = bucket_header(0);
    let e: Vec<(u32, &[u8], &[u8])> = elems.iter().map(|&(k, v)| (0, k, v)).collect();
    let body = leaf_body(&e);
    let mut page = vec![0u8; 16];
    put_u16(&mut page, 8, LEAF_PAGE);
    put_u16(&mut page, 10, elems.len() as u16);
    page.extend(body);
    v.extend(page);
    v
}

impl Synth {
    fn new(ps: usize, total_pages: usize) -> Self {
        Synth { ps, data: vec![0; ps * total_pages] }
    }
    fn put(&mut self, id: u64, flags: u16, count: u16, body: &[u8]) {
        let p = page_bytes(id, flags, count, body, self.ps);
        let off = id as usize * self.ps;
        self.data[off..off + p.len()].copy_from_slice(&p);
    }
    fn leaf(&mut self, id: u64, elems: &[(u32, &[u8], &[u8])]) {
        self.put(id, LEAF_PAGE, elems.len() as u16, &leaf_body(elems));
    }
    fn branch(&mut self, id: u64, elems: &[(&[u8], u64)]) {
        self.put(id, BRANCH_PAGE, elems.len() as u16, &branch_body(elems));
    }
    fn freelist(&mut self, id: u64, ids: &[u64]) {
        let body: Vec<u8> = ids.iter().flat_map(|i| i.to_le_bytes()).collect();
        self.put(id, FREELIST_PAGE, ids.len() as u16, &body);
    }
    fn freelist_overflow_form(&mut self, id: u64, ids: &[u64]) {
        let mut body = (ids.len() as u64).to_le_bytes().to_vec();
        body.extend(ids.iter().flat_map(|i| i.to_le_bytes()));
        self.put(id, FREELIST_PAGE, 0xFFFF, &body);
    }
    fn metas(&mut self, root: u64, freelist: u64, pgid: u64, txid: u64) {
        for m in 0..2u64 {
            let off = m as usize * self.ps;
            let d = &mut self.data;
            put_u64(d, off, m);
            put_u16(d, off + 8, META_PAGE);
            put_u32(d, off + 16, 0xED0C_DAED);
            put_u32(d, off + 20, 2);
            put_u32(d, off + 24, self.ps as u32);
            put_u64(d, off + 32, root);
            put_u64(d, off + 48, freelist);
            put_u64(d, off + 56, pgid);
            put_u64(d, off + 64, txid - 1 + m);
            reseal_meta(d, off);
        }
    }
}

#[test]
fn fresh_empty_database() {
    // What bolt's init writes: meta0/meta1, empty freelist at 2, empty root leaf at 3, pgid 4.
    let mut s = Synth::new(4096, 4);
    s.freelist(2, &[]);
    s.leaf(3, &[]);
    s.metas(3, 2, 4, 1);
    let file = BoltFile::parse(&s.data).unwrap();
    assert_eq!(file.meta_index(), 1);
    assert!(file.read_all().unwrap().is_empty());
    assert!(file.bucket_names().unwrap().is_empty());
    let st = file.page_stats().unwrap();
    assert!(st.is_consistent(), "{st:?}");
    assert_eq!((st.leaf_pages, st.freelist_pages, st.free_pages), (1, 1, 0));
}

#[test]
fn synthetic_tree_with_branch_overflow_inline_and_other_page_sizes() {
    for ps in [1024usize, 4096, 65536] {
        // Root bucket leaf at 3 with buckets A (inline), B (tree: branch 4 → leaves 5, 6),
        // C (empty inline). Leaf 6 holds a value bigger than a page (overflow).
        let big = vec![0xAB; ps * 2 + 100];
        let a = inline_bucket(&[(b"k1", b"v1"), (b"k2", b"v2")]);
        let c = inline_bucket(&[]);
        let b = bucket_header(4);
        let mut s = Synth::new(ps, 16);
        s.freelist(2, &[9, 10]);
        s.leaf(3, &[(1, b"A", &a), (1, b"B", &b), (1, b"C", &c)]);
        s.branch(4, &[(b"a", 5), (b"m", 6)]);
        s.leaf(5, &[(0, b"a", b"1"), (0, b"b", b"2")]);
        s.leaf(6, &[(0, b"m", &big), (0, b"z", b"3")]);
        s.metas(3, 2, 11, 5);
        let file = BoltFile::parse(&s.data).unwrap();
        assert_eq!(file.page_size(), ps);
        let buckets = file.read_all().unwrap();
        let summary: Vec<(&[u8], bool, usize)> =
            buckets.iter().map(|b| (b.name, b.inline, b.entries.len())).collect();
        assert_eq!(summary, vec![(&b"A"[..], true, 2), (&b"B"[..], false, 4), (&b"C"[..], true, 0)]);
        assert_eq!(buckets[1].entries[2].value, &big[..]);
        assert_eq!(buckets[0].entries[1], KeyValue { key: b"k2", value: b"v2" });
        let st = file.page_stats().unwrap();
        assert!(st.is_consistent(), "{ps}: {st:?}");
        assert_eq!(st.overflow_pages, 2, "{ps}");
        assert_eq!((st.branch_pages, st.leaf_pages), (1, 3));
    }
}

#[test]
fn freelist_count_overflow_form() {
    // Bolt writes `count = 0xFFFF` and the real count in the first u64 when there are >= 0xFFFF
    // free ids; the reader handles the form for any count (here 5, to keep the file small).
    let mut s = Synth::new(4096, 12);
    let ids = [5u64, 6, 7, 8, 9];
    s.freelist_overflow_form(2, &ids);
    s.leaf(3, &[]);
    s.metas(3, 2, 10, 1);
    let file = BoltFile::parse(&s.data).unwrap();
    let st = file.page_stats().unwrap();
    assert_eq!(st.free_pages, 5);
    assert_eq!(st.freelist_pages, 1);
    assert_eq!(st.unaccounted_pages, 1, "page 4 is neither reachable nor free");
    assert!(!st.is_consistent());

    // Unsorted, duplicate and out-of-range ids are errors.
    for (bad, text) in [
        (&[5u64, 5][..], "not greater than the previous id"),
        (&[6, 5], "not greater than the previous id"),
        (&[1], "outside 2..10"),
        (&[10], "outside 2..10"),
    ] {
        s.freelist(2, bad);
        let e = BoltFile::parse(&s.data).unwrap().page_stats().unwrap_err();
        assert!(e.to_string().contains(text), "{bad:?}: {e}");
    }

    // A free id that is also reachable.
    s.freelist(2, &[3, 5, 6, 7, 8, 9]);
    let st = BoltFile::parse(&s.data).unwrap().page_stats().unwrap();
    assert_eq!(st.free_but_used, 1);
    assert!(!st.is_consistent());
}

#[test]
fn depth_limit_stops_long_chains() {
    let ok_depth = 10u64;
    let too_deep = MAX_DEPTH as u64 + 5;
    for (depth, ok) in [(ok_depth, true), (too_deep, false)] {
        // Branch chain 3 → 4 → … → leaf; root bucket with one inline bucket.
        let last = 3 + depth;
        let mut s = Synth::new(512, last as usize + 2);
        s.freelist(2, &[]);
        for id in 3..last {
            s.branch(id, &[(b"X", id + 1)]);
        }
        let v = inline_bucket(&[]);
        s.leaf(last, &[(1, b"X", &v)]);
        s.metas(3, 2, last + 1, 1);
        let r = BoltFile::parse(&s.data).unwrap().read_all();
        if ok {
            assert_eq!(r.unwrap().len(), 1);
        } else {
            let e = r.unwrap_err();
            assert!(matches!(e, BoltError::DepthLimit { .. }), "{e}");
        }
    }
}

#[test]
fn bucket_root_pointing_into_root_tree_or_meta() {
    let mut s = Synth::new(4096, 6);
    s.freelist(2, &[]);
    let b = bucket_header(3); // bucket root = the root bucket's own leaf
    s.leaf(3, &[(1, b"B", &b)]);
    s.metas(3, 2, 4, 1);
    let e = BoltFile::parse(&s.data).unwrap().read_all().unwrap_err();
    assert!(
        matches!(
            e,
            BoltError::PageReferencedTwice { page: 3, from: PageRef::BucketRoot { page: 3, index: 0 } }
        ),
        "{e}"
    );

    let b = bucket_header(0xFFFF_FFFF_FFFF);
    s.leaf(3, &[(1, b"B", &b)]);
    assert!(matches!(
        BoltFile::parse(&s.data).unwrap().read_all().unwrap_err(),
        BoltError::PageBeyondPgid { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// Big-endian

fn swap(d: &mut [u8], off: usize, n: usize) {
    d[off..off + n].reverse();
}

fn swap_header(d: &mut [u8], off: usize) {
    swap(d, off, 8);
    swap(d, off + 8, 2);
    swap(d, off + 10, 2);
    swap(d, off + 12, 4);
}

/// Converts a leaf (page or inline page at `off`, read from `src`) to big-endian in `d`.
fn swap_leaf(src: &[u8], d: &mut [u8], off: usize) {
    let count = u16::from_le_bytes(src[off + 10..off + 12].try_into().unwrap()) as usize;
    swap_header(d, off);
    for i in 0..count {
        let e = elem(off, i);
        let flags = get_u32(src, e);
        let pos = get_u32(src, e + 4) as usize;
        let ksize = get_u32(src, e + 8) as usize;
        for f in 0..4 {
            swap(d, e + 4 * f, 4);
        }
        if flags == 1 {
            let v = e + pos + ksize;
            let root = get_u64(src, v);
            swap(d, v, 8);
            swap(d, v + 8, 8);
            if root == 0 {
                swap_leaf(src, d, v + 16);
            }
        }
    }
}

/// Rewrites a little-endian fixture as the same file written on a big-endian machine.
fn to_big_endian(src: &[u8]) -> Vec<u8> {
    let file = BoltFile::parse(src).unwrap();
    let ps = file.page_size();
    let mut d = src.to_vec();
    for index in 0..2 {
        for p in file.tree_pages(index).unwrap() {
            let off = p.id as usize * ps;
            if d[off..off + 16] != src[off..off + 16] {
                continue; // shared between both metas' trees: already converted
            }
            if p.header.flags == BRANCH_PAGE {
                swap_header(&mut d, off);
                for i in 0..p.header.count as usize {
                    let e = elem(off, i);
                    swap(&mut d, e, 4);
                    swap(&mut d, e + 4, 4);
                    swap(&mut d, e + 8, 8);
                }
            } else {
                swap_leaf(src, &mut d, off);
            }
        }
        let m = file.metas()[index].as_ref().unwrap();
        let off = m.freelist as usize * ps;
        if d[off..off + 16] == src[off..off + 16] {
            let count = u16::from_le_bytes(src[off + 10..off + 12].try_into().unwrap());
            assert_ne!(count, 0xFFFF);
            swap_header(&mut d, off);
            for i in 0..count as usize {
                swap(&mut d, off + 16 + 8 * i, 8);
            }
        }
    }
    for m in 0..2 {
        let off = m * ps;
        swap_header(&mut d, off);
        for f in 0..4 {
            swap(&mut d, off + 16 + 4 * f, 4);
        }
        for f in 0..6 {
            swap(&mut d, off + 32 + 8 * f, 8);
        }
        let sum = fnv1a64(&d[off + 16..off + 72]);
        d[off + 72..off + 80].copy_from_slice(&sum.to_be_bytes());
    }
    d
}

#[test]
fn big_endian_files_read_the_same() {
    for name in ["small", "medium"] {
        let le = fixture(name);
        let be = to_big_endian(le);
        assert_ne!(&be[..], le);
        let fle = BoltFile::parse(le).unwrap();
        let fbe = BoltFile::parse(&be).unwrap();
        assert!(fbe.meta().big_endian);
        assert_eq!(fbe.endian(), Endian::Big);
        assert_eq!(fbe.meta_index(), fle.meta_index());
        assert_eq!(fbe.meta().txid, fle.meta().txid);
        assert_eq!(fbe.read_all().unwrap(), fle.read_all().unwrap(), "{name}");
        assert_eq!(
            fbe.read_all_from_meta(1 - fle.meta_index()).unwrap(),
            fle.read_all_from_meta(1 - fle.meta_index()).unwrap()
        );
        assert_eq!(fbe.page_stats().unwrap(), fle.page_stats().unwrap());
    }
}

// ---------------------------------------------------------------------------------------------
// Property test and timing

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random byte flips anywhere in the allocated part of small.db: never a panic or hang.
    #[test]
    fn random_flips_never_panic(
        flips in proptest::collection::vec((0usize..25 * 4096, any::<u8>()), 1..16)
    ) {
        let mut data = fixture("small").to_vec();
        for (off, x) in flips {
            data[off] ^= x | 1;
        }
        if let Ok(file) = BoltFile::parse(&data) {
            let _ = file.read_all();
            let _ = file.read_all_from_meta(0);
            let _ = file.read_all_from_meta(1);
            let _ = file.page_stats();
            let _ = file.bucket_names();
            let _ = file.bucket(b"BRICK");
        }
    }

    /// Flips restricted to reachable tree pages of medium.db, where they matter most.
    #[test]
    fn random_flips_in_tree_pages_never_panic(
        picks in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..4096, any::<u8>()), 1..8)
    ) {
        static PAGES: OnceLock<Vec<u64>> = OnceLock::new();
        let pages = PAGES.get_or_init(|| {
            let f = BoltFile::parse(fixture("medium")).unwrap();
            f.tree_pages(f.meta_index()).unwrap().iter().map(|p| p.id).collect()
        });
        let mut data = fixture("medium").to_vec();
        for (idx, off, x) in picks {
            let page = pages[idx.index(pages.len())] as usize;
            data[page * 4096 + off] ^= x | 1;
        }
        let file = BoltFile::parse(&data).unwrap();
        let _ = file.read_all();
        let _ = file.page_stats();
    }
}

/// `cargo test --release -p heketi-doctor-common time_read_all_large -- --ignored --nocapture`
#[test]
#[ignore]
fn time_read_all_large() {
    let data = fixture("large");
    let runs = 20;
    let start = std::time::Instant::now();
    let mut entries = 0;
    for _ in 0..runs {
        let file = BoltFile::parse(data).unwrap();
        entries = file.read_all().unwrap().iter().map(|b| b.entries.len()).sum::<usize>();
    }
    let per = start.elapsed() / runs;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        BoltFile::parse(data).unwrap().page_stats().unwrap();
    }
    let stats = start.elapsed() / runs;
    eprintln!(
        "large ({} bytes, {entries} entries): parse+read_all {per:?}, parse+page_stats {stats:?}",
        data.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Salvage (page level); entry-level salvage and the damage matrix are in common/tests.

mod salvage_tests {
    use super::super::salvage::{self, Origin, PageSizeSource, Primary};
    use super::super::Endian;
    use super::*;

    /// (bucket, key, value) of the live-tree candidates.
    fn live(s: &salvage::Salvage<'_>) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        s.candidates
            .iter()
            .filter(|c| c.origin == Origin::LiveTree)
            .map(|c| (c.bucket.unwrap_or_default().to_vec(), c.key.to_vec(), c.value.to_vec()))
            .collect()
    }

    #[test]
    fn clean_fixtures_read_the_live_tree_exactly() {
        for name in FIXTURES {
            let data = fixture(name);
            let s = salvage::salvage(data);
            assert!(!s.damaged(), "{name}: {:?}", s.damage);
            let file = BoltFile::parse(data).unwrap();
            assert_eq!(s.primary, Primary::Meta { slot: file.meta_index(), txid: file.meta().txid });
            let want: Vec<_> = file
                .read_all()
                .unwrap()
                .iter()
                .flat_map(|b| {
                    b.entries.iter().map(|kv| (b.name.to_vec(), kv.key.to_vec(), kv.value.to_vec()))
                })
                .collect();
            let mut got = live(&s);
            got.sort();
            let mut want = want;
            want.sort();
            assert_eq!(got, want, "{name}");
            assert!(s.root_clean && !s.root_lossy && s.free_known && s.detached_accounted, "{name}");
            assert!(s.buckets.iter().all(|b| b.clean && b.lossy.is_empty()), "{name}");
            let st = file.page_stats().unwrap();
            assert_eq!(s.census.live, st.reachable_pages, "{name}");
            assert_eq!(s.census.free, st.free_pages, "{name}");
            assert_eq!(s.census.detached + s.census.unaccounted, 0, "{name}");
            // Stale copies exist in freed pages (spec §1.13) but never as live-tree copies.
            assert!(s.candidates.iter().any(|c| c.origin != Origin::LiveTree), "{name}");
        }
    }

    #[test]
    fn big_endian_files_salvage_the_same() {
        let le = fixture("small");
        let be = to_big_endian(le);
        let (a, b) = (salvage::salvage(le), salvage::salvage(&be));
        assert!(!b.damaged(), "{:?}", b.damage);
        assert_eq!(live(&a), live(&b));
        // With both metas destroyed the byte order and page size are probed.
        let mut be = be;
        be[..2 * 4096].fill(0x5a);
        let s = salvage::salvage(&be);
        let l = s.layout.unwrap();
        assert_eq!((l.page_size, l.endian, l.source), (4096, Endian::Big, PageSizeSource::Probe));
        assert!(matches!(s.primary, Primary::Reconstructed { .. }), "{:?}", s.primary);
        assert_eq!(live(&s).len(), live(&a).len());
    }

    /// A small synthetic file: root leaf 3 (A inline, B → branch 4 → leaves 5, 6), freelist 2
    /// listing 7 (a stale copy of leaf 5 with an older value), pgid 8.
    fn synth(ps: usize) -> Synth {
        let a = inline_bucket(&[(b"k1", b"v1")]);
        let b = bucket_header(4);
        let mut s = Synth::new(ps, 10);
        s.freelist(2, &[7]);
        s.leaf(3, &[(1, b"A", &a), (1, b"B", &b)]);
        s.branch(4, &[(b"a", 5), (b"m", 6)]);
        s.leaf(5, &[(0, b"a", b"new"), (0, b"b", b"2")]);
        s.leaf(6, &[(0, b"m", b"3"), (0, b"z", b"4")]);
        s.leaf(7, &[(0, b"a", b"old"), (0, b"b", b"2")]);
        s.metas(3, 2, 8, 5);
        s
    }

    #[test]
    fn page_size_is_probed_when_both_metas_are_destroyed() {
        for ps in [4096usize, 8192, 65536] {
            let mut s = synth(ps);
            s.data[..2 * ps].fill(0);
            let v = salvage::salvage(&s.data);
            let l = v.layout.unwrap();
            assert_eq!((l.page_size, l.source), (ps, PageSizeSource::Probe), "{ps}");
            match &v.primary {
                Primary::Reconstructed { root, freelist, pgid, states, certain, .. } => {
                    assert_eq!(
                        (*root, *freelist, *pgid, *states, *certain),
                        (3, Some(2), 8, 1, true),
                        "{ps}"
                    );
                }
                p => panic!("{ps}: {p:?}"),
            }
            let keys = live(&v);
            assert_eq!(keys.len(), 5, "{ps}: {keys:?}");
            // The stale page 7 is on the reconstructed freelist.
            let stale = v.candidates.iter().find(|c| c.page == 7).unwrap();
            assert_eq!(stale.origin, Origin::Freed);
        }
    }

    #[test]
    fn a_damaged_branch_detaches_its_leaves_without_loss() {
        let mut s = synth(4096);
        s.data[4 * 4096..5 * 4096].fill(0);
        let v = salvage::salvage(&s.data);
        assert!(v.damaged());
        let b = v.bucket(b"B").unwrap();
        assert!(!b.clean);
        // Single damaged page with detached pages below it: it was a branch, nothing is lost.
        assert!(b.lossy.is_empty(), "{:?}", b.lossy);
        assert!(v.detached_accounted);
        let detached: Vec<u64> =
            v.candidates.iter().filter(|c| c.origin == Origin::Detached).map(|c| c.page).collect();
        assert_eq!(detached, vec![5, 5, 6, 6]);
        assert!(v.damage.iter().any(|d| d.page == Some(4) && d.what.contains("all zeros")), "{:?}", v.damage);
    }

    #[test]
    fn a_damaged_leaf_is_lossy_over_its_key_range_only() {
        let mut s = synth(4096);
        s.data[6 * 4096..7 * 4096].fill(0xee);
        let v = salvage::salvage(&s.data);
        let b = v.bucket(b"B").unwrap();
        assert_eq!(b.lossy.len(), 1);
        assert!(b.may_have_lost(b"m") && b.may_have_lost(b"zz") && !b.may_have_lost(b"b"));
    }

    #[test]
    fn freelist_flags_on_a_valid_leaf_are_repaired() {
        let mut s = synth(4096);
        put_u16(&mut s.data, 5 * 4096 + 8, FREELIST_PAGE);
        let v = salvage::salvage(&s.data);
        assert!(v.damaged());
        assert!(v.buckets.iter().all(|b| b.lossy.is_empty()));
        assert_eq!(live(&v).len(), 5);
        assert!(v
            .damage
            .iter()
            .any(|d| d.what.contains("invalid page type: 5: 10") && d.what.contains("valid leaf")));
    }

    #[test]
    fn garbage_lengths_are_bounded() {
        // A leaf claiming 0xFFFF elements and u32::MAX overflow pages, and elements claiming huge
        // sizes: nothing reads outside the file, nothing allocates from those numbers.
        let mut s = synth(4096);
        let o = 7 * 4096;
        put_u16(&mut s.data, o + 10, 0xFFFF);
        put_u32(&mut s.data, o + 12, u32::MAX);
        put_u32(&mut s.data, o + 16 + 12, u32::MAX);
        let v = salvage::salvage(&s.data);
        assert!(v.candidates.len() < 100, "{}", v.candidates.len());
        for len in [0, 1, 15, 16, 100, 4095, 4096, 4097, 8191, 8192, 3 * 4096 + 7] {
            let v = salvage::salvage(&s.data[..len.min(s.data.len())]);
            let _ = v.candidates.len();
        }
        let v = salvage::salvage(&[]);
        assert!(v.layout.is_none() && v.candidates.is_empty());
    }
}
