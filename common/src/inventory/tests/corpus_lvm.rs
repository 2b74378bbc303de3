//! LVM samples.

use std::collections::BTreeMap;

use super::{between, lab, public, LAB_NODES};
use crate::inventory::naming::{parse_brick_lv_name, parse_thin_pool_name, parse_vg_name};
use crate::inventory::*;

const GIB: u64 = 1 << 30;

/// JSON documents in a text holding several outputs: from a line `{` to the `}` line with the
/// same indentation.
fn json_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        match &mut cur {
            None if line.trim() == "{" => cur = Some((indent, format!("{line}\n"))),
            None => {}
            Some((i, buf)) => {
                buf.push_str(line);
                buf.push('\n');
                if line.trim() == "}" && indent == *i {
                    out.push(std::mem::take(buf));
                    cur = None;
                }
            }
        }
    }
    out
}

#[test]
fn fullreport_json_topolvm() {
    let r = parse_lvm_json(&public("lvm/lvm-fullreport-json-units-b-thinpool-topolvm.txt")).unwrap();
    assert_eq!(r.vgs.len(), 1);
    let vg = &r.vgs[0];
    assert_eq!(vg.name, "myvg1");
    assert_eq!(vg.uuid.as_deref(), Some("P8en82-LNUe-MERd-mOTT-XlAS-fkp8-1bleiB"));
    assert_eq!(vg.size, Some(ByteSize::exact(2199014866944)));
    assert_eq!(vg.free, Some(ByteSize::exact(2198482190336)));
    // "pv": [{}, {}] placeholders are not PVs
    assert!(r.pvs.is_empty());
    assert_eq!(r.lvs.len(), 1);
    let lv = &r.lvs[0];
    assert_eq!((lv.name.as_str(), lv.vg.as_str()), ("thinpool", "myvg1"));
    assert_eq!(lv.role, LvRole::ThinPool);
    assert_eq!(lv.size, Some(ByteSize::exact(524288000)));
    assert_eq!(lv.tags, vec!["some_tag", "some_tag2"]);
    assert_eq!(lv.metadata_percent, Some(10.84));
    assert_eq!(lv.data_percent, Some(0.0));
    assert_eq!(lv.pool_lv, None);
    assert_eq!(lv.active(), Some(true));
    // the kind-specific wrappers
    assert_eq!(
        parse_vgs_json(&public("lvm/lvm-fullreport-json-units-b-thinpool-topolvm.txt")).unwrap().len(),
        1
    );
}

#[test]
fn manpage_json_outputs() {
    let text = public("lvm/lvs-reportformat-json-and-fullreport-manpage.txt");
    let blocks = json_blocks(&text);
    assert_eq!(blocks.len(), 2);
    // 1. `lvs -o lv_name,lv_size --reportformat json`: no vg_name column, human sizes
    let lvs = parse_lvs_json(&blocks[0]).unwrap();
    let names: Vec<&str> = lvs.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["lvol1", "lvol0"]);
    assert_eq!(lvs[0].vg, "");
    assert_eq!(lvs[0].size.unwrap().bytes, 4 << 20);
    assert!(lvs[0].size.unwrap().approximate);
    assert!(parse_vgs_json(&blocks[0]).is_err(), "no vg report in an lvs output");
    // 2. `lvm fullreport` whose log report ends with a trailing comma (invalid JSON as printed)
    assert!(serde_json::from_str::<serde_json::Value>(&blocks[1]).is_err());
    let r = parse_lvm_json(&blocks[1]).unwrap();
    assert_eq!(r.vgs.len(), 1);
    assert_eq!(r.vgs[0].name, "vg");
    assert_eq!(r.vgs[0].size.unwrap().bytes, 200 << 20);
    let pvs: Vec<(&str, Option<&str>)> = r.pvs.iter().map(|p| (p.name.as_str(), p.vg.as_deref())).collect();
    assert_eq!(pvs, [("/dev/sda", Some("vg")), ("/dev/sdb", Some("vg"))]);
    assert_eq!(r.lvs.len(), 2);
    assert!(r.lvs.iter().all(|l| l.vg == "vg"));
}

