//! Writing a fresh, compact BoltDB 1.3.1 file (spec §1.11) — what `heketi-doctor import` uses
//! instead of `heketi db import`.
//!
//! Layout: pages 0 and 1 are metas (txid T and T−1, both naming the same tree, as bolt's own
//! `Tx.WriteTo` writes a backup), page 2 an empty freelist, data pages from 3 upward. Nodes are
//! split exactly the way bolt's `node.split` splits them (fill up to half a page, at least two
//! elements per page, no split for ≤ 4 elements or a node smaller than a page), small buckets are
//! stored inline under the same condition bolt uses, and nodes larger than a page get overflow
//! pages. Every page below `pgid` is either reachable exactly once or is the freelist, so bolt's
//! `Tx.Check` has nothing to report and later heketi writes work on the file normally.

// The writer indexes only into buffers it sized itself, never by lengths read from input.
#![allow(clippy::indexing_slicing)]

use super::page::{
    BRANCH_PAGE, BUCKET_HEADER_SIZE, BUCKET_LEAF_FLAG, ELEMENT_SIZE, FREELIST_PAGE, LEAF_PAGE, META_PAGE,
    PAGE_HEADER_SIZE,
};

/// bolt's magic and file-format version.
const MAGIC: u32 = 0xED0C_DAED;
const VERSION: u32 = 2;
/// bolt's `DefaultFillPercent`.
const FILL_PERCENT: f64 = 0.5;
/// bolt's `minKeysPerPage`.
const MIN_KEYS_PER_PAGE: usize = 2;
/// Transaction id written into meta 0 (meta 1 gets one less), like a fresh `Tx.WriteTo` copy.
const TXID: u64 = 2;

/// One top-level bucket to write: its name and its key/values (any order; sorted here).
#[derive(Debug, Clone, Default)]
pub struct BucketData {
    /// Bucket name (key in the root bucket).
    pub name: Vec<u8>,
    /// Key/value pairs; keys must be non-empty and unique.
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Why a set of buckets cannot be written as a bolt file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)] // the messages say it all
pub enum WriteError {
    #[error("bucket {bucket:?}: empty key")]
    EmptyKey { bucket: String },
    #[error("bucket {bucket:?}: duplicate key {key:?}")]
    DuplicateKey { bucket: String, key: String },
    #[error("bucket {bucket:?}: key of {len} bytes exceeds bolt's limit of 32768")]
    KeyTooLarge { bucket: String, len: usize },
    #[error("bucket {bucket:?}: value of {len} bytes exceeds bolt's limit")]
    ValueTooLarge { bucket: String, len: usize },
    #[error("duplicate bucket {0:?}")]
    DuplicateBucket(String),
    #[error("page size {0} is not a power of two between 1 KiB and 64 KiB")]
    BadPageSize(usize),
}

const MAX_KEY_SIZE: usize = 32768;
const MAX_VALUE_SIZE: usize = (1 << 31) - 2;

/// Serialise `buckets` as a complete bolt file with the given page size (4096 for x86 hosts;
/// heketi on ppc64le uses 65536).
pub fn write_file(buckets: &[BucketData], page_size: usize) -> Result<Vec<u8>, WriteError> {
    if !page_size.is_power_of_two() || !(1024..=65536).contains(&page_size) {
        return Err(WriteError::BadPageSize(page_size));
    }
    let mut w = Writer { page_size, pages: vec![0u8; 3 * page_size], next_page: 3 };

    let mut root_elements = Vec::with_capacity(buckets.len());
    let mut names: Vec<&[u8]> = Vec::new();
    for b in buckets {
        let label = String::from_utf8_lossy(&b.name).into_owned();
        if b.name.is_empty() {
            return Err(WriteError::EmptyKey { bucket: label });
        }
        if names.contains(&&b.name[..]) {
            return Err(WriteError::DuplicateBucket(label));
        }
        names.push(&b.name);
        let mut entries: Vec<Element> = Vec::with_capacity(b.entries.len());
        for (k, v) in &b.entries {
            if k.is_empty() {
                return Err(WriteError::EmptyKey { bucket: label });
            }
            if k.len() > MAX_KEY_SIZE {
                return Err(WriteError::KeyTooLarge { bucket: label, len: k.len() });
            }
            if v.len() > MAX_VALUE_SIZE {
                return Err(WriteError::ValueTooLarge { bucket: label, len: v.len() });
            }
            entries.push(Element { flags: 0, key: k.clone(), value: v.clone() });
        }
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        if let Some(pair) = entries.windows(2).find(|p| p[0].key == p[1].key) {
            let key = String::from_utf8_lossy(&pair[0].key).into_owned();
            return Err(WriteError::DuplicateKey { bucket: label, key });
        }
        let value = w.bucket_value(entries);
        root_elements.push(Element { flags: BUCKET_LEAF_FLAG, key: b.name.clone(), value });
    }
    root_elements.sort_by(|a, b| a.key.cmp(&b.key));
    let root = w.write_tree(root_elements);

    // Freelist: page 2, empty.
    w.put_header(2, 2, FREELIST_PAGE, 0, 0);
    let pgid = w.next_page;
    w.put_meta(0, root, pgid, TXID);
    w.put_meta(1, root, pgid, TXID - 1);
    Ok(w.pages)
}

