//! References between entries (spec §6) and the dangling-reference check.
//!
//! [`EntryRef::references`] lists every id an entry names, with the bucket it must be found in;
//! [`dangling_references`] reports those that are not in the database. Salvage uses it to tell
//! the operator which entries a rebuild must fill from the live cluster, and to confirm or rank
//! copies of damaged entries; a later consistency check grows from the same lists.

// Salvage runs over damaged input: it must not be able to panic (as in `bolt`).
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use serde::Serialize;

use super::entry::{BucketKind, Entry};
use super::model::*;

/// A borrowed entry of any bucket.
#[derive(Debug, Clone, Copy)]
pub enum EntryRef<'a> {
    Cluster(&'a Cluster),
    Node(&'a Node),
    Volume(&'a Volume),
    Device(&'a Device),
    Brick(&'a Brick),
    BlockVolume(&'a BlockVolume),
    DbAttribute(&'a DbAttribute),
    PendingOp(&'a PendingOp),
}

/// One id named by an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference<'a> {
    /// The field naming it, as in the export JSON (`Bricks`, `Info.device`, `Actions[].Id`…).
    pub field: &'static str,
    /// Where the id must exist.
    pub to: BucketKind,
    /// A second bucket accepted for pending-operation changes whose numbering changed between
    /// heketi releases (spec §2.6).
    pub alt: Option<BucketKind>,
    /// The id.
    pub id: &'a str,
    /// A pending operation's `AddVolumeClone` change: the clone's VOLUME entry is only written
    /// when the operation finishes, so its absence is expected.
    pub pending_clone: bool,
}

impl<'a> EntryRef<'a> {
    pub fn kind(&self) -> BucketKind {
        match self {
            EntryRef::Cluster(_) => BucketKind::Cluster,
            EntryRef::Node(_) => BucketKind::Node,
            EntryRef::Volume(_) => BucketKind::Volume,
            EntryRef::Device(_) => BucketKind::Device,
            EntryRef::Brick(_) => BucketKind::Brick,
            EntryRef::BlockVolume(_) => BucketKind::BlockVolume,
            EntryRef::DbAttribute(_) => BucketKind::DbAttribute,
            EntryRef::PendingOp(_) => BucketKind::PendingOperations,
        }
    }

    pub fn id(&self) -> &'a str {
        match self {
            EntryRef::Cluster(e) => &e.info.id,
            EntryRef::Node(e) => &e.info.id,
            EntryRef::Volume(e) => &e.info.id,
            EntryRef::Device(e) => &e.info.id,
            EntryRef::Brick(e) => &e.info.id,
            EntryRef::BlockVolume(e) => &e.info.id,
            EntryRef::DbAttribute(e) => &e.key,
            EntryRef::PendingOp(e) => &e.id,
        }
    }

    /// `BUCKET id`, for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind().bucket_name(), self.id())
    }

    /// Every non-empty id this entry names.
    pub fn references(&self) -> Vec<Reference<'a>> {
        let mut out = Vec::new();
        let mut one = |field, to, id: &'a str| {
            if !id.is_empty() {
                out.push(Reference { field, to, alt: None, id, pending_clone: false });
            }
        };
        use BucketKind as K;
        match *self {
            EntryRef::Cluster(c) => {
                c.info.nodes.iter().for_each(|id| one("Info.nodes", K::Node, id));
                c.info.volumes.iter().for_each(|id| one("Info.volumes", K::Volume, id));
                c.info.block_volumes.iter().for_each(|id| one("Info.blockvolumes", K::BlockVolume, id));
            }
            EntryRef::Node(n) => {
                one("Info.cluster", K::Cluster, &n.info.cluster_id);
                n.devices.iter().for_each(|id| one("Devices", K::Device, id));
            }
            EntryRef::Device(d) => {
                one("NodeId", K::Node, &d.node_id);
                d.bricks.iter().for_each(|id| one("Bricks", K::Brick, id));
            }
            EntryRef::Brick(b) => {
                one("Info.device", K::Device, &b.info.device_id);
                one("Info.node", K::Node, &b.info.node_id);
                one("Info.volume", K::Volume, &b.info.volume_id);
                one("Pending.Id", K::PendingOperations, &b.pending.id);
            }
            EntryRef::Volume(v) => {
                one("Info.cluster", K::Cluster, &v.info.cluster);
                v.bricks.iter().for_each(|id| one("Bricks", K::Brick, id));
                v.info
                    .block_info
                    .block_volumes
                    .iter()
                    .for_each(|id| one("Info.blockinfo.blockvolume", K::BlockVolume, id));
                one("Pending.Id", K::PendingOperations, &v.pending.id);
            }
            EntryRef::BlockVolume(bv) => {
                one("Info.cluster", K::Cluster, &bv.info.cluster);
                one("Info.blockhostingvolume", K::Volume, &bv.info.block_hosting_volume);
                one("Pending.Id", K::PendingOperations, &bv.pending.id);
            }
            EntryRef::DbAttribute(_) => {}
            EntryRef::PendingOp(op) => {
                for a in &op.actions {
                    if a.id.is_empty() {
                        continue;
                    }
                    let (to, alt) = change_targets(a.change);
                    if let Some(to) = to {
                        out.push(Reference {
                            field: "Actions[].Id",
                            to,
                            alt,
                            id: &a.id,
                            pending_clone: a.change == 11,
                        });
                    }
                }
            }
        }
        out
    }
}

/// Bucket named by a pending change's id: under the v6–v9/v10.2+ numbering, and under the
/// v10.0/v10.1 one where it differs (spec §2.6).
fn change_targets(change: i64) -> (Option<BucketKind>, Option<BucketKind>) {
    use BucketKind as K;
    let modern = match change {
        1 | 3 => Some(K::Brick),
        2 | 4 | 5 | 9 | 10 | 11 => Some(K::Volume),
        6 | 7 | 14 => Some(K::BlockVolume),
        8 => Some(K::Device),
        12 | 13 => Some(K::PendingOperations),
        _ => None,
    };
    let v10_0 = match change {
        8 => Some(K::BlockVolume),
        9 => Some(K::Device),
        10..=12 => Some(K::Volume),
        13 | 14 => Some(K::PendingOperations),
        _ => None,
    };
    (modern, v10_0.filter(|k| Some(*k) != modern))
}

impl Entry {
    /// The entry borrowed.
    pub fn as_ref(&self) -> EntryRef<'_> {
        match self {
            Entry::Cluster(e) => EntryRef::Cluster(e),
            Entry::Node(e) => EntryRef::Node(e),
            Entry::Volume(e) => EntryRef::Volume(e),
            Entry::Device(e) => EntryRef::Device(e),
            Entry::Brick(e) => EntryRef::Brick(e),
            Entry::BlockVolume(e) => EntryRef::BlockVolume(e),
            Entry::DbAttribute(e) => EntryRef::DbAttribute(e),
            Entry::PendingOp(e) => EntryRef::PendingOp(e),
        }
    }
}

impl Db {
    /// The entry with `id` in bucket `kind`.
    pub fn entry(&self, kind: BucketKind, id: &str) -> Option<EntryRef<'_>> {
        match kind {
            BucketKind::Cluster => self.clusters.get(id).map(EntryRef::Cluster),
            BucketKind::Node => self.nodes.get(id).map(EntryRef::Node),
            BucketKind::Volume => self.volumes.get(id).map(EntryRef::Volume),
            BucketKind::Device => self.devices.get(id).map(EntryRef::Device),
            BucketKind::Brick => self.bricks.get(id).map(EntryRef::Brick),
            BucketKind::BlockVolume => self.block_volumes.get(id).map(EntryRef::BlockVolume),
            BucketKind::DbAttribute => self.attributes.get(id).map(EntryRef::DbAttribute),
            BucketKind::PendingOperations => self.pending_ops.get(id).map(EntryRef::PendingOp),
        }
    }

    /// Whether an entry with `id` exists in `kind`.
    pub fn contains(&self, kind: BucketKind, id: &str) -> bool {
        self.entry(kind, id).is_some()
    }

    /// Every entry, bucket by bucket in [`BucketKind::ALL`] order, ids ascending.
    pub fn entries(&self) -> impl Iterator<Item = EntryRef<'_>> {
        self.clusters
            .values()
            .map(EntryRef::Cluster)
            .chain(self.nodes.values().map(EntryRef::Node))
            .chain(self.volumes.values().map(EntryRef::Volume))
            .chain(self.devices.values().map(EntryRef::Device))
            .chain(self.bricks.values().map(EntryRef::Brick))
            .chain(self.block_volumes.values().map(EntryRef::BlockVolume))
            .chain(self.attributes.values().map(EntryRef::DbAttribute))
            .chain(self.pending_ops.values().map(EntryRef::PendingOp))
    }

    /// Entries per bucket.
    pub fn count(&self, kind: BucketKind) -> usize {
        match kind {
            BucketKind::Cluster => self.clusters.len(),
            BucketKind::Node => self.nodes.len(),
            BucketKind::Volume => self.volumes.len(),
            BucketKind::Device => self.devices.len(),
            BucketKind::Brick => self.bricks.len(),
            BucketKind::BlockVolume => self.block_volumes.len(),
            BucketKind::DbAttribute => self.attributes.len(),
            BucketKind::PendingOperations => self.pending_ops.len(),
        }
    }

    /// Total entries.
    pub fn len(&self) -> usize {
        BucketKind::ALL.iter().map(|&k| self.count(k)).sum()
    }

    /// No entries at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An id named by an entry but absent from the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dangling {
    /// Bucket of the entry naming it.
    pub from_bucket: BucketKind,
    /// Id of the entry naming it.
    pub from_id: String,
    /// Field naming it.
    pub field: &'static str,
    /// Bucket it must be in.
    pub bucket: BucketKind,
    /// The missing id.
    pub id: String,
    /// Why its absence is expected, if it is (a clone in progress).
    pub expected: Option<String>,
}

