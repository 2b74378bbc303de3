//! lsblk: `-J` (JSON, typed values since util-linux 2.33, strings before; `mountpoints` array
//! since 2.37; children nested), `-P` (`KEY="value"` pairs, CentOS 7) and the default tree.
//!
//! Device-mapper nodes that sit on several parents (striped/mirrored LVs, multipath) are
//! printed once per parent; the result is one [`BlockDevice`] per device (keyed by MAJ:MIN,
//! else KNAME, else NAME) with all its parents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{Format, ParseError};
use super::text::{clean, unescape_hex};
use super::units::{parse_human_size, ByteSize};

/// One block device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlockDevice {
    /// `NAME` (without the tree glyphs and RHEL 6's ` (dm-N)` suffix); KNAME if NAME was not
    /// listed.
    pub name: String,
    /// Kernel name (`dm-3`, `sda1`).
    pub kname: Option<String>,
    /// `/dev/...` path when listed.
    pub path: Option<String>,
    /// `TYPE`: disk, part, lvm, loop, mpath, rom, crypt, …
    pub dev_type: Option<String>,
    pub size: Option<ByteSize>,
    /// `MAJ:MIN`, e.g. `253:4`.
    pub maj_min: Option<String>,
    pub removable: Option<bool>,
    pub read_only: Option<bool>,
    pub mountpoints: Vec<String>,
    pub fstype: Option<String>,
    pub uuid: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    /// Ids ([`BlockDevice::id`]) of the devices this one sits on.
    pub parents: Vec<String>,
    /// Ids of the devices sitting on this one.
    pub children: Vec<String>,
}

impl BlockDevice {
    /// The id used in `parents`/`children`: KNAME when known, else NAME.
    pub fn id(&self) -> &str {
        self.kname.as_deref().unwrap_or(&self.name)
    }

    fn dedupe_key(&self) -> String {
        match (&self.maj_min, &self.kname) {
            (Some(mm), _) => format!("mm:{mm}"),
            (None, Some(k)) => format!("k:{k}"),
            _ => format!("n:{}", self.name),
        }
    }
}

/// Collects devices in first-seen order, merging repeats.
#[derive(Default)]
struct Collector {
    devices: Vec<BlockDevice>,
    index: BTreeMap<String, usize>,
}

impl Collector {
    /// Adds (or merges) a device seen under `parent`; returns its id.
    fn add(&mut self, dev: BlockDevice, parent: Option<&str>) -> String {
        let key = dev.dedupe_key();
        let idx = match self.index.get(&key) {
            Some(&i) => {
                let existing = &mut self.devices[i];
                for mp in dev.mountpoints {
                    if !existing.mountpoints.contains(&mp) {
                        existing.mountpoints.push(mp);
                    }
                }
                for p in dev.parents {
                    if !existing.parents.contains(&p) {
                        existing.parents.push(p);
                    }
                }
                i
            }
            None => {
                self.devices.push(dev);
                self.index.insert(key, self.devices.len() - 1);
                self.devices.len() - 1
            }
        };
        let id = self.devices[idx].id().to_string();
        if let Some(p) = parent {
            if !self.devices[idx].parents.iter().any(|x| x == p) {
                self.devices[idx].parents.push(p.to_string());
            }
        }
        id
    }

    fn add_mountpoint(&mut self, id: &str, mp: &str) {
        if let Some(d) = self.devices.iter_mut().rev().find(|d| d.id() == id) {
            if !d.mountpoints.iter().any(|m| m == mp) {
                d.mountpoints.push(mp.to_string());
            }
        }
    }

    /// Fills `children` from `parents`.
    fn finish(mut self) -> Vec<BlockDevice> {
        let ids: Vec<String> = self.devices.iter().map(|d| d.id().to_string()).collect();
        let links: Vec<(String, String)> = self
            .devices
            .iter()
            .flat_map(|d| d.parents.iter().map(move |p| (p.clone(), d.id().to_string())))
            .collect();
        for (parent, child) in links {
            if let Some(i) = ids.iter().position(|id| *id == parent) {
                if !self.devices[i].children.contains(&child) {
                    self.devices[i].children.push(child);
                }
            }
        }
        self.devices
    }
}

