//! Sources read from files and syscalls (no processes): hostname, glusterd's `glusterd.info`
//! and store, the mount table, heketi's fstab and the brick directories (stat + the
//! `trusted.glusterfs.volume-id` xattr read with `lgetxattr(2)`).
//!
//! Node paths are read under the configured host root (`/host`, `/proc/<pid>/root`) and
//! reported as the node sees them.

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use heketi_doctor_common::inventory::naming::HEKETI_MOUNTS_ROOT;
use heketi_doctor_common::inventory::{Format, RawOutcome, RawPart, RawSource};

/// glusterd's working directory on the node.
pub const GLUSTERD_DIR: &str = "/var/lib/glusterd";
/// heketi's fstab on the node.
pub const HEKETI_FSTAB: &str = "/var/lib/heketi/fstab";
/// The brick root's volume-id xattr.
const VOLUME_ID_XATTR: &str = "trusted.glusterfs.volume-id";
/// Most glusterd store files read (peers + volume files).
const MAX_STORE_FILES: usize = 100_000;
/// Most brick mount points listed.
const MAX_BRICK_DIRS: usize = 100_000;

/// `root` + absolute node path.
pub fn under(root: &Path, node_path: &str) -> PathBuf {
    root.join(node_path.trim_start_matches('/'))
}

