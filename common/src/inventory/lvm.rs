//! LVM: `vgs`/`lvs`/`pvs` reports (JSON, `--separator` columns, `--nameprefixes`, the default
//! table with headings), `vgdisplay -c` and `dmsetup ls`.
//!
//! The agent runs `… --reportformat json --units b --nosuffix` (lvm2 ≥ 2.02.158) with stderr
//! kept apart; everything else here exists for older nodes and for operators' captures.
//! Lessons from the corpus: values are strings (numbers only with `json_std`, lvm2 ≥ 2.03.17),
//! may carry trailing spaces, keys can repeat inside one object (`-o +pool_lv` when `pool_lv` is
//! already a default column), `lvm fullreport` emits `{}` for sub-reports without columns,
//! warnings merged from stderr land between JSON lines, and hidden sub-LVs (`[x_tdata]`,
//! `[x_tmeta]`, `[lvol0_pmspare]`) appear with `lvs -a`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{Format, ParseError};
use super::naming::{split_dm_name, DmName};
use super::text::{clean, non_empty, parse_u64, split_list};
use super::units::{parse_lvm_size, ByteSize, LvmUnit};

/// A volume group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeGroup {
    pub name: String,
    pub uuid: Option<String>,
    /// `vg_attr`, e.g. `wz--n-`.
    pub attr: Option<String>,
    pub size: Option<ByteSize>,
    pub free: Option<ByteSize>,
    pub extent_size: Option<ByteSize>,
    pub extent_count: Option<u64>,
    pub free_extent_count: Option<u64>,
    /// Allocated extents (`vgdisplay -c` field 14; else extent_count − free_extent_count).
    pub allocated_extent_count: Option<u64>,
    pub pv_count: Option<u64>,
    pub lv_count: Option<u64>,
    pub snap_count: Option<u64>,
    pub missing_pv_count: Option<u64>,
    /// Names of this VG's PVs (filled by [`LvmReport::resolve`] from the PV report).
    pub pvs: Vec<String>,
    pub tags: Vec<String>,
}

/// A physical volume (or, with `pvs -a`, any block device LVM looked at).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhysicalVolume {
    /// Device path (`pv_name`), e.g. `/dev/loop100`.
    pub name: String,
    /// `None` for orphan PVs / non-PV devices.
    pub vg: Option<String>,
    pub uuid: Option<String>,
    pub fmt: Option<String>,
    pub attr: Option<String>,
    pub size: Option<ByteSize>,
    pub free: Option<ByteSize>,
    pub dev_size: Option<ByteSize>,
    pub tags: Vec<String>,
}

/// What an LV is, from `lv_attr`, `lv_role`/`lv_layout` and LVM's reserved name suffixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LvRole {
    /// `t…` thin pool (heketi: `tp_*`).
    ThinPool,
    /// `V…` thin volume (heketi bricks: `brick_*`).
    Thin,
    /// `[<pool>_tdata]`, `T…`.
    ThinPoolData,
    /// `[<pool>_tmeta]`.
    ThinPoolMetadata,
    /// `[lvolN_pmspare]`.
    PoolMetadataSpare,
    /// plain LV (linear or striped, `-…`, also an old-style snapshot origin).
    Linear,
    /// old-style (COW) snapshot.
    Snapshot,
    Mirror,
    Raid,
    Cache,
    Vdo,
    /// other hidden/private sub-LVs (`_rimage_N`, `_rmeta_N`, `_mlog`, `_cdata`, pvmove, …).
    Internal,
    #[default]
    Unknown,
}

impl LvRole {
    /// Hidden helper LVs that must never be taken for user data (bricks).
    pub fn is_internal(self) -> bool {
        matches!(
            self,
            LvRole::ThinPoolData | LvRole::ThinPoolMetadata | LvRole::PoolMetadataSpare | LvRole::Internal
        )
    }
}

/// A logical volume.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogicalVolume {
    /// Name without LVM's `[ ]` brackets.
    pub name: String,
    /// The VG (empty when the report did not include `vg_name`/`lv_full_name`).
    pub vg: String,
    /// The name was printed in brackets (hidden LV, `lvs -a`).
    pub hidden: bool,
    pub role: LvRole,
    pub uuid: Option<String>,
    /// `lv_attr`, e.g. `Vwi-aotz--` (`X` = state unknown, e.g. activation disabled).
    pub attr: Option<String>,
    pub size: Option<ByteSize>,
    /// Thin volumes: their pool.
    pub pool_lv: Option<String>,
    /// Thin pools: size of the data sub-LV (= pool size; filled by [`LvmReport::resolve`]).
    pub data_size: Option<ByteSize>,
    /// Thin pools: `lv_metadata_size` (or the `_tmeta` sub-LV's size).
    pub metadata_size: Option<ByteSize>,
    pub chunk_size: Option<ByteSize>,
    pub origin: Option<String>,
    pub data_percent: Option<f64>,
    pub metadata_percent: Option<f64>,
    pub segtype: Option<String>,
    /// raw `lv_role` (e.g. `private,thin,pool,data`) when reported.
    pub lv_role: Option<String>,
    /// raw `lv_layout` (e.g. `thin,pool`) when reported.
    pub lv_layout: Option<String>,
    pub devices: Option<String>,
    pub tags: Vec<String>,
}

