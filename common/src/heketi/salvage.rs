//! Entry-level salvage (spec §1.13 steps 3–6): turns the copies [`crate::bolt::salvage`] found
//! into one [`Db`] and a [`SalvageReport`].
//!
//! Precedence (also in ARCHITECTURE.md):
//! 1. Copies of an entry (same bucket, same id) are ranked by where they were found, best first:
//!    live tree > detached page > older meta's tree > unaccounted page > freed page > page
//!    beyond pgid ([`Origin`]'s order). A detached page outranks the older tree because with a
//!    readable freelist it is, by bolt's page invariant, live data cut off from the tree by
//!    damage, while the older tree's pages that are not live are exactly those the newest
//!    transaction freed.
//! 2. The best-ranked copy wins. Different versions at the same rank are a conflict, settled by
//!    how well each fits the entries already chosen ([`refs::support`]), then by the number of
//!    identical copies, then by the lowest page id; every such choice is reported.
//! 3. An entry whose best copy is live or detached is always taken.
//! 4. An entry found only in stale pages (older tree, unaccounted, freed, beyond pgid) is taken
//!    only if (a) the live subtree that should hold it is unreadable — its bucket is missing
//!    from a damaged root bucket, its key lies in a key range under a damaged reference whose
//!    content may be lost, or its live value does not decode — and (b) an entry already taken
//!    names it (attributes excepted). Otherwise it is listed as a stale copy seen, not used.
//!    With no tree at all (both metas and every root destroyed), all copies are stale-only and
//!    the largest set of entries that name one another is taken, flagged.
//! 5. Key and entry id must agree (step 5); an entry stored under another key is used under its
//!    own id, as heketi's export does, and flagged.

// Salvage runs over damaged input: it must not be able to panic (as in `bolt`).
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;

use crate::bolt::salvage::{self as bolt_salvage, Candidate, Origin, Primary, Salvage as PageSalvage};
use crate::gob::TypeCache;

use super::entry::{decode_entry_cached, BucketKind, Entry};
use super::load::{detect_format, SourceFormat, MAX_DECOMPRESSED};
use super::model::Db;
use super::refs;
use super::salvage_report::*;

/// What salvage recovered and the report.
#[derive(Debug, Clone)]
pub struct Salvaged {
    pub db: Db,
    pub report: SalvageReport,
}

/// Salvages any `--db` input: a bolt file (damaged or not), the same gzipped (a damaged gzip
/// stream yields what decompressed before the damage), or an export JSON (loaded as is). Never
/// fails; [`Outcome::NothingUsable`] when nothing could be read.
pub fn salvage(input: &[u8]) -> Salvaged {
    let mut report_input = InputReport { bytes: input.len(), format: "unknown", gzip: None };
    let content: Cow<'_, [u8]> = if input.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let mut dec = flate2::read::MultiGzDecoder::new(input).take(MAX_DECOMPRESSED + 1);
        let error = dec.read_to_end(&mut out).err().map(|e| e.to_string());
        let error = if out.len() as u64 > MAX_DECOMPRESSED {
            out.truncate(MAX_DECOMPRESSED as usize);
            Some(format!("decompressed data exceeds {} GiB; cut there", MAX_DECOMPRESSED >> 30))
        } else {
            error
        };
        report_input.gzip = Some(GzipReport { decompressed: out.len(), error });
        Cow::Owned(out)
    } else {
        Cow::Borrowed(input)
    };
    let format = match detect_format(&content) {
        Some(f) => Some(f),
        None if bolt_salvage::probe_layout(&content).is_some() => Some(SourceFormat::Bolt),
        None => None,
    };
    match format {
        Some(SourceFormat::Bolt) => {
            report_input.format = "bolt";
            salvage_bolt_inner(&content, report_input)
        }
        Some(SourceFormat::ExportJson) => {
            report_input.format = "export-json";
            match serde_json::from_slice::<Db>(&content) {
                Ok(db) => json_report(db, report_input, None),
                Err(e) => {
                    json_report(Db::default(), report_input, Some(format!("not a heketi export JSON: {e}")))
                }
            }
        }
        None => json_report(
            Db::default(),
            report_input,
            Some(
                "neither a BoltDB file (no meta page, no page carrying its own id), an export JSON nor gzip"
                    .into(),
            ),
        ),
    }
}

/// Salvages a bolt file's bytes.
pub fn salvage_bolt(data: &[u8]) -> Salvaged {
    salvage_bolt_inner(data, InputReport { bytes: data.len(), format: "bolt", gzip: None })
}

