//! Runs one command of the table: no shell (argv only), stdin closed, a fixed minimal
//! environment, stdout and stderr read apart with byte caps, a timeout after which the whole
//! process group is killed. The only place in the project that spawns processes.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use heketi_doctor_common::inventory::{RawOutcome, RawOutput};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// The environment every command gets (nothing is inherited from the agent).
const ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    ("LC_ALL", "C"),
    ("LANG", "C"),
    // lvm warns about every inherited descriptor otherwise
    ("LVM_SUPPRESS_FD_WARNINGS", "1"),
];

/// Largest stderr kept per command.
pub const MAX_STDERR: usize = 1 << 20;

/// Exit status of `nsenter`/`chroot`-style prefixes when the program does not exist.
const EXIT_NOT_FOUND: i32 = 127;

/// Limits for one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub timeout: Duration,
    pub max_stdout: usize,
}

/// A finished run: the outcome and how long it took.
#[derive(Debug)]
pub struct Run {
    pub outcome: RawOutcome,
    pub duration: Duration,
}

/// Runs `argv` (`argv[0]` is the program; `tool` names it for "not installed"); `via_prefix`
/// says `argv[0]` is an operator-configured prefix (exit status 127 then means "not found").
pub async fn run(argv: &[String], tool: &str, via_prefix: bool, limits: Limits) -> Run {
    let start = Instant::now();
    let outcome = run_inner(argv, tool, via_prefix, limits).await;
    Run { outcome, duration: start.elapsed() }
}

async fn run_inner(argv: &[String], tool: &str, via_prefix: bool, limits: Limits) -> RawOutcome {
    let Some((program, args)) = argv.split_first() else {
        return RawOutcome::Error { error: "empty command line".into() };
    };
    if Path::new(program).is_absolute() && !Path::new(program).exists() {
        return RawOutcome::NotInstalled { tool: tool.to_string() };
    }
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(ENV.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // its own process group, so a timeout kills everything it started
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return RawOutcome::NotInstalled { tool: tool.to_string() };
        }
        Err(e) => return RawOutcome::Error { error: format!("cannot run {program}: {e}") },
    };
    let pid = child.id();
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        kill_group(pid);
        return RawOutcome::Error { error: "no pipes to the child".into() };
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut out_truncated = false;
    let finished = tokio::time::timeout(limits.timeout, async {
        let read_out = async {
            let o = read_capped(&mut stdout, &mut out, limits.max_stdout, false).await;
            if o.truncated {
                // nothing more will be read: stop the writer instead of letting it block
                kill_group(pid);
            }
            o
        };
        let (o, e) = tokio::join!(read_out, read_capped(&mut stderr, &mut err, MAX_STDERR, true));
        out_truncated = o.truncated;
        let status = child.wait().await;
        (o.error.or(e.error), status)
    })
    .await;
    let to_string = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    match finished {
        Err(_elapsed) => {
            kill_group(pid);
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            RawOutcome::TimedOut {
                output: RawOutput { stdout: to_string(out), stderr: to_string(err), exit_code: None },
            }
        }
        Ok((read_error, status)) => {
            let status = match status {
                Ok(s) => s,
                Err(e) => return RawOutcome::Error { error: format!("waiting for {program}: {e}") },
            };
            let exit_code = status.code().or_else(|| {
                use std::os::unix::process::ExitStatusExt;
                status.signal().map(|s| 128 + s)
            });
            if via_prefix && exit_code == Some(EXIT_NOT_FOUND) && out.is_empty() {
                return RawOutcome::NotInstalled { tool: tool.to_string() };
            }
            let mut stderr = to_string(err);
            if let Some(e) = read_error {
                stderr.push_str(&format!("\n[agent] reading output: {e}\n"));
            }
            RawOutcome::Done {
                output: RawOutput { stdout: to_string(out), stderr, exit_code },
                truncated: out_truncated,
            }
        }
    }
}

struct ReadResult {
    truncated: bool,
    error: Option<std::io::Error>,
}

/// Reads until EOF or until more than `cap` bytes arrived (then keeps `cap` bytes). With
/// `drain`, reading goes on to EOF past the cap (discarding), so the writer never blocks.
async fn read_capped<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
    drain: bool,
) -> ReadResult {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut truncated = false;
    loop {
        match r.read(&mut chunk).await {
            Ok(0) => return ReadResult { truncated, error: None },
            Ok(n) => {
                if truncated {
                    continue;
                }
                if buf.len() + n > cap {
                    let room = cap - buf.len();
                    buf.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    if !drain {
                        return ReadResult { truncated, error: None };
                    }
                    continue;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return ReadResult { truncated, error: Some(e) },
        }
    }
}

/// SIGKILL to the child's process group (it leads its own group).
fn kill_group(pid: Option<u32>) {
    let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()).and_then(rustix::process::Pid::from_raw) else {
        return;
    };
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

/// The command line for people: argv joined, arguments with spaces or quotes quoted.
pub fn display(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%{}".contains(c)) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn limits(ms: u64, cap: usize) -> Limits {
        Limits { timeout: Duration::from_millis(ms), max_stdout: cap }
    }

    #[tokio::test]
    async fn separate_streams_exit_code_and_env() {
        let r = run(
            &argv(&["/bin/sh", "-c", "echo out; echo err >&2; echo $LC_ALL:$HOME; exit 3"]),
            "sh",
            false,
            limits(5000, 1024),
        )
        .await;
        match r.outcome {
            RawOutcome::Done { output, truncated: false } => {
                assert_eq!(output.stdout, "out\nC:\n", "fixed env, nothing inherited");
                assert_eq!(output.stderr, "err\n");
                assert_eq!(output.exit_code, Some(3));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let start = Instant::now();
        // the grandchild holds stdout open: only a group kill ends the read
        let r = run(
            &argv(&["/bin/sh", "-c", "echo partial; sleep 30 & sleep 30; wait"]),
            "sh",
            false,
            limits(300, 1024),
        )
        .await;
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
        match r.outcome {
            RawOutcome::TimedOut { output } => assert_eq!(output.stdout, "partial\n"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn output_cap_truncates_and_stops_the_writer() {
        let start = Instant::now();
        let r = run(&argv(&["/bin/sh", "-c", "yes 0123456789"]), "sh", false, limits(10_000, 100_000)).await;
        assert!(start.elapsed() < Duration::from_secs(5));
        match r.outcome {
            RawOutcome::Done { output, truncated: true } => assert_eq!(output.stdout.len(), 100_000),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn missing_tools() {
        let r = run(&argv(&["/nonexistent/lvm", "vgs"]), "lvm", false, limits(1000, 10)).await;
        assert_eq!(r.outcome, RawOutcome::NotInstalled { tool: "lvm".into() });
        let r = run(&argv(&["no-such-tool-heketi-doctor"]), "x", false, limits(1000, 10)).await;
        assert_eq!(r.outcome, RawOutcome::NotInstalled { tool: "x".into() });
        // through a prefix, 127 means the same
        let r = run(&argv(&["/bin/sh", "-c", "exit 127"]), "gluster", true, limits(1000, 10)).await;
        assert_eq!(r.outcome, RawOutcome::NotInstalled { tool: "gluster".into() });
    }

    #[test]
    fn display_quotes() {
        assert_eq!(display(&argv(&["lvm", "vgs", "-o", "vg_name,vg_size"])), "lvm vgs -o vg_name,vg_size");
        assert_eq!(display(&argv(&["sh", "-c", "a b", "it's"])), r"sh -c 'a b' 'it'\''s'");
    }
}
