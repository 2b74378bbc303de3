//! Plain-text gluster output (`volume info`, `peer status`, `pool list`) as operators capture
//! it. Produces the same structures as the XML parsers where the text carries the information
//! (no host UUIDs in text).

use super::error::{Format, ParseError};
use super::gluster::{GlusterBrick, GlusterVolume, Peer, Transport, VolumeState, VolumeType};
use super::text::{clean, parse_u32, split_host_path};

/// Messages gluster prints instead of output.
fn cli_error(line: &str) -> Option<String> {
    const MARKERS: &[&str] = &[
        "Connection failed",
        "does not exist",
        "Another transaction is in progress",
        "Locking failed",
        "Request timed out",
        "failed:",
        "Error :",
        "Error:",
    ];
    let t = line.trim();
    MARKERS.iter().any(|m| t.contains(m)).then(|| t.to_string())
}

fn kv(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once(':')?;
    Some((k.trim(), v.trim()))
}

/// Parsed `Number of Bricks:` line.
#[derive(Debug, PartialEq)]
struct BrickLayout {
    total: u32,
    /// factors of the left-hand side; a parenthesised `(a + b)` is kept as its two parts
    factors: Vec<Factor>,
}

#[derive(Debug, PartialEq)]
enum Factor {
    N(u32),
    Sum(u32, u32),
}

fn parse_brick_layout(s: &str) -> Option<BrickLayout> {
    let s = s.trim();
    let (lhs, total) = match s.rsplit_once('=') {
        Some((l, r)) => (l.trim(), parse_u32(r)?),
        None => {
            let n = parse_u32(s)?;
            return Some(BrickLayout { total: n, factors: vec![Factor::N(n)] });
        }
    };
    let mut factors = Vec::new();
    for part in lhs.split('x') {
        let p = part.trim();
        if let Some(inner) = p.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            let (a, b) = inner.split_once('+')?;
            factors.push(Factor::Sum(parse_u32(a)?, parse_u32(b)?));
        } else {
            factors.push(Factor::N(parse_u32(p)?));
        }
    }
    if factors.is_empty() {
        return None;
    }
    Some(BrickLayout { total, factors })
}

/// Fills counts from the layout and the volume type.
fn apply_layout(vol: &mut GlusterVolume, layout: &BrickLayout) {
    vol.brick_count = layout.total;
    let ty = vol.vol_type.clone().unwrap_or(VolumeType::Distribute);
    // drop the leading distribute factor ("N x …") when there is more than one factor
    let set: &[Factor] = if layout.factors.len() > 1 { &layout.factors[1..] } else { &[] };
    match set {
        [] => {}
        [Factor::Sum(a, b)] if ty.is_disperse() => {
            vol.disperse_count = a.saturating_add(*b);
            vol.redundancy_count = *b;
        }
        [Factor::Sum(a, b)] => {
            vol.replica_count = a.saturating_add(*b);
            vol.arbiter_count = *b;
        }
        [Factor::N(n)] if ty.is_disperse() => vol.disperse_count = *n,
        [Factor::N(n)] if ty.is_stripe() => vol.stripe_count = *n,
        [Factor::N(n)] => vol.replica_count = *n,
        [Factor::N(s), Factor::N(r)] => {
            vol.stripe_count = *s;
            vol.replica_count = *r;
        }
        _ => {}
    }
}

#[derive(PartialEq)]
enum Section {
    Header,
    Bricks,
    Options,
}

