//! Heketi's on-disk naming rules (spec §4.1): `vg_<deviceid>`, `tp_<id>`, `brick_<brickid>`,
//! `vol_<volumeid>`, `blockvol_<id>`, mount points
//! `/var/lib/heketi/mounts/vg_<dev>/brick_<brick>` and brick dirs `<mount point>/brick`.
//! Ids are 32 lowercase hex digits; anything else is not a heketi name.

use serde::{Deserialize, Serialize};

/// Where heketi mounts bricks.
pub const HEKETI_MOUNTS_ROOT: &str = "/var/lib/heketi/mounts";
/// heketi's fstab in containerised deployments.
pub const HEKETI_FSTAB: &str = "/var/lib/heketi/fstab";
/// The gluster brick directory inside a brick mount.
pub const BRICK_SUBDIR: &str = "brick";

/// 32 lowercase hex digits.
pub fn is_heketi_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn id_after<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.strip_prefix(prefix).filter(|id| is_heketi_id(id))
}

/// `vg_<id>` → `<id>`.
pub fn parse_vg_name(s: &str) -> Option<&str> {
    id_after(s, "vg_")
}

/// `brick_<id>` → `<id>`.
pub fn parse_brick_lv_name(s: &str) -> Option<&str> {
    id_after(s, "brick_")
}

/// `tp_<id>` → `<id>` (in heketi v8+ the id is not necessarily the brick's own id).
pub fn parse_thin_pool_name(s: &str) -> Option<&str> {
    id_after(s, "tp_")
}

/// `vol_<id>` → `<id>` (volumes may also carry a requested name; use `user.heketi.id`).
pub fn parse_volume_name(s: &str) -> Option<&str> {
    id_after(s, "vol_")
}

/// `blockvol_<id>` → `<id>`.
pub fn parse_block_volume_name(s: &str) -> Option<&str> {
    id_after(s, "blockvol_")
}

/// `vg_<dev>` mount parent.
pub fn vg_mount_dir(device_id: &str) -> String {
    format!("{HEKETI_MOUNTS_ROOT}/vg_{device_id}")
}

/// `/var/lib/heketi/mounts/vg_<dev>/brick_<brick>`.
pub fn brick_mount_point(device_id: &str, brick_id: &str) -> String {
    format!("{HEKETI_MOUNTS_ROOT}/vg_{device_id}/brick_{brick_id}")
}

/// `/var/lib/heketi/mounts/vg_<dev>/brick_<brick>/brick`.
pub fn brick_dir(device_id: &str, brick_id: &str) -> String {
    format!("{}/{BRICK_SUBDIR}", brick_mount_point(device_id, brick_id))
}

/// `/dev/mapper/vg_<dev>-brick_<brick>`.
pub fn brick_dm_device(device_id: &str, brick_id: &str) -> String {
    format!("/dev/mapper/vg_{device_id}-brick_{brick_id}")
}

/// Which heketi path a string was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrickPathKind {
    /// `/var/lib/heketi/mounts/vg_<dev>/brick_<brick>`
    MountPoint,
    /// `/var/lib/heketi/mounts/vg_<dev>/brick_<brick>/brick`
    BrickDir,
}

/// Ids found in a heketi brick path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeketiBrickPath {
    pub device_id: String,
    pub brick_id: String,
    pub kind: BrickPathKind,
}

/// Parses a heketi brick mount point or brick dir (trailing `/` and `//` tolerated). Anything
/// else (other roots, deeper paths, non-heketi ids) is `None`.
pub fn parse_brick_path(path: &str) -> Option<HeketiBrickPath> {
    let rest = path.strip_prefix(HEKETI_MOUNTS_ROOT)?;
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let (vg, brick, kind) = match parts.as_slice() {
        [vg, brick] => (*vg, *brick, BrickPathKind::MountPoint),
        [vg, brick, sub] if *sub == BRICK_SUBDIR => (*vg, *brick, BrickPathKind::BrickDir),
        _ => return None,
    };
    // the root must be followed by '/', not e.g. "/var/lib/heketi/mounts2/..."
    if !rest.starts_with('/') {
        return None;
    }
    Some(HeketiBrickPath {
        device_id: parse_vg_name(vg)?.to_string(),
        brick_id: parse_brick_lv_name(brick)?.to_string(),
        kind,
    })
}

/// A device-mapper name split into VG, LV and layer (`vg-lv`, `vg-lv-tpool`; `--` encodes a
/// literal `-` inside the VG or LV name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmName {
    pub vg: String,
    pub lv: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

