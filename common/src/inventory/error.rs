//! [`ParseError`]: what went wrong, and in which kind of output.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind of output a parser reads; every [`ParseError`] names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `vgs|lvs|pvs|lvm fullreport --reportformat json[_std]`
    LvmJson,
    /// `vgs|lvs|pvs --noheadings --separator '|'` (field list known to the caller)
    LvmColumns,
    /// `vgs|lvs|pvs --nameprefixes --noheadings`
    LvmNamePrefixes,
    /// default `vgs|lvs|pvs` table with headings (sosreports, operators' captures)
    LvmTable,
    /// `vgdisplay -c`
    VgDisplayColon,
    /// `dmsetup ls`
    DmsetupLs,
    /// `lsblk -J`
    LsblkJson,
    /// `lsblk -P`
    LsblkPairs,
    /// default `lsblk` tree output
    LsblkTree,
    /// `gluster volume info --xml`
    GlusterVolumeInfoXml,
    /// `gluster volume info`
    GlusterVolumeInfoText,
    /// `gluster volume status [all] [detail] --xml`
    GlusterVolumeStatusXml,
    /// `gluster volume list --xml`
    GlusterVolumeListXml,
    /// `gluster peer status --xml`
    GlusterPeerStatusXml,
    /// `gluster peer status`
    GlusterPeerStatusText,
    /// `gluster pool list --xml`
    GlusterPoolListXml,
    /// `gluster pool list`
    GlusterPoolListText,
    /// `/var/lib/glusterd/vols/<vol>/info`
    GlusterdVolInfo,
    /// `/var/lib/glusterd/vols/<vol>/bricks/<host>:<path>`
    GlusterdBrickInfo,
    /// `/var/lib/glusterd/peers/<uuid>`
    GlusterdPeer,
    /// `/var/lib/glusterd/glusterd.info`
    GlusterdInfo,
    /// `/var/lib/heketi/fstab` (or any fstab)
    Fstab,
    /// `/proc/mounts`, `/proc/self/mounts`
    ProcMounts,
    /// `/proc/self/mountinfo`
    MountInfo,
    /// the agent's brick directory listing (`<path> <gid> <mode> [uid=..] [volume-id=..]`)
    BrickDirs,
    /// `gluster-block info|list|create|modify ... --json`
    GlusterBlockJson,
    /// `gluster-block info|list` text
    GlusterBlockText,
}

