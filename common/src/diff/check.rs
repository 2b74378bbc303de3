//! The DB alone: everything heketi's `db consistency-check` checks (spec §3.7) and more (§6):
//! references in both directions, sorted duplicate-free lists, device accounting, pending
//! markers, block-hosting sizes, mount hosts, unique hostnames, known attributes.
//!
//! Entries that a pending operation touches are expected to be half-done (heketi's own check
//! reports them too): their findings are downgraded to info and say which operation explains them.

use std::collections::{BTreeMap, BTreeSet};

use crate::heketi::{pending_change_name, pending_op_type_name, schema, Db};

use super::finding::{Code, Evidence, Finding, Kind, Severity};

/// Membership in one of heketi's id lists, which are sorted (heketi inserts with `Sort()`):
/// bisect first, fall back to a scan so an unsorted list (itself a finding) still answers right.
fn has(list: &[String], id: &str) -> bool {
    list.binary_search_by(|x| x.as_str().cmp(id)).is_ok() || list.iter().any(|x| x == id)
}

struct Checker<'a> {
    db: &'a Db,
    out: Vec<Finding>,
    /// Entry id → pending operation that references it.
    pending: BTreeMap<&'a str, &'a str>,
}

impl<'a> Checker<'a> {
    fn push(&mut self, code: Code, severity: Severity, kind: Kind, id: &str, involved: &[&str], msg: String) {
        let op =
            std::iter::once(id).chain(involved.iter().copied()).find_map(|x| self.pending.get(x).copied());
        let (severity, msg) = match op {
            Some(op) if severity > Severity::Info => {
                (Severity::Info, format!("{msg} (expected while operation {op} is pending)"))
            }
            _ => (severity, msg),
        };
        self.out.push(Finding::new(code, severity, kind, id, msg).evidence(Evidence::db()));
    }

    fn dangling(&mut self, kind: Kind, id: &str, what: &str, target: &str) {
        self.push(
            Code::DanglingReference,
            Severity::Error,
            kind,
            id,
            &[target],
            format!("references {what} {target}, which does not exist"),
        );
        if let Some(f) = self.out.last_mut() {
            f.repair =
                Some(format!("recreate {what} {target} from the cluster (rebuild), or drop the reference"));
            f.db = Some(serde_json::Value::String(target.to_owned()));
        }
    }

    fn no_back_ref(&mut self, kind: Kind, id: &str, other_kind: &str, other: &str, detail: &str) {
        self.push(
            Code::MissingBackReference,
            Severity::Error,
            kind,
            id,
            &[other],
            format!("{other_kind} {other} {detail}"),
        );
        if let Some(f) = self.out.last_mut() {
            f.repair = Some("recompute the reference lists (rebuild)".into());
        }
    }

    fn list(&mut self, kind: Kind, id: &str, field: &str, list: &[String]) {
        if list.windows(2).any(|w| w[0] > w[1]) {
            self.push(
                Code::UnsortedList,
                Severity::Warning,
                kind,
                id,
                &[],
                format!("{field} is not sorted (heketi searches it by bisection and misses entries)"),
            );
        }
        let set: BTreeSet<&String> = list.iter().collect();
        if set.len() != list.len() {
            self.push(
                Code::DuplicateInList,
                Severity::Warning,
                kind,
                id,
                &[],
                format!("{field} lists an id twice"),
            );
        }
    }
}