/// Splits an LVM device-mapper name (`vg_x-tp_y_tmeta`, `vg1-thin--pool--1-tpool`). Returns
/// `None` for names without an unescaped `-` (not an LVM node, e.g. `mpatha`).
pub fn split_dm_name(name: &str) -> Option<DmName> {
    let chars: Vec<char> = name.chars().collect();
    let mut parts: Vec<String> = vec![String::new()];
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '-' {
            if chars.get(i + 1) == Some(&'-') {
                parts.last_mut()?.push('-');
                i += 2;
                continue;
            }
            parts.push(String::new());
        } else {
            parts.last_mut()?.push(chars[i]);
        }
        i += 1;
    }
    if parts.iter().any(String::is_empty) {
        return None;
    }
    match parts.len() {
        2 => Some(DmName { vg: parts[0].clone(), lv: parts[1].clone(), layer: None }),
        3 => Some(DmName { vg: parts[0].clone(), lv: parts[1].clone(), layer: Some(parts[2].clone()) }),
        _ => None,
    }
}

/// `/dev/mapper/vg_<dev>-brick_<brick>` or `/dev/vg_<dev>/brick_<brick>` → (device id, brick id).
pub fn parse_brick_device(path: &str) -> Option<(String, String)> {
    let (vg, lv) = if let Some(dm) = path.strip_prefix("/dev/mapper/") {
        let n = split_dm_name(dm)?;
        if n.layer.is_some() {
            return None;
        }
        (n.vg, n.lv)
    } else {
        let rest = path.strip_prefix("/dev/")?;
        let (vg, lv) = rest.split_once('/')?;
        (vg.to_string(), lv.to_string())
    };
    Some((parse_vg_name(&vg)?.to_string(), parse_brick_lv_name(&lv)?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: &str = "a950666d8a4996efb447c0ceb48438b5";
    const BRICK: &str = "0b264cb31b8a14068057f8a4c47b3ffe";

    #[test]
    fn ids() {
        assert!(is_heketi_id(DEV));
        assert!(!is_heketi_id(&DEV.to_uppercase()));
        assert!(!is_heketi_id(&DEV[1..]));
        assert!(!is_heketi_id("g950666d8a4996efb447c0ceb48438b5"));
        assert_eq!(parse_vg_name(&format!("vg_{DEV}")), Some(DEV));
        assert_eq!(parse_vg_name("vg_root"), None);
        assert_eq!(parse_brick_lv_name(&format!("brick_{BRICK}")), Some(BRICK));
        assert_eq!(parse_thin_pool_name(&format!("tp_{BRICK}")), Some(BRICK));
        assert_eq!(parse_thin_pool_name(&format!("[tp_{BRICK}_tdata]")), None);
        assert_eq!(parse_volume_name(&format!("vol_{BRICK}")), Some(BRICK));
        assert_eq!(parse_volume_name("vol_monitoring_prometheus-db"), None);
        assert_eq!(parse_block_volume_name(&format!("blockvol_{BRICK}")), Some(BRICK));
    }

    #[test]
    fn brick_paths() {
        let dir = brick_dir(DEV, BRICK);
        assert_eq!(dir, format!("/var/lib/heketi/mounts/vg_{DEV}/brick_{BRICK}/brick"));
        let p = parse_brick_path(&dir).unwrap();
        assert_eq!((p.device_id.as_str(), p.brick_id.as_str()), (DEV, BRICK));
        assert_eq!(p.kind, BrickPathKind::BrickDir);
        let p = parse_brick_path(&format!("{}/", brick_mount_point(DEV, BRICK))).unwrap();
        assert_eq!(p.kind, BrickPathKind::MountPoint);
        assert_eq!(parse_brick_path("/srv/gluster/manual_tmp_372/brick"), None);
        assert_eq!(parse_brick_path(&format!("{dir}/sub")), None);
        assert_eq!(parse_brick_path(&format!("/var/lib/heketi/mounts2/vg_{DEV}/brick_{BRICK}")), None);
        assert_eq!(parse_brick_path(&format!("/var/lib/heketi/mounts/vg_{DEV}")), None);
    }

    #[test]
    fn dm_names() {
        let n = split_dm_name("vg1-thin--pool--1-tpool").unwrap();
        assert_eq!((n.vg.as_str(), n.lv.as_str()), ("vg1", "thin-pool-1"));
        assert_eq!(n.layer.as_deref(), Some("tpool"));
        let n = split_dm_name(&format!("vg_{DEV}-tp_{BRICK}_tmeta")).unwrap();
        assert_eq!(n.lv, format!("tp_{BRICK}_tmeta"));
        assert_eq!(split_dm_name("mpatha"), None);
        assert_eq!(split_dm_name("a-"), None);
        assert_eq!(split_dm_name("-"), None);
        assert_eq!(
            parse_brick_device(&brick_dm_device(DEV, BRICK)),
            Some((DEV.to_string(), BRICK.to_string()))
        );
        assert_eq!(
            parse_brick_device(&format!("/dev/vg_{DEV}/brick_{BRICK}")),
            Some((DEV.to_string(), BRICK.to_string()))
        );
        assert_eq!(parse_brick_device("/dev/vda"), None);
        assert_eq!(parse_brick_device("manual-bricks"), None);
    }
}
