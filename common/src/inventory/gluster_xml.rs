//! `gluster … --xml` parsers (`volume info`, `volume status`, `volume list`, `peer status`,
//! `pool list`). Elements are looked up by name, so order and unknown/missing elements do not
//! matter (fields come and go between releases: `snapshotCount`, `stripeCount`, `xlators`,
//! `arbiterCount`, `isArbiter`, …).
//!
//! `opRet != 0` becomes [`ParseError::GlusterOp`] carrying `opErrstr`
//! ([`ParseError::is_retryable`] for "Another transaction is in progress", opErrno 30802);
//! `opRet == 0` with a non-zero `opErrno` is success. Text where XML was expected (gluster
//! prints some errors on stdout, e.g. when glusterd is down) becomes
//! [`ParseError::GlusterCli`].

use roxmltree::{Document, Node};

use super::error::{Format, ParseError};
use super::gluster::{
    BrickStatus, DaemonStatus, GlusterBrick, GlusterVolume, Peer, Transport, VolumeState, VolumeStatusReport,
    VolumeType,
};
use super::text::{clean, split_host_path};

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children().filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// Trimmed text of a child element; `None` when absent, empty or gluster's `(null)`/`N/A`.
fn text(n: Node<'_, '_>, name: &str) -> Option<String> {
    let c = child(n, name)?;
    let t: String = c.children().filter(|x| x.is_text()).filter_map(|x| x.text()).collect::<String>();
    let t = t.trim();
    if t.is_empty() || t == "(null)" || t == "N/A" {
        None
    } else {
        Some(t.to_string())
    }
}

fn number<T: std::str::FromStr>(
    n: Node<'_, '_>,
    name: &str,
    format: Format,
) -> Result<Option<T>, ParseError> {
    match text(n, name) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|_| ParseError::invalid(format, format!("<{name}>"), v)),
    }
}

/// Parses the document and checks `<cliOutput>`/`opRet`.
fn cli_output(text_in: &str, format: Format) -> Result<Document<'_>, ParseError> {
    let t = clean(text_in);
    if t.is_empty() {
        return Err(ParseError::Empty { format });
    }
    if !t.starts_with('<') {
        // gluster printed an error message instead of XML
        let message =
            t.lines().map(str::trim).filter(|l| !l.is_empty()).take(3).collect::<Vec<_>>().join(" ");
        return Err(ParseError::GlusterCli { format, message });
    }
    let doc = Document::parse(t).map_err(|e| ParseError::Xml { format, message: e.to_string() })?;
    let root = doc.root_element();
    if root.tag_name().name() != "cliOutput" {
        return Err(ParseError::missing(format, "<cliOutput> root element"));
    }
    let op_ret: i32 = number(root, "opRet", format)?.ok_or_else(|| ParseError::missing(format, "<opRet>"))?;
    let op_errno: i32 = number(root, "opErrno", format)?.unwrap_or(0);
    if op_ret != 0 {
        return Err(ParseError::GlusterOp {
            format,
            op_ret,
            op_errno,
            message: text(root, "opErrstr").unwrap_or_default(),
        });
    }
    if op_errno != 0 {
        tracing::debug!(op_errno, "gluster xml: opRet 0 with non-zero opErrno (success)");
    }
    Ok(doc)
}

fn brick_from_xml(b: Node<'_, '_>, format: Format) -> Result<GlusterBrick, ParseError> {
    let full = text(b, "name").or_else(|| {
        b.children()
            .find(|c| c.is_text() && !c.text().unwrap_or("").trim().is_empty())
            .and_then(|c| c.text())
            .map(|s| s.trim().to_string())
    });
    let full = full.ok_or_else(|| ParseError::missing(format, "brick <name>"))?;
    let (host, path) = split_host_path(&full)
        .ok_or_else(|| ParseError::invalid(format, "brick (host:/path)", full.clone()))?;
    let host_uuid = text(b, "hostUuid").or_else(|| b.attribute("uuid").map(str::to_string));
    let arbiter = text(b, "isArbiter").is_some_and(|v| v == "1");
    Ok(GlusterBrick { host: host.to_string(), path: path.to_string(), host_uuid, arbiter })
}

