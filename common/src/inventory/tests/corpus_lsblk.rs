//! lsblk samples.

use super::{lab, public, without_lines, LAB_NODES};
use crate::inventory::naming::{parse_brick_lv_name, parse_vg_name, split_dm_name};
use crate::inventory::*;

fn dev<'a>(devs: &'a [BlockDevice], id: &str) -> &'a BlockDevice {
    devs.iter().find(|d| d.id() == id).unwrap_or_else(|| panic!("no device {id}"))
}

#[test]
fn lab_lsblk_json_and_pairs_agree() {
    for node in LAB_NODES {
        let j = parse_lsblk_json(&lab(node, "lsblk.json")).unwrap();
        let p = parse_lsblk_pairs(&lab(node, "lsblk-pairs.txt")).unwrap();
        assert_eq!(j, p, "{node}: -J and -P describe the same devices");
        let vda = dev(&j, "vda");
        assert_eq!(vda.mountpoints, ["/"]);
        assert_eq!(vda.size, Some(ByteSize::exact(274877906944)));
        assert_eq!(vda.maj_min.as_deref(), Some("254:0"));
        assert_eq!(vda.dev_type.as_deref(), Some("disk"));
        assert_eq!((vda.removable, vda.read_only), (Some(false), Some(false)));
        let loops: Vec<&BlockDevice> = j.iter().filter(|d| d.dev_type.as_deref() == Some("loop")).collect();
        assert!(!loops.is_empty());
        // `"mountpoints": [null]` means not mounted
        assert!(loops
            .iter()
            .all(|l| l.mountpoints.is_empty() && l.size == Some(ByteSize::exact(536870912000))));
    }
    let n1 = parse_lsblk_json(&lab("node1", "lsblk.json")).unwrap();
    assert_eq!(n1.iter().map(BlockDevice::id).collect::<Vec<_>>(), ["loop100", "loop101", "vda"]);
}

#[test]
fn flat_multipath_json_with_string_sizes() {
    let devs = parse_lsblk_json(&public("lsblk/lsblk-J-multipath-dm-flat-list.txt")).unwrap();
    assert_eq!(devs.len(), 15);
    let sda = dev(&devs, "sda");
    assert_eq!(sda.name, "sda", "no NAME column: KNAME stands in");
    assert_eq!(sda.size, Some(ByteSize::exact(60022480896)));
    assert_eq!(sda.model.as_deref(), Some("INTEL_SSDSC2CT060A3"));
    assert_eq!(sda.serial.as_deref(), Some("sda123"));
    let mpaths: Vec<&str> =
        devs.iter().filter(|d| d.dev_type.as_deref() == Some("mpath")).map(BlockDevice::id).collect();
    assert_eq!(mpaths, ["dm-0", "dm-1"]);
    assert_eq!(dev(&devs, "dm-3").uuid.as_deref(), Some("f8b55d59-96c3-3982-b129-1b6b2ee8da86"));
    assert!(devs.iter().all(|d| d.parents.is_empty() && d.children.is_empty()), "flat list");
}

#[test]
fn pairs_with_pkname_build_the_tree() {
    let devs = parse_lsblk_pairs(&public("lsblk/lsblk-pairs-kname-pkname-type-mountpoint.txt")).unwrap();
    assert_eq!(devs.len(), 11);
    assert_eq!(dev(&devs, "sda").children, ["sda1", "sda2", "sda3"]);
    assert_eq!(dev(&devs, "sda1").parents, ["sda"]);
    assert_eq!(dev(&devs, "sda1").mountpoints, ["/boot/efi"]);
    assert_eq!(dev(&devs, "sda2").mountpoints, ["[SWAP]"]);
    assert!(dev(&devs, "sdc3").mountpoints.is_empty());
    assert_eq!(dev(&devs, "sdc").children.len(), 3);
}

#[test]
fn tree_heketi_thin_pool_brick() {
    let text = public("lsblk/lsblk-tree-heketi-thinpool-brick-ubuntu.txt");
    // drop the shell prompt and the line the excerpt cut off ("…")
    let text = without_lines(&text, &["# lsblk", "..."]);
    let devs = parse_lsblk_tree(&text).unwrap();
    assert_eq!(devs.len(), 11);
    assert_eq!(dev(&devs, "sda1").mountpoints, ["/"]);
    assert_eq!(dev(&devs, "sdb").size.unwrap().bytes, 1 << 40);
    let brick = devs.iter().find(|d| d.maj_min.as_deref() == Some("252:4")).unwrap();
    let dm = split_dm_name(&brick.name).unwrap();
    assert_eq!(parse_vg_name(&dm.vg), Some("fd4e734af2a4e9f0c481652bcf87a1a8"));
    assert_eq!(parse_brick_lv_name(&dm.lv), Some("f9a50ae85da1ec1edb0ec22044d0db4f"));
    assert_eq!(brick.dev_type.as_deref(), Some("lvm"));
    let tpool = devs.iter().find(|d| d.maj_min.as_deref() == Some("252:2")).unwrap();
    assert_eq!(split_dm_name(&tpool.name).unwrap().layer.as_deref(), Some("tpool"));
    assert_eq!(brick.parents, [tpool.id()]);
    assert_eq!(tpool.children.len(), 2);
    assert!(tpool.parents[0].ends_with("_tmeta"));
}