#[test]
fn lvs_a_table_hidden_sub_lvs() {
    let mut r = parse_lvm_table(&public("lvm/lvs-a-text-hidden-tdata-tmeta-vgs.txt")).unwrap();
    assert_eq!(r.vgs.len(), 1);
    assert_eq!(r.vgs[0].name, "devian");
    assert_eq!((r.vgs[0].pv_count, r.vgs[0].lv_count, r.vgs[0].snap_count), (Some(2), Some(3), Some(0)));
    let size = r.vgs[0].size.unwrap();
    assert!(size.approximate);
    assert_eq!(size.bytes, 853775073935); // 795.14 GiB
    assert!(r.warnings.iter().any(|w| w.contains("sudo lvs -a")));
    let roles: Vec<(&str, bool, LvRole)> =
        r.lvs.iter().map(|l| (l.name.as_str(), l.hidden, l.role)).collect();
    assert_eq!(
        roles,
        [
            ("serviced-pool", false, LvRole::ThinPool),
            ("serviced-pool_tdata", true, LvRole::ThinPoolData),
            ("serviced-pool_tmeta", true, LvRole::ThinPoolMetadata),
        ]
    );
    assert_eq!(r.lvs[0].metadata_percent, Some(0.62));
    assert_eq!(r.lvs[1].attr.as_deref(), Some("Twi-ao----"));
    r.resolve();
    let pool = r.lv("devian", "serviced-pool").unwrap();
    assert_eq!(pool.metadata_size.unwrap().bytes, 12 << 20, "from the hidden _tmeta LV");
    assert_eq!(pool.data_size.unwrap().bytes, 10 * GIB);
}

#[test]
fn lvs_table_with_devices_column() {
    let r = parse_lvm_table(&public("lvm/lvs-headings-devices-linear.txt")).unwrap();
    assert_eq!(r.lvs.len(), 9);
    assert!(r.lvs.iter().all(|l| l.vg == "vg_root" && l.role == LvRole::Linear && !l.hidden));
    let app = r.lv("vg_root", "lv_app").unwrap();
    assert_eq!(app.devices.as_deref(), Some("/dev/sda2(7136)"));
    assert_eq!(app.size.unwrap().bytes, 76912126853); // 71.63 GiB
    assert_eq!(r.lv("vg_root", "swap").unwrap().devices.as_deref(), Some("/dev/sda2(1280)"));
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].starts_with("WARNING: Locking disabled"));
}

#[test]
fn lvs_nameprefixes_docker_pool() {
    let text = public("lvm/lvs-nameprefixes-pipe-thinpool-hidden-tdata-tmeta.txt");
    let r = parse_lvm_nameprefixes(&text).unwrap();
    assert_eq!(r.warnings, ["WARNING: Locking disabled. Be careful! This could corrupt your metadata."]);
    let roles: Vec<(&str, &str, LvRole)> =
        r.lvs.iter().map(|l| (l.vg.as_str(), l.name.as_str(), l.role)).collect();
    assert_eq!(
        roles,
        [
            ("docker-vg", "docker-pool", LvRole::ThinPool),
            ("docker-vg", "docker-pool_tdata", LvRole::ThinPoolData),
            ("docker-vg", "docker-pool_tmeta", LvRole::ThinPoolMetadata),
            ("docker-vg", "lvol0_pmspare", LvRole::PoolMetadataSpare),
            ("rhel", "root", LvRole::Linear),
            ("rhel", "swap", LvRole::Linear),
        ]
    );
    assert!(r.lvs[1..4].iter().all(|l| l.hidden && l.role.is_internal()));
    let pool = &r.lvs[0];
    assert!(pool.size.unwrap().approximate, "<6.59g");
    assert_eq!(pool.devices.as_deref(), Some("docker-pool_tdata(0)"));
    assert_eq!(pool.segtype.as_deref(), Some("linear"));
    // the same text through the column parser (auto-detects --nameprefixes)
    let via_columns = parse_lvm_columns(&text, LvmKind::Lv, &["lv_name"]).unwrap();
    assert_eq!(via_columns.lvs, r.lvs);
}