fn volume_from_xml(v: Node<'_, '_>, format: Format) -> Result<GlusterVolume, ParseError> {
    let name = text(v, "name").ok_or_else(|| ParseError::missing(format, "volume <name>"))?;
    let vol_type = match text(v, "typeStr") {
        Some(s) => Some(VolumeType::from(s)),
        None => number::<u32>(v, "type", format)?.map(VolumeType::from_code),
    };
    let status = match text(v, "statusStr") {
        Some(s) => Some(VolumeState::from(s)),
        None => number::<u32>(v, "status", format)?.map(VolumeState::from_code),
    };
    let mut bricks = Vec::new();
    if let Some(bs) = child(v, "bricks") {
        // tier volumes nest hot/cold brick lists: take every <brick> below <bricks>
        for b in bs.descendants().filter(|d| d.is_element() && d.tag_name().name() == "brick") {
            bricks.push(brick_from_xml(b, format)?);
        }
    }
    let mut options = std::collections::BTreeMap::new();
    if let Some(opts) = child(v, "options") {
        for o in children(opts, "option") {
            let key = text(o, "name")
                .ok_or_else(|| ParseError::missing(format, format!("option <name> in volume {name}")))?;
            let value = child(o, "value")
                .map(|c| c.children().filter_map(|x| x.text()).collect::<String>())
                .unwrap_or_default();
            options.insert(key, value.trim().to_string());
        }
    }
    let mut vol = GlusterVolume {
        id: text(v, "id"),
        vol_type,
        status,
        snapshot_count: number(v, "snapshotCount", format)?,
        brick_count: number(v, "brickCount", format)?.unwrap_or(0),
        distribute_count: 0,
        replica_count: number(v, "replicaCount", format)?.unwrap_or(1),
        arbiter_count: number(v, "arbiterCount", format)?.unwrap_or(0),
        disperse_count: number(v, "disperseCount", format)?.unwrap_or(0),
        redundancy_count: number(v, "redundancyCount", format)?.unwrap_or(0),
        stripe_count: number(v, "stripeCount", format)?.unwrap_or(1),
        transport: number::<u32>(v, "transport", format)?.map(Transport::from_code),
        bricks,
        options,
        name,
    };
    vol.finish();
    Ok(vol)
}

/// `gluster volume info [<vol>] --xml` → volumes in output order.
pub fn parse_volume_info_xml(text_in: &str) -> Result<Vec<GlusterVolume>, ParseError> {
    let format = Format::GlusterVolumeInfoXml;
    let doc = cli_output(text_in, format)?;
    let info =
        child(doc.root_element(), "volInfo").ok_or_else(|| ParseError::missing(format, "<volInfo>"))?;
    let Some(volumes) = child(info, "volumes") else {
        return Ok(Vec::new());
    };
    children(volumes, "volume").map(|v| volume_from_xml(v, format)).collect()
}

/// `gluster volume list --xml` → names.
pub fn parse_volume_list_xml(text_in: &str) -> Result<Vec<String>, ParseError> {
    let format = Format::GlusterVolumeListXml;
    let doc = cli_output(text_in, format)?;
    let list =
        child(doc.root_element(), "volList").ok_or_else(|| ParseError::missing(format, "<volList>"))?;
    Ok(children(list, "volume")
        .filter_map(|v| v.text().map(|t| t.trim().to_string()))
        .filter(|t| !t.is_empty())
        .collect())
}

