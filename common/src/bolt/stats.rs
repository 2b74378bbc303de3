//! Page accounting (what bolt's `Tx.Check` verifies, spec §1.11): every page below `pgid` is a
//! meta page, reachable from the tree (counting overflow), the freelist page itself, or free.

use super::error::{BoltError, PageFault, PageRef};
use super::page::{self, BRANCH_PAGE};
use super::tree::{Expect, PageSet, Walker};
use super::Meta;

/// Page accounting of one meta's view of the file, for `inspect`.
///
/// For a healthy file [`PageStats::is_consistent`] holds:
/// `meta_pages + reachable_pages + freelist_pages + free_pages == pgid`, with no page both free
/// and in use and none unaccounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageStats {
    /// Page size in bytes.
    pub page_size: usize,
    /// Whole pages in the file (`len / page_size`).
    pub file_pages: u64,
    /// High-water mark of the meta (first page id never allocated).
    pub pgid: u64,
    /// Meta pages (always 2).
    pub meta_pages: u64,
    /// Branch pages reachable from the tree (not counting their overflow).
    pub branch_pages: u64,
    /// Leaf pages reachable from the tree (not counting their overflow).
    pub leaf_pages: u64,
    /// Overflow (continuation) pages of reachable branch/leaf pages.
    pub overflow_pages: u64,
    /// All pages reachable from the tree: `branch_pages + leaf_pages + overflow_pages`.
    pub reachable_pages: u64,
    /// Pages taken by the freelist page itself (1 + its overflow).
    pub freelist_pages: u64,
    /// Ids listed in the freelist.
    pub free_pages: u64,
    /// Freelist ids that are also reachable or the freelist page itself (bolt `Tx.Check`:
    /// "reachable freed").
    pub free_but_used: u64,
    /// Ids below `pgid` that are neither meta, reachable, freelist nor free (bolt `Tx.Check`:
    /// "unreachable unfreed"); includes ids beyond the end of a truncated file.
    pub unaccounted_pages: u64,
}

impl PageStats {
    /// Whether every page below `pgid` is accounted for exactly once.
    pub fn is_consistent(&self) -> bool {
        self.free_but_used == 0
            && self.unaccounted_pages == 0
            && self.meta_pages + self.reachable_pages + self.freelist_pages + self.free_pages == self.pgid
    }
}

/// Walks the whole tree of `meta`, then reads its freelist, and counts.
pub(crate) fn page_stats(
    data: &[u8],
    meta: &Meta,
    meta_index: usize,
    page_size: usize,
) -> Result<PageStats, BoltError> {
    let mut w = Walker::new(data, meta.endian(), page_size, meta.pgid);
    let roots = w.root_entries(meta.root, meta_index)?;
    for entry in &roots {
        w.bucket(entry)?;
    }
    let reachable_pages = w.visited.count();
    let branch_pages = w.pages.iter().filter(|p| p.header.flags == BRANCH_PAGE).count() as u64;
    let leaf_pages = w.pages.len() as u64 - branch_pages;

    let (header, span) =
        w.page(meta.freelist, PageRef::MetaFreelist { index: meta_index }, Expect::Freelist)?;
    let wrap = |fault| BoltError::Page { page: meta.freelist, fault };
    let ids = page::freelist_ids(span, meta.endian()).map_err(wrap)?;
    let file_pages = w.file_pages();
    let mut free = PageSet::new(file_pages);
    let (mut free_pages, mut free_but_used, mut free_beyond_eof) = (0u64, 0u64, 0u64);
    let mut prev: Option<u64> = None;
    for (index, id) in ids.iter().enumerate() {
        let index = index as u64;
        if id < 2 || id >= meta.pgid {
            return Err(wrap(PageFault::FreelistIdOutOfRange { index, id, pgid: meta.pgid }));
        }
        if prev.is_some_and(|p| id <= p) {
            return Err(wrap(PageFault::FreelistNotAscending { index, id }));
        }
        prev = Some(id);
        free_pages += 1;
        if id >= file_pages {
            free_beyond_eof += 1;
        } else if w.visited.contains(id) {
            free_but_used += 1;
        }
        free.insert(id);
    }

    // Pages below min(pgid, file_pages) not in any set, plus missing pages past EOF not freed.
    let in_file = meta.pgid.min(file_pages);
    let mut unaccounted = 0u64;
    for id in 2..in_file {
        if !w.visited.contains(id) && !free.contains(id) {
            unaccounted += 1;
        }
    }
    unaccounted += meta.pgid.saturating_sub(file_pages).saturating_sub(free_beyond_eof);

    Ok(PageStats {
        page_size,
        file_pages,
        pgid: meta.pgid,
        meta_pages: 2,
        branch_pages,
        leaf_pages,
        overflow_pages: reachable_pages - branch_pages - leaf_pages,
        reachable_pages,
        freelist_pages: u64::from(header.overflow) + 1,
        free_pages,
        free_but_used,
        unaccounted_pages: unaccounted,
    })
}
