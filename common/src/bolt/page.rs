//! Low-level, bounds-checked views of bolt pages (spec §1.2, §1.4–§1.6).
//!
//! Every function here takes a byte slice holding one page *span* (the page header plus its
//! overflow pages, or the embedded page of an inline bucket) and never reads outside it. They do
//! not know page ids or the file; faults are returned as cheap [`PageFault`]s that the caller wraps
//! with the page id. The functions are usable on any candidate page, which is what a salvage scan
//! needs: check the header ([`PageHeader::parse`]) and then [`leaf_elements`] validates a leaf.

use super::error::PageFault;

/// Size of the page header (`id u64, flags u16, count u16, overflow u32`).
pub const PAGE_HEADER_SIZE: usize = 16;
/// Size of one branch or leaf element.
pub const ELEMENT_SIZE: usize = 16;
/// Size of a bucket header (`root u64, sequence u64`) at the start of a bucket value.
pub const BUCKET_HEADER_SIZE: usize = 16;
/// Page flag: branch page.
pub const BRANCH_PAGE: u16 = 0x01;
/// Page flag: leaf page.
pub const LEAF_PAGE: u16 = 0x02;
/// Page flag: meta page.
pub const META_PAGE: u16 = 0x04;
/// Page flag: freelist page.
pub const FREELIST_PAGE: u16 = 0x10;
/// Leaf element flag: the value is a bucket.
pub const BUCKET_LEAF_FLAG: u32 = 0x01;
/// Freelist `count` value meaning "the real count is in the first u64".
pub const FREELIST_COUNT_OVERFLOW: u16 = 0xFFFF;

/// Byte order of a bolt file (bolt writes native order; detected from the meta magic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Little-endian (amd64, arm64, ppc64le).
    Little,
    /// Big-endian (s390x).
    Big,
}

fn array<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    bytes.get(offset..offset.checked_add(N)?)?.try_into().ok()
}

impl Endian {
    /// Reads a u16 at `offset`, `None` if it does not fit in `bytes`.
    pub fn read_u16(self, bytes: &[u8], offset: usize) -> Option<u16> {
        let b = array::<2>(bytes, offset)?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }

    /// Reads a u32 at `offset`, `None` if it does not fit in `bytes`.
    pub fn read_u32(self, bytes: &[u8], offset: usize) -> Option<u32> {
        let b = array::<4>(bytes, offset)?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }

    /// Reads a u64 at `offset`, `None` if it does not fit in `bytes`.
    pub fn read_u64(self, bytes: &[u8], offset: usize) -> Option<u64> {
        let b = array::<8>(bytes, offset)?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }
}

/// The 16-byte header at the start of every non-continuation page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageHeader {
    /// Page id as stored (equals the page's position for a correctly written page).
    pub id: u64,
    /// Page type flags ([`BRANCH_PAGE`], [`LEAF_PAGE`], [`META_PAGE`], [`FREELIST_PAGE`]).
    pub flags: u16,
    /// Number of elements (branch/leaf) or ids (freelist).
    pub count: u16,
    /// Number of additional contiguous pages this page spans.
    pub overflow: u32,
}

impl PageHeader {
    /// Parses the header at the start of `page`.
    pub fn parse(page: &[u8], endian: Endian) -> Result<Self, PageFault> {
        let fault = PageFault::HeaderTruncated { len: page.len() };
        Ok(PageHeader {
            id: endian.read_u64(page, 0).ok_or(fault)?,
            flags: endian.read_u16(page, 8).ok_or(fault)?,
            count: endian.read_u16(page, 10).ok_or(fault)?,
            overflow: endian.read_u32(page, 12).ok_or(fault)?,
        })
    }

    /// Human name of the page type: `branch`, `leaf`, `meta`, `freelist` or `unknown`.
    pub fn type_name(&self) -> &'static str {
        match self.flags {
            BRANCH_PAGE => "branch",
            LEAF_PAGE => "leaf",
            META_PAGE => "meta",
            FREELIST_PAGE => "freelist",
            _ => "unknown",
        }
    }
}