fn peer_from_xml(p: Node<'_, '_>, format: Format) -> Result<Peer, ParseError> {
    let uuid = text(p, "uuid").ok_or_else(|| ParseError::missing(format, "peer <uuid>"))?;
    let hostname = text(p, "hostname").unwrap_or_default();
    let mut hostnames: Vec<String> = Vec::new();
    if let Some(hs) = child(p, "hostnames") {
        for h in children(hs, "hostname") {
            if let Some(t) = h.text().map(str::trim).filter(|t| !t.is_empty()) {
                if !hostnames.iter().any(|x| x == t) {
                    hostnames.push(t.to_string());
                }
            }
        }
    }
    if !hostname.is_empty() && !hostnames.contains(&hostname) {
        hostnames.insert(0, hostname.clone());
    }
    let hostname =
        if hostname.is_empty() { hostnames.first().cloned().unwrap_or_default() } else { hostname };
    Ok(Peer {
        uuid,
        hostname,
        hostnames,
        connected: text(p, "connected").map(|c| c == "1"),
        state: number(p, "state", format)?,
        state_str: text(p, "stateStr"),
    })
}

fn peers(text_in: &str, format: Format) -> Result<Vec<Peer>, ParseError> {
    let doc = cli_output(text_in, format)?;
    let ps =
        child(doc.root_element(), "peerStatus").ok_or_else(|| ParseError::missing(format, "<peerStatus>"))?;
    children(ps, "peer").map(|p| peer_from_xml(p, format)).collect()
}

/// `gluster peer status --xml` → the other peers (the local node is not listed).
pub fn parse_peer_status_xml(text_in: &str) -> Result<Vec<Peer>, ParseError> {
    peers(text_in, Format::GlusterPeerStatusXml)
}

/// `gluster pool list --xml` → all pool members; the local node has hostname `localhost`.
pub fn parse_pool_list_xml(text_in: &str) -> Result<Vec<Peer>, ParseError> {
    peers(text_in, Format::GlusterPoolListXml)
}

fn positive_u32(n: Node<'_, '_>, name: &str) -> Option<u32> {
    text(n, name)?.parse::<i64>().ok().filter(|v| *v > 0).and_then(|v| u32::try_from(v).ok())
}

/// `gluster volume status [all|<vol>] [detail] --xml` → per volume, bricks and daemons.
pub fn parse_volume_status_xml(text_in: &str) -> Result<Vec<VolumeStatusReport>, ParseError> {
    let format = Format::GlusterVolumeStatusXml;
    let doc = cli_output(text_in, format)?;
    let st =
        child(doc.root_element(), "volStatus").ok_or_else(|| ParseError::missing(format, "<volStatus>"))?;
    let Some(volumes) = child(st, "volumes") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for v in children(volumes, "volume") {
        let name = text(v, "volName").ok_or_else(|| ParseError::missing(format, "<volName>"))?;
        let mut report = VolumeStatusReport { volume: name, ..Default::default() };
        for n in children(v, "node") {
            let host = text(n, "hostname").unwrap_or_default();
            let path = text(n, "path").unwrap_or_default();
            let online = text(n, "status").is_some_and(|s| s == "1");
            let pid = positive_u32(n, "pid");
            let peer_id = text(n, "peerid");
            if path.starts_with('/') {
                let ports = child(n, "ports");
                report.bricks.push(BrickStatus {
                    host,
                    path,
                    peer_id,
                    online,
                    port: ports.and_then(|p| positive_u32(p, "tcp")).or_else(|| positive_u32(n, "port")),
                    rdma_port: ports.and_then(|p| positive_u32(p, "rdma")),
                    pid,
                    size_total: number(n, "sizeTotal", format)?,
                    size_free: number(n, "sizeFree", format)?,
                    device: text(n, "device"),
                    block_size: number(n, "blockSize", format)?,
                    mount_options: text(n, "mntOptions"),
                    fs_name: text(n, "fsName"),
                    inodes_total: number(n, "inodesTotal", format)?,
                    inodes_free: number(n, "inodesFree", format)?,
                });
            } else {
                report.daemons.push(DaemonStatus { name: host, host: path, peer_id, online, pid });
            }
        }
        out.push(report);
    }
    Ok(out)
}
