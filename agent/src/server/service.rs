//! `heketidoctor.v1.NodeInventory`: `Collect` and `Watch` over the shared [`Hub`].

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use heketi_doctor_proto::v1::node_inventory_server::NodeInventory;
use heketi_doctor_proto::v1::{CollectRequest, Report, WatchRequest};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tracing::{debug, info, Instrument};

use super::hub::{Hub, Snapshot};

/// Bounds the agent puts on what clients ask.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// `Collect` never triggers collections closer together than this (cached report served).
    pub min_collect_interval: Duration,
    pub watch_default: Duration,
    pub watch_min: Duration,
    pub watch_max: Duration,
}

pub struct Inventory {
    hub: Arc<Hub>,
    policy: Policy,
    shutdown: watch::Receiver<bool>,
}

impl Inventory {
    pub fn new(hub: Arc<Hub>, policy: Policy, shutdown: watch::Receiver<bool>) -> Self {
        Inventory { hub, policy, shutdown }
    }
}

fn encode(s: &Snapshot, include_raw: bool, changed: bool) -> Result<Report, Status> {
    heketi_doctor_proto::encode_report(&s.report(include_raw), s.generation, changed)
        .map_err(|e| Status::internal(format!("encoding the report: {e}")))
}

fn peer<T>(req: &Request<T>) -> String {
    let certs = req.peer_certs().map(|c| c.len()).unwrap_or(0);
    format!(
        "{} (client certs: {certs})",
        req.remote_addr().map(|a| a.to_string()).unwrap_or_else(|| "?".into())
    )
}

/// Resolves once shutdown has begun.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await.map(|_| ());
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<Report, Status>> + Send>>;

#[tonic::async_trait]
impl NodeInventory for Inventory {
    async fn collect(&self, req: Request<CollectRequest>) -> Result<Response<Report>, Status> {
        let from = peer(&req);
        let r = req.into_inner();
        let max_age = Duration::from_secs(r.max_age_seconds.into()).max(self.policy.min_collect_interval);
        info!(%from, include_raw = r.include_raw, max_age_s = max_age.as_secs(), "Collect");
        let snap = self.hub.get(max_age).await;
        debug!(generation = snap.generation, "Collect answered");
        Ok(Response::new(encode(&snap, r.include_raw, true)?))
    }

    type WatchStream = WatchStream;

    async fn watch(&self, req: Request<WatchRequest>) -> Result<Response<Self::WatchStream>, Status> {
        let from = peer(&req);
        let r = req.into_inner();
        let p = self.policy;
        let interval = match r.interval_seconds {
            0 => p.watch_default,
            s => Duration::from_secs(s.into()).clamp(p.watch_min, p.watch_max),
        };
        info!(%from, interval_s = interval.as_secs(), include_raw = r.include_raw, "Watch");
        let (tx, rx) = mpsc::channel::<Result<Report, Status>>(2);
        let hub = self.hub.clone();
        let mut shutdown = self.shutdown.clone();
        let min_age = p.min_collect_interval;
        let span = tracing::Span::current();
        tokio::spawn(
            async move {
                let mut updates = hub.subscribe();
                let mut ticker = tokio::time::interval(interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut last: Option<u64> = None;
                loop {
                    let snap = tokio::select! {
                        _ = stopped(&mut shutdown) => break,
                        _ = tx.closed() => break,
                        _ = ticker.tick() => {
                            let s = hub.get(min_age).await;
                            updates.borrow_and_update();
                            s
                        }
                        changed = updates.changed() => {
                            if changed.is_err() { break }
                            match updates.borrow_and_update().clone() {
                                Some(s) if Some(s.digest) != last => s,
                                _ => continue,
                            }
                        }
                    };
                    let changed = Some(snap.digest) != last;
                    last = Some(snap.digest);
                    if tx.send(encode(&snap, r.include_raw, changed)).await.is_err() {
                        break;
                    }
                }
                debug!("Watch stream ended");
            }
            .instrument(span),
        );
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
