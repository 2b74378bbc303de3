//! The controller's `collect` against real agent processes: mutual TLS with certificates made
//! here, one agent answering, one that is not there. The snapshot lists the missing agent as
//! unreachable (never silently dropped), and `diff` then reports that node as not seen.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{Agent, Ca, FakeNode};

/// The controller binary sits next to the agent's in the target directory once the workspace is
/// built (`cargo test --workspace` builds every package's binaries).
fn controller() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_BIN_EXE_heketi-doctor-agent")).with_file_name("heketi-doctor");
    p.exists().then_some(p)
}

#[test]
fn controller_collects_over_mtls_and_lists_the_agent_that_did_not_answer() {
    let Some(ctl) = controller() else {
        assert!(std::env::var_os("CI").is_none(), "heketi-doctor binary not built next to the agent");
        eprintln!("controller_collect: skipped: build the workspace first (cargo test --workspace)");
        return;
    };
    let node = FakeNode::lab();
    let server_ca = Ca::new("heketi-doctor test server CA");
    let client_ca = Ca::new("heketi-doctor test client CA");
    let certs = tempfile::tempdir().unwrap();
    let mut args = support::tls_flags(certs.path(), &server_ca.leaf("localhost", false, false), &client_ca);
    args.extend(["--listen".into(), "127.0.0.1:0".into(), "--min-collect-interval".into(), "0".into()]);
    args.extend(node.args());
    let agent = Agent::start(&args);

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let client = client_ca.leaf("heketi-doctor-controller", true, false);
    let ca = write("server-ca.pem", &server_ca.pem);
    let cert = write("client.pem", &client.cert);
    let key = write("client.key", &client.key);
    let snap = dir.path().join("snapshot.json");
    // A port nobody listens on: the second "agent" is down.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let o = Command::new(&ctl)
        .args([
            "collect",
            "--agent",
            &agent.addr,
            "--agent",
            &dead,
            "--tls-server-name",
            "localhost",
            "--timeout",
            "20",
            "--retries",
            "1",
        ])
        .arg("--ca")
        .arg(&ca)
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .arg("-o")
        .arg(&snap)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "partial collection exits 1: {err}");
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&snap).unwrap()).unwrap();
    assert_eq!(s["reports"].as_array().unwrap().len(), 1, "{err}");
    assert_eq!(s["reports"][0]["identity"]["hostname"], "node1");
    assert_eq!(s["unreachable"][0]["agent"], dead.as_str());
    assert!(s["unreachable"][0]["error"].as_str().unwrap().contains("connect"), "{}", s["unreachable"]);

    // diff: the lab's node1 is seen, the other two heketi nodes are not seen — nothing of theirs
    // is reported missing.
    let truth = support::corpus().join("lab-debian12/truth.json");
    let o = Command::new(&ctl)
        .arg("diff")
        .arg("--db")
        .arg(&truth)
        .arg("--snapshot")
        .arg(&snap)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.iter().filter(|x| x["code"] == "NODE_UNREACHABLE").count(), 2, "{f:#?}");
    assert!(!f.iter().any(|x| x["code"] == "BRICK_LV_MISSING" || x["code"] == "DEVICE_VG_MISSING"), "{f:#?}");

    // The wrong CA: the agent's certificate is not trusted, nothing is collected, exit 2.
    let other = Ca::new("some other CA");
    let wrong = write("other-ca.pem", &other.pem);
    let o = Command::new(&ctl)
        .args([
            "collect",
            "--agent",
            &agent.addr,
            "--tls-server-name",
            "localhost",
            "--timeout",
            "10",
            "--retries",
            "0",
        ])
        .arg("--ca")
        .arg(&wrong)
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no node could be read"), "{err}");
}

#[test]
fn certificates_from_heketi_doctor_certs_work_end_to_end() {
    let Some(ctl) = controller() else {
        assert!(std::env::var_os("CI").is_none(), "heketi-doctor binary not built next to the agent");
        eprintln!("controller_collect: skipped: build the workspace first (cargo test --workspace)");
        return;
    };
    let certs = tempfile::tempdir().unwrap();
    let o = Command::new(&ctl).arg("certs").arg("--out").arg(certs.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = |n: &str| certs.path().join(n).to_string_lossy().into_owned();
    for key in ["ca.key", "agent.key", "controller.key"] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(f(key)).unwrap().permissions().mode() & 0o777, 0o600, "{key}");
    }
    // Refuses to overwrite without --force.
    let o = Command::new(&ctl).arg("certs").arg("--out").arg(certs.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));

    let node = FakeNode::lab();
    let mut args: Vec<String> = vec![
        "--tls-cert".into(),
        f("agent.crt"),
        "--tls-key".into(),
        f("agent.key"),
        "--client-ca".into(),
        f("ca.crt"),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    args.extend(node.args());
    let agent = Agent::start(&args);
    // The default agent names include 127.0.0.1: no --tls-server-name needed.
    let o = Command::new(&ctl)
        .args([
            "collect",
            "--agent",
            &agent.addr,
            "--ca",
            &f("ca.crt"),
            "--cert",
            &f("controller.crt"),
            "--key",
            &f("controller.key"),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["reports"][0]["identity"]["hostname"], "node1");
    // The agent certificate cannot act as a client, nor the CA's key pair stand in for it.
    let o = Command::new(&ctl)
        .args([
            "collect",
            "--agent",
            &agent.addr,
            "--ca",
            &f("ca.crt"),
            "--cert",
            &f("agent.crt"),
            "--key",
            &f("agent.key"),
            "--retries",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "a server certificate must not pass as a client");
}