/// One element of a branch page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchElement<'a> {
    /// First key of the child subtree (as of when the child was written).
    pub key: &'a [u8],
    /// Page id of the child.
    pub child: u64,
}

/// One element of a leaf page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafElement<'a> {
    /// Element flags: 0 plain key/value, [`BUCKET_LEAF_FLAG`] nested bucket.
    pub flags: u32,
    /// The key.
    pub key: &'a [u8],
    /// The value (for a bucket: bucket header, then the inline page if its root is 0).
    pub value: &'a [u8],
}

impl LeafElement<'_> {
    /// Whether the value is a bucket.
    pub fn is_bucket(&self) -> bool {
        self.flags & BUCKET_LEAF_FLAG != 0
    }
}

/// Checks that `count` elements fit after the header; returns the end offset of the array.
fn element_array_end(page: &[u8], count: u16) -> Result<usize, PageFault> {
    let end = PAGE_HEADER_SIZE as u64 + ELEMENT_SIZE as u64 * u64::from(count);
    match usize::try_from(end) {
        Ok(e) if e <= page.len() => Ok(e),
        _ => Err(PageFault::ElementsOutOfBounds { count, end, limit: page.len() }),
    }
}

/// Resolves `pos`/`size` of element `index` to a key slice, checking it lies after the element
/// array and inside `page`. Returns the slice and its end offset.
fn element_key(
    page: &[u8],
    index: usize,
    elements_end: usize,
    pos: u32,
    ksize: u32,
) -> Result<(&[u8], usize), PageFault> {
    let elem = (PAGE_HEADER_SIZE + ELEMENT_SIZE * index) as u64;
    let start = elem + u64::from(pos);
    let end = start + u64::from(ksize);
    if start < elements_end as u64 {
        return Err(PageFault::KeyOverlapsElements { index, start, elements_end });
    }
    let oob = PageFault::KeyOutOfBounds { index, end, limit: page.len() };
    let (s, e) = match (usize::try_from(start), usize::try_from(end)) {
        (Ok(s), Ok(e)) => (s, e),
        _ => return Err(oob),
    };
    let key = page.get(s..e).ok_or(oob)?;
    if key.is_empty() {
        return Err(PageFault::EmptyKey { index });
    }
    Ok((key, e))
}

fn field_u32(page: &[u8], endian: Endian, off: usize, count: u16) -> Result<u32, PageFault> {
    // Unreachable after element_array_end succeeded, but never panic.
    endian.read_u32(page, off).ok_or(PageFault::ElementsOutOfBounds {
        count,
        end: off as u64 + 4,
        limit: page.len(),
    })
}

/// Validates a branch page span and returns its elements.
///
/// Checks: header present, element array fits, at least one element, every key non-empty, after
/// the element array and inside the span, keys strictly ascending. Does not check the header flags
/// or id (the caller knows what it expected).
pub fn branch_elements(page: &[u8], endian: Endian) -> Result<Vec<BranchElement<'_>>, PageFault> {
    let header = PageHeader::parse(page, endian)?;
    let elements_end = element_array_end(page, header.count)?;
    if header.count == 0 {
        return Err(PageFault::EmptyBranch);
    }
    let mut out = Vec::with_capacity(usize::from(header.count));
    let mut prev: Option<&[u8]> = None;
    for index in 0..usize::from(header.count) {
        let off = PAGE_HEADER_SIZE + ELEMENT_SIZE * index;
        let pos = field_u32(page, endian, off, header.count)?;
        let ksize = field_u32(page, endian, off + 4, header.count)?;
        let child = endian.read_u64(page, off + 8).ok_or(PageFault::ElementsOutOfBounds {
            count: header.count,
            end: off as u64 + 16,
            limit: page.len(),
        })?;
        let (key, _) = element_key(page, index, elements_end, pos, ksize)?;
        if prev.is_some_and(|p| key <= p) {
            return Err(PageFault::KeysNotAscending { index });
        }
        prev = Some(key);
        out.push(BranchElement { key, child });
    }
    Ok(out)
}

