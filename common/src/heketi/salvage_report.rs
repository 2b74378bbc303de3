//! The salvage report: what was read, what was damaged, where every recovered entry came from,
//! what was left out and which ids a rebuild must fill. Serialisable (`--report-json`) and
//! rendered as text for stderr.

// Salvage runs over damaged input: it must not be able to panic (as in `bolt`).
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::fmt::Write as _;

use serde::Serialize;

use crate::bolt::salvage::{Damage, Origin, PageCensus};

use super::entry::BucketKind;
use super::refs::Dangling;

/// Overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The file read cleanly: the export is exactly what a normal export gives.
    Clean,
    /// The file is damaged but every entry of the current tree was recovered.
    Recovered,
    /// The file is damaged and entries may be missing or outdated (see the report).
    Losses,
    /// Nothing could be recovered.
    NothingUsable,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Clean => "clean",
            Outcome::Recovered => "recovered",
            Outcome::Losses => "losses",
            Outcome::NothingUsable => "nothing-usable",
        }
    }
}

/// The input as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputReport {
    /// Bytes of the input file.
    pub bytes: usize,
    /// Detected format: `bolt`, `export-json` or `unknown`.
    pub format: &'static str,
    /// Set when the input was gzip.
    pub gzip: Option<GzipReport>,
}

/// Gzip decompression of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GzipReport {
    /// Bytes decompressed.
    pub decompressed: usize,
    /// Why decompression stopped early, if it did (the bytes before are used).
    pub error: Option<String>,
}

/// Page layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayoutReport {
    pub page_size: usize,
    /// `meta 0`, `meta 1` or `probe`.
    pub page_size_from: String,
    pub big_endian: bool,
}

/// One meta slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetaReport {
    pub slot: usize,
    pub valid: bool,
    /// Why it is unusable.
    pub error: Option<String>,
    /// Raw fields, when the page still carries bolt's magic.
    pub txid: Option<u64>,
    pub root: Option<u64>,
    pub freelist: Option<u64>,
    pub pgid: Option<u64>,
    /// `primary`, `older` or `unused`.
    pub role: &'static str,
}

/// A tree salvage walked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeReport {
    /// `meta 0`, `meta 1`, `reconstructed` or `none`.
    pub source: String,
    pub txid: Option<u64>,
    pub root: Option<u64>,
    pub freelist: Option<u64>,
    pub pgid: Option<u64>,
    /// Read without any damage.
    pub clean: bool,
    /// How a reconstructed root was chosen.
    pub note: Option<String>,
}

/// Per bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketReport {
    pub bucket: BucketKind,
    /// `clean`, `repaired` (damaged, nothing lost), `damaged` (entries in `lossy_ranges` may be
    /// missing), `detached` (its tree was found among detached pages), `unknown` (the root
    /// bucket's page naming it is lost) or `absent`.
    pub state: &'static str,
    /// Key ranges of the live tree whose entries may be lost.
    pub lossy_ranges: Vec<KeyRangeReport>,
    /// Entries recovered.
    pub recovered: usize,
    /// Recovered entries per origin (only non-zero ones).
    pub by_origin: std::collections::BTreeMap<Origin, usize>,
    /// Non-gob registry keys (`MANAGE…`, `STORAGE…`, `DEVICE…`) in the live tree.
    pub registry_keys: usize,
    /// Live or detached values that could not be decoded (entries lost).
    pub undecodable: usize,
    /// Other copies of recovered entries that differ from the chosen one (older versions).
    pub superseded_copies: usize,
    /// Entries found only in stale pages and not used.
    pub stale_entries: usize,
}

/// A key range `[from, to)`; `None` = unbounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRangeReport {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One recovered entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryReport {
    pub bucket: BucketKind,
    pub id: String,
    pub origin: Origin,
    pub page: u64,
    /// Everything the operator should know about this entry; empty for an entry read from an
    /// intact page of the live tree.
    pub notes: Vec<String>,
}