#[test]
fn pvs_table_all_devices() {
    let r = parse_lvm_table(&public("lvm/pvs-headings-all-fields-luks-unlabelled.txt")).unwrap();
    assert_eq!(r.pvs.len(), 9);
    let in_vg: Vec<&PhysicalVolume> = r.pvs.iter().filter(|p| p.vg.is_some()).collect();
    assert_eq!(in_vg.len(), 1);
    let luks = in_vg[0];
    assert_eq!(luks.name, "/dev/mapper/luks-7430952e-7101-4716-9b46-786ce4684f8d");
    assert_eq!(luks.vg.as_deref(), Some("fedora"));
    assert_eq!(luks.uuid.as_deref(), Some("FPLCRf-d918-LVL7-6e3d-n3ED-aiZv-EesuzY"));
    assert_eq!(luks.fmt.as_deref(), Some("lvm2"));
    assert_eq!(luks.attr.as_deref(), Some("a--"));
    assert_eq!(luks.free.unwrap().bytes, 4 << 20);
    let loop0 = r.pvs.iter().find(|p| p.name == "/dev/loop0").unwrap();
    assert_eq!(loop0.attr.as_deref(), Some("---"));
    assert_eq!(loop0.size, Some(ByteSize::exact(0)));
    assert_eq!(loop0.dev_size.unwrap().bytes, 100 * GIB);
    // 12 lines of lvmetad chatter before the heading, 2 after
    assert_eq!(r.warnings.len(), 14);
}

#[test]
fn vgdisplay_colon_heketi_log() {
    let text = public("lvm/vgdisplay-c-heketi-v5-device-add.txt");
    let line = text.lines().find_map(|l| l.split_once("Result:").map(|(_, r)| r)).unwrap();
    let vgs = parse_vgdisplay_colon(line).unwrap();
    assert_eq!(vgs.len(), 1);
    let vg = &vgs[0];
    assert_eq!(parse_vg_name(&vg.name), Some("3888cbcbfc8a5ea209ad676ae5aa7030"));
    // heketi's "Size of /dev/vdb ... is 10350592" (KiB)
    assert_eq!(vg.size.unwrap().kib(), 10350592);
    assert_eq!(vg.extent_size.unwrap().kib(), 4096);
    assert_eq!(
        (vg.extent_count, vg.allocated_extent_count, vg.free_extent_count),
        (Some(2527), Some(0), Some(2527))
    );
    assert_eq!(vg.free.unwrap().kib(), 2527 * 4096);
    assert_eq!(vg.uuid.as_deref(), Some("3AQVPA-w7I3-04fE-IVI4-qEsn-uRUh-w6fQyF"));
    assert_eq!((vg.lv_count, vg.pv_count), (Some(0), Some(1)));
}

#[test]
fn vgs_table_with_interleaved_warnings() {
    let r = parse_lvm_table(&public("lvm/vgs-headings-all-fields-with-warnings-mpath-dup-pv.txt")).unwrap();
    let names: Vec<&str> = r.vgs.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["vg00", "vg00alt", "vg01", "vgshared"], "trailer lines are not VGs");
    let vg00 = r.vg("vg00").unwrap();
    assert_eq!(vg00.extent_size.unwrap().bytes, 128 << 20);
    assert_eq!((vg00.pv_count, vg00.lv_count), (Some(1), Some(7)));
    assert_eq!(vg00.uuid.as_deref(), Some("MiuKdK-ruw4-UG1i-0uLE-4dfB-bk2v-uxte2W"));
    let shared = r.vg("vgshared").unwrap();
    assert_eq!(shared.attr.as_deref(), Some("wz--nc"));
    assert_eq!(shared.pv_count, Some(6));
    assert!(shared.size.unwrap().approximate);
    assert!(r.warnings.iter().any(|w| w.starts_with("Found duplicate PV")));
    assert!(r.warnings.iter().any(|w| w == "Reloading config files"));
}

#[test]
fn vgs_lvs_tables_rhel8() {
    let r = parse_lvm_table(&public("lvm/vgs-lvs-text-thinpool-rhel8-lvm-operator.txt")).unwrap();
    assert_eq!(r.vgs.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["vg1", "vg2"]);
    let vg1 = r.vg("vg1").unwrap();
    assert!(vg1.size.unwrap().approximate, "<4.37t");
    assert_eq!(vg1.size.unwrap().bytes, 4804865813381); // 4.37 TiB
    let thin: Vec<&LogicalVolume> = r.lvs.iter().filter(|l| l.role == LvRole::Thin).collect();
    assert_eq!(thin.len(), 2);
    assert!(thin.iter().all(|l| l.pool_lv.as_deref() == Some("mytp2") && l.vg == "vg2"));
    assert_eq!(r.lv("vg2", "76e79637-5cc8-4795-8644-4298d8db3d1b").unwrap().data_percent, Some(0.29));
    assert_eq!(r.lv("vg2", "mytp2").unwrap().metadata_percent, Some(6.13));
    assert_eq!(r.lv("vg1", "mytp1").unwrap().role, LvRole::ThinPool);
}

