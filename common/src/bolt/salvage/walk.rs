//! Defensive tree walk for salvage: like [`super::super::tree::Walker`]'s walk, but a damaged
//! page or reference is recorded (with the key range it covered and its depth) and skipped; the
//! walk goes on with the rest of the tree.

use super::super::error::{BoltError, PageRef};
use super::super::page::{
    self, Endian, LeafElement, PageHeader, BRANCH_PAGE, BUCKET_HEADER_SIZE, LEAF_PAGE, PAGE_HEADER_SIZE,
};
use super::super::tree::{Expect, Walker, MAX_DEPTH};
use super::{KeyRange, LivePage};

/// Which tree a page belongs to: the root bucket's or top-level bucket `n`'s (index into
/// [`TreeWalk::buckets`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Root,
    Bucket(usize),
}

/// What a damaged reference means for the content under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SiteKind {
    /// The referenced page exists but cannot be read (garbage, zeroed, wrong type, wrong id,
    /// invalid elements): its content is gone, what was under it (if it was a branch) is intact
    /// but detached.
    Content,
    /// The reference itself is wrong (beyond pgid, reached twice, too deep, keys outside the
    /// range the parent gives): the intended page is somewhere else, intact or not.
    Reference,
    /// The page lies past the end of a truncated file: its content is gone.
    Missing,
    /// The bucket's value in the root bucket is damaged: the whole bucket is unknown.
    Whole,
}

/// A damaged reference of a walked tree.
#[derive(Debug, Clone)]
pub(crate) struct Site<'a> {
    pub(crate) owner: Owner,
    pub(crate) range: KeyRange<'a>,
    pub(crate) depth: usize,
    pub(crate) target: u64,
    pub(crate) kind: SiteKind,
}

/// A leaf read by a walk: its elements, and which tree it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct LeafRead<'a> {
    /// The leaf page; for an inline bucket, the root-bucket leaf page holding it.
    pub(crate) page: u64,
    pub(crate) owner: Owner,
    pub(crate) elements: Vec<LeafElement<'a>>,
    /// Some elements of the page (or inline bucket) could not be read.
    pub(crate) damaged: bool,
}

/// One top-level bucket as found by a walk.
#[derive(Debug, Clone)]
pub(crate) struct BucketFound<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) inline: bool,
    pub(crate) root_page: u64,
    pub(crate) leaf_depth: Option<usize>,
}

/// A damage message of a walk: page (if any), tree, text.
#[derive(Debug, Clone)]
pub(crate) struct WalkDamage {
    pub(crate) page: Option<u64>,
    pub(crate) owner: Owner,
    pub(crate) what: String,
}

/// State of one defensive walk (one meta's tree, or a candidate root during reconstruction).
pub(crate) struct TreeWalk<'a> {
    pub(crate) w: Walker<'a>,
    data: &'a [u8],
    endian: Endian,
    page_size: usize,
    pgid: u64,
    pub(crate) buckets: Vec<BucketFound<'a>>,
    pub(crate) sites: Vec<Site<'a>>,
    pub(crate) leaves: Vec<LeafRead<'a>>,
    pub(crate) pages: Vec<LivePage<'a>>,
    pub(crate) damage: Vec<WalkDamage>,
    pub(crate) root_leaf_depth: Option<usize>,
    /// Elements read (all leaves, all trees); walks stop emitting past the candidate cap.
    pub(crate) elements: usize,
    pub(crate) element_cap: usize,
}

impl<'a> TreeWalk<'a> {
    pub(crate) fn new(
        data: &'a [u8],
        endian: Endian,
        page_size: usize,
        pgid: u64,
        element_cap: usize,
    ) -> Self {
        TreeWalk {
            w: Walker::new(data, endian, page_size, pgid),
            data,
            endian,
            page_size,
            pgid,
            buckets: Vec::new(),
            sites: Vec::new(),
            leaves: Vec::new(),
            pages: Vec::new(),
            damage: Vec::new(),
            root_leaf_depth: None,
            elements: 0,
            element_cap,
        }
    }

    /// Whether the walk met no damage at all.
    pub(crate) fn clean(&self) -> bool {
        self.sites.is_empty() && self.damage.is_empty()
    }

    /// Walks the root bucket tree from `root` and every bucket it lists.
    pub(crate) fn walk_all(&mut self, root: u64, from: PageRef) {
        self.node(root, from, 0, KeyRange::ALL, Owner::Root);
    }

