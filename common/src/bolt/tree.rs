//! Defensive tree walk (spec §1.10): page fetch with range/type/id/cycle checks, branch → leaf
//! recursion with a depth limit, root bucket → top-level buckets (real or inline).

use super::error::{BoltError, PageFault, PageRef};
use super::page::{
    self, Endian, LeafElement, PageHeader, BRANCH_PAGE, BUCKET_HEADER_SIZE, FREELIST_PAGE, LEAF_PAGE,
    PAGE_HEADER_SIZE,
};
use super::{Bucket, KeyValue};

/// Maximum branch depth of one tree (root bucket tree or one bucket's tree). A bolt tree with
/// ≥ 2 children per branch and this depth would need 2^64 leaves.
pub(crate) const MAX_DEPTH: usize = 64;

/// A set of page ids below a bound fixed at creation (bounded by the file size, never by a value
/// read from the file).
#[derive(Debug, Clone)]
pub(crate) struct PageSet {
    bits: Vec<u64>,
    len: u64,
}

impl PageSet {
    pub(crate) fn new(len: u64) -> Self {
        let words = usize::try_from(len.div_ceil(64)).unwrap_or(0);
        PageSet { bits: vec![0; words], len }
    }

    fn slot(&self, id: u64) -> Option<(usize, u64)> {
        if id >= self.len {
            return None;
        }
        Some((usize::try_from(id / 64).ok()?, 1u64 << (id % 64)))
    }

    pub(crate) fn contains(&self, id: u64) -> bool {
        self.slot(id).and_then(|(w, m)| self.bits.get(w).map(|x| x & m != 0)).unwrap_or(false)
    }

    /// Inserts `id`; false if it was already present or is out of range.
    pub(crate) fn insert(&mut self, id: u64) -> bool {
        match self.slot(id) {
            Some((w, m)) => match self.bits.get_mut(w) {
                Some(x) if *x & m == 0 => {
                    *x |= m;
                    true
                }
                _ => false,
            },
            None => false,
        }
    }

    /// Removes `id` (no-op if absent or out of range).
    pub(crate) fn remove(&mut self, id: u64) {
        if let Some((w, m)) = self.slot(id) {
            if let Some(x) = self.bits.get_mut(w) {
                *x &= !m;
            }
        }
    }

    /// Capacity: ids below this bound can be stored.
    pub(crate) fn bound(&self) -> u64 {
        self.len
    }

    pub(crate) fn count(&self) -> u64 {
        self.bits.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

/// What a page reference requires the page to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    Node,
    Freelist,
}

/// A branch or leaf page reached by a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VisitedPage {
    pub(crate) id: u64,
    pub(crate) header: PageHeader,
}

/// One element of the root bucket (a top-level bucket) with its location.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RootEntry<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) value: &'a [u8],
    pub(crate) page: u64,
    pub(crate) index: usize,
}

