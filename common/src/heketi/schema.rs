//! Which heketi release wrote a database, inferred from its buckets and DBATTRIBUTE keys (the
//! only version markers heketi keeps, spec §3.5).

use super::model::Db;

pub const ATTR_CLUSTER_HAS_FILE_BLOCK_FLAG: &str = "DB_CLUSTER_HAS_FILE_BLOCK_FLAG";
pub const ATTR_GENERATION_ID: &str = "DB_GENERATION_ID";
pub const ATTR_HAS_PENDING_OPS_BUCKET: &str = "DB_HAS_PENDING_OPS_BUCKET";
pub const ATTR_BRICK_HAS_SUBTYPE_FIELD: &str = "DB_BRICK_HAS_SUBTYPE_FIELD";
pub const ATTR_DEVICE_HAS_ID_META: &str = "DB_DEVICE_HAS_ID_META";

/// The five attributes heketi v10 knows; v9+ refuses to open a DB holding any other key.
pub const KNOWN_ATTRIBUTES: [&str; 5] = [
    ATTR_CLUSTER_HAS_FILE_BLOCK_FLAG,
    ATTR_GENERATION_ID,
    ATTR_HAS_PENDING_OPS_BUCKET,
    ATTR_BRICK_HAS_SUBTYPE_FIELD,
    ATTR_DEVICE_HAS_ID_META,
];

/// The oldest heketi release whose schema matches what the database contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SchemaGeneration {
    /// No DBATTRIBUTE bucket or no attributes: heketi v4/v5.
    V4,
    /// Pending-ops bucket and cluster flags: heketi v6/v7.
    V6,
    /// Brick sub-types, thin pool names: heketi v8/v9.
    V8,
    /// Device paths / PV UUIDs: heketi v10.
    V10,
}

impl SchemaGeneration {
    pub fn of(db: &Db) -> Self {
        let has = |k: &str| db.attributes.get(k).is_some_and(|a| a.value == "yes");
        if has(ATTR_DEVICE_HAS_ID_META) {
            SchemaGeneration::V10
        } else if has(ATTR_BRICK_HAS_SUBTYPE_FIELD) {
            SchemaGeneration::V8
        } else if has(ATTR_HAS_PENDING_OPS_BUCKET) || has(ATTR_CLUSTER_HAS_FILE_BLOCK_FLAG) {
            SchemaGeneration::V6
        } else {
            SchemaGeneration::V4
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            SchemaGeneration::V4 => "heketi v4/v5 schema (no DB attributes)",
            SchemaGeneration::V6 => "heketi v6/v7 schema",
            SchemaGeneration::V8 => "heketi v8/v9 schema",
            SchemaGeneration::V10 => "heketi v10 schema",
        }
    }
}

impl Db {
    /// Whether heketi would export this DB's pending operations.
    pub fn exports_pending_ops(&self) -> bool {
        self.attributes.get(ATTR_HAS_PENDING_OPS_BUCKET).is_some_and(|a| a.value == "yes")
    }
}
