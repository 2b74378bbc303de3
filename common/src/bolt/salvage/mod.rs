//! Salvage of damaged files (spec §1.13): page-level recovery that never fails.
//!
//! [`salvage`] returns every key/value it can find, each with where it was found
//! ([`Origin`]), plus the list of damage. It does not decide which copy of an entry is right —
//! that needs the entries' content and is done by `heketi::salvage` — but it gathers the facts
//! that decision rests on:
//!
//! 1. **Layout**: page size and byte order from a valid meta, else by probing page headers.
//! 2. **Primary tree**: the valid meta with the higher txid (bolt's choice); with no valid meta,
//!    a root is reconstructed from the pages (see [`Primary::Reconstructed`]). The tree is walked
//!    defensively: a damaged page or reference is recorded with the key range it covered and the
//!    walk goes on with the rest of the tree. A page whose flags are wrong but whose content is a
//!    valid leaf/branch of the expected key range is read (bolt panics with `invalid page type`).
//! 3. **Freelist** of the primary meta: tells freed (stale) pages from pages that are live but
//!    cut off from the tree by damage ([`Origin::Detached`]).
//! 4. **Other tree**: the other valid meta's (older) tree, walked the same way; its leaves give
//!    bucket names to pages the primary tree no longer reaches. When the other meta is destroyed
//!    (so it may have described a newer transaction), or the primary was reconstructed, the
//!    newest other consistent state found in the pages is walked instead, so that entries that
//!    differ between the two can be flagged.
//! 5. **Detached pages** (below pgid, neither reachable nor free — by bolt's invariant live data
//!    under a damaged page): grouped into subtrees, walked.
//! 6. **Scan** of every remaining page: leaf pages whose header id equals their position are read
//!    (leniently: the readable elements of a damaged leaf are kept and marked), inline buckets in
//!    root-bucket leaves give named copies.
//! 7. **Loss accounting**: for each damaged reference of the primary tree, whether its content
//!    may be lost (see [`BucketWalk::lossy`]). Content is provably not lost when the freelist is
//!    readable, the file holds all pgid pages, every detached page is readable except the damaged
//!    pages themselves, and the damaged page was a branch (its leaves are detached and read).
//!
//! Bounded work and memory: every page is parsed a bounded number of times; key/value bytes are
//! borrowed from the input; the number of candidates is capped at [`MAX_CANDIDATES`] and the
//! number of damage records at [`MAX_DAMAGE`].

mod reconstruct;
mod walk;

use serde::Serialize;

use super::error::{BoltError, PageRef};
use super::meta::{self, Meta};
use super::page::{self, Endian, PageHeader, BRANCH_PAGE, BUCKET_HEADER_SIZE, FREELIST_PAGE, LEAF_PAGE};
use super::tree::{Expect, PageSet, MAX_DEPTH};

use walk::{is_zero, leaf_elements_lenient, page_bytes, raw_span, Owner, SiteKind, TreeWalk};

/// At most this many key/values are returned (about 72 bytes each, values borrowed): 100 times
/// what a 25 MiB heketi.db of 2000 volumes holds (~8 000 entries and ~40 stale copies). Reaching
/// it takes some 18 MiB of leaf pages packed with tiny elements (≤ 240 per 4 KiB page), which no
/// heketi.db has; copies past it are counted and reported.
pub const MAX_CANDIDATES: usize = 1 << 20;
/// At most this many damage records are kept; the rest are counted.
pub const MAX_DAMAGE: usize = 4096;

/// Where a copy of a key/value was found, best first (the derived order is the precedence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Reachable from the primary tree (the newest valid meta's).
    LiveTree,
    /// Below pgid, not reachable from the primary tree and not on its freelist: by bolt's
    /// invariant (every page below pgid is reachable or free) a live page that damage cut off
    /// from the tree, or a damaged live page.
    Detached,
    /// Reachable from the other tree (the older meta's, or another consistent state found in the
    /// pages) but not live: freed by the primary's transaction (the previous version), or not
    /// known to be free because the primary freelist is unreadable.
    OtherTree,
    /// Below pgid and unreachable, but the primary freelist is unreadable (or there is no
    /// primary tree): live or stale, unknown.
    Unaccounted,
    /// On the primary freelist: an old version, or an entry deleted since.
    Freed,
    /// At or beyond pgid: written by a transaction that never committed, or left from an earlier
    /// life of the file.
    BeyondPgid,
}

impl Origin {
    /// Short kebab-case name (as serialised).
    pub fn name(self) -> &'static str {
        match self {
            Origin::LiveTree => "live-tree",
            Origin::Detached => "detached",
            Origin::OtherTree => "other-tree",
            Origin::Unaccounted => "unaccounted",
            Origin::Freed => "freed",
            Origin::BeyondPgid => "beyond-pgid",
        }
    }

    /// All origins in precedence order.
    pub const ALL: [Origin; 6] = [
        Origin::LiveTree,
        Origin::Detached,
        Origin::OtherTree,
        Origin::Unaccounted,
        Origin::Freed,
        Origin::BeyondPgid,
    ];
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One copy of a key/value found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// Bucket name when known from a tree path or an inline bucket; `None` for leaves found by
    /// the scan or in detached subtrees (the caller attributes them by content).
    pub bucket: Option<&'a [u8]>,
    /// The key.
    pub key: &'a [u8],
    /// The value.
    pub value: &'a [u8],
    /// The leaf page holding it (for an inline bucket: the root-bucket leaf page).
    pub page: u64,
    /// Where the page stands.
    pub origin: Origin,
    /// The page is damaged: only some of its elements could be read (this one could).
    pub page_damaged: bool,
    /// The page is also reachable from the other tree (see [`Salvage::older`]). Among detached
    /// copies, one that the other (older) tree does not reach was written by the newest
    /// transaction.
    pub in_other_tree: bool,
}

/// A key range `[start, end)` of a tree; `None` = unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange<'a> {
    /// First key in the range (inclusive), or unbounded.
    pub start: Option<&'a [u8]>,
    /// End of the range (exclusive), or unbounded.
    pub end: Option<&'a [u8]>,
}

