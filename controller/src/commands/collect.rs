//! `heketi-doctor collect`: concurrent fan-out to the node agents (mTLS gRPC), or capture
//! directories read offline, into one `ClusterSnapshot`. An agent that does not answer is listed
//! as unreachable with the reason — never silently dropped: diff and rebuild treat its objects as
//! unknown.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use heketi_doctor_common::inventory::capture::report_from_capture_dir;
use heketi_doctor_common::inventory::NodeReport;
use heketi_doctor_common::topology::{ClusterSnapshot, UnreachableAgent};
use heketi_doctor_proto::v1::node_inventory_client::NodeInventoryClient;
use heketi_doctor_proto::v1::CollectRequest;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tracing::{info, info_span, warn, Instrument};

use crate::cli::{CollectArgs, CollectSources};
use crate::output::Destination;
use crate::Exit;

pub fn run(args: CollectArgs) -> Result<Exit> {
    let dest = Destination::new(args.output.as_deref(), args.force);
    dest.check_writable()?;
    let snapshot = gather(&args.sources)?;
    let json = serde_json::to_vec_pretty(&snapshot)?;
    dest.write_with(|w| {
        w.write_all(&json)?;
        w.write_all(b"\n")
    })?;
    summarize(&snapshot);
    Ok(if snapshot.unreachable.is_empty() { Exit::Ok } else { Exit::Drift })
}

fn summarize(s: &ClusterSnapshot) {
    let seen: Vec<&str> = s.reports.iter().map(|r| r.identity.hostname.as_str()).collect();
    eprintln!("collected {} node reports: {}", s.reports.len(), seen.join(", "));
    for u in &s.unreachable {
        eprintln!("NOT collected: {}: {}", u.agent, u.error);
    }
}

/// Gather a snapshot from the configured sources. Errors only for bad configuration or when
/// no node at all could be read.
pub fn gather(src: &CollectSources) -> Result<ClusterSnapshot> {
    if src.agents.is_empty() && src.agents_dns.is_none() && src.from_dirs.is_empty() {
        bail!("nothing to collect from: give --agent HOST:PORT, --agents-dns NAME:PORT or --from-dir DIR");
    }
    let mut snapshot =
        ClusterSnapshot { collected_at: crate::clock::now(), reports: vec![], unreachable: vec![] };
    for dir in &src.from_dirs {
        match report_from_capture_dir(dir, false) {
            Ok(r) => snapshot.reports.push(r),
            Err(e) => snapshot
                .unreachable
                .push(UnreachableAgent { agent: dir.display().to_string(), error: e.to_string() }),
        }
    }
    if !src.agents.is_empty() || src.agents_dns.is_some() {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build()?;
        let (reports, failed) = rt.block_on(fan_out(src))?;
        snapshot.reports.extend(reports);
        snapshot.unreachable.extend(failed);
    }
    if snapshot.reports.is_empty() {
        let why: Vec<String> =
            snapshot.unreachable.iter().map(|u| format!("{}: {}", u.agent, u.error)).collect();
        bail!(
            "no node could be read ({}); check the agents are running and the certificates",
            why.join("; ")
        );
    }
    // Two agents answering for the same host would double-count its objects.
    let mut hosts: Vec<&str> = snapshot.reports.iter().map(|r| r.identity.hostname.as_str()).collect();
    hosts.sort();
    if let Some(w) = hosts.windows(2).find(|w| w[0] == w[1]) {
        bail!("two reports for node {}: each node must be collected once", w[0]);
    }
    Ok(snapshot)
}

struct Tls {
    config: Option<ClientTlsConfig>,
}

fn tls_config(src: &CollectSources, dns_name: Option<&str>) -> Result<Tls> {
    if src.insecure {
        warn!("plaintext gRPC (--insecure): reports are not authenticated");
        return Ok(Tls { config: None });
    }
    let read = |p: &Option<std::path::PathBuf>, flag: &str| -> Result<Vec<u8>> {
        let p = p
            .as_ref()
            .with_context(|| format!("{flag} is required for mutual TLS (or --insecure for test setups)"))?;
        std::fs::read(p).with_context(|| format!("{flag} {}: cannot read", p.display()))
    };
    let mut cfg = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(&src.ca, "--ca")?))
        .identity(Identity::from_pem(read(&src.cert, "--cert")?, read(&src.key, "--key")?));
    if let Some(name) = src.tls_server_name.as_deref().or(dns_name) {
        cfg = cfg.domain_name(name.to_owned());
    }
    Ok(Tls { config: Some(cfg) })
}

