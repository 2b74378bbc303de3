//! One bolt value → one typed heketi entry.

use crate::gob::{self, GobError, TypeCache};

use super::from_gob::{self, ShapeError};
use super::model::*;

/// Heketi's top-level buckets, in the order heketi creates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BucketKind {
    Cluster,
    Node,
    Volume,
    Device,
    Brick,
    BlockVolume,
    DbAttribute,
    PendingOperations,
}

impl BucketKind {
    pub const ALL: [BucketKind; 8] = [
        BucketKind::Cluster,
        BucketKind::Node,
        BucketKind::Volume,
        BucketKind::Device,
        BucketKind::Brick,
        BucketKind::BlockVolume,
        BucketKind::DbAttribute,
        BucketKind::PendingOperations,
    ];

    /// The bolt bucket name.
    pub fn bucket_name(self) -> &'static str {
        match self {
            BucketKind::Cluster => "CLUSTER",
            BucketKind::Node => "NODE",
            BucketKind::Volume => "VOLUME",
            BucketKind::Device => "DEVICE",
            BucketKind::Brick => "BRICK",
            BucketKind::BlockVolume => "BLOCKVOLUME",
            BucketKind::DbAttribute => "DBATTRIBUTE",
            BucketKind::PendingOperations => "PENDING_OPERATIONS",
        }
    }

    pub fn from_bucket_name(name: &[u8]) -> Option<Self> {
        BucketKind::ALL.into_iter().find(|k| k.bucket_name().as_bytes() == name)
    }

    /// The Go struct name a value of this bucket is encoded as.
    pub fn gob_type_name(self) -> &'static str {
        match self {
            BucketKind::Cluster => "ClusterEntry",
            BucketKind::Node => "NodeEntry",
            BucketKind::Volume => "VolumeEntry",
            BucketKind::Device => "DeviceEntry",
            BucketKind::Brick => "BrickEntry",
            BucketKind::BlockVolume => "BlockVolumeEntry",
            BucketKind::DbAttribute => "DbAttributeEntry",
            BucketKind::PendingOperations => "PendingOperationEntry",
        }
    }

    pub fn from_gob_type_name(name: &str) -> Option<Self> {
        BucketKind::ALL.into_iter().find(|k| k.gob_type_name() == name)
    }

    /// Whether `key` in this bucket is one of the non-gob registry entries heketi keeps in the
    /// NODE and DEVICE buckets (`MANAGE<host>`, `STORAGE<host>`, legacy `DEVICE<node><path>`);
    /// every heketi reader skips them.
    pub fn is_registry_key(self, key: &[u8]) -> bool {
        match self {
            BucketKind::Node => key.starts_with(b"MANAGE") || key.starts_with(b"STORAGE"),
            BucketKind::Device => key.starts_with(b"DEVICE"),
            _ => false,
        }
    }
}

impl std::fmt::Display for BucketKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.bucket_name())
    }
}

/// A decoded entry of any bucket.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Cluster(Cluster),
    Node(Node),
    Volume(Volume),
    Device(Device),
    Brick(Brick),
    BlockVolume(BlockVolume),
    DbAttribute(DbAttribute),
    PendingOp(PendingOp),
}

impl Entry {
    pub fn kind(&self) -> BucketKind {
        match self {
            Entry::Cluster(_) => BucketKind::Cluster,
            Entry::Node(_) => BucketKind::Node,
            Entry::Volume(_) => BucketKind::Volume,
            Entry::Device(_) => BucketKind::Device,
            Entry::Brick(_) => BucketKind::Brick,
            Entry::BlockVolume(_) => BucketKind::BlockVolume,
            Entry::DbAttribute(_) => BucketKind::DbAttribute,
            Entry::PendingOp(_) => BucketKind::PendingOperations,
        }
    }

    /// The entry's own id (`Info.Id`, `Key` for attributes, `Id` for operations).
    pub fn id(&self) -> &str {
        match self {
            Entry::Cluster(e) => &e.info.id,
            Entry::Node(e) => &e.info.id,
            Entry::Volume(e) => &e.info.id,
            Entry::Device(e) => &e.info.id,
            Entry::Brick(e) => &e.info.id,
            Entry::BlockVolume(e) => &e.info.id,
            Entry::DbAttribute(e) => &e.key,
            Entry::PendingOp(e) => &e.id,
        }
    }
}

/// Why one bolt value could not be turned into an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error(transparent)]
    Gob(#[from] GobError),
    #[error("value is a gob {found}, not a {expected}")]
    WrongType { expected: &'static str, found: String },
    #[error("value is not a gob struct")]
    NotAStruct,
    #[error(transparent)]
    Shape(#[from] ShapeError),
}

/// Decode one bolt value. With `expected = Some(kind)` the gob type must be that bucket's entry
/// type; with `None` the kind is taken from the gob type name (what salvage does with values
/// found outside any readable bucket).
pub fn decode_entry(value: &[u8], expected: Option<BucketKind>) -> Result<Entry, EntryError> {
    decode_entry_cached(value, expected, &mut TypeCache::default())
}

/// [`decode_entry`] reusing the type definitions of earlier values (see [`gob::decode_with`]):
/// use one cache per bucket when decoding many values.
pub fn decode_entry_cached(
    value: &[u8],
    expected: Option<BucketKind>,
    cache: &mut TypeCache,
) -> Result<Entry, EntryError> {
    let d = gob::decode_with(value, cache)?;
    let kind = match (expected, BucketKind::from_gob_type_name(&d.type_name)) {
        (Some(e), Some(k)) if e == k => k,
        (None, Some(k)) => k,
        (Some(e), _) => {
            return Err(EntryError::WrongType { expected: e.gob_type_name(), found: d.type_name.to_string() })
        }
        (None, None) => {
            return Err(EntryError::WrongType { expected: "heketi entry", found: d.type_name.to_string() })
        }
    };
    let s = d.value.as_struct().ok_or(EntryError::NotAStruct)?;
    Ok(match kind {
        BucketKind::Cluster => Entry::Cluster(from_gob::cluster(s)?),
        BucketKind::Node => Entry::Node(from_gob::node(s)?),
        BucketKind::Volume => Entry::Volume(from_gob::volume(s)?),
        BucketKind::Device => Entry::Device(from_gob::device(s)?),
        BucketKind::Brick => Entry::Brick(from_gob::brick(s)?),
        BucketKind::BlockVolume => Entry::BlockVolume(from_gob::block_volume(s)?),
        BucketKind::DbAttribute => Entry::DbAttribute(from_gob::db_attribute(s)?),
        BucketKind::PendingOperations => Entry::PendingOp(from_gob::pending_op(s)?),
    })
}
