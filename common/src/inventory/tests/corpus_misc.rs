//! Mounts, heketi fstab, brick dirs and brick facts, gluster-block, glusterd store, and a full
//! NodeReport built from a lab node.

use std::collections::BTreeSet;

use super::{between, lab, public, read, LAB_NODES};
use crate::inventory::naming::{parse_brick_device, parse_brick_path, BrickPathKind};
use crate::inventory::*;

const NODE_IPS: &[(&str, &str)] =
    &[("node1", "192.168.231.11"), ("node2", "192.168.231.12"), ("node3", "192.168.231.13")];

fn facts(node: &str) -> Vec<BrickFacts> {
    assemble_brick_facts(
        &[],
        &parse_brick_dirs(&lab(node, "brick-dirs.txt")).unwrap(),
        &parse_proc_mounts(&lab(node, "proc-mounts.txt")).unwrap(),
        &parse_fstab(&lab(node, "heketi-fstab.txt")).unwrap(),
    )
}

fn fact<'a>(facts: &'a [BrickFacts], brick_id: &str) -> &'a BrickFacts {
    facts
        .iter()
        .find(|f| f.brick_id.as_deref() == Some(brick_id))
        .unwrap_or_else(|| panic!("no facts for brick {brick_id}"))
}

#[test]
fn lab_fstab_and_mounts() {
    for node in LAB_NODES {
        let fstab = parse_fstab(&lab(node, "heketi-fstab.txt")).unwrap();
        assert!(!fstab.is_empty());
        for e in &fstab {
            // heketi's line: <devnode> <mount point> xfs rw,inode64,noatime,nouuid 1 2
            let dev = parse_brick_device(&e.source).unwrap();
            let mp = parse_brick_path(&e.mount_point).unwrap();
            assert_eq!(mp.kind, BrickPathKind::MountPoint);
            assert_eq!(dev, (mp.device_id, mp.brick_id), "{node}: {}", e.mount_point);
            assert_eq!(e.fstype, "xfs");
            assert_eq!(e.option_list(), ["rw", "inode64", "noatime", "nouuid"]);
            assert_eq!((e.dump, e.pass), (Some(1), Some(2)));
        }
        let mounts = parse_proc_mounts(&lab(node, "proc-mounts.txt")).unwrap();
        assert!(mounts.iter().any(|m| m.mount_point == "/" && m.source == "/dev/vda"));
        assert!(mounts.iter().all(|m| m.dump == Some(0) && m.pass == Some(0)));
    }
    assert_eq!(parse_fstab(&lab("node1", "heketi-fstab.txt")).unwrap().len(), 14);
}

#[test]
fn lab_brick_dirs() {
    let dirs = parse_brick_dirs(&lab("node1", "brick-dirs.txt")).unwrap();
    assert_eq!(dirs.len(), 14);
    let d = dirs.iter().find(|d| d.path.contains("brick_0b264cb31b8a14068057f8a4c47b3ffe")).unwrap();
    assert_eq!((d.gid, d.mode, d.uid, d.volume_id.as_deref()), (2004, 0o2775, None, None));
    assert!(dirs.iter().all(|d| parse_brick_path(&d.path).map(|p| p.kind) == Some(BrickPathKind::BrickDir)));
    // spec §4.9: a gid means mode 2775, root-owned bricks keep the umask's 755
    assert!(dirs.iter().all(|d| (d.gid != 0) == (d.mode == 0o2775)));
}

#[test]
fn lab_brick_facts_before_drift_are_consistent() {
    for (node, ip) in NODE_IPS {
        let f = facts(node);
        assert!(f.iter().all(|x| x.mounted && x.in_fstab && x.brick_dir.is_some()), "{node}");
        assert!(f.iter().all(|x| x.mount_source == x.fstab_source), "{node}");
        // every brick gluster places on this node has its mount, and vice versa
        let vols = parse_volume_info_xml(&lab(node, "volume-info.xml")).unwrap();
        let in_gluster: BTreeSet<(String, String)> = vols
            .iter()
            .flat_map(|v| v.bricks.iter())
            .filter(|b| b.host == *ip)
            .filter_map(|b| parse_brick_path(&b.path).map(|p| (p.device_id, p.brick_id)))
            .collect();
        let on_disk: BTreeSet<(String, String)> =
            f.iter().map(|x| (x.device_id.clone().unwrap(), x.brick_id.clone().unwrap())).collect();
        assert_eq!(in_gluster, on_disk, "{node}");
    }
}

