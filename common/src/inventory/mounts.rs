//! `/proc/mounts` (= `/proc/self/mounts`), `/proc/self/mountinfo` and fstab files (heketi's
//! `/var/lib/heketi/fstab`). Fields use the kernel's octal escapes (`\040` = space).

use serde::{Deserialize, Serialize};

use super::error::{Format, ParseError};
use super::text::{clean, unescape_octal};

/// One mount (or fstab) line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MountEntry {
    /// Device or source (`/dev/mapper/vg_x-brick_y`, `tmpfs`, `UUID=…` in fstab).
    pub source: String,
    pub mount_point: String,
    pub fstype: String,
    /// Mount options as written (comma separated).
    pub options: String,
    pub dump: Option<u32>,
    pub pass: Option<u32>,
    /// mountinfo only: `major:minor` of the filesystem's device.
    pub maj_min: Option<String>,
    /// mountinfo only: root of the mount within the filesystem.
    pub root: Option<String>,
}

impl MountEntry {
    /// The options as a list.
    pub fn option_list(&self) -> Vec<&str> {
        self.options.split(',').filter(|o| !o.is_empty()).collect()
    }
}

fn parse_table(text: &str, format: Format, allow_comments: bool) -> Result<Vec<MountEntry>, ParseError> {
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut out = Vec::new();
    for (no, line) in t.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || (allow_comments && l.starts_with('#')) {
            continue;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 4 || f.len() > 6 {
            return Err(ParseError::line(format, no + 1, format!("{} fields, expected 4 to 6", f.len())));
        }
        let opt_num = |i: usize| -> Result<Option<u32>, ParseError> {
            match f.get(i) {
                None => Ok(None),
                Some(v) => v.parse::<u32>().map(Some).map_err(|_| {
                    ParseError::line(format, no + 1, format!("field {} is not a number: {v:?}", i + 1))
                }),
            }
        };
        out.push(MountEntry {
            source: unescape_octal(f[0]),
            mount_point: unescape_octal(f[1]),
            fstype: unescape_octal(f[2]),
            options: unescape_octal(f[3]),
            dump: opt_num(4)?,
            pass: opt_num(5)?,
            maj_min: None,
            root: None,
        });
    }
    Ok(out)
}

/// Parses `/proc/mounts` / `/proc/self/mounts`.
pub fn parse_proc_mounts(text: &str) -> Result<Vec<MountEntry>, ParseError> {
    parse_table(text, Format::ProcMounts, false)
}

/// Parses an fstab (heketi's `/var/lib/heketi/fstab`: `<dev> <mount point> xfs
/// rw,inode64,noatime,nouuid 1 2`); `#` comments and blank lines are skipped. An empty file is
/// a valid, empty fstab.
pub fn parse_fstab(text: &str) -> Result<Vec<MountEntry>, ParseError> {
    if clean(text).is_empty() {
        return Ok(Vec::new());
    }
    parse_table(text, Format::Fstab, true)
}

/// Parses `/proc/self/mountinfo`
/// (`36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`).
/// `options` gets the per-mount options followed by the superblock options.
pub fn parse_mountinfo(text: &str) -> Result<Vec<MountEntry>, ParseError> {
    let format = Format::MountInfo;
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut out = Vec::new();
    for (no, line) in t.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        let sep = f
            .iter()
            .position(|x| *x == "-")
            .ok_or_else(|| ParseError::line(format, no + 1, "no ' - ' separator"))?;
        if sep < 6 || f.len() < sep + 3 {
            return Err(ParseError::line(format, no + 1, "too few fields"));
        }
        if f[0].parse::<u64>().is_err() || f[1].parse::<u64>().is_err() || !f[2].contains(':') {
            return Err(ParseError::line(format, no + 1, "bad mount id / parent id / major:minor"));
        }
        let mut options = unescape_octal(f[5]);
        if let Some(sb) = f.get(sep + 3) {
            options.push(',');
            options.push_str(&unescape_octal(sb));
        }
        out.push(MountEntry {
            source: unescape_octal(f[sep + 2]),
            mount_point: unescape_octal(f[4]),
            fstype: unescape_octal(f[sep + 1]),
            options,
            dump: None,
            pass: None,
            maj_min: Some(f[2].to_string()),
            root: Some(unescape_octal(f[3])),
        });
    }
    Ok(out)
}