/// `gluster volume info [<vol>]` text → volumes. `No volumes present` → empty list; an error
/// message instead of output → [`ParseError::GlusterCli`].
pub fn parse_volume_info_text(text_in: &str) -> Result<Vec<GlusterVolume>, ParseError> {
    let format = Format::GlusterVolumeInfoText;
    let t = clean(text_in);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    if t == "No volumes present" {
        return Ok(Vec::new());
    }
    let mut vols: Vec<GlusterVolume> = Vec::new();
    let mut section = Section::Header;
    let mut layout_seen = false;
    let finish = |vols: &mut Vec<GlusterVolume>, layout_seen: bool| -> Result<(), ParseError> {
        if let Some(v) = vols.last_mut() {
            if !layout_seen {
                return Err(ParseError::missing(format, format!("'Number of Bricks' of volume {}", v.name)));
            }
            v.finish();
        }
        Ok(())
    };
    for (no, raw) in t.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            if section == Section::Options {
                section = Section::Header;
            }
            continue;
        }
        if let Some(name) = line.strip_prefix("Volume Name:") {
            finish(&mut vols, layout_seen)?;
            let name = name.trim();
            if name.is_empty() {
                return Err(ParseError::line(format, no + 1, "empty volume name"));
            }
            vols.push(GlusterVolume { name: name.to_string(), ..Default::default() });
            section = Section::Header;
            layout_seen = false;
            continue;
        }
        let Some(vol) = vols.last_mut() else {
            if let Some(msg) = cli_error(line) {
                return Err(ParseError::GlusterCli { format, message: msg });
            }
            return Err(ParseError::line(format, no + 1, "expected 'Volume Name:'"));
        };
        let Some((key, value)) = kv(line) else {
            if section == Section::Options {
                return Err(ParseError::line(format, no + 1, "option line without ':'"));
            }
            continue;
        };
        if key == "Bricks" && value.is_empty() {
            section = Section::Bricks;
            continue;
        }
        if key == "Options Reconfigured" {
            section = Section::Options;
            continue;
        }
        if section == Section::Options {
            vol.options.insert(key.to_string(), value.to_string());
            continue;
        }
        let brick_no =
            key.strip_prefix("Brick").filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if brick_no.is_some() {
            let (spec, arbiter) = match value.strip_suffix("(arbiter)") {
                Some(s) => (s.trim_end(), true),
                None => (value, false),
            };
            let (host, path) = split_host_path(spec).ok_or_else(|| {
                ParseError::line(format, no + 1, format!("brick is not host:/path: {spec:?}"))
            })?;
            vol.bricks.push(GlusterBrick {
                host: host.to_string(),
                path: path.to_string(),
                host_uuid: None,
                arbiter,
            });
            section = Section::Bricks;
            continue;
        }
        match key {
            "Type" => vol.vol_type = Some(VolumeType::from(value)),
            "Volume ID" => vol.id = Some(value.to_string()).filter(|v| !v.is_empty()),
            "Status" => vol.status = Some(VolumeState::from(value)),
            "Snapshot Count" => {
                vol.snapshot_count = Some(
                    parse_u32(value).ok_or_else(|| ParseError::line(format, no + 1, "bad Snapshot Count"))?,
                )
            }
            "Transport-type" => vol.transport = Some(Transport::from(value)),
            "Number of Bricks" => {
                let layout = parse_brick_layout(value).ok_or_else(|| {
                    ParseError::line(format, no + 1, format!("bad 'Number of Bricks': {value:?}"))
                })?;
                apply_layout(vol, &layout);
                layout_seen = true;
            }
            // Xlator/Capability/"BrickN VG"/tier lines and anything newer: not needed
            _ => {}
        }
    }
    finish(&mut vols, layout_seen)?;
    if vols.is_empty() {
        return Err(ParseError::missing(format, "'Volume Name:'"));
    }
    Ok(vols)
}