impl Format {
    /// Human label used in error messages.
    pub fn label(self) -> &'static str {
        match self {
            Format::LvmJson => "lvm json report",
            Format::LvmColumns => "lvm column report",
            Format::LvmNamePrefixes => "lvm --nameprefixes report",
            Format::LvmTable => "lvm table report",
            Format::VgDisplayColon => "vgdisplay -c",
            Format::DmsetupLs => "dmsetup ls",
            Format::LsblkJson => "lsblk -J",
            Format::LsblkPairs => "lsblk -P",
            Format::LsblkTree => "lsblk tree",
            Format::GlusterVolumeInfoXml => "gluster volume info --xml",
            Format::GlusterVolumeInfoText => "gluster volume info",
            Format::GlusterVolumeStatusXml => "gluster volume status --xml",
            Format::GlusterVolumeListXml => "gluster volume list --xml",
            Format::GlusterPeerStatusXml => "gluster peer status --xml",
            Format::GlusterPeerStatusText => "gluster peer status",
            Format::GlusterPoolListXml => "gluster pool list --xml",
            Format::GlusterPoolListText => "gluster pool list",
            Format::GlusterdVolInfo => "glusterd vols/<vol>/info",
            Format::GlusterdBrickInfo => "glusterd vols/<vol>/bricks/<brick>",
            Format::GlusterdPeer => "glusterd peers/<uuid>",
            Format::GlusterdInfo => "glusterd.info",
            Format::Fstab => "fstab",
            Format::ProcMounts => "/proc/mounts",
            Format::MountInfo => "/proc/self/mountinfo",
            Format::BrickDirs => "brick dir listing",
            Format::GlusterBlockJson => "gluster-block --json",
            Format::GlusterBlockText => "gluster-block text",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// gluster errno for "Another transaction is in progress" (`GD_OP_ERRNO`-style lock contention).
pub const GLUSTER_ERRNO_TRANSACTION_IN_PROGRESS: i32 = 30802;

/// Messages gluster prints (in `opErrstr` or on stdout) for transient conditions worth a retry.
const RETRYABLE_GLUSTER_MESSAGES: &[&str] = &[
    "another transaction is in progress",
    "locking failed on",
    "request timed out",
    "failed to acquire lock",
];

/// Why a parser rejected its input. Never produced by a panic: every parser returns this for
/// garbage, truncated or empty input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing (or only whitespace/noise) to parse.
    #[error("{format}: empty output")]
    Empty { format: Format },
    /// The JSON layer failed.
    #[error("{format}: invalid JSON: {message}")]
    Json { format: Format, message: String },
    /// The XML layer failed.
    #[error("{format}: invalid XML: {message}")]
    Xml { format: Format, message: String },
    /// A specific line could not be understood (1-based line number).
    #[error("{format}: line {line}: {message}")]
    Line { format: Format, line: usize, message: String },
    /// A required element/field/section is missing.
    #[error("{format}: missing {what}")]
    Missing { format: Format, what: String },
    /// A value is present but unusable.
    #[error("{format}: invalid {what}: {value:?}")]
    Invalid { format: Format, what: String, value: String },
    /// `gluster --xml` reported a failure (`opRet != 0`).
    #[error("{format}: gluster failed (opRet {op_ret}, opErrno {op_errno}): {message}")]
    GlusterOp { format: Format, op_ret: i32, op_errno: i32, message: String },
    /// gluster printed an error message instead of the expected output (often on stdout).
    #[error("{format}: gluster error: {message}")]
    GlusterCli { format: Format, message: String },
    /// gluster-block returned `"RESULT": "FAIL"`.
    #[error("{format}: gluster-block failed (errCode {err_code}): {message}")]
    GlusterBlock { format: Format, err_code: i64, message: String },
}

impl ParseError {
    /// The output format the failing parser was reading.
    pub fn format(&self) -> Format {
        match self {
            ParseError::Empty { format }
            | ParseError::Json { format, .. }
            | ParseError::Xml { format, .. }
            | ParseError::Line { format, .. }
            | ParseError::Missing { format, .. }
            | ParseError::Invalid { format, .. }
            | ParseError::GlusterOp { format, .. }
            | ParseError::GlusterCli { format, .. }
            | ParseError::GlusterBlock { format, .. } => *format,
        }
    }

    /// True when the command reported a transient condition (gluster lock contention, CLI
    /// timeout): the same command may succeed if run again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            ParseError::GlusterOp { op_errno, message, .. } => {
                *op_errno == GLUSTER_ERRNO_TRANSACTION_IN_PROGRESS || is_retryable_message(message)
            }
            ParseError::GlusterCli { message, .. } => is_retryable_message(message),
            _ => false,
        }
    }

    pub(crate) fn line(format: Format, line: usize, message: impl Into<String>) -> Self {
        ParseError::Line { format, line, message: message.into() }
    }

    pub(crate) fn missing(format: Format, what: impl Into<String>) -> Self {
        ParseError::Missing { format, what: what.into() }
    }

    pub(crate) fn invalid(format: Format, what: impl Into<String>, value: impl Into<String>) -> Self {
        let mut value: String = value.into();
        if value.chars().count() > 120 {
            value = value.chars().take(120).collect::<String>() + "…";
        }
        ParseError::Invalid { format, what: what.into(), value }
    }
}

fn is_retryable_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    RETRYABLE_GLUSTER_MESSAGES.iter().any(|m| lower.contains(m))
}
