//! Meta pages (spec §1.3): decoding, bolt's validation, and the choice between the two.

use super::error::BoltError;
use super::page::{Endian, PageHeader, PAGE_HEADER_SIZE};

/// Bolt's magic number.
pub const MAGIC: u32 = 0xED0C_DAED;
/// The only file format version bolt 1.3.1 accepts.
pub const VERSION: u32 = 2;
/// Smallest page size this reader accepts.
pub const MIN_PAGE_SIZE: u32 = 512;
/// Largest page size this reader accepts.
pub const MAX_PAGE_SIZE: u32 = 1 << 20;
/// Page sizes probed for meta 1 when meta 0 is unusable (spec §1.3).
const PROBE_PAGE_SIZES: [u32; 5] = [4096, 8192, 16384, 32768, 65536];

/// Offset of the meta fields in the page; the checksum covers `META_OFFSET..CHECKSUM_OFFSET`.
const META_OFFSET: usize = PAGE_HEADER_SIZE;
const CHECKSUM_OFFSET: usize = META_OFFSET + 56;
/// Bytes of a meta page that must be present (header + meta struct).
const META_END: usize = CHECKSUM_OFFSET + 8;

/// A decoded meta page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Meta slot: 0 or 1 (the page id where bolt reads it).
    pub page_id: u64,
    /// Byte offset in the file where this meta was read.
    pub offset: usize,
    /// Id field of the page header (bolt does not check it; 0/1 when written by bolt).
    pub header_id: u64,
    /// Flags field of the page header (bolt does not check it; 0x04 when written by bolt).
    pub header_flags: u16,
    /// Format version (must be 2).
    pub version: u32,
    /// Page size of the file.
    pub page_size: u32,
    /// Meta flags (unused by bolt, 0).
    pub flags: u32,
    /// Root page of the root bucket.
    pub root: u64,
    /// Sequence of the root bucket (0 for heketi).
    pub root_sequence: u64,
    /// Page id of the freelist page.
    pub freelist: u64,
    /// High-water mark: first page id never allocated.
    pub pgid: u64,
    /// Transaction id of the commit that wrote this meta.
    pub txid: u64,
    /// Checksum as stored.
    pub checksum: u64,
    /// FNV-1a 64 over bytes 16..72 of the page, as computed by this reader.
    pub computed_checksum: u64,
    /// Whether bolt accepts the checksum: stored value 0 (never verified) or equal to the
    /// computed one.
    pub checksum_ok: bool,
    /// Whether the file is big-endian (detected from the magic's byte order).
    pub big_endian: bool,
}

/// FNV-1a 64 (bolt's `meta.sum64`).
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn page_size_plausible(ps: u32) -> bool {
    ps.is_power_of_two() && (MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&ps)
}

