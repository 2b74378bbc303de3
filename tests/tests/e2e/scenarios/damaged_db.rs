//! (d) A damaged heketi.db (one page zeroed, the way a torn write or a bad disk leaves it):
//! `export` refuses with exit 2 and points to `--salvage`. Once salvage exists (branch
//! `salvage`), what it recovers plus the cluster must rebuild into a DB the cluster agrees with.

use anyhow::{bail, ensure, Context, Result};

use crate::e2e::{problems, Ctx, Verdict};

/// Zeroes the root-bucket page both bolt meta pages point to; returns the page ids zeroed.
fn zero_root_pages(bytes: &mut [u8]) -> Result<Vec<u64>> {
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    ensure!(bytes.len() >= 8192 && u32_at(bytes, 16) == 0xED0C_DAED, "not a bolt file");
    let page = u32_at(bytes, 24) as usize;
    let mut zeroed = Vec::new();
    for meta in [0usize, 1] {
        let root = u64_at(bytes, meta * page + 32);
        if root < 2 || zeroed.contains(&root) {
            continue;
        }
        let start = root as usize * page;
        ensure!(start + page <= bytes.len(), "root page {root} beyond the file");
        bytes[start..start + page].fill(0);
        zeroed.push(root);
    }
    if zeroed.is_empty() {
        bail!("no root page found to damage");
    }
    Ok(zeroed)
}

pub fn run(ctx: &mut Ctx) -> Result<Verdict> {
    let mut bytes = std::fs::read(ctx.lab.heketi_db())?;
    let pages = zero_root_pages(&mut bytes)?;
    let damaged = ctx.path("damaged.db");
    std::fs::write(&damaged, &bytes)?;

    let out = ctx.path("damaged.export.json");
    let o = ctx.hd_paths(&[&"export", &"--db", &damaged, &"-o", &out])?;
    ensure!(o.code == Some(2), "export of a DB with page(s) {pages:?} zeroed: {}, want exit 2", o.describe());
    ensure!(o.stderr.contains("--salvage"), "export's error does not suggest --salvage:\n{}", o.stderr);
    ensure!(o.stderr.trim().lines().count() == 1, "export's error is not one line:\n{}", o.stderr);
    ensure!(!out.exists(), "export wrote {} although it failed", out.display());
    // diff refuses the same way instead of comparing a half-read DB.
    let snap = ctx.clean_snapshot()?;
    let o = ctx.hd_paths(&[&"diff", &"--db", &damaged, &"--snapshot", &snap])?;
    ensure!(o.code == Some(2) && o.stderr.contains("--salvage"), "diff of a damaged DB: {}", o.describe());

    // Salvage, when this build has it: recover, rebuild with the cluster, compare.
    let help = ctx.hd(&["export", "--help"])?;
    if !help.stdout.contains("--salvage") {
        return Ok(Verdict::Skip(
            "export refuses with exit 2 and the --salvage hint (checked); salvage itself is not in this build".into(),
        ));
    }
    let salvaged = ctx.path("damaged.salvaged.json");
    let o = ctx.hd_paths(&[&"export", &"--salvage", &"--db", &damaged, &"-o", &salvaged])?;
    ensure!(matches!(o.code, Some(0 | 3)), "export --salvage: {}", o.describe());
    let repaired = ctx.path("damaged.repaired.json");
    ctx.hd_paths(&[&"rebuild", &"--db", &salvaged, &"--snapshot", &snap, &"-o", &repaired])?
        .check()
        .context("rebuild of the salvaged DB")?;
    let repaired_db = ctx.path("damaged.repaired.db");
    ctx.import(&repaired, &repaired_db)?;
    let (code, report) = ctx.diff(&repaired_db, &snap)?;
    let p = problems(&report);
    ensure!(code == Some(0) && p.is_empty(), "diff after salvage + rebuild: exit {code:?}\n{}", p.join("\n"));
    Ok(Verdict::Pass)
}
