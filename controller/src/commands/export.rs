use anyhow::{bail, Result};
use heketi_doctor_common::heketi::{self, Outcome};

use crate::cli::ExportArgs;
use crate::output::Destination;
use crate::{input, Exit};

pub fn run(args: ExportArgs) -> Result<Exit> {
    let dest = Destination::new(args.out.output.as_deref(), args.out.force);
    dest.check_writable()?;
    if args.salvage {
        return salvage(&args, &dest);
    }
    let loaded = input::load_db(&args.db.db)?;
    tracing::info!(format = %loaded.format, gzipped = loaded.gzipped, "loaded {}", args.db.db.display());
    dest.write_with(|w| heketi::write_export_json(&loaded.db, w))?;
    Ok(Exit::Ok)
}

/// `export --salvage`: never stops at damage; the export holds what was recovered, the report
/// (stderr text, or `--report-json`) says what was lost.
fn salvage(args: &ExportArgs, dest: &Destination) -> Result<Exit> {
    let report_dest = args.report_json.as_deref().map(|p| Destination::new(Some(p), args.out.force));
    if let Some(r) = &report_dest {
        if matches!((r, dest), (Destination::Stdout, Destination::Stdout)) {
            bail!("--report-json -: stdout already carries the export; give -o FILE or a report file");
        }
        if let (Destination::File { path: a, .. }, Destination::File { path: b, .. }) = (r, dest) {
            if a == b {
                bail!("{}: given both as -o and --report-json", a.display());
            }
        }
        r.check_writable()?;
    }
    let bytes = input::read_file(&args.db.db)?;
    let name = args.db.db.display().to_string();
    let salvaged = heketi::salvage(&bytes);
    let report = &salvaged.report;
    tracing::info!(outcome = report.outcome.name(), entries = report.totals.entries, "salvaged {name}");
    if report.outcome != Outcome::NothingUsable {
        dest.write_with(|w| heketi::write_export_json(&salvaged.db, w))?;
    }
    match &report_dest {
        Some(r) => {
            r.write_with(|w| {
                serde_json::to_writer_pretty(&mut *w, report).map_err(std::io::Error::other)?;
                w.write_all(b"\n")
            })?;
            eprintln!("heketi-doctor: salvage of {name}: {}", report.summary);
        }
        None => eprint!("{}", report.to_text(&name)),
    }
    Ok(match report.outcome {
        Outcome::Clean => Exit::Ok,
        Outcome::Recovered | Outcome::Losses => Exit::SalvagedWithLosses,
        Outcome::NothingUsable => Exit::CouldNotRun,
    })
}
