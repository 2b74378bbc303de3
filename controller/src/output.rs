//! Writing results. Every output file is written atomically: a temporary file in the same
//! directory, fsync, rename over the target, fsync of the directory. An existing file is only
//! replaced with `--force`; `-` means stdout.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Where a command's main output goes.
#[derive(Debug, Clone)]
pub enum Destination {
    Stdout,
    File { path: PathBuf, force: bool },
}

impl Destination {
    pub fn new(path: Option<&Path>, force: bool) -> Self {
        match path {
            None => Destination::Stdout,
            Some(p) if p == Path::new("-") => Destination::Stdout,
            Some(p) => Destination::File { path: p.to_owned(), force },
        }
    }

    /// Refuse early (before any expensive work) when the output exists and `--force` is absent.
    pub fn check_writable(&self) -> Result<()> {
        if let Destination::File { path, force: false } = self {
            if path.symlink_metadata().is_ok() {
                bail!("{}: already exists; pass --force to replace it", path.display());
            }
        }
        Ok(())
    }

    /// Write `bytes` (to stdout, or atomically to the file).
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        self.write_with(|w| w.write_all(bytes))
    }

    /// Stream the output through `produce` (to stdout, or atomically to the file) without
    /// building it in memory first.
    pub fn write_with(&self, produce: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
        match self {
            Destination::Stdout => {
                let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
                match produce(&mut out).and_then(|_| out.flush()) {
                    // `heketi-doctor export | head` is not an error.
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                    r => r.context("writing to stdout"),
                }
            }
            Destination::File { path, force } => write_atomic_with(path, *force, produce),
        }
    }
}

/// Write `bytes` to `path` atomically; see [`write_atomic_with`].
#[cfg(test)]
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    write_atomic_with(path, force, |w| w.write_all(bytes))
}

/// Write to `path` atomically with mode 0600 (heketi's own files are 0600 and these hold CHAP
/// secrets): temp file in the same directory, fsync, rename, fsync of the directory.
pub fn write_atomic_with(
    path: &Path,
    force: bool,
    produce: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().with_context(|| format!("{}: not a file path", path.display()))?;
    if !force && path.symlink_metadata().is_ok() {
        bail!("{}: already exists; pass --force to replace it", path.display());
    }
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut f = io::BufWriter::with_capacity(1 << 16, create_private(&tmp)?);
        produce(&mut f)?;
        let f = f.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        if !force && path.symlink_metadata().is_ok() {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "appeared while writing"));
        }
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        File::open(&dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(anyhow::Error::new(e).context(format!("{}: cannot write", path.display())));
    }
    Ok(())
}

fn create_private(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_existing_file_without_force_and_replaces_with_force() {
        let dir = std::env::temp_dir().join(format!("hd-out-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("out.json");
        write_atomic(&p, b"one", false).unwrap();
        let err = write_atomic(&p, b"two", false).unwrap_err();
        assert!(format!("{err:#}").contains("already exists"), "{err:#}");
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"two", true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        // No temporary files left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
