//! The lab as the tests drive it: `deploy/lab/lab.sh` with a lab name and state directory of
//! their own, so a lab started by hand (`hd`) is never touched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::cmd::{self, Output};

/// Where e2e labs keep their state: one directory per run, named after the lab.
pub fn state_root() -> PathBuf {
    std::env::var_os("HD_E2E_DIR")
        .map_or_else(|| std::env::temp_dir().join("heketi-doctor-e2e"), PathBuf::from)
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

pub struct Lab {
    pub name: String,
    pub dir: PathBuf,
    pub nodes: usize,
    script: PathBuf,
    heketi_doctor: PathBuf,
    /// Leave the lab up when dropped (HD_E2E_KEEP=1), for a look at what failed.
    pub keep: bool,
}

impl Lab {
    pub fn new(name: &str, nodes: usize, heketi_doctor: &Path) -> Lab {
        Lab {
            name: name.to_owned(),
            dir: state_root().join(name),
            nodes,
            script: repo_root().join("deploy/lab/lab.sh"),
            heketi_doctor: heketi_doctor.to_owned(),
            keep: std::env::var("HD_E2E_KEEP").is_ok_and(|v| !v.is_empty() && v != "0"),
        }
    }

    /// `lab.sh ARGS…` for this lab, not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("bash");
        c.arg(&self.script)
            .args(args)
            .env("HD_LAB_NAME", &self.name)
            .env("HD_LAB_DIR", &self.dir)
            .env("HD_LAB_NODES", self.nodes.to_string())
            .env("HEKETI_DOCTOR", &self.heketi_doctor);
        c
    }

    /// Runs `lab.sh ARGS…`; the output whatever the exit code.
    pub fn run(&self, args: &[&str], limit: Duration) -> Result<Output> {
        cmd::run(self.command(args), limit)
    }

    /// `lab.sh check`: can this machine run a lab at all?
    pub fn check(&self) -> Result<()> {
        let o = self.run(&["check"], Duration::from_secs(30))?;
        if !o.ok() {
            bail!("{}", o.stderr.trim().lines().last().unwrap_or("lab.sh check failed"));
        }
        Ok(())
    }

    pub fn up(&self) -> Result<Output> {
        std::fs::create_dir_all(&self.dir)?;
        // Who owns this lab: a later run removes labs whose owner died (see `remove_stale`).
        std::fs::write(self.dir.join("owner.pid"), std::process::id().to_string())?;
        self.run(&["up"], Duration::from_secs(300))?.check().context("lab.sh up")
    }

    pub fn down(&self) -> Result<()> {
        self.run(&["down"], Duration::from_secs(120))?.check().context("lab.sh down")?;
        Ok(())
    }

    /// A command inside node `n` (1-based); the output whatever the exit code.
    pub fn exec(&self, n: usize, args: &[&str]) -> Result<Output> {
        let node = format!("node{n}");
        let mut a = vec!["exec", node.as_str()];
        a.extend_from_slice(args);
        self.run(&a, Duration::from_secs(180))
    }

    /// A shell script inside node `n`; fails unless it exits 0.
    pub fn sh(&self, n: usize, script: &str) -> Result<Output> {
        self.exec(n, &["sh", "-c", script])?.check().with_context(|| format!("on node{n}: {script}"))
    }

    /// gluster CLI on node `n`, the way heketi calls it.
    pub fn gluster(&self, n: usize, args: &[&str]) -> Result<Output> {
        let mut a = vec!["gluster", "--mode=script"];
        a.extend_from_slice(args);
        self.exec(n, &a)?.check().with_context(|| format!("gluster {} on node{n}", args.join(" ")))
    }

    /// Captures every node into `out/nodeI` (lab-debian12 capture layout).
    pub fn capture(&self, out: &Path) -> Result<Vec<PathBuf>> {
        let o = self.run(&["capture", &out.to_string_lossy()], Duration::from_secs(300))?;
        o.check().context("lab.sh capture")?;
        Ok((1..=self.nodes).map(|i| out.join(format!("node{i}"))).collect())
    }

    /// The heketi export JSON the lab wrote: the truth about the cluster it built.
    pub fn export_json(&self) -> PathBuf {
        self.dir.join("heketi/export.json")
    }

    /// heketi.db written from that export with `heketi-doctor import`.
    pub fn heketi_db(&self) -> PathBuf {
        self.dir.join("heketi/heketi.db")
    }

    pub fn node_ip(&self, n: usize) -> String {
        let net = std::fs::read_to_string(self.dir.join("lab.env"))
            .ok()
            .and_then(|t| t.lines().find_map(|l| l.strip_prefix("HD_LAB_NET=").map(str::to_owned)))
            .unwrap_or_else(|| "10.77.0".into());
        format!("{net}.{}", 10 + n)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.keep {
            eprintln!(
                "e2e: lab kept (HD_E2E_KEEP): HD_LAB_NAME={} HD_LAB_DIR={} {} status|exec node1 …|down",
                self.name,
                self.dir.display(),
                self.script.display()
            );
            return;
        }
        if let Err(e) = self.down() {
            eprintln!("e2e: tearing the lab down failed: {e:#}");
        }
    }
}

/// Tears down labs left by e2e runs that died (their owner process is gone).
pub fn remove_stale(heketi_doctor: &Path) {
    let Ok(entries) = std::fs::read_dir(state_root()) else { return };
    for e in entries.flatten() {
        let dir = e.path();
        let owner =
            std::fs::read_to_string(dir.join("owner.pid")).ok().and_then(|s| s.trim().parse::<u32>().ok());
        let alive = owner.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if alive || !dir.join("lab.env").exists() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let mut lab = Lab::new(&name, 3, heketi_doctor);
        lab.keep = false;
        eprintln!("e2e: removing the stale lab {name} of a previous run");
        drop(lab); // Drop runs `lab.sh down` (which reads the lab's own node count from lab.env)
    }
}
