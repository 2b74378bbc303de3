//! `capture --out DIR`: every raw output and a manifest (the layout of
//! `common::inventory::capture`), written into a temporary sibling directory and renamed into
//! place, so DIR is either complete or absent.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use heketi_doctor_common::inventory::capture::{to_capture, Manifest, MANIFEST_FILE, REPORT_FILE};
use heketi_doctor_common::inventory::{NodeReport, RawSources};

/// Writes the capture directory. An existing DIR is replaced only with `force`.
pub fn write_capture(out: &Path, raw: &RawSources, report: &NodeReport, force: bool) -> Result<()> {
    if out.exists() && !force {
        bail!("{} already exists; choose another --out or add --force to replace it", out.display());
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out.file_name().with_context(|| format!("{}: not a directory name", out.display()))?;
    let tmp = parent.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let result = write_into(&tmp, raw, report);
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if out.exists() {
        fs::remove_dir_all(out)
            .with_context(|| format!("{}: cannot remove the old capture", out.display()))?;
    }
    fs::rename(&tmp, out)
        .with_context(|| format!("{}: cannot move the capture into place", out.display()))?;
    if let Ok(d) = fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_into(dir: &Path, raw: &RawSources, report: &NodeReport) -> Result<()> {
    let header = Manifest {
        node: Some(report.identity.hostname.clone()),
        ip: report.identity.addresses.first().cloned(),
        note: Some("written by heketi-doctor-agent capture".into()),
        agent_version: Some(report.agent_version.clone()),
        collected_at: Some(report.collected_at),
        ..Default::default()
    };
    let (manifest, files) = to_capture(raw, header);
    fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    for f in &files {
        write_file(&dir.join(&f.path), f.contents.as_bytes())?;
    }
    write_file(&dir.join(REPORT_FILE), report.to_json()?.as_bytes())?;
    let mut m = serde_json::to_string_pretty(&manifest)?;
    m.push('\n');
    write_file(&dir.join(MANIFEST_FILE), m.as_bytes())?;
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).with_context(|| format!("{}: cannot create", p.display()))?;
    }
    let mut f = fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).with_context(|| format!("{}: cannot write", path.display()))
}
