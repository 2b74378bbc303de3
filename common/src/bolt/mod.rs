//! Read-only BoltDB 1.3.1 reader for `heketi.db` (spec §1).
//!
//! The caller reads the whole file into memory and hands the bytes to [`BoltFile::parse`]; this
//! module never maps or locks the file, so a possibly truncated or concurrently written file
//! cannot fault the process. Everything returned borrows from that byte slice: overflow pages and
//! inline buckets are contiguous bytes, so no key or value is copied.
//!
//! Guarantees: every offset is bounds-checked; no panics on any input; no allocation sized by a
//! length read from the file before it was checked against the file; no loops on cycles (a
//! visited-page set) and a depth limit per tree. Any inconsistency is a [`BoltError`] naming the
//! meta or page and what was wrong.
//!
//! Choices where this reader is stricter than bolt (bolt checks almost nothing, spec §1.10):
//! * every page reached must lie below `pgid` and inside the file, carry its own id and the
//!   expected type, be reached once only (counting overflow pages);
//! * keys are non-empty and strictly ascending within each tree, branch pages are non-empty;
//! * the root bucket holds only buckets, and a top-level bucket may not contain a nested bucket
//!   (heketi never nests; the reader reports [`PageFault::NestedBucket`] rather than recurse);
//! * the tree walks ([`BoltFile::read_all`], [`BoltFile::bucket`], …) refuse a file shorter than
//!   `pgid` pages ([`BoltError::FileTruncated`]); [`BoltFile::parse`] and
//!   [`BoltFile::page_stats`] do not, so `inspect` can still report such a file.
//!
//! The per-page views in [`page`] are independent of the file and of the tree, for reuse by a
//! salvage scan.

// Input-driven code must not be able to panic: enforce it mechanically outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        unsafe_code,
        missing_docs
    )
)]

mod error;
mod meta;
pub mod page;
pub mod salvage;
mod stats;
mod tree;
pub mod write;

#[cfg(test)]
mod tests;

pub use error::{BoltError, PageFault, PageRef};
pub use meta::Meta;
pub use page::Endian;
pub use stats::PageStats;

use tree::Walker;

/// A key and its value, both borrowed from the file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyValue<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value.
    pub value: &'a [u8],
}

/// One top-level bucket with all its entries in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket<'a> {
    /// Bucket name (key in the root bucket).
    pub name: &'a [u8],
    /// Whether the bucket is stored inline in its root-bucket element (no page of its own).
    pub inline: bool,
    /// Root page of the bucket; 0 for an inline bucket.
    pub root_page: u64,
    /// Bucket sequence from the bucket header (heketi never sets it: 0).
    pub sequence: u64,
    /// Key/values in ascending key order. Includes heketi's non-gob registry keys (`MANAGE…`,
    /// `STORAGE…`, `DEVICE…`) in NODE and DEVICE; skipping them is the caller's job.
    pub entries: Vec<KeyValue<'a>>,
}

/// A parsed BoltDB file: both metas validated, the one bolt would use selected.
#[derive(Debug, Clone)]
pub struct BoltFile<'a> {
    data: &'a [u8],
    metas: [Result<Meta, BoltError>; 2],
    active: usize,
    meta: Meta,
    page_size: usize,
}

impl<'a> BoltFile<'a> {
    /// Validates both metas (magic, version, FNV-1a checksum, page size) and chooses as bolt
    /// does: the valid meta with the higher txid (meta 0 on a tie). Errors if neither is valid
    /// ([`BoltError::NoValidMeta`]) or if the file is shorter than two pages of the selected
    /// page size ([`BoltError::FileTooSmall`]).
    ///
    /// Meta 0 is read at offset 0 and, if valid, gives the page size at which meta 1 is read. If
    /// meta 0 is invalid, meta 1 is probed at meta 0's recorded page size and at 4096…65536.
    /// The byte order (little or big endian) is detected from each meta's magic.
    pub fn parse(data: &'a [u8]) -> Result<Self, BoltError> {
        let metas = meta::read_metas(data);
        let active = meta::choose(&metas)?;
        let chosen = match metas.get(active) {
            Some(Ok(m)) => m.clone(),
            Some(Err(e)) => return Err(e.clone()),
            None => return Err(BoltError::NoSuchMeta { index: active }),
        };
        let page_size = chosen.page_size as usize;
        let need = page_size.saturating_mul(2);
        if data.len() < need {
            return Err(BoltError::FileTooSmall { len: data.len(), need });
        }
        Ok(BoltFile { data, metas, active, meta: chosen, page_size })
    }

