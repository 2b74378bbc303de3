//! Reading operator inputs. Architecture invariant: inputs are only ever opened read-only
//! (`std::fs::read` / `File::open`), never locked, never written.

use std::path::Path;

use anyhow::{bail, Result};

/// Read a whole input file, with errors that say which file and what to do.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| describe_io(path, e))?;
    if meta.is_dir() {
        bail!("{}: is a directory, expected a heketi.db or export JSON file", path.display());
    }
    std::fs::read(path).map_err(|e| describe_io(path, e))
}

fn describe_io(path: &Path, e: std::io::Error) -> anyhow::Error {
    let hint = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file; check the path",
        std::io::ErrorKind::PermissionDenied => {
            "permission denied; run as a user that can read it, or copy it"
        }
        _ => "cannot read it",
    };
    anyhow::Error::new(e).context(format!("{}: {hint}", path.display()))
}

/// Load a heketi database from any supported input, naming the file in every error.
pub fn load_db(path: &Path) -> Result<heketi_doctor_common::heketi::Loaded> {
    let text = path.to_string_lossy();
    let bytes = if text.starts_with("http://") || text.starts_with("https://") {
        // A running heketi: its REST dump, never the live file.
        crate::http_client::fetch_dump(&text)?
    } else {
        read_file(path)?
    };
    heketi_doctor_common::heketi::load(&bytes).map_err(|e| {
        // No meta magic, but pages that carry their own ids: a bolt file whose meta pages are gone.
        let metas_gone = matches!(e, heketi_doctor_common::heketi::LoadError::UnknownFormat(_))
            && heketi_doctor_common::bolt::salvage::probe_layout(&bytes).is_some();
        if metas_gone {
            anyhow::anyhow!(
                "{}: {e}; but its pages look like a BoltDB file whose meta pages are destroyed: \
                 `heketi-doctor export --salvage` recovers what is intact",
                path.display()
            )
        } else {
            describe_load_error(path, e)
        }
    })
}

/// One line for the operator: the file, what is wrong, and for damage what to do next.
pub fn describe_load_error(path: &Path, e: heketi_doctor_common::heketi::LoadError) -> anyhow::Error {
    let hint = if e.is_damage() {
        "; the file is damaged: `heketi-doctor export --salvage` recovers what is intact"
    } else {
        ""
    };
    anyhow::anyhow!("{}: {e}{hint}", path.display())
}