#[test]
fn lab_brick_facts_after_drift() {
    // M5: brick 42599146… unmounted on node3 (LV and fstab line remain)
    let n3 = facts("after-live-drift/node3");
    let m5 = fact(&n3, "42599146017782d63fd1f7211f32cb4e");
    assert!(!m5.mounted && m5.in_fstab && m5.brick_dir.is_none());
    // M6: fstab line of 9b823d64… removed on node3, still mounted
    let m6 = fact(&n3, "9b823d644c02235277d29f72a57ef0e3");
    assert!(m6.mounted && !m6.in_fstab && m6.brick_dir.is_some());
    // M7: brick dir group of d099e324… changed to 4242 on node1
    let n1 = facts("after-live-drift/node1");
    assert_eq!(fact(&n1, "d099e3241ba1bbcb15d834dacb599ac8").brick_dir.as_ref().unwrap().gid, 4242);
    let before = facts("node1");
    assert_eq!(fact(&before, "d099e3241ba1bbcb15d834dacb599ac8").brick_dir.as_ref().unwrap().gid, 0);
    // M3: brick 0901e271…'s LV and mount are gone on node2, its fstab line is left behind
    let n2 = facts("after-live-drift/node2");
    let m3 = fact(&n2, "0901e271030cd30750dbb424e19baf78");
    assert!(!m3.mounted && m3.in_fstab && m3.brick_dir.is_none());
    // M1: rogue volume's brick fully present on node1
    let m1 = fact(&n1, "6ec9d28663ca828dd5f4b3b2e4b06ce6");
    assert!(m1.mounted && m1.in_fstab && m1.brick_dir.is_some());
    // the admin's /srv mount is not under heketi's tree
    assert!(n1.iter().all(|f| f.mount_point.starts_with("/var/lib/heketi/mounts/vg_")));
}

#[test]
fn handwritten_mountinfo_and_agent_brick_dirs() {
    let mi = parse_mountinfo(&read("handwritten/proc-self-mountinfo.txt")).unwrap();
    assert_eq!(mi.len(), 4);
    let brick = &mi[2];
    assert_eq!(brick.maj_min.as_deref(), Some("253:7"));
    assert_eq!(brick.fstype, "xfs");
    assert_eq!(
        parse_brick_device(&brick.source),
        Some(("af929a91f4873115cd425ec38f138999".into(), "2dc2aa9fc3d67ad68db03a46b435deee".into()))
    );
    assert!(brick.option_list().contains(&"noatime") && brick.option_list().contains(&"inode64"));
    assert_eq!(mi[3].mount_point, "/srv/gluster manual", "\\040 decoded");
    assert_eq!(mi[3].root.as_deref(), Some("/exports"));

    let dirs = parse_brick_dirs(&read("handwritten/brick-dirs-agent.txt")).unwrap();
    assert_eq!(dirs.len(), 4);
    assert_eq!(dirs[0].uid, Some(0));
    assert_eq!(dirs[0].volume_id.as_deref(), Some("5fb1d626-bf5a-40f9-a1a1-d302040a1652"));
    assert_eq!(dirs[1].volume_id, None, "volume-id=- means no xattr");
    assert_eq!(dirs[2].volume_id.as_deref(), Some("993614a1-6c3c-4c3e-9ad5-3e9e1df94c51"));
    assert_eq!((dirs[3].uid, dirs[3].mode), (None, 0o755));
    // the xattr ties a brick to its volume: same UUID as gluster's Volume ID
    let vols = parse_volume_info_xml(&lab("node1", "volume-info.xml")).unwrap();
    let ec = vols.iter().find(|v| v.name == "vol_36b06a8920d1a0325d9630227b9a2e71").unwrap();
    assert_eq!(ec.id, dirs[2].volume_id);
    // mode serialises as an octal string
    let json = serde_json::to_value(&dirs[0]).unwrap();
    assert_eq!(json["mode"], "2775");
    assert_eq!(serde_json::from_value::<BrickDirStat>(json).unwrap(), dirs[0]);
}