    /// Page size in bytes, from the meta in use.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Byte order of the file.
    pub fn endian(&self) -> Endian {
        self.meta.endian()
    }

    /// The whole file's bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The meta in use.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Slot of the meta in use: 0 or 1.
    pub fn meta_index(&self) -> usize {
        self.active
    }

    /// Both metas as decoded and validated (for `inspect` and salvage). An `Err` says why that
    /// meta is unusable; [`Meta::decode`] gives the raw fields of a meta that decodes but fails
    /// validation.
    pub fn metas(&self) -> &[Result<Meta, BoltError>; 2] {
        &self.metas
    }

    /// The valid meta in slot `index`, or why it cannot be used.
    fn valid_meta(&self, index: usize) -> Result<&Meta, BoltError> {
        match self.metas.get(index) {
            Some(Ok(m)) => Ok(m),
            Some(Err(e)) => Err(e.clone()),
            None => Err(BoltError::NoSuchMeta { index }),
        }
    }

    /// A walker for meta `index`, after checking the file holds all `pgid` pages.
    fn walker(&self, index: usize) -> Result<(Walker<'a>, &Meta), BoltError> {
        let meta = self.valid_meta(index)?;
        let need = meta.pgid.saturating_mul(self.page_size as u64);
        if (self.data.len() as u64) < need {
            return Err(BoltError::FileTruncated {
                len: self.data.len(),
                pgid: meta.pgid,
                page_size: self.page_size,
                need,
            });
        }
        Ok((Walker::new(self.data, meta.endian(), self.page_size, meta.pgid), meta))
    }

    /// Names of the top-level buckets, in key order. Walks only the root bucket's tree.
    pub fn bucket_names(&self) -> Result<Vec<&'a [u8]>, BoltError> {
        let (mut w, meta) = self.walker(self.active)?;
        let roots = w.root_entries(meta.root, self.active)?;
        Ok(roots.into_iter().map(|e| e.name).collect())
    }

    /// All key/values of the top-level bucket `name` (`None` if absent), in key order, borrowed
    /// from the file. Walks the root bucket's tree and that bucket only.
    pub fn bucket(&self, name: &[u8]) -> Result<Option<Vec<KeyValue<'a>>>, BoltError> {
        let (mut w, meta) = self.walker(self.active)?;
        let roots = w.root_entries(meta.root, self.active)?;
        match roots.iter().find(|e| e.name == name) {
            Some(entry) => Ok(Some(w.bucket(entry)?.entries)),
            None => Ok(None),
        }
    }

    /// Walks everything reachable from the meta in use once: every top-level bucket with its
    /// entries, buckets in name order.
    pub fn read_all(&self) -> Result<Vec<Bucket<'a>>, BoltError> {
        self.read_all_from_meta(self.active)
    }

    /// Same as [`BoltFile::read_all`] but from meta `meta` (0 or 1), e.g. the older tree for
    /// salvage. Errors if that meta is invalid.
    pub fn read_all_from_meta(&self, meta: usize) -> Result<Vec<Bucket<'a>>, BoltError> {
        let (mut w, m) = self.walker(meta)?;
        let roots = w.root_entries(m.root, meta)?;
        roots.iter().map(|entry| w.bucket(entry)).collect()
    }

    /// Page accounting of the meta in use, for `inspect`: pages in the file, `pgid`, pages
    /// reachable from the tree (counting overflow), freelist page(s), free ids, and the
    /// overlaps/gaps bolt's `Tx.Check` would report. Errors if the tree or the freelist cannot
    /// be walked; does not require the file to hold all `pgid` pages.
    pub fn page_stats(&self) -> Result<PageStats, BoltError> {
        self.page_stats_from_meta(self.active)
    }

    /// [`BoltFile::page_stats`] for meta `meta` (0 or 1).
    pub fn page_stats_from_meta(&self, meta: usize) -> Result<PageStats, BoltError> {
        let m = self.valid_meta(meta)?;
        stats::page_stats(self.data, m, meta, self.page_size)
    }

    /// Branch and leaf pages reachable from meta `meta`, in walk order (tests and inspection).
    #[cfg(test)]
    pub(crate) fn tree_pages(&self, meta: usize) -> Result<Vec<tree::VisitedPage>, BoltError> {
        let (mut w, m) = self.walker(meta)?;
        let roots = w.root_entries(m.root, meta)?;
        for entry in &roots {
            w.bucket(entry)?;
        }
        Ok(w.pages)
    }
}
