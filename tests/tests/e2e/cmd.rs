//! Running programs with a deadline and their output kept (the lab scripts, the CLI, gluster).

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// What a finished (or killed) program left.
#[derive(Debug, Clone)]
pub struct Output {
    pub program: String,
    /// `None` when killed by a signal (or by our deadline).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// `Err` with the program, exit code and the end of stderr unless the exit code is 0.
    pub fn check(self) -> Result<Output> {
        if self.ok() {
            Ok(self)
        } else {
            bail!("{}", self.describe())
        }
    }

    /// One paragraph for a failure message.
    pub fn describe(&self) -> String {
        let status = if self.timed_out {
            "timed out".to_owned()
        } else {
            self.code.map_or("killed by a signal".to_owned(), |c| format!("exit {c}"))
        };
        format!("`{}`: {status}\n--- stderr (end) ---\n{}", self.program, tail(&self.stderr, 25))
    }
}

/// The last `n` lines of a text.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn read_back(mut f: std::fs::File) -> String {
    use std::io::Seek;
    let mut buf = Vec::new();
    let _ = f.seek(std::io::SeekFrom::Start(0)).and_then(|_| f.read_to_end(&mut buf));
    String::from_utf8_lossy(&buf).into_owned()
}

/// Runs `cmd` with stdin closed, killing it after `limit`. Output goes to anonymous files, not
/// pipes: daemons the program starts (glusterd, agents) may keep its descriptors open.
pub fn run(mut cmd: Command, limit: Duration) -> Result<Output> {
    let program = format!("{cmd:?}").replace('"', "");
    let out = tempfile::tempfile()?;
    let err = tempfile::tempfile()?;
    let mut child: Child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(err.try_clone()?)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Output { program, code: status.code(), stdout: read_back(out), stderr: read_back(err), timed_out })
}

/// Whether `name` is an executable in `PATH` (or the usual sbin directories).
pub fn have_tool(name: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].iter().map(Into::into))
        .any(|d| is_executable(&d.join(name)))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
