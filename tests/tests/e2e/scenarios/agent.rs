//! Agent scenarios: `heketi-doctor-agent` inside every lab node, the controller reaching it.
//!
//! The agent (branch `agent`) is being built in parallel; each scenario first asks the binaries
//! what they can do and skips with the reason while a piece is missing, so they start running
//! by themselves when it lands:
//! - `collect_in_nodes`, `capture_offline`: need `heketi-doctor-agent collect` / `capture`;
//! - `mtls_handshake`: needs `heketi-doctor-agent serve` ([`agent_available`]) and `openssl`
//!   (certificates, and `s_client` as the TLS client);
//! - the other mTLS scenarios: also the controller's `collect` (fan-out over mTLS,
//!   `-o snapshot.json`). The controller's flags are not settled yet: [`controller_collect`] is the one
//!   place that spells them; adjust it when `collect` lands.
//!
//! Agents run inside the nodes' namespaces (`lab.sh exec nodeI …`), listen on the node's lab
//! address, and are stopped by their in-namespace pid. The controller runs inside node1 (the
//! lab network is not reachable from the host's namespace, by design).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use heketi_doctor_common::inventory::{NodeReport, SourceStatus};
use heketi_doctor_common::topology::ClusterSnapshot;

use crate::e2e::cmd::{self, have_tool};
use crate::e2e::{problems, Ctx, Verdict};

const PORT: u16 = 9477;

fn agent_bin(ctx: &Ctx) -> Option<&Path> {
    ctx.bins.agent.as_deref()
}

/// Whether `<bin> <sub> --help` prints that subcommand's usage (a stub binary exits 0 on
/// anything, so the exit code alone proves nothing).
fn has_subcommand(bin: &Path, sub: &str) -> bool {
    let mut c = std::process::Command::new(bin);
    c.args([sub, "--help"]);
    cmd::run(c, Duration::from_secs(20)).is_ok_and(|o| {
        o.ok() && o.stdout.lines().any(|l| l.starts_with("Usage:") && l.split_whitespace().any(|w| w == sub))
    })
}

/// Whether the agent binary has subcommand `sub`.
fn agent_has(ctx: &Ctx, sub: &str) -> bool {
    agent_bin(ctx).is_some_and(|b| has_subcommand(b, sub))
}

/// The agent can serve: `heketi-doctor-agent serve` exists.
pub fn agent_available(ctx: &Ctx) -> bool {
    agent_has(ctx, "serve")
}

fn controller_has_collect(ctx: &Ctx) -> bool {
    has_subcommand(&ctx.bins.heketi_doctor, "collect")
}

/// Why the agents cannot be served with mTLS here, if they cannot.
fn serve_missing(ctx: &Ctx) -> Option<String> {
    if !agent_available(ctx) {
        return Some("heketi-doctor-agent has no `serve` subcommand yet (branch agent)".into());
    }
    if !have_tool("openssl") {
        return Some("openssl is not installed (needed to make the lab's certificates)".into());
    }
    None
}

/// Why the mTLS scenarios with the controller cannot run yet, if they cannot.
fn mtls_missing(ctx: &Ctx) -> Option<String> {
    if !agent_available(ctx) {
        return Some("heketi-doctor-agent has no `serve` subcommand yet (branch agent)".into());
    }
    if !controller_has_collect(ctx) {
        return Some("heketi-doctor has no `collect` command yet (branch agent)".into());
    }
    if !have_tool("openssl") {
        return Some("openssl is not installed (needed to make the lab's certificates)".into());
    }
    None
}