    fn bucket_name(&self, owner: Owner) -> Option<&'a [u8]> {
        match owner {
            Owner::Root => None,
            Owner::Bucket(b) => self.buckets.get(b).map(|b| b.name),
        }
    }

    fn note(&mut self, page: Option<u64>, owner: Owner, what: String) {
        self.damage.push(WalkDamage { page, owner, what });
    }

    fn site(
        &mut self,
        owner: Owner,
        range: KeyRange<'a>,
        depth: usize,
        target: u64,
        kind: SiteKind,
        what: String,
    ) {
        self.sites.push(Site { owner, range, depth, target, kind });
        self.note(Some(target), owner, what);
    }

    /// The raw span (header + overflow pages) of page `id` if it lies inside the file and below
    /// pgid, without any other check.
    fn raw_span(&self, id: u64) -> Option<(PageHeader, &'a [u8])> {
        raw_span(self.data, self.endian, self.page_size, self.pgid, id)
    }

    fn unvisit(&mut self, id: u64, header: &PageHeader) {
        let end = id.saturating_add(u64::from(header.overflow)).saturating_add(1);
        for p in id..end.min(self.w.visited.bound()) {
            self.w.visited.remove(p);
        }
    }

    fn record_depth(&mut self, owner: Owner, depth: usize) {
        let slot = match owner {
            Owner::Root => &mut self.root_leaf_depth,
            Owner::Bucket(b) => match self.buckets.get_mut(b) {
                Some(b) => &mut b.leaf_depth,
                None => return,
            },
        };
        *slot = Some(slot.map_or(depth, |d: usize| d.max(depth)));
    }

    /// A page reached through a tree reference whose header says neither branch nor leaf but
    /// whose id is right: if its content validates as a leaf or branch holding keys of the
    /// expected range, read it (bolt itself would panic with `invalid page type`).
    fn repair(&mut self, id: u64, range: &KeyRange<'a>) -> Option<(PageHeader, &'a [u8], bool)> {
        let (header, span) = self.raw_span(id)?;
        if header.id != id || header.flags == BRANCH_PAGE || header.flags == LEAF_PAGE {
            return None;
        }
        let end = id.checked_add(u64::from(header.overflow))?.checked_add(1)?;
        if (id..end).any(|p| self.w.visited.contains(p)) {
            return None;
        }
        let is_leaf = match page::leaf_elements(span, self.endian) {
            Ok(els) if !els.is_empty() && els.iter().all(|e| range.contains(e.key)) => true,
            _ => match page::branch_elements(span, self.endian) {
                Ok(els) if els.iter().all(|e| range.contains(e.key)) => false,
                _ => return None,
            },
        };
        for p in id..end {
            self.w.visited.insert(p);
        }
        Some((header, span, is_leaf))
    }

    fn node(&mut self, id: u64, from: PageRef, depth: usize, range: KeyRange<'a>, owner: Owner) {
        if depth > MAX_DEPTH {
            let e = BoltError::DepthLimit { page: id, limit: MAX_DEPTH, from };
            self.site(owner, range, depth, id, SiteKind::Reference, e.to_string());
            return;
        }
        let (header, span, is_leaf) = match self.w.page(id, from, Expect::Node) {
            Ok((h, span)) => (h, span, h.flags == LEAF_PAGE),
            Err(e) => {
                if let Some((h, span, is_leaf)) = self.repair(id, &range) {
                    let kind = if is_leaf { "leaf" } else { "branch" };
                    self.note(
                        Some(id),
                        owner,
                        format!(
                            "page {id}: invalid page type: {}: {:x} (referenced from {from}), but the content is a \
                             valid {kind}; read it",
                            h.id, h.flags
                        ),
                    );
                    (h, span, is_leaf)
                } else {
                    let kind = site_kind(&e);
                    let what = describe(self.data, self.page_size, id, &e);
                    self.site(owner, range, depth, id, kind, what);
                    return;
                }
            }
        };
        self.pages.push(LivePage {
            id,
            flags: header.flags,
            overflow: header.overflow,
            bucket: self.bucket_name(owner),
            depth,
            leaf: is_leaf,
        });
        if !is_leaf {
            let elements = match page::branch_elements(span, self.endian) {
                Ok(e) => e,
                Err(fault) => {
                    self.pages.pop();
                    self.unvisit(id, &header);
                    let e = BoltError::Page { page: id, fault };
                    self.site(
                        owner,
                        range,
                        depth,
                        id,
                        SiteKind::Content,
                        format!("{e} (referenced from {from})"),
                    );
                    return;
                }
            };
            if elements.iter().any(|e| !range.contains(e.key)) {
                self.pages.pop();
                self.unvisit(id, &header);
                let what = format!(
                    "page {id}: branch keys lie outside the range its parent gives (referenced from {from}); \
                     the reference or the page is wrong"
                );
                self.site(owner, range, depth, id, SiteKind::Reference, what);
                return;
            }
            for (index, e) in elements.iter().enumerate() {
                let start = if index == 0 { range.start } else { Some(e.key) };
                let end = elements.get(index + 1).map(|n| n.key).or(range.end);
                let child_range = KeyRange { start, end };
                self.node(e.child, PageRef::Branch { page: id, index }, depth + 1, child_range, owner);
            }
            return;
        }
        let (elements, fault) = match page::leaf_elements(span, self.endian) {
            Ok(e) => (e, None),
            Err(fault) => (leaf_elements_lenient(span, self.endian), Some(fault)),
        };
        if let Some(fault) = fault {
            // The page is damaged: not part of the readable tree. The scan reads what it can of it
            // (as a detached page) so that it is accounted once.
            self.pages.pop();
            self.unvisit(id, &header);
            let e = BoltError::Page { page: id, fault };
            self.site(owner, range, depth, id, SiteKind::Content, format!("{e} (referenced from {from})"));
            return;
        }
        if elements.iter().any(|e| !range.contains(e.key)) {
            self.pages.pop();
            self.unvisit(id, &header);
            let what = format!(
                "page {id}: leaf keys lie outside the range its parent gives (referenced from {from}); the \
                 reference or the page is wrong"
            );
            self.site(owner, range, depth, id, SiteKind::Reference, what);
            return;
        }
        self.record_depth(owner, depth);
        match owner {
            Owner::Root => self.root_leaf(id, elements),
            Owner::Bucket(_) => {
                let mut kept = Vec::with_capacity(elements.len());
                for (index, e) in elements.into_iter().enumerate() {
                    if e.is_bucket() {
                        self.note(
                            Some(id),
                            owner,
                            format!(
                                "page {id}: element {index} is a nested bucket (heketi never nests); skipped"
                            ),
                        );
                    } else {
                        kept.push(e);
                    }
                }
                self.push_leaf(id, owner, kept, false);
            }
        }
    }

    fn push_leaf(&mut self, page: u64, owner: Owner, mut elements: Vec<LeafElement<'a>>, damaged: bool) {
        let room = self.element_cap.saturating_sub(self.elements);
        elements.truncate(room);
        self.elements += elements.len();
        self.leaves.push(LeafRead { page, owner, elements, damaged });
    }

    /// A leaf of the root bucket: every element is a top-level bucket.
    fn root_leaf(&mut self, page: u64, elements: Vec<LeafElement<'a>>) {
        for (index, e) in elements.into_iter().enumerate() {
            if !e.is_bucket() {
                let what = format!(
                    "page {page}: element {index} ({}) is a plain key/value in the root bucket (expected a bucket)",
                    String::from_utf8_lossy(e.key)
                );
                // A bucket whose element flags were damaged: its content is unknown.
                self.sites.push(Site {
                    owner: Owner::Root,
                    range: KeyRange { start: Some(e.key), end: Some(e.key) },
                    depth: 0,
                    target: page,
                    kind: SiteKind::Content,
                });
                self.note(Some(page), Owner::Root, what);
                continue;
            }
            let b = self.buckets.len();
            self.buckets.push(BucketFound { name: e.key, inline: false, root_page: 0, leaf_depth: None });
            let owner = Owner::Bucket(b);
            let name = String::from_utf8_lossy(e.key).into_owned();
            let Some(root) = self.endian.read_u64(e.value, 0).filter(|_| e.value.len() >= BUCKET_HEADER_SIZE)
            else {
                let what = format!(
                    "page {page}: bucket {name}: value too short ({} bytes) for a bucket header",
                    e.value.len()
                );
                self.site(owner, KeyRange::ALL, 0, page, SiteKind::Whole, what);
                continue;
            };
            if let Some(bf) = self.buckets.get_mut(b) {
                bf.root_page = root;
                bf.inline = root == 0;
            }
            if root != 0 {
                self.node(root, PageRef::BucketRoot { page, index }, 0, KeyRange::ALL, owner);
                continue;
            }
            // Inline bucket: an embedded leaf page after the bucket header.
            let inline = e.value.get(BUCKET_HEADER_SIZE..).unwrap_or(&[]);
            let header = PageHeader::parse(inline, self.endian);
            let strict = match header {
                Ok(h) if h.flags == LEAF_PAGE && inline.len() >= PAGE_HEADER_SIZE => {
                    page::leaf_elements(inline, self.endian).map_err(|f| f.to_string())
                }
                Ok(h) => Err(format!(
                    "invalid page type: {}: {:x} (inline bucket page, expected leaf)",
                    h.id, h.flags
                )),
                Err(f) => Err(f.to_string()),
            };
            match strict {
                Ok(elements) => {
                    self.record_depth(owner, 0);
                    let kept = elements.into_iter().filter(|e| !e.is_bucket()).collect();
                    self.push_leaf(page, owner, kept, false);
                }
                Err(why) => {
                    let what = format!("page {page}: inline bucket {name}: {why}");
                    self.site(owner, KeyRange::ALL, 0, page, SiteKind::Whole, what);
                    let partial: Vec<_> = leaf_elements_lenient(inline, self.endian)
                        .into_iter()
                        .filter(|e| !e.is_bucket())
                        .collect();
                    if !partial.is_empty() {
                        self.push_leaf(page, owner, partial, true);
                    }
                }
            }
        }
    }
}

