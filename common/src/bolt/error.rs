//! Errors of the bolt reader.
//!
//! Two levels, in the style of gimli/object: [`PageFault`] is a small `Copy` value produced by
//! the per-page views in [`super::page`] (inner loops, no allocation, offsets relative to the
//! page or inline value), and [`BoltError`] is what the public API returns: the fault wrapped with
//! the page id and, for references between pages, where the reference came from ([`PageRef`]).
//! Every `Display` is one line an operator can act on, starting with the page or meta concerned.

use std::fmt;

/// Where a page reference was found; included in errors about the referenced page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageRef {
    /// The `root` field of meta page `index` (root of the root bucket).
    MetaRoot {
        /// Meta slot, 0 or 1.
        index: usize,
    },
    /// The `freelist` field of meta page `index`.
    MetaFreelist {
        /// Meta slot, 0 or 1.
        index: usize,
    },
    /// Child pointer of element `index` of branch page `page`.
    Branch {
        /// The branch page.
        page: u64,
        /// Element index in that page.
        index: usize,
    },
    /// The root of a tree found by salvage when no meta page is usable (spec §1.13).
    Reconstructed,
    /// A page examined by salvage's scan of the whole file, not reached through a reference.
    Scan,
    /// Bucket header (`root` field) in the value of leaf element `index` of page `page`.
    BucketRoot {
        /// The leaf page holding the bucket element.
        page: u64,
        /// Element index in that page.
        index: usize,
    },
}

impl fmt::Display for PageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageRef::MetaRoot { index } => write!(f, "meta {index} root"),
            PageRef::MetaFreelist { index } => write!(f, "meta {index} freelist"),
            PageRef::Branch { page, index } => write!(f, "branch page {page} element {index}"),
            PageRef::Reconstructed => write!(f, "reconstructed root"),
            PageRef::Scan => write!(f, "file scan"),
            PageRef::BucketRoot { page, index } => {
                write!(f, "bucket header in page {page} element {index}")
            }
        }
    }
}

/// A structural fault inside one page (or one inline bucket value).
///
/// Offsets are relative to the start of the page (its header), or to the start of the embedded
/// page of an inline bucket. `limit` is the length of the page span (including overflow pages) or
/// of the inline value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum PageFault {
    /// Fewer than 16 bytes available for the page header.
    #[error("page header truncated ({len} bytes, need 16)")]
    HeaderTruncated {
        /// Bytes available.
        len: usize,
    },
    /// The element array (`count` × 16 bytes after the header) does not fit in the page span.
    #[error("{count} elements do not fit (element array ends at {end} > page end {limit})")]
    ElementsOutOfBounds {
        /// Element count from the header.
        count: u16,
        /// End offset of the element array.
        end: u64,
        /// Length of the page span.
        limit: usize,
    },
    /// A key starts inside the element array instead of after it.
    #[error("element {index} key starts at {start}, inside the element array (ends at {elements_end})")]
    KeyOverlapsElements {
        /// Element index.
        index: usize,
        /// Key start offset.
        start: u64,
        /// End offset of the element array.
        elements_end: usize,
    },
    /// A key's bytes run past the page span.
    #[error("element {index} key out of bounds (offset {end} > page end {limit})")]
    KeyOutOfBounds {
        /// Element index.
        index: usize,
        /// End offset of the key.
        end: u64,
        /// Length of the page span.
        limit: usize,
    },
    /// A value's bytes run past the page span.
    #[error("element {index} value out of bounds (offset {end} > page end {limit})")]
    ValueOutOfBounds {
        /// Element index.
        index: usize,
        /// End offset of the value.
        end: u64,
        /// Length of the page span.
        limit: usize,
    },
    /// A key of length zero (bolt never stores one).
    #[error("element {index} has an empty key")]
    EmptyKey {
        /// Element index.
        index: usize,
    },
    /// Keys must be strictly ascending (within a page and across the leaves of one bucket).
    #[error("element {index} key is not greater than the previous key")]
    KeysNotAscending {
        /// Element index.
        index: usize,
    },
    /// Leaf element flags other than 0 (key/value) or 1 (bucket).
    #[error("element {index} has unknown flags {flags:#x}")]
    UnknownElementFlags {
        /// Element index.
        index: usize,
        /// The flags found.
        flags: u32,
    },
    /// A branch page with zero elements.
    #[error("branch page has no elements")]
    EmptyBranch,
    /// A plain key/value in the root bucket, where only buckets may live.
    #[error("element {index} is a plain key/value in the root bucket (expected a bucket)")]
    NotABucket {
        /// Element index.
        index: usize,
    },
    /// A bucket inside a top-level bucket; heketi never nests buckets, so this reader rejects it
    /// instead of recursing.
    #[error("element {index} is a nested bucket inside a top-level bucket (heketi never nests buckets)")]
    NestedBucket {
        /// Element index.
        index: usize,
    },
    /// A bucket value shorter than its 16-byte header (32 bytes for an inline bucket).
    #[error("element {index} bucket value too short ({len} bytes, need {need})")]
    BucketValueTooShort {
        /// Element index.
        index: usize,
        /// Value length.
        len: usize,
        /// Minimum length.
        need: usize,
    },
    /// The embedded page of an inline bucket is not a leaf.
    #[error("invalid page type: {id}: {flags:x} (inline bucket page, expected leaf)")]
    InvalidInlinePageType {
        /// Id field of the embedded page header (0 as bolt writes it).
        id: u64,
        /// Flags field of the embedded page header.
        flags: u16,
    },
    /// The freelist ids run past the page span.
    #[error("freelist of {count} ids does not fit (ids end at {end} > page end {limit})")]
    FreelistOutOfBounds {
        /// Number of ids announced.
        count: u64,
        /// End offset of the id array.
        end: u64,
        /// Length of the page span.
        limit: usize,
    },
    /// A freelist id that is a meta page or not below `pgid`.
    #[error("freelist entry {index} is page {id}, outside 2..{pgid}")]
    FreelistIdOutOfRange {
        /// Position in the freelist.
        index: u64,
        /// The id found.
        id: u64,
        /// High-water mark of the meta in use.
        pgid: u64,
    },
    /// Freelist ids must be strictly ascending (bolt writes them sorted and unique).
    #[error("freelist entry {index} (page {id}) is not greater than the previous id")]
    FreelistNotAscending {
        /// Position in the freelist.
        index: u64,
        /// The id found.
        id: u64,
    },
}