#[test]
fn handwritten_glusterd_store_matches_cli() {
    let base = "handwritten/glusterd";
    let info = parse_glusterd_info(&read(&format!("{base}/glusterd.info"))).unwrap();
    assert_eq!(info.uuid, "f5a2224a-0ce0-4d28-9ac9-cd0ebd27b4f2");
    assert_eq!(info.operating_version, Some(100000));
    let p =
        parse_glusterd_peer(&read(&format!("{base}/peers/6c34cf6c-84fa-49ef-9161-2c4e93f8d5a3"))).unwrap();
    assert_eq!(p.hostnames, ["192.168.231.13", "node3.lab.example"]);
    assert_eq!((p.state, p.state_str.as_deref(), p.connected), (Some(3), Some("Peer in Cluster"), None));
    // peers in the store = peers in `peer status`
    let cli_peers = parse_peer_status_xml(&lab("node1", "peer-status.xml")).unwrap();
    assert!(cli_peers.iter().any(|c| c.uuid == p.uuid && c.hostname == p.hostname));

    let cli = parse_volume_info_xml(&lab("node1", "volume-info.xml")).unwrap();
    let vname = "vol_36b06a8920d1a0325d9630227b9a2e71";
    let vi = parse_glusterd_volinfo(&read(&format!("{base}/vols/{vname}/info"))).unwrap();
    assert_eq!((vi.type_code, vi.brick_count, vi.status_code), (4, 3, 1));
    assert_eq!(vi.bricks.len(), 3);
    assert_eq!(vi.bricks[0].encoded_path, "-var-lib-heketi-mounts-vg_3d2b9a3667cc1752de27660b01520627-brick_7001bd396f96b697154d9e504b3774fa-brick");
    assert!(!vi.other.contains_key("password") && vi.other.contains_key("snap-max-hard-limit"));
    let brick_file = parse_glusterd_brickinfo(&read(&format!(
        "{base}/vols/{vname}/bricks/192.168.231.11:-var-lib-heketi-mounts-vg_af929a91f4873115cd425ec38f138999-brick_88e81a3096225b522a1a90e1248526a8-brick"
    )))
    .unwrap();
    assert_eq!(brick_file.listen_port, Some(58019));
    assert_eq!(brick_file.mount_dir.as_deref(), Some("/brick"));
    assert_eq!(brick_file.other.get("brick-fsid").map(String::as_str), Some("64769"));
    let mut from_store = vi.to_volume(vname, &[brick_file]);
    let mut from_cli = cli.iter().find(|v| v.name == vname).unwrap().clone();
    // the store's brick file supplied one host UUID; the CLI has all of them
    assert_eq!(from_store.bricks[2].host_uuid.as_deref(), Some("f5a2224a-0ce0-4d28-9ac9-cd0ebd27b4f2"));
    for b in from_store.bricks.iter_mut().chain(from_cli.bricks.iter_mut()) {
        b.host_uuid = None;
    }
    from_cli.snapshot_count = None; // not in the store
    assert_eq!(from_store, from_cli);

    // arbiter distributed-replicate: type 2 + 6 bricks → Distributed-Replicate, arbiter positions
    let vname = "vol_c7aec41cfe3b3a80343ce95d9cbce899";
    let vi = parse_glusterd_volinfo(&read(&format!("{base}/vols/{vname}/info"))).unwrap();
    assert_eq!(vi.arbiter_count, Some(1));
    let mut from_store = vi.to_volume(vname, &[]);
    let mut from_cli = cli.iter().find(|v| v.name == vname).unwrap().clone();
    for b in from_cli.bricks.iter_mut() {
        b.host_uuid = None;
    }
    from_cli.snapshot_count = None;
    assert_eq!(from_store.vol_type, Some(VolumeType::DistributedReplicate));
    assert_eq!(from_store, from_cli);
    from_store.options.clear();
    assert_ne!(from_store, from_cli);
}

#[test]
fn gluster_block_json_shapes() {
    let text = public("gluster-block/info-json-shapes-heketi-tests.txt");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(lines.len(), 18);
    // first line: version check failure
    let err = parse_gluster_block_info_json(lines[0]).unwrap_err();
    assert!(
        matches!(&err, ParseError::GlusterBlock { err_code: 255, message, .. } if message.starts_with("Version check failed"))
    );
    let info = parse_gluster_block_info_json(lines[1]).unwrap();
    assert_eq!((info.name.as_str(), info.volume.as_deref(), info.ha), ("fakeIt", Some("fakeIt"), Some(3)));
    assert_eq!(info.size.unwrap().bytes, 1 << 30);
    assert_eq!(info.size_text.as_deref(), Some("1.0 GiB"));
    assert_eq!(info.exported_on, ["HOST1", "HOST2", "HOST3"]);
    assert_eq!(info.password, None, "empty password = no auth");
    assert_eq!(info.iqn().as_deref(), Some("iqn.2016-12.org.gluster-block:fakeIt"));
    let partial = parse_gluster_block_info_json(lines[7]).unwrap();
    assert_eq!(partial.size.unwrap().bytes, 4 << 30);
    assert_eq!(partial.resize_failed_on.get("HOST2").map(String::as_str), Some("3.0 GiB"));
    assert_eq!(partial.resize_failed_on.len(), 2);
    // resize failures without errMsg still become errors naming the hosts
    let err = parse_gluster_block_info_json(lines[16]).unwrap_err();
    assert!(matches!(&err, ParseError::GlusterBlock { message, .. } if message.contains("HOST3")));
    // success object of `modify` is not an info
    assert!(matches!(parse_gluster_block_info_json(lines[10]), Err(ParseError::Missing { .. })));
    let infos = lines.iter().filter(|l| parse_gluster_block_info_json(l).is_ok()).count();
    assert_eq!(infos, 9);
    // `list --json` shape from the trailing comment
    let list_json = text.lines().last().unwrap().split_once("): ").unwrap().1;
    assert_eq!(parse_gluster_block_list_json(list_json).unwrap(), ["name1", "name2"]);
}

