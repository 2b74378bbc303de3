//! gluster samples (XML, text) and the lab's XML-vs-text equality.

use super::{between, lab, public, LAB_NODES};
use crate::inventory::naming::{parse_brick_device, parse_brick_path, BrickPathKind};
use crate::inventory::*;

fn vol<'a>(vols: &'a [GlusterVolume], name: &str) -> &'a GlusterVolume {
    vols.iter().find(|v| v.name == name).unwrap_or_else(|| panic!("no volume {name}"))
}

fn counts(v: &GlusterVolume) -> [u32; 6] {
    [
        v.brick_count,
        v.distribute_count,
        v.replica_count,
        v.arbiter_count,
        v.disperse_count,
        v.redundancy_count,
    ]
}

fn arbiter_flags(v: &GlusterVolume) -> Vec<bool> {
    v.bricks.iter().map(|b| b.arbiter).collect()
}

/// Text output has no host UUIDs; everything else must match the XML.
fn without_host_uuids(mut vols: Vec<GlusterVolume>) -> Vec<GlusterVolume> {
    for v in &mut vols {
        for b in &mut v.bricks {
            b.host_uuid = None;
        }
    }
    vols
}

#[test]
fn lab_xml_and_text_volume_info_are_equal() {
    for node in LAB_NODES {
        let xml = parse_volume_info_xml(&lab(node, "volume-info.xml")).unwrap();
        let txt = parse_volume_info_text(&lab(node, "volume-info.txt")).unwrap();
        assert_eq!(xml.len(), txt.len(), "{node}");
        assert!(xml.iter().all(|v| v.bricks.iter().all(|b| b.host_uuid.is_some())));
        assert!(txt.iter().all(|v| v.bricks.iter().all(|b| b.host_uuid.is_none())));
        assert_eq!(without_host_uuids(xml), txt, "{node}");
    }
}

#[test]
fn lab_volume_layouts() {
    let vols = parse_volume_info_xml(&lab("node1", "volume-info.xml")).unwrap();
    assert_eq!(vols.len(), 11);
    // Disperse 1 x (2 + 1): replicaCount 1, disperse 3, redundancy 1
    let ec = vol(&vols, "vol_36b06a8920d1a0325d9630227b9a2e71");
    assert_eq!(ec.vol_type, Some(VolumeType::Disperse));
    assert_eq!(counts(ec), [3, 1, 1, 0, 3, 1]);
    assert_eq!(ec.status, Some(VolumeState::Started));
    // 3 x 3: gluster 10 reports distCount 3 (number of subvolumes)
    let dr = vol(&vols, "vol_3b2951af8e4cd2e1f6ef218fee048fc0");
    assert_eq!(dr.vol_type, Some(VolumeType::DistributedReplicate));
    assert_eq!(counts(dr), [9, 3, 3, 0, 0, 0]);
    // 2 x (2 + 1) arbiter: the third brick of each set
    let arb = vol(&vols, "vol_c7aec41cfe3b3a80343ce95d9cbce899");
    assert_eq!(counts(arb), [6, 2, 3, 1, 0, 0]);
    assert_eq!(arbiter_flags(arb), [false, false, true, false, false, true]);
    assert_eq!(arb.options.get("user.heketi.arbiter").map(String::as_str), Some("true"));
    assert_eq!(arb.heketi_id(), Some("c7aec41cfe3b3a80343ce95d9cbce899"));
    // a volume with a requested name: the heketi id comes from the option only
    let named = vol(&vols, "k8s_default_mysql-data_4f17514c-3869-4374-b9de-2da123f591ff");
    assert_eq!(named.heketi_id(), Some("1d13a801cbb494c7ced2de5399d61bee"));
    assert_eq!(named.id.as_deref(), Some("1e50d27b-f70e-4a23-8f97-6dfda3546da7"));
    assert_eq!(named.status, Some(VolumeState::Created));
    assert_eq!(named.snapshot_count, Some(0));
    assert_eq!(named.transport, Some(Transport::Tcp));
    let b = &named.bricks[2];
    assert_eq!(b.host, "192.168.231.11");
    assert_eq!(b.host_uuid.as_deref(), Some("f5a2224a-0ce0-4d28-9ac9-cd0ebd27b4f2"));
    let p = parse_brick_path(&b.path).unwrap();
    assert_eq!(
        (p.device_id.as_str(), p.brick_id.as_str()),
        ("a950666d8a4996efb447c0ceb48438b5", "0c0d8f2c7145813fcf0dc9f78c30d770")
    );
    assert_eq!(p.kind, BrickPathKind::BrickDir);
    // every heketi volume carries user.heketi.id
    assert!(vols.iter().all(|v| v.heketi_id().is_some()));
    let opts = vol(&vols, "vol_61366b43d78fb442a22795fec3adc540").options.len();
    assert_eq!(opts, 33);
}