fn json_report(db: Db, input: InputReport, error: Option<String>) -> Salvaged {
    let dangling = refs::dangling_references(&db);
    let outcome = if error.is_some() { Outcome::NothingUsable } else { Outcome::Clean };
    let entries: Vec<EntryReport> = db
        .entries()
        .map(|e| EntryReport {
            bucket: e.kind(),
            id: e.id().to_owned(),
            origin: Origin::LiveTree,
            page: 0,
            notes: vec![],
        })
        .collect();
    let damage: Vec<bolt_salvage::Damage> = error
        .iter()
        .map(|e| bolt_salvage::Damage {
            page: None,
            area: bolt_salvage::Area::File,
            bucket: None,
            what: e.clone(),
            affects_live: true,
        })
        .collect();
    let buckets = BucketKind::ALL
        .iter()
        .map(|&k| BucketReport {
            bucket: k,
            state: "clean",
            lossy_ranges: vec![],
            recovered: db.count(k),
            by_origin: Default::default(),
            registry_keys: 0,
            undecodable: 0,
            superseded_copies: 0,
            stale_entries: 0,
        })
        .collect();
    let totals = Totals {
        entries: entries.len(),
        damage: damage.len(),
        dangling: dangling.iter().filter(|d| d.expected.is_none()).count(),
        dangling_expected: dangling.iter().filter(|d| d.expected.is_some()).count(),
        ..Totals::default()
    };
    let summary = match &error {
        Some(e) => format!("nothing usable: {e}"),
        None => format!("export JSON, {} entries; nothing to salvage", entries.len()),
    };
    let report = SalvageReport {
        outcome,
        summary,
        input,
        layout: None,
        metas: vec![],
        primary: TreeReport {
            source: "none".into(),
            txid: None,
            root: None,
            freelist: None,
            pgid: None,
            clean: error.is_none(),
            note: None,
        },
        older: None,
        pages: Default::default(),
        damage,
        damage_dropped: 0,
        buckets,
        totals,
        entries,
        conflicts: vec![],
        stale: vec![],
        undecodable: vec![],
        dangling,
    };
    Salvaged { db, report }
}

/// What a candidate turned out to be.
#[derive(Debug, Clone)]
enum Class {
    Registry(BucketKind),
    /// Index into the decoded slots.
    Entry(usize),
    Undecodable(String),
}

/// A decodable copy of an entry.
#[derive(Debug, Clone)]
struct Copy {
    cand: usize,
    slot: usize,
    origin: Origin,
    page: u64,
    key_ok: bool,
    page_damaged: bool,
    /// The page is also reachable from the other tree.
    in_other_tree: bool,
    /// Bucket named by the tree path when it disagrees with the value's type.
    misfiled: Option<String>,
}

impl Copy {
    /// Precedence: origin first; among detached copies, one the older tree does not reach (written
    /// by the newest transaction) before one it does; then intact pages, matching keys, right
    /// bucket, lowest page.
    fn rank(&self) -> (Origin, bool, bool, bool, bool, u64) {
        let older = self.origin == Origin::Detached && self.in_other_tree;
        (self.origin, older, self.page_damaged, !self.key_ok, self.misfiled.is_some(), self.page)
    }
}

/// Registry keys (spec §2.2) are 32-character ids under `MANAGE`/`STORAGE` (NODE) or `DEVICE`
/// (DEVICE) prefixes.
fn registry_kind(c: &Candidate<'_>) -> Option<BucketKind> {
    let kind = if c.key.starts_with(b"MANAGE") || c.key.starts_with(b"STORAGE") {
        BucketKind::Node
    } else if c.key.starts_with(b"DEVICE") {
        BucketKind::Device
    } else {
        return None;
    };
    (c.value.len() == 32 && c.value.iter().all(u8::is_ascii_hexdigit)).then_some(kind)
}

fn lossy_key(key: &[u8]) -> String {
    String::from_utf8_lossy(key).chars().flat_map(char::escape_default).collect()
}

/// Below this many values decoding stays on the calling thread.
const PARALLEL_THRESHOLD: usize = 512;

