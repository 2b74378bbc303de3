//! Every corpus file has a parser; no parser panics on garbage, truncated or mutated input;
//! structured formats reject truncation.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use proptest::prelude::*;

use super::{corpus_dir, strip_source};
use crate::inventory::*;

type ParseFn = fn(&str) -> Result<(), ParseError>;

fn ok<T>(r: Result<T, ParseError>) -> Result<(), ParseError> {
    r.map(|_| ())
}

/// Every parser, by name.
fn parsers() -> Vec<(&'static str, ParseFn)> {
    vec![
        ("lvm_json", |t| ok(parse_lvm_json(t))),
        ("vgs_json", |t| ok(parse_vgs_json(t))),
        ("pvs_json", |t| ok(parse_pvs_json(t))),
        ("lvs_json", |t| ok(parse_lvs_json(t))),
        ("lvm_columns", |t| ok(parse_lvm_columns(t, LvmKind::Lv, &["lv_name", "vg_name", "lv_size"]))),
        ("lvm_nameprefixes", |t| ok(parse_lvm_nameprefixes(t))),
        ("lvm_table", |t| ok(parse_lvm_table(t))),
        ("vgdisplay", |t| ok(parse_vgdisplay_colon(t))),
        ("dmsetup", |t| ok(parse_dmsetup_ls(t))),
        ("lsblk_json", |t| ok(parse_lsblk_json(t))),
        ("lsblk_pairs", |t| ok(parse_lsblk_pairs(t))),
        ("lsblk_tree", |t| ok(parse_lsblk_tree(t))),
        ("volume_info_xml", |t| ok(parse_volume_info_xml(t))),
        ("volume_info_text", |t| ok(parse_volume_info_text(t))),
        ("volume_status_xml", |t| ok(parse_volume_status_xml(t))),
        ("volume_list_xml", |t| ok(parse_volume_list_xml(t))),
        ("peer_status_xml", |t| ok(parse_peer_status_xml(t))),
        ("peer_status_text", |t| ok(parse_peer_status_text(t))),
        ("pool_list_xml", |t| ok(parse_pool_list_xml(t))),
        ("pool_list_text", |t| ok(parse_pool_list_text(t))),
        ("glusterd_volinfo", |t| ok(parse_glusterd_volinfo(t))),
        ("glusterd_brickinfo", |t| ok(parse_glusterd_brickinfo(t))),
        ("glusterd_peer", |t| ok(parse_glusterd_peer(t))),
        ("glusterd_info", |t| ok(parse_glusterd_info(t))),
        ("proc_mounts", |t| ok(parse_proc_mounts(t))),
        ("mountinfo", |t| ok(parse_mountinfo(t))),
        ("fstab", |t| ok(parse_fstab(t))),
        ("brick_dirs", |t| ok(parse_brick_dirs(t))),
        ("gluster_block_info_json", |t| ok(parse_gluster_block_info_json(t))),
        ("gluster_block_list_json", |t| ok(parse_gluster_block_list_json(t))),
        ("gluster_block_info_text", |t| ok(parse_gluster_block_info_text(t))),
    ]
}

fn parser(name: &str) -> ParseFn {
    parsers().into_iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no parser {name}")).1
}

/// Formats where any truncation that drops a non-whitespace character must be an error.
const STRUCTURED: &[&str] = &[
    "lvm_json",
    "vgs_json",
    "pvs_json",
    "lvs_json",
    "lsblk_json",
    "volume_info_xml",
    "volume_status_xml",
    "volume_list_xml",
    "peer_status_xml",
    "pool_list_xml",
    "gluster_block_info_json",
    "gluster_block_list_json",
];

/// Files that are metadata about the captures, not command output.
fn not_parser_input(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.ends_with(".md")
        || name.ends_with(".stderr")
        || matches!(name, "commands.json" | "changes.json" | "truth.json" | "hostname.txt")
        || name.starts_with("drifted-db")
}

