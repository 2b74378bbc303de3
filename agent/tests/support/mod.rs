//! Test support: a fake node (tool scripts that print the lab captures, a host root with
//! heketi's brick directories and glusterd's store), certificates made with rcgen, and a
//! running agent process.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const AGENT: &str = env!("CARGO_BIN_EXE_heketi-doctor-agent");

pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/corpus").canonicalize().unwrap()
}

pub fn lab_node1() -> PathBuf {
    corpus().join("lab-debian12/node1")
}

/// A node made of files: `tools/` (fake lvm, lsblk, gluster, ip), `root/` (host root) and the
/// lab's `/proc/mounts` capture.
pub struct FakeNode {
    pub dir: tempfile::TempDir,
}

impl FakeNode {
    /// node1 of the lab: every tool answers with its capture.
    pub fn lab() -> Self {
        let node = FakeNode { dir: tempfile::tempdir().unwrap() };
        let c = lab_node1();
        let c = c.display();
        std::fs::create_dir_all(node.tools()).unwrap();
        node.tool(
            "lvm",
            &format!(
                r#"case " $* " in *" --nolocking "*|*" --readonly "*) ;; *) echo "fake lvm: not read-only/lock-free: $*" >&2; exit 5;; esac
case "$1" in
  vgs) f=vgs.json ;; pvs) f=pvs-units-k.json ;; lvs) f=lvs.json ;;
  *) echo "fake lvm: unexpected $*" >&2; exit 3 ;;
esac
cat "{c}/$f"; cat "{c}/$f.stderr" >&2"#
            ),
        );
        node.tool(
            "lsblk",
            &format!(r#"case "$1" in -J) cat "{c}/lsblk.json" ;; *) cat "{c}/lsblk-pairs.txt" ;; esac"#),
        );
        node.tool(
            "gluster",
            &format!(
                r#"case " $* " in *" --mode=script --xml "*) ;; *) echo "fake gluster: want --mode=script --xml: $*" >&2; exit 9;; esac
case "$*" in
  *"volume info"*) cat "{c}/volume-info.xml" ;;
  *"volume status"*) cat "{c}/volume-status.xml" ;;
  *"peer status"*) cat "{c}/peer-status.xml" ;;
  *"pool list"*) cat "{c}/pool-list.xml" ;;
  *) echo "fake gluster: unexpected: $*" >&2; exit 2 ;;
esac"#
            ),
        );
        node.tool(
            "ip",
            r#"echo '[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]},{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.168.231.11","prefixlen":24,"scope":"global"}]}]'"#,
        );
        // host root: hostname, heketi's fstab and brick dirs, glusterd's store
        let root = node.root();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/hostname"), "node1\n").unwrap();
        std::fs::create_dir_all(root.join("var/lib/heketi")).unwrap();
        std::fs::copy(lab_node1().join("heketi-fstab.txt"), root.join("var/lib/heketi/fstab")).unwrap();
        let listing = std::fs::read_to_string(lab_node1().join("brick-dirs.txt")).unwrap();
        for line in listing.lines() {
            let mut f = line.split_whitespace();
            let (path, gid, mode) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let p = root.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(&p).unwrap();
            let _ = std::os::unix::fs::chown(&p, None, Some(gid.parse().unwrap()));
            std::fs::set_permissions(
                &p,
                std::fs::Permissions::from_mode(u32::from_str_radix(mode, 8).unwrap()),
            )
            .unwrap();
        }
        copy_dir(&corpus().join("handwritten/glusterd"), &root.join("var/lib/glusterd"));
        node
    }

    pub fn tools(&self) -> PathBuf {
        self.dir.path().join("tools")
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Writes (or replaces) a tool script.
    pub fn tool(&self, name: &str, body: &str) {
        let p = self.tools().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    pub fn remove_tool(&self, name: &str) {
        std::fs::remove_file(self.tools().join(name)).unwrap();
    }

    /// The collection flags pointing the agent at this node.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--tool-dir".into(),
            self.tools().display().to_string(),
            // gluster-block is not faked: make sure a real one is never picked up
            "--tool".into(),
            format!("gluster-block={}", self.tools().join("gluster-block").display()),
            "--host-root".into(),
            self.root().display().to_string(),
            "--proc-mounts".into(),
            lab_node1().join("proc-mounts.txt").display().to_string(),
        ]
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Runs the agent to completion.
pub fn run_agent(args: &[String]) -> std::process::Output {
    Command::new(AGENT).args(args).stdin(Stdio::null()).output().unwrap()
}

// ---------------------------------------------------------------------------------------------
// certificates

/// A CA able to sign leaf certificates.
pub struct Ca {
    pub pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

/// A certificate and its key, PEM.
#[derive(Clone)]
pub struct Leaf {
    pub cert: String,
    pub key: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { pem: cert.pem(), issuer: rcgen::Issuer::new(params, key) }
    }

    /// A server (`client == false`) or client certificate for `name`; `expired` makes it valid
    /// only in 2000.
    pub fn leaf(&self, name: &str, client: bool, expired: bool) -> Leaf {
        let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.extended_key_usages = vec![if client {
            rcgen::ExtendedKeyUsagePurpose::ClientAuth
        } else {
            rcgen::ExtendedKeyUsagePurpose::ServerAuth
        }];
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2000, 12, 31);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf { cert: cert.pem(), key: key.serialize_pem() }
    }
}

/// Writes PEM files for the agent: returns the `--tls-*`/`--client-ca` flags.
pub fn tls_flags(dir: &Path, server: &Leaf, client_ca: &Ca) -> Vec<String> {
    std::fs::write(dir.join("server.crt"), &server.cert).unwrap();
    std::fs::write(dir.join("server.key"), &server.key).unwrap();
    std::fs::write(dir.join("client-ca.crt"), &client_ca.pem).unwrap();
    vec![
        "--tls-cert".into(),
        dir.join("server.crt").display().to_string(),
        "--tls-key".into(),
        dir.join("server.key").display().to_string(),
        "--client-ca".into(),
        dir.join("client-ca.crt").display().to_string(),
    ]
}

// ---------------------------------------------------------------------------------------------
// a running agent

/// `heketi-doctor-agent serve …` running; killed on drop.
pub struct Agent {
    pub child: Child,
    pub addr: String,
    pub health_addr: Option<String>,
    pub log: Arc<Mutex<String>>,
}

impl Agent {
    /// Starts `serve` with `args` (add `--listen 127.0.0.1:0`) and waits until it listens.
    pub fn start(args: &[String]) -> Agent {
        let mut child = Command::new(AGENT)
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                log2.lock().unwrap().push_str(&format!("{line}\n"));
                if line.contains("serving heketidoctor.v1.NodeInventory") {
                    let _ = tx.send(line);
                }
            }
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                panic!("agent did not start:\n{}", log.lock().unwrap());
            }
        };
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .map(|v| v.trim_start_matches("Some(").trim_end_matches(')').to_string())
        };
        let addr = field("listen").unwrap_or_else(|| panic!("no listen= in {line:?}"));
        let health_addr = field("health_listen").filter(|v| v != "None");
        Agent { child, addr, health_addr, log }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, then waits for the exit status (at most `timeout`).
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
