//! gluster-block `info`/`list` output. `--json` is preferred (its text output changed between
//! 0.2 and 0.4: size units and column names); failures come back as JSON objects with
//! `RESULT: FAIL`, `errCode`, `errMsg` and become [`ParseError::GlusterBlock`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{Format, ParseError};
use super::text::clean;
use super::units::{parse_human_size, ByteSize};

/// `gluster-block info <bhv>/<block>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlockVolumeInfo {
    pub name: String,
    /// The block-hosting gluster volume.
    pub volume: Option<String>,
    pub gbid: Option<String>,
    /// `SIZE` as printed (`"1.0 GiB"`, or bytes in 0.2).
    pub size_text: Option<String>,
    pub size: Option<ByteSize>,
    pub ha: Option<u32>,
    pub password: Option<String>,
    /// `EXPORTED ON` (JSON), `EXPORTED NODE(S)` / `BLOCK CONFIG NODE(S)` (text).
    pub exported_on: Vec<String>,
    /// `RESIZE FAILED ON`: host → size it still has.
    pub resize_failed_on: BTreeMap<String, String>,
    pub encountered_failures_on: Vec<String>,
}

impl BlockVolumeInfo {
    /// heketi's IQN for this block volume (spec §4.8).
    pub fn iqn(&self) -> Option<String> {
        self.gbid.as_ref().map(|g| format!("iqn.2016-12.org.gluster-block:{g}"))
    }
}

fn json_obj(text: &str, format: Format) -> Result<serde_json::Map<String, Value>, ParseError> {
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let v: Value =
        serde_json::from_str(t).map_err(|e| ParseError::Json { format, message: e.to_string() })?;
    let Value::Object(obj) = v else {
        return Err(ParseError::invalid(format, "top level (expected an object)", t));
    };
    if obj.get("RESULT").and_then(Value::as_str) == Some("FAIL") {
        let err_code = obj.get("errCode").and_then(Value::as_i64).unwrap_or(-1);
        let mut message = obj.get("errMsg").and_then(Value::as_str).unwrap_or("").to_string();
        if message.is_empty() {
            if let Some(failed) = obj.get("FAILED ON").and_then(Value::as_array) {
                let hosts: Vec<&str> = failed.iter().filter_map(Value::as_str).collect();
                message = format!("failed on {}", hosts.join(", "));
            }
        }
        return Err(ParseError::GlusterBlock { format, err_code, message });
    }
    Ok(obj)
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// `gluster-block info <bhv>/<block> --json`.
pub fn parse_gluster_block_info_json(text: &str) -> Result<BlockVolumeInfo, ParseError> {
    let format = Format::GlusterBlockJson;
    let obj = json_obj(text, format)?;
    let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let name = s("NAME").ok_or_else(|| ParseError::missing(format, "NAME"))?;
    let size_text = s("SIZE");
    let size = match &size_text {
        None => None,
        Some(t) => Some(parse_human_size(t).ok_or_else(|| ParseError::invalid(format, "SIZE", t.clone()))?),
    };
    let ha = match obj.get("HA") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(t)) => t.trim().parse().ok(),
        Some(other) => return Err(ParseError::invalid(format, "HA", other.to_string())),
    };
    let resize_failed_on = match obj.get("RESIZE FAILED ON") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    };
    Ok(BlockVolumeInfo {
        name,
        volume: s("VOLUME"),
        gbid: s("GBID"),
        size_text,
        size,
        ha,
        password: s("PASSWORD").filter(|p| !p.is_empty()),
        exported_on: str_list(obj.get("EXPORTED ON")),
        resize_failed_on,
        encountered_failures_on: str_list(obj.get("ENCOUNTERED FAILURES ON")),
    })
}

/// `gluster-block list <bhv> --json` → block volume names.
pub fn parse_gluster_block_list_json(text: &str) -> Result<Vec<String>, ParseError> {
    let format = Format::GlusterBlockJson;
    let obj = json_obj(text, format)?;
    match obj.get("blocks") {
        Some(Value::Array(items)) => Ok(items.iter().filter_map(Value::as_str).map(str::to_string).collect()),
        Some(other) => Err(ParseError::invalid(format, "blocks", other.to_string())),
        None => Err(ParseError::missing(format, "\"blocks\"")),
    }
}

/// `gluster-block info <bhv>/<block>` text (0.2: SIZE in bytes, `BLOCK CONFIG NODE(S)`;
/// ≥ 0.4: `1.0 GiB`, `EXPORTED NODE(S)`).
pub fn parse_gluster_block_info_text(text: &str) -> Result<BlockVolumeInfo, ParseError> {
    let format = Format::GlusterBlockText;
    let t = clean(text);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut info = BlockVolumeInfo::default();
    for (no, line) in t.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (k, v) =
            line.split_once(':').ok_or_else(|| ParseError::line(format, no + 1, "expected 'KEY: value'"))?;
        let v = v.trim();
        let opt = || Some(v.to_string()).filter(|s| !s.is_empty());
        match k.trim() {
            "NAME" => info.name = v.to_string(),
            "VOLUME" => info.volume = opt(),
            "GBID" => info.gbid = opt(),
            "SIZE" => {
                info.size_text = opt();
                info.size = Some(parse_human_size(v).ok_or_else(|| ParseError::invalid(format, "SIZE", v))?);
            }
            "HA" => info.ha = Some(v.parse().map_err(|_| ParseError::invalid(format, "HA", v))?),
            "PASSWORD" => info.password = opt(),
            "EXPORTED NODE(S)" | "BLOCK CONFIG NODE(S)" | "EXPORTED ON" => {
                info.exported_on = v.split_whitespace().map(str::to_string).collect()
            }
            "ENCOUNTERED FAILURES ON" => {
                info.encountered_failures_on = v.split_whitespace().map(str::to_string).collect()
            }
            _ => {}
        }
    }
    if info.name.is_empty() {
        return Err(ParseError::missing(format, "NAME"));
    }
    Ok(info)
}