/// Check a DB on its own.
pub fn check_db(db: &Db) -> Vec<Finding> {
    let mut pending = BTreeMap::new();
    for (op_id, op) in &db.pending_ops {
        for a in &op.actions {
            pending.insert(a.id.as_str(), op_id.as_str());
        }
    }
    let mut c = Checker { db, out: Vec::new(), pending };
    let db = c.db;

    for (id, op) in &db.pending_ops {
        let changes: Vec<String> =
            op.actions.iter().map(|a| format!("{} {}", pending_change_name(a.change), a.id)).collect();
        c.out.push(
            Finding::new(
                Code::PendingOperation,
                Severity::Warning,
                Kind::PendingOp,
                id,
                format!(
                    "pending {} operation ({}) left in the DB",
                    pending_op_type_name(op.op_type),
                    if op.status.is_empty() { "new" } else { op.status.as_str() }
                ),
            )
            .db(&changes)
            .evidence(Evidence::db())
            .repair("finish or roll it back: heketi-cli server operations cleanup, or rebuild against the cluster"),
        );
    }

    // Clusters.
    for (id, cl) in &db.clusters {
        c.list(Kind::Cluster, id, "nodes", &cl.info.nodes);
        c.list(Kind::Cluster, id, "volumes", &cl.info.volumes);
        c.list(Kind::Cluster, id, "blockvolumes", &cl.info.block_volumes);
        for n in &cl.info.nodes {
            match db.nodes.get(n) {
                None => c.dangling(Kind::Cluster, id, "node", n),
                Some(node) if node.info.cluster_id != *id => {
                    c.no_back_ref(Kind::Cluster, id, "node", n, "belongs to another cluster")
                }
                _ => {}
            }
        }
        for v in &cl.info.volumes {
            match db.volumes.get(v) {
                None => c.dangling(Kind::Cluster, id, "volume", v),
                Some(vol) if vol.info.cluster != *id => {
                    c.no_back_ref(Kind::Cluster, id, "volume", v, "belongs to another cluster")
                }
                _ => {}
            }
        }
        for b in &cl.info.block_volumes {
            match db.block_volumes.get(b) {
                None => c.dangling(Kind::Cluster, id, "block volume", b),
                Some(bv) if bv.info.cluster != *id => {
                    c.no_back_ref(Kind::Cluster, id, "block volume", b, "belongs to another cluster")
                }
                _ => {}
            }
        }
    }

    // Nodes.
    let mut hostnames: BTreeMap<&str, &str> = BTreeMap::new();
    for (id, n) in &db.nodes {
        c.list(Kind::Node, id, "devices", &n.devices);
        match db.clusters.get(&n.info.cluster_id) {
            None => c.dangling(Kind::Node, id, "cluster", &n.info.cluster_id),
            Some(cl) if !has(&cl.info.nodes, id) => {
                c.no_back_ref(Kind::Node, id, "cluster", &n.info.cluster_id, "does not list this node")
            }
            _ => {}
        }
        for d in &n.devices {
            match db.devices.get(d) {
                None => c.dangling(Kind::Node, id, "device", d),
                Some(dev) if dev.node_id != *id => {
                    c.no_back_ref(Kind::Node, id, "device", d, "belongs to another node")
                }
                _ => {}
            }
        }
        let hosts = n.info.hostnames.manage.iter().flatten().chain(n.info.hostnames.storage.iter().flatten());
        for h in hosts {
            if let Some(other) = hostnames.insert(h, id) {
                if other != id {
                    c.push(
                        Code::DuplicateHostname,
                        Severity::Error,
                        Kind::Node,
                        id,
                        &[],
                        format!("hostname {h} is also used by node {other}"),
                    );
                }
            }
        }
    }

    // Devices.
    for (id, d) in &db.devices {
        c.list(Kind::Device, id, "bricks", &d.bricks);
        match db.nodes.get(&d.node_id) {
            None => c.dangling(Kind::Device, id, "node", &d.node_id),
            Some(n) if !has(&n.devices, id) => c.no_back_ref(
                Kind::Node,
                &d.node_id,
                "device",
                id,
                "points to this node but is not listed in its devices",
            ),
            _ => {}
        }
        let mut charged = 0u64;
        for b in &d.bricks {
            match db.bricks.get(b) {
                None => c.dangling(Kind::Device, id, "brick", b),
                Some(br) => {
                    if br.info.device_id != *id {
                        c.no_back_ref(Kind::Device, id, "brick", b, "belongs to another device");
                    }
                    // Clone bricks (own LV name) share their origin's pool and are not charged.
                    if br.lvm_lv.is_empty() {
                        charged += br.tp_size + br.pool_metadata_size;
                    }
                }
            }
        }
        let s = d.info.storage;
        if s.total != s.free + s.used {
            c.push(
                Code::DeviceAccountingMismatch,
                Severity::Warning,
                Kind::Device,
                id,
                &[],
                format!("total {} != free {} + used {}", s.total, s.free, s.used),
            );
        }
        if s.used != charged && d.bricks.iter().all(|b| db.bricks.contains_key(b)) {
            let bricks: Vec<&str> = d.bricks.iter().map(String::as_str).collect();
            c.push(
                Code::DeviceAccountingMismatch,
                Severity::Warning,
                Kind::Device,
                id,
                &bricks,
                format!("used {} != {} charged by its bricks (thin pool + metadata)", s.used, charged),
            );
        }
    }

    // Bricks.
    for (id, b) in &db.bricks {
        let i = &b.info;
        if !b.pending.id.is_empty() && !db.pending_ops.contains_key(&b.pending.id) {
            c.push(
                Code::PendingMarkerWithoutOp,
                Severity::Warning,
                Kind::Brick,
                id,
                &[],
                format!("marked pending by operation {} which does not exist", b.pending.id),
            );
        }
        if !db.nodes.contains_key(&i.node_id) {
            c.dangling(Kind::Brick, id, "node", &i.node_id);
        }
        match db.devices.get(&i.device_id) {
            None => c.dangling(Kind::Brick, id, "device", &i.device_id),
            Some(d) => {
                if !has(&d.bricks, id) {
                    c.no_back_ref(Kind::Brick, id, "device", &i.device_id, "does not list this brick");
                }
                if d.node_id != i.node_id {
                    c.no_back_ref(
                        Kind::Brick,
                        id,
                        "device",
                        &i.device_id,
                        "is on another node than the brick says",
                    );
                }
            }
        }
        match db.volumes.get(&i.volume_id) {
            None => c.dangling(Kind::Brick, id, "volume", &i.volume_id),
            Some(v) if !has(&v.bricks, id) => {
                c.no_back_ref(Kind::Brick, id, "volume", &i.volume_id, "does not list this brick")
            }
            _ => {}
        }
        if i.path.is_empty() {
            c.push(
                Code::BrickEmptyPath,
                Severity::Error,
                Kind::Brick,
                id,
                &[],
                "empty path (a brick whose creation never completed, or a damaged entry)".into(),
            );
            if let Some(f) = c.out.last_mut() {
                f.repair = Some(
                    "take the path from gluster (rebuild), or delete the brick if gluster has none".into(),
                );
            }
        }
    }

    // Volumes.
    for (id, v) in &db.volumes {
        c.list(Kind::Volume, id, "bricks", &v.bricks);
        c.list(Kind::Volume, id, "blockinfo.blockvolume", &v.info.block_info.block_volumes);
        if !v.pending.id.is_empty() && !db.pending_ops.contains_key(&v.pending.id) {
            c.push(
                Code::PendingMarkerWithoutOp,
                Severity::Warning,
                Kind::Volume,
                id,
                &[],
                format!("marked pending by operation {} which does not exist", v.pending.id),
            );
        }
        match db.clusters.get(&v.info.cluster) {
            None => c.dangling(Kind::Volume, id, "cluster", &v.info.cluster),
            Some(cl) => {
                if !has(&cl.info.volumes, id) {
                    c.no_back_ref(Kind::Volume, id, "cluster", &v.info.cluster, "does not list this volume");
                }
                let hosts = v.info.mount.glusterfs.hosts.as_ref().map_or(0, Vec::len);
                if hosts != cl.info.nodes.len() {
                    c.push(
                        Code::MountHostsMismatch,
                        Severity::Warning,
                        Kind::Volume,
                        id,
                        &[],
                        format!(
                            "mount hosts list has {hosts} entries, the cluster has {} nodes",
                            cl.info.nodes.len()
                        ),
                    );
                }
            }
        }
        for b in &v.bricks {
            match db.bricks.get(b) {
                None => c.dangling(Kind::Volume, id, "brick", b),
                Some(br) if br.info.volume_id != *id => {
                    c.no_back_ref(Kind::Volume, id, "brick", b, "belongs to another volume")
                }
                _ => {}
            }
        }
        let bi = &v.info.block_info;
        let mut bv_total = 0i64;
        for b in &bi.block_volumes {
            match db.block_volumes.get(b) {
                None => c.dangling(Kind::Volume, id, "block volume", b),
                Some(bv) => {
                    bv_total += bv.info.size;
                    if bv.info.block_hosting_volume != *id {
                        c.no_back_ref(Kind::Volume, id, "block volume", b, "is hosted by another volume");
                    }
                }
            }
        }
        if v.info.block {
            if v.info.size != bi.free_size + bi.reserved_size + bv_total {
                let bvs: Vec<&str> = bi.block_volumes.iter().map(String::as_str).collect();
                c.push(
                    Code::BlockHostingSizeMismatch,
                    Severity::Warning,
                    Kind::Volume,
                    id,
                    &bvs,
                    format!(
                        "size {} != free {} + reserved {} + block volumes {}",
                        v.info.size, bi.free_size, bi.reserved_size, bv_total
                    ),
                );
            }
        } else if !bi.block_volumes.is_empty() {
            c.push(
                Code::DanglingReference,
                Severity::Error,
                Kind::Volume,
                id,
                &[],
                "has block volumes but not the block flag".into(),
            );
        }
    }

    // Block volumes.
    for (id, bv) in &db.block_volumes {
        if !bv.pending.id.is_empty() && !db.pending_ops.contains_key(&bv.pending.id) {
            c.push(
                Code::PendingMarkerWithoutOp,
                Severity::Warning,
                Kind::BlockVolume,
                id,
                &[],
                format!("marked pending by operation {} which does not exist", bv.pending.id),
            );
        }
        match db.clusters.get(&bv.info.cluster) {
            None => c.dangling(Kind::BlockVolume, id, "cluster", &bv.info.cluster),
            Some(cl) if !has(&cl.info.block_volumes, id) => c.no_back_ref(
                Kind::BlockVolume,
                id,
                "cluster",
                &bv.info.cluster,
                "does not list this block volume",
            ),
            _ => {}
        }
        match db.volumes.get(&bv.info.block_hosting_volume) {
            None => c.dangling(Kind::BlockVolume, id, "block-hosting volume", &bv.info.block_hosting_volume),
            Some(v) if !has(&v.info.block_info.block_volumes, id) => c.no_back_ref(
                Kind::BlockVolume,
                id,
                "volume",
                &bv.info.block_hosting_volume,
                "does not list this block volume",
            ),
            _ => {}
        }
    }

    // Pending operations: every change must name an existing entry (except removals of
    // entries already gone and device removals).
    for (op_id, op) in &db.pending_ops {
        for a in &op.actions {
            let exists = db.bricks.contains_key(&a.id)
                || db.volumes.contains_key(&a.id)
                || db.block_volumes.contains_key(&a.id)
                || db.devices.contains_key(&a.id)
                || db.pending_ops.contains_key(&a.id);
            // AddVolumeClone (11) names a clone whose entry heketi saves only when the op ends.
            if !exists && a.change != 11 {
                c.push(
                    Code::DanglingReference,
                    Severity::Warning,
                    Kind::PendingOp,
                    op_id,
                    &[],
                    format!("change {} names {} which does not exist", pending_change_name(a.change), a.id),
                );
            }
        }
    }

    for key in db.attributes.keys() {
        if !schema::KNOWN_ATTRIBUTES.contains(&key.as_str()) {
            c.out.push(
                Finding::new(
                    Code::UnknownAttribute,
                    Severity::Warning,
                    Kind::Cluster,
                    key,
                    "unknown DB attribute: heketi v9+ refuses to start with it",
                )
                .evidence(Evidence::db()),
            );
        }
    }
    c.out
}