/// Every reference of every entry in `db` whose target does not exist, in bucket/id order.
///
/// A volume id named by a pending `AddVolumeClone` change is expected to be missing (heketi
/// writes the clone's VOLUME entry only when the clone finishes, spec §2.6); those are returned
/// with `expected` set.
pub fn dangling_references(db: &Db) -> Vec<Dangling> {
    let mut pending_clones = std::collections::BTreeMap::new();
    for op in db.pending_ops.values() {
        for r in EntryRef::PendingOp(op).references() {
            if r.pending_clone {
                pending_clones.insert(r.id, op.id.as_str());
            }
        }
    }
    let mut out = Vec::new();
    for e in db.entries() {
        for r in e.references() {
            if db.contains(r.to, r.id) || r.alt.is_some_and(|k| db.contains(k, r.id)) {
                continue;
            }
            let expected = (r.to == BucketKind::Volume)
                .then(|| pending_clones.get(r.id))
                .flatten()
                .map(|op| format!("clone in progress (pending operation {op}): heketi writes its entry when the clone finishes"));
            out.push(Dangling {
                from_bucket: e.kind(),
                from_id: e.id().to_owned(),
                field: r.field,
                bucket: r.to,
                id: r.id.to_owned(),
                expected,
            });
        }
    }
    out
}