impl<'a> KeyRange<'a> {
    /// The whole key space.
    pub const ALL: KeyRange<'static> = KeyRange { start: None, end: None };

    /// Whether `key` lies in the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.start.is_none_or(|s| key >= s) && self.end.is_none_or(|e| key < e)
    }

    /// Whether the range is the whole key space.
    pub fn is_all(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }
}

/// A top-level bucket as read from the primary tree.
#[derive(Debug, Clone)]
pub struct BucketWalk<'a> {
    /// Bucket name.
    pub name: &'a [u8],
    /// Stored inline in the root bucket.
    pub inline: bool,
    /// Root page (0 if inline).
    pub root_page: u64,
    /// No damage at all in the bucket's tree.
    pub clean: bool,
    /// Key ranges whose entries may be missing from the tree walk (empty when the walk was clean
    /// or every damaged reference's content was provably recovered from detached pages).
    pub lossy: Vec<KeyRange<'a>>,
    /// Key/values read from the bucket's tree (including registry keys).
    pub entries: usize,
}

impl BucketWalk<'_> {
    /// Whether an entry with `key` may have been lost from this bucket's tree.
    pub fn may_have_lost(&self, key: &[u8]) -> bool {
        self.lossy.iter().any(|r| r.contains(key))
    }
}

/// A branch or leaf page of the primary tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LivePage<'a> {
    /// Page id.
    pub id: u64,
    /// Header flags (a repaired page keeps its wrong flags here).
    pub flags: u16,
    /// Overflow pages.
    pub overflow: u32,
    /// Bucket whose tree holds it; `None` for the root bucket's tree.
    pub bucket: Option<&'a [u8]>,
    /// Depth in its tree (0 = root).
    pub depth: usize,
    /// Read as a leaf (else a branch).
    pub leaf: bool,
}

/// Which part of the file a damage record concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// The file as a whole (size, page structure).
    File,
    /// Meta page 0 or 1.
    Meta,
    /// The primary tree.
    Tree,
    /// The primary meta's freelist.
    Freelist,
    /// The other tree (informational: nothing is lost by it).
    OtherTree,
    /// Pages cut off from the primary tree.
    Detached,
    /// Finding a root without a valid meta.
    Reconstruction,
}

/// One damage record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Damage {
    /// Page concerned, if any.
    pub page: Option<u64>,
    /// Part of the file.
    pub area: Area,
    /// Bucket whose tree the page belongs to, if known.
    pub bucket: Option<String>,
    /// What is wrong, one line.
    pub what: String,
    /// Whether it concerns the data the primary meta describes (false: an older snapshot, a
    /// stale page or a harmless inconsistency).
    pub affects_live: bool,
}

/// How the page size was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageSizeSource {
    /// From the valid meta in slot 0 or 1.
    Meta {
        /// Slot.
        slot: usize,
    },
    /// Probed: the page size (and byte order) under which most pages carry their own id.
    Probe,
}

/// Page size, byte order and size of the file in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Page size.
    pub page_size: usize,
    /// Byte order.
    pub endian: Endian,
    /// How it was found.
    pub source: PageSizeSource,
    /// Whole pages in the file.
    pub file_pages: u64,
}

/// The tree salvage treats as current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Primary {
    /// The valid meta bolt would use.
    Meta {
        /// Slot 0 or 1.
        slot: usize,
        /// Its txid.
        txid: u64,
    },
    /// No meta is valid: a root-bucket page (and freelist page) found by scanning the pages,
    /// chosen among the states whose tree and freelist account for every page exactly as a
    /// committed bolt state does (spec §1.11 invariants).
    Reconstructed {
        /// Root page of the root bucket.
        root: u64,
        /// Freelist page paired with it, if one is consistent with the tree.
        freelist: Option<u64>,
        /// pgid implied by tree + freelist (else the file size in pages).
        pgid: u64,
        /// Consistent states found (bolt's copy-on-write usually leaves the previous one intact).
        states: usize,
        /// Whether the choice is unambiguous (one state, or provably the newest).
        certain: bool,
        /// How it was chosen.
        how: String,
    },
    /// No tree at all: everything comes from the scan.
    None,
}

/// The second tree salvage walks: the other valid meta's, or another consistent state found in
/// the pages (the runner-up of a reconstruction, or a state newer than the surviving meta's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherTree {
    /// Meta slot, `None` for a reconstructed state.
    pub slot: Option<usize>,
    /// Its txid, when from a meta.
    pub txid: Option<u64>,
    /// Root page of its root bucket.
    pub root: u64,
    /// It was read without damage.
    pub clean: bool,
}

/// What one meta slot holds.
#[derive(Debug, Clone)]
pub struct MetaSlot {
    /// Raw fields if the page carries bolt's magic (valid or not).
    pub raw: Option<Meta>,
    /// Why the meta is unusable, if it is.
    pub error: Option<BoltError>,
}

impl MetaSlot {
    /// Whether the meta validates.
    pub fn valid(&self) -> bool {
        self.error.is_none() && self.raw.is_some()
    }
}

/// Page accounting of the salvage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PageCensus {
    /// Whole pages in the file.
    pub file_pages: u64,
    /// High-water mark of the primary (file pages if unknown).
    pub pgid: u64,
    /// Pages examined (all pages but the two metas).
    pub scanned: u64,
    /// Pages of the primary tree, overflow included.
    pub live: u64,
    /// Pages of the primary freelist itself.
    pub freelist: u64,
    /// Pages listed free by the primary freelist (inside the file).
    pub free: u64,
    /// Pages below pgid neither live nor free.
    pub detached: u64,
    /// Pages below pgid of unknown status (freelist unreadable).
    pub unaccounted: u64,
    /// Pages at or beyond pgid.
    pub beyond_pgid: u64,
    /// Pages below pgid missing from a truncated file.
    pub missing: u64,
    /// Non-live leaf pages whose elements were read (stale, detached, …).
    pub leaf_pages_read: u64,
    /// Non-live pages that are all zeros.
    pub zeroed: u64,
    /// Live or detached pages that could not be read.
    pub unreadable: u64,
}