/// Walk state for one meta: bounds, visited pages, pages reached.
pub(crate) struct Walker<'a> {
    data: &'a [u8],
    endian: Endian,
    page_size: usize,
    pgid: u64,
    file_pages: u64,
    pub(crate) visited: PageSet,
    pub(crate) pages: Vec<VisitedPage>,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(data: &'a [u8], endian: Endian, page_size: usize, pgid: u64) -> Self {
        let file_pages = (data.len() / page_size.max(1)) as u64;
        Walker {
            data,
            endian,
            page_size,
            pgid,
            file_pages,
            visited: PageSet::new(file_pages),
            pages: Vec::new(),
        }
    }

    pub(crate) fn file_pages(&self) -> u64 {
        self.file_pages
    }

    /// Fetches page `id` with its overflow pages, checking (in this order): below pgid, inside
    /// the file, not reached before, flags as expected, header id, span below pgid and inside the
    /// file. Marks the whole span visited.
    pub(crate) fn page(
        &mut self,
        id: u64,
        from: PageRef,
        expect: Expect,
    ) -> Result<(PageHeader, &'a [u8]), BoltError> {
        if id >= self.pgid {
            return Err(BoltError::PageBeyondPgid { page: id, pgid: self.pgid, from });
        }
        let out_of_file =
            |pages| BoltError::PageOutOfFile { page: id, pages, file_pages: self.file_pages, from };
        if id >= self.file_pages {
            return Err(out_of_file(1));
        }
        if self.visited.contains(id) {
            return Err(BoltError::PageReferencedTwice { page: id, from });
        }
        let ps = self.page_size as u64;
        // id < file_pages, so id * page_size <= data.len() fits in usize.
        let start = usize::try_from(id * ps).map_err(|_| out_of_file(1))?;
        let first =
            self.data.get(start..start.saturating_add(self.page_size)).ok_or_else(|| out_of_file(1))?;
        let header =
            PageHeader::parse(first, self.endian).map_err(|fault| BoltError::Page { page: id, fault })?;
        let type_ok = match expect {
            Expect::Node => header.flags == BRANCH_PAGE || header.flags == LEAF_PAGE,
            Expect::Freelist => header.flags == FREELIST_PAGE,
        };
        if !type_ok {
            return Err(BoltError::InvalidPageType {
                page: id,
                header_id: header.id,
                flags: header.flags,
                expected: match expect {
                    Expect::Node => "branch or leaf",
                    Expect::Freelist => "freelist",
                },
                from,
            });
        }
        if header.id != id {
            return Err(BoltError::PageIdMismatch { page: id, header_id: header.id, from });
        }
        let pages = u64::from(header.overflow) + 1;
        let end = id + pages; // id < file_pages <= usize::MAX / 512, pages <= 2^32: no overflow
        if end > self.file_pages {
            return Err(out_of_file(pages));
        }
        if end > self.pgid {
            return Err(BoltError::SpanBeyondPgid { page: id, pages, pgid: self.pgid, from });
        }
        // Check the whole span before marking any of it, so that a failed fetch leaves the
        // visited set as it was (salvage walks on after errors).
        if let Some(p) = (id..end).find(|&p| self.visited.contains(p)) {
            return Err(BoltError::PageReferencedTwice { page: p, from });
        }
        for p in id..end {
            self.visited.insert(p);
        }
        let span_end = usize::try_from(end * ps).map_err(|_| out_of_file(pages))?;
        let span = self.data.get(start..span_end).ok_or_else(|| out_of_file(pages))?;
        if expect == Expect::Node {
            self.pages.push(VisitedPage { id, header });
        }
        Ok((header, span))
    }

    /// Walks the tree rooted at page `root`, calling `leaf` for every leaf element in order
    /// with (page id, element index, element).
    pub(crate) fn walk_tree<F>(
        &mut self,
        root: u64,
        from: PageRef,
        depth: usize,
        leaf: &mut F,
    ) -> Result<(), BoltError>
    where
        F: FnMut(u64, usize, LeafElement<'a>) -> Result<(), BoltError>,
    {
        if depth > MAX_DEPTH {
            return Err(BoltError::DepthLimit { page: root, limit: MAX_DEPTH, from });
        }
        let (header, span) = self.page(root, from, Expect::Node)?;
        let wrap = |fault| BoltError::Page { page: root, fault };
        if header.flags == BRANCH_PAGE {
            let elements = page::branch_elements(span, self.endian).map_err(wrap)?;
            for (index, e) in elements.into_iter().enumerate() {
                let from = PageRef::Branch { page: root, index };
                self.walk_tree(e.child, from, depth + 1, leaf)?;
            }
        } else {
            let elements = page::leaf_elements(span, self.endian).map_err(wrap)?;
            for (index, e) in elements.into_iter().enumerate() {
                leaf(root, index, e)?;
            }
        }
        Ok(())
    }

    /// Walks the root bucket tree of a meta and returns its bucket elements in key order.
    pub(crate) fn root_entries(
        &mut self,
        root: u64,
        meta_index: usize,
    ) -> Result<Vec<RootEntry<'a>>, BoltError> {
        let mut out: Vec<RootEntry<'a>> = Vec::new();
        let mut prev: Option<&'a [u8]> = None;
        self.walk_tree(root, PageRef::MetaRoot { index: meta_index }, 0, &mut |page, index, e| {
            if !e.is_bucket() {
                return Err(BoltError::Page { page, fault: PageFault::NotABucket { index } });
            }
            check_order(&mut prev, e.key, page, index)?;
            out.push(RootEntry { name: e.key, value: e.value, page, index });
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads one top-level bucket: inline (root 0) or a tree of its own.
    pub(crate) fn bucket(&mut self, entry: &RootEntry<'a>) -> Result<Bucket<'a>, BoltError> {
        let (page, index) = (entry.page, entry.index);
        let too_short = |need| BoltError::Page {
            page,
            fault: PageFault::BucketValueTooShort { index, len: entry.value.len(), need },
        };
        let root = self.endian.read_u64(entry.value, 0).ok_or_else(|| too_short(BUCKET_HEADER_SIZE))?;
        let sequence = self.endian.read_u64(entry.value, 8).ok_or_else(|| too_short(BUCKET_HEADER_SIZE))?;
        let mut entries = Vec::new();
        if root == 0 {
            let inline = entry
                .value
                .get(BUCKET_HEADER_SIZE..)
                .filter(|p| p.len() >= PAGE_HEADER_SIZE)
                .ok_or_else(|| too_short(BUCKET_HEADER_SIZE + PAGE_HEADER_SIZE))?;
            let wrap = |fault| BoltError::InlineBucket { page, index, fault };
            let header = PageHeader::parse(inline, self.endian).map_err(wrap)?;
            if header.flags != LEAF_PAGE {
                return Err(wrap(PageFault::InvalidInlinePageType { id: header.id, flags: header.flags }));
            }
            for (i, e) in page::leaf_elements(inline, self.endian).map_err(wrap)?.into_iter().enumerate() {
                if e.is_bucket() {
                    return Err(wrap(PageFault::NestedBucket { index: i }));
                }
                entries.push(KeyValue { key: e.key, value: e.value });
            }
        } else {
            let mut prev: Option<&'a [u8]> = None;
            self.walk_tree(root, PageRef::BucketRoot { page, index }, 0, &mut |p, i, e| {
                if e.is_bucket() {
                    return Err(BoltError::Page { page: p, fault: PageFault::NestedBucket { index: i } });
                }
                check_order(&mut prev, e.key, p, i)?;
                entries.push(KeyValue { key: e.key, value: e.value });
                Ok(())
            })?;
        }
        Ok(Bucket { name: entry.name, inline: root == 0, root_page: root, sequence, entries })
    }
}

/// Keys of one tree must be strictly ascending across its leaves (within a leaf this is already
/// checked by [`page::leaf_elements`]).
fn check_order<'a>(
    prev: &mut Option<&'a [u8]>,
    key: &'a [u8],
    page: u64,
    index: usize,
) -> Result<(), BoltError> {
    if prev.is_some_and(|p| key <= p) {
        return Err(BoltError::Page { page, fault: PageFault::KeysNotAscending { index } });
    }
    *prev = Some(key);
    Ok(())
}