/// (agent) `heketi-doctor-agent collect --output json` inside every node: the reports the agent
/// builds itself must give the same verdict as the harness's capture — diff finds nothing.
pub fn collect_in_nodes(ctx: &mut Ctx) -> Result<Verdict> {
    if !agent_has(ctx, "collect") {
        return Ok(Verdict::Skip(
            "heketi-doctor-agent has no `collect` subcommand yet (branch agent)".into(),
        ));
    }
    let bin = agent_bin(ctx).unwrap().to_string_lossy().into_owned();
    let mut reports = Vec::new();
    for n in 1..=ctx.lab.nodes {
        let o = ctx.lab.exec(n, &[&bin, "collect", "--output", "json"])?;
        // exit 1 = a report, some source failed: the report says which
        ensure!(matches!(o.code, Some(0 | 1)), "agent collect on node{n}: {}", o.describe());
        let r = NodeReport::from_json(&o.stdout).with_context(|| format!("node{n}: agent report"))?;
        // not installed (gluster-block) or skipped is a fact about the node, not a failure
        let failed: Vec<_> = r
            .sources
            .iter()
            .filter(|(_, s)| matches!(s.status, SourceStatus::Failed { .. } | SourceStatus::TimedOut))
            .map(|(k, s)| format!("{k:?}: {:?}", s.status))
            .collect();
        ensure!(failed.is_empty(), "node{n}: sources failed in the agent's report: {failed:?}");
        reports.push(r);
    }
    let snap = ctx.path("agent-collect.snapshot.json");
    let s = ClusterSnapshot { collected_at: 0, reports, unreachable: vec![] };
    // Every brick's thin pool must be recognised with its sizes: without them diff silently
    // skips the device accounting check and rebuild falls back to formulas.
    let truth = heketi_doctor_common::topology::assemble(&s);
    let no_pool_size: Vec<&String> = truth
        .bricks
        .values()
        .filter(|b| b.lv.as_ref().is_some_and(|l| l.pool_size_kib.is_none()))
        .map(|b| &b.id)
        .collect();
    ensure!(no_pool_size.is_empty(), "bricks whose thin pool was not recognised: {no_pool_size:?}");
    std::fs::write(&snap, serde_json::to_string_pretty(&s)?)?;
    let (code, report) = ctx.diff(&ctx.lab.heketi_db(), &snap)?;
    let p = problems(&report);
    ensure!(
        code == Some(0) && p.is_empty(),
        "diff with the agent's reports: exit {code:?}\n{}",
        p.join("\n")
    );
    Ok(Verdict::Pass)
}

