//! The agent as a server: a real `heketi-doctor-agent serve` process with certificates made
//! here (rcgen) and fake tools printing the lab captures. mTLS accepts the right client and
//! refuses a wrong CA, no certificate and an expired certificate; Collect, Watch, health,
//! shared collections, shutdown on SIGTERM, one-line startup errors.

mod support;

use std::time::{Duration, Instant};

use heketi_doctor_common::inventory::{NodeReport, Source};
use heketi_doctor_proto::v1::node_inventory_client::NodeInventoryClient;
use heketi_doctor_proto::v1::{CollectRequest, WatchRequest};
use support::{Agent, Ca, FakeNode, Leaf};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn channel(
    addr: &str,
    server_ca: &Ca,
    identity: Option<&Leaf>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&server_ca.pem)).domain_name("localhost");
    if let Some(id) = identity {
        tls = tls.identity(Identity::from_pem(&id.cert, &id.key));
    }
    Endpoint::from_shared(format!("https://{addr}"))?
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .connect()
        .await
}

fn client(ch: Channel) -> NodeInventoryClient<Channel> {
    NodeInventoryClient::new(ch).max_decoding_message_size(64 << 20)
}

/// True when a Collect with this client identity gets a report.
async fn collect_works(addr: &str, server_ca: &Ca, identity: Option<&Leaf>) -> bool {
    match channel(addr, server_ca, identity).await {
        Err(_) => false,
        Ok(ch) => client(ch).collect(CollectRequest::default()).await.is_ok(),
    }
}

fn decode(msg: &heketi_doctor_proto::v1::Report) -> NodeReport {
    heketi_doctor_proto::decode_report(msg).unwrap()
}

struct Setup {
    _node: FakeNode,
    _certs: tempfile::TempDir,
    agent: Agent,
    server_ca: Ca,
    client_ca: Ca,
    client: Leaf,
}

fn start(extra: &[&str], gluster_delay: Option<&str>) -> Setup {
    let node = FakeNode::lab();
    if let Some(d) = gluster_delay {
        // every gluster call takes a while: concurrent Collects overlap
        let body = std::fs::read_to_string(node.tools().join("gluster")).unwrap();
        node.tool("gluster", &format!("sleep {d}\n{}", body.trim_start_matches("#!/bin/sh\n")));
    }
    let server_ca = Ca::new("heketi-doctor test server CA");
    let client_ca = Ca::new("heketi-doctor test client CA");
    let certs = tempfile::tempdir().unwrap();
    let mut args = support::tls_flags(certs.path(), &server_ca.leaf("localhost", false, false), &client_ca);
    args.extend(["--listen".into(), "127.0.0.1:0".into()]);
    args.extend(node.args());
    args.extend(extra.iter().map(|s| s.to_string()));
    let agent = Agent::start(&args);
    let client = client_ca.leaf("heketi-doctor-controller", true, false);
    Setup { _node: node, _certs: certs, agent, server_ca, client_ca, client }
}