/// A subtree of detached pages (not referenced by any other detached page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetachedTree {
    /// Its top page.
    pub root: u64,
    /// Every page under it was readable.
    pub complete: bool,
    /// Leaf pages read.
    pub leaves: u32,
}

/// Everything salvage found in a file.
#[derive(Debug, Clone)]
pub struct Salvage<'a> {
    /// Input length in bytes.
    pub file_len: usize,
    /// Page size etc.; `None` if no bolt page structure was found at all.
    pub layout: Option<Layout>,
    /// The two meta slots.
    pub metas: [MetaSlot; 2],
    /// The tree treated as current.
    pub primary: Primary,
    /// The second tree walked, if any.
    pub older: Option<OtherTree>,
    /// pgid of the primary (file pages if unknown).
    pub pgid: u64,
    /// The primary freelist was read (or estimated, see `free_estimated`).
    pub free_known: bool,
    /// The primary freelist is unreadable; free pages were estimated from the older meta's
    /// freelist and bolt's allocation order.
    pub free_estimated: bool,
    /// The root bucket's tree was read without damage (so a bucket not listed does not exist).
    pub root_clean: bool,
    /// Bucket elements of the root tree may be lost (buckets not listed are unknown).
    pub root_lossy: bool,
    /// Top-level buckets of the primary tree, in key order.
    pub buckets: Vec<BucketWalk<'a>>,
    /// Pages of the primary tree in walk order.
    pub live_pages: Vec<LivePage<'a>>,
    /// Subtrees of detached pages.
    pub detached_trees: Vec<DetachedTree>,
    /// Every detached page was readable except the damaged pages the tree references itself:
    /// nothing under a damaged branch was lost.
    pub detached_accounted: bool,
    /// All copies found, live tree first.
    pub candidates: Vec<Candidate<'a>>,
    /// Copies dropped by [`MAX_CANDIDATES`].
    pub candidates_dropped: u64,
    /// Damage found.
    pub damage: Vec<Damage>,
    /// Damage records dropped by [`MAX_DAMAGE`].
    pub damage_dropped: u64,
    /// Page accounting.
    pub census: PageCensus,
}

impl<'a> Salvage<'a> {
    fn empty(len: usize, metas: [MetaSlot; 2]) -> Self {
        Salvage {
            file_len: len,
            layout: None,
            metas,
            primary: Primary::None,
            older: None,
            pgid: 0,
            free_known: false,
            free_estimated: false,
            root_clean: false,
            root_lossy: true,
            buckets: Vec::new(),
            live_pages: Vec::new(),
            detached_trees: Vec::new(),
            detached_accounted: false,
            candidates: Vec::new(),
            candidates_dropped: 0,
            damage: Vec::new(),
            damage_dropped: 0,
            census: PageCensus::default(),
        }
    }

    fn push_damage(&mut self, d: Damage) {
        if self.damage.len() < MAX_DAMAGE {
            self.damage.push(d);
        } else {
            self.damage_dropped += 1;
        }
    }

    /// The primary tree's bucket named `name`.
    pub fn bucket(&self, name: &[u8]) -> Option<&BucketWalk<'a>> {
        self.buckets.iter().find(|b| b.name == name)
    }

    /// Whether any damage concerns the data the primary meta describes.
    pub fn damaged(&self) -> bool {
        self.damage.iter().any(|d| d.affects_live) || self.damage_dropped > 0
    }
}

/// Page sizes probed when no meta gives one.
const PROBE_PAGE_SIZES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// Probes page size and byte order from the pages themselves: the combination under which the
/// most pages (from 2 on) carry their own id in the header with a branch, leaf or freelist flag.
/// `None` if no page does.
pub fn probe_layout(data: &[u8]) -> Option<(usize, Endian)> {
    let mut best: Option<(u64, usize, Endian)> = None;
    for ps in PROBE_PAGE_SIZES {
        for endian in [Endian::Little, Endian::Big] {
            let pages = (data.len() / ps) as u64;
            let mut hits = 0u64;
            for id in 2..pages {
                let Some(h) = page_bytes(data, ps, id).and_then(|b| PageHeader::parse(b, endian).ok()) else {
                    break;
                };
                if h.id == id && matches!(h.flags, BRANCH_PAGE | LEAF_PAGE | FREELIST_PAGE) {
                    hits += 1;
                }
            }
            if hits > 0 && best.is_none_or(|(b, _, _)| hits > b) {
                best = Some((hits, ps, endian));
            }
        }
    }
    best.map(|(_, ps, e)| (ps, e))
}

fn read_slots(data: &[u8], page_size: Option<usize>) -> [MetaSlot; 2] {
    let checked = meta::read_metas(data);
    let mut slots: [MetaSlot; 2] = [MetaSlot { raw: None, error: None }, MetaSlot { raw: None, error: None }];
    for (i, (slot, r)) in slots.iter_mut().zip(checked).enumerate() {
        match r {
            Ok(m) => slot.raw = Some(m),
            Err(e) => {
                let offset = if i == 0 { Some(0) } else { page_size };
                slot.raw = offset.and_then(|o| Meta::decode(data, i, o).ok());
                slot.error = Some(e);
            }
        }
    }
    slots
}

