//! `heketi-doctor inspect`: what is in this database, on one screen.

use std::fmt::Write as _;

use anyhow::Result;
use heketi_doctor_common::bolt::BoltFile;
use heketi_doctor_common::heketi::{self, schema, BucketKind, Db, SchemaGeneration, SourceFormat};
use serde::Serialize;

use crate::cli::{Format, InspectArgs};
use crate::{input, Exit};

#[derive(Debug, Serialize)]
struct Report {
    file: String,
    file_size: u64,
    format: &'static str,
    gzipped: bool,
    schema: &'static str,
    generation_id: Option<String>,
    attributes: Vec<(String, String)>,
    counts: Counts,
    registry_keys: usize,
    clusters: Vec<ClusterSummary>,
    pending_operations: Vec<PendingSummary>,
    bolt: Option<BoltSummary>,
}

#[derive(Debug, Serialize)]
struct Counts {
    clusters: usize,
    nodes: usize,
    devices: usize,
    bricks: usize,
    volumes: usize,
    block_volumes: usize,
    attributes: usize,
    pending_operations: usize,
}

#[derive(Debug, Serialize)]
struct ClusterSummary {
    id: String,
    nodes: usize,
    devices: usize,
    volumes: usize,
    block_volumes: usize,
    file: bool,
    block: bool,
    /// KiB summed over the cluster's devices.
    device_total_kib: u64,
    device_free_kib: u64,
}

#[derive(Debug, Serialize)]
struct PendingSummary {
    id: String,
    op_type: i64,
    type_name: &'static str,
    status: String,
    timestamp: i64,
    actions: usize,
}

#[derive(Debug, Serialize)]
struct BoltSummary {
    page_size: usize,
    meta_in_use: usize,
    txid: u64,
    other_meta: String,
    high_water_mark: u64,
    file_pages: u64,
    pages_in_use: u64,
    branch_pages: u64,
    leaf_pages: u64,
    overflow_pages: u64,
    free_pages: u64,
    freelist_pages: u64,
    buckets_present: Vec<String>,
}

pub fn run(args: InspectArgs) -> Result<Exit> {
    let path = &args.db.db;
    let raw = input::read_file(path)?;
    let loaded = heketi::load(&raw).map_err(|e| input::describe_load_error(path, e))?;
    let bolt = if loaded.format == SourceFormat::Bolt {
        let (content, _) =
            heketi::decompress_if_gzip(&raw).map_err(|e| input::describe_load_error(path, e))?;
        Some(
            bolt_summary(&content, &loaded.buckets)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        )
    } else {
        None
    };
    let db = &loaded.db;
    let report = Report {
        file: path.display().to_string(),
        file_size: raw.len() as u64,
        format: match loaded.format {
            SourceFormat::Bolt => "bolt",
            SourceFormat::ExportJson => "export-json",
        },
        gzipped: loaded.gzipped,
        schema: SchemaGeneration::of(db).describe(),
        generation_id: db.attributes.get(schema::ATTR_GENERATION_ID).map(|a| a.value.clone()),
        attributes: db.attributes.values().map(|a| (a.key.clone(), a.value.clone())).collect(),
        counts: Counts {
            clusters: db.clusters.len(),
            nodes: db.nodes.len(),
            devices: db.devices.len(),
            bricks: db.bricks.len(),
            volumes: db.volumes.len(),
            block_volumes: db.block_volumes.len(),
            attributes: db.attributes.len(),
            pending_operations: db.pending_ops.len(),
        },
        registry_keys: loaded.registry_keys,
        clusters: clusters(db),
        pending_operations: db
            .pending_ops
            .values()
            .map(|op| PendingSummary {
                id: op.id.clone(),
                op_type: op.op_type,
                type_name: heketi::pending_op_type_name(op.op_type),
                status: if op.status.is_empty() { "new".into() } else { op.status.clone() },
                timestamp: op.timestamp,
                actions: op.actions.len(),
            })
            .collect(),
        bolt,
    };
    match args.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print!("{}", render_text(&report)),
    }
    Ok(Exit::Ok)
}

fn clusters(db: &Db) -> Vec<ClusterSummary> {
    db.clusters
        .values()
        .map(|c| {
            let devices: Vec<_> = c
                .info
                .nodes
                .iter()
                .filter_map(|n| db.nodes.get(n))
                .flat_map(|n| n.devices.iter().filter_map(|d| db.devices.get(d)))
                .collect();
            ClusterSummary {
                id: c.info.id.clone(),
                nodes: c.info.nodes.len(),
                devices: devices.len(),
                volumes: c.info.volumes.len(),
                block_volumes: c.info.block_volumes.len(),
                file: c.info.file,
                block: c.info.block,
                device_total_kib: devices.iter().map(|d| d.info.storage.total).sum(),
                device_free_kib: devices.iter().map(|d| d.info.storage.free).sum(),
            }
        })
        .collect()
}