#[test]
fn vgs_nameprefixes_rhel8() {
    let r = parse_lvm_nameprefixes(&public("lvm/vgs-nameprefixes-pipe-separator-lvm2.03.txt")).unwrap();
    assert_eq!(r.vgs.len(), 1);
    let vg = &r.vgs[0];
    assert_eq!(vg.name, "rhel");
    assert_eq!(vg.uuid.as_deref(), Some("V1AMDw-e9x6-AdCq-p3Hr-6cYn-otra-ducLAc"));
    assert_eq!(vg.free, Some(ByteSize::exact(0)), "\"0 \" with a trailing space");
    assert!(vg.size.unwrap().approximate, "<29.00g");
    assert_eq!(vg.extent_size.unwrap().bytes, 4 << 20);
    assert_eq!((vg.extent_count, vg.free_extent_count, vg.lv_count), (Some(7423), Some(0), Some(2)));
    assert_eq!(r.warnings.len(), 3);
}

#[test]
fn dmsetup_ls_orphan_heketi_bricks() {
    let text = public("lvm/dmsetup-ls-heketi-orphan-bricks.txt");
    let out = between(&text, "dmsetup ls", "vgscan");
    let devs = parse_dmsetup_ls(&out).unwrap();
    assert_eq!(devs.len(), 10);
    let tmeta = &devs[0];
    assert_eq!((tmeta.major, tmeta.minor), (253, 7));
    let dm = tmeta.lvm.as_ref().unwrap();
    assert_eq!(parse_vg_name(&dm.vg), Some("4616121a33ab3a1accf334594d1f6783"));
    assert_eq!(dm.lv, "tp_742883d83b9b5f6d5fc8d6df86f028b6_tmeta");
    let bricks: Vec<&str> = devs
        .iter()
        .filter_map(|d| d.lvm.as_ref())
        .filter(|n| n.layer.is_none())
        .filter_map(|n| parse_brick_lv_name(&n.lv))
        .collect();
    assert_eq!(bricks, ["bec070bc06c9165153fee326d7a2c5ef", "742883d83b9b5f6d5fc8d6df86f028b6"]);
    let tpools =
        devs.iter().filter(|d| d.lvm.as_ref().and_then(|n| n.layer.as_deref()) == Some("tpool")).count();
    assert_eq!(tpools, 2);
}

