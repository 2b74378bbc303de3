//! Turning the bytes of a `--db` input into a [`Db`]: a bolt file, an export JSON (`heketi db
//! export`, `heketi-cli db dump`), or either gzipped (heketi's backup secret holds
//! `heketi.db.gz`). The format is detected from the content, never from the file name.

use std::borrow::Cow;
use std::io::Read;

use crate::bolt::{BoltError, BoltFile, KeyValue};

use super::entry::{decode_entry_cached, BucketKind, Entry, EntryError};
use super::model::Db;
use crate::gob::TypeCache;

/// Decompressed inputs larger than this are refused: a heketi DB of 2000 volumes is 25 MiB, so
/// this leaves room for clusters twenty times that, while a corrupted or hostile gzip stream
/// (fuzzing found 380 KB that expand to 130 MB before the checksum fails) cannot exhaust memory.
pub const MAX_DECOMPRESSED: u64 = 512 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Bolt,
    ExportJson,
}

impl std::fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SourceFormat::Bolt => "BoltDB file",
            SourceFormat::ExportJson => "export JSON",
        })
    }
}

/// Everything that can stop a database from loading. Messages are one line for the operator;
/// the caller prefixes the file name.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the file is empty")]
    Empty,
    #[error("not a heketi database: neither a BoltDB file, an export JSON nor gzip (starts with {0})")]
    UnknownFormat(String),
    #[error("gzip data is damaged: {0}")]
    Gzip(std::io::Error),
    #[error("gzip data expands beyond {} MiB; refusing", MAX_DECOMPRESSED >> 20)]
    TooLarge,
    #[error("{0}")]
    Bolt(#[from] BoltError),
    #[error("bucket {bucket}, key {key}: {source}")]
    Entry { bucket: BucketKind, key: String, source: EntryError },
    #[error("not a heketi export JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl LoadError {
    /// Whether `--salvage` could recover more than this error allows (the bolt structure, an
    /// entry or the gzip stream is damaged, as opposed to the input not being a database at all).
    pub fn is_damage(&self) -> bool {
        matches!(self, LoadError::Bolt(_) | LoadError::Entry { .. } | LoadError::Gzip(_))
    }
}

/// A loaded database and what was learnt on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub db: Db,
    pub format: SourceFormat,
    pub gzipped: bool,
    /// Non-gob registry keys skipped in NODE/DEVICE (bolt only).
    pub registry_keys: usize,
    /// Top-level buckets present (bolt only; JSON always has all eight).
    pub buckets: Vec<BucketKind>,
}

/// gzip's magic bytes.
fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The content itself when it is not gzip; the decompressed content when it is.
pub fn decompress_if_gzip(bytes: &[u8]) -> Result<(Cow<'_, [u8]>, bool), LoadError> {
    decompress_with_limit(bytes, MAX_DECOMPRESSED)
}

fn decompress_with_limit(bytes: &[u8], limit: u64) -> Result<(Cow<'_, [u8]>, bool), LoadError> {
    if !is_gzip(bytes) {
        return Ok((Cow::Borrowed(bytes), false));
    }
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(bytes).take(limit + 1);
    dec.read_to_end(&mut out).map_err(LoadError::Gzip)?;
    if out.len() as u64 > limit {
        return Err(LoadError::TooLarge);
    }
    Ok((Cow::Owned(out), true))
}

/// Recognise a bolt file (its meta magic) or JSON (a leading `{`).
pub fn detect_format(bytes: &[u8]) -> Option<SourceFormat> {
    const MAGIC_LE: [u8; 4] = [0xed, 0xda, 0x0c, 0xed];
    const MAGIC_BE: [u8; 4] = [0xed, 0x0c, 0xda, 0xed];
    if let Some(m) = bytes.get(16..20) {
        if m == MAGIC_LE || m == MAGIC_BE {
            return Some(SourceFormat::Bolt);
        }
    }
    // Meta 0 may be damaged while meta 1 (at the page size, which we do not know yet) is intact.
    for page_size in [4096usize, 8192, 16384, 32768, 65536] {
        if let Some(m) = bytes.get(page_size + 16..page_size + 20) {
            if m == MAGIC_LE || m == MAGIC_BE {
                return Some(SourceFormat::Bolt);
            }
        }
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    (*first == b'{').then_some(SourceFormat::ExportJson)
}

/// Load any supported input.
pub fn load(bytes: &[u8]) -> Result<Loaded, LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::Empty);
    }
    let (content, gzipped) = decompress_if_gzip(bytes)?;
    if content.is_empty() {
        return Err(LoadError::Empty);
    }
    match detect_format(&content) {
        Some(SourceFormat::Bolt) => {
            let file = BoltFile::parse(&content)?;
            let mut loaded = from_bolt(&file)?;
            loaded.gzipped = gzipped;
            Ok(loaded)
        }
        Some(SourceFormat::ExportJson) => Ok(Loaded {
            db: serde_json::from_slice(&content)?,
            format: SourceFormat::ExportJson,
            gzipped,
            registry_keys: 0,
            buckets: BucketKind::ALL.to_vec(),
        }),
        None => Err(LoadError::UnknownFormat(describe_start(&content))),
    }
}

