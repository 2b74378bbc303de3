//! The fixed command table: every program the agent can run, with every argument. Nothing a
//! gRPC client sends reaches an argv; the operator configures only where tools live (path,
//! `--tool-dir`, `--command-prefix`) and gluster's `--remote-host`.

use heketi_doctor_common::inventory::{Format, Source};

/// A program the agent runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tool {
    Lvm,
    Lsblk,
    Gluster,
    GlusterBlock,
    Ip,
}

impl Tool {
    pub const ALL: [Tool; 5] = [Tool::Lvm, Tool::Lsblk, Tool::Gluster, Tool::GlusterBlock, Tool::Ip];

    /// Executable name (looked up in `--tool-dir`, then the standard system directories).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Lvm => "lvm",
            Tool::Lsblk => "lsblk",
            Tool::Gluster => "gluster",
            Tool::GlusterBlock => "gluster-block",
            Tool::Ip => "ip",
        }
    }

    pub fn from_name(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// When a table entry's fallback command runs instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FallbackWhen {
    /// The tool exited non-zero complaining about an option (an older version).
    OptionRejected,
    /// The tool exited non-zero for any reason.
    Failed,
}

/// One command: tool, arguments, and the parser for its stdout.
#[derive(Clone, Copy, Debug)]
pub struct Command {
    pub tool: Tool,
    pub args: &'static [&'static str],
    /// The parser for stdout; `None` where the source has one parser that recognises the form
    /// (`ip -j`/`ip -o`).
    pub format: Option<Format>,
}

/// One source's command, with an optional fallback for older tool versions.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub source: Source,
    pub primary: Command,
    pub fallback: Option<(FallbackWhen, Command)>,
}

// LVM: report fields that are per LV/VG/PV (no segment fields, which would repeat rows),
// sizes in bytes without suffix, JSON. lvm2 2.03 reads metadata without any lock with
// `--nolocking` and still asks device-mapper for activation state; 2.02 (no `--nolocking`)
// gets `--readonly`, which also guarantees that no metadata repair is written back.
const VGS_FIELDS: &str = "vg_name,vg_uuid,vg_attr,vg_size,vg_free,vg_extent_size,vg_extent_count,\
vg_free_count,pv_count,lv_count,snap_count,vg_missing_pv_count,vg_tags";
const PVS_FIELDS: &str = "pv_name,vg_name,pv_uuid,pv_fmt,pv_attr,pv_size,pv_free,dev_size,pv_tags";
const LVS_FIELDS: &str = "lv_name,vg_name,lv_uuid,lv_attr,lv_size,pool_lv,origin,data_percent,\
metadata_percent,lv_metadata_size,lv_role,lv_layout,lv_tags";

const fn lvm(args: &'static [&'static str]) -> Command {
    Command { tool: Tool::Lvm, args, format: Some(Format::LvmJson) }
}

const fn gluster(args: &'static [&'static str]) -> Command {
    Command { tool: Tool::Gluster, args, format: Some(Format::GlusterVolumeInfoXml) }
}