/// How well `entry` fits the entries of `db` (spec §1.13 step 4): one point for every id it
/// names that exists, one more when that entry names it back. Used to choose between versions
/// of an entry found in equally ranked pages.
pub fn support(entry: EntryRef<'_>, db: &Db) -> i64 {
    let (kind, id) = (entry.kind(), entry.id());
    let mut score = 0;
    for r in entry.references() {
        let Some(target) = db.entry(r.to, r.id).or_else(|| r.alt.and_then(|k| db.entry(k, r.id))) else {
            continue;
        };
        score += 1;
        if target.references().iter().any(|b| b.id == id && (b.to == kind || b.alt == Some(kind))) {
            score += 1;
        }
    }
    score
}

/// Whether `id` has heketi's id form: 32 lowercase hex characters (spec §2.1).
pub fn is_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Ids of `entry` that do not have heketi's id form (its own id, and every id it names; empty
/// strings inside id lists included), as `field: value` descriptions. Heketi only ever writes
/// 32-hex ids, so these point at damage: a zeroed region decodes as empty strings, a flipped bit
/// often leaves a non-hex character.
pub fn malformed_ids(entry: EntryRef<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if entry.kind() != BucketKind::DbAttribute && !is_id(entry.id()) {
        out.push(format!("own id {:?}", entry.id()));
    }
    // `references` skips empty ids (unset scalar fields); inside a list an empty id is damage.
    let mut empty = |field: &str, ids: &[String]| {
        if ids.iter().any(String::is_empty) {
            out.push(format!("{field} holds an empty id"));
        }
    };
    match entry {
        EntryRef::Cluster(c) => {
            empty("Info.nodes", &c.info.nodes);
            empty("Info.volumes", &c.info.volumes);
            empty("Info.blockvolumes", &c.info.block_volumes);
        }
        EntryRef::Node(n) => empty("Devices", &n.devices),
        EntryRef::Device(d) => empty("Bricks", &d.bricks),
        EntryRef::Volume(v) => {
            empty("Bricks", &v.bricks);
            empty("Info.blockinfo.blockvolume", &v.info.block_info.block_volumes);
        }
        _ => {}
    }
    for r in entry.references() {
        if !is_id(r.id) {
            out.push(format!("{} {:?}", r.field, r.id));
        }
    }
    out
}

/// Why `entry` contradicts the entries of `db`, if it does: it names an entry that keeps a list
/// of its kind (a volume's bricks, a device's bricks, a node's devices, a cluster's nodes,
/// volumes and block volumes, a block-hosting volume's block volumes) and that list leaves it
/// out. A deleted entry found in a stale page typically does.
pub fn contradiction(entry: EntryRef<'_>, db: &Db) -> Option<String> {
    let (kind, id) = (entry.kind(), entry.id());
    for r in entry.references() {
        let Some(target) = db.entry(r.to, r.id) else { continue };
        let back: Vec<Reference<'_>> =
            target.references().into_iter().filter(|b| b.to == kind || b.alt == Some(kind)).collect();
        if kind == BucketKind::PendingOperations || back.is_empty() {
            continue;
        }
        if !back.iter().any(|b| b.id == id) {
            return Some(format!("{} does not list it", target.label()));
        }
    }
    None
}

impl Serialize for BucketKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.bucket_name())
    }
}