/// Salvages what can be read from a (possibly damaged) bolt file. Never fails and never panics;
/// see the module documentation for the steps.
pub fn salvage(data: &[u8]) -> Salvage<'_> {
    let checked = meta::read_metas(data);
    let active = meta::choose(&checked).ok();
    let layout = match active.and_then(|i| checked.get(i)).and_then(|m| m.as_ref().ok()) {
        Some(m) => {
            Some((m.page_size as usize, m.endian(), PageSizeSource::Meta { slot: active.unwrap_or(0) }))
        }
        None => probe_layout(data).map(|(ps, e)| (ps, e, PageSizeSource::Probe)),
    };
    let metas = read_slots(data, layout.map(|l| l.0));
    let mut s = Salvage::empty(data.len(), metas);
    for (i, slot) in s.metas.clone().iter().enumerate() {
        if let Some(e) = &slot.error {
            s.push_damage(Damage {
                page: Some(i as u64),
                area: Area::Meta,
                bucket: None,
                what: format!("meta {i} unusable: {e}"),
                affects_live: true,
            });
        }
    }
    let Some((page_size, endian, source)) = layout else {
        s.push_damage(Damage {
            page: None,
            area: Area::File,
            bucket: None,
            what: "no valid meta page and no page carrying its own id: not a bolt file, or destroyed".into(),
            affects_live: true,
        });
        return s;
    };
    let file_pages = (data.len() / page_size) as u64;
    s.layout = Some(Layout { page_size, endian, source, file_pages });
    let ctx = Ctx { data, endian, page_size, file_pages };

    // Primary: the valid meta bolt would use, else a reconstructed root.
    let mut runner_up = None;
    let (root, freelist_page, pgid, from) = match active {
        Some(slot) => {
            let m = s.metas.get(slot).and_then(|m| m.raw.clone());
            match m {
                Some(m) => {
                    s.primary = Primary::Meta { slot, txid: m.txid };
                    (Some(m.root), Some((m.freelist, slot)), m.pgid, PageRef::MetaRoot { index: slot })
                }
                None => (None, None, file_pages, PageRef::Reconstructed),
            }
        }
        None => match reconstruct::reconstruct(&ctx, &s.metas) {
            Some(r) => {
                runner_up = r.runner_up;
                s.primary = Primary::Reconstructed {
                    root: r.root,
                    freelist: r.freelist,
                    pgid: r.pgid,
                    states: r.states,
                    certain: r.certain,
                    how: r.how.clone(),
                };
                s.push_damage(Damage {
                    page: Some(r.root),
                    area: Area::Reconstruction,
                    bucket: None,
                    what: format!("no valid meta: using root page {} ({})", r.root, r.how),
                    affects_live: true,
                });
                (Some(r.root), r.freelist.map(|f| (f, usize::MAX)), r.pgid, PageRef::Reconstructed)
            }
            None => {
                s.push_damage(Damage {
                    page: None,
                    area: Area::Reconstruction,
                    bucket: None,
                    what: "no valid meta and no intact root-bucket page: every page comes from the scan, current \
                           and stale copies cannot be told apart by position"
                        .into(),
                    affects_live: true,
                });
                (None, None, file_pages, PageRef::Reconstructed)
            }
        },
    };
    s.pgid = pgid;
    // A bad meta whose (still readable) txid is older than the primary's hides nothing.
    if let Primary::Meta { txid, .. } = s.primary {
        for d in s.damage.iter_mut().filter(|d| d.area == Area::Meta) {
            let slot = d.page.and_then(|p| usize::try_from(p).ok());
            if slot.and_then(|i| s.metas.get(i)).and_then(|m| m.raw.as_ref()).is_some_and(|r| r.txid < txid) {
                d.affects_live = false;
            }
        }
    }
    if pgid > file_pages {
        s.push_damage(Damage {
            page: None,
            area: Area::File,
            bucket: None,
            what: format!(
                "file truncated: {} bytes hold {file_pages} pages of {page_size} bytes, the meta's high-water mark \
                 is {pgid}",
                data.len()
            ),
            affects_live: true,
        });
    }

    // 2. The primary tree.
    let mut primary = TreeWalk::new(data, endian, page_size, pgid, MAX_CANDIDATES);
    if let Some(root) = root {
        primary.walk_all(root, from);
    }
    let tree = primary.w.visited.clone();
    // A tree read without a single damaged reference holds every live page: whatever it does
    // not reach is stale, whether or not the freelist can be read.
    let tree_complete = root.is_some() && primary.sites.is_empty();

    // 3. Its freelist.
    let mut freelist_unreadable = false;
    let mut free = PageSet::new(file_pages);
    let mut freelist_span = PageSet::new(file_pages);
    match freelist_page {
        Some((fl, slot)) => {
            let from = if slot == usize::MAX { PageRef::Reconstructed } else { PageRef::MetaFreelist { index: slot } };
            match read_freelist(&mut primary, &ctx, fl, from, pgid, &tree, &mut free, &mut freelist_span) {
                Ok(notes) => {
                    // A freelist with ids it should not hold is not trusted for telling free from
                    // detached pages (unless the tree is intact: then nothing is detached).
                    s.free_known = notes.is_empty() || tree_complete;
                    for n in notes {
                        s.push_damage(Damage {
                            page: Some(fl),
                            area: Area::Freelist,
                            bucket: None,
                            what: n,
                            affects_live: true,
                        });
                    }
                }
                Err(what) => {
                    freelist_unreadable = !tree_complete;
                    s.free_known = tree_complete;
                    let consequence = if tree_complete {
                        "the tree is intact, so every page it does not reach counts as free"
                    } else {
                        "free and detached pages cannot be told apart from it"
                    };
                    s.push_damage(Damage {
                        page: Some(fl),
                        area: Area::Freelist,
                        bucket: None,
                        what: format!("{what}; {consequence}"),
                        affects_live: true,
                    })
                }
            }
        }
        None if root.is_some() => s.push_damage(Damage {
            page: None,
            area: Area::Freelist,
            bucket: None,
            what: "no freelist consistent with the reconstructed tree; free and detached pages cannot be told apart"
                .into(),
            affects_live: true,
        }),
        None => {}
    }

    // 4. The older meta's tree (or the runner-up reconstructed state).
    let older_root = match (&s.primary, active) {
        (Primary::Meta { .. }, Some(a)) => {
            let o = 1 - a;
            s.metas
                .get(o)
                .filter(|m| m.valid())
                .and_then(|m| m.raw.as_ref())
                .map(|m| (Some(o), Some(m.txid), m.root, m.pgid))
        }
        (Primary::Reconstructed { .. }, _) => runner_up.map(|(root, pgid)| (None, None, root, pgid)),
        _ => None,
    };
    // The other meta is destroyed and may have described a newer transaction: look for a
    // consistent state other than the primary's among the pages.
    let older_root = match (older_root, &s.primary, root, freelist_page) {
        (None, Primary::Meta { slot, txid }, Some(r), Some((fl, _))) => {
            let other_unknown = s
                .metas
                .get(1 - slot)
                .is_some_and(|m| !m.valid() && m.raw.as_ref().is_none_or(|raw| raw.txid > *txid));
            if other_unknown {
                reconstruct::alternative(&ctx, &s.metas, r, fl).map(|(root, pgid)| (None, None, root, pgid))
            } else {
                None
            }
        }
        (o, ..) => o,
    };
    let mut older_walk = None;
    if let Some((slot, txid, root, opgid)) = older_root {
        let mut ow = TreeWalk::new(data, endian, page_size, opgid, MAX_CANDIDATES);
        let from = slot.map_or(PageRef::Reconstructed, |index| PageRef::MetaRoot { index });
        ow.walk_all(root, from);
        s.older = Some(OtherTree { slot, txid, root, clean: ow.clean() });
        older_walk = Some(ow);
    }
    let older_set = older_walk.as_ref().map(|w| w.w.visited.clone()).unwrap_or_else(|| PageSet::new(0));

    // The primary freelist is unreadable (often: a truncated file lost it): estimate it from the
    // older meta's freelist. Bolt allocates the lowest free ids first and the new freelist page
    // last, so the older freelist's ids below the primary's freelist page were handed out by the
    // newest transaction; the ones above it are still free. (Pages the newest transaction freed
    // are not known; they count as detached, below the pages it wrote — see `in_other_tree`.)
    if freelist_unreadable {
        if let (Primary::Meta { .. }, Some((fl_new, _)), Some(OtherTree { slot: Some(o), .. })) =
            (&s.primary, freelist_page, s.older)
        {
            if let Some(m) = s.metas.get(o).and_then(|m| m.raw.clone()) {
                let mut w = super::tree::Walker::new(data, endian, page_size, m.pgid);
                if let Ok((_, bytes)) =
                    w.page(m.freelist, PageRef::MetaFreelist { index: o }, Expect::Freelist)
                {
                    if let Ok(ids) = page::freelist_ids(bytes, endian) {
                        let all_handed_out = fl_new >= m.pgid;
                        for x in ids.iter() {
                            if !all_handed_out && x > fl_new && x < pgid && !tree.contains(x) {
                                free.insert(x);
                            }
                        }
                        s.free_known = true;
                        s.free_estimated = true;
                        s.push_damage(Damage {
                            page: Some(m.freelist),
                            area: Area::Freelist,
                            bucket: None,
                            what: format!(
                                "free pages estimated from meta {o}'s freelist (page {}) and bolt's allocation order",
                                m.freelist
                            ),
                            affects_live: true,
                        });
                    }
                }
            }
        }
    }
    let roles = Roles {
        tree: &tree,
        free: &free,
        freelist_span: &freelist_span,
        older: &older_set,
        pgid,
        free_known: s.free_known,
        has_primary: root.is_some(),
        tree_complete,
    };

    // Emission: primary leaves.
    let mut emitted = PageSet::new(file_pages);
    let mut out = Emitter { candidates: Vec::new(), dropped: 0, other: &older_set };
    for leaf in &primary.leaves {
        let bucket = owner_name(&primary, leaf.owner);
        for e in &leaf.elements {
            out.push(Candidate {
                bucket,
                key: e.key,
                value: e.value,
                page: leaf.page,
                origin: Origin::LiveTree,
                page_damaged: leaf.damaged,
                in_other_tree: older_set.contains(leaf.page),
            });
        }
    }
    for p in &primary.pages {
        emitted.insert(p.id);
    }
    // Older tree leaves not shared with the primary tree.
    if let Some(ow) = &older_walk {
        let mut now = Vec::new();
        for leaf in &ow.leaves {
            if emitted.contains(leaf.page) || tree.contains(leaf.page) {
                continue;
            }
            let bucket = owner_name(ow, leaf.owner);
            let origin = roles.origin(leaf.page);
            for e in &leaf.elements {
                out.push(Candidate {
                    bucket,
                    key: e.key,
                    value: e.value,
                    page: leaf.page,
                    origin,
                    page_damaged: leaf.damaged,
                    in_other_tree: true,
                });
            }
            now.push(leaf.page);
        }
        for p in now {
            emitted.insert(p);
        }
        for d in &ow.damage {
            s.push_damage(Damage {
                page: d.page,
                area: Area::OtherTree,
                bucket: owner_name(ow, d.owner).map(|n| String::from_utf8_lossy(n).into_owned()),
                what: d.what.clone(),
                affects_live: false,
            });
        }
    }

    // Damage of the primary walk.
    for d in &primary.damage {
        s.push_damage(Damage {
            page: d.page,
            area: Area::Tree,
            bucket: owner_name(&primary, d.owner).map(|n| String::from_utf8_lossy(n).into_owned()),
            what: d.what.clone(),
            affects_live: true,
        });
    }

    // 5. Detached pages.
    let direct: Vec<u64> =
        primary.sites.iter().filter(|x| x.kind == SiteKind::Content).map(|x| x.target).collect();
    let det = if s.free_known && root.is_some() {
        Some(detached(&ctx, &roles, &mut emitted, &mut out))
    } else {
        None
    };
    let unexplained: Vec<u64> = det
        .as_ref()
        .map(|d| d.unreadable.iter().copied().filter(|p| !direct.contains(p)).collect())
        .unwrap_or_default();
    s.detached_accounted = det.is_some() && !s.free_estimated && pgid <= file_pages && unexplained.is_empty();
    if let Some(d) = &det {
        s.detached_trees = d.trees.clone();
        for (p, why) in &d.reasons {
            if direct.contains(p) {
                continue;
            }
            s.push_damage(Damage {
                page: Some(*p),
                area: Area::Detached,
                bucket: None,
                what: format!("page {p}: neither reachable nor free (live data cut off from the tree) and unreadable: {why}"),
                affects_live: true,
            });
        }
    }

    // 6. Scan of the rest.
    let scanned = scan(&ctx, &roles, &mut emitted, &mut out);

    // 7. Loss accounting.
    let mut buckets: Vec<BucketWalk<'_>> = primary
        .buckets
        .iter()
        .map(|b| BucketWalk {
            name: b.name,
            inline: b.inline,
            root_page: b.root_page,
            clean: true,
            lossy: Vec::new(),
            entries: 0,
        })
        .collect();
    for leaf in &primary.leaves {
        if let Owner::Bucket(i) = leaf.owner {
            if let Some(b) = buckets.get_mut(i) {
                b.entries += leaf.elements.len();
            }
        }
    }
    for d in &primary.damage {
        if let Owner::Bucket(i) = d.owner {
            if let Some(b) = buckets.get_mut(i) {
                b.clean = false;
            }
        }
    }
    let mut root_lossy = false;
    // With a single damaged reference, every valid detached page hangs below it; if there are
    // any, the damaged page of a bucket's tree was a branch (a bucket's leaves have no children).
    let single_site = primary.sites.len() == 1;
    let detached_nodes = det.as_ref().is_some_and(|d| !d.trees.is_empty());
    for site in &primary.sites {
        let leaf_depth = match site.owner {
            Owner::Root => primary.root_leaf_depth,
            Owner::Bucket(i) => primary.buckets.get(i).and_then(|b| b.leaf_depth),
        };
        let lossy = match site.kind {
            SiteKind::Missing | SiteKind::Whole => true,
            _ if !s.detached_accounted => true,
            SiteKind::Reference => false,
            SiteKind::Content => match leaf_depth {
                Some(l) => site.depth >= l,
                None => !(single_site && matches!(site.owner, Owner::Bucket(_)) && detached_nodes),
            },
        };
        if !lossy {
            continue;
        }
        match site.owner {
            Owner::Root => root_lossy = true,
            Owner::Bucket(i) => {
                if let Some(b) = buckets.get_mut(i) {
                    b.lossy.push(site.range);
                }
            }
        }
    }
    s.root_clean = root.is_some() && !primary.damage.iter().any(|d| d.owner == Owner::Root);
    s.root_lossy = root.is_none() || root_lossy;
    s.buckets = buckets;
    s.live_pages = primary.pages.clone();

    // Census.
    let mut c = PageCensus { file_pages, pgid, scanned: file_pages.saturating_sub(2), ..Default::default() };
    for p in 2..file_pages {
        match roles.role(p) {
            Role::Live => c.live += 1,
            Role::FreelistPage => c.freelist += 1,
            Role::Free => c.free += 1,
            Role::Detached => c.detached += 1,
            Role::Unaccounted => c.unaccounted += 1,
            Role::Beyond => c.beyond_pgid += 1,
        }
    }
    c.missing = pgid.saturating_sub(file_pages.max(2));
    c.leaf_pages_read = scanned.leaf_pages + det.as_ref().map_or(0, |d| d.leaf_pages);
    c.zeroed = scanned.zeroed;
    c.unreadable = det.as_ref().map_or(0, |d| d.unreadable.len() as u64).max(direct.len() as u64);
    s.census = c;

    s.candidates = out.candidates;
    s.candidates_dropped = out.dropped;
    if s.candidates_dropped > 0 {
        s.push_damage(Damage {
            page: None,
            area: Area::File,
            bucket: None,
            what: format!(
                "more than {MAX_CANDIDATES} key/values: {} further copies ignored",
                s.candidates_dropped
            ),
            affects_live: true,
        });
    }
    s
}