fn json_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn json_bool(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_u64().map(|x| x != 0),
        Value::String(s) => match s.trim() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn json_size(v: Option<&Value>, format: Format) -> Result<Option<ByteSize>, ParseError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(|b| Some(ByteSize::exact(b)))
            .ok_or_else(|| ParseError::invalid(format, "size", n.to_string())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            parse_human_size(s).map(Some).ok_or_else(|| ParseError::invalid(format, "size", s.clone()))
        }
        Some(other) => Err(ParseError::invalid(format, "size", other.to_string())),
    }
}

/// RHEL 6 printed `vg_root-lv_root (dm-0)`: split off the kernel name.
fn split_dm_suffix(name: &str) -> (String, Option<String>) {
    let n = name.trim();
    if let Some(open) = n.rfind(" (") {
        if let Some(k) = n[open + 2..].strip_suffix(')') {
            if !k.is_empty() && !k.contains(char::is_whitespace) {
                return (n[..open].trim().to_string(), Some(k.to_string()));
            }
        }
    }
    (n.to_string(), None)
}

fn device_from_json(obj: &serde_json::Map<String, Value>, format: Format) -> Result<BlockDevice, ParseError> {
    let (name, suffix_kname) = match json_str(obj.get("name")) {
        Some(n) => split_dm_suffix(&n),
        None => (String::new(), None),
    };
    let kname = json_str(obj.get("kname")).or(suffix_kname);
    let name = if name.is_empty() {
        kname.clone().ok_or_else(|| ParseError::missing(format, "device name/kname"))?
    } else {
        name
    };
    let mut mountpoints = Vec::new();
    if let Some(Value::Array(mps)) = obj.get("mountpoints") {
        mountpoints.extend(mps.iter().filter_map(|m| json_str(Some(m))));
    }
    if let Some(mp) = json_str(obj.get("mountpoint")) {
        if !mountpoints.contains(&mp) {
            mountpoints.push(mp);
        }
    }
    let mut parents = Vec::new();
    if let Some(p) = json_str(obj.get("pkname")) {
        parents.push(p);
    }
    Ok(BlockDevice {
        name,
        kname,
        path: json_str(obj.get("path")),
        dev_type: json_str(obj.get("type")),
        size: json_size(obj.get("size"), format)?,
        maj_min: json_str(obj.get("maj:min")).or_else(|| json_str(obj.get("maj_min"))),
        removable: json_bool(obj.get("rm")),
        read_only: json_bool(obj.get("ro")),
        mountpoints,
        fstype: json_str(obj.get("fstype")),
        uuid: json_str(obj.get("uuid")),
        model: json_str(obj.get("model")).map(|m| m.trim().to_string()),
        serial: json_str(obj.get("serial")),
        wwn: json_str(obj.get("wwn")),
        parents,
        children: Vec::new(),
    })
}

fn walk_json(
    items: &[Value],
    parent: Option<&str>,
    out: &mut Collector,
    format: Format,
) -> Result<(), ParseError> {
    for item in items {
        let obj = item
            .as_object()
            .ok_or_else(|| ParseError::invalid(format, "blockdevices entry", item.to_string()))?;
        let dev = device_from_json(obj, format)?;
        let id = out.add(dev, parent);
        match obj.get("children") {
            None | Some(Value::Null) => {}
            Some(Value::Array(children)) => walk_json(children, Some(&id), out, format)?,
            Some(other) => return Err(ParseError::invalid(format, "children", other.to_string())),
        }
    }
    Ok(())
}

/// Parses `lsblk -J [-b] [-o …]` output (tree or flat `-l`/`-a` list).
pub fn parse_lsblk_json(text: &str) -> Result<Vec<BlockDevice>, ParseError> {
    let format = Format::LsblkJson;
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let root: Value =
        serde_json::from_str(t).map_err(|e| ParseError::Json { format, message: e.to_string() })?;
    let items = root
        .get("blockdevices")
        .and_then(Value::as_array)
        .ok_or_else(|| ParseError::missing(format, "\"blockdevices\" array"))?;
    let mut c = Collector::default();
    walk_json(items, None, &mut c, format)?;
    Ok(c.finish())
}

