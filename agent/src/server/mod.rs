//! `serve`: the gRPC server. mTLS by default (rustls via tonic's `tls-ring`): the agent's
//! certificate and key, and the CA that client certificates must chain to; a client without
//! such a certificate fails the handshake. Plaintext only with `--insecure`.
//! `grpc.health.v1.Health` is served beside the inventory, and optionally alone on a
//! plaintext `--health-listen` address for kubelet probes (which cannot present certificates).
//! SIGTERM/SIGINT: health goes NOT_SERVING, Watch streams end, in-flight calls finish (up to
//! [`DRAIN`]), then the process exits 0.

mod hub;
mod service;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use heketi_doctor_proto::v1::node_inventory_server::NodeInventoryServer;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::watch;
use tonic::codec::CompressionEncoding;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tracing::{info, warn};

pub use self::service::Policy;
use crate::collect::CollectConfig;

/// How long shutdown waits for open calls and streams.
pub const DRAIN: Duration = Duration::from_secs(10);
/// TLS handshake timeout.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request accepted (requests are tiny).
const MAX_REQUEST: usize = 64 * 1024;

/// Certificate files for mTLS.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: PathBuf,
}

#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// `None`: plaintext (`--insecure`).
    pub tls: Option<TlsFiles>,
    pub health_listen: Option<SocketAddr>,
    pub policy: Policy,
    pub collect: CollectConfig,
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{flag} {}: cannot read", path.display()))
}

/// Loads and checks the PEM files; every problem names the flag and the file.
pub fn load_tls(files: &TlsFiles) -> Result<ServerTlsConfig> {
    let cert = read("--tls-cert", &files.cert)?;
    let key = read("--tls-key", &files.key)?;
    let ca = read("--client-ca", &files.client_ca)?;
    let certs = |flag: &str, path: &Path, pem: &[u8]| -> Result<()> {
        let n = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow!("{flag} {}: not a PEM certificate file: {e}", path.display()))?
            .len();
        if n == 0 {
            bail!("{flag} {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it", path.display());
        }
        Ok(())
    };
    certs("--tls-cert", &files.cert, &cert)?;
    certs("--client-ca", &files.client_ca, &ca)?;
    PrivateKeyDer::from_pem_slice(&key).map_err(|e| {
        anyhow!("--tls-key {}: no PEM private key (PKCS#8, PKCS#1 or SEC1) in it: {e}", files.key.display())
    })?;
    Ok(ServerTlsConfig::new()
        .identity(Identity::from_pem(cert, key))
        .client_ca_root(Certificate::from_pem(ca))
        .timeout(HANDSHAKE_TIMEOUT))
}

/// Binds now (so "address in use" is a startup error naming the flag); returns the bound address.
fn bind(addr: SocketAddr, what: &str) -> Result<(TcpIncoming, SocketAddr)> {
    let std =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr} ({what})"))?;
    let local = std.local_addr().with_context(|| format!("{addr}: local address"))?;
    std.set_nonblocking(true).with_context(|| format!("{addr}: set_nonblocking"))?;
    let l = tokio::net::TcpListener::from_std(std).with_context(|| format!("{addr}: tokio listener"))?;
    Ok((TcpIncoming::from(l).with_nodelay(Some(true)), local))
}

/// Waits for SIGTERM or SIGINT; returns its name.
async fn signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            warn!("cannot install signal handlers; stop with SIGKILL");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

pub async fn serve(cfg: ServeConfig) -> Result<()> {
    // everything that can fail on the operator's input fails before anything listens
    let tls = match &cfg.tls {
        Some(files) => Some(load_tls(files)?),
        None => {
            warn!(
                "--insecure: serving PLAINTEXT without client authentication; anyone who can reach {} can read this node's inventory",
                cfg.listen
            );
            None
        }
    };
    let (incoming, listening) = bind(cfg.listen, "--listen")?;
    let (health_incoming, health_listening) = match cfg.health_listen {
        Some(a) => bind(a, "--health-listen").map(|(i, l)| (Some(i), Some(l)))?,
        None => (None, None),
    };

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (health, health_svc) = tonic_health::server::health_reporter();
    let hub = hub::Hub::new(cfg.collect.clone());
    let inventory = NodeInventoryServer::new(service::Inventory::new(hub, cfg.policy, shutdown_rx.clone()))
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(MAX_REQUEST);
    health.set_serving::<NodeInventoryServer<service::Inventory>>().await;

    let mut builder =
        Server::builder().trace_fn(|req| tracing::info_span!("rpc", method = %req.uri().path()));
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls)
            .map_err(|e| anyhow!("TLS setup (--tls-cert/--tls-key/--client-ca): {e}"))?;
    }
    let mut stop = shutdown_rx.clone();
    let main = builder.add_service(health_svc.clone()).add_service(inventory).serve_with_incoming_shutdown(
        incoming,
        async move {
            let _ = stop.wait_for(|v| *v).await;
        },
    );
    let health_only = health_incoming.map(|inc| {
        let mut stop = shutdown_rx.clone();
        Server::builder().add_service(health_svc).serve_with_incoming_shutdown(inc, async move {
            let _ = stop.wait_for(|v| *v).await;
        })
    });
    info!(
        listen = %listening,
        mtls = cfg.tls.is_some(),
        health_listen = ?health_listening,
        version = env!("CARGO_PKG_VERSION"),
        "serving heketidoctor.v1.NodeInventory"
    );
    let servers = async move {
        match health_only {
            Some(h) => {
                let (a, b) = tokio::join!(main, h);
                a.and(b)
            }
            None => main.await,
        }
    };
    tokio::pin!(servers);
    tokio::select! {
        r = &mut servers => r.context("server stopped")?,
        sig = signal() => {
            info!(signal = sig, "shutting down: NOT_SERVING, ending streams, draining calls");
            health.set_not_serving::<NodeInventoryServer<service::Inventory>>().await;
            let _ = shutdown_tx.send(true);
            match tokio::time::timeout(DRAIN, &mut servers).await {
                Ok(r) => r.context("server stopped")?,
                Err(_) => warn!("connections still open after {}s; exiting anyway", DRAIN.as_secs()),
            }
        }
    }
    info!("stopped");
    Ok(())
}