/// File-wide parameters.
pub(crate) struct Ctx<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) endian: Endian,
    pub(crate) page_size: usize,
    pub(crate) file_pages: u64,
}

fn owner_name<'a>(w: &TreeWalk<'a>, owner: Owner) -> Option<&'a [u8]> {
    match owner {
        Owner::Root => None,
        Owner::Bucket(i) => w.buckets.get(i).map(|b| b.name),
    }
}

struct Emitter<'a, 's> {
    candidates: Vec<Candidate<'a>>,
    dropped: u64,
    other: &'s PageSet,
}

impl<'a> Emitter<'a, '_> {
    fn push(&mut self, c: Candidate<'a>) {
        if self.candidates.len() < MAX_CANDIDATES {
            self.candidates.push(c);
        } else {
            self.dropped += 1;
        }
    }

    /// The flag-0 elements of a leaf, or, for a root-bucket leaf, the content of its inline
    /// buckets (named).
    fn leaf(
        &mut self,
        ctx: &Ctx<'a>,
        page: u64,
        elements: &[page::LeafElement<'a>],
        origin: Origin,
        damaged: bool,
    ) {
        for e in elements {
            if !e.is_bucket() {
                self.push(Candidate {
                    bucket: None,
                    key: e.key,
                    value: e.value,
                    page,
                    origin,
                    page_damaged: damaged,
                    in_other_tree: self.other.contains(page),
                });
                continue;
            }
            // A bucket element: only inline buckets carry key/values here.
            if ctx.endian.read_u64(e.value, 0) != Some(0) {
                continue;
            }
            let inline = e.value.get(BUCKET_HEADER_SIZE..).unwrap_or(&[]);
            let ok = PageHeader::parse(inline, ctx.endian).is_ok_and(|h| h.flags == LEAF_PAGE);
            let (els, bad) = match page::leaf_elements(inline, ctx.endian) {
                Ok(els) if ok => (els, false),
                _ => (leaf_elements_lenient(inline, ctx.endian), true),
            };
            for x in els.into_iter().filter(|x| !x.is_bucket()) {
                self.push(Candidate {
                    bucket: Some(e.key),
                    key: x.key,
                    value: x.value,
                    page,
                    origin,
                    page_damaged: damaged || bad,
                    in_other_tree: self.other.contains(page),
                });
            }
        }
    }
}