/// How a fetch error affects the content under the reference.
fn site_kind(e: &BoltError) -> SiteKind {
    match e {
        BoltError::PageOutOfFile { .. } => SiteKind::Missing,
        BoltError::InvalidPageType { .. } | BoltError::PageIdMismatch { .. } | BoltError::Page { .. } => {
            SiteKind::Content
        }
        _ => SiteKind::Reference,
    }
}

/// The error's text, with "the page is all zeros" added when it is (a lost or torn write).
pub(crate) fn describe(data: &[u8], page_size: usize, id: u64, e: &BoltError) -> String {
    let zero = matches!(e, BoltError::InvalidPageType { .. } | BoltError::PageIdMismatch { .. })
        && page_bytes(data, page_size, id).is_some_and(is_zero);
    if zero {
        format!("{e}: the page is all zeros (lost or torn write)")
    } else {
        e.to_string()
    }
}

pub(crate) fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

/// The `page_size` bytes of page `id`, if inside the file.
pub(crate) fn page_bytes(data: &[u8], page_size: usize, id: u64) -> Option<&[u8]> {
    let start = usize::try_from(id).ok()?.checked_mul(page_size)?;
    data.get(start..start.checked_add(page_size)?)
}

/// Header and span (1 + overflow pages) of page `id`, if the whole span lies inside the file and
/// below `pgid`. No check of the header's id or flags.
pub(crate) fn raw_span(
    data: &[u8],
    endian: Endian,
    page_size: usize,
    pgid: u64,
    id: u64,
) -> Option<(PageHeader, &[u8])> {
    let first = page_bytes(data, page_size, id)?;
    let header = PageHeader::parse(first, endian).ok()?;
    let pages = u64::from(header.overflow).checked_add(1)?;
    let end = id.checked_add(pages)?;
    if end > pgid {
        return None;
    }
    let start = usize::try_from(id).ok()?.checked_mul(page_size)?;
    let stop = usize::try_from(end).ok()?.checked_mul(page_size)?;
    Some((header, data.get(start..stop)?))
}