/// `gluster peer status` text → peers (`Number of Peers: 0` → empty).
pub fn parse_peer_status_text(text_in: &str) -> Result<Vec<Peer>, ParseError> {
    let format = Format::GlusterPeerStatusText;
    let t = clean(text_in);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut peers: Vec<Peer> = Vec::new();
    let mut declared: Option<usize> = None;
    let mut other_names = false;
    for (no, raw) in t.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            other_names = false;
            continue;
        }
        if let Some(n) = line.strip_prefix("Number of Peers:") {
            declared = Some(
                n.trim().parse().map_err(|_| ParseError::line(format, no + 1, "bad 'Number of Peers'"))?,
            );
            continue;
        }
        if let Some(h) = line.strip_prefix("Hostname:") {
            other_names = false;
            let h = h.trim().to_string();
            peers.push(Peer { hostname: h.clone(), hostnames: vec![h], ..Default::default() });
            continue;
        }
        let Some(peer) = peers.last_mut() else {
            if let Some(msg) = cli_error(line) {
                return Err(ParseError::GlusterCli { format, message: msg });
            }
            return Err(ParseError::line(format, no + 1, "expected 'Number of Peers:' or 'Hostname:'"));
        };
        if let Some(u) = line.strip_prefix("Uuid:") {
            peer.uuid = u.trim().to_string();
        } else if let Some(s) = line.strip_prefix("State:") {
            let s = s.trim();
            let (state, conn) = match s.rsplit_once('(') {
                Some((st, c)) => (st.trim(), c.trim_end_matches(')').trim()),
                None => (s, ""),
            };
            peer.state_str = Some(state.to_string());
            peer.connected = match conn {
                "Connected" => Some(true),
                "Disconnected" => Some(false),
                _ => None,
            };
        } else if line.starts_with("Other names:") {
            other_names = true;
        } else if other_names {
            if !peer.hostnames.iter().any(|h| h == line) {
                peer.hostnames.push(line.to_string());
            }
        } else if let Some(msg) = cli_error(line) {
            return Err(ParseError::GlusterCli { format, message: msg });
        } else {
            return Err(ParseError::line(format, no + 1, format!("unexpected line {line:?}")));
        }
    }
    if declared.is_none() && peers.is_empty() {
        return Err(ParseError::missing(format, "'Number of Peers:'"));
    }
    if let Some(p) = peers.iter().find(|p| p.uuid.is_empty()) {
        return Err(ParseError::missing(format, format!("Uuid of peer {}", p.hostname)));
    }
    if let Some(n) = declared {
        if n != peers.len() {
            return Err(ParseError::invalid(
                format,
                "peer count (header vs entries)",
                format!("{n} vs {}", peers.len()),
            ));
        }
    }
    Ok(peers)
}

/// `gluster pool list` text (`UUID Hostname State` table) → pool members.
pub fn parse_pool_list_text(text_in: &str) -> Result<Vec<Peer>, ParseError> {
    let format = Format::GlusterPoolListText;
    let t = clean(text_in);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    let mut lines = t.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(ParseError::Empty { format });
    };
    let head: Vec<&str> = header.split_whitespace().collect();
    if head != ["UUID", "Hostname", "State"] {
        if let Some(msg) = cli_error(header) {
            return Err(ParseError::GlusterCli { format, message: msg });
        }
        return Err(ParseError::missing(format, "'UUID Hostname State' heading"));
    }
    let mut out = Vec::new();
    for (no, line) in lines {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let [uuid, host, state] = cols.as_slice() else {
            return Err(ParseError::line(format, no + 1, "expected 3 columns"));
        };
        let connected = match *state {
            "Connected" => Some(true),
            "Disconnected" => Some(false),
            other => return Err(ParseError::line(format, no + 1, format!("unknown state {other:?}"))),
        };
        out.push(Peer {
            uuid: uuid.to_string(),
            hostname: host.to_string(),
            hostnames: vec![host.to_string()],
            connected,
            state: None,
            state_str: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brick_layouts() {
        let l = parse_brick_layout("2 x (2 + 1) = 6").unwrap();
        assert_eq!(l.total, 6);
        assert_eq!(l.factors, vec![Factor::N(2), Factor::Sum(2, 1)]);
        assert_eq!(parse_brick_layout("3").unwrap().total, 3);
        assert_eq!(parse_brick_layout("1 x 2 x 2 = 4").unwrap().factors.len(), 3);
        for bad in ["", "x", "1 x = 3", "(2 + ) = 3", "a x 3 = 3", "1 x 3 ="] {
            assert_eq!(parse_brick_layout(bad), None, "{bad:?}");
        }
    }
}