/// Reads the primary freelist into `free` (ids below pgid, not live). Returns notes about ids it
/// had to ignore, or why the freelist is unreadable.
#[allow(clippy::too_many_arguments)]
fn read_freelist(
    w: &mut TreeWalk<'_>,
    ctx: &Ctx<'_>,
    id: u64,
    from: PageRef,
    pgid: u64,
    tree: &PageSet,
    free: &mut PageSet,
    span: &mut PageSet,
) -> Result<Vec<String>, String> {
    let (header, bytes) =
        w.w.page(id, from, Expect::Freelist).map_err(|e| walk::describe(ctx.data, ctx.page_size, id, &e))?;
    let ids = page::freelist_ids(bytes, ctx.endian)
        .map_err(|fault| BoltError::Page { page: id, fault }.to_string())?;
    for p in id..id.saturating_add(u64::from(header.overflow)).saturating_add(1) {
        span.insert(p);
    }
    let mut notes = Vec::new();
    let (mut live, mut bad, mut prev) = (0u64, 0u64, None::<u64>);
    for x in ids.iter() {
        if x < 2 || x >= pgid || prev.is_some_and(|p| x <= p) {
            bad += 1;
        } else if tree.contains(x) || span.contains(x) {
            live += 1;
        } else {
            free.insert(x);
        }
        prev = Some(x);
    }
    if live > 0 {
        notes.push(format!(
            "page {id}: the freelist lists {live} page(s) the tree uses (bolt would hand them out again and corrupt \
             the file on the next write)"
        ));
    }
    if bad > 0 {
        notes
            .push(format!("page {id}: the freelist holds {bad} id(s) out of range or out of order; ignored"));
    }
    Ok(notes)
}

