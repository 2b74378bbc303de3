//! `heketi-doctor import`: write a heketi.db ourselves (gob encoder + bolt writer) from an export
//! JSON, so no heketi binary is needed. The new file is read back and compared before it is
//! moved into place.

use anyhow::{bail, Context, Result};
use heketi_doctor_common::heketi::{self, BoltWriteOptions};

use crate::cli::ImportArgs;
use crate::output::write_atomic_with;
use crate::{input, Exit};

pub fn run(args: ImportArgs) -> Result<Exit> {
    let out = &args.db_out;
    if out.symlink_metadata().is_ok() {
        // Like `heketi db import`: never replace a database.
        bail!(
            "{}: already exists; import writes a new database only — move the old one away first",
            out.display()
        );
    }
    let loaded = input::load_db(&args.json)?;
    let opts = BoltWriteOptions { page_size: args.page_size, registry_keys: !args.no_registry_keys };
    let file = heketi::to_bolt(&loaded.db, &opts)
        .with_context(|| format!("{}: cannot be written", args.json.display()))?;

    // Self-check: our own reader must read back exactly what we meant to write.
    let back = heketi::load(&file).context("internal error: the new database does not read back")?;
    if heketi::to_export_json(&back.db) != heketi::to_export_json(&loaded.db) {
        bail!("internal error: the new database reads back differently; nothing was written");
    }
    write_atomic_with(out, false, |w| w.write_all(&file))?;
    let db = &back.db;
    eprintln!(
        "wrote {} ({} bytes): {} clusters, {} nodes, {} devices, {} volumes, {} bricks, {} block volumes, {} pending operations",
        out.display(),
        file.len(),
        db.clusters.len(),
        db.nodes.len(),
        db.devices.len(),
        db.volumes.len(),
        db.bricks.len(),
        db.block_volumes.len(),
        db.pending_ops.len()
    );
    Ok(Exit::Ok)
}