/// Splits one `-P` line into `(KEY, value)` pairs (values with `\xHH` escapes decoded).
fn pairs(line: &str) -> Option<Vec<(String, String)>> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        if chars.get(i) != Some(&'=') || start == i {
            return None;
        }
        let key: String = chars[start..i].iter().collect();
        i += 1;
        if chars.get(i) != Some(&'"') {
            return None;
        }
        i += 1;
        let vstart = i;
        while i < chars.len() && chars[i] != '"' {
            i += 1;
        }
        if i >= chars.len() {
            return None;
        }
        let raw: String = chars[vstart..i].iter().collect();
        i += 1;
        out.push((key.to_ascii_uppercase(), unescape_hex(&raw)));
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Parses `lsblk -P [-b] [-o …]` (`NAME="sda" MAJ:MIN="8:0" …`). Parents come from `PKNAME`
/// when listed (there is no tree in this format otherwise).
pub fn parse_lsblk_pairs(text: &str) -> Result<Vec<BlockDevice>, ParseError> {
    let format = Format::LsblkPairs;
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut c = Collector::default();
    for (no, line) in t.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let kv: BTreeMap<String, String> = pairs(line)
            .ok_or_else(|| ParseError::line(format, no + 1, "expected KEY=\"value\" pairs"))?
            .into_iter()
            .collect();
        let get = |k: &str| kv.get(k).filter(|v| !v.is_empty()).cloned();
        let (name, suffix_kname) = match get("NAME") {
            Some(n) => split_dm_suffix(&n),
            None => (String::new(), None),
        };
        let kname = get("KNAME").or(suffix_kname);
        let name = if name.is_empty() {
            kname.clone().ok_or_else(|| ParseError::line(format, no + 1, "neither NAME nor KNAME"))?
        } else {
            name
        };
        let size = match get("SIZE") {
            None => None,
            Some(s) => Some(parse_human_size(&s).ok_or_else(|| ParseError::invalid(format, "SIZE", s))?),
        };
        let flag = |k: &str| {
            get(k).and_then(|v| match v.as_str() {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            })
        };
        let mut mountpoints: Vec<String> = Vec::new();
        for key in ["MOUNTPOINTS", "MOUNTPOINT"] {
            if let Some(v) = get(key) {
                for mp in v.split('\n').filter(|m| !m.is_empty()) {
                    if !mountpoints.iter().any(|x| x == mp) {
                        mountpoints.push(mp.to_string());
                    }
                }
            }
        }
        let dev = BlockDevice {
            name,
            kname,
            path: get("PATH"),
            dev_type: get("TYPE"),
            size,
            maj_min: get("MAJ:MIN").or_else(|| get("MAJ_MIN")),
            removable: flag("RM"),
            read_only: flag("RO"),
            mountpoints,
            fstype: get("FSTYPE"),
            uuid: get("UUID"),
            model: get("MODEL").map(|m| m.trim().to_string()),
            serial: get("SERIAL"),
            wwn: get("WWN"),
            parents: Vec::new(),
            children: Vec::new(),
        };
        let parent = get("PKNAME");
        c.add(dev, parent.as_deref());
    }
    Ok(c.finish())
}