#[test]
fn tree_striped_lv_dedupes_repeated_subtrees() {
    let devs = parse_lsblk_tree(&public("lsblk/lsblk-tree-loop-lvm-nvme-util-linux-testsuite.txt")).unwrap();
    assert_eq!(devs.len(), 18);
    let lv = dev(&devs, "dm-0");
    assert_eq!(lv.name, "vg_foo.4059-lv_foo.4059");
    assert_eq!(lv.parents, ["loop0", "loop1", "loop2", "loop3"]);
    assert_eq!(lv.size.unwrap().bytes, 32 << 20);
    assert_eq!(dev(&devs, "loop2").children, ["dm-0"]);
    assert_eq!(dev(&devs, "sdb1").mountpoints, ["/home/archive"]);
    assert_eq!(dev(&devs, "nvme0n1p3").maj_min.as_deref(), Some("259:3"));
    assert!(dev(&devs, "sda3").mountpoints.is_empty());
}

#[test]
fn tree_rhel6_dm_suffix_and_multipath() {
    let devs = parse_lsblk_tree(&public("lsblk/lsblk-tree-rhel6-multipath-dm-suffix.txt")).unwrap();
    assert_eq!(devs.len(), 19);
    let app = dev(&devs, "dm-7");
    assert_eq!(app.name, "appdg-app", "\" (dm-7)\" split off");
    assert_eq!(app.parents, ["dm-4", "dm-5", "dm-6"]);
    assert_eq!(app.mountpoints, ["/splunk"]);
    assert_eq!(dev(&devs, "dm-2").parents, ["sdb", "sde"]);
    assert_eq!(dev(&devs, "dm-0").mountpoints, ["/"]);
    assert_eq!(dev(&devs, "sda3").mountpoints, ["[SWAP]"]);
    assert_eq!(dev(&devs, "sr0").removable, Some(true));
}

#[test]
fn tree_thin_pool_on_raid_sub_lvs() {
    let text = without_lines(&public("lsblk/lsblk-tree-thinpool-raid-tmeta-lvm-operator.txt"), &["..."]);
    let devs = parse_lsblk_tree(&text).unwrap();
    let tpool = devs.iter().find(|d| d.maj_min.as_deref() == Some("253:10")).unwrap();
    assert_eq!(tpool.name, "vg1-thin--pool--1-tpool");
    let parents: Vec<&str> = tpool.parents.iter().map(String::as_str).collect();
    assert_eq!(parents, ["vg1-thin--pool--1_tmeta", "vg1-thin--pool--1_tdata"]);
    let tmeta = devs.iter().find(|d| d.maj_min.as_deref() == Some("253:4")).unwrap();
    assert_eq!(tmeta.parents.len(), 2, "rmeta_0 and rimage_0");
    let pool = devs.iter().find(|d| d.maj_min.as_deref() == Some("253:11")).unwrap();
    assert_eq!(pool.read_only, Some(true));
    assert_eq!(split_dm_name(&pool.name).unwrap().lv, "thin-pool-1");
    // 253:10 is listed three times in the excerpt, once in the result
    assert_eq!(devs.iter().filter(|d| d.maj_min.as_deref() == Some("253:10")).count(), 1);
}

#[test]
fn pairs_repeat_multi_parent_devices() {
    // `lsblk -P -o NAME,KNAME,PKNAME,MAJ:MIN,TYPE,MOUNTPOINT` prints a striped LV once per PV
    let text = concat!(
        "NAME=\"loop0\" KNAME=\"loop0\" PKNAME=\"\" MAJ:MIN=\"7:0\" TYPE=\"loop\" MOUNTPOINT=\"\"\n",
        "NAME=\"vg_foo-lv_foo\" KNAME=\"dm-0\" PKNAME=\"loop0\" MAJ:MIN=\"253:0\" TYPE=\"lvm\" MOUNTPOINT=\"/mnt/a\\x20b\"\n",
        "NAME=\"loop1\" KNAME=\"loop1\" PKNAME=\"\" MAJ:MIN=\"7:1\" TYPE=\"loop\" MOUNTPOINT=\"\"\n",
        "NAME=\"vg_foo-lv_foo\" KNAME=\"dm-0\" PKNAME=\"loop1\" MAJ:MIN=\"253:0\" TYPE=\"lvm\" MOUNTPOINT=\"/mnt/a\\x20b\"\n",
    );
    let devs = parse_lsblk_pairs(text).unwrap();
    assert_eq!(devs.len(), 3);
    let lv = dev(&devs, "dm-0");
    assert_eq!(lv.parents, ["loop0", "loop1"]);
    assert_eq!(lv.mountpoints, ["/mnt/a b"]);
    assert_eq!(dev(&devs, "loop1").children, ["dm-0"]);
}

#[test]
fn tree_mountpoints_continuation_lines() {
    // util-linux >= 2.37: a device mounted twice gets a second line under MOUNTPOINTS
    let text = concat!(
        "NAME   MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS\n",
        "vda    254:0    0  256G  0 disk \n",
        "├─vda1 254:1    0  255G  0 part /var/lib/kubelet/pods/x/volumes\n",
        "│                                /\n",
        "└─vda2 254:2    0    1G  0 part [SWAP]\n",
    );
    let devs = parse_lsblk_tree(text).unwrap();
    assert_eq!(devs.len(), 3);
    assert_eq!(dev(&devs, "vda1").mountpoints, ["/var/lib/kubelet/pods/x/volumes", "/"]);
    assert_eq!(dev(&devs, "vda2").mountpoints, ["[SWAP]"]);
    assert_eq!(dev(&devs, "vda").children, ["vda1", "vda2"]);
}