#[test]
fn lab_drift_foreign_and_rogue_volumes() {
    let vols = parse_volume_info_xml(&lab("after-live-drift/node1", "volume-info.xml")).unwrap();
    // M2: admin-made volume without user.heketi.id, bricks outside heketi's tree
    let manual = vol(&vols, "manual_tmp_372");
    assert_eq!(manual.heketi_id(), None);
    assert!(manual.bricks.iter().all(|b| parse_brick_path(&b.path).is_none()));
    // M1: heketi-made volume unknown to the DB
    assert_eq!(
        vol(&vols, "vol_1027c4d1c386bbc4cd613e30d8f16adf").heketi_id(),
        Some("1027c4d1c386bbc4cd613e30d8f16adf")
    );
    // M4: gluster volume deleted
    assert!(!vols.iter().any(|v| v.name.starts_with("k8s_default_mysql")));
}

#[test]
fn lab_peers_and_pool() {
    for node in LAB_NODES {
        let peers = parse_peer_status_xml(&lab(node, "peer-status.xml")).unwrap();
        let pool = parse_pool_list_xml(&lab(node, "pool-list.xml")).unwrap();
        assert_eq!(peers.len(), 2, "{node}");
        assert_eq!(pool.len(), 3, "{node}");
        assert!(peers.iter().all(|p| p.connected == Some(true) && p.state == Some(3)));
        assert!(peers.iter().all(|p| p.state_str.as_deref() == Some("Peer in Cluster")));
        let local: Vec<&Peer> = pool.iter().filter(|p| p.hostname == "localhost").collect();
        assert_eq!(local.len(), 1, "{node}");
        assert!(!peers.iter().any(|p| p.uuid == local[0].uuid), "peer status omits the local node");
    }
    let pool = parse_pool_list_xml(&lab("node1", "pool-list.xml")).unwrap();
    let local = pool.iter().find(|p| p.hostname == "localhost").unwrap();
    assert_eq!(local.uuid, "f5a2224a-0ce0-4d28-9ac9-cd0ebd27b4f2");
    assert_eq!(local.state, None, "pool list has no state");
}

#[test]
fn lab_volume_status() {
    let st = parse_volume_status_xml(&lab("node1", "volume-status.xml")).unwrap();
    let ec = st.iter().find(|s| s.volume == "vol_36b06a8920d1a0325d9630227b9a2e71").unwrap();
    assert_eq!(ec.bricks.len(), 3);
    assert_eq!(ec.daemons.len(), 3);
    let b = &ec.bricks[0];
    assert_eq!(b.host, "192.168.231.12");
    assert!(b.online);
    assert_eq!((b.port, b.rdma_port, b.pid), (Some(54626), None, Some(249)));
    assert_eq!(b.peer_id.as_deref(), Some("643e2ec8-d103-4239-9713-d85bfa843e7c"));
    let shd = &ec.daemons[0];
    assert_eq!((shd.name.as_str(), shd.host.as_str()), ("Self-heal Daemon", "localhost"));
    assert_eq!(shd.pid, Some(210));
    let dr = st.iter().find(|s| s.volume == "vol_3b2951af8e4cd2e1f6ef218fee048fc0").unwrap();
    assert_eq!(dr.bricks.len(), 9);
    // only started volumes are listed
    let infos = parse_volume_info_xml(&lab("node1", "volume-info.xml")).unwrap();
    let started: Vec<&str> =
        infos.iter().filter(|v| v.status == Some(VolumeState::Started)).map(|v| v.name.as_str()).collect();
    let listed: Vec<&str> = st.iter().map(|s| s.volume.as_str()).collect();
    assert_eq!(listed, started);
}