impl Meta {
    /// Decodes the meta page at byte `offset` of `data` as meta slot `index`, without validating
    /// version, checksum or page size (see [`Meta::validate`]). Fails only if the page is
    /// truncated or carries no bolt magic (in either byte order).
    pub fn decode(data: &[u8], index: usize, offset: usize) -> Result<Meta, BoltError> {
        let truncated = BoltError::MetaTruncated { index, offset, len: data.len() };
        let page =
            offset.checked_add(META_END).and_then(|end| data.get(offset..end)).ok_or(truncated.clone())?;
        let magic_bytes: [u8; 4] = page
            .get(META_OFFSET..META_OFFSET + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or(truncated.clone())?;
        let endian = if u32::from_le_bytes(magic_bytes) == MAGIC {
            Endian::Little
        } else if u32::from_be_bytes(magic_bytes) == MAGIC {
            Endian::Big
        } else {
            return Err(BoltError::InvalidMagic { index, offset: offset + META_OFFSET, found: magic_bytes });
        };
        let header = PageHeader::parse(page, endian).map_err(|_| truncated.clone())?;
        let u32_at = |o: usize| endian.read_u32(page, o).ok_or(truncated.clone());
        let u64_at = |o: usize| endian.read_u64(page, o).ok_or(truncated.clone());
        let checksum = u64_at(CHECKSUM_OFFSET)?;
        let computed_checksum = fnv1a64(page.get(META_OFFSET..CHECKSUM_OFFSET).unwrap_or(&[]));
        Ok(Meta {
            page_id: index as u64,
            offset,
            header_id: header.id,
            header_flags: header.flags,
            version: u32_at(META_OFFSET + 4)?,
            page_size: u32_at(META_OFFSET + 8)?,
            flags: u32_at(META_OFFSET + 12)?,
            root: u64_at(META_OFFSET + 16)?,
            root_sequence: u64_at(META_OFFSET + 24)?,
            freelist: u64_at(META_OFFSET + 32)?,
            pgid: u64_at(META_OFFSET + 40)?,
            txid: u64_at(META_OFFSET + 48)?,
            checksum,
            computed_checksum,
            checksum_ok: checksum == 0 || checksum == computed_checksum,
            big_endian: endian == Endian::Big,
        })
    }

    /// Bolt's `meta.validate` (version, then checksum; the magic was checked by
    /// [`Meta::decode`]), plus a page-size sanity check bolt does not make.
    pub fn validate(&self) -> Result<(), BoltError> {
        let index = self.page_id as usize;
        if self.version != VERSION {
            return Err(BoltError::VersionMismatch { index, version: self.version });
        }
        if !self.checksum_ok {
            return Err(BoltError::Checksum {
                index,
                stored: self.checksum,
                computed: self.computed_checksum,
            });
        }
        if !page_size_plausible(self.page_size) {
            return Err(BoltError::InvalidPageSize { index, page_size: self.page_size });
        }
        Ok(())
    }

    /// Byte order of the file as recorded by this meta.
    pub fn endian(&self) -> Endian {
        if self.big_endian {
            Endian::Big
        } else {
            Endian::Little
        }
    }
}

fn decode_valid(data: &[u8], index: usize, offset: usize) -> Result<Meta, BoltError> {
    let meta = Meta::decode(data, index, offset)?;
    meta.validate()?;
    if index == 1 && meta.page_size as usize != offset {
        return Err(BoltError::PageSizeMismatch { index, page_size: meta.page_size, offset });
    }
    Ok(meta)
}

/// Reads and validates both metas.
///
/// Meta 0 is at offset 0. If it is valid, meta 1 is read at its page size (as bolt does).
/// Otherwise meta 1 is probed at meta 0's recorded page size (if plausible) and then at
/// 4096…65536; the first valid meta 1 whose page size equals its offset wins. If none is found
/// the error reported for meta 1 is the one from the first probe.
pub(crate) fn read_metas(data: &[u8]) -> [Result<Meta, BoltError>; 2] {
    let raw0 = Meta::decode(data, 0, 0);
    let m0 = raw0.clone().and_then(|m| m.validate().map(|()| m));
    let m1 = match &m0 {
        Ok(m) => decode_valid(data, 1, m.page_size as usize),
        Err(_) => {
            let mut candidates: Vec<u32> = Vec::with_capacity(PROBE_PAGE_SIZES.len() + 1);
            if let Ok(m) = &raw0 {
                if page_size_plausible(m.page_size) {
                    candidates.push(m.page_size);
                }
            }
            for ps in PROBE_PAGE_SIZES {
                if !candidates.contains(&ps) {
                    candidates.push(ps);
                }
            }
            let mut first_err = None;
            let mut found = None;
            for ps in candidates {
                match decode_valid(data, 1, ps as usize) {
                    Ok(m) => {
                        found = Some(m);
                        break;
                    }
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            match (found, first_err) {
                (Some(m), _) => Ok(m),
                (None, Some(e)) => Err(e),
                (None, None) => Err(BoltError::MetaTruncated { index: 1, offset: 4096, len: data.len() }),
            }
        }
    };
    [m0, m1]
}

/// Bolt's choice (`DB.meta`): the valid meta with the larger txid; meta 0 on a tie.
pub(crate) fn choose(metas: &[Result<Meta, BoltError>; 2]) -> Result<usize, BoltError> {
    match metas {
        [Ok(a), Ok(b)] => Ok(if b.txid > a.txid { 1 } else { 0 }),
        [Ok(_), Err(_)] => Ok(0),
        [Err(_), Ok(_)] => Ok(1),
        [Err(e0), Err(e1)] => {
            Err(BoltError::NoValidMeta { meta0: Box::new(e0.clone()), meta1: Box::new(e1.clone()) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fnv1a64;

    #[test]
    fn fnv1a64_known_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