#[tokio::test]
async fn mtls_collect_and_refusals() {
    let s = start(&["--min-collect-interval", "0"], None);
    let addr = s.agent.addr.clone();

    // the right client certificate: a full report of the fake node
    let mut c = client(channel(&addr, &s.server_ca, Some(&s.client)).await.unwrap());
    let t = Instant::now();
    let msg =
        c.collect(CollectRequest { include_raw: false, max_age_seconds: 0 }).await.unwrap().into_inner();
    eprintln!("Collect over mTLS with fake tools: {:?}", t.elapsed());
    assert_eq!((msg.hostname.as_str(), msg.agent_version.as_str()), ("node1", env!("CARGO_PKG_VERSION")));
    assert!(msg.failed_sources.is_empty(), "{:?}", msg.failed_sources);
    let r = decode(&msg);
    assert_eq!(r.lvm.vgs.len(), 2);
    assert_eq!(r.lvm.lvs.iter().filter(|lv| lv.name.starts_with("brick_")).count(), 14);
    assert_eq!(r.gluster.volumes.len(), 11);
    assert_eq!(r.bricks.len(), 14);
    assert!(r.bricks.iter().all(|b| b.mounted && b.in_fstab && b.brick_dir.is_some()), "{:?}", r.bricks);
    assert_eq!(r.identity.addresses, ["192.168.231.11"]);
    assert_eq!(r.identity.gluster_uuid.as_deref(), Some("f5a2224a-0ce0-4d28-9ac9-cd0ebd27b4f2"));
    assert!(r.raw.is_empty());
    // raw outputs on request
    let raw = decode(
        &c.collect(CollectRequest { include_raw: true, max_age_seconds: 60 }).await.unwrap().into_inner(),
    );
    assert!(raw.raw[&Source::Vgs].stdout.contains("vg_a950666d8a4996efb447c0ceb48438b5"));
    assert!(raw.raw[&Source::Vgs].stderr.contains("Activation disabled"));

    // refused: a certificate from another CA, no certificate, an expired one from the right CA
    let rogue = Ca::new("rogue CA").leaf("heketi-doctor-controller", true, false);
    assert!(!collect_works(&addr, &s.server_ca, Some(&rogue)).await, "client cert from another CA accepted");
    assert!(!collect_works(&addr, &s.server_ca, None).await, "client without a certificate accepted");
    let expired = s.client_ca.leaf("heketi-doctor-controller", true, true);
    assert!(!collect_works(&addr, &s.server_ca, Some(&expired)).await, "expired client cert accepted");
    // plaintext to the TLS port
    let plain = async {
        let ch = Endpoint::from_shared(format!("http://{addr}"))?.connect().await?;
        Ok::<_, Box<dyn std::error::Error>>(client(ch).collect(CollectRequest::default()).await?)
    };
    assert!(plain.await.is_err(), "plaintext accepted");
    // and the right client still works afterwards
    assert!(collect_works(&addr, &s.server_ca, Some(&s.client)).await);

    // health over mTLS
    let mut h = HealthClient::new(channel(&addr, &s.server_ca, Some(&s.client)).await.unwrap());
    let st = h
        .check(HealthCheckRequest { service: heketi_doctor_proto::NODE_INVENTORY_SERVICE.into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(st.status, ServingStatus::Serving as i32);
    let log = s.agent.log();
    assert!(log.contains("rpc{method=/heketidoctor.v1.NodeInventory/Collect}"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_collections_watch_and_sigterm() {
    let mut s = start(
        &["--min-collect-interval", "0", "--watch-min-interval", "1", "--health-listen", "127.0.0.1:0"],
        Some("0.5"),
    );
    let addr = s.agent.addr.clone();
    let ch = channel(&addr, &s.server_ca, Some(&s.client)).await.unwrap();

    // concurrent Collects share one collection
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let mut c = client(ch.clone());
            tokio::spawn(async move {
                c.collect(CollectRequest::default()).await.unwrap().into_inner().generation
            })
        })
        .collect();
    let mut gens = Vec::new();
    for c in calls {
        gens.push(c.await.unwrap());
    }
    assert!(gens.iter().all(|g| *g == gens[0]), "one collection for concurrent calls: {gens:?}");
    // a later call with max_age 0 gets a new one
    let next = client(ch.clone()).collect(CollectRequest::default()).await.unwrap().into_inner().generation;
    assert!(next > gens[0]);

    // Watch: a report per interval; the node did not change, so `changed` only on the first
    let mut stream = client(ch.clone())
        .watch(WatchRequest { interval_seconds: 1, include_raw: false })
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap();
    let second = stream.message().await.unwrap().unwrap();
    assert!(first.changed && !second.changed, "{} {}", first.changed, second.changed);
    assert!(second.generation > first.generation);
    assert_eq!(decode(&second).gluster.volumes.len(), 11);

    // plaintext health endpoint for kubelet probes: health only
    let health_addr = s.agent.health_addr.clone().expect("health_listen logged");
    let hch = Endpoint::from_shared(format!("http://{health_addr}")).unwrap().connect().await.unwrap();
    let st = HealthClient::new(hch.clone())
        .check(HealthCheckRequest { service: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(st.status, ServingStatus::Serving as i32);
    assert!(
        client(hch).collect(CollectRequest::default()).await.is_err(),
        "inventory is not on the health port"
    );

    // SIGTERM: the open Watch stream ends, the process exits 0
    // (block_in_place: the client's connections must stay serviced while we wait)
    let t = Instant::now();
    let status = tokio::task::block_in_place(|| s.agent.terminate(Duration::from_secs(15)))
        .expect("agent did not exit after SIGTERM");
    assert!(status.success(), "{status:?}\n{}", s.agent.log());
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "drained by closing, not by the 10 s limit: {:?}",
        t.elapsed()
    );
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => continue,
                other => return other.map(|_| ()),
            }
        }
    })
    .await;
    assert!(end.is_ok(), "Watch stream still open after shutdown");
    let log = s.agent.log();
    assert!(log.contains("shutting down") && log.contains("stopped") && !log.contains("still open"), "{log}");
}

#[test]
fn startup_errors_are_one_line_with_exit_2() {
    let ca = Ca::new("ca");
    let certs = tempfile::tempdir().unwrap();
    let flags = support::tls_flags(certs.path(), &ca.leaf("localhost", false, false), &ca);
    let run = |args: Vec<String>| {
        let out = support::run_agent(&args);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let mut base = vec!["serve".to_string(), "--listen".into(), "127.0.0.1:0".into()];

    // no TLS material and no --insecure: clap refuses
    let (code, err) = run(base.clone());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--tls-cert"), "{err}");

    // unreadable certificate file
    let mut args = base.clone();
    args.extend(flags.clone());
    args[4] = "/nonexistent/server.crt".into();
    let (code, err) = run(args);
    assert_eq!(code, Some(2));
    assert!(err.contains("--tls-cert /nonexistent/server.crt: cannot read"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // a key file that is not a key
    std::fs::write(certs.path().join("bad.key"), "hello").unwrap();
    let mut args = base.clone();
    args.extend(flags.clone());
    args[6] = certs.path().join("bad.key").display().to_string();
    let (code, err) = run(args);
    assert_eq!(code, Some(2));
    assert!(err.contains("--tls-key") && err.contains("no PEM private key"), "{err}");

    // a key that does not belong to the certificate
    let other = ca.leaf("other", false, false);
    std::fs::write(certs.path().join("other.key"), &other.key).unwrap();
    let mut args = base.clone();
    args.extend(flags.clone());
    args[6] = certs.path().join("other.key").display().to_string();
    let (code, err) = run(args);
    assert_eq!(code, Some(2));
    assert!(err.contains("TLS setup"), "{err}");

    // port in use
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().to_string();
    base[2] = port.clone();
    let mut args = base.clone();
    args.extend(flags);
    let (code, err) = run(args);
    assert_eq!(code, Some(2));
    assert!(err.contains(&format!("cannot listen on {port} (--listen)")) && err.contains("in use"), "{err}");
}
