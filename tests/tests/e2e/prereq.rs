//! Can the lab run here? Root, the Debian packages, namespaces and loop devices. Outside CI a
//! machine without them skips the e2e target with one line; in CI (`CI` set) that is a failure.

use super::cmd::have_tool;

/// Tools the lab scripts and the capture use, with the package that provides them.
const TOOLS: &[(&str, &str)] = &[
    ("glusterd", "glusterfs-server"),
    ("gluster", "glusterfs-server"),
    ("lvm", "lvm2"),
    ("vgcfgrestore", "lvm2"),
    ("ip", "iproute2"),
    ("nsenter", "util-linux"),
    ("unshare", "util-linux"),
    ("losetup", "mount"),
    ("lsblk", "util-linux"),
    ("mountpoint", "util-linux"),
    ("timeout", "coreutils"),
];

/// Whether the run is in CI, where not being able to run the lab must fail the build.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// `Err(reason)` when this machine cannot run the lab at all.
pub fn check() -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Err("the lab needs Linux (namespaces, loop devices, LVM)".into());
    }
    if !is_root() {
        return Err("needs root (network/mount namespaces, loop devices, LVM)".into());
    }
    let missing: Vec<String> =
        TOOLS.iter().filter(|(t, _)| !have_tool(t)).map(|(t, p)| format!("{t} ({p})")).collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing tools: {}; apt-get install glusterfs-server lvm2 iproute2 util-linux xfsprogs attr",
            missing.join(", ")
        ));
    }
    Ok(())
}
