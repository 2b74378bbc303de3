//! A minimal NodeInventory client for trying an agent by hand (until the controller's
//! `collect` command exists):
//!
//! ```sh
//! cargo run -p heketi-doctor-agent --example client -- https://node1:9477 \
//!     --ca ca.crt --cert client.crt --key client.key [--raw] [--watch SECS] [--server-name node1]
//! ```
//!
//! Prints the report JSON (one per line with `--watch`) on stdout, the header on stderr.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use heketi_doctor_proto::v1::node_inventory_client::NodeInventoryClient;
use heketi_doctor_proto::v1::{CollectRequest, Report, WatchRequest};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

#[derive(Parser)]
struct Args {
    /// `https://HOST:PORT` (or `http://` for an `--insecure` agent).
    url: String,
    /// CA that signed the agent's certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Client certificate and key (signed by the agent's `--client-ca`).
    #[arg(long)]
    cert: Option<PathBuf>,
    #[arg(long)]
    key: Option<PathBuf>,
    /// Name in the agent's certificate, when it differs from the URL's host.
    #[arg(long)]
    server_name: Option<String>,
    #[arg(long)]
    raw: bool,
    /// Watch with this interval instead of one Collect.
    #[arg(long, value_name = "SECS")]
    watch: Option<u32>,
}

fn header(r: &Report) {
    eprintln!(
        "host={} agent={} collected_at={} generation={} changed={} failed={:?}",
        r.hostname, r.agent_version, r.collected_at, r.generation, r.changed, r.failed_sources
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    let mut ep = Endpoint::from_shared(a.url.clone())?.connect_timeout(Duration::from_secs(10));
    if a.url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        if let Some(ca) = &a.ca {
            tls = tls.ca_certificate(Certificate::from_pem(std::fs::read(ca).context("--ca")?));
        }
        if let (Some(c), Some(k)) = (&a.cert, &a.key) {
            tls = tls.identity(Identity::from_pem(
                std::fs::read(c).context("--cert")?,
                std::fs::read(k).context("--key")?,
            ));
        }
        if let Some(n) = &a.server_name {
            tls = tls.domain_name(n.clone());
        }
        ep = ep.tls_config(tls)?;
    }
    let mut client = NodeInventoryClient::new(ep.connect().await.context("connect")?)
        .max_decoding_message_size(256 << 20)
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
    match a.watch {
        None => {
            let r =
                client.collect(CollectRequest { include_raw: a.raw, max_age_seconds: 0 }).await?.into_inner();
            header(&r);
            println!("{}", String::from_utf8_lossy(&r.report_json));
        }
        Some(secs) => {
            let mut s =
                client.watch(WatchRequest { interval_seconds: secs, include_raw: a.raw }).await?.into_inner();
            while let Some(r) = s.message().await? {
                header(&r);
                println!("{}", String::from_utf8_lossy(&r.report_json));
            }
        }
    }
    Ok(())
}