/// Decodes `values`, in parallel for many, each chunk with its own type cache.
fn decode_all(values: &[&[u8]]) -> Vec<Result<Entry, String>> {
    let run = |chunk: &[&[u8]]| -> Vec<Result<Entry, String>> {
        let mut cache = TypeCache::default();
        chunk.iter().map(|v| decode_entry_cached(v, None, &mut cache).map_err(|e| e.to_string())).collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if values.len() < PARALLEL_THRESHOLD || threads < 2 {
        return run(values);
    }
    let chunk_len = values.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = values.chunks(chunk_len).map(|c| scope.spawn(move || run(c))).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// A group's state during selection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    /// Taken: the chosen copy.
    Taken(usize),
    /// Stale-only, may be taken if confirmed.
    Eligible,
    /// Stale-only, not taken.
    Stale(&'static str),
}

/// State of a bucket for the resurrection rule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BucketState {
    Clean,
    /// Damaged but nothing lost.
    Repaired,
    /// Entries in these ranges may be lost.
    Damaged,
    /// Its tree was found complete among detached pages (root bucket page lost).
    Detached,
    /// Unknown: the root bucket's page naming it is lost.
    Unknown,
    Absent,
}

impl BucketState {
    fn name(&self) -> &'static str {
        match self {
            BucketState::Clean => "clean",
            BucketState::Repaired => "repaired",
            BucketState::Damaged => "damaged",
            BucketState::Detached => "detached",
            BucketState::Unknown => "unknown",
            BucketState::Absent => "absent",
        }
    }
}