/// (parsers, whole file parses) for a corpus file. `false` for files holding several outputs,
/// prompts or truncated excerpts, which the corpus tests cut apart first.
fn route(rel: &str) -> Option<(&'static [&'static str], bool)> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if rel.starts_with("lab-debian12/") {
        return Some(match name {
            "vgs.json" => (&["lvm_json", "vgs_json"], true),
            "lvs.json" => (&["lvm_json", "lvs_json"], true),
            "pvs.json" | "pvs-units-k.json" => (&["lvm_json", "pvs_json"], true),
            "vgdisplay-c.txt" => (&["vgdisplay"], true),
            "lsblk.json" => (&["lsblk_json"], true),
            "lsblk-pairs.txt" => (&["lsblk_pairs"], true),
            "volume-info.xml" => (&["volume_info_xml"], true),
            "volume-info.txt" => (&["volume_info_text"], true),
            "volume-status.xml" => (&["volume_status_xml"], true),
            "peer-status.xml" => (&["peer_status_xml"], true),
            "pool-list.xml" => (&["pool_list_xml"], true),
            "proc-mounts.txt" => (&["proc_mounts"], true),
            "heketi-fstab.txt" => (&["fstab"], true),
            "brick-dirs.txt" => (&["brick_dirs"], true),
            _ => return None,
        });
    }
    if rel.starts_with("handwritten/") {
        return Some(if name == "glusterd.info" {
            (&["glusterd_info"], true)
        } else if rel.contains("/peers/") {
            (&["glusterd_peer"], true)
        } else if rel.contains("/bricks/") {
            (&["glusterd_brickinfo"], true)
        } else if rel.contains("/vols/") && name == "info" {
            (&["glusterd_volinfo"], true)
        } else if name == "proc-self-mountinfo.txt" {
            (&["mountinfo"], true)
        } else if name == "brick-dirs-agent.txt" {
            (&["brick_dirs"], true)
        } else {
            return None;
        });
    }
    Some(match name {
        "dmsetup-ls-heketi-orphan-bricks.txt" => (&["dmsetup"], false),
        "lvm-fullreport-json-units-b-thinpool-topolvm.txt" => (&["lvm_json"], true),
        "lvs-a-text-hidden-tdata-tmeta-vgs.txt"
        | "lvs-headings-devices-linear.txt"
        | "pvs-headings-all-fields-luks-unlabelled.txt"
        | "vgs-headings-all-fields-with-warnings-mpath-dup-pv.txt"
        | "vgs-lvs-text-thinpool-rhel8-lvm-operator.txt" => (&["lvm_table"], true),
        "lvs-nameprefixes-pipe-thinpool-hidden-tdata-tmeta.txt"
        | "vgs-nameprefixes-pipe-separator-lvm2.03.txt" => (&["lvm_nameprefixes", "lvm_columns"], true),
        "lvs-reportformat-json-and-fullreport-manpage.txt" => (&["lvm_json"], false),
        "vgdisplay-c-heketi-v5-device-add.txt" => (&["vgdisplay"], false),
        "lsblk-J-multipath-dm-flat-list.txt" => (&["lsblk_json"], true),
        "lsblk-pairs-kname-pkname-type-mountpoint.txt" => (&["lsblk_pairs"], true),
        "lsblk-tree-loop-lvm-nvme-util-linux-testsuite.txt" | "lsblk-tree-rhel6-multipath-dm-suffix.txt" => {
            (&["lsblk_tree"], true)
        }
        "lsblk-tree-heketi-thinpool-brick-ubuntu.txt" | "lsblk-tree-thinpool-raid-tmeta-lvm-operator.txt" => {
            (&["lsblk_tree"], false)
        }
        "info-json-shapes-heketi-tests.txt" => {
            (&["gluster_block_info_json", "gluster_block_list_json"], false)
        }
        "info-list-text-versions.txt" => (&["gluster_block_info_text"], false),
        "peer-status-text-disconnected-and-daemon-down.txt" => (&["peer_status_text"], false),
        "pool-list-and-peer-status-text-4nodes.txt" => (&["pool_list_text", "peer_status_text"], false),
        "peer-status-xml-3peers-hostnames.txt" => (&["peer_status_xml"], true),
        "pool-list-xml-localhost.txt" => (&["pool_list_xml"], true),
        "volume-info-text-disperse-many-options-xosan.txt"
        | "volume-info-text-distrep-arbiter-2x2plus1.txt"
        | "volume-info-text-two-replica3-many-options-rhgs.txt" => (&["volume_info_text"], true),
        "volume-info-xml-arbiter-started-plus-stopped-rdma-vdsm.txt"
        | "volume-info-xml-heketi-replica3-brickmux-xlators.txt"
        | "volume-info-xml-replica3-created-gluster9plus.txt"
        | "volume-info-xml-replica4-gluster3x-exporter.txt" => (&["volume_info_xml"], true),
        "volume-list-xml.txt" => (&["volume_list_xml"], true),
        "volume-status-all-detail-xml.txt" => (&["volume_status_xml"], true),
        "volume-status-detail-xml-heketi-brick-devices.txt" => (&["volume_status_xml"], false),
        _ => return None,
    })
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, base, out);
        } else {
            out.push(p.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
}

/// (relative path, parser names, whole-file-ok, text with the SOURCE line stripped)
fn corpus_inputs() -> Vec<(String, &'static [&'static str], bool, String)> {
    let base = corpus_dir();
    let mut files = Vec::new();
    walk(&base, &base, &mut files);
    let mut out = Vec::new();
    let mut unrouted = Vec::new();
    for rel in files {
        if not_parser_input(&rel) {
            continue;
        }
        match route(&rel) {
            Some((names, whole)) => {
                let text = strip_source(&std::fs::read_to_string(base.join(&rel)).unwrap());
                out.push((rel, names, whole, text));
            }
            None => unrouted.push(rel),
        }
    }
    assert!(unrouted.is_empty(), "corpus files without a parser: {unrouted:?}");
    out
}