#[test]
fn xml_arbiter_and_stopped_rdma_vdsm() {
    let vols =
        parse_volume_info_xml(&public("gluster/volume-info-xml-arbiter-started-plus-stopped-rdma-vdsm.txt"))
            .unwrap();
    assert_eq!(vols.len(), 2);
    let music = &vols[0];
    assert_eq!(music.name, "music");
    assert_eq!(counts(music), [2, 1, 2, 1, 0, 0]);
    assert_eq!(arbiter_flags(music), [true, true], "flags as given by the (hand-edited) fixture");
    assert_eq!(music.bricks[0].path, "/tmp/m_b1");
    assert_eq!(music.bricks[0].host_uuid.as_deref(), Some("04eb591b-2fd3-489e-a22c-5d342a3c713d"));
    assert_eq!(music.options.get("auth.allow").map(String::as_str), Some("*"));
    assert_eq!(music.snapshot_count, None, "no <snapshotCount> in gluster 3.7");
    let t1 = &vols[1];
    assert_eq!(t1.status, Some(VolumeState::Stopped));
    assert_eq!(t1.vol_type, Some(VolumeType::Distribute));
    assert_eq!(t1.transport, Some(Transport::Rdma));
    assert_eq!(counts(t1), [1, 1, 1, 0, 0, 0]);
    assert!(t1.options.is_empty());
}

#[test]
fn xml_old_dist_count_semantics_are_ignored() {
    // gluster 3.x: <distCount> = bricks per subvolume (3 for 1 x 3)
    let v = parse_volume_info_xml(&public("gluster/volume-info-xml-heketi-replica3-brickmux-xlators.txt"))
        .unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(counts(&v[0]), [3, 1, 3, 0, 0, 0]);
    assert_eq!(v[0].options.get("cluster.brick-multiplex").map(String::as_str), Some("on"));
    let ids: Vec<(String, String)> = v[0]
        .bricks
        .iter()
        .map(|b| {
            let p = parse_brick_path(&b.path).unwrap();
            (p.device_id, p.brick_id)
        })
        .collect();
    assert_eq!(
        ids[1],
        ("f6750523fe102519c3b6e1b3c01d5d57".to_string(), "2608554e90f7501028c9394f08dca307".to_string())
    );
    assert_eq!(v[0].bricks[2].host, "10.70.46.21");
    assert_eq!(v[0].bricks[2].host_uuid.as_deref(), Some("fadb7137-b4b3-4b9b-8179-a528e3b1bf35"));
    assert_eq!(v[0].heketi_id(), None, "pre-v9 heketi: no user.heketi.id");

    let v =
        parse_volume_info_xml(&public("gluster/volume-info-xml-replica4-gluster3x-exporter.txt")).unwrap();
    assert_eq!(v.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["gv_cluster", "gv_test"]);
    for x in &v {
        assert_eq!(counts(x), [4, 1, 4, 0, 0, 0]);
    }
    assert_eq!(v[1].options.len(), 7);
    // <hostUuid> wins over the (differently masked) uuid attribute
    assert_eq!(v[0].bricks[0].host_uuid.as_deref(), Some("a049c424-ffff-4436-abd4-ef3fcfffffa"));

    // gluster >= 9: <distCount> = number of subvolumes (1 for 1 x 3), no <stripeCount>
    let v =
        parse_volume_info_xml(&public("gluster/volume-info-xml-replica3-created-gluster9plus.txt")).unwrap();
    assert_eq!(counts(&v[0]), [3, 1, 3, 0, 0, 0]);
    assert_eq!(v[0].status, Some(VolumeState::Created));
    assert_eq!(v[0].stripe_count, 1);
    assert_eq!(
        v[0].bricks.iter().map(|b| b.path.as_str()).collect::<Vec<_>>(),
        ["/data/gfs/vol1/b1", "/data/gfs/vol1/b2", "/data/gfs/vol1/b3"]
    );
}