/// Validates a leaf page span (or the embedded page of an inline bucket) and returns its
/// elements.
///
/// Checks: header present, element array fits, element flags are 0 or [`BUCKET_LEAF_FLAG`],
/// every key non-empty, after the element array, key and value inside the span, keys strictly
/// ascending. Does not check the header flags or id (the caller knows what it expected).
pub fn leaf_elements(page: &[u8], endian: Endian) -> Result<Vec<LeafElement<'_>>, PageFault> {
    let header = PageHeader::parse(page, endian)?;
    let elements_end = element_array_end(page, header.count)?;
    let mut out = Vec::with_capacity(usize::from(header.count));
    let mut prev: Option<&[u8]> = None;
    for index in 0..usize::from(header.count) {
        let off = PAGE_HEADER_SIZE + ELEMENT_SIZE * index;
        let flags = field_u32(page, endian, off, header.count)?;
        let pos = field_u32(page, endian, off + 4, header.count)?;
        let ksize = field_u32(page, endian, off + 8, header.count)?;
        let vsize = field_u32(page, endian, off + 12, header.count)?;
        if flags & !BUCKET_LEAF_FLAG != 0 {
            return Err(PageFault::UnknownElementFlags { index, flags });
        }
        let (key, key_end) = element_key(page, index, elements_end, pos, ksize)?;
        let end = key_end as u64 + u64::from(vsize);
        let oob = PageFault::ValueOutOfBounds { index, end, limit: page.len() };
        let value_end = usize::try_from(end).map_err(|_| oob)?;
        let value = page.get(key_end..value_end).ok_or(oob)?;
        if prev.is_some_and(|p| key <= p) {
            return Err(PageFault::KeysNotAscending { index });
        }
        prev = Some(key);
        out.push(LeafElement { flags, key, value });
    }
    Ok(out)
}

/// The page ids listed in a freelist page span, validated to fit in the span.
#[derive(Debug, Clone, Copy)]
pub struct FreelistIds<'a> {
    ids: &'a [u8],
    endian: Endian,
}

impl<'a> FreelistIds<'a> {
    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ids.len() / 8
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The ids in stored order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + 'a {
        let endian = self.endian;
        self.ids.chunks_exact(8).filter_map(move |c| endian.read_u64(c, 0))
    }
}

/// Reads the id list of a freelist page span (spec §1.4), including the `count == 0xFFFF` form
/// where the first u64 holds the real count. Unlike bolt 1.3.1 it keeps all `count` ids (bolt
/// drops the last one in the overflow form). Does not check the header flags or id.
pub fn freelist_ids(page: &[u8], endian: Endian) -> Result<FreelistIds<'_>, PageFault> {
    let header = PageHeader::parse(page, endian)?;
    let (start, count) = if header.count == FREELIST_COUNT_OVERFLOW {
        let count = endian.read_u64(page, PAGE_HEADER_SIZE).ok_or(PageFault::FreelistOutOfBounds {
            count: u64::from(header.count),
            end: PAGE_HEADER_SIZE as u64 + 8,
            limit: page.len(),
        })?;
        (PAGE_HEADER_SIZE + 8, count)
    } else {
        (PAGE_HEADER_SIZE, u64::from(header.count))
    };
    let end = count.checked_mul(8).and_then(|n| n.checked_add(start as u64));
    let oob = PageFault::FreelistOutOfBounds { count, end: end.unwrap_or(u64::MAX), limit: page.len() };
    let end = end.and_then(|e| usize::try_from(e).ok()).ok_or(oob)?;
    let ids = page.get(start..end).ok_or(oob)?;
    Ok(FreelistIds { ids, endian })
}