impl LogicalVolume {
    /// `lv_attr` position 5: `a` active, `-` inactive, `X` unknown.
    pub fn active(&self) -> Option<bool> {
        self.attr_char(4).and_then(|c| match c {
            'a' | 'h' | 's' | 'I' | 'S' | 'd' | 'i' | 'c' | 'm' | 'D' => Some(true),
            '-' => Some(false),
            _ => None,
        })
    }

    /// `lv_attr` position 6: `o` open (mounted/in use), `-` closed, `X` unknown.
    pub fn open(&self) -> Option<bool> {
        self.attr_char(5).and_then(|c| match c {
            'o' => Some(true),
            '-' => Some(false),
            _ => None,
        })
    }

    fn attr_char(&self, i: usize) -> Option<char> {
        self.attr.as_deref().and_then(|a| a.chars().nth(i))
    }
}

/// VGs, PVs and LVs from one or more LVM reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LvmReport {
    pub vgs: Vec<VolumeGroup>,
    pub pvs: Vec<PhysicalVolume>,
    pub lvs: Vec<LogicalVolume>,
    /// Lines that were not part of the report (warnings merged from stderr, prompts) and
    /// error/warning entries of the JSON `log` report.
    pub warnings: Vec<String>,
}

impl LvmReport {
    /// Appends another report (e.g. the separate `vgs`, `pvs` and `lvs` outputs).
    pub fn merge(&mut self, other: LvmReport) {
        self.vgs.extend(other.vgs);
        self.pvs.extend(other.pvs);
        self.lvs.extend(other.lvs);
        self.warnings.extend(other.warnings);
    }

    /// Cross-links the reports: each VG's PV list, thin pools' data/metadata sizes from their
    /// hidden sub-LVs when the pool row lacks them.
    pub fn resolve(&mut self) {
        for vg in &mut self.vgs {
            let mut pvs: Vec<String> = self
                .pvs
                .iter()
                .filter(|pv| pv.vg.as_deref() == Some(vg.name.as_str()))
                .map(|pv| pv.name.clone())
                .collect();
            pvs.append(&mut vg.pvs);
            pvs.sort();
            pvs.dedup();
            vg.pvs = pvs;
            if vg.allocated_extent_count.is_none() {
                if let (Some(t), Some(f)) = (vg.extent_count, vg.free_extent_count) {
                    vg.allocated_extent_count = t.checked_sub(f);
                }
            }
        }
        let sizes: BTreeMap<(String, String), ByteSize> =
            self.lvs.iter().filter_map(|lv| Some(((lv.vg.clone(), lv.name.clone()), lv.size?))).collect();
        for lv in &mut self.lvs {
            if lv.role != LvRole::ThinPool {
                continue;
            }
            let sub = |suffix: &str| sizes.get(&(lv.vg.clone(), format!("{}{suffix}", lv.name))).copied();
            if lv.metadata_size.is_none() {
                lv.metadata_size = sub("_tmeta");
            }
            if lv.data_size.is_none() {
                lv.data_size = sub("_tdata").or(lv.size);
            }
        }
    }

    /// The LV `vg/name`.
    pub fn lv(&self, vg: &str, name: &str) -> Option<&LogicalVolume> {
        self.lvs.iter().find(|lv| lv.vg == vg && lv.name == name)
    }

    /// The VG `name`.
    pub fn vg(&self, name: &str) -> Option<&VolumeGroup> {
        self.vgs.iter().find(|vg| vg.name == name)
    }
}

/// Which report a column/table output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LvmKind {
    Vg,
    Pv,
    Lv,
}

type Fields = BTreeMap<String, String>;

/// Reads typed values out of one report row.
struct Row<'a> {
    f: &'a Fields,
    unit: LvmUnit,
    format: Format,
}

impl Row<'_> {
    fn s(&self, key: &str) -> Option<String> {
        self.f.get(key).and_then(|v| non_empty(v))
    }

    /// Names printed by LVM in brackets (`[x_tdata]`) lose them.
    fn name(&self, key: &str) -> Option<String> {
        self.s(key).map(|v| strip_brackets(&v).0.to_string())
    }

    fn size(&self, key: &str) -> Result<Option<ByteSize>, ParseError> {
        match self.s(key) {
            None => Ok(None),
            Some(v) => parse_lvm_size(&v, self.unit)
                .map(Some)
                .ok_or_else(|| ParseError::invalid(self.format, key, v)),
        }
    }

    fn count(&self, key: &str) -> Result<Option<u64>, ParseError> {
        match self.s(key) {
            None => Ok(None),
            Some(v) => parse_u64(&v).map(Some).ok_or_else(|| ParseError::invalid(self.format, key, v)),
        }
    }

    fn percent(&self, key: &str) -> Result<Option<f64>, ParseError> {
        match self.s(key) {
            None => Ok(None),
            Some(v) => v
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|p| p.is_finite())
                .map(Some)
                .ok_or_else(|| ParseError::invalid(self.format, key, v)),
        }
    }

    fn tags(&self, key: &str) -> Vec<String> {
        self.f.get(key).map(|v| split_list(v)).unwrap_or_default()
    }
}

fn strip_brackets(s: &str) -> (&str, bool) {
    let t = s.trim();
    match t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) => (inner, true),
        None => (t, false),
    }
}