/// Whitespace-separated words with their start column (in chars).
fn words_with_pos(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (char col, byte offset)
    for (col, (byte, ch)) in line.char_indices().enumerate() {
        match (ch.is_whitespace(), start) {
            (false, None) => start = Some((col, byte)),
            (true, Some((c, b))) => {
                out.push((c, &line[b..byte]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some((c, b)) = start {
        out.push((c, &line[b..]));
    }
    out
}

/// Strips the tree glyphs (`├─ └─ │ ` or ASCII `|- \`- | `) and returns (depth, rest).
fn strip_tree(name_field: &str) -> (usize, &str) {
    let mut rest = name_field;
    let mut depth = 0;
    loop {
        if let Some(r) = rest
            .strip_prefix("├─")
            .or_else(|| rest.strip_prefix("└─"))
            .or_else(|| rest.strip_prefix("|-"))
            .or_else(|| rest.strip_prefix("`-"))
        {
            return (depth + 1, r);
        }
        if let Some(r) =
            rest.strip_prefix("│ ").or_else(|| rest.strip_prefix("| ")).or_else(|| rest.strip_prefix("  "))
        {
            depth += 1;
            rest = r;
            continue;
        }
        return (depth, rest);
    }
}

/// Parses the default `lsblk` tree (`NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINT[S]`, any column
/// set whose middle columns are never empty: the last column takes the rest of the line).
/// Sizes are human-rounded ([`ByteSize::approximate`]). A row that lacks columns (e.g. a
/// truncated capture) is an error.
pub fn parse_lsblk_tree(text: &str) -> Result<Vec<BlockDevice>, ParseError> {
    let format = Format::LsblkTree;
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut lines = t.lines().enumerate();
    let (_, header) =
        lines.by_ref().find(|(_, l)| !l.trim().is_empty()).ok_or(ParseError::Empty { format })?;
    let columns: Vec<String> = header.split_whitespace().map(str::to_ascii_uppercase).collect();
    if columns.first().map(String::as_str) != Some("NAME") || columns.len() < 2 {
        return Err(ParseError::missing(format, "NAME heading"));
    }
    let mp_col = if columns.last().map(String::as_str) == Some("MOUNTPOINTS") {
        words_with_pos(header).last().map(|(p, _)| *p)
    } else {
        None
    };
    let mut c = Collector::default();
    // ids of the current ancestors, by depth
    let mut stack: Vec<String> = Vec::new();
    for (no, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let (depth, rest) = strip_tree(line);
        let mut toks: Vec<&str> = rest.split_whitespace().collect();
        if toks.is_empty() {
            return Err(ParseError::line(format, no + 1, "empty row"));
        }
        // util-linux >= 2.37 prints further MOUNTPOINTS of the previous device on their own
        // line, under the column (only tree glyphs before it)
        if let Some(col) = mp_col {
            let words: Vec<(usize, &str)> = words_with_pos(line)
                .into_iter()
                .filter(|(_, w)| !w.chars().all(|c| "│|├└─`-".contains(c)))
                .collect();
            if let [(pos, mp)] = words.as_slice() {
                if *pos >= col && (mp.starts_with('/') || mp.starts_with('[')) {
                    let Some(prev) = stack.last().cloned() else {
                        return Err(ParseError::line(
                            format,
                            no + 1,
                            "mountpoint continuation without a device",
                        ));
                    };
                    c.add_mountpoint(&prev, mp);
                    continue;
                }
            }
        }
        // RHEL 6: "name (dm-N)"
        let mut name = toks.remove(0).to_string();
        let mut suffix_kname = None;
        if let Some(k) = toks.first().and_then(|t| t.strip_prefix('(').and_then(|r| r.strip_suffix(')'))) {
            suffix_kname = Some(k.to_string());
            toks.remove(0);
        }
        let want = columns.len() - 1;
        // the last column (MOUNTPOINT) may be empty
        if toks.len() + 1 < want {
            return Err(ParseError::line(
                format,
                no + 1,
                format!("{} columns, expected {}", toks.len() + 1, columns.len()),
            ));
        }
        let mut vals: BTreeMap<&str, String> = BTreeMap::new();
        for (i, col) in columns.iter().skip(1).enumerate() {
            let v = if i + 1 == want {
                toks.get(i..).map(|r| r.join(" ")).unwrap_or_default()
            } else {
                toks.get(i).map(|s| s.to_string()).unwrap_or_default()
            };
            vals.insert(col.as_str(), v);
        }
        let get = |k: &str| vals.get(k).filter(|v| !v.is_empty()).cloned();
        let maj_min = get("MAJ:MIN");
        if let Some(mm) = &maj_min {
            let ok =
                mm.split_once(':').is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
            if !ok {
                return Err(ParseError::line(format, no + 1, format!("bad MAJ:MIN {mm:?}")));
            }
        }
        let size = match get("SIZE") {
            None => None,
            Some(s) => Some(
                parse_human_size(&s)
                    .ok_or_else(|| ParseError::line(format, no + 1, format!("bad SIZE {s:?}")))?,
            ),
        };
        let flag = |k: &str| {
            get(k).and_then(|v| match v.as_str() {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            })
        };
        if name.is_empty() {
            name = suffix_kname.clone().unwrap_or_default();
        }
        let mut mountpoints = Vec::new();
        for key in ["MOUNTPOINTS", "MOUNTPOINT"] {
            if let Some(v) = get(key) {
                mountpoints.push(v);
            }
        }
        let dev = BlockDevice {
            name,
            kname: get("KNAME").or(suffix_kname),
            path: get("PATH"),
            dev_type: get("TYPE"),
            size,
            maj_min,
            removable: flag("RM"),
            read_only: flag("RO"),
            mountpoints,
            fstype: get("FSTYPE"),
            uuid: get("UUID"),
            model: get("MODEL"),
            serial: get("SERIAL"),
            wwn: get("WWN"),
            parents: Vec::new(),
            children: Vec::new(),
        };
        stack.truncate(depth);
        let parent = if depth == 0 { None } else { stack.last().cloned() };
        if depth > 0 && parent.is_none() {
            return Err(ParseError::line(format, no + 1, "child row without a parent"));
        }
        let id = c.add(dev, parent.as_deref());
        stack.push(id);
    }
    Ok(c.finish())
}