/// (agent) Air-gapped sites: `heketi-doctor-agent capture --out DIR` on every node, the
/// directories carried to the controller, `heketi-doctor collect --from-dir` → snapshot → diff.
pub fn capture_offline(ctx: &mut Ctx) -> Result<Verdict> {
    if !agent_has(ctx, "capture") {
        return Ok(Verdict::Skip(
            "heketi-doctor-agent has no `capture` subcommand yet (branch agent)".into(),
        ));
    }
    if !controller_has_collect(ctx) {
        return Ok(Verdict::Skip("heketi-doctor has no `collect --from-dir` yet (branch agent)".into()));
    }
    let bin = agent_bin(ctx).unwrap().to_string_lossy().into_owned();
    let root = ctx.path("agent-capture");
    let mut dirs = Vec::new();
    for n in 1..=ctx.lab.nodes {
        // The node's root filesystem is the host's: the capture lands in our work directory.
        let dir = root.join(format!("node{n}"));
        let o = ctx.lab.exec(n, &[&bin, "capture", "--out", &dir.to_string_lossy()])?;
        ensure!(matches!(o.code, Some(0 | 1)), "agent capture on node{n}: {}", o.describe());
        dirs.push(dir);
    }
    let snap = ctx.path("agent-capture.snapshot.json");
    let mut args: Vec<String> = vec!["collect".into()];
    for d in &dirs {
        args.push("--from-dir".into());
        args.push(d.display().to_string());
    }
    args.extend(["-o".into(), snap.display().to_string()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    ctx.hd(&a)?.check().context("collect --from-dir")?;
    let (code, report) = ctx.diff(&ctx.lab.heketi_db(), &snap)?;
    let p = problems(&report);
    ensure!(code == Some(0) && p.is_empty(), "diff of the offline captures: exit {code:?}\n{}", p.join("\n"));
    Ok(Verdict::Pass)
}

/// A CA, agent certificates (SAN = the node's lab address) and a controller certificate, made
/// with openssl; a second, unrelated CA with its own controller certificate.
struct Certs {
    dir: PathBuf,
}

impl Certs {
    fn make(dir: &Path, ips: &[String]) -> Result<Certs> {
        std::fs::create_dir_all(dir)?;
        let ssl = |args: &[&str]| -> Result<()> {
            let mut c = std::process::Command::new("openssl");
            c.args(args).current_dir(dir);
            cmd::run(c, Duration::from_secs(60))?.check().map(drop)
        };
        for ca in ["ca", "other-ca"] {
            ssl(&[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=heketi-doctor e2e {ca}"),
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
            ])?;
        }
        let leaf = |name: &str, ca: &str, ext: &str| -> Result<()> {
            std::fs::write(dir.join(format!("{name}.ext")), ext)?;
            ssl(&[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                &format!("/CN={name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ])?;
            ssl(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{ca}.pem"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
                "-out",
                &format!("{name}.pem"),
            ])
        };
        for (i, ip) in ips.iter().enumerate() {
            leaf(
                &format!("agent{}", i + 1),
                "ca",
                &format!("subjectAltName=IP:{ip}\nextendedKeyUsage=serverAuth\n"),
            )?;
        }
        leaf("controller", "ca", "extendedKeyUsage=clientAuth\n")?;
        leaf("intruder", "other-ca", "extendedKeyUsage=clientAuth\n")?;
        Ok(Certs { dir: dir.to_owned() })
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

/// Agents serving in every node; stopped (by their in-namespace pid) when dropped.
struct Agents<'a> {
    ctx: &'a Ctx,
    started: Vec<usize>,
}

impl<'a> Agents<'a> {
    fn start(ctx: &'a Ctx, certs: &Certs) -> Result<Agents<'a>> {
        let bin = agent_bin(ctx).context("no agent binary")?.display().to_string();
        let mut a = Agents { ctx, started: Vec::new() };
        for n in 1..=ctx.lab.nodes {
            let ip = ctx.lab.node_ip(n);
            let log = ctx.path(&format!("agent{n}.log"));
            let script = format!(
                "{bin} serve --listen {ip}:{PORT} --tls-cert {} --tls-key {} --client-ca {} >{} 2>&1 & echo $! >/run/hd-agent.pid",
                certs.file(&format!("agent{n}.pem")),
                certs.file(&format!("agent{n}.key")),
                certs.file("ca.pem"),
                log.display()
            );
            ctx.lab.sh(n, &script)?;
            a.started.push(n);
        }
        for n in 1..=ctx.lab.nodes {
            a.wait_listening(n)?;
        }
        Ok(a)
    }

    fn wait_listening(&self, n: usize) -> Result<()> {
        let ip = self.ctx.lab.node_ip(n);
        let start = Instant::now();
        loop {
            let probe = format!("exec 3<>/dev/tcp/{ip}/{PORT}");
            if self.ctx.lab.exec(n, &["bash", "-c", &probe])?.ok() {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(30) {
                let log =
                    std::fs::read_to_string(self.ctx.path(&format!("agent{n}.log"))).unwrap_or_default();
                bail!("agent on node{n} does not listen on {ip}:{PORT} after 30 s:\n{}", cmd::tail(&log, 10));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Sends a signal to node `n`'s agent (KILL, STOP, CONT).
    fn signal(&self, n: usize, sig: &str) -> Result<()> {
        self.ctx.lab.sh(n, &format!("kill -{sig} \"$(cat /run/hd-agent.pid)\""))?;
        Ok(())
    }
}

impl Drop for Agents<'_> {
    fn drop(&mut self) {
        for n in &self.started {
            let _ = self.ctx.lab.exec(
                *n,
                &["sh", "-c", "p=$(cat /run/hd-agent.pid 2>/dev/null) && kill -CONT $p; kill -KILL $p; rm -f /run/hd-agent.pid"],
            );
        }
    }
}

/// The controller's fan-out, run inside node1 (the lab network is private to the lab):
/// `heketi-doctor collect` to every agent over mTLS, snapshot to `out`.
/// The one place that spells the controller's `collect` flags.
fn controller_collect(
    ctx: &Ctx,
    certs: &Certs,
    client: &str,
    timeout_secs: u32,
    out: &Path,
) -> Result<cmd::Output> {
    let bin = ctx.bins.heketi_doctor.display().to_string();
    let mut args: Vec<String> = vec![bin, "collect".into()];
    for n in 1..=ctx.lab.nodes {
        args.push("--agent".into());
        args.push(format!("{}:{PORT}", ctx.lab.node_ip(n)));
    }
    args.extend([
        "--ca".into(),
        certs.file("ca.pem"),
        "--cert".into(),
        certs.file(&format!("{client}.pem")),
        "--key".into(),
        certs.file(&format!("{client}.key")),
        "--timeout".into(),
        timeout_secs.to_string(),
        "-o".into(),
        out.display().to_string(),
    ]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    ctx.lab.exec(1, &a)
}

fn read_snapshot(p: &Path) -> Result<ClusterSnapshot> {
    Ok(serde_json::from_str(&std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?)?)
}

fn mtls_setup(ctx: &Ctx) -> Result<Certs> {
    let ips: Vec<String> = (1..=ctx.lab.nodes).map(|n| ctx.lab.node_ip(n)).collect();
    Certs::make(&ctx.path("certs"), &ips)
}

/// A TLS client (`openssl s_client`, run in node1) speaking HTTP/2's preface to node `n`'s
/// agent with the given client identity (`None`: no certificate). Ok(true) when the agent
/// accepted the client, Ok(false) when it refused it (TLS alert); the agent's own certificate
/// must verify against the lab CA for the node's address in every case.
fn tls_client_accepted(ctx: &Ctx, certs: &Certs, n: usize, client: Option<&str>) -> Result<(bool, String)> {
    let ip = ctx.lab.node_ip(n);
    let identity = client.map_or(String::new(), |c| {
        format!("-cert {} -key {}", certs.file(&format!("{c}.pem")), certs.file(&format!("{c}.key")))
    });
    let script = format!(
        "(printf 'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n'; sleep 1) | timeout 20 openssl s_client -brief \
         -connect {ip}:{PORT} -CAfile {} -verify_ip {ip} -verify_return_error -alpn h2 {identity} 2>&1",
        certs.file("ca.pem")
    );
    let o = ctx.lab.exec(1, &["sh", "-c", &script])?;
    ensure!(
        o.stdout.contains("Verification: OK"),
        "node{n}'s agent certificate does not verify for {ip} against the lab CA:\n{}",
        o.stdout
    );
    Ok((o.ok() && !o.stdout.contains("alert"), o.stdout))
}

/// (agent) mTLS at the door, with a plain TLS client: the agents in every node accept the
/// controller's certificate and refuse no certificate and a certificate from another CA.
pub fn mtls_handshake(ctx: &mut Ctx) -> Result<Verdict> {
    if let Some(why) = serve_missing(ctx) {
        return Ok(Verdict::Skip(why));
    }
    let certs = mtls_setup(ctx)?;
    let _agents = Agents::start(ctx, &certs)?;
    for n in 1..=ctx.lab.nodes {
        let (ok, out) = tls_client_accepted(ctx, &certs, n, Some("controller"))?;
        ensure!(ok, "node{n}'s agent refused the controller's certificate:\n{out}");
        let (ok, out) = tls_client_accepted(ctx, &certs, n, None)?;
        ensure!(!ok, "node{n}'s agent accepted a client without certificate:\n{out}");
        let (ok, out) = tls_client_accepted(ctx, &certs, n, Some("intruder"))?;
        ensure!(!ok, "node{n}'s agent accepted a certificate from another CA:\n{out}");
    }
    Ok(Verdict::Pass)
}

/// (agent) Agents in every node, the controller collects over mTLS: every node reports and the
/// snapshot diffs clean against the lab's DB.
pub fn mtls_collect(ctx: &mut Ctx) -> Result<Verdict> {
    if let Some(why) = mtls_missing(ctx) {
        return Ok(Verdict::Skip(why));
    }
    let certs = mtls_setup(ctx)?;
    let _agents = Agents::start(ctx, &certs)?;
    let snap = ctx.path("mtls.snapshot.json");
    let o = controller_collect(ctx, &certs, "controller", 60, &snap)?;
    ensure!(o.ok(), "controller collect (adjust controller_collect if its flags changed): {}", o.describe());
    let s = read_snapshot(&snap)?;
    ensure!(
        s.reports.len() == ctx.lab.nodes && s.unreachable.is_empty(),
        "reports {} unreachable {:?}",
        s.reports.len(),
        s.unreachable
    );
    let (code, report) = ctx.diff(&ctx.lab.heketi_db(), &snap)?;
    let p = problems(&report);
    ensure!(code == Some(0) && p.is_empty(), "diff of the mTLS snapshot: exit {code:?}\n{}", p.join("\n"));
    Ok(Verdict::Pass)
}

/// (agent) An agent killed while the controller waits for it: the other nodes still report,
/// the dead one is listed unreachable, and diff does not call its bricks missing.
pub fn killed_mid_collection(ctx: &mut Ctx) -> Result<Verdict> {
    if let Some(why) = mtls_missing(ctx) {
        return Ok(Verdict::Skip(why));
    }
    let certs = mtls_setup(ctx)?;
    let agents = Agents::start(ctx, &certs)?;
    // Freeze node2's agent so the controller is surely waiting on it, then kill it.
    agents.signal(2, "STOP")?;
    let snap = ctx.path("killed.snapshot.json");
    let killer = {
        let c = ctx.lab.command(&[
            "exec",
            "node2",
            "sh",
            "-c",
            "sleep 2; kill -KILL \"$(cat /run/hd-agent.pid)\"",
        ]);
        std::thread::spawn(move || cmd::run(c, Duration::from_secs(60)))
    };
    let o = controller_collect(ctx, &certs, "controller", 30, &snap)?;
    let _ = killer.join();
    ensure!(snap.exists(), "no snapshot written when one agent died: {}", o.describe());
    partial_snapshot_checks(ctx, &snap, 2)
}

/// (agent) An agent slower than the controller's timeout (stopped with SIGSTOP): collect gives
/// up on it after the timeout, keeps the others, and diff treats its node as unknown.
pub fn slower_than_timeout(ctx: &mut Ctx) -> Result<Verdict> {
    if let Some(why) = mtls_missing(ctx) {
        return Ok(Verdict::Skip(why));
    }
    let certs = mtls_setup(ctx)?;
    let agents = Agents::start(ctx, &certs)?;
    agents.signal(3, "STOP")?;
    let snap = ctx.path("slow.snapshot.json");
    let t = Instant::now();
    let o = controller_collect(ctx, &certs, "controller", 5, &snap)?;
    let took = t.elapsed();
    agents.signal(3, "CONT")?;
    ensure!(took < Duration::from_secs(30), "collect took {took:?} with a 5 s timeout");
    ensure!(snap.exists(), "no snapshot written when one agent was too slow: {}", o.describe());
    partial_snapshot_checks(ctx, &snap, 3)
}

fn partial_snapshot_checks(ctx: &Ctx, snap: &Path, missing_node: usize) -> Result<Verdict> {
    let s = read_snapshot(snap)?;
    let ip = ctx.lab.node_ip(missing_node);
    ensure!(s.reports.len() == ctx.lab.nodes - 1, "{} reports, want {}", s.reports.len(), ctx.lab.nodes - 1);
    ensure!(
        s.unreachable.iter().any(|u| u.agent.contains(&ip)),
        "node{missing_node} ({ip}) not listed unreachable: {:?}",
        s.unreachable
    );
    let (_, report) = ctx.diff(&ctx.lab.heketi_db(), snap)?;
    // Nothing on the unseen node may be called missing: unknown is not absent.
    let wrong: Vec<String> = crate::e2e::findings(&report)
        .into_iter()
        .filter(|(c, _, _)| {
            ["BRICK_LV_MISSING", "DEVICE_VG_MISSING", "VOLUME_NOT_IN_GLUSTER", "BRICK_NOT_MOUNTED"]
                .contains(&c.as_str())
        })
        .map(|(c, s, i)| format!("{s} {c} {i}"))
        .collect();
    ensure!(wrong.is_empty(), "objects of the unreachable node reported missing:\n{}", wrong.join("\n"));
    Ok(Verdict::Pass)
}

/// (agent) A controller certificate from another CA: every agent refuses it, collect reports
/// all agents unreachable and exits 2 ("could not run").
pub fn foreign_ca(ctx: &mut Ctx) -> Result<Verdict> {
    if let Some(why) = mtls_missing(ctx) {
        return Ok(Verdict::Skip(why));
    }
    let certs = mtls_setup(ctx)?;
    let _agents = Agents::start(ctx, &certs)?;
    let snap = ctx.path("foreign-ca.snapshot.json");
    let o = controller_collect(ctx, &certs, "intruder", 10, &snap)?;
    ensure!(o.code == Some(2), "collect with a certificate from another CA: {}, want exit 2", o.describe());
    if snap.exists() {
        let s = read_snapshot(&snap)?;
        ensure!(
            s.reports.is_empty(),
            "an agent answered a client of another CA: {} reports",
            s.reports.len()
        );
    }
    Ok(Verdict::Pass)
}