#[test]
fn xml_volume_list() {
    let names = parse_volume_list_xml(&public("gluster/volume-list-xml.txt")).unwrap();
    assert_eq!(names, ["gv_cluster", "gv_test"]);
}

#[test]
fn xml_volume_status_detail() {
    let st = parse_volume_status_xml(&public("gluster/volume-status-all-detail-xml.txt")).unwrap();
    assert_eq!(st.len(), 2);
    assert!(st.iter().all(|s| s.bricks.len() == 4 && s.daemons.is_empty()));
    let b = &st[0].bricks[3];
    assert_eq!(b.host, "node4.example.local");
    assert_eq!(b.path, "/mnt/gluster/gv_test");
    assert_eq!((b.port, b.pid), (Some(49153), Some(1312)));
    assert_eq!((b.size_total, b.size_free), (Some(20507914240), Some(19517566976)));
    assert_eq!(b.device.as_deref(), Some("/dev/loop0"));
    assert_eq!(b.fs_name.as_deref(), Some("ext4"));
    assert_eq!(b.block_size, Some(4096));
}

#[test]
fn xml_volume_status_excerpt_heketi_devices() {
    let text = public("gluster/volume-status-detail-xml-heketi-brick-devices.txt");
    // the excerpt is cut at both ends: not XML on its own
    assert!(matches!(
        parse_volume_status_xml(&text),
        Err(ParseError::Xml { .. } | ParseError::GlusterCli { .. })
    ));
    // re-wrap the one complete <node> tail in the documented envelope and parse it
    let end = text.find("</node>").unwrap() + "</node>".len();
    let wrapped = format!(
        "<cliOutput><opRet>0</opRet><opErrno>0</opErrno><volStatus><volumes><volume><volName>x</volName><node><hostname>?</hostname>{}</volume></volumes></volStatus></cliOutput>",
        &text[..end]
    );
    let st = parse_volume_status_xml(&wrapped).unwrap();
    let b = &st[0].bricks[0];
    let from_path = parse_brick_path(&b.path).unwrap();
    let from_dev = parse_brick_device(b.device.as_deref().unwrap()).unwrap();
    assert_eq!((from_path.device_id.clone(), from_path.brick_id.clone()), from_dev);
    assert_eq!(from_dev.0, "5439445ef8576a47c1129ab2b8bbee17");
    assert_eq!(b.port, Some(49212));
    assert_eq!(b.inodes_total, Some(1048576));
    assert!(b.mount_options.as_deref().unwrap().contains("nouuid"));
}

#[test]
fn xml_peers() {
    let peers = parse_peer_status_xml(&public("gluster/peer-status-xml-3peers-hostnames.txt")).unwrap();
    assert_eq!(peers.len(), 3);
    assert_eq!(peers[0].uuid, "f6fa44e7-5139-4f6e-8404-6d2ce7d66231");
    assert_eq!(peers[0].hostnames, ["node2.example.local"]);
    assert_eq!(peers[2].hostname, "node3.example.local");
    let pool = parse_pool_list_xml(&public("gluster/pool-list-xml-localhost.txt")).unwrap();
    assert_eq!(pool.len(), 1);
    assert_eq!((pool[0].hostname.as_str(), pool[0].connected), ("localhost", Some(true)));
    assert_eq!(pool[0].uuid, "1b58cfc0-15ed-40b8-be28-f7c341250777");
}