/// Error of the bolt reader. Each variant names the meta slot or page concerned.
///
/// Texts follow bolt's where an equivalent exists (`invalid database`, `version mismatch`,
/// `checksum error`, `file size too small`, `invalid page type: N: X`) so operators recognise
/// them from heketi's own logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoltError {
    /// The file cannot hold two meta pages of the selected page size (bolt: `file size too small`).
    #[error("file size too small: {len} bytes, need at least {need} (two meta pages)")]
    FileTooSmall {
        /// File length.
        len: usize,
        /// Minimum length.
        need: usize,
    },
    /// The file ends before the meta page at `offset` is complete.
    #[error("meta {index}: page at offset {offset} truncated (file is {len} bytes)")]
    MetaTruncated {
        /// Meta slot.
        index: usize,
        /// Byte offset where the meta page was expected.
        offset: usize,
        /// File length.
        len: usize,
    },
    /// Neither little- nor big-endian bolt magic at the meta page (bolt: `invalid database`).
    #[error("meta {index}: invalid database (magic {found:02x?} at offset {offset})")]
    InvalidMagic {
        /// Meta slot.
        index: usize,
        /// Byte offset of the magic field.
        offset: usize,
        /// The four bytes found.
        found: [u8; 4],
    },
    /// Meta version is not 2 (bolt: `version mismatch`).
    #[error("meta {index}: version mismatch (version {version}, expected 2)")]
    VersionMismatch {
        /// Meta slot.
        index: usize,
        /// Version found.
        version: u32,
    },
    /// Stored checksum is non-zero and differs from FNV-1a over the meta (bolt: `checksum error`).
    #[error("meta {index}: checksum error (stored {stored:#018x}, computed {computed:#018x})")]
    Checksum {
        /// Meta slot.
        index: usize,
        /// Checksum stored in the file.
        stored: u64,
        /// FNV-1a 64 of meta bytes 16..72.
        computed: u64,
    },
    /// Page size not a power of two in 512..=1 MiB (bolt does not check this; a reader must).
    #[error("meta {index}: invalid page size {page_size} (expected a power of two from 512 to 1048576)")]
    InvalidPageSize {
        /// Meta slot.
        index: usize,
        /// Page size found.
        page_size: u32,
    },
    /// Meta 1 was found at an offset that disagrees with the page size it records.
    #[error("meta {index}: records page size {page_size} but was read at offset {offset}")]
    PageSizeMismatch {
        /// Meta slot.
        index: usize,
        /// Page size recorded in this meta.
        page_size: u32,
        /// Offset where it was read.
        offset: usize,
    },
    /// Both meta pages failed validation (bolt refuses to open the file).
    #[error("no valid meta page: {meta0}; {meta1}")]
    NoValidMeta {
        /// Why meta 0 was rejected.
        meta0: Box<BoltError>,
        /// Why meta 1 was rejected.
        meta1: Box<BoltError>,
    },
    /// A meta index other than 0 or 1 was asked for.
    #[error("meta {index} does not exist (only 0 and 1)")]
    NoSuchMeta {
        /// The index asked for.
        index: usize,
    },
    /// The file is shorter than `pgid` pages: pages bolt considers allocated are missing.
    #[error("file truncated: {len} bytes, but pgid {pgid} with page size {page_size} needs {need}")]
    FileTruncated {
        /// File length.
        len: usize,
        /// High-water mark of the meta in use.
        pgid: u64,
        /// Page size.
        page_size: usize,
        /// `pgid * page_size`.
        need: u64,
    },
    /// A referenced page id is at or above the meta's high-water mark.
    #[error("page {page}: not below the high-water mark pgid {pgid} (referenced from {from})")]
    PageBeyondPgid {
        /// The referenced page id.
        page: u64,
        /// High-water mark.
        pgid: u64,
        /// Where the reference was found.
        from: PageRef,
    },
    /// A page's span (1 + overflow pages) runs to or past the high-water mark.
    #[error("page {page}: span of {pages} pages runs past the high-water mark pgid {pgid} (referenced from {from})")]
    SpanBeyondPgid {
        /// The page id.
        page: u64,
        /// 1 + overflow.
        pages: u64,
        /// High-water mark.
        pgid: u64,
        /// Where the reference was found.
        from: PageRef,
    },
    /// A page (with its overflow pages) runs past the end of the file.
    #[error("page {page}: span of {pages} pages runs past end of file ({file_pages} whole pages) (referenced from {from})")]
    PageOutOfFile {
        /// The page id.
        page: u64,
        /// 1 + overflow (1 if the header could not be read).
        pages: u64,
        /// Whole pages in the file.
        file_pages: u64,
        /// Where the reference was found.
        from: PageRef,
    },
    /// The referenced page's flags are not what the reference requires. `header_id` and `flags`
    /// are printed as bolt's `invalid page type: %d: %x` does (N = id in that page's header).
    #[error("page {page}: invalid page type: {header_id}: {flags:x} (expected {expected}; referenced from {from})")]
    InvalidPageType {
        /// The referenced page id.
        page: u64,
        /// Id stored in that page's header.
        header_id: u64,
        /// Flags stored in that page's header.
        flags: u16,
        /// What the reference required (`branch or leaf`, `freelist`).
        expected: &'static str,
        /// Where the reference was found.
        from: PageRef,
    },
    /// The page header's id differs from the page's position in the file.
    #[error("page {page}: header id is {header_id} (referenced from {from})")]
    PageIdMismatch {
        /// The referenced page id.
        page: u64,
        /// Id stored in the header.
        header_id: u64,
        /// Where the reference was found.
        from: PageRef,
    },
    /// A page reached a second time: a cycle or a page shared by two parents or overlapping
    /// another page's overflow.
    #[error("page {page}: reached twice (cycle or shared page), again from {from}")]
    PageReferencedTwice {
        /// The page id.
        page: u64,
        /// The second reference.
        from: PageRef,
    },
    /// A tree deeper than the reader's limit.
    #[error("page {page}: tree deeper than {limit} levels (referenced from {from})")]
    DepthLimit {
        /// The page id at which the limit was hit.
        page: u64,
        /// The limit.
        limit: usize,
        /// Where the reference was found.
        from: PageRef,
    },
    /// A structural fault inside a page.
    #[error("page {page}: {fault}")]
    Page {
        /// The page id.
        page: u64,
        /// What is wrong.
        fault: PageFault,
    },
    /// A structural fault inside the inline bucket stored in element `index` of leaf page `page`.
    #[error("page {page}: inline bucket in element {index}: {fault}")]
    InlineBucket {
        /// The leaf page holding the bucket element.
        page: u64,
        /// Element index in that page.
        index: usize,
        /// What is wrong inside the inline bucket.
        fault: PageFault,
    },
}