impl EntryReport {
    /// Whether the entry needs the operator's attention (not plainly from the live tree).
    pub fn flagged(&self) -> bool {
        self.origin != Origin::LiveTree || !self.notes.is_empty()
    }
}

/// A copy of an entry: where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub origin: Origin,
    pub page: u64,
}

/// Different versions of one entry in equally ranked pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictReport {
    pub bucket: BucketKind,
    pub id: String,
    pub chosen: CopyReport,
    pub others: Vec<CopyReport>,
    pub reason: String,
}

/// An entry found only in stale pages and left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleReport {
    pub bucket: BucketKind,
    pub id: String,
    pub copies: Vec<CopyReport>,
    pub reason: String,
}

/// A value that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndecodableReport {
    pub bucket: Option<String>,
    pub key: String,
    pub origin: Origin,
    pub page: u64,
    pub error: String,
}

/// Totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub entries: usize,
    pub flagged: usize,
    pub damage: usize,
    pub conflicts: usize,
    pub stale_entries: usize,
    pub undecodable: usize,
    pub dangling: usize,
    pub dangling_expected: usize,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SalvageReport {
    pub outcome: Outcome,
    /// One line.
    pub summary: String,
    pub input: InputReport,
    pub layout: Option<LayoutReport>,
    pub metas: Vec<MetaReport>,
    pub primary: TreeReport,
    pub older: Option<TreeReport>,
    pub pages: PageCensus,
    pub damage: Vec<Damage>,
    /// Damage records beyond the cap, counted.
    pub damage_dropped: u64,
    pub buckets: Vec<BucketReport>,
    pub totals: Totals,
    /// Every recovered entry, bucket by bucket, ids ascending.
    pub entries: Vec<EntryReport>,
    pub conflicts: Vec<ConflictReport>,
    pub stale: Vec<StaleReport>,
    pub undecodable: Vec<UndecodableReport>,
    /// Ids referenced but not recovered: what a rebuild must fill from the live cluster.
    pub dangling: Vec<Dangling>,
}

/// Lines of each list shown in the text rendering (the JSON has them all).
const TEXT_LIST_LIMIT: usize = 40;
/// More flagged entries of one bucket with identical notes than this are summarised in one line.
const GROUP_THRESHOLD: usize = 5;

fn more(out: &mut String, total: usize) {
    if total > TEXT_LIST_LIMIT {
        let _ = writeln!(out, "    … and {} more (--report-json lists all)", total - TEXT_LIST_LIMIT);
    }
}

