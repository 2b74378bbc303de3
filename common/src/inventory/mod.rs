//! Node inventory: the [`NodeReport`] an agent fills on every GlusterFS/LVM node, and the
//! parsers that turn command output into it. The controller reuses the same parsers on
//! captured outputs.
//!
//! Pure code: no processes, no network, no clock (times are passed in). Every parser is
//! `fn(&str) -> Result<T, ParseError>`, names its format in the error, and never panics —
//! garbage, truncated or empty input is an error (exceptions, where empty is a valid state:
//! [`parse_fstab`] and [`parse_brick_dirs`] return an empty list).
//!
//! | module | parsers |
//! |---|---|
//! | [`lvm`] | [`parse_lvm_json`] (+ [`parse_vgs_json`], [`parse_pvs_json`], [`parse_lvs_json`]), [`parse_lvm_columns`], [`parse_lvm_nameprefixes`], [`parse_lvm_table`], [`parse_vgdisplay_colon`], [`parse_dmsetup_ls`] |
//! | [`lsblk`] | [`parse_lsblk_json`], [`parse_lsblk_pairs`], [`parse_lsblk_tree`] |
//! | [`gluster_xml`] | [`parse_volume_info_xml`], [`parse_volume_status_xml`], [`parse_volume_list_xml`], [`parse_peer_status_xml`], [`parse_pool_list_xml`] |
//! | [`gluster_text`] | [`parse_volume_info_text`], [`parse_peer_status_text`], [`parse_pool_list_text`] |
//! | [`glusterd_store`] | [`parse_glusterd_volinfo`], [`parse_glusterd_brickinfo`], [`parse_glusterd_peer`], [`parse_glusterd_info`] |
//! | [`mounts`] | [`parse_proc_mounts`], [`parse_mountinfo`], [`parse_fstab`] |
//! | [`bricks`] | [`parse_brick_dirs`], [`assemble_brick_facts`] |
//! | [`gluster_block`] | [`parse_gluster_block_info_json`], [`parse_gluster_block_list_json`], [`parse_gluster_block_info_text`] |
//! | [`naming`] | heketi names and paths (`vg_`, `tp_`, `brick_`, `vol_`, mount paths, dm names) |
//!
//! [`assemble::report_from_raw`] turns raw outputs (one [`RawSource`] per [`Source`]) into a
//! [`NodeReport`] with a status per source — the one code path shared by the agent's live
//! collection and [`capture`] directories read offline.

pub mod assemble;
pub mod bricks;
pub mod capture;
pub mod error;
pub mod gluster;
pub mod gluster_block;
pub mod gluster_text;
pub mod gluster_xml;
pub mod glusterd_store;
pub mod lsblk;
pub mod lvm;
pub mod mounts;
pub mod naming;
pub mod report;
mod text;
pub mod units;

#[cfg(test)]
mod tests;

pub use assemble::{report_from_raw, RawOutcome, RawPart, RawSource, RawSources, ReportMeta};
pub use bricks::{assemble_brick_facts, normalize_volume_id, parse_brick_dirs, BrickDirStat, BrickFacts};
pub use capture::{read_capture_dir, report_from_capture_dir, Capture, CaptureError, Manifest};
pub use error::{Format, ParseError};
pub use gluster::{
    BrickStatus, DaemonStatus, GlusterBrick, GlusterVolume, Peer, Transport, VolumeState, VolumeStatusReport,
    VolumeType,
};
pub use gluster_block::{
    parse_gluster_block_info_json, parse_gluster_block_info_text, parse_gluster_block_list_json,
    BlockVolumeInfo,
};
pub use gluster_text::{parse_peer_status_text, parse_pool_list_text, parse_volume_info_text};
pub use gluster_xml::{
    parse_peer_status_xml, parse_pool_list_xml, parse_volume_info_xml, parse_volume_list_xml,
    parse_volume_status_xml,
};
pub use glusterd_store::{
    parse_glusterd_brickinfo, parse_glusterd_info, parse_glusterd_peer, parse_glusterd_volinfo,
    GlusterdBrickInfo, GlusterdInfo, GlusterdVolInfo, StoreBrickRef,
};
pub use lsblk::{parse_lsblk_json, parse_lsblk_pairs, parse_lsblk_tree, BlockDevice};
pub use lvm::{
    parse_dmsetup_ls, parse_lvm_columns, parse_lvm_columns_with, parse_lvm_json, parse_lvm_json_with_unit,
    parse_lvm_nameprefixes, parse_lvm_table, parse_lvs_json, parse_pvs_json, parse_vgdisplay_colon,
    parse_vgs_json, DmDevice, LogicalVolume, LvRole, LvmKind, LvmReport, PhysicalVolume, VolumeGroup,
};
pub use mounts::{parse_fstab, parse_mountinfo, parse_proc_mounts, MountEntry};
pub use report::{
    BlockHostingVolume, GlusterInventory, NodeIdentity, NodeReport, RawOutput, ReportError, Source,
    SourceRecord, SourceStatus, NODE_REPORT_SCHEMA_VERSION,
};
pub use text::is_uuid;
pub use units::{parse_human_size, parse_lvm_size, ByteSize, LvmUnit};