fn salvage_bolt_inner(data: &[u8], input: InputReport) -> Salvaged {
    let sv = bolt_salvage::salvage(data);
    let cands = &sv.candidates;

    // Classify: registry keys, then decode every distinct value once.
    let mut slot_of: HashMap<&[u8], usize> = HashMap::new();
    let mut values: Vec<&[u8]> = Vec::new();
    let mut class: Vec<Option<Class>> = Vec::with_capacity(cands.len());
    for c in cands {
        if let Some(k) = registry_kind(c) {
            class.push(Some(Class::Registry(k)));
            continue;
        }
        let next = values.len();
        let slot = *slot_of.entry(c.value).or_insert_with(|| {
            values.push(c.value);
            next
        });
        class.push(Some(Class::Entry(slot)));
    }
    let decoded = decode_all(&values);
    for cl in class.iter_mut() {
        if let Some(Class::Entry(slot)) = cl {
            if let Some(Err(e)) = decoded.get(*slot) {
                *cl = Some(Class::Undecodable(e.clone()));
            }
        }
    }
    let entry_of = |slot: usize| decoded.get(slot).and_then(|r| r.as_ref().ok());

    // Bucket states.
    let detached_kinds: HashSet<BucketKind> = cands
        .iter()
        .zip(&class)
        .filter(|(c, _)| c.origin == Origin::Detached)
        .filter_map(|(_, cl)| match cl {
            Some(Class::Entry(s)) => entry_of(*s).map(Entry::kind),
            Some(Class::Registry(k)) => Some(*k),
            _ => None,
        })
        .collect();
    let state_of = |k: BucketKind| -> BucketState {
        match sv.bucket(k.bucket_name().as_bytes()) {
            Some(b) if b.clean => BucketState::Clean,
            Some(b) if b.lossy.is_empty() => BucketState::Repaired,
            Some(_) => BucketState::Damaged,
            None if !sv.root_lossy => BucketState::Absent,
            // The root page naming it is lost but every detached page is readable: a bucket
            // with its own tree is wholly among the detached pages.
            None if sv.detached_accounted && detached_kinds.contains(&k) => BucketState::Detached,
            None => BucketState::Unknown,
        }
    };
    let states: BTreeMap<BucketKind, BucketState> =
        BucketKind::ALL.iter().map(|&k| (k, state_of(k))).collect();

    // Live/detached values that do not decode: their keys are lost.
    let mut lost_keys: HashSet<(Option<&[u8]>, &[u8])> = HashSet::new();
    let mut undecodable = Vec::new();
    let mut undecodable_per_bucket: BTreeMap<Option<BucketKind>, usize> = BTreeMap::new();
    for (c, cl) in cands.iter().zip(&class) {
        if let Some(Class::Undecodable(e)) = cl {
            if matches!(c.origin, Origin::LiveTree | Origin::Detached) {
                lost_keys.insert((c.bucket, c.key));
                let kind = c.bucket.and_then(BucketKind::from_bucket_name);
                *undecodable_per_bucket.entry(kind).or_default() += 1;
                undecodable.push(UndecodableReport {
                    bucket: c.bucket.map(|b| String::from_utf8_lossy(b).into_owned()),
                    key: lossy_key(c.key),
                    origin: c.origin,
                    page: c.page,
                    error: e.clone(),
                });
            }
        }
    }

    // Group copies by (bucket, id).
    let mut groups: BTreeMap<(BucketKind, String), Vec<Copy>> = BTreeMap::new();
    let mut registry: BTreeMap<BucketKind, usize> = BTreeMap::new();
    for (i, (c, cl)) in cands.iter().zip(&class).enumerate() {
        match cl {
            Some(Class::Registry(k)) if c.origin == Origin::LiveTree => {
                *registry.entry(*k).or_default() += 1;
            }
            Some(Class::Entry(slot)) => {
                let Some(e) = entry_of(*slot) else { continue };
                let kind = e.kind();
                let misfiled = c
                    .bucket
                    .filter(|b| *b != kind.bucket_name().as_bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned());
                groups.entry((kind, e.id().to_owned())).or_default().push(Copy {
                    cand: i,
                    slot: *slot,
                    origin: c.origin,
                    page: c.page,
                    key_ok: c.key == e.id().as_bytes(),
                    page_damaged: c.page_damaged,
                    in_other_tree: c.in_other_tree,
                    misfiled,
                });
            }
            _ => {}
        }
    }
    for copies in groups.values_mut() {
        copies.sort_by_key(Copy::rank);
    }

    // Resurrection eligibility of a stale-only entry.
    let eligible = |kind: BucketKind, copies: &[Copy]| -> bool {
        let keys: Vec<&[u8]> = copies.iter().filter_map(|c| cands.get(c.cand)).map(|c| c.key).collect();
        let lost = keys.iter().any(|k| {
            lost_keys.contains(&(Some(kind.bucket_name().as_bytes()), *k)) || lost_keys.contains(&(None, *k))
        });
        lost || match states.get(&kind) {
            Some(BucketState::Damaged) => {
                let walk = sv.bucket(kind.bucket_name().as_bytes());
                keys.iter().any(|k| walk.is_some_and(|w| w.may_have_lost(k)))
            }
            Some(BucketState::Unknown) => true,
            _ => false,
        }
    };

    // Phase 1: live and detached copies; phase 2: conflicts among them.
    let mut decisions: BTreeMap<(BucketKind, String), Decision> = BTreeMap::new();
    let mut conflicts_pending: Vec<(BucketKind, String)> = Vec::new();
    for (key, copies) in &groups {
        let Some(best) = copies.first() else { continue };
        if matches!(best.origin, Origin::LiveTree | Origin::Detached) {
            if distinct_at_best(copies) > 1 {
                conflicts_pending.push(key.clone());
            } else {
                decisions.insert(key.clone(), Decision::Taken(0));
            }
        } else if eligible(key.0, copies) {
            decisions.insert(key.clone(), Decision::Eligible);
        } else {
            decisions.insert(
                key.clone(),
                Decision::Stale("its live subtree is readable: an older version or a deleted entry"),
            );
        }
    }
    let mut db = Db::default();
    let take = |db: &mut Db, copies: &[Copy], i: usize| {
        if let Some(e) = copies.get(i).and_then(|c| entry_of(c.slot)) {
            db.insert(e.clone());
        }
    };
    for (key, d) in &decisions {
        if let (Decision::Taken(i), Some(copies)) = (d, groups.get(key)) {
            take(&mut db, copies, *i);
        }
    }
    let mut conflicts = Vec::new();
    for key in conflicts_pending {
        let Some(copies) = groups.get(&key) else { continue };
        let (i, report) = resolve(&key, copies, &db, &entry_of);
        conflicts.push(report);
        take(&mut db, copies, i);
        decisions.insert(key, Decision::Taken(i));
    }

    // Phase 3: stale-only entries. A copy from a page of unknown status (the freelist is
    // unreadable) is taken unless the entries already taken contradict it; a copy known to be
    // stale (freed, older tree, beyond pgid) only when a taken entry names it. Buckets are visited
    // containers first (cluster, node, volume, device, brick, …) and the loop runs to a fixpoint.
    let eligible_keys: Vec<(BucketKind, String)> =
        decisions.iter().filter(|(_, d)| **d == Decision::Eligible).map(|(k, _)| k.clone()).collect();
    let unknown_status =
        |c: &Copy| c.origin == Origin::Unaccounted || (c.origin == Origin::OtherTree && !sv.free_known);
    let mut named = named_ids(&db);
    loop {
        let mut changed = false;
        for key in &eligible_keys {
            if decisions.get(key) != Some(&Decision::Eligible) {
                continue;
            }
            let Some(copies) = groups.get(key) else { continue };
            let confirmed = key.0 == BucketKind::DbAttribute || named.contains(key);
            let unopposed = key.0 != BucketKind::PendingOperations
                && copies.first().is_some_and(unknown_status)
                && copies
                    .first()
                    .and_then(|c| entry_of(c.slot))
                    .is_some_and(|e| refs::contradiction(e.as_ref(), &db).is_none());
            if !confirmed && !unopposed {
                continue;
            }
            let (i, report) = resolve(key, copies, &db, &entry_of);
            if distinct_at_best(copies) > 1 {
                conflicts.push(report);
            }
            take(&mut db, copies, i);
            if let Some(e) = copies.get(i).and_then(|c| entry_of(c.slot)) {
                for r in e.as_ref().references() {
                    named.insert((r.to, r.id.to_owned()));
                    if let Some(alt) = r.alt {
                        named.insert((alt, r.id.to_owned()));
                    }
                }
            }
            decisions.insert(key.clone(), Decision::Taken(i));
            changed = true;
        }
        if !changed {
            break;
        }
    }
    for d in decisions.values_mut() {
        if *d == Decision::Eligible {
            *d = Decision::Stale("found only in stale pages and no recovered entry names it");
        }
    }

    // Report.
    let dangling = refs::dangling_references(&db);
    let mut dangling_from: HashMap<(BucketKind, &str), Vec<&refs::Dangling>> = HashMap::new();
    for d in dangling.iter().filter(|d| d.expected.is_none()) {
        dangling_from.entry((d.from_bucket, d.from_id.as_str())).or_default().push(d);
    }
    // The other tree is another consistent state, not a valid older meta: no meta says which of
    // the two is newer, so versions that differ are flagged.
    let alternative = sv.older.is_some_and(|o| o.slot.is_none());
    let mut entries = Vec::new();
    let mut anomalies = 0usize;
    let mut stale = Vec::new();
    let mut superseded: BTreeMap<BucketKind, usize> = BTreeMap::new();
    let mut by_origin: BTreeMap<BucketKind, BTreeMap<Origin, usize>> = BTreeMap::new();
    for (key, d) in &decisions {
        let Some(copies) = groups.get(key) else { continue };
        match d {
            Decision::Taken(i) => {
                let Some(c) = copies.get(*i) else { continue };
                *by_origin.entry(key.0).or_default().entry(c.origin).or_default() += 1;
                let chosen_value = values.get(c.slot).copied().unwrap_or(&[]);
                let differing: Vec<&Copy> = copies
                    .iter()
                    .filter(|x| values.get(x.slot).copied().unwrap_or(&[]) != chosen_value)
                    .collect();
                *superseded.entry(key.0).or_default() += differing.len();
                let mut notes = Vec::new();
                let older_txid = sv.older.and_then(|o| o.txid);
                match c.origin {
                    Origin::LiveTree => {}
                    Origin::Detached if sv.free_estimated => notes.push(
                        "from a page the damaged tree no longer reaches and that the estimated freelist does not \
                         list: probably live data"
                            .to_owned(),
                    ),
                    Origin::Detached => notes.push(
                        "from a page the damaged tree no longer reaches (neither reachable nor free: live data)".to_owned(),
                    ),
                    o if unknown_status(c) => notes.push(format!(
                        "from a page of unknown status ({o}; the freelist is unreadable): current or stale, the \
                         live tree cannot tell"
                    )),
                    Origin::OtherTree => notes.push(match older_txid {
                        Some(t) => format!("the live copy is lost; this is the version of transaction {t} (older meta)"),
                        None => "the live copy is lost; this version is from another consistent state".to_owned(),
                    }),
                    Origin::BeyondPgid => notes.push(
                        "only a copy beyond the high-water mark survives (written by a transaction that never \
                         committed)"
                            .to_owned(),
                    ),
                    o => notes.push(format!(
                        "only a stale copy ({o}) survives: the live copy is lost; this version may be outdated"
                    )),
                }
                if c.page_damaged {
                    notes.push("read from a damaged page".into());
                }
                if !c.key_ok {
                    let k = cands.get(c.cand).map(|x| lossy_key(x.key)).unwrap_or_default();
                    notes.push(format!("stored under key {k:?}, not its id"));
                }
                if let Some(b) = &c.misfiled {
                    notes.push(format!("found in bucket {b}'s tree"));
                }
                if let Some(e) = entry_of(c.slot) {
                    let bad = refs::malformed_ids(e.as_ref());
                    if !bad.is_empty() {
                        anomalies += 1;
                        let more = if bad.len() > 3 {
                            format!(" and {} more", bad.len() - 3)
                        } else {
                            String::new()
                        };
                        notes.push(format!(
                            "malformed ids (damaged content?): {}{more}",
                            bad.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
                if !c.key_ok || c.misfiled.is_some() || c.page_damaged {
                    anomalies += 1;
                }
                if alternative
                    && c.origin == Origin::LiveTree
                    && !c.in_other_tree
                    && !copies.iter().any(|x| x.origin == Origin::OtherTree)
                {
                    notes.push(
                        "absent from another consistent state of the file (no valid meta says which is newer)".into(),
                    );
                }
                if alternative && differing.iter().any(|x| x.origin == Origin::OtherTree) {
                    notes.push(
                        "another consistent state of the file holds a different version (no valid meta says which \
                         is newer)"
                            .into(),
                    );
                }
                if let Some(ds) = dangling_from.get(&(key.0, key.1.as_str())) {
                    let list: Vec<String> =
                        ds.iter().take(4).map(|d| format!("{} {}", d.bucket.bucket_name(), d.id)).collect();
                    let extra =
                        if ds.len() > 4 { format!(" and {} more", ds.len() - 4) } else { String::new() };
                    notes.push(format!("names missing {}{extra}", list.join(", ")));
                }
                entries.push(EntryReport {
                    bucket: key.0,
                    id: key.1.clone(),
                    origin: c.origin,
                    page: c.page,
                    notes,
                });
            }
            Decision::Stale(reason) => {
                let reason = if alternative && copies.iter().any(|x| x.origin == Origin::OtherTree) {
                    "only in another consistent state of the file (no valid meta says which is newer): created by \
                     the newer transaction or deleted by it"
                } else {
                    reason
                };
                let mut seen = BTreeSet::new();
                let copies_r: Vec<CopyReport> = copies
                    .iter()
                    .filter(|x| seen.insert((x.origin, x.page)))
                    .map(|x| CopyReport { origin: x.origin, page: x.page })
                    .collect();
                stale.push(StaleReport {
                    bucket: key.0,
                    id: key.1.clone(),
                    copies: copies_r,
                    reason: reason.into(),
                });
            }
            Decision::Eligible => {}
        }
    }
    entries.sort_by(|a, b| (a.bucket, &a.id).cmp(&(b.bucket, &b.id)));

    let buckets: Vec<BucketReport> = BucketKind::ALL
        .iter()
        .map(|&k| {
            let st = states.get(&k).cloned().unwrap_or(BucketState::Unknown);
            let lossy_ranges = match (&st, sv.bucket(k.bucket_name().as_bytes())) {
                (BucketState::Damaged, Some(b)) => b
                    .lossy
                    .iter()
                    .map(|r| KeyRangeReport { from: r.start.map(lossy_key), to: r.end.map(lossy_key) })
                    .collect(),
                (BucketState::Unknown, _) => vec![KeyRangeReport { from: None, to: None }],
                _ => vec![],
            };
            BucketReport {
                bucket: k,
                state: st.name(),
                lossy_ranges,
                recovered: db.count(k),
                by_origin: by_origin.get(&k).cloned().unwrap_or_default(),
                registry_keys: registry.get(&k).copied().unwrap_or(0),
                undecodable: undecodable_per_bucket.get(&Some(k)).copied().unwrap_or(0),
                superseded_copies: superseded.get(&k).copied().unwrap_or(0),
                stale_entries: stale.iter().filter(|s| s.bucket == k).count(),
            }
        })
        .collect();

    let report = build_report(
        &sv,
        input,
        &db,
        entries,
        conflicts,
        stale,
        undecodable,
        dangling,
        buckets,
        &states,
        anomalies,
    );
    Salvaged { db, report }
}

/// Distinct values among the copies of the best rank.
fn distinct_at_best(copies: &[Copy]) -> usize {
    let Some(best) = copies.first() else { return 0 };
    copies.iter().filter(|c| same_rank(c, best)).map(|c| c.slot).collect::<BTreeSet<_>>().len()
}

/// Same origin (and, for detached copies, same side of the older tree).
fn same_rank(a: &Copy, b: &Copy) -> bool {
    a.rank().0 == b.rank().0 && a.rank().1 == b.rank().1
}

/// Ids named by the entries of `db`.
fn named_ids(db: &Db) -> HashSet<(BucketKind, String)> {
    let mut out = HashSet::new();
    for e in db.entries() {
        for r in e.references() {
            out.insert((r.to, r.id.to_owned()));
            if let Some(alt) = r.alt {
                out.insert((alt, r.id.to_owned()));
            }
        }
    }
    out
}

/// Chooses among the best-ranked copies of one entry (spec §1.13 step 4): the version that fits
/// `db` best, then the one with most identical copies, then the lowest page.
fn resolve<'e>(
    key: &(BucketKind, String),
    copies: &[Copy],
    db: &Db,
    entry_of: &dyn Fn(usize) -> Option<&'e Entry>,
) -> (usize, ConflictReport) {
    let Some(first) = copies.first() else {
        let empty = CopyReport { origin: Origin::LiveTree, page: 0 };
        let r = ConflictReport {
            bucket: key.0,
            id: key.1.clone(),
            chosen: empty,
            others: vec![],
            reason: String::new(),
        };
        return (0, r);
    };
    let best_origin = first.origin;
    let mut best: Option<(i64, usize, std::cmp::Reverse<u64>, usize)> = None;
    for (i, c) in copies.iter().enumerate().filter(|(_, c)| same_rank(c, first)) {
        let score = entry_of(c.slot).map_or(i64::MIN, |e| refs::support(e.as_ref(), db));
        let same = copies.iter().filter(|x| same_rank(x, first) && x.slot == c.slot).count();
        let cand = (score, same, std::cmp::Reverse(c.page), i);
        if best.as_ref().is_none_or(|b| (cand.0, cand.1, cand.2) > (b.0, b.1, b.2)) {
            best = Some(cand);
        }
    }
    let (score, same, _, chosen) = best.unwrap_or((0, 0, std::cmp::Reverse(0), 0));
    let c = copies.get(chosen);
    let others = copies
        .iter()
        .filter(|x| same_rank(x, first) && Some(x.slot) != c.map(|c| c.slot))
        .map(|x| CopyReport { origin: x.origin, page: x.page })
        .collect();
    let report = ConflictReport {
        bucket: key.0,
        id: key.1.clone(),
        chosen: CopyReport { origin: best_origin, page: c.map_or(0, |c| c.page) },
        others,
        reason: format!(
            "best fit with the other recovered entries (support {score}, {same} identical copies)"
        ),
    };
    (chosen, report)
}

#[allow(clippy::too_many_arguments)]
fn build_report(
    sv: &PageSalvage<'_>,
    input: InputReport,
    db: &Db,
    entries: Vec<EntryReport>,
    conflicts: Vec<ConflictReport>,
    stale: Vec<StaleReport>,
    undecodable: Vec<UndecodableReport>,
    dangling: Vec<refs::Dangling>,
    buckets: Vec<BucketReport>,
    states: &BTreeMap<BucketKind, BucketState>,
    anomalies: usize,
) -> SalvageReport {
    let layout = sv.layout.map(|l| LayoutReport {
        page_size: l.page_size,
        page_size_from: match l.source {
            bolt_salvage::PageSizeSource::Meta { slot } => format!("meta {slot}"),
            bolt_salvage::PageSizeSource::Probe => "probe".into(),
        },
        big_endian: l.endian == crate::bolt::Endian::Big,
    });
    let primary_slot = match sv.primary {
        Primary::Meta { slot, .. } => Some(slot),
        _ => None,
    };
    let older_slot = sv.older.and_then(|o| o.slot);
    let metas = sv
        .metas
        .iter()
        .enumerate()
        .map(|(i, m)| MetaReport {
            slot: i,
            valid: m.valid(),
            error: m.error.as_ref().map(|e| e.to_string()),
            txid: m.raw.as_ref().map(|r| r.txid),
            root: m.raw.as_ref().map(|r| r.root),
            freelist: m.raw.as_ref().map(|r| r.freelist),
            pgid: m.raw.as_ref().map(|r| r.pgid),
            role: if primary_slot == Some(i) {
                "primary"
            } else if older_slot == Some(i) {
                "older"
            } else {
                "unused"
            },
        })
        .collect();
    let tree_clean = !sv.damage.iter().any(|d| {
        matches!(
            d.area,
            bolt_salvage::Area::Tree | bolt_salvage::Area::Detached | bolt_salvage::Area::Freelist
        )
    });
    let primary = match &sv.primary {
        Primary::Meta { slot, txid } => {
            let m = sv.metas.get(*slot).and_then(|m| m.raw.as_ref());
            TreeReport {
                source: format!("meta {slot}"),
                txid: Some(*txid),
                root: m.map(|m| m.root),
                freelist: m.map(|m| m.freelist),
                pgid: m.map(|m| m.pgid),
                clean: tree_clean,
                note: None,
            }
        }
        Primary::Reconstructed { root, freelist, pgid, how, .. } => TreeReport {
            source: "reconstructed".into(),
            txid: None,
            root: Some(*root),
            freelist: *freelist,
            pgid: Some(*pgid),
            clean: tree_clean,
            note: Some(how.clone()),
        },
        Primary::None => TreeReport {
            source: "none".into(),
            txid: None,
            root: None,
            freelist: None,
            pgid: None,
            clean: false,
            note: None,
        },
    };
    let older = sv.older.map(|o| TreeReport {
        source: o.slot.map_or_else(
            || "another consistent state found in the pages".to_owned(),
            |s| format!("meta {s}"),
        ),
        txid: o.txid,
        root: Some(o.root),
        freelist: o.slot.and_then(|s| sv.metas.get(s)).and_then(|m| m.raw.as_ref()).map(|m| m.freelist),
        pgid: o.slot.and_then(|s| sv.metas.get(s)).and_then(|m| m.raw.as_ref()).map(|m| m.pgid),
        clean: o.clean,
        note: None,
    });

    let lossy = states.values().any(|s| matches!(s, BucketState::Damaged | BucketState::Unknown));
    let stale_taken = entries.iter().any(|e| e.origin > Origin::Detached);
    // A reconstructed root is the newest consistent state in the pages, not necessarily the last
    // committed one (a transaction whose meta never reached the disk leaves one too).
    let uncertain_root = !matches!(sv.primary, Primary::Meta { .. });
    let newer_meta_lost = match sv.primary {
        Primary::Meta { txid, .. } => {
            sv.metas.iter().any(|m| !m.valid() && m.raw.as_ref().is_none_or(|r| r.txid > txid))
        }
        _ => false,
    };
    let losses = lossy
        || stale_taken
        || uncertain_root
        || newer_meta_lost
        || !undecodable.is_empty()
        || anomalies > 0
        || sv.candidates_dropped > 0
        || sv.pgid > sv.census.file_pages;
    let damaged = sv.damaged() || !undecodable.is_empty() || anomalies > 0;
    let outcome = if db.is_empty() && (damaged || sv.layout.is_none()) {
        Outcome::NothingUsable
    } else if !damaged {
        Outcome::Clean
    } else if losses {
        Outcome::Losses
    } else {
        Outcome::Recovered
    };
    let flagged = entries.iter().filter(|e| e.flagged()).count();
    let totals = Totals {
        entries: entries.len(),
        flagged,
        damage: sv.damage.iter().filter(|d| d.affects_live).count() + sv.damage_dropped as usize,
        conflicts: conflicts.len(),
        stale_entries: stale.len(),
        undecodable: undecodable.len(),
        dangling: dangling.iter().filter(|d| d.expected.is_none()).count(),
        dangling_expected: dangling.iter().filter(|d| d.expected.is_some()).count(),
    };
    let n = |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    let summary = match outcome {
        Outcome::Clean => format!("clean read, {}, no damage", n(totals.entries, "entry", "entries")),
        Outcome::Recovered => format!(
            "damaged ({}) but every entry of the current tree recovered: {} ({} to check)",
            n(totals.damage, "problem", "problems"),
            n(totals.entries, "entry", "entries"),
            totals.flagged
        ),
        Outcome::Losses => format!(
            "salvaged WITH LOSSES: {} recovered ({} to check), {}, {} referenced but not recovered",
            n(totals.entries, "entry", "entries"),
            totals.flagged,
            n(totals.damage, "damage record", "damage records"),
            n(totals.dangling, "id", "ids")
        ),
        Outcome::NothingUsable => "nothing usable recovered".to_owned(),
    };
    SalvageReport {
        outcome,
        summary,
        input,
        layout,
        metas,
        primary,
        older,
        pages: sv.census,
        damage: sv.damage.clone(),
        damage_dropped: sv.damage_dropped,
        buckets,
        totals,
        entries,
        conflicts,
        stale,
        undecodable,
        dangling,
    }
}