/// All six lab captures: vgs/pvs/lvs JSON in `--units k` and human units, vgdisplay -c —
/// cross-checked against each other.
#[test]
fn lab_lvm_captures_agree() {
    for node in LAB_NODES {
        let vgs = parse_vgs_json(&lab(node, "vgs.json")).unwrap();
        let disp = parse_vgdisplay_colon(&lab(node, "vgdisplay-c.txt")).unwrap();
        let pvs_k = parse_pvs_json(&lab(node, "pvs-units-k.json")).unwrap();
        let pvs_h = parse_pvs_json(&lab(node, "pvs.json")).unwrap();
        let mut report = parse_lvm_json(&lab(node, "lvs.json")).unwrap();
        assert!(!vgs.is_empty(), "{node}");
        assert_eq!(vgs.len(), disp.len(), "{node}");
        assert_eq!(vgs.len(), pvs_k.len(), "{node}");
        for vg in &vgs {
            assert!(parse_vg_name(&vg.name).is_some(), "{node}: {}", vg.name);
            let d = disp.iter().find(|d| d.name == vg.name).unwrap();
            assert_eq!(vg.size, d.size, "{node} {}", vg.name);
            assert_eq!(vg.free, d.free, "{node} {}", vg.name);
            assert!(!vg.size.unwrap().approximate);
            assert_eq!(vg.lv_count, d.lv_count, "{node} {}", vg.name);
            // the visible LVs are what vgs counts
            let visible = report.lvs.iter().filter(|l| l.vg == vg.name && !l.hidden).count() as u64;
            assert_eq!(Some(visible), vg.lv_count, "{node} {}", vg.name);
            let pk = pvs_k.iter().find(|p| p.vg.as_deref() == Some(&vg.name)).unwrap();
            assert_eq!(pk.free, vg.free, "{node} {}", vg.name);
            // human units: within half a hundredth of a GiB, and flagged approximate
            let ph = pvs_h.iter().find(|p| p.name == pk.name).unwrap();
            let (h, k) = (ph.free.unwrap(), pk.free.unwrap());
            assert!(h.approximate && !k.approximate);
            assert!(h.bytes.abs_diff(k.bytes) < GIB / 100, "{node} {}: {h:?} vs {k:?}", pk.name);
        }
        // structure of heketi's thin pools
        report.vgs = vgs;
        report.pvs = pvs_k;
        report.resolve();
        for vg in &report.vgs {
            assert_eq!(vg.pvs.len(), 1, "{node} {}", vg.name);
            let spares =
                report.lvs.iter().filter(|l| l.vg == vg.name && l.role == LvRole::PoolMetadataSpare).count();
            assert_eq!(spares, 1, "{node} {}", vg.name);
        }
        for lv in &report.lvs {
            match lv.role {
                LvRole::Thin => {
                    assert!(parse_brick_lv_name(&lv.name).is_some(), "{node} {}", lv.name);
                    let pool = lv.pool_lv.as_deref().unwrap();
                    assert!(parse_thin_pool_name(pool).is_some());
                    assert_eq!(report.lv(&lv.vg, pool).unwrap().role, LvRole::ThinPool);
                    assert_eq!(lv.open(), None, "state X = unknown (activation disabled)");
                }
                LvRole::ThinPool => {
                    let tmeta = report.lv(&lv.vg, &format!("{}_tmeta", lv.name)).unwrap();
                    let tdata = report.lv(&lv.vg, &format!("{}_tdata", lv.name)).unwrap();
                    assert!(tmeta.hidden && tdata.hidden);
                    assert_eq!(lv.metadata_size, tmeta.size, "{node} {}", lv.name);
                    assert_eq!(lv.data_size, tdata.size);
                    assert_eq!(lv.data_size, lv.size);
                }
                LvRole::ThinPoolData | LvRole::ThinPoolMetadata | LvRole::PoolMetadataSpare => {
                    assert!(lv.hidden)
                }
                other => panic!("{node}: unexpected {other:?} for {}", lv.name),
            }
        }
    }
}

#[test]
fn lab_node1_lvm_facts() {
    let lvs = parse_lvs_json(&lab("node1", "lvs.json")).unwrap();
    let by_name: BTreeMap<&str, &LogicalVolume> = lvs.iter().map(|l| (l.name.as_str(), l)).collect();
    let brick = by_name["brick_0b264cb31b8a14068057f8a4c47b3ffe"];
    assert_eq!(brick.vg, "vg_a950666d8a4996efb447c0ceb48438b5");
    assert_eq!(brick.size.unwrap().kib(), 26214400);
    assert_eq!(brick.attr.as_deref(), Some("Vwi-XXtz--"));
    // spec §4.1: in heketi v8+ the pool of the first brick of a set carries another id
    let renamed = by_name["brick_4bf318d5ee4cf3731211ea492b9af981"];
    assert_eq!(renamed.pool_lv.as_deref(), Some("tp_766a50e9c37c55eae82d752556fb309d"));
    let pool = by_name["tp_0b264cb31b8a14068057f8a4c47b3ffe"];
    assert_eq!(pool.metadata_size.unwrap().kib(), 131072, "lv_metadata_size column");
    assert_eq!(lvs.iter().filter(|l| l.role == LvRole::Thin).count(), 14);
    let vgs = parse_vgs_json(&lab("node1", "vgs.json")).unwrap();
    assert_eq!(vgs[0].size.unwrap().kib(), 524152832);
    assert_eq!(vgs[0].free.unwrap().kib(), 398381056);
    assert_eq!(vgs[0].attr.as_deref(), Some("wz--n-"));
}

#[test]
fn lab_drift_lv_deleted_on_node2() {
    // M3: thin LV + pool of brick 0901e271… removed
    let name = "brick_0901e271030cd30750dbb424e19baf78";
    let before = parse_lvs_json(&lab("node2", "lvs.json")).unwrap();
    let after = parse_lvs_json(&lab("after-live-drift/node2", "lvs.json")).unwrap();
    assert!(before.iter().any(|l| l.name == name));
    assert!(!after.iter().any(|l| l.name == name || l.name.contains("0901e271030cd30750dbb424e19baf78")));
    // M1: rogue volume's bricks appeared
    assert!(after
        .iter()
        .any(|l| l.name == "brick_a6cecc1b78e510617311d8a3c2ce6f44" && l.role == LvRole::Thin));
}

