//! Heketi's database: typed entries for every bucket and schema since heketi v4, decoding from
//! bolt + gob with heketi's load-time defaults, the export JSON (read and write), and source
//! detection (bolt file, export JSON, either gzipped).
//!
//! Reference: heketi-db-spec.md §2 (buckets, gob entry types, defaults), §3 (export JSON).

mod entry;
pub mod export;
mod from_gob;
mod load;
pub mod model;
mod pendingop;
pub mod refs;
mod salvage;
mod salvage_report;
pub mod schema;
mod to_gob;

pub use entry::{decode_entry, decode_entry_cached, BucketKind, Entry, EntryError};
pub use export::{to_export_json, write_export_json};
pub use from_gob::ShapeError;
pub use load::from_bolt;
pub use load::{decompress_if_gzip, detect_format, load, LoadError, Loaded, SourceFormat};
pub use model::*;
pub use pendingop::{pending_change_name, pending_op_type_name};
pub use refs::{dangling_references, Dangling, EntryRef, Reference};
pub use salvage::{salvage, salvage_bolt, Salvaged};
pub use salvage_report::*;
pub use schema::SchemaGeneration;
pub use to_gob::{durability_of, to_bolt, BoltWriteError, BoltWriteOptions, ToGobError};