/// Where a page stands relative to the primary meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Live,
    FreelistPage,
    Free,
    Detached,
    Unaccounted,
    Beyond,
}

struct Roles<'s> {
    tree: &'s PageSet,
    free: &'s PageSet,
    freelist_span: &'s PageSet,
    older: &'s PageSet,
    pgid: u64,
    free_known: bool,
    has_primary: bool,
    tree_complete: bool,
}

impl Roles<'_> {
    fn role(&self, p: u64) -> Role {
        if self.tree.contains(p) {
            Role::Live
        } else if self.freelist_span.contains(p) {
            Role::FreelistPage
        } else if p >= self.pgid {
            Role::Beyond
        } else if self.tree_complete {
            Role::Free
        } else if !self.free_known || !self.has_primary {
            Role::Unaccounted
        } else if self.free.contains(p) {
            Role::Free
        } else {
            Role::Detached
        }
    }

    fn origin(&self, p: u64) -> Origin {
        match self.role(p) {
            Role::Live => Origin::LiveTree,
            Role::Detached => Origin::Detached,
            Role::Free | Role::FreelistPage | Role::Unaccounted if self.older.contains(p) => {
                Origin::OtherTree
            }
            Role::Unaccounted => Origin::Unaccounted,
            Role::Free | Role::FreelistPage => Origin::Freed,
            Role::Beyond => Origin::BeyondPgid,
        }
    }
}

/// A detached page as found by header and content.
#[derive(Debug, Clone)]
enum Node<'a> {
    Leaf(Vec<page::LeafElement<'a>>),
    Branch(Vec<u64>),
}

struct DetachedResult {
    trees: Vec<DetachedTree>,
    unreadable: Vec<u64>,
    reasons: Vec<(u64, String)>,
    leaf_pages: u64,
}

/// Why a page that should hold a branch or leaf does not.
fn unreadable_reason(ctx: &Ctx<'_>, id: u64, pgid: u64) -> String {
    let Some(bytes) = page_bytes(ctx.data, ctx.page_size, id) else {
        return "past the end of the file".into();
    };
    if is_zero(bytes) {
        return "the page is all zeros (lost or torn write)".into();
    }
    let Ok(h) = PageHeader::parse(bytes, ctx.endian) else { return "header unreadable".into() };
    if h.id != id {
        return format!("header id is {} (another page's copy, or garbage)", h.id);
    }
    match h.flags {
        BRANCH_PAGE | LEAF_PAGE => {
            match raw_span(ctx.data, ctx.endian, ctx.page_size, pgid.min(ctx.file_pages), id) {
                None => format!(
                    "{} page whose {} overflow pages run past the high-water mark",
                    h.type_name(),
                    h.overflow
                ),
                Some((_, span)) => {
                    let fault = if h.flags == LEAF_PAGE {
                        page::leaf_elements(span, ctx.endian).err()
                    } else {
                        page::branch_elements(span, ctx.endian).err()
                    };
                    fault.map_or_else(|| "unreadable".into(), |f| f.to_string())
                }
            }
        }
        flags => format!("invalid page type: {id}: {flags:x}"),
    }
}