#[test]
fn gluster_block_text_versions() {
    let text = public("gluster-block/info-list-text-versions.txt");
    let old = parse_gluster_block_info_text(&between(&text, "gluster-block info rep/bd1", "# ---")).unwrap();
    assert_eq!((old.name.as_str(), old.volume.as_deref()), ("bd1", Some("rep")));
    assert_eq!(old.size, Some(ByteSize::exact(53687091200)), "0.2 printed bytes");
    assert_eq!(old.exported_on, ["10.16.154.60", "10.16.154.45", "10.16.154.63"]);
    assert_eq!(old.gbid.as_deref(), Some("4ddce603-c1cc-496e-a0ba-d4f537c26422"));
    let new = parse_gluster_block_info_text(&between(
        &text,
        "# gluster-block info hosting-volume/block-volume",
        "",
    ))
    .unwrap();
    assert_eq!(new.name, "block-volume");
    assert_eq!(new.size.unwrap().bytes, 1 << 30);
    assert!(new.size.unwrap().approximate);
    assert_eq!(new.exported_on.len(), 3);
    assert_eq!(new.ha, Some(3));
}

/// A NodeReport assembled from lab node1's captures survives a JSON round trip.
#[test]
fn lab_node_report_round_trip() {
    let node = "node1";
    let mut r = NodeReport::new(lab(node, "hostname.txt").trim(), "0.1.0-test", 1_732_600_000);
    r.identity.addresses = vec!["192.168.231.11".into()];
    let mut lvm = parse_lvm_json(&lab(node, "vgs.json")).unwrap();
    lvm.merge(parse_lvm_json(&lab(node, "pvs-units-k.json")).unwrap());
    lvm.merge(parse_lvm_json(&lab(node, "lvs.json")).unwrap());
    lvm.resolve();
    r.lvm = lvm;
    for s in [Source::Vgs, Source::Pvs, Source::Lvs] {
        r.record(s, SourceStatus::Ok, 40).warnings = vec![lab(node, "vgs.json.stderr").trim().to_string()];
    }
    r.block_devices = parse_lsblk_json(&lab(node, "lsblk.json")).unwrap();
    r.gluster.volumes = parse_volume_info_xml(&lab(node, "volume-info.xml")).unwrap();
    r.gluster.volume_status = parse_volume_status_xml(&lab(node, "volume-status.xml")).unwrap();
    r.gluster.peers = parse_peer_status_xml(&lab(node, "peer-status.xml")).unwrap();
    r.gluster.pool = parse_pool_list_xml(&lab(node, "pool-list.xml")).unwrap();
    r.identity.gluster_uuid =
        r.gluster.pool.iter().find(|p| p.hostname == "localhost").map(|p| p.uuid.clone());
    r.mounts = parse_proc_mounts(&lab(node, "proc-mounts.txt")).unwrap();
    r.heketi_fstab = parse_fstab(&lab(node, "heketi-fstab.txt")).unwrap();
    r.bricks = facts(node);
    let busy = parse_volume_info_xml("<cliOutput><opRet>-1</opRet><opErrno>30802</opErrno><opErrstr>Another transaction is in progress</opErrstr></cliOutput>").unwrap_err();
    r.record(Source::GlusterVolumeInfo, SourceStatus::from_parse_error(&busy), 1200);
    r.record(Source::GlusterBlock, SourceStatus::NotInstalled { tool: "gluster-block".into() }, 0);
    r.raw.insert(
        Source::Hostname,
        RawOutput { stdout: "node1\n".into(), stderr: String::new(), exit_code: Some(0) },
    );

    let json = r.to_json().unwrap();
    let back = NodeReport::from_json(&json).unwrap();
    assert_eq!(back, r);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["sources"]["gluster-volume-info"]["status"]["state"], "failed");
    assert_eq!(v["sources"]["gluster-volume-info"]["status"]["retryable"], true);
    assert_eq!(v["sources"]["gluster-block"]["status"]["state"], "not_installed");
    assert_eq!(v["lvm"]["lvs"][6]["role"], "pool_metadata_spare");
    assert_eq!(v["gluster"]["volumes"][0]["vol_type"], "Replicate");
    assert!(
        r.source_ok(Source::Lvs) && !r.source_ok(Source::GlusterVolumeInfo) && !r.source_ok(Source::Lsblk)
    );
    // a newer schema is refused
    let newer = json.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1);
    assert!(matches!(NodeReport::from_json(&newer), Err(ReportError::Schema { found: 99, supported: 1 })));
    assert!(matches!(NodeReport::from_json("{"), Err(ReportError::Json(_))));
}
