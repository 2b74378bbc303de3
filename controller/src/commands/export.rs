use anyhow::Result;
use heketi_doctor_common::heketi;

use crate::cli::ExportArgs;
use crate::output::Destination;
use crate::{input, Exit};

pub fn run(args: ExportArgs) -> Result<Exit> {
    let dest = Destination::new(args.out.output.as_deref(), args.out.force);
    dest.check_writable()?;
    let loaded = input::load_db(&args.db.db)?;
    tracing::info!(format = %loaded.format, gzipped = loaded.gzipped, "loaded {}", args.db.db.display());
    dest.write_with(|w| heketi::write_export_json(&loaded.db, w))?;
    Ok(Exit::Ok)
}