/// Finds the detached pages (below pgid, not live, not free), reads the valid ones, groups them
/// into subtrees and emits their elements as [`Origin::Detached`].
fn detached<'a>(
    ctx: &Ctx<'a>,
    roles: &Roles<'_>,
    emitted: &mut PageSet,
    out: &mut Emitter<'a, '_>,
) -> DetachedResult {
    let limit = roles.pgid.min(ctx.file_pages);
    let mut nodes: std::collections::BTreeMap<u64, Node<'a>> = std::collections::BTreeMap::new();
    let mut cont = PageSet::new(ctx.file_pages);
    let mut orphans = Vec::new();
    for p in 2..limit {
        if roles.role(p) != Role::Detached {
            continue;
        }
        orphans.push(p);
        let Some((h, span)) = raw_span(ctx.data, ctx.endian, ctx.page_size, limit, p) else { continue };
        if h.id != p {
            continue;
        }
        // A wrong flag on a page whose content is valid is read as what the content is.
        let node = match page::leaf_elements(span, ctx.endian) {
            Ok(els) if h.flags == LEAF_PAGE || (!els.is_empty() && h.flags != BRANCH_PAGE) => {
                Some(Node::Leaf(els))
            }
            _ => match page::branch_elements(span, ctx.endian) {
                Ok(els) if h.flags == BRANCH_PAGE || h.flags != LEAF_PAGE => {
                    Some(Node::Branch(els.iter().map(|e| e.child).collect()))
                }
                _ => None,
            },
        };
        if let Some(node) = node {
            for q in p + 1..=p.saturating_add(u64::from(h.overflow)) {
                cont.insert(q);
            }
            nodes.insert(p, node);
        }
    }
    let unreadable: Vec<u64> =
        orphans.iter().copied().filter(|p| !nodes.contains_key(p) && !cont.contains(*p)).collect();
    let reasons = unreadable.iter().map(|&p| (p, unreadable_reason(ctx, p, roles.pgid))).collect();
    let mut referenced = PageSet::new(ctx.file_pages);
    for n in nodes.values() {
        if let Node::Branch(children) = n {
            for &c in children {
                referenced.insert(c);
            }
        }
    }
    let mut seen = PageSet::new(ctx.file_pages);
    let mut trees = Vec::new();
    let mut leaf_pages = 0;
    let tops: Vec<u64> =
        nodes.keys().copied().filter(|&p| !referenced.contains(p) && !cont.contains(p)).collect();
    for top in tops {
        let mut tree = DetachedTree { root: top, complete: true, leaves: 0 };
        let mut stack = vec![(top, 0usize)];
        while let Some((p, depth)) = stack.pop() {
            if depth > MAX_DEPTH || !seen.insert(p) {
                tree.complete = false;
                continue;
            }
            match nodes.get(&p) {
                None => tree.complete = false,
                Some(Node::Branch(children)) => {
                    for &c in children.iter().rev() {
                        stack.push((c, depth + 1));
                    }
                }
                Some(Node::Leaf(els)) => {
                    tree.leaves += 1;
                    leaf_pages += 1;
                    if !emitted.contains(p) {
                        out.leaf(ctx, p, els, Origin::Detached, false);
                        emitted.insert(p);
                    }
                }
            }
        }
        trees.push(tree);
    }
    // Valid detached leaves not under any top (cycles among garbage references).
    for (&p, n) in &nodes {
        if let Node::Leaf(els) = n {
            if !seen.contains(p) && !emitted.contains(p) {
                out.leaf(ctx, p, els, Origin::Detached, false);
                emitted.insert(p);
                leaf_pages += 1;
            }
        }
    }
    // Damaged detached leaves: what can be read of them.
    for &p in &unreadable {
        let Some((h, span)) = raw_span(ctx.data, ctx.endian, ctx.page_size, ctx.file_pages, p) else {
            continue;
        };
        if h.id != p || h.flags != LEAF_PAGE || emitted.contains(p) {
            continue;
        }
        let els = leaf_elements_lenient(span, ctx.endian);
        if !els.is_empty() {
            out.leaf(ctx, p, &els, Origin::Detached, true);
            emitted.insert(p);
            leaf_pages += 1;
        }
    }
    DetachedResult { trees, unreadable, reasons, leaf_pages }
}

struct ScanResult {
    leaf_pages: u64,
    zeroed: u64,
}

/// Reads every remaining leaf page (not live, not yet read) whose header carries its own id.
fn scan<'a>(
    ctx: &Ctx<'a>,
    roles: &Roles<'_>,
    emitted: &mut PageSet,
    out: &mut Emitter<'a, '_>,
) -> ScanResult {
    let mut r = ScanResult { leaf_pages: 0, zeroed: 0 };
    let mut cont = PageSet::new(ctx.file_pages);
    for p in 2..ctx.file_pages {
        let role = roles.role(p);
        if role == Role::Live || role == Role::FreelistPage {
            continue;
        }
        let Some(bytes) = page_bytes(ctx.data, ctx.page_size, p) else { break };
        if emitted.contains(p) || cont.contains(p) {
            continue;
        }
        let Ok(h) = PageHeader::parse(bytes, ctx.endian) else { continue };
        if h.id != p {
            if is_zero(bytes) {
                r.zeroed += 1;
            }
            continue;
        }
        if h.flags != LEAF_PAGE {
            // Branch and freelist pages: nothing to read, but their continuation pages are not
            // pages of their own.
            let valid = match raw_span(ctx.data, ctx.endian, ctx.page_size, ctx.file_pages, p) {
                Some((_, span)) if h.flags == BRANCH_PAGE => page::branch_elements(span, ctx.endian).is_ok(),
                Some((_, span)) if h.flags == FREELIST_PAGE => page::freelist_ids(span, ctx.endian).is_ok(),
                _ => false,
            };
            if valid {
                for q in p + 1..=p.saturating_add(u64::from(h.overflow)).min(ctx.file_pages) {
                    cont.insert(q);
                }
            }
            continue;
        }
        // A leaf: its span may be cut by the end of the file (read what is there).
        let pages = u64::from(h.overflow).saturating_add(1);
        let end_page = p.saturating_add(pages).min(ctx.file_pages);
        let start = usize::try_from(p).unwrap_or(usize::MAX).saturating_mul(ctx.page_size);
        let stop = usize::try_from(end_page).unwrap_or(usize::MAX).saturating_mul(ctx.page_size);
        let Some(span) = ctx.data.get(start..stop.min(ctx.data.len())) else { continue };
        let (els, damaged) = match page::leaf_elements(span, ctx.endian) {
            Ok(els) => (els, false),
            Err(_) => (leaf_elements_lenient(span, ctx.endian), true),
        };
        if !damaged {
            for q in p + 1..end_page {
                cont.insert(q);
            }
        }
        if els.is_empty() {
            continue;
        }
        r.leaf_pages += 1;
        let origin = roles.origin(p);
        out.leaf(ctx, p, &els, origin, damaged);
        emitted.insert(p);
    }
    r
}
