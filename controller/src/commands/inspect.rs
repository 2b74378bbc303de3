use anyhow::Result;

use crate::cli::InspectArgs;
use crate::Exit;

pub fn run(_args: InspectArgs) -> Result<Exit> {
    anyhow::bail!("inspect: not yet")
}