/// Reads a file, at most `cap` bytes (more is an error: nothing here is legitimately big).
fn read_capped(path: &Path, cap: usize) -> std::io::Result<String> {
    let f = fs::File::open(path)?;
    let mut buf = Vec::new();
    f.take(cap as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() > cap {
        return Err(std::io::Error::other(format!("larger than {cap} bytes")));
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A file as a source: `NotInstalled(what)` when it is absent, or `Done` with an empty output
/// and a note when `missing_is_empty`.
pub fn file_source(root: &Path, node_path: &str, cap: usize, missing: Missing) -> RawSource {
    let p = under(root, node_path);
    match read_capped(&p, cap) {
        Ok(text) => RawSource::new(node_path, RawOutcome::ok(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match missing {
            Missing::NotInstalled(tool) => {
                RawSource::new(node_path, RawOutcome::NotInstalled { tool: tool.into() })
            }
            Missing::Empty => {
                let mut r = RawSource::new(node_path, RawOutcome::ok(""));
                r.notes.push(format!("{node_path} does not exist"));
                r
            }
        },
        Err(e) => RawSource::new(node_path, RawOutcome::Error { error: format!("{node_path}: {e}") }),
    }
}

/// What an absent file means.
#[derive(Clone, Copy, Debug)]
pub enum Missing {
    /// The component is not on this node (no glusterd.info: glusterd never ran here).
    NotInstalled(&'static str),
    /// A valid empty state (no heketi fstab yet: no bricks).
    Empty,
}

/// The node's host name: `<root>/etc/hostname` when a host root is set, else `uname(2)`.
pub fn hostname(root: &Path) -> RawSource {
    if root != Path::new("/") {
        let r = file_source(root, "/etc/hostname", 4096, Missing::NotInstalled("/etc/hostname"));
        if matches!(r.outcome, RawOutcome::Done { .. }) {
            return r;
        }
    }
    let uname = rustix::system::uname();
    RawSource::new("uname(2) nodename", RawOutcome::ok(format!("{}\n", uname.nodename().to_string_lossy())))
}

/// The mount table (`/proc/self/mounts` by default: the agent's mount namespace; in a
/// container, `/proc/1/mounts` with hostPID shows the node's).
pub fn proc_mounts(path: &Path, cap: usize) -> RawSource {
    let shown = path.display().to_string();
    match read_capped(path, cap) {
        Ok(text) => RawSource::new(shown, RawOutcome::ok(text)).with_format(Format::ProcMounts),
        Err(e) => RawSource::new(shown.clone(), RawOutcome::Error { error: format!("{shown}: {e}") }),
    }
}

/// glusterd's store: `peers/*`, `vols/*/info`, `vols/*/bricks/*`, one part per file.
pub fn glusterd_store(root: &Path, cap: usize) -> RawSource {
    let base = under(root, GLUSTERD_DIR);
    if !base.is_dir() {
        return RawSource::new(GLUSTERD_DIR, RawOutcome::NotInstalled { tool: "glusterd".into() });
    }
    let mut r = RawSource::new(GLUSTERD_DIR, RawOutcome::ok(""));
    let mut rels: Vec<String> = Vec::new();
    match list(&base.join("peers")) {
        Ok(peers) => rels.extend(peers.into_iter().map(|p| format!("peers/{p}"))),
        Err(e) => r.notes.push(format!("{GLUSTERD_DIR}/peers: {e}")),
    }
    match list(&base.join("vols")) {
        Ok(vols) => {
            for v in vols {
                let vdir = base.join("vols").join(&v);
                if !vdir.is_dir() {
                    continue;
                }
                rels.push(format!("vols/{v}/info"));
                match list(&vdir.join("bricks")) {
                    Ok(bricks) => rels.extend(bricks.into_iter().map(|b| format!("vols/{v}/bricks/{b}"))),
                    Err(e) => r.notes.push(format!("{GLUSTERD_DIR}/vols/{v}/bricks: {e}")),
                }
                if rels.len() > MAX_STORE_FILES {
                    break;
                }
            }
        }
        Err(e) => r.notes.push(format!("{GLUSTERD_DIR}/vols: {e}")),
    }
    if rels.len() > MAX_STORE_FILES {
        r.notes.push(format!("more than {MAX_STORE_FILES} store files; the rest is not read"));
        rels.truncate(MAX_STORE_FILES);
    }
    for rel in rels {
        let node_path = format!("{GLUSTERD_DIR}/{rel}");
        let outcome = match read_capped(&base.join(&rel), cap) {
            Ok(text) => RawOutcome::ok(text),
            Err(e) => RawOutcome::Error { error: format!("{node_path}: {e}") },
        };
        r.parts.insert(rel, RawPart { command: node_path, outcome });
    }
    r
}

/// Sorted names in a directory (`NotFound` → empty).
fn list(dir: &Path) -> std::io::Result<Vec<String>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for e in rd {
        if let Some(n) = e?.file_name().to_str() {
            names.push(n.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// The brick listing: one line per mount point directory `<root>/<vg dir>/<dir>` and one per
/// existing `<mount point>/brick`, in the format of
/// [`heketi_doctor_common::inventory::parse_brick_dirs`]:
/// `<path> <gid> <octal mode> uid=<uid> volume-id=<0xhex|->`.
pub fn brick_dirs(root: &Path) -> RawSource {
    let base = under(root, HEKETI_MOUNTS_ROOT);
    let command = format!("stat+lgetxattr {HEKETI_MOUNTS_ROOT}/*/*[/brick]");
    let mut notes = Vec::new();
    let vgs = match list(&base) {
        Ok(v) => v,
        Err(e) => {
            return RawSource::new(
                command,
                RawOutcome::Error { error: format!("{HEKETI_MOUNTS_ROOT}: {e}") },
            );
        }
    };
    if !base.exists() {
        notes.push(format!("{HEKETI_MOUNTS_ROOT} does not exist"));
    }
    let mut out = String::new();
    let mut count = 0usize;
    let mut xattr_denied = false;
    'vgs: for vg in vgs {
        let vg_dir = base.join(&vg);
        if !fs::symlink_metadata(&vg_dir).map(|m| m.is_dir()).unwrap_or(false) {
            continue;
        }
        let mps = match list(&vg_dir) {
            Ok(m) => m,
            Err(e) => {
                notes.push(format!("{HEKETI_MOUNTS_ROOT}/{vg}: {e}"));
                continue;
            }
        };
        for mp in mps {
            count += 1;
            if count > MAX_BRICK_DIRS {
                notes.push(format!("more than {MAX_BRICK_DIRS} mount points; the rest is not listed"));
                break 'vgs;
            }
            let node_mp = format!("{HEKETI_MOUNTS_ROOT}/{vg}/{mp}");
            if node_mp.contains('\n') {
                notes.push(format!("skipped a path with a newline: {node_mp:?}"));
                continue;
            }
            let mp_path = vg_dir.join(&mp);
            match fs::symlink_metadata(&mp_path) {
                Ok(m) if m.is_dir() => out.push_str(&stat_line(&node_mp, &m, None)),
                Ok(_) => continue,
                Err(e) => {
                    notes.push(format!("{node_mp}: {e}"));
                    continue;
                }
            }
            let brick = mp_path.join("brick");
            match fs::symlink_metadata(&brick) {
                Ok(m) if m.is_dir() => {
                    let vid = match volume_id(&brick) {
                        Ok(v) => v,
                        Err(e) => {
                            if matches!(e.kind(), std::io::ErrorKind::PermissionDenied) {
                                xattr_denied = true;
                            } else {
                                notes.push(format!("{node_mp}/brick: {VOLUME_ID_XATTR}: {e}"));
                            }
                            None
                        }
                    };
                    out.push_str(&stat_line(&format!("{node_mp}/brick"), &m, Some(vid)));
                }
                Ok(_) => notes.push(format!("{node_mp}/brick is not a directory")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => notes.push(format!("{node_mp}/brick: {e}")),
            }
        }
    }
    if xattr_denied {
        notes.push(format!(
            "cannot read {VOLUME_ID_XATTR}: permission denied (the agent needs CAP_SYS_ADMIN)"
        ));
    }
    let mut r = RawSource::new(command, RawOutcome::ok(out)).with_format(Format::BrickDirs);
    r.notes = notes;
    r
}

fn stat_line(path: &str, m: &fs::Metadata, volume_id: Option<Option<String>>) -> String {
    let mut line = format!("{path} {} {:o} uid={}", m.gid(), m.mode() & 0o7777, m.uid());
    if let Some(v) = volume_id {
        line.push_str(&format!(" volume-id={}", v.as_deref().unwrap_or("-")));
    }
    line.push('\n');
    line
}

/// `trusted.glusterfs.volume-id` as `0x<hex>`; `None` when the directory has none.
fn volume_id(path: &Path) -> std::io::Result<Option<String>> {
    let mut buf = [0u8; 64];
    match rustix::fs::lgetxattr(path, VOLUME_ID_XATTR, &mut buf[..]) {
        Ok(n) => {
            let hex: String = buf[..n.min(buf.len())].iter().map(|b| format!("{b:02x}")).collect();
            Ok(Some(format!("0x{hex}")))
        }
        Err(rustix::io::Errno::NODATA | rustix::io::Errno::NOTSUP) => Ok(None),
        Err(e) => Err(std::io::Error::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heketi_doctor_common::inventory::parse_brick_dirs;

    #[test]
    fn brick_listing_parses_and_reads_the_xattr() {
        let tmp = tempfile::tempdir().unwrap();
        let mounts = under(tmp.path(), HEKETI_MOUNTS_ROOT);
        let mp = mounts.join("vg_a950666d8a4996efb447c0ceb48438b5/brick_0b264cb31b8a14068057f8a4c47b3ffe");
        fs::create_dir_all(mp.join("brick")).unwrap();
        let unmounted =
            mounts.join("vg_a950666d8a4996efb447c0ceb48438b5/brick_0c0d8f2c7145813fcf0dc9f78c30d770");
        fs::create_dir_all(&unmounted).unwrap();
        let id = [
            0x5fu8, 0xb1, 0xd6, 0x26, 0xbf, 0x5a, 0x40, 0xf9, 0xa1, 0xa1, 0xd3, 0x02, 0x04, 0x0a, 0x16, 0x52,
        ];
        let xattr_set =
            rustix::fs::setxattr(mp.join("brick"), VOLUME_ID_XATTR, &id, rustix::fs::XattrFlags::empty())
                .is_ok();
        let r = brick_dirs(tmp.path());
        let RawOutcome::Done { output, .. } = &r.outcome else { panic!("{r:?}") };
        let dirs = parse_brick_dirs(&output.stdout).unwrap();
        assert_eq!(dirs.len(), 3, "{}", output.stdout);
        assert!(dirs.iter().all(|d| d.path.starts_with("/var/lib/heketi/mounts/vg_")), "node paths");
        let brick = dirs.iter().find(|d| d.path.ends_with("/brick")).unwrap();
        assert_eq!(brick.uid, Some(rustix::process::getuid().as_raw()));
        if xattr_set {
            assert_eq!(brick.volume_id.as_deref(), Some("5fb1d626-bf5a-40f9-a1a1-d302040a1652"));
        } else {
            eprintln!("trusted.* xattrs not settable here (not root or no support): volume-id not checked");
        }
        // no mounts root at all: an empty, valid listing
        let empty = tempfile::tempdir().unwrap();
        let r = brick_dirs(empty.path());
        assert_eq!(r.outcome, RawOutcome::ok(""));
        assert!(r.notes[0].contains("does not exist"));
    }

    #[test]
    fn store_and_missing_files() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(glusterd_store(tmp.path(), 1024).outcome, RawOutcome::NotInstalled { .. }));
        let g = under(tmp.path(), GLUSTERD_DIR);
        fs::create_dir_all(g.join("vols/v1/bricks")).unwrap();
        fs::create_dir_all(g.join("peers")).unwrap();
        fs::write(g.join("vols/v1/info"), "type=0\n").unwrap();
        fs::write(g.join("vols/v1/bricks/h:-b"), "hostname=h\n").unwrap();
        fs::write(g.join("peers/u1"), "uuid=u1\n").unwrap();
        let s = glusterd_store(tmp.path(), 1024);
        assert_eq!(s.parts.keys().collect::<Vec<_>>(), ["peers/u1", "vols/v1/bricks/h:-b", "vols/v1/info"]);
        let f = file_source(tmp.path(), HEKETI_FSTAB, 1024, Missing::Empty);
        assert_eq!(f.outcome, RawOutcome::ok(""));
        let f = file_source(
            tmp.path(),
            "/var/lib/glusterd/glusterd.info",
            1024,
            Missing::NotInstalled("glusterd"),
        );
        assert_eq!(f.outcome, RawOutcome::NotInstalled { tool: "glusterd".into() });
        fs::write(g.join("glusterd.info"), "x".repeat(2000)).unwrap();
        let f = file_source(tmp.path(), "/var/lib/glusterd/glusterd.info", 1024, Missing::Empty);
        assert!(matches!(f.outcome, RawOutcome::Error { .. }));
    }
}