#[test]
fn every_corpus_file_has_a_parser() {
    let inputs = corpus_inputs();
    assert!(inputs.len() >= 120, "{}", inputs.len());
    for (rel, names, whole, text) in &inputs {
        for name in *names {
            let r = parser(name)(text);
            if *whole {
                assert!(r.is_ok(), "{rel} via {name}: {r:?}");
            }
        }
        // the files that need cutting apart are not accidentally parseable as a whole by the
        // first parser (otherwise the extraction in the corpus tests would be pointless)
        if !*whole {
            assert!(parser(names[0])(text).is_err(), "{rel} parses whole via {}", names[0]);
        }
    }
}

fn no_panic(name: &str, f: ParseFn, input: &str, ctx: &str) -> Result<(), ParseError> {
    match catch_unwind(AssertUnwindSafe(|| f(input))) {
        Ok(r) => r,
        Err(_) => panic!("{name} panicked on {ctx}: {:?}", input.chars().take(200).collect::<String>()),
    }
}

/// Char-boundary cut points: all of the first and last 200 bytes, ~100 in between.
fn cut_points(text: &str) -> Vec<usize> {
    let n = text.len();
    let step = (n / 100).max(1);
    let mut cuts: Vec<usize> =
        (0..n.min(200)).chain((0..n).step_by(step)).chain(n.saturating_sub(200)..n).collect();
    cuts.retain(|c| text.is_char_boundary(*c));
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[test]
fn truncated_samples_never_panic_and_structured_ones_fail() {
    for (rel, names, whole, text) in corpus_inputs() {
        for name in names {
            let f = parser(name);
            let structured = whole && STRUCTURED.contains(name);
            for cut in cut_points(&text) {
                let prefix = &text[..cut];
                let r = no_panic(name, f, prefix, &format!("{rel}[..{cut}]"));
                if structured && !text[cut..].trim().is_empty() {
                    assert!(r.is_err(), "{name} accepted {rel} truncated at {cut}");
                }
                no_panic(name, f, &text[cut..], &format!("{rel}[{cut}..]")).ok();
            }
        }
    }
}

#[test]
fn every_parser_survives_every_sample() {
    // wrong-format inputs: each parser on every file and a few cuts of it
    let all = parsers();
    for (rel, _, _, text) in corpus_inputs() {
        let n = text.len();
        for cut in [n, n / 2, n / 3, n * 2 / 3, n / 7, 1] {
            let mut c = cut.min(n);
            while !text.is_char_boundary(c) {
                c -= 1;
            }
            for (name, f) in &all {
                let _ = no_panic(name, *f, &text[..c], &format!("{rel}[..{c}]"));
            }
        }
    }
}

/// xorshift, deterministic
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(text: &str, rng: &mut Rng) -> String {
    const JUNK: &[&str] = &[
        "<",
        ">",
        "</",
        "{",
        "}",
        "[",
        "]",
        "\"",
        "'",
        ":",
        "=",
        "|",
        "\n",
        "\\",
        "\\x4",
        "\\04",
        "x",
        "0",
        "-1",
        "99999999999999999999999",
        "4294967295",
        "18446744073709551615",
        " ",
        "(",
        ")",
        "├─",
        "é",
        "\u{feff}",
        "&amp;",
        "&#0;",
        "<!DOCTYPE x>",
        ",",
        "NaN",
        "1e308",
    ];
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let len = chars.len();
        let at = rng.below(len + 1);
        match rng.below(4) {
            0 => {
                let end = (at + 1 + rng.below(40)).min(len);
                chars.drain(at..end);
            }
            1 => {
                let end = (at + rng.below(60)).min(len);
                let dup: Vec<char> = chars[at..end].to_vec();
                chars.splice(at..at, dup);
            }
            2 => {
                let j: Vec<char> = JUNK[rng.below(JUNK.len())].chars().collect();
                chars.splice(at..at, j);
            }
            _ => {
                if at < len {
                    chars[at] = JUNK[rng.below(JUNK.len())].chars().next().unwrap_or('x');
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_samples_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (rel, names, _, text) in corpus_inputs() {
        for i in 0..40 {
            let m = mutate(&text, &mut rng);
            for name in names {
                let _ = no_panic(name, parser(name), &m, &format!("{rel} mutation {i}"));
            }
        }
    }
}

#[test]
fn garbage_is_an_error() {
    let deep_json = "[".repeat(100_000);
    let deep_xml = "<a>".repeat(50_000);
    let long_line = "x".repeat(200_000);
    let garbage: Vec<&str> = vec![
        "",
        " \n\t \n",
        "\u{feff}",
        "garbage",
        "\0\u{1}\u{2}\u{7f}",
        "{",
        "<",
        "{}",
        "[]",
        "null",
        "<cliOutput/>",
        "<a><b></a>",
        "x=y=z\n=\n",
        "{\"report\": 5}",
        "a:b:c",
        "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><cliOutput><opRet>&a;</opRet></cliOutput>",
        &deep_json,
        &deep_xml,
        &long_line,
    ];
    // documented: an empty fstab / brick listing is a valid empty result
    let empty_ok = |name: &str, g: &str| {
        matches!(name, "fstab" | "brick_dirs") && g.trim_start_matches('\u{feff}').trim().is_empty()
    };
    for (name, f) in parsers() {
        for g in &garbage {
            let r = no_panic(name, f, g, "garbage");
            if empty_ok(name, g) {
                assert!(r.is_ok(), "{name} on empty");
            } else {
                assert!(r.is_err(), "{name} accepted garbage {:?}", g.chars().take(40).collect::<String>());
            }
        }
    }
}

#[test]
fn empty_input_names_the_format() {
    for (name, f) in parsers() {
        if matches!(name, "fstab" | "brick_dirs") {
            continue;
        }
        let e = f("").unwrap_err();
        assert!(matches!(e, ParseError::Empty { .. }), "{name}: {e:?}");
        assert!(e.to_string().contains(e.format().label()), "{name}: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        for (name, f) in parsers() {
            let _ = no_panic(name, f, &s, "proptest");
        }
    }

    #[test]
    fn structural_soup_never_panics(s in "[<>/{}\\[\\]\":=|, \\n\\\\a-z0-9()x'-]{0,300}") {
        for (name, f) in parsers() {
            let _ = no_panic(name, f, &s, "proptest soup");
        }
    }

    #[test]
    fn size_parsers_total(s in "[<0-9.,a-zA-Z ]{0,40}") {
        let _ = parse_lvm_size(&s, LvmUnit::Kib);
        let _ = parse_human_size(&s);
    }
}