#[test]
fn columns_parser_with_field_list() {
    // `vgs --noheadings --separator '|' --units b --nosuffix -o vg_name,vg_uuid,vg_size,vg_free,
    //  vg_extent_size,vg_extent_count,vg_free_count,pv_count,lv_count,vg_tags` (older lvm2);
    // values from lab node1
    let text = "  WARNING: Activation disabled. No device-mapper interaction will be attempted.\n  vg_a950666d8a4996efb447c0ceb48438b5|QABwDA-xr0p-5JIF-uzjd-sowu-jZIi-ddK6YX|536732499968|407942201344|4194304|127967|97261|1|12|\n";
    let fields = [
        "vg_name",
        "vg_uuid",
        "vg_size",
        "vg_free",
        "vg_extent_size",
        "vg_extent_count",
        "vg_free_count",
        "pv_count",
        "lv_count",
        "vg_tags",
    ];
    let r = parse_lvm_columns(text, LvmKind::Vg, &fields).unwrap();
    assert_eq!(r.warnings.len(), 1);
    let vg = &r.vgs[0];
    assert_eq!(vg.size.unwrap().kib(), 524152832);
    assert_eq!(vg.free.unwrap().kib(), 398381056);
    assert_eq!(vg.extent_size.unwrap().kib(), 4096);
    assert_eq!(vg.tags, Vec::<String>::new());
    // short field names (`-o name,size`) are what lvm accepts too
    let r = parse_lvm_columns("  vg0|1024\n", LvmKind::Vg, &["name", "size"]).unwrap();
    assert_eq!((r.vgs[0].name.as_str(), r.vgs[0].size), ("vg0", Some(ByteSize::exact(1024))));
    // wrong column count is an error, not a silent shift
    assert!(parse_lvm_columns("  vg0|1024|x\n", LvmKind::Vg, &["name", "size"]).is_err());
    // --units k --nosuffix
    let r = parse_lvm_columns_with("vg0;4096.00\n", LvmKind::Vg, &["vg_name", "vg_size"], ";", LvmUnit::Kib)
        .unwrap();
    assert_eq!(r.vgs[0].size, Some(ByteSize::exact(4 << 20)));
}

#[test]
fn json_with_stderr_merged_in() {
    // lesson 5: warnings merged into stdout land inside the JSON
    let stderr = lab("node1", "vgs.json.stderr");
    let stdout = lab("node1", "vgs.json");
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.insert(3, stderr.trim_end());
    let merged = format!("{}\n{}", stderr.trim_end(), lines.join("\n"));
    let r = parse_lvm_json_with_unit(&merged, LvmUnit::Bytes).unwrap();
    assert_eq!(r.vgs.len(), 2);
    assert_eq!(r.warnings.len(), 2);
    assert!(r.warnings[0].starts_with("WARNING: Activation disabled"));
}

#[test]
fn json_std_typed_values() {
    // lvm2 >= 2.03.17 `--reportformat json_std`: numbers, arrays for lists
    let text = r#"{"report":[{"lv":[{"lv_name":"brick_0b264cb31b8a14068057f8a4c47b3ffe","vg_name":"vg_a950666d8a4996efb447c0ceb48438b5","lv_attr":"Vwi-a-tz--","lv_size":26843545600,"pool_lv":"tp_0b264cb31b8a14068057f8a4c47b3ffe","data_percent":0.5,"lv_tags":["a","b"],"origin":null}]}]}"#;
    let lvs = parse_lvs_json(text).unwrap();
    assert_eq!(lvs[0].size, Some(ByteSize::exact(26843545600)));
    assert_eq!(lvs[0].data_percent, Some(0.5));
    assert_eq!(lvs[0].tags, ["a", "b"]);
    assert_eq!(lvs[0].origin, None);
    assert_eq!(lvs[0].role, LvRole::Thin);
}

#[test]
fn json_log_errors_become_warnings() {
    let text = r#"{"report":[{"vg":[]}],"log":[{"log_seq_num":"1","log_type":"error","log_context":"processing","log_object_type":"vg","log_object_name":"vg_x","log_message":"Volume group \"vg_x\" not found","log_errno":"0","log_ret_code":"5"}]}"#;
    let r = parse_lvm_json(text).unwrap();
    assert!(r.vgs.is_empty());
    assert_eq!(r.warnings, ["error: Volume group \"vg_x\" not found"]);
}