/// The table. `gluster` arguments get `--mode=script --xml` (and the configured
/// `--remote-host`) in front; see [`gluster_global_args`].
pub const TABLE: &[Entry] = &[
    Entry {
        source: Source::Vgs,
        primary: lvm(&[
            "vgs",
            "--reportformat",
            "json",
            "--units",
            "b",
            "--nosuffix",
            "--nolocking",
            "-o",
            VGS_FIELDS,
        ]),
        fallback: Some((
            FallbackWhen::OptionRejected,
            lvm(&[
                "vgs",
                "--reportformat",
                "json",
                "--units",
                "b",
                "--nosuffix",
                "--readonly",
                "-o",
                VGS_FIELDS,
            ]),
        )),
    },
    Entry {
        source: Source::Pvs,
        primary: lvm(&[
            "pvs",
            "--reportformat",
            "json",
            "--units",
            "b",
            "--nosuffix",
            "--nolocking",
            "-o",
            PVS_FIELDS,
        ]),
        fallback: Some((
            FallbackWhen::OptionRejected,
            lvm(&[
                "pvs",
                "--reportformat",
                "json",
                "--units",
                "b",
                "--nosuffix",
                "--readonly",
                "-o",
                PVS_FIELDS,
            ]),
        )),
    },
    Entry {
        source: Source::Lvs,
        primary: lvm(&[
            "lvs",
            "-a",
            "--reportformat",
            "json",
            "--units",
            "b",
            "--nosuffix",
            "--nolocking",
            "-o",
            LVS_FIELDS,
        ]),
        fallback: Some((
            FallbackWhen::OptionRejected,
            lvm(&[
                "lvs",
                "-a",
                "--reportformat",
                "json",
                "--units",
                "b",
                "--nosuffix",
                "--readonly",
                "-o",
                LVS_FIELDS,
            ]),
        )),
    },
    Entry {
        source: Source::Lsblk,
        // JSON and MOUNTPOINTS need util-linux 2.37; older ones get key="value" pairs
        primary: Command {
            tool: Tool::Lsblk,
            args: &[
                "-J",
                "-b",
                "-o",
                "NAME,KNAME,PATH,TYPE,SIZE,MAJ:MIN,RM,RO,MOUNTPOINTS,FSTYPE,UUID,MODEL,SERIAL,WWN",
            ],
            format: Some(Format::LsblkJson),
        },
        fallback: Some((
            FallbackWhen::Failed,
            Command {
                tool: Tool::Lsblk,
                args: &["-P", "-b", "-o", "NAME,KNAME,PKNAME,TYPE,SIZE,MAJ:MIN,RM,RO,MOUNTPOINT,FSTYPE,UUID"],
                format: Some(Format::LsblkPairs),
            },
        )),
    },
    Entry { source: Source::GlusterVolumeInfo, primary: gluster(&["volume", "info"]), fallback: None },
    Entry {
        source: Source::GlusterVolumeStatus,
        primary: Command {
            format: Some(Format::GlusterVolumeStatusXml),
            ..gluster(&["volume", "status", "all"])
        },
        fallback: None,
    },
    Entry {
        source: Source::GlusterPeerStatus,
        primary: Command { format: Some(Format::GlusterPeerStatusXml), ..gluster(&["peer", "status"]) },
        fallback: None,
    },
    Entry {
        source: Source::GlusterPoolList,
        primary: Command { format: Some(Format::GlusterPoolListXml), ..gluster(&["pool", "list"]) },
        fallback: None,
    },
    Entry {
        source: Source::Addresses,
        // `ip -j` needs iproute2 ≥ 4.14; `-o` works everywhere
        primary: Command { tool: Tool::Ip, args: &["-j", "address", "show"], format: None },
        fallback: Some((
            FallbackWhen::Failed,
            Command { tool: Tool::Ip, args: &["-o", "address", "show"], format: None },
        )),
    },
];

/// Arguments that go before every gluster command's own.
pub fn gluster_global_args(remote_host: Option<&str>) -> Vec<String> {
    let mut v = vec!["--mode=script".to_string(), "--xml".to_string()];
    if let Some(h) = remote_host {
        v.push(format!("--remote-host={h}"));
    }
    v
}

/// `gluster-block list <vol> --json`.
pub fn gluster_block_list_args(volume: &str) -> Vec<String> {
    vec!["list".into(), volume.into(), "--json".into()]
}

/// `gluster-block info <vol>/<block> --json`.
pub fn gluster_block_info_args(volume: &str, block: &str) -> Vec<String> {
    vec!["info".into(), format!("{volume}/{block}"), "--json".into()]
}

/// stderr of a tool that does not know one of our options.
pub fn option_rejected(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    ["unrecognized option", "unrecognised option", "unknown option", "invalid option", "unknown column"]
        .iter()
        .any(|m| s.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_source_once_and_no_shell() {
        let mut seen = Vec::new();
        for e in TABLE {
            assert!(!seen.contains(&e.source), "{:?} twice", e.source);
            seen.push(e.source);
            for c in std::iter::once(&e.primary).chain(e.fallback.as_ref().map(|f| &f.1)) {
                assert!(
                    c.args.iter().all(|a| !a.contains(' ')),
                    "{:?}: one argv element per argument",
                    c.args
                );
                assert!(!["sh", "bash"].contains(&c.tool.name()));
            }
        }
        for t in Tool::ALL {
            assert_eq!(Tool::from_name(t.name()), Some(t));
        }
        assert!(option_rejected(
            "vgs: unrecognized option '--nolocking'\n  Error during parsing of command line.\n"
        ));
        assert!(!option_rejected("  Volume group \"x\" not found"));
    }
}