#[test]
fn text_disperse_xosan() {
    let v =
        parse_volume_info_text(&public("gluster/volume-info-text-disperse-many-options-xosan.txt")).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].vol_type, Some(VolumeType::Disperse));
    assert_eq!(counts(&v[0]), [3, 1, 1, 0, 3, 1]);
    assert_eq!(v[0].id.as_deref(), Some("1d4d0e57-8b6b-43f9-9d40-c48be1df7548"));
    // 17 options (the sample's SOURCE note says 19)
    assert_eq!(v[0].options.len(), 17);
    assert_eq!(v[0].options.get("features.shard-block-size").map(String::as_str), Some("64MB"));
    assert_eq!(v[0].bricks[1].host, "192.168.0.202");
}

#[test]
fn text_arbiter_2x2plus1() {
    let v = parse_volume_info_text(&public("gluster/volume-info-text-distrep-arbiter-2x2plus1.txt")).unwrap();
    let t = &v[0];
    assert_eq!(t.vol_type, Some(VolumeType::DistributedReplicate));
    assert_eq!(counts(t), [6, 2, 3, 1, 0, 0]);
    assert_eq!(arbiter_flags(t), [false, false, true, false, false, true]);
    assert_eq!(t.bricks[2].path, "/bricks/brick", "' (arbiter)' stripped");
    assert_eq!(t.status, Some(VolumeState::Created));
    assert_eq!(t.snapshot_count, None);
    // "Options Reconfigured  :" with stray spaces
    assert_eq!(t.options.len(), 2);
}

#[test]
fn text_two_volumes_rhgs() {
    let v = parse_volume_info_text(&public("gluster/volume-info-text-two-replica3-many-options-rhgs.txt"))
        .unwrap();
    assert_eq!(v.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["test_vol", "test_vol_2"]);
    for x in &v {
        assert_eq!(counts(x), [3, 1, 3, 0, 0, 0]);
        assert_eq!(x.options.len(), 18);
        assert_eq!(x.options.get("cluster.shd-max-threads").map(String::as_str), Some("8"));
    }
    assert_eq!(v[1].bricks[2].path, "/home/brick2");
}

#[test]
fn text_peer_status_and_daemon_down() {
    let text = public("gluster/peer-status-text-disconnected-and-daemon-down.txt");
    let (ok, down) = text.split_once("# --- output when glusterd is not running").unwrap();
    let peers = parse_peer_status_text(ok).unwrap();
    assert_eq!(peers.len(), 3);
    assert_eq!(peers[0].hostname, "versegluster1.verse.loc");
    assert_eq!(peers[0].state_str.as_deref(), Some("Peer in Cluster"));
    assert_eq!(peers[0].connected, Some(true));
    assert_eq!(peers[2].connected, Some(false));
    // a masked, malformed UUID is kept as-is (parsers do not validate UUID shape)
    assert_eq!(peers[2].uuid, "4673e3-5e95-4c02-b9bb-2823483e067bb3");
    assert!(!is_uuid(&peers[2].uuid));
    let down = down.split_once('\n').unwrap().1;
    let err = parse_peer_status_text(down).unwrap_err();
    assert!(
        matches!(&err, ParseError::GlusterCli { message, .. } if message.starts_with("Connection failed"))
    );
    assert!(!err.is_retryable());
}

#[test]
fn text_pool_list_and_peer_status_docs() {
    let text = public("gluster/pool-list-and-peer-status-text-4nodes.txt");
    let peers = parse_peer_status_text(&between(&text, "gluster peer status", "gluster pool list")).unwrap();
    assert_eq!(
        peers.iter().map(|p| p.hostname.as_str()).collect::<Vec<_>>(),
        ["server2", "server3", "server4"]
    );
    let pool = parse_pool_list_text(&between(&text, "gluster pool list", "")).unwrap();
    assert_eq!(pool.len(), 4);
    assert_eq!(
        (pool[0].uuid.as_str(), pool[0].hostname.as_str()),
        ("d18d36c5-533a-4541-ac92-c471241d5418", "localhost")
    );
    // the same peers in both views
    for p in &peers {
        assert!(pool.iter().any(|q| q.uuid == p.uuid && q.hostname == p.hostname));
    }
}

