//! The binaries under test. The `tests` package cannot name another package's binaries
//! (`CARGO_BIN_EXE_*` is per package), so the harness asks cargo to build them into the target
//! directory it runs from — a no-op when `cargo test --workspace` already built them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::cmd;

pub struct Bins {
    pub heketi_doctor: PathBuf,
    /// None when the agent binary could not be built or found.
    pub agent: Option<PathBuf>,
}

/// target/<profile>/ of this test executable (target/<profile>/deps/e2e-<hash>).
fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let deps = exe.parent().context("test executable has no directory")?;
    Ok(deps.parent().context("test executable is not in target/<profile>/deps")?.to_path_buf())
}

fn build(profile_dir: &Path) -> Result<()> {
    let cargo = std::env::var_os("CARGO").context("CARGO is not set")?;
    let target_dir = profile_dir.parent().context("no target dir")?;
    let mut c = Command::new(cargo);
    c.current_dir(super::lab::repo_root())
        .args(["build", "--quiet", "-p", "heketi-doctor", "-p", "heketi-doctor-agent", "--bins"])
        .env("CARGO_TARGET_DIR", target_dir);
    if std::env::var_os("CARGO_LOCKED").is_some() || std::env::var_os("CI").is_some() {
        c.arg("--locked");
    }
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        c.arg("--release");
    }
    let o = cmd::run(c, Duration::from_secs(1800))?;
    if !o.ok() {
        bail!("building the binaries failed: {}", o.describe());
    }
    Ok(())
}

/// `HEKETI_DOCTOR_BIN` / `HEKETI_DOCTOR_AGENT_BIN` when set, else fresh builds (or, when the
/// test executable is run directly rather than by cargo, the binaries beside it).
pub fn find() -> Result<Bins> {
    let from_env = |v: &str| std::env::var_os(v).map(PathBuf::from);
    if let Some(h) = from_env("HEKETI_DOCTOR_BIN") {
        return Ok(Bins { heketi_doctor: h, agent: from_env("HEKETI_DOCTOR_AGENT_BIN") });
    }
    let dir = profile_dir()?;
    if std::env::var_os("CARGO").is_some() {
        build(&dir)?;
    } else if !dir.join("heketi-doctor").exists() {
        bail!("not run by cargo and {} has no heketi-doctor: run `cargo test --test e2e`", dir.display());
    } else {
        eprintln!("e2e: not run by cargo: using the binaries already in {}", dir.display());
    }
    let heketi_doctor = dir.join("heketi-doctor");
    if !heketi_doctor.exists() {
        bail!("{} was not built", heketi_doctor.display());
    }
    let agent = Some(dir.join("heketi-doctor-agent")).filter(|p| p.exists());
    Ok(Bins { heketi_doctor, agent })
}