fn vg_from_row(r: &Row<'_>) -> Result<VolumeGroup, ParseError> {
    let name = r.s("vg_name").ok_or_else(|| ParseError::missing(r.format, "vg_name in a vg row"))?;
    Ok(VolumeGroup {
        name,
        uuid: r.s("vg_uuid"),
        attr: r.s("vg_attr"),
        size: r.size("vg_size")?,
        free: r.size("vg_free")?,
        extent_size: r.size("vg_extent_size")?,
        extent_count: r.count("vg_extent_count")?,
        free_extent_count: r.count("vg_free_count")?,
        allocated_extent_count: None,
        pv_count: r.count("pv_count")?,
        lv_count: r.count("lv_count")?,
        snap_count: r.count("snap_count")?,
        missing_pv_count: r.count("vg_missing_pv_count")?,
        pvs: Vec::new(),
        tags: r.tags("vg_tags"),
    })
}

fn pv_from_row(r: &Row<'_>) -> Result<PhysicalVolume, ParseError> {
    let name = r.s("pv_name").ok_or_else(|| ParseError::missing(r.format, "pv_name in a pv row"))?;
    Ok(PhysicalVolume {
        name,
        vg: r.s("vg_name"),
        uuid: r.s("pv_uuid"),
        fmt: r.s("pv_fmt"),
        attr: r.s("pv_attr"),
        size: r.size("pv_size")?,
        free: r.size("pv_free")?,
        dev_size: r.size("dev_size")?,
        tags: r.tags("pv_tags"),
    })
}

fn lv_from_row(r: &Row<'_>) -> Result<LogicalVolume, ParseError> {
    let raw_name = r.s("lv_name").ok_or_else(|| ParseError::missing(r.format, "lv_name in an lv row"))?;
    let (name, hidden) = strip_brackets(&raw_name);
    let vg = r
        .s("vg_name")
        .or_else(|| r.s("lv_full_name").and_then(|f| f.split_once('/').map(|(vg, _)| vg.to_string())))
        .unwrap_or_default();
    let mut lv = LogicalVolume {
        name: name.to_string(),
        vg,
        hidden,
        role: LvRole::Unknown,
        uuid: r.s("lv_uuid"),
        attr: r.s("lv_attr"),
        size: r.size("lv_size")?,
        pool_lv: r.name("pool_lv"),
        data_size: None,
        metadata_size: r.size("lv_metadata_size")?,
        chunk_size: r.size("chunk_size")?,
        origin: r.name("origin"),
        data_percent: r.percent("data_percent")?,
        metadata_percent: r.percent("metadata_percent")?,
        segtype: r.s("segtype"),
        lv_role: r.s("lv_role"),
        lv_layout: r.s("lv_layout"),
        devices: r.s("devices"),
        tags: r.tags("lv_tags"),
    };
    lv.role = classify_lv(&lv);
    Ok(lv)
}

/// Decides an LV's role. LVM reserves the sub-LV suffixes, so names are reliable; `lv_role`
/// (when reported) and the first `lv_attr` character decide the rest.
pub fn classify_lv(lv: &LogicalVolume) -> LvRole {
    let name = lv.name.as_str();
    if let Some(n) = name.strip_prefix("lvol").and_then(|r| r.strip_suffix("_pmspare")) {
        if n.chars().all(|c| c.is_ascii_digit()) {
            return LvRole::PoolMetadataSpare;
        }
    }
    if name.ends_with("_pmspare") {
        return LvRole::PoolMetadataSpare;
    }
    if name.ends_with("_tdata") {
        return LvRole::ThinPoolData;
    }
    if name.ends_with("_tmeta") {
        return LvRole::ThinPoolMetadata;
    }
    const INTERNAL_MARKERS: &[&str] = &[
        "_rimage_", "_rmeta_", "_mimage_", "_mlog", "_cdata", "_cmeta", "_corig", "_vorigin", "_vdata",
        "_iorig", "_imeta", "_cvol", "_wcorig",
    ];
    if INTERNAL_MARKERS.iter().any(|m| name.contains(m)) {
        return LvRole::Internal;
    }
    // A thin pool is "private" in lvm2 2.03's lv_role (users cannot open it); its layout and
    // attr say what it is. Decide it before "private" turns it into an internal LV.
    let layout = lv.lv_layout.as_deref().unwrap_or("");
    if lv.attr.as_deref().is_some_and(|a| a.starts_with('t'))
        || (layout.contains("thin") && layout.contains("pool"))
    {
        return LvRole::ThinPool;
    }
    if let Some(role) = lv.lv_role.as_deref() {
        let parts: Vec<&str> = role.split(',').map(str::trim).collect();
        let has = |p: &str| parts.contains(&p);
        if has("spare") {
            return LvRole::PoolMetadataSpare;
        }
        if has("thin") && has("pool") && has("data") {
            return LvRole::ThinPoolData;
        }
        if has("thin") && has("pool") && has("metadata") {
            return LvRole::ThinPoolMetadata;
        }
        if has("private") && !has("pool") {
            return LvRole::Internal;
        }
    }
    match lv.attr.as_deref().and_then(|a| a.chars().next()) {
        Some('t') => LvRole::ThinPool,
        Some('V') => LvRole::Thin,
        Some('T') => LvRole::ThinPoolData,
        Some('e') => LvRole::Internal,
        Some('-') | Some('o') | Some('O') => LvRole::Linear,
        Some('s') | Some('S') => LvRole::Snapshot,
        Some('m') | Some('M') => LvRole::Mirror,
        Some('r') | Some('R') => LvRole::Raid,
        Some('C') => LvRole::Cache,
        Some('d') | Some('D') => LvRole::Vdo,
        Some('i' | 'I' | 'l' | 'p' | 'v' | 'c' | 'g') => LvRole::Internal,
        _ => {
            if layout.contains("thin") && layout.contains("pool") {
                LvRole::ThinPool
            } else if layout.contains("thin") || lv.pool_lv.is_some() {
                LvRole::Thin
            } else if lv.hidden {
                LvRole::Internal
            } else if layout.contains("linear") || layout.contains("striped") {
                LvRole::Linear
            } else {
                LvRole::Unknown
            }
        }
    }
}