impl SalvageReport {
    /// Human-readable rendering for stderr. `name` is the input's name.
    pub fn to_text(&self, name: &str) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "salvage of {name}: {}", self.summary);
        let fmt = match &self.input.gzip {
            Some(g) => match &g.error {
                Some(e) => {
                    format!("{} (gzip, {} bytes decompressed, then: {e})", self.input.format, g.decompressed)
                }
                None => format!("{} (gzip, {} bytes decompressed)", self.input.format, g.decompressed),
            },
            None => self.input.format.to_owned(),
        };
        let _ = writeln!(o, "  input:    {} bytes, {fmt}", self.input.bytes);
        if let Some(l) = &self.layout {
            let _ = writeln!(
                o,
                "  layout:   page size {} (from {}), {}, {} pages, high-water mark {}",
                l.page_size,
                l.page_size_from,
                if l.big_endian { "big-endian" } else { "little-endian" },
                self.pages.file_pages,
                self.pages.pgid
            );
        }
        for m in &self.metas {
            let fields = match m.txid {
                Some(t) => {
                    format!("txid {t}, root {}, freelist {}", m.root.unwrap_or(0), m.freelist.unwrap_or(0))
                }
                None => "no bolt magic".into(),
            };
            let state = match &m.error {
                None => "valid".to_owned(),
                Some(e) => format!("INVALID: {}", e.strip_prefix(&format!("meta {}: ", m.slot)).unwrap_or(e)),
            };
            let _ = writeln!(o, "  meta {}:   {state}; {fields} [{}]", m.slot, m.role);
        }
        let tree = |t: &TreeReport| {
            let mut s = t.source.clone();
            if let Some(r) = t.root {
                let _ = write!(s, ", root page {r}");
            }
            s.push_str(if t.clean { ", read without damage" } else { ", DAMAGED" });
            if let Some(n) = &t.note {
                let _ = write!(s, " ({n})");
            }
            s
        };
        let _ = writeln!(o, "  tree:     {}", tree(&self.primary));
        if let Some(t) = &self.older {
            let _ = writeln!(o, "  older:    {}", tree(t));
        }
        let p = &self.pages;
        let _ = writeln!(
            o,
            "  pages:    {} scanned: {} live, {} freelist, {} free, {} detached, {} unaccounted, {} beyond pgid, {} \
             missing; {} other leaf pages read, {} zeroed, {} unreadable",
            p.scanned,
            p.live,
            p.freelist,
            p.free,
            p.detached,
            p.unaccounted,
            p.beyond_pgid,
            p.missing,
            p.leaf_pages_read,
            p.zeroed,
            p.unreadable
        );

        let damage: Vec<&Damage> = self.damage.iter().filter(|d| d.affects_live).collect();
        let informational = self.damage.len() - damage.len();
        if !damage.is_empty() {
            let _ = writeln!(o, "\ndamage ({}):", damage.len() + self.damage_dropped as usize);
            for d in damage.iter().take(TEXT_LIST_LIMIT) {
                let b = d.bucket.as_deref().map(|b| format!("[{b}] ")).unwrap_or_default();
                let _ = writeln!(o, "  {b}{}", d.what);
            }
            more(&mut o, damage.len());
        }
        if informational > 0 {
            let _ = writeln!(o, "\nnot affecting the current data ({informational}):");
            for d in self.damage.iter().filter(|d| !d.affects_live).take(TEXT_LIST_LIMIT) {
                let _ = writeln!(o, "  {:?}: {}", d.area, d.what);
            }
            more(&mut o, informational);
        }

        let _ = writeln!(o, "\nentries recovered:");
        let _ = writeln!(
            o,
            "  {:<20} {:>7}  {:<38} {:>8} {:>11} {:>10} {:>6}  state",
            "bucket", "entries", "from", "registry", "undecodable", "superseded", "stale"
        );
        for b in &self.buckets {
            let from = if b.by_origin.is_empty() {
                "-".to_owned()
            } else {
                b.by_origin.iter().map(|(o, n)| format!("{n} {o}")).collect::<Vec<_>>().join(", ")
            };
            let mut state = b.state.to_owned();
            if !b.lossy_ranges.is_empty() {
                let r: Vec<String> = b
                    .lossy_ranges
                    .iter()
                    .map(|r| match (&r.from, &r.to) {
                        (None, None) => "all keys".to_owned(),
                        (a, z) => format!(
                            "[{}, {})",
                            a.as_deref().map_or("…".into(), short),
                            z.as_deref().map_or("…".into(), short)
                        ),
                    })
                    .collect();
                let _ = write!(state, ": may miss {}", r.join(" "));
            }
            let _ = writeln!(
                o,
                "  {:<20} {:>7}  {:<38} {:>8} {:>11} {:>10} {:>6}  {state}",
                b.bucket.bucket_name(),
                b.recovered,
                from,
                b.registry_keys,
                b.undecodable,
                b.superseded_copies,
                b.stale_entries
            );
        }

        let flagged: Vec<&EntryReport> = self.entries.iter().filter(|e| e.flagged()).collect();
        if !flagged.is_empty() {
            let _ = writeln!(o, "\nentries to check ({}), not plainly from the live tree:", flagged.len());
            // Many entries with the same story (a whole detached subtree) make one line per
            // bucket; the rest are listed one by one.
            let story = |e: &EntryReport| (e.bucket, e.origin, e.notes.join("; "));
            let mut groups: std::collections::BTreeMap<(BucketKind, Origin, String), usize> =
                Default::default();
            for e in &flagged {
                *groups.entry(story(e)).or_default() += 1;
            }
            for ((bucket, origin, notes), n) in groups.iter().filter(|(_, n)| **n > GROUP_THRESHOLD) {
                let _ = writeln!(o, "  {n} {bucket} entries ({origin}): {notes}");
            }
            let single: Vec<&EntryReport> = flagged
                .iter()
                .copied()
                .filter(|e| groups.get(&story(e)).is_none_or(|n| *n <= GROUP_THRESHOLD))
                .collect();
            for e in single.iter().take(TEXT_LIST_LIMIT) {
                let notes = e.notes.join("; ");
                let _ = writeln!(o, "  {} {} ({} page {}): {notes}", e.bucket, e.id, e.origin, e.page);
            }
            more(&mut o, single.len());
        }
        if !self.conflicts.is_empty() {
            let _ = writeln!(o, "\nconflicting versions ({}):", self.conflicts.len());
            for c in self.conflicts.iter().take(TEXT_LIST_LIMIT) {
                let others: Vec<String> =
                    c.others.iter().map(|x| format!("{} page {}", x.origin, x.page)).collect();
                let _ = writeln!(
                    o,
                    "  {} {}: chose {} page {} over {}: {}",
                    c.bucket,
                    c.id,
                    c.chosen.origin,
                    c.chosen.page,
                    others.join(", "),
                    c.reason
                );
            }
            more(&mut o, self.conflicts.len());
        }
        if !self.undecodable.is_empty() {
            let _ = writeln!(
                o,
                "\nundecodable values of the current data ({}), entries lost:",
                self.undecodable.len()
            );
            for u in self.undecodable.iter().take(TEXT_LIST_LIMIT) {
                let _ = writeln!(
                    o,
                    "  {} key {} ({} page {}): {}",
                    u.bucket.as_deref().unwrap_or("?"),
                    u.key,
                    u.origin,
                    u.page,
                    u.error
                );
            }
            more(&mut o, self.undecodable.len());
        }
        if !self.stale.is_empty() {
            let _ = writeln!(o, "\nstale copies seen, not used ({}):", self.stale.len());
            for s in self.stale.iter().take(TEXT_LIST_LIMIT) {
                let pages: Vec<String> =
                    s.copies.iter().map(|x| format!("{} page {}", x.origin, x.page)).collect();
                let _ = writeln!(o, "  {} {} ({}): {}", s.bucket, s.id, pages.join(", "), s.reason);
            }
            more(&mut o, self.stale.len());
        }
        let missing: Vec<&Dangling> = self.dangling.iter().filter(|d| d.expected.is_none()).collect();
        if !missing.is_empty() {
            let _ = writeln!(
                o,
                "\ndangling references ({}): ids referenced but not recovered — a rebuild must fill these from the \
                 live cluster:",
                missing.len()
            );
            for d in missing.iter().take(TEXT_LIST_LIMIT) {
                let _ = writeln!(
                    o,
                    "  {} {} ({} {}.{})",
                    d.bucket,
                    d.id,
                    d.from_bucket.bucket_name().to_lowercase(),
                    d.from_id,
                    d.field
                );
            }
            more(&mut o, missing.len());
        }
        let expected = self.dangling.len() - missing.len();
        if expected > 0 {
            let _ = writeln!(o, "\nexpected missing references ({expected}):");
            for d in self.dangling.iter().filter(|d| d.expected.is_some()).take(TEXT_LIST_LIMIT) {
                let _ = writeln!(
                    o,
                    "  {} {} ({} {}.{}): {}",
                    d.bucket,
                    d.id,
                    d.from_bucket.bucket_name().to_lowercase(),
                    d.from_id,
                    d.field,
                    d.expected.as_deref().unwrap_or("")
                );
            }
            more(&mut o, expected);
        }
        o
    }
}

fn short(key: &str) -> String {
    if key.chars().count() > 12 {
        format!("{}…", key.chars().take(12).collect::<String>())
    } else {
        key.to_owned()
    }
}