async fn fan_out(src: &CollectSources) -> Result<(Vec<NodeReport>, Vec<UnreachableAgent>)> {
    let mut targets: Vec<String> = src.agents.clone();
    let mut dns_name = None;
    if let Some(spec) = &src.agents_dns {
        let (name, _) =
            spec.rsplit_once(':').with_context(|| format!("--agents-dns {spec}: expected NAME:PORT"))?;
        dns_name = Some(name.to_owned());
        let addrs: Vec<_> = tokio::net::lookup_host(spec)
            .await
            .with_context(|| format!("--agents-dns {spec}: cannot resolve"))?
            .collect();
        if addrs.is_empty() {
            bail!("--agents-dns {spec}: no addresses (is the headless Service's DaemonSet running?)");
        }
        targets.extend(addrs.iter().map(|a| a.to_string()));
    }
    let tls = tls_config(src, dns_name.as_deref())?;
    let timeout = Duration::from_secs(src.timeout.max(1));
    let progress = Progress::new(targets.len());
    let tasks: Vec<_> = targets
        .into_iter()
        .map(|agent| {
            let tls = tls.config.clone();
            let retries = src.retries;
            let progress = progress.clone();
            let span = info_span!("collect", agent = %agent);
            tokio::spawn(
                async move {
                    let started = Instant::now();
                    let r = collect_with_retries(&agent, tls, timeout, retries).await;
                    match &r {
                        Ok(rep) => info!(host = %rep.identity.hostname, ms = started.elapsed().as_millis() as u64, "collected"),
                        Err(e) => warn!(error = %e, "agent did not deliver a report"),
                    }
                    progress.done(r.is_ok());
                    (agent, r)
                }
                .instrument(span),
            )
        })
        .collect();
    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for t in tasks {
        match t.await {
            Ok((_, Ok(r))) => reports.push(r),
            Ok((agent, Err(e))) => failed.push(UnreachableAgent { agent, error: e }),
            Err(e) => failed.push(UnreachableAgent { agent: "?".into(), error: format!("internal: {e}") }),
        }
    }
    progress.finish();
    Ok((reports, failed))
}

/// "collecting: 12/30 agents answered, 1 failed" on a terminal (stderr), nothing otherwise.
#[derive(Clone)]
struct Progress(
    Option<std::sync::Arc<(usize, std::sync::atomic::AtomicUsize, std::sync::atomic::AtomicUsize)>>,
);

impl Progress {
    fn new(total: usize) -> Self {
        use std::io::IsTerminal;
        Progress(
            std::io::stderr()
                .is_terminal()
                .then(|| std::sync::Arc::new((total, Default::default(), Default::default()))),
        )
    }

    fn done(&self, ok: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        let Some(p) = &self.0 else { return };
        let (answered, failed) = if ok {
            (p.1.fetch_add(1, Relaxed) + 1, p.2.load(Relaxed))
        } else {
            (p.1.load(Relaxed), p.2.fetch_add(1, Relaxed) + 1)
        };
        eprint!("\rcollecting: {answered}/{} agents answered, {failed} failed ", p.0);
    }

    fn finish(&self) {
        if self.0.is_some() {
            eprintln!();
        }
    }
}

async fn collect_with_retries(
    agent: &str,
    tls: Option<ClientTlsConfig>,
    timeout: Duration,
    retries: u32,
) -> Result<NodeReport, String> {
    let mut backoff = Duration::from_secs(1);
    let mut last = String::new();
    for attempt in 0..=retries {
        if attempt > 0 {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
        match tokio::time::timeout(timeout, collect_once(agent, tls.clone())).await {
            Ok(Ok(r)) => return Ok(r),
            Ok(Err(e)) => {
                last = e.0;
                if !e.1 {
                    break; // not worth retrying (bad certificate, bad report)
                }
            }
            Err(_) => last = format!("no answer within {} s (--timeout)", timeout.as_secs()),
        }
    }
    Err(last)
}

/// One attempt; the error says whether retrying could help.
async fn collect_once(agent: &str, tls: Option<ClientTlsConfig>) -> Result<NodeReport, (String, bool)> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut ep = Endpoint::from_shared(format!("{scheme}://{agent}"))
        .map_err(|e| (format!("bad agent address: {e}"), false))?
        .connect_timeout(Duration::from_secs(10));
    if let Some(t) = tls {
        ep = ep.tls_config(t).map_err(|e| (format!("TLS setup: {e}"), false))?;
    }
    let channel = ep.connect().await.map_err(|e| (format!("cannot connect: {}", error_chain(&e)), true))?;
    let mut client = NodeInventoryClient::new(channel)
        .max_decoding_message_size(256 << 20)
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
    let resp = client
        .collect(CollectRequest { include_raw: false, max_age_seconds: 0 })
        .await
        .map_err(|s| {
            let retry = matches!(
                s.code(),
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::ResourceExhausted
            );
            (format!("{}: {}", s.code(), s.message()), retry)
        })?
        .into_inner();
    heketi_doctor_proto::decode_report(&resp).map_err(|e| (format!("bad report: {e}"), false))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