fn bolt_summary(
    content: &[u8],
    buckets: &[BucketKind],
) -> Result<BoltSummary, heketi_doctor_common::bolt::BoltError> {
    let file = BoltFile::parse(content)?;
    let stats = file.page_stats()?;
    let other = 1 - file.meta_index();
    let other_meta = match &file.metas()[other] {
        Ok(m) => format!("meta {other}: txid {}, valid", m.txid),
        Err(e) => format!("meta {other}: invalid ({e})"),
    };
    Ok(BoltSummary {
        page_size: file.page_size(),
        meta_in_use: file.meta_index(),
        txid: file.meta().txid,
        other_meta,
        high_water_mark: stats.pgid,
        file_pages: stats.file_pages,
        pages_in_use: stats.reachable_pages,
        branch_pages: stats.branch_pages,
        leaf_pages: stats.leaf_pages,
        overflow_pages: stats.overflow_pages,
        free_pages: stats.free_pages,
        freelist_pages: stats.freelist_pages,
        buckets_present: buckets.iter().map(|b| b.bucket_name().to_owned()).collect(),
    })
}

fn render_text(r: &Report) -> String {
    let mut s = String::new();
    let gz = if r.gzipped { ", gzipped" } else { "" };
    let _ = writeln!(s, "{}: {} ({} bytes{gz})", r.file, r.format, r.file_size);
    let _ = writeln!(s, "schema:      {}", r.schema);
    if let Some(g) = &r.generation_id {
        let _ = writeln!(s, "generation:  {g}");
    }
    if let Some(b) = &r.bolt {
        let _ = writeln!(
            s,
            "bolt:        page size {}, meta {} in use (txid {}), {}",
            b.page_size, b.meta_in_use, b.txid, b.other_meta
        );
        let _ = writeln!(
            s,
            "pages:       {} in file, high-water mark {}; {} in use ({} branch, {} leaf, {} overflow), {} free, {} freelist",
            b.file_pages,
            b.high_water_mark,
            b.pages_in_use,
            b.branch_pages,
            b.leaf_pages,
            b.overflow_pages,
            b.free_pages,
            b.freelist_pages
        );
        if b.buckets_present.len() < BucketKind::ALL.len() {
            let _ = writeln!(s, "buckets:     {}", b.buckets_present.join(" "));
        }
    }
    let c = &r.counts;
    let _ = writeln!(
        s,
        "entries:     {} clusters, {} nodes, {} devices, {} bricks, {} volumes, {} block volumes, {} attributes, {} pending operations",
        c.clusters, c.nodes, c.devices, c.bricks, c.volumes, c.block_volumes, c.attributes, c.pending_operations
    );
    if r.registry_keys > 0 {
        let _ = writeln!(s, "registry:    {} MANAGE/STORAGE/DEVICE keys", r.registry_keys);
    }
    if !r.clusters.is_empty() {
        let _ = writeln!(s, "\nclusters:");
        for cl in &r.clusters {
            let flags = match (cl.file, cl.block) {
                (true, true) => "file+block",
                (true, false) => "file",
                (false, true) => "block",
                (false, false) => "-",
            };
            let _ = writeln!(
                s,
                "  {}  {:>3} nodes {:>4} devices {:>5} volumes {:>4} block volumes  {flags:<10}  {} free of {}",
                cl.id,
                cl.nodes,
                cl.devices,
                cl.volumes,
                cl.block_volumes,
                human_kib(cl.device_free_kib),
                human_kib(cl.device_total_kib)
            );
        }
    }
    if !r.pending_operations.is_empty() {
        let mut by_type = std::collections::BTreeMap::<&str, usize>::new();
        for op in &r.pending_operations {
            *by_type.entry(op.type_name).or_default() += 1;
        }
        let summary: Vec<String> = by_type.iter().map(|(t, n)| format!("{n} {t}")).collect();
        let _ = writeln!(s, "\npending operations: {}", summary.join(", "));
        // One screen: the oldest few; `--output json` lists them all.
        let mut ops: Vec<_> = r.pending_operations.iter().collect();
        ops.sort_by_key(|op| (op.timestamp, &op.id));
        for op in ops.iter().take(MAX_OPS_SHOWN) {
            let _ = writeln!(
                s,
                "  {}  {:<22} {:<6} {}  {} actions",
                op.id,
                format!("{} ({})", op.type_name, op.op_type),
                op.status,
                crate::clock::utc(op.timestamp),
                op.actions
            );
        }
        if ops.len() > MAX_OPS_SHOWN {
            let _ = writeln!(s, "  … and {} more (--output json lists all)", ops.len() - MAX_OPS_SHOWN);
        }
    }
    s
}

/// Pending operations listed in the text report.
const MAX_OPS_SHOWN: usize = 8;

fn human_kib(kib: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = kib as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}