fn push_row(
    report: &mut LvmReport,
    kind: LvmKind,
    fields: &Fields,
    unit: LvmUnit,
    format: Format,
) -> Result<(), ParseError> {
    if fields.values().all(|v| v.trim().is_empty()) {
        return Ok(()); // `{}` placeholders of lvm fullreport
    }
    let r = Row { f: fields, unit, format };
    match kind {
        LvmKind::Vg => report.vgs.push(vg_from_row(&r)?),
        LvmKind::Pv => report.pvs.push(pv_from_row(&r)?),
        LvmKind::Lv => report.lvs.push(lv_from_row(&r)?),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// JSON

fn json_scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
        Value::Null => Some(String::new()),
        // json_std prints list fields (tags) as arrays
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        Value::Object(_) => None,
    }
}

/// Lines that cannot belong to LVM's JSON (which puts one token group per line) are stderr
/// noise: keep them out, report them as warnings.
fn split_json_noise(text: &str) -> (String, Vec<String>) {
    let mut json = String::with_capacity(text.len());
    let mut noise = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with(['{', '}', '[', ']', '"', ',']) {
            json.push_str(line);
            json.push('\n');
        } else {
            noise.push(t.to_string());
        }
    }
    (json, noise)
}

/// Removes commas directly before `]` or `}` (outside strings) — seen in lvm's own man page
/// example of the `log` report.
fn strip_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if c == '"' {
            in_str = true;
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|n| !n.is_whitespace());
            if matches!(next, Some(']') | Some('}')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn parse_json_value(text: &str, format: Format) -> Result<(Value, Vec<String>), ParseError> {
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    match serde_json::from_str::<Value>(t) {
        Ok(v) => Ok((v, Vec::new())),
        Err(first) => {
            let (json, noise) = split_json_noise(t);
            let json = strip_trailing_commas(&json);
            if json.trim().is_empty() {
                return Err(ParseError::Empty { format });
            }
            match serde_json::from_str::<Value>(&json) {
                Ok(v) => {
                    if !noise.is_empty() {
                        tracing::debug!(lines = noise.len(), "lvm json: dropped non-JSON lines");
                    }
                    Ok((v, noise))
                }
                Err(_) => Err(ParseError::Json { format, message: first.to_string() }),
            }
        }
    }
}

/// Parses `vgs|pvs|lvs|lvm fullreport --reportformat json|json_std` output. Numbers without a
/// unit suffix are bytes (`--units b --nosuffix`); see [`parse_lvm_json_with_unit`].
pub fn parse_lvm_json(text: &str) -> Result<LvmReport, ParseError> {
    parse_lvm_json_with_unit(text, LvmUnit::Bytes)
}

/// As [`parse_lvm_json`], taking suffix-less sizes in `unit`.
pub fn parse_lvm_json_with_unit(text: &str, unit: LvmUnit) -> Result<LvmReport, ParseError> {
    parse_lvm_json_sections(text, unit).map(|(r, _)| r)
}

fn parse_lvm_json_sections(text: &str, unit: LvmUnit) -> Result<(LvmReport, Vec<LvmKind>), ParseError> {
    let format = Format::LvmJson;
    let (root, noise) = parse_json_value(text, format)?;
    let obj = root
        .as_object()
        .ok_or_else(|| ParseError::invalid(format, "top level (expected an object)", short(&root)))?;
    let reports = obj
        .get("report")
        .and_then(Value::as_array)
        .ok_or_else(|| ParseError::missing(format, "\"report\" array"))?;
    let mut report = LvmReport { warnings: noise, ..LvmReport::default() };
    let mut seen = Vec::new();
    for entry in reports {
        let Some(entry) = entry.as_object() else {
            return Err(ParseError::invalid(format, "report entry", short(entry)));
        };
        for (section, kind) in [("vg", LvmKind::Vg), ("pv", LvmKind::Pv), ("lv", LvmKind::Lv)] {
            let Some(rows) = entry.get(section) else {
                continue;
            };
            let rows = rows.as_array().ok_or_else(|| ParseError::invalid(format, section, short(rows)))?;
            if !seen.contains(&kind) {
                seen.push(kind);
            }
            for row in rows {
                let row = row
                    .as_object()
                    .ok_or_else(|| ParseError::invalid(format, format!("{section} row"), short(row)))?;
                let fields: Fields =
                    row.iter().filter_map(|(k, v)| Some((k.to_ascii_lowercase(), json_scalar(v)?))).collect();
                push_row(&mut report, kind, &fields, unit, format)?;
            }
        }
    }
    if let Some(log) = obj.get("log").and_then(Value::as_array) {
        for entry in log {
            let Some(e) = entry.as_object() else { continue };
            let ty = e.get("log_type").and_then(Value::as_str).unwrap_or("");
            if ty == "error" || ty == "warn" {
                if let Some(msg) = e.get("log_message").and_then(Value::as_str) {
                    report.warnings.push(format!("{ty}: {msg}"));
                }
            }
        }
    }
    Ok((report, seen))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(60).collect()
}

fn parse_json_kind(text: &str, kind: LvmKind, what: &str) -> Result<LvmReport, ParseError> {
    let (report, seen) = parse_lvm_json_sections(text, LvmUnit::Bytes)?;
    if !seen.contains(&kind) {
        return Err(ParseError::missing(Format::LvmJson, format!("\"{what}\" report")));
    }
    Ok(report)
}

/// `vgs --reportformat json …` → VGs (error if the output has no `vg` report).
pub fn parse_vgs_json(text: &str) -> Result<Vec<VolumeGroup>, ParseError> {
    parse_json_kind(text, LvmKind::Vg, "vg").map(|r| r.vgs)
}

/// `pvs --reportformat json …` → PVs.
pub fn parse_pvs_json(text: &str) -> Result<Vec<PhysicalVolume>, ParseError> {
    parse_json_kind(text, LvmKind::Pv, "pv").map(|r| r.pvs)
}

/// `lvs [-a] --reportformat json …` → LVs (hidden sub-LVs recognised, see [`LvRole`]).
pub fn parse_lvs_json(text: &str) -> Result<Vec<LogicalVolume>, ParseError> {
    parse_json_kind(text, LvmKind::Lv, "lv").map(|r| r.lvs)
}

// ---------------------------------------------------------------------------------------------
// Column output of older lvm2: --noheadings --separator '|' [--nameprefixes]

/// Canonical field name: lower case, without `LVM2_`, with the report prefix lvm allows
/// callers to omit (`-o name,size` on `vgs` = `vg_name,vg_size`).
fn canonical_field(field: &str, kind: LvmKind) -> String {
    let f = field.trim().to_ascii_lowercase();
    let f = f.strip_prefix("lvm2_").map(str::to_string).unwrap_or(f);
    const UNPREFIXED: &[&str] = &[
        "pv_count",
        "lv_count",
        "snap_count",
        "pool_lv",
        "origin",
        "data_percent",
        "metadata_percent",
        "snap_percent",
        "copy_percent",
        "move_pv",
        "mirror_log",
        "convert_lv",
        "devices",
        "segtype",
        "chunk_size",
        "dev_size",
        "pe_start",
        "seg_count",
        "stripes",
        "data_lv",
        "metadata_lv",
        "region_size",
        "seg_monitor",
        "thin_count",
    ];
    if f.starts_with("vg_")
        || f.starts_with("lv_")
        || f.starts_with("pv_")
        || UNPREFIXED.contains(&f.as_str())
    {
        return f;
    }
    let prefix = match kind {
        LvmKind::Vg => "vg_",
        LvmKind::Pv => "pv_",
        LvmKind::Lv => "lv_",
    };
    format!("{prefix}{f}")
}

/// Parses `vgs|pvs|lvs --noheadings --separator '|' -o <fields>` output, where `fields` is the
/// exact `-o` list (`+` additions expanded by the caller). Lines without the separator are
/// treated as warnings; a line with the wrong number of columns is an error.
pub fn parse_lvm_columns(text: &str, kind: LvmKind, fields: &[&str]) -> Result<LvmReport, ParseError> {
    parse_lvm_columns_with(text, kind, fields, "|", LvmUnit::Bytes)
}

/// As [`parse_lvm_columns`] with an explicit separator and unit for suffix-less sizes.
pub fn parse_lvm_columns_with(
    text: &str,
    kind: LvmKind,
    fields: &[&str],
    separator: &str,
    unit: LvmUnit,
) -> Result<LvmReport, ParseError> {
    let format = Format::LvmColumns;
    if fields.is_empty() || separator.is_empty() {
        return Err(ParseError::missing(format, "field list / separator"));
    }
    if clean(text).is_empty() {
        return Err(ParseError::Empty { format });
    }
    if text.contains("LVM2_") && text.contains("='") {
        return parse_lvm_nameprefixes_with(text, unit);
    }
    let names: Vec<String> = fields.iter().map(|f| canonical_field(f, kind)).collect();
    let mut report = LvmReport::default();
    for (no, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if names.len() > 1 && !t.contains(separator) {
            report.warnings.push(t.to_string());
            continue;
        }
        let values: Vec<&str> = t.split(separator).collect();
        if values.len() != names.len() {
            return Err(ParseError::line(
                format,
                no + 1,
                format!("{} columns, expected {}", values.len(), names.len()),
            ));
        }
        let mut row = Fields::new();
        for (k, v) in names.iter().zip(values) {
            insert_field(&mut row, k, v);
        }
        push_row(&mut report, kind, &row, unit, format)?;
    }
    if report.vgs.is_empty() && report.pvs.is_empty() && report.lvs.is_empty() && !report.warnings.is_empty()
    {
        return Err(ParseError::missing(format, "report rows (only non-report lines)"));
    }
    Ok(report)
}

/// First non-empty value wins when a column repeats (`-o +pool_lv` etc.).
fn insert_field(row: &mut Fields, key: &str, value: &str) {
    let v = value.trim();
    match row.get(key) {
        Some(existing) if !existing.trim().is_empty() => {}
        _ => {
            row.insert(key.to_string(), v.to_string());
        }
    }
}

/// Tokenises `LVM2_A='x'|LVM2_B='y'` (any separator; `\'` and `\\` escapes; unquoted values
/// up to whitespace or `|`). `None` if the line has no pairs.
fn nameprefix_pairs(line: &str) -> Option<Vec<(String, String)>> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        // find the start of a key
        while i < chars.len() && !(chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if start == i {
            break;
        }
        let key: String = chars[start..i].iter().collect();
        if chars.get(i) != Some(&'=') {
            return None;
        }
        i += 1;
        let mut value = String::new();
        match chars.get(i) {
            Some(&q) if q == '\'' || q == '"' => {
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    let c = chars[i];
                    if c == '\\' && i + 1 < chars.len() {
                        value.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    if c == q {
                        closed = true;
                        i += 1;
                        break;
                    }
                    value.push(c);
                    i += 1;
                }
                if !closed {
                    return None;
                }
            }
            _ => {
                while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '|' {
                    value.push(chars[i]);
                    i += 1;
                }
            }
        }
        out.push((key, value));
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Parses `--nameprefixes --noheadings` output (`LVM2_LV_NAME='x'|LVM2_VG_NAME='y'`); the row
/// kind follows from the fields (`LVM2_LV_NAME` → LV, `LVM2_PV_NAME` → PV, else VG).
pub fn parse_lvm_nameprefixes(text: &str) -> Result<LvmReport, ParseError> {
    parse_lvm_nameprefixes_with(text, LvmUnit::Bytes)
}

fn parse_lvm_nameprefixes_with(text: &str, unit: LvmUnit) -> Result<LvmReport, ParseError> {
    let format = Format::LvmNamePrefixes;
    if clean(text).is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut report = LvmReport::default();
    let mut rows = 0usize;
    for (no, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if !t.starts_with("LVM2_") {
            report.warnings.push(t.to_string());
            continue;
        }
        let pairs = nameprefix_pairs(t)
            .ok_or_else(|| ParseError::line(format, no + 1, "malformed LVM2_KEY='value' pairs"))?;
        let mut row = Fields::new();
        let mut kind = LvmKind::Vg;
        for (k, v) in &pairs {
            let key = canonical_field(k, LvmKind::Vg);
            if key == "lv_name" {
                kind = LvmKind::Lv;
            } else if key == "pv_name" && kind != LvmKind::Lv {
                kind = LvmKind::Pv;
            }
            insert_field(&mut row, &key, v);
        }
        push_row(&mut report, kind, &row, unit, format)?;
        rows += 1;
    }
    if rows == 0 {
        return Err(ParseError::missing(format, "LVM2_ rows"));
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Default table with headings

/// Heading → field, per report kind.
fn heading_field(heading: &str, kind: LvmKind) -> String {
    let by_kind = |vg: &str, pv: &str, lv: &str| match kind {
        LvmKind::Vg => vg.to_string(),
        LvmKind::Pv => pv.to_string(),
        LvmKind::Lv => lv.to_string(),
    };
    match heading {
        "VG" => "vg_name".into(),
        "PV" => "pv_name".into(),
        "LV" => "lv_name".into(),
        "Attr" => by_kind("vg_attr", "pv_attr", "lv_attr"),
        "Fmt" => by_kind("vg_fmt", "pv_fmt", "lv_fmt"),
        "#PV" => "pv_count".into(),
        "#LV" => "lv_count".into(),
        "#SN" => "snap_count".into(),
        "VSize" => "vg_size".into(),
        "VFree" => "vg_free".into(),
        "Ext" => "vg_extent_size".into(),
        "#Ext" => "vg_extent_count".into(),
        "Free" => "vg_free_count".into(),
        "VG UUID" => "vg_uuid".into(),
        "VG Tags" => "vg_tags".into(),
        "PSize" => "pv_size".into(),
        "PFree" => "pv_free".into(),
        "DevSize" => "dev_size".into(),
        "PV UUID" => "pv_uuid".into(),
        "PV Tags" => "pv_tags".into(),
        "1st PE" | "PE" => "pe_start".into(),
        "LSize" => "lv_size".into(),
        "Pool" => "pool_lv".into(),
        "Origin" => "origin".into(),
        "Data%" => "data_percent".into(),
        "Meta%" => "metadata_percent".into(),
        "Move" => "move_pv".into(),
        "Log" => "mirror_log".into(),
        "Cpy%Sync" => "copy_percent".into(),
        "Convert" => "convert_lv".into(),
        "LV Tags" => "lv_tags".into(),
        "LV UUID" => "lv_uuid".into(),
        "Devices" => "devices".into(),
        "Type" => "segtype".into(),
        "Chunk" => "chunk_size".into(),
        "Role" => "lv_role".into(),
        "Layout" => "lv_layout".into(),
        "#Thins" => "thin_count".into(),
        other => other.to_ascii_lowercase(),
    }
}

const TWO_WORD_HEADINGS: &[(&str, &str)] = &[
    ("VG", "UUID"),
    ("VG", "Tags"),
    ("PV", "UUID"),
    ("PV", "Tags"),
    ("LV", "UUID"),
    ("LV", "Tags"),
    ("1st", "PE"),
];

/// Whitespace-separated tokens with their start column (in chars).
fn tokens_with_pos(line: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    for (i, c) in line.chars().enumerate() {
        if c.is_whitespace() {
            if !cur.is_empty() {
                out.push((start, std::mem::take(&mut cur)));
            }
        } else {
            if cur.is_empty() {
                start = i;
            }
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push((start, cur));
    }
    out
}

struct Heading {
    kind: LvmKind,
    /// (start column, field name)
    columns: Vec<(usize, String)>,
}

const KNOWN_HEADINGS: &[&str] = &[
    "VG", "PV", "LV", "Attr", "Fmt", "#PV", "#LV", "#SN", "VSize", "VFree", "Ext", "#Ext", "Free", "VG UUID",
    "VG Tags", "VProfile", "#VMda", "VMdaFree", "VMdaSize", "#VMdaUse", "#VMdaCps", "PSize", "PFree",
    "DevSize", "PV UUID", "PV Tags", "PMdaFree", "PMdaSize", "#PMda", "#PMdaUse", "1st PE", "PE", "LSize",
    "Pool", "Origin", "Data%", "Meta%", "Move", "Log", "Cpy%Sync", "Convert", "LV Tags", "LV UUID",
    "Devices", "Type", "Chunk", "Role", "Layout", "#Thins", "Path", "DMPath", "Parent", "Maj", "Min", "KMaj",
    "KMin", "Snap%", "#Seg", "Region", "LProfile", "Alloc", "Health", "SSize", "Start", "Stripe", "#Str",
    "AllocPE", "Used",
];

fn parse_heading(line: &str) -> Option<Heading> {
    let toks = tokens_with_pos(line);
    let mut columns: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (pos, ref t) = toks[i];
        if let Some((npos, next)) = toks.get(i + 1) {
            let adjacent = *npos == pos + t.chars().count() + 1;
            if adjacent && TWO_WORD_HEADINGS.contains(&(t.as_str(), next.as_str())) {
                columns.push((pos, format!("{t} {next}")));
                i += 2;
                continue;
            }
        }
        columns.push((pos, t.clone()));
        i += 1;
    }
    if columns.len() < 2 || !columns.iter().all(|(_, h)| KNOWN_HEADINGS.contains(&h.as_str())) {
        return None;
    }
    let kind = match columns[0].1.as_str() {
        "VG" => LvmKind::Vg,
        "PV" => LvmKind::Pv,
        "LV" => LvmKind::Lv,
        _ => return None,
    };
    Some(Heading { kind, columns: columns.into_iter().map(|(p, h)| (p, heading_field(&h, kind))).collect() })
}

fn plausible_attr(attr: &str, kind: LvmKind) -> bool {
    let n = attr.chars().count();
    let chars_ok = attr.chars().all(|c| c.is_ascii_alphabetic() || c == '-');
    let first = attr.chars().next().unwrap_or(' ');
    chars_ok
        && match kind {
            LvmKind::Vg => n == 6 && "wr-".contains(first),
            LvmKind::Pv => (3..=4).contains(&n) && "a-".contains(first),
            LvmKind::Lv => (6..=10).contains(&n) && "-mMoOrRsSpvViIlcCtTedDg".contains(first),
        }
}

/// Splits a table row into fields by the heading columns: headings are left-aligned at their
/// column's start, values left- or right-aligned inside it, so each value starts at or after
/// its heading and before the next one. `None` if the row does not look like a report row.
fn table_row(h: &Heading, line: &str) -> Option<Fields> {
    let mut row = Fields::new();
    for (pos, tok) in tokens_with_pos(line) {
        let idx = h.columns.iter().rposition(|(start, _)| *start <= pos).unwrap_or(0);
        let key = &h.columns[idx].1;
        let entry = row.entry(key.clone()).or_default();
        if !entry.is_empty() {
            entry.push(' ');
        }
        entry.push_str(&tok);
    }
    let name_key = &h.columns[0].1;
    row.get(name_key).filter(|n| !n.contains(' '))?;
    let attr_key = heading_field("Attr", h.kind);
    if h.columns.iter().any(|(_, f)| *f == attr_key) {
        let attr = row.get(&attr_key)?;
        if !plausible_attr(attr, h.kind) {
            return None;
        }
    }
    Some(row)
}

/// Parses the default human table of `vgs`, `pvs`, `lvs` (one or several tables; prompts,
/// warnings and other lines around them are returned as warnings). Sizes are human-rounded
/// and come back [`ByteSize::approximate`].
pub fn parse_lvm_table(text: &str) -> Result<LvmReport, ParseError> {
    let format = Format::LvmTable;
    if clean(text).is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut report = LvmReport::default();
    let mut tables = 0;
    let mut current: Option<Heading> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            current = None;
            continue;
        }
        if let Some(h) = parse_heading(line) {
            current = Some(h);
            tables += 1;
            continue;
        }
        let parsed = current.as_ref().and_then(|h| Some((h.kind, table_row(h, line)?)));
        match parsed {
            Some((kind, row)) => push_row(&mut report, kind, &row, LvmUnit::Bytes, format)?,
            None => report.warnings.push(line.trim().to_string()),
        }
    }
    if tables == 0 {
        return Err(ParseError::missing(format, "a VG/PV/LV heading line"));
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// vgdisplay -c

/// Parses `vgdisplay -c` (colon form, 17 fields: name, access, status, internal number, max LV,
/// cur LV, open LV, max LV size, max PV, cur PV, act PV, VG size KiB, PE size KiB, total PE,
/// allocated PE, free PE, uuid — spec §4.2). Lines with another shape (warnings) are skipped;
/// no record at all is an error. Sizes are exact.
pub fn parse_vgdisplay_colon(text: &str) -> Result<Vec<VolumeGroup>, ParseError> {
    let format = Format::VgDisplayColon;
    if clean(text).is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let t = line.trim();
        let f: Vec<&str> = t.split(':').collect();
        if f.len() != 17 || t.contains(char::is_whitespace) {
            if !t.is_empty() {
                tracing::debug!(line = no + 1, "vgdisplay -c: skipping non-record line");
            }
            continue;
        }
        let num = |i: usize| -> Result<u64, ParseError> {
            parse_u64(f[i]).ok_or_else(|| {
                ParseError::line(format, no + 1, format!("field {i} is not a count: {:?}", f[i]))
            })
        };
        let kib = |v: u64| -> Result<ByteSize, ParseError> {
            v.checked_mul(1024)
                .map(ByteSize::exact)
                .ok_or_else(|| ParseError::line(format, no + 1, "size overflows"))
        };
        let pe_kib = num(12)?;
        let free_pe = num(15)?;
        let free =
            pe_kib.checked_mul(free_pe).ok_or_else(|| ParseError::line(format, no + 1, "size overflows"))?;
        if f[0].is_empty() {
            return Err(ParseError::line(format, no + 1, "empty VG name"));
        }
        out.push(VolumeGroup {
            name: f[0].to_string(),
            uuid: non_empty(f[16]).filter(|u| u != "none"),
            attr: None,
            size: Some(kib(num(11)?)?),
            free: Some(kib(free)?),
            extent_size: Some(kib(pe_kib)?),
            extent_count: Some(num(13)?),
            free_extent_count: Some(free_pe),
            allocated_extent_count: Some(num(14)?),
            pv_count: Some(num(9)?),
            lv_count: Some(num(5)?),
            snap_count: None,
            missing_pv_count: None,
            pvs: Vec::new(),
            tags: Vec::new(),
        });
    }
    if out.is_empty() {
        return Err(ParseError::missing(format, "vgdisplay -c records (17 colon-separated fields)"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// dmsetup ls

/// One `dmsetup ls` line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmDevice {
    pub name: String,
    pub major: u32,
    pub minor: u32,
    /// VG/LV/layer when the name is an LVM node.
    pub lvm: Option<DmName>,
}

/// Parses `dmsetup ls` (`name  (253:7)`, older `name  (253, 7)`); `No devices found` is empty.
pub fn parse_dmsetup_ls(text: &str) -> Result<Vec<DmDevice>, ParseError> {
    let format = Format::DmsetupLs;
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    if t == "No devices found" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (no, line) in t.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let bad = || ParseError::line(format, no + 1, format!("expected `name (major:minor)`: {l:?}"));
        let open = l.rfind('(').ok_or_else(bad)?;
        let name = l[..open].trim();
        let inner = l[open + 1..].trim().strip_suffix(')').ok_or_else(bad)?;
        let (ma, mi) = inner.split_once([':', ',']).ok_or_else(bad)?;
        let (major, minor) =
            (ma.trim().parse::<u32>().map_err(|_| bad())?, mi.trim().parse::<u32>().map_err(|_| bad())?);
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(bad());
        }
        out.push(DmDevice { name: name.to_string(), major, minor, lvm: split_dm_name(name) });
    }
    Ok(out)
}

#[cfg(test)]
mod classify_tests {
    use super::*;

    /// What the agent's `lvs -a -o …,lv_role,lv_layout` reports for a heketi thin pool on lvm2
    /// 2.03 (seen in the e2e lab): lv_role "private", layout "thin,pool".
    #[test]
    fn a_private_thin_pool_is_a_thin_pool() {
        let lv = LogicalVolume {
            name: "tp_019b12a3d1c152735e076612e3a9515d".into(),
            attr: Some("twi-XXtz--".into()),
            lv_role: Some("private".into()),
            lv_layout: Some("thin,pool".into()),
            ..Default::default()
        };
        assert_eq!(classify_lv(&lv), LvRole::ThinPool);
        let data = LogicalVolume {
            name: "tp_019b12a3d1c152735e076612e3a9515d_tdata".into(),
            attr: Some("Twi-XX----".into()),
            lv_role: Some("private,thin,pool,data".into()),
            lv_layout: Some("linear".into()),
            ..Default::default()
        };
        assert_eq!(classify_lv(&data), LvRole::ThinPoolData);
    }
}
