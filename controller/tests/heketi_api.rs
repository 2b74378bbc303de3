//! `--db http://heketi:8080`: the DB comes from a running heketi's `GET /db/dump`, with heketi's
//! JWT. A fake heketi here checks the token the way heketi does (HS256, issuer, qsh).

use std::path::Path;
use std::process::Command;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_heketi-doctor");
const KEY: &str = "My Secret";

fn small_json() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/heketi-db/small.json")).unwrap()
}

/// heketi's middleware: HS256 signature with the admin key, `iss` = user, `qsh` = sha256 of
/// "METHOD&PATH".
fn authorized(h: &HeaderMap) -> bool {
    let Some(token) =
        h.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("bearer "))
    else {
        return false;
    };
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    let Ok(sig) = URL_SAFE_NO_PAD.decode(parts[2]) else { return false };
    if mac.verify_slice(&sig).is_err() {
        return false;
    }
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let qsh: String = Sha256::digest(b"GET&/db/dump").iter().map(|b| format!("{b:02x}")).collect();
    claims["iss"] == "admin"
        && claims["qsh"] == qsh.as_str()
        && claims["exp"].as_u64() > claims["iat"].as_u64()
}

#[test]
fn db_from_a_running_heketi_rest_dump() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/db/dump",
        get(|h: HeaderMap| async move {
            if authorized(&h) {
                (StatusCode::OK, small_json())
            } else {
                (StatusCode::UNAUTHORIZED, b"Invalid JWT token".to_vec())
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("http://{addr}");

    let o = Command::new(BIN)
        .args(["export", "--db", &url])
        .env("HEKETI_CLI_KEY", KEY)
        .env_remove("HEKETI_CLI_USER")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout == small_json(), "the dump exports as heketi's own export");

    let o = Command::new(BIN).args(["export", "--db", &url]).env("HEKETI_CLI_KEY", "wrong").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("401") && err.contains("HEKETI_CLI_KEY"), "{err}");
}

#[test]
fn report_pushes_metrics_to_a_pushgateway() {
    use std::sync::{Arc, Mutex};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let got: Arc<Mutex<Option<String>>> = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/metrics/job/heketi-doctor",
        axum::routing::put(move |body: String| {
            let g = g.clone();
            async move {
                *g.lock().unwrap() = Some(body);
                StatusCode::OK
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    let o = Command::new(BIN)
        .args(["report", "--db"])
        .arg(data.join("corpus/lab-debian12/truth.json"))
        .arg("--snapshot")
        .arg(data.join("snapshots/lab-consistent.json"))
        .arg("--out-dir")
        .arg(dir.path())
        .args(["--pushgateway", &format!("http://{addr}")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let pushed = got.lock().unwrap().clone().expect("nothing pushed");
    assert_eq!(pushed, std::fs::read_to_string(dir.path().join("heketi_doctor.prom")).unwrap());
}
