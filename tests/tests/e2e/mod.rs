//! Support for the `e2e` target: the lab handle, the binaries, the harness's capture →
//! snapshot step, DB comparison, and one module per scenario.

pub mod bins;
pub mod cmd;
pub mod compare;
pub mod lab;
pub mod prereq;
pub mod scenarios;
pub mod snapshot;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use heketi_doctor_common::heketi::Db;
use serde_json::Value;

use bins::Bins;
use cmd::Output;
use lab::Lab;

/// How a scenario ended (a failure is an `Err`).
#[derive(Debug)]
pub enum Verdict {
    Pass,
    /// Could not run here, and that is not a failure (e.g. the agent has not landed yet).
    Skip(String),
}

pub struct Scenario {
    /// Shown as `e2e::<name>`; the runner's filter arguments match it.
    pub name: &'static str,
    pub run: fn(&mut Ctx) -> Result<Verdict>,
}

/// Everything a scenario gets: the running lab, the binaries, a work directory, the truth.
pub struct Ctx {
    pub lab: Lab,
    pub bins: Bins,
    /// Outputs of this run (inside the lab directory: kept with it under HD_E2E_KEEP).
    pub work: PathBuf,
    /// The lab's own heketi export: what the cluster really holds.
    pub truth: Db,
    clean: Option<PathBuf>,
}

impl Ctx {
    pub fn new(lab: Lab, bins: Bins) -> Result<Ctx> {
        let work = lab.dir.join("work");
        std::fs::create_dir_all(&work)?;
        let truth = load_db(&lab.export_json())?;
        Ok(Ctx { lab, bins, work, truth, clean: None })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }

    /// `heketi-doctor ARGS…` (2 minutes at most).
    pub fn hd(&self, args: &[&str]) -> Result<Output> {
        let mut c = std::process::Command::new(&self.bins.heketi_doctor);
        c.args(args).env_remove("RUST_LOG");
        cmd::run(c, Duration::from_secs(120))
    }

    /// Like [`Ctx::hd`] with path arguments.
    pub fn hd_paths(&self, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Result<Output> {
        let mut c = std::process::Command::new(&self.bins.heketi_doctor);
        c.args(args.iter().map(|a| a.as_ref())).env_remove("RUST_LOG");
        cmd::run(c, Duration::from_secs(120))
    }

    /// Captures every node now and writes `<label>.snapshot.json`.
    pub fn snapshot(&self, label: &str) -> Result<PathBuf> {
        let dirs = self.lab.capture(&self.path(label))?;
        let out = self.path(&format!("{label}.snapshot.json"));
        snapshot::write_snapshot(&dirs, &out)?;
        Ok(out)
    }

    /// The snapshot of the cluster as the lab built it (captured once, before any live drift).
    pub fn clean_snapshot(&mut self) -> Result<PathBuf> {
        if let Some(p) = &self.clean {
            return Ok(p.clone());
        }
        let p = self.snapshot("clean")?;
        self.clean = Some(p.clone());
        Ok(p)
    }

    /// `heketi-doctor import --json J --db-out D`.
    pub fn import(&self, json: &Path, db_out: &Path) -> Result<()> {
        let _ = std::fs::remove_file(db_out);
        self.hd_paths(&[&"import", &"--json", &json, &"--db-out", &db_out])?.check().context("import")?;
        Ok(())
    }

    /// `heketi-doctor diff --output json`: its exit code and report.
    pub fn diff(&self, db: &Path, snapshot: &Path) -> Result<(Option<i32>, Value)> {
        let o = self.hd_paths(&[&"diff", &"--db", &db, &"--snapshot", &snapshot, &"--output", &"json"])?;
        let v: Value = serde_json::from_str(&o.stdout)
            .with_context(|| format!("diff printed no JSON report: {}", o.describe()))?;
        Ok((o.code, v))
    }
}

pub fn load_db(path: &Path) -> Result<Db> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(heketi_doctor_common::heketi::load(&bytes).with_context(|| format!("loading {}", path.display()))?.db)
}

/// `(code, severity, id)` of every finding in a diff/check JSON report.
pub fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
                    (s("code"), s("severity"), s("id"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Findings above info, one line each.
pub fn problems(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] != "info")
        .map(|f| format!("{} {} {} {}", f["severity"], f["code"], f["id"], f["message"]))
        .collect()
}

/// Fails unless every `(code, id)` is among the findings.
pub fn expect_findings(report: &Value, expected: &[(&str, &str, &str)]) -> Result<()> {
    let got = findings(report);
    let missing: Vec<String> = expected
        .iter()
        .filter(|(code, id, _)| !got.iter().any(|(c, _, i)| c == code && i == id))
        .map(|(code, id, why)| format!("{code} {id} ({why})"))
        .collect();
    if !missing.is_empty() {
        let all: Vec<String> = got.iter().map(|(c, s, i)| format!("{s} {c} {i}")).collect();
        bail!(
            "expected findings missing:\n  {}\nall findings:\n  {}",
            missing.join("\n  "),
            all.join("\n  ")
        );
    }
    Ok(())
}
