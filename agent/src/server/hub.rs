//! Shared collections: at most one collection runs at a time; concurrent `Collect` calls and
//! every `Watch` stream wait for the same one and share its result.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use heketi_doctor_common::inventory::NodeReport;
use tokio::sync::{watch, Mutex};
use tracing::{info, info_span, Instrument};

use crate::collect::{collect_report, CollectConfig};

/// One finished collection.
#[derive(Debug)]
pub struct Snapshot {
    /// With raw outputs; cleared per request when not asked for.
    pub report: NodeReport,
    pub generation: u64,
    pub finished: Instant,
    /// Digest of the node state (timings and raw outputs left out).
    pub digest: u64,
}

impl Snapshot {
    /// The report with or without raw outputs.
    pub fn report(&self, include_raw: bool) -> NodeReport {
        if include_raw {
            self.report.clone()
        } else {
            NodeReport { raw: Default::default(), ..self.report.clone() }
        }
    }
}

/// Digest of what a report says about the node, not of how long it took to say it.
pub fn state_digest(report: &NodeReport) -> u64 {
    let mut r = NodeReport { raw: Default::default(), collected_at: 0, ..report.clone() };
    for rec in r.sources.values_mut() {
        rec.duration_ms = 0;
    }
    let mut h = DefaultHasher::new();
    serde_json::to_string(&r).unwrap_or_default().hash(&mut h);
    h.finish()
}

pub struct Hub {
    cfg: CollectConfig,
    running: Arc<Mutex<()>>,
    latest: watch::Sender<Option<Arc<Snapshot>>>,
    generation: AtomicU64,
}

impl Hub {
    pub fn new(cfg: CollectConfig) -> Arc<Self> {
        Arc::new(Hub {
            cfg,
            running: Arc::new(Mutex::new(())),
            latest: watch::channel(None).0,
            generation: AtomicU64::new(0),
        })
    }

    /// Notified whenever a collection finishes.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.latest.subscribe()
    }

    /// A snapshot that finished at most `max_age` ago, else one finishing after this call
    /// (joining the collection already running, or starting one).
    pub async fn get(self: &Arc<Self>, max_age: Duration) -> Arc<Snapshot> {
        let asked = Instant::now();
        let mut rx = self.latest.subscribe();
        loop {
            if let Some(s) = rx.borrow_and_update().clone() {
                if s.finished >= asked || s.finished.elapsed() <= max_age {
                    return s;
                }
            }
            // become the collector unless one is running; the task holds the lock, so a
            // cancelled caller neither aborts the collection nor lets a second one start
            if let Ok(guard) = self.running.clone().try_lock_owned() {
                let hub = self.clone();
                tokio::spawn(async move {
                    hub.collect_once().await;
                    drop(guard);
                });
            }
            // a new snapshot, or the collector ended without one (then try again)
            tokio::select! {
                _ = rx.changed() => {}
                _ = self.running.lock() => {}
            }
        }
    }

    async fn collect_once(&self) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let span = info_span!("collection", generation);
        async {
            let start = Instant::now();
            let (report, _raw) = collect_report(&self.cfg, true).await;
            let failed = heketi_doctor_proto::failed_sources(&report);
            info!(ms = start.elapsed().as_millis() as u64, ?failed, "collected");
            let snap =
                Snapshot { digest: state_digest(&report), report, generation, finished: Instant::now() };
            self.latest.send_replace(Some(Arc::new(snap)));
        }
        .instrument(span)
        .await
    }
}
