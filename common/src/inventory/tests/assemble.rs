//! Raw outputs → NodeReport: lab captures read as capture directories, per-source failure
//! isolation (garbage, empty, truncated, timed out, missing tool), the glusterd-store fallback
//! and the capture write/read round trip.

use std::path::{Path, PathBuf};

use super::{corpus_dir, lab, read};
use crate::inventory::assemble::{parse_ip_addresses, ALL_SOURCES};
use crate::inventory::capture::{to_capture, MANIFEST_FILE};
use crate::inventory::*;

fn lab_dir(node: &str) -> PathBuf {
    corpus_dir().join("lab-debian12").join(node)
}

fn status(r: &NodeReport, s: Source) -> &SourceStatus {
    &r.sources.get(&s).unwrap_or_else(|| panic!("no record for {s:?}")).status
}

fn failed_with(r: &NodeReport, s: Source, needle: &str) {
    match status(r, s) {
        SourceStatus::Failed { error, .. } => assert!(error.contains(needle), "{s:?}: {error}"),
        other => panic!("{s:?}: expected failure containing {needle:?}, got {other:?}"),
    }
}

/// Writes `files` (relative path → contents) into a fresh temp dir.
fn temp_capture(files: &[(String, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn lab_node1_capture_dir_gives_the_expected_report() {
    let cap = read_capture_dir(&lab_dir("node1")).unwrap();
    // pvs-units-k.json (exact) is preferred over pvs.json (human units)
    assert_eq!(cap.raw[&Source::Pvs].command, "pvs --reportformat json --units k");
    assert_eq!(cap.raw[&Source::Lsblk].format, Some(Format::LsblkJson));
    assert_eq!(cap.raw[&Source::GlusterVolumeInfo].format, Some(Format::GlusterVolumeInfoXml));
    let r = cap.report(false);

    assert_eq!(r.identity.hostname, "node1");
    assert_eq!(r.identity.addresses, ["192.168.231.11"], "from the manifest's ip");
    for s in [
        Source::Hostname,
        Source::Vgs,
        Source::Pvs,
        Source::Lvs,
        Source::Lsblk,
        Source::GlusterVolumeInfo,
        Source::GlusterVolumeStatus,
        Source::GlusterPeerStatus,
        Source::GlusterPoolList,
        Source::ProcMounts,
        Source::HeketiFstab,
        Source::BrickDirs,
    ] {
        assert!(r.source_ok(s), "{s:?}: {:?}", r.sources.get(&s));
    }
    // not in the lab capture: recorded as not collected
    for s in [Source::Addresses, Source::GlusterdInfo, Source::GlusterdStore, Source::GlusterBlock] {
        assert!(matches!(status(&r, s), SourceStatus::Skipped { .. }), "{s:?}");
    }
    assert_eq!(r.sources.len(), ALL_SOURCES.len());
    // lvm's stderr warning is kept on the source, the command line too
    let lvs = &r.sources[&Source::Lvs];
    assert!(lvs.warnings.iter().any(|w| w.contains("Activation disabled")), "{:?}", lvs.warnings);
    assert!(lvs.command.as_deref().unwrap().starts_with("lvs -a --reportformat json"));

    // VGs / PVs / LVs
    let vgs: Vec<&str> = r.lvm.vgs.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(vgs, ["vg_a950666d8a4996efb447c0ceb48438b5", "vg_af929a91f4873115cd425ec38f138999"]);
    let vg = r.lvm.vg("vg_a950666d8a4996efb447c0ceb48438b5").unwrap();
    assert_eq!(vg.size.unwrap().bytes, 524_152_832 * 1024);
    assert_eq!(vg.pvs, ["/dev/loop100"], "resolved from pvs");
    assert_eq!(r.lvm.pvs.len(), 2);
    assert!(!r.lvm.pvs[0].size.unwrap().approximate);
    assert_eq!(
        r.lvm.lvs,
        parse_lvs_json(&lab("node1", "lvs.json"))
            .unwrap()
            .into_iter()
            .map(|mut lv| {
                // resolve() fills pool sizes from the hidden sub-LVs
                if let Some(x) = r.lvm.lv(&lv.vg, &lv.name) {
                    lv.data_size = x.data_size;
                    lv.metadata_size = x.metadata_size;
                }
                lv
            })
            .collect::<Vec<_>>()
    );
    let bricks_lvs = r.lvm.lvs.iter().filter(|lv| lv.name.starts_with("brick_")).count();
    assert_eq!(bricks_lvs, 14);
    assert!(r.lvm.lvs.iter().any(|lv| lv.role == LvRole::ThinPool && lv.metadata_size.is_some()));
    assert!(r.lvm.warnings.is_empty(), "warnings live on the source records");

    // block devices, gluster
    assert!(r.block_devices.iter().any(|d| d.name == "loop100"));
    assert_eq!(r.gluster.volumes.len(), 11);
    assert_eq!(
        r.gluster.volume_status.len(),
        parse_volume_status_xml(&lab("node1", "volume-status.xml")).unwrap().len()
    );
    assert_eq!(r.gluster.peers.len(), 2);
    assert_eq!(r.gluster.pool.len(), 3);
    let local = r.gluster.pool.iter().find(|p| p.hostname == "localhost").unwrap();
    assert_eq!(r.identity.gluster_uuid.as_deref(), Some(local.uuid.as_str()), "from pool list");

    // bricks: 14 mounted, in fstab, with a brick dir
    assert_eq!(r.bricks.len(), 14);
    assert!(r.bricks.iter().all(|b| b.mounted && b.in_fstab && b.brick_dir.is_some()));
    assert_eq!(r.heketi_fstab.len(), 14);
    assert!(r.mounts.iter().any(|m| m.mount_point == "/"));

    // and it survives the JSON round trip
    assert_eq!(NodeReport::from_json(&r.to_json().unwrap()).unwrap(), r);
}

#[test]
fn every_lab_node_reads_as_a_capture_dir() {
    for node in [
        "node1",
        "node2",
        "node3",
        "after-live-drift/node1",
        "after-live-drift/node2",
        "after-live-drift/node3",
    ] {
        let dir = lab_dir(node);
        if !dir.join(MANIFEST_FILE).exists() {
            continue;
        }
        let r = report_from_capture_dir(&dir, false).unwrap();
        let failed: Vec<_> = r
            .sources
            .iter()
            .filter(|(_, rec)| matches!(rec.status, SourceStatus::Failed { .. } | SourceStatus::TimedOut))
            .collect();
        assert!(failed.is_empty(), "{node}: {failed:?}");
        assert!(!r.lvm.vgs.is_empty() && !r.gluster.volumes.is_empty() && !r.bricks.is_empty(), "{node}");
    }
}

/// The lab's raw outputs with some sources broken: each broken source gets its own error and
/// everything else still arrives.
#[test]
fn broken_sources_fail_alone() {
    let mut raw = read_capture_dir(&lab_dir("node1")).unwrap().raw;
    let lvs_json = lab("node1", "lvs.json");
    // garbage
    raw.insert(Source::Vgs, RawSource::new("lvm vgs", RawOutcome::ok("this is not json")));
    // empty
    raw.insert(Source::Lsblk, RawSource::new("lsblk -J", RawOutcome::ok("")));
    // truncated mid-document, not flagged: the parser finds it
    raw.insert(Source::Lvs, RawSource::new("lvm lvs", RawOutcome::ok(&lvs_json[..lvs_json.len() / 2])));
    // truncated by the agent's cap: not parsed at all
    raw.insert(
        Source::GlusterVolumeStatus,
        RawSource::new(
            "gluster volume status",
            RawOutcome::Done {
                output: RawOutput { stdout: "<cliOutput>".into(), stderr: String::new(), exit_code: None },
                truncated: true,
            },
        ),
    );
    // gluster busy: XML with opRet -1, exit status 1
    raw.insert(
        Source::GlusterPeerStatus,
        RawSource::new(
            "gluster peer status",
            RawOutcome::Done {
                output: RawOutput {
                    stdout: "<cliOutput><opRet>-1</opRet><opErrno>30802</opErrno><opErrstr>Another transaction is in progress</opErrstr></cliOutput>".into(),
                    stderr: String::new(),
                    exit_code: Some(1),
                },
                truncated: false,
            },
        ),
    );
    raw.insert(
        Source::GlusterPoolList,
        RawSource::new(
            "gluster pool list",
            RawOutcome::TimedOut {
                output: RawOutput {
                    stdout: String::new(),
                    stderr: "waiting for glusterd\n".into(),
                    exit_code: None,
                },
            },
        ),
    );
    raw.insert(
        Source::GlusterBlock,
        RawSource::new("gluster-block", RawOutcome::NotInstalled { tool: "gluster-block".into() }),
    );
    raw.insert(
        Source::HeketiFstab,
        RawSource::new("/var/lib/heketi/fstab", RawOutcome::Error { error: "permission denied".into() }),
    );
    // binary junk with a failing exit status
    raw.insert(
        Source::ProcMounts,
        RawSource::new(
            "/proc/mounts",
            RawOutcome::Done {
                output: RawOutput {
                    stdout: "\u{0}\u{1}\u{2}".into(),
                    stderr: "boom\n".into(),
                    exit_code: Some(2),
                },
                truncated: false,
            },
        ),
    );

    let meta = ReportMeta { agent_version: "t".into(), collected_at: 1, ..Default::default() };
    let r = report_from_raw(&raw, &meta);
    failed_with(&r, Source::Vgs, "lvm json report");
    failed_with(&r, Source::Lsblk, "empty output");
    failed_with(&r, Source::Lvs, "lvm json report");
    failed_with(&r, Source::GlusterVolumeStatus, "truncated");
    failed_with(&r, Source::GlusterPeerStatus, "Another transaction is in progress");
    assert!(
        matches!(status(&r, Source::GlusterPeerStatus), SourceStatus::Failed { retryable: true, error } if error.starts_with("exit status 1"))
    );
    assert_eq!(status(&r, Source::GlusterPoolList), &SourceStatus::TimedOut);
    assert!(r.sources[&Source::GlusterPoolList].warnings.iter().any(|w| w.contains("waiting for glusterd")));
    assert!(
        matches!(status(&r, Source::GlusterBlock), SourceStatus::NotInstalled { tool } if tool == "gluster-block")
    );
    failed_with(&r, Source::HeketiFstab, "permission denied");
    failed_with(&r, Source::ProcMounts, "exit status 2 (boom)");

    // the rest still arrived
    assert!(
        r.source_ok(Source::Pvs) && r.source_ok(Source::GlusterVolumeInfo) && r.source_ok(Source::BrickDirs)
    );
    assert!(r.lvm.vgs.is_empty() && r.lvm.lvs.is_empty() && r.lvm.pvs.len() == 2);
    assert_eq!(r.gluster.volumes.len(), 11);
    assert!(r.gluster.peers.is_empty() && r.block_devices.is_empty());
    // brick facts without mounts/fstab: dirs known, mount state flagged as unknown
    assert_eq!(r.bricks.len(), 14);
    assert!(r.bricks.iter().all(|b| !b.mounted && !b.in_fstab && b.brick_dir.is_some()));
    assert!(r.sources[&Source::BrickDirs].warnings.iter().any(|w| w.contains("mount state unknown")));
}

#[test]
fn every_source_survives_garbage() {
    let junk = ["", "   \n", "garbage", "{\"report\": [", "<cliOutput>", "\u{feff}[]", "\u{0}\u{0}"];
    for j in junk {
        let raw: RawSources =
            ALL_SOURCES.iter().map(|s| (*s, RawSource::new("x", RawOutcome::ok(j)))).collect();
        let r = report_from_raw(&raw, &ReportMeta::default());
        assert_eq!(r.sources.len(), ALL_SOURCES.len(), "{j:?}");
    }
}

#[test]
fn glusterd_store_is_the_fallback_when_glusterd_is_down() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&lab_dir("node1"), tmp.path());
    copy_dir(&corpus_dir().join("handwritten/glusterd"), &tmp.path().join("glusterd"));
    // glusterd down: the CLI prints its connection error
    std::fs::write(
        tmp.path().join("volume-info.xml"),
        "Connection failed. Please check if gluster daemon is operational.\n",
    )
    .unwrap();
    let cap = read_capture_dir(tmp.path()).unwrap();
    assert_eq!(
        cap.raw[&Source::GlusterdStore].parts.len(),
        5,
        "{:?}",
        cap.raw[&Source::GlusterdStore].parts.keys()
    );
    let r = cap.report(false);
    failed_with(&r, Source::GlusterVolumeInfo, "gluster");
    assert!(r.source_ok(Source::GlusterdStore) && r.source_ok(Source::GlusterdInfo));
    let names: Vec<&str> = r.gluster.volumes.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["vol_36b06a8920d1a0325d9630227b9a2e71", "vol_c7aec41cfe3b3a80343ce95d9cbce899"]);
    assert!(r.sources[&Source::GlusterdStore]
        .warnings
        .iter()
        .any(|w| w.contains("volumes taken from the store")));
    assert_eq!(
        r.identity.gluster_uuid.as_deref(),
        Some("f5a2224a-0ce0-4d28-9ac9-cd0ebd27b4f2"),
        "glusterd.info wins"
    );
    // the CLI's peers are fine, so they are used
    assert_eq!(r.gluster.peers.len(), 2);

    // a broken store file fails the store source but keeps the rest of it
    std::fs::write(
        tmp.path().join("glusterd/peers/643e2ec8-d103-4239-9713-d85bfa843e7c"),
        "garbage without equals\n",
    )
    .unwrap();
    let r = report_from_capture_dir(tmp.path(), false).unwrap();
    failed_with(&r, Source::GlusterdStore, "1 of 5 store files unusable");
    assert_eq!(r.gluster.volumes.len(), 2);
}