#[test]
fn gluster_errors() {
    let busy = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<cliOutput>\n  <opRet>-1</opRet>\n  <opErrno>30802</opErrno>\n  <opErrstr>Another transaction is in progress for vol_x. Please try again after some time.</opErrstr>\n</cliOutput>\n";
    let err = parse_volume_info_xml(busy).unwrap_err();
    assert!(err.is_retryable());
    assert!(
        matches!(&err, ParseError::GlusterOp { op_errno: 30802, message, .. } if message.contains("Another transaction"))
    );
    // the same message printed on stdout instead of XML
    let err = parse_volume_info_xml(
        "Another transaction is in progress for vol_x. Please try again after some time.\n",
    )
    .unwrap_err();
    assert!(matches!(err, ParseError::GlusterCli { .. }) && err.is_retryable());
    let err = parse_volume_info_text("Volume vol_x does not exist\n").unwrap_err();
    assert!(matches!(err, ParseError::GlusterCli { .. }) && !err.is_retryable());
    // opRet 0 with a non-zero opErrno is success (lesson 4)
    let ok = "<cliOutput><opRet>0</opRet><opErrno>2</opErrno><opErrstr/><volInfo><volumes><count>0</count></volumes></volInfo></cliOutput>";
    assert_eq!(parse_volume_info_xml(ok).unwrap(), vec![]);
    // a non-retryable failure
    let err = parse_peer_status_xml("<cliOutput><opRet>-1</opRet><opErrno>0</opErrno><opErrstr>peer status: failed</opErrstr></cliOutput>").unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(parse_volume_info_text("No volumes present\n").unwrap(), vec![]);
    // element order and unknown elements do not matter
    let shuffled = "<cliOutput><volInfo><volumes><volume><bricks><brick><isArbiter>0</isArbiter><name>h:/b</name><future/></brick></bricks><replicaCount>1</replicaCount><name>v</name><newThing>1</newThing></volume></volumes></volInfo><opErrno>0</opErrno><opRet>0</opRet></cliOutput>";
    let v = parse_volume_info_xml(shuffled).unwrap();
    assert_eq!((v[0].name.as_str(), v[0].brick_count, v[0].distribute_count), ("v", 1, 1));
    assert_eq!(v[0].vol_type, None);
}

#[test]
fn text_legacy_stripe_layout() {
    let text = "Volume Name: vol_replica-strip\nType: Striped-Replicate\nVolume ID: 0a3458bc-a345-42a0-b57a-4c34a93cd4af\nStatus: Started\nNumber of Bricks: 1 x 2 x 2 = 4\nTransport-type: tcp\nBricks:\nBrick1: node01:/glusterfs/replica-strip\nBrick2: node02:/glusterfs/replica-strip\nBrick3: node03:/glusterfs/replica-strip\nBrick4: node04:/glusterfs/replica-strip\n";
    let v = parse_volume_info_text(text).unwrap();
    assert_eq!((v[0].stripe_count, v[0].replica_count, v[0].distribute_count), (2, 2, 1));
    assert_eq!(v[0].subvolume_size(), 4);
}

#[test]
fn text_huge_counts_do_not_overflow() {
    let text = "Volume Name: v\nType: Replicate\nNumber of Bricks: 1 x (4294967295 + 4294967295) = 4294967295\nBricks:\nBrick1: h:/b\n";
    let v = parse_volume_info_text(text).unwrap();
    assert_eq!(v[0].replica_count, u32::MAX);
    assert_eq!(v[0].distribute_count, 1);
    assert!(parse_volume_info_text("Volume Name: v\nNumber of Bricks: 1 x 99999999999 = 3\n").is_err());
}