/// The elements of a damaged leaf span that are individually readable: flags 0 or 1, key and
/// value inside the span and after the element array, non-empty key, keys ascending among the
/// kept ones. The element array is cut at the span's end.
pub(crate) fn leaf_elements_lenient(span: &[u8], endian: Endian) -> Vec<LeafElement<'_>> {
    let Ok(header) = PageHeader::parse(span, endian) else { return Vec::new() };
    let max = span.len().saturating_sub(PAGE_HEADER_SIZE) / page::ELEMENT_SIZE;
    let count = usize::from(header.count).min(max);
    let elements_end = PAGE_HEADER_SIZE + page::ELEMENT_SIZE * count;
    let mut out: Vec<LeafElement<'_>> = Vec::new();
    for index in 0..count {
        let off = PAGE_HEADER_SIZE + page::ELEMENT_SIZE * index;
        let (Some(flags), Some(pos), Some(ksize), Some(vsize)) = (
            endian.read_u32(span, off),
            endian.read_u32(span, off + 4),
            endian.read_u32(span, off + 8),
            endian.read_u32(span, off + 12),
        ) else {
            break;
        };
        if flags > 1 || ksize == 0 {
            continue;
        }
        let start = off as u64 + u64::from(pos);
        let key_end = start + u64::from(ksize);
        let value_end = key_end + u64::from(vsize);
        if start < elements_end as u64 || value_end > span.len() as u64 {
            continue;
        }
        let (Ok(s), Ok(k), Ok(v)) =
            (usize::try_from(start), usize::try_from(key_end), usize::try_from(value_end))
        else {
            continue;
        };
        let (Some(key), Some(value)) = (span.get(s..k), span.get(k..v)) else { continue };
        if out.last().is_some_and(|p| key <= p.key) {
            continue;
        }
        out.push(LeafElement { flags, key, value });
    }
    out
}