#[derive(Debug, Clone)]
struct Element {
    flags: u32,
    key: Vec<u8>,
    value: Vec<u8>,
}

impl Element {
    fn leaf_size(&self) -> usize {
        ELEMENT_SIZE + self.key.len() + self.value.len()
    }
}

struct Writer {
    page_size: usize,
    pages: Vec<u8>,
    next_page: u64,
}

impl Writer {
    /// The value stored for a bucket in its parent: the bucket header, followed by the whole
    /// leaf page when bolt would inline it.
    fn bucket_value(&mut self, entries: Vec<Element>) -> Vec<u8> {
        let size = PAGE_HEADER_SIZE + entries.iter().map(Element::leaf_size).sum::<usize>();
        // bolt's `inlineable` + `maxInlineBucketSize`: one leaf, no sub-buckets, ≤ pageSize/4.
        if size <= self.page_size / 4 && entries.iter().all(|e| e.flags == 0) {
            let mut value = vec![0u8; BUCKET_HEADER_SIZE];
            value.extend(leaf_node_bytes_with_header(&entries));
            return value;
        }
        let root = self.write_tree(entries);
        let mut value = Vec::with_capacity(BUCKET_HEADER_SIZE);
        value.extend_from_slice(&root.to_le_bytes());
        value.extend_from_slice(&0u64.to_le_bytes());
        value
    }

    /// Write a B+tree of leaf elements (sorted) and return its root page id.
    fn write_tree(&mut self, elements: Vec<Element>) -> u64 {
        // Leaves first, then branch levels until one node remains — the shape bolt's spill
        // produces when it splits nodes on commit.
        let mut level: Vec<(Vec<u8>, u64)> = Vec::new();
        for piece in split(&elements, self.page_size, Element::leaf_size) {
            let first = piece.first().map(|e| e.key.clone()).unwrap_or_default();
            let id = self.write_node(LEAF_PAGE, piece.len(), leaf_node_bytes(piece));
            level.push((first, id));
        }
        while level.len() > 1 {
            let mut next = Vec::new();
            let branch_size = |e: &(Vec<u8>, u64)| ELEMENT_SIZE + e.0.len();
            for piece in split(&level, self.page_size, branch_size) {
                let first = piece.first().map(|e| e.0.clone()).unwrap_or_default();
                let id = self.write_node(BRANCH_PAGE, piece.len(), branch_node_bytes(piece));
                next.push((first, id));
            }
            level = next;
        }
        level.first().map_or_else(|| self.write_node(LEAF_PAGE, 0, Vec::new()), |(_, id)| *id)
    }

    /// Allocate `size / pageSize + 1` pages (bolt's rule) for a node and write it.
    fn write_node(&mut self, flags: u16, count: usize, body: Vec<u8>) -> u64 {
        let size = PAGE_HEADER_SIZE + body.len();
        let span = size / self.page_size + 1;
        let id = self.next_page;
        self.next_page += span as u64;
        let start = self.pages.len();
        self.pages.resize(start + span * self.page_size, 0);
        self.put_header(id, id, flags, count as u16, (span - 1) as u32);
        self.pages[start + PAGE_HEADER_SIZE..start + size].copy_from_slice(&body);
        id
    }

    fn put_header(&mut self, page: u64, id: u64, flags: u16, count: u16, overflow: u32) {
        let o = page as usize * self.page_size;
        self.pages[o..o + 8].copy_from_slice(&id.to_le_bytes());
        self.pages[o + 8..o + 10].copy_from_slice(&flags.to_le_bytes());
        self.pages[o + 10..o + 12].copy_from_slice(&count.to_le_bytes());
        self.pages[o + 12..o + 16].copy_from_slice(&overflow.to_le_bytes());
    }