#[test]
fn capture_round_trip_and_raw_in_report() {
    let mut raw = read_capture_dir(&lab_dir("node1")).unwrap().raw;
    let mut store = RawSource::new("/var/lib/glusterd", RawOutcome::ok(""));
    let base = "handwritten/glusterd";
    for rel in
        ["peers/6c34cf6c-84fa-49ef-9161-2c4e93f8d5a3", "vols/vol_c7aec41cfe3b3a80343ce95d9cbce899/info"]
    {
        store.parts.insert(
            rel.into(),
            RawPart {
                command: format!("/var/lib/glusterd/{rel}"),
                outcome: RawOutcome::ok(read(&format!("{base}/{rel}"))),
            },
        );
    }
    raw.insert(Source::GlusterdStore, store);
    raw.insert(
        Source::Addresses,
        RawSource::new("ip -o address show", RawOutcome::TimedOut { output: RawOutput::default() }),
    );
    let mut blocks = RawSource::new("gluster-block", RawOutcome::ok(""));
    blocks.parts.insert(
        "list/bhv1".into(),
        RawPart {
            command: "gluster-block list bhv1 --json".into(),
            outcome: RawOutcome::ok(r#"{"blocks":["b1"],"RESULT":"SUCCESS"}"#),
        },
    );
    blocks.parts.insert("info/bhv1/b1".into(), RawPart { command: "gluster-block info bhv1/b1 --json".into(), outcome: RawOutcome::ok(r#"{"NAME":"b1","VOLUME":"bhv1","GBID":"4ddce603-c1cc-496e-a0ba-d4f537c26422","SIZE":"1.0 GiB","HA":3,"PASSWORD":"","EXPORTED ON":["a","b","c"]}"#) });
    raw.insert(Source::GlusterBlock, blocks);
    let header = Manifest {
        node: Some("node1".into()),
        agent_version: Some("9.9.9".into()),
        collected_at: Some(42),
        ..Default::default()
    };
    let (manifest, files) = to_capture(&raw, header);
    let mut all: Vec<(String, String)> = files.into_iter().map(|f| (f.path, f.contents)).collect();
    all.push((MANIFEST_FILE.into(), serde_json::to_string_pretty(&manifest).unwrap()));
    assert!(all.iter().any(|(p, _)| p == "glusterd/vols/vol_c7aec41cfe3b3a80343ce95d9cbce899/info"));
    assert!(all.iter().any(|(p, _)| p == "gluster-block/info/bhv1/b1.json"));
    assert!(all.iter().any(|(p, _)| p == "lvs.json.stderr"));
    let dir = temp_capture(&all);
    let back = read_capture_dir(dir.path()).unwrap();
    assert_eq!(back.raw.keys().collect::<Vec<_>>(), raw.keys().collect::<Vec<_>>());
    for (s, r) in &raw {
        assert!(back.raw[s] == *r, "{s:?} differs after the directory:\n{:?}\n{:?}", back.raw[s], r);
    }
    let r = back.report(true);
    assert_eq!((r.agent_version.as_str(), r.collected_at), ("9.9.9", 42));
    assert_eq!(r.gluster_block.len(), 1);
    assert_eq!(r.gluster_block[0].blocks[0].name, "b1");
    assert_eq!(status(&r, Source::Addresses), &SourceStatus::TimedOut);
    assert_eq!(r.raw[&Source::Vgs].stdout, lab("node1", "vgs.json"));
    assert!(r.raw[&Source::GlusterdStore]
        .stdout
        .contains("==> vols/vol_c7aec41cfe3b3a80343ce95d9cbce899/info <=="));
}

#[test]
fn capture_dir_paths_stay_inside() {
    let m = r#"{"commands":[{"file":"../../etc/passwd","command":"x","source":"vgs"}]}"#;
    let dir = temp_capture(&[(MANIFEST_FILE.into(), m.into())]);
    assert!(matches!(read_capture_dir(dir.path()), Err(CaptureError::OutsidePath { .. })));
    let dir = temp_capture(&[(MANIFEST_FILE.into(), "{".into())]);
    assert!(matches!(read_capture_dir(dir.path()), Err(CaptureError::Manifest { .. })));
    let dir = temp_capture(&[(MANIFEST_FILE.into(), r#"{"capture_version":99,"commands":[]}"#.into())]);
    assert!(matches!(read_capture_dir(dir.path()), Err(CaptureError::Version { found: 99, .. })));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(read_capture_dir(dir.path()), Err(CaptureError::Io { .. })));
}

#[test]
fn ip_address_outputs() {
    let json = r#"[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"},{"family":"inet6","local":"::1","scope":"host"}]},
      {"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.168.231.11","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fe80::1","scope":"link"},{"family":"inet6","local":"fd00::11","scope":"global"}]}]"#;
    assert_eq!(parse_ip_addresses(json).unwrap(), ["192.168.231.11", "fd00::11"]);
    let oneline = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n\
        2: eth0    inet 192.168.231.11/24 brd 192.168.231.255 scope global eth0\\       valid_lft forever preferred_lft forever\n\
        2: eth0    inet6 fe80::5054:ff:fe12:3456/64 scope link \\       valid_lft forever preferred_lft forever\n";
    assert_eq!(parse_ip_addresses(oneline).unwrap(), ["192.168.231.11"]);
    assert!(parse_ip_addresses("").is_err());
    assert!(parse_ip_addresses("[").is_err());
    assert!(parse_ip_addresses("garbage line").is_err());
}
