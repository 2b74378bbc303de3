//! Pending-operation enumerations. Heketi v10.0/v10.1 renumbered them and v10.2 restored the
//! old numbering with the new values appended (spec §2.6); names here follow v6–v9 / v10.2+,
//! where values 1–5 (types) and 1–7 (changes) mean the same in every release.

/// Name of a `PendingOperationType` (v6–v9 and v10.2+ numbering).
pub fn pending_op_type_name(t: i64) -> &'static str {
    match t {
        0 => "Unknown",
        1 => "CreateVolume",
        2 => "DeleteVolume",
        3 => "ExpandVolume",
        4 => "CreateBlockVolume",
        5 => "DeleteBlockVolume",
        6 => "RemoveDevice",
        7 => "CloneVolume",
        8 => "BrickEvict",
        9 => "ExpandBlockVolume",
        _ => "Invalid",
    }
}

/// Name of a `PendingChangeType` (v6–v9 and v10.2+ numbering).
pub fn pending_change_name(c: i64) -> &'static str {
    match c {
        0 => "OpUnknown",
        1 => "OpAddBrick",
        2 => "OpAddVolume",
        3 => "OpDeleteBrick",
        4 => "OpDeleteVolume",
        5 => "OpExpandVolume",
        6 => "OpAddBlockVolume",
        7 => "OpDeleteBlockVolume",
        8 => "OpRemoveDevice",
        9 => "OpCloneVolume",
        10 => "OpSnapshotVolume",
        11 => "OpAddVolumeClone",
        12 => "OpChildOperation",
        13 => "OpParentOperation",
        14 => "OpExpandBlockVolume",
        _ => "Invalid",
    }
}