    fn put_meta(&mut self, page: u64, root: u64, pgid: u64, txid: u64) {
        self.put_header(page, page, META_PAGE, 0, 0);
        let mut m = Vec::with_capacity(64);
        m.extend_from_slice(&MAGIC.to_le_bytes());
        m.extend_from_slice(&VERSION.to_le_bytes());
        m.extend_from_slice(&(self.page_size as u32).to_le_bytes());
        m.extend_from_slice(&0u32.to_le_bytes()); // flags
        m.extend_from_slice(&root.to_le_bytes());
        m.extend_from_slice(&0u64.to_le_bytes()); // root bucket sequence
        m.extend_from_slice(&2u64.to_le_bytes()); // freelist page
        m.extend_from_slice(&pgid.to_le_bytes());
        m.extend_from_slice(&txid.to_le_bytes());
        let sum = fnv1a64(&m);
        m.extend_from_slice(&sum.to_le_bytes());
        let o = page as usize * self.page_size + PAGE_HEADER_SIZE;
        self.pages[o..o + m.len()].copy_from_slice(&m);
    }
}

/// FNV-1a 64, bolt's meta checksum.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// bolt's `node.split`: cut a node into pieces when it is larger than a page and has more than
/// `2 * minKeysPerPage` elements; each piece is filled while it stays within
/// `pageSize * FillPercent`, keeps at least `minKeysPerPage` elements, and leaves at least that
/// many for the rest.
fn split<T>(items: &[T], page_size: usize, elem_size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let threshold = (page_size as f64 * FILL_PERCENT) as usize;
    let mut pieces = Vec::new();
    let mut rest = items;
    loop {
        let size = PAGE_HEADER_SIZE + rest.iter().map(&elem_size).sum::<usize>();
        if rest.len() <= MIN_KEYS_PER_PAGE * 2 || size < page_size {
            pieces.push(rest);
            return pieces;
        }
        // splitIndex: stop before the element that would take the piece past the threshold.
        let mut sz = PAGE_HEADER_SIZE;
        let mut index = 0;
        for (i, item) in rest.iter().enumerate().take(rest.len() - MIN_KEYS_PER_PAGE) {
            index = i;
            let e = elem_size(item);
            if i >= MIN_KEYS_PER_PAGE && sz + e > threshold {
                break;
            }
            sz += e;
        }
        let (head, tail) = rest.split_at(index.max(1));
        pieces.push(head);
        rest = tail;
    }
}

/// Leaf node body (everything after the page header): elements, then key/value bytes, with
/// `pos` relative to each element as bolt writes it.
fn leaf_node_bytes(elements: &[Element]) -> Vec<u8> {
    let n = elements.len();
    let data_len: usize = elements.iter().map(|e| e.key.len() + e.value.len()).sum();
    let mut out = Vec::with_capacity(n * ELEMENT_SIZE + data_len);
    let mut data_offset = n * ELEMENT_SIZE;
    for (i, e) in elements.iter().enumerate() {
        let pos = data_offset - i * ELEMENT_SIZE;
        out.extend_from_slice(&e.flags.to_le_bytes());
        out.extend_from_slice(&(pos as u32).to_le_bytes());
        out.extend_from_slice(&(e.key.len() as u32).to_le_bytes());
        out.extend_from_slice(&(e.value.len() as u32).to_le_bytes());
        data_offset += e.key.len() + e.value.len();
    }
    for e in elements {
        out.extend_from_slice(&e.key);
        out.extend_from_slice(&e.value);
    }
    out
}

/// The embedded page of an inline bucket (page header with id 0, then the leaf node); the caller
/// prepends the bucket header.
fn leaf_node_bytes_with_header(elements: &[Element]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PAGE_HEADER_SIZE);
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&LEAF_PAGE.to_le_bytes());
    out.extend_from_slice(&(elements.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend(leaf_node_bytes(elements));
    out
}

fn branch_node_bytes(children: &[(Vec<u8>, u64)]) -> Vec<u8> {
    let n = children.len();
    let mut out = Vec::with_capacity(n * ELEMENT_SIZE);
    let mut data_offset = n * ELEMENT_SIZE;
    for (i, (key, child)) in children.iter().enumerate() {
        let pos = data_offset - i * ELEMENT_SIZE;
        out.extend_from_slice(&(pos as u32).to_le_bytes());
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(&child.to_le_bytes());
        data_offset += key.len();
    }
    for (key, _) in children {
        out.extend_from_slice(key);
    }
    out
}