fn describe_start(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("{:?}", String::from_utf8_lossy(head))
    } else {
        head.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
    }
}

impl Db {
    /// Insert a decoded entry under its own id (heketi's export keys entries by id, not by
    /// bolt key). A later entry with the same id replaces an earlier one, as in Go.
    pub fn insert(&mut self, entry: Entry) {
        match entry {
            Entry::Cluster(e) => drop(self.clusters.insert(e.info.id.clone(), e)),
            Entry::Node(e) => drop(self.nodes.insert(e.info.id.clone(), e)),
            Entry::Volume(e) => drop(self.volumes.insert(e.info.id.clone(), e)),
            Entry::Device(e) => drop(self.devices.insert(e.info.id.clone(), e)),
            Entry::Brick(e) => drop(self.bricks.insert(e.info.id.clone(), e)),
            Entry::BlockVolume(e) => drop(self.block_volumes.insert(e.info.id.clone(), e)),
            Entry::DbAttribute(e) => drop(self.attributes.insert(e.key.clone(), e)),
            Entry::PendingOp(e) => drop(self.pending_ops.insert(e.id.clone(), e)),
        }
    }
}

/// Read every heketi bucket of a healthy bolt file. The first damaged page or entry is an error;
/// salvage (which never fails) is the answer to damage.
pub fn from_bolt(file: &BoltFile<'_>) -> Result<Loaded, LoadError> {
    let mut db = Db::default();
    let mut registry_keys = 0;
    let mut buckets = Vec::new();
    for kind in BucketKind::ALL {
        let Some(entries) = file.bucket(kind.bucket_name().as_bytes())? else { continue };
        buckets.push(kind);
        let (values, registry): (Vec<_>, Vec<_>) =
            entries.iter().partition(|kv| !kind.is_registry_key(kv.key));
        registry_keys += registry.len();
        // Decoding is the expensive part (tens of thousands of gob streams in a big cluster);
        // split large buckets over the available cores. Chunks keep bolt key order, so a
        // duplicate id resolves exactly as in a sequential read (the later key wins).
        for chunk in decode_parallel(kind, &values) {
            for entry in chunk? {
                db.insert(entry);
            }
        }
    }
    Ok(Loaded { db, format: SourceFormat::Bolt, gzipped: false, registry_keys, buckets })
}

/// Below this many values a bucket is decoded on the calling thread.
const PARALLEL_THRESHOLD: usize = 512;

fn decode_parallel(kind: BucketKind, values: &[&KeyValue<'_>]) -> Vec<Result<Vec<Entry>, LoadError>> {
    let decode_chunk = |chunk: &[&KeyValue<'_>]| -> Result<Vec<Entry>, LoadError> {
        let mut cache = TypeCache::default();
        chunk
            .iter()
            .map(|kv| {
                decode_entry_cached(kv.value, Some(kind), &mut cache).map_err(|source| LoadError::Entry {
                    bucket: kind,
                    key: String::from_utf8_lossy(kv.key).into_owned(),
                    source,
                })
            })
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if values.len() < PARALLEL_THRESHOLD || threads < 2 {
        return vec![decode_chunk(values)];
    }
    let chunk_len = values.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            values.chunks(chunk_len).map(|chunk| scope.spawn(move || decode_chunk(chunk))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_expansion_is_bounded() {
        // Regression for the fuzzer's gzip bomb: expansion stops at the limit with a clear error.
        let bomb = gz(&vec![0u8; 8 << 20]);
        assert!(bomb.len() < 64 << 10);
        assert!(matches!(decompress_with_limit(&bomb, 1 << 20), Err(LoadError::TooLarge)));
        let (out, gzipped) = decompress_with_limit(&bomb, 16 << 20).unwrap();
        assert!(gzipped && out.len() == 8 << 20);
    }

    #[test]
    fn detection_by_content() {
        assert_eq!(detect_format(b"  {\"clusterentries\": {}}"), Some(SourceFormat::ExportJson));
        assert_eq!(detect_format(b"[1, 2]"), None);
        let mut bolt = vec![0u8; 8192];
        bolt[4096 + 16..4096 + 20].copy_from_slice(&[0xed, 0xda, 0x0c, 0xed]);
        assert_eq!(detect_format(&bolt), Some(SourceFormat::Bolt), "meta 1 alone identifies bolt");
        assert!(matches!(load(b""), Err(LoadError::Empty)));
        assert!(matches!(load(&gz(b"")), Err(LoadError::Empty)));
    }
}
