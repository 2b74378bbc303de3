//! The controller's two plain-HTTP clients (hyper, already in the tree through tonic):
//! - a running heketi as a DB source: `GET /db/dump` (the same JSON as `heketi db export`) with
//!   heketi's JWT auth — HS256 over `{iss: user, iat, exp, qsh: sha256("GET&/db/dump")}`, the
//!   scheme `heketi-cli` uses. Scheduled reports read this instead of touching the live file;
//! - a Prometheus Pushgateway for `report --pushgateway`.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use sha2::{Digest, Sha256};

const DUMP_PATH: &str = "/db/dump";
/// A dump larger than this is refused (the 2000-volume fixture's export is 11 MB).
const MAX_DUMP: usize = 512 << 20;

/// heketi's JWT for one request.
pub fn jwt(user: &str, key: &str, method: &str, path: &str, now: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let qsh = hex(&Sha256::digest(format!("{method}&{path}").as_bytes()));
    let claims = serde_json::json!({"iss": user, "iat": now, "exp": now + 600, "qsh": qsh});
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{claims}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Fetch the DB dump from `base` (`http://heketi:8080`). User and key come from
/// `HEKETI_CLI_USER` / `HEKETI_CLI_KEY`, as for `heketi-cli` (user defaults to `admin`).
pub fn fetch_dump(base: &str) -> Result<Vec<u8>> {
    if base.starts_with("https://") {
        bail!("{base}: https is not supported for the heketi API; use http inside the cluster or a port-forward");
    }
    let user = std::env::var("HEKETI_CLI_USER").unwrap_or_else(|_| "admin".into());
    let key = std::env::var("HEKETI_CLI_KEY").unwrap_or_default();
    let url = format!("{}{DUMP_PATH}", base.trim_end_matches('/'));
    let uri: hyper::Uri = url.parse().with_context(|| format!("{url}: not a URL"))?;
    let token = jwt(&user, &key, "GET", DUMP_PATH, crate::clock::now().max(0) as u64);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<Empty<Bytes>>();
        let req =
            hyper::Request::get(uri).header("Authorization", format!("bearer {token}")).body(Empty::new())?;
        let resp = tokio::time::timeout(Duration::from_secs(60), client.request(req))
            .await
            .with_context(|| format!("{url}: no answer within 60 s"))?
            .with_context(|| format!("{url}: cannot reach heketi"))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_DUMP)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("{url}: reading the dump: {e}"))?
            .to_bytes();
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_owned();
            let hint = if status == hyper::StatusCode::UNAUTHORIZED {
                " (set HEKETI_CLI_USER and HEKETI_CLI_KEY to heketi's admin user and key)"
            } else {
                ""
            };
            bail!("{url}: heketi answered {status}: {text}{hint}");
        }
        Ok(body.to_vec())
    })
}

/// PUT the metrics to a Prometheus Pushgateway under job `heketi-doctor` (replacing the group).
pub fn push_metrics(base: &str, body: &str) -> Result<()> {
    if base.starts_with("https://") {
        bail!("{base}: https is not supported for the Pushgateway; use http inside the cluster");
    }
    let url = format!("{}/metrics/job/heketi-doctor", base.trim_end_matches('/'));
    let uri: hyper::Uri = url.parse().with_context(|| format!("{url}: not a URL"))?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<http_body_util::Full<Bytes>>();
        let req = hyper::Request::put(uri)
            .header("Content-Type", "text/plain; version=0.0.4")
            .body(http_body_util::Full::new(Bytes::from(body.to_owned())))?;
        let resp = tokio::time::timeout(Duration::from_secs(30), client.request(req))
            .await
            .with_context(|| format!("{url}: no answer within 30 s"))?
            .with_context(|| format!("{url}: cannot reach the Pushgateway"))?;
        if !resp.status().is_success() {
            bail!("{url}: Pushgateway answered {}", resp.status());
        }
        Ok(())
    })
}
