//! The disk image file: read at start, written back so that no guest write is lost and the
//! file is never half-written.
//!
//! The guest's disk lives in host memory (`machine::devices::virtio_blk`). It goes back to
//! its file by replacement, never in place: the whole image is written to a new file beside
//! the old one (`.NAME.xv6scope-PID.tmp`), fsynced, given the old file's permissions and
//! renamed over it, then the directory is fsynced. A failure at any step — a full file
//! system, a vanished directory — removes the new file and leaves the old image exactly as it
//! was; a crash in the middle leaves either the old image or the new one. (Renaming makes a
//! new inode: a hard link to the image keeps the old contents. A symlink is followed and
//! the file it names is replaced.)
//!
//! When ([`Persist`]): at every exit of `xv6scope run` — power-off, `--until`, timeout, a
//! halted guest, Ctrl-A x, SIGTERM/SIGHUP/SIGINT, a host I/O error — and while it runs: after
//! the guest's virtio FLUSH request, and otherwise at most [`INTERVAL`] after the first write
//! not yet written back (xv6 never sends FLUSH). Both are checked between run slices (a few
//! milliseconds apart), on the host clock, and spaced at least ten times the last write-back's
//! duration apart, so that a large image costs at most about a tenth of the run's time. An
//! image written back mid-run is the disk exactly as the guest had written it at that moment —
//! what a power cut leaves, which xv6's log recovers from — so `kill -9` loses at most the
//! last [`INTERVAL`] of writes and never corrupts the file.
//!
//! At start, unless `--snapshot`, the image must be writable and its directory must take a
//! new file: a read-only image is refused then, not after the run's writes are made.

use crate::limits::{self, MAX_DISK_BYTES};
use anyhow::{Context, Result, bail};
use machine::Machine;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest time a guest write waits in memory before it is written back.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Reads the disk image at `path`. Unless `snapshot`, checks that it can be written back:
/// the file is writable (mode and file system) and a file can be created beside it.
pub fn load(path: &Path, snapshot: bool) -> Result<Vec<u8>> {
    let bytes = limits::read_input_file(path, "disk image", MAX_DISK_BYTES)?;
    if !snapshot {
        check_writable(path)?;
    }
    Ok(bytes)
}

fn check_writable(path: &Path) -> Result<()> {
    let hint = "pass --snapshot to keep the run's writes in memory";
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read disk image {}", path.display()))?;
    // Root may write a file without write permission; its mode still says "keep it".
    if meta.permissions().readonly() {
        bail!("disk image {} is read-only ({hint})", path.display());
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("disk image {} is not writable ({hint})", path.display()))?;
    let target = target(path);
    let temp = temp_path(&target);
    File::create(&temp).with_context(|| {
        format!(
            "cannot create a file beside disk image {}, as writing it back needs ({hint})",
            path.display()
        )
    })?;
    let _ = std::fs::remove_file(&temp);
    Ok(())
}

/// The file a write-back replaces: `path` with symlinks resolved.
fn target(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "disk".into());
    target.with_file_name(format!(".{name}.xv6scope-{}.tmp", std::process::id()))
}

/// Replaces the file at `path` with `bytes`, atomically (see the module essay): on error the
/// old file is unchanged. For every front end that writes a disk image back (the TUI's exit
/// too).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with(path, bytes, &mut |file, bytes| file.write_all(bytes))
}

/// [`write_atomically`] with the data written by `write` (tests inject failures there).
fn write_atomically_with(
    path: &Path,
    bytes: &[u8],
    write: &mut dyn FnMut(&mut File, &[u8]) -> std::io::Result<()>,
) -> Result<()> {
    let target = target(path);
    let temp = temp_path(&target);
    let result = (|| -> std::io::Result<()> {
        let mut file = File::create(&temp)?;
        write(&mut file, bytes)?;
        file.sync_all()?;
        if let Ok(meta) = std::fs::metadata(&target) {
            file.set_permissions(meta.permissions())?;
        }
        drop(file);
        std::fs::rename(&temp, &target)?;
        // The rename itself is durable once the directory is.
        if let Some(dir) = target.parent()
            && let Ok(d) = File::open(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
        {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| {
            format!(
                "cannot write disk image back to {} (the file is unchanged)",
                path.display()
            )
        });
    }
    Ok(())
}

/// Writes a running machine's disk back to its file: while it runs ([`Persist::tick`]) and at
/// exit ([`Persist::finish`]). See the module essay for when.
pub struct Persist {
    path: PathBuf,
    /// The device's `bytes_written` and `flushes` counters as of the last write-back.
    saved_writes: u64,
    seen_flushes: u64,
    /// When the oldest write not yet written back was first seen.
    unsaved_since: Option<Instant>,
    last_save: Option<Instant>,
    /// Least time between two write-backs: ten times the last one's duration.
    min_gap: Duration,
    /// A write-back failed and the failure was reported; later ones stay quiet until one
    /// succeeds.
    failing: bool,
}

impl Persist {
    pub fn new(path: PathBuf) -> Self {
        Persist {
            path,
            saved_writes: 0,
            seen_flushes: 0,
            unsaved_since: None,
            last_save: None,
            min_gap: Duration::ZERO,
            failing: false,
        }
    }

    /// Between run slices: writes the image back if the guest flushed or a write has waited
    /// [`INTERVAL`]. A failure is reported on stderr once and retried later; the old image
    /// stays intact meanwhile.
    pub fn tick(&mut self, machine: &Machine) {
        let stats = machine.bus.virtio.stats();
        let flushed = stats.flushes != self.seen_flushes;
        self.seen_flushes = stats.flushes;
        if stats.bytes_written == self.saved_writes {
            self.unsaved_since = None;
            return;
        }
        let now = Instant::now();
        let since = *self.unsaved_since.get_or_insert(now);
        let spaced = self
            .last_save
            .is_none_or(|t| now.duration_since(t) >= self.min_gap);
        if spaced
            && (flushed || now.duration_since(since) >= INTERVAL)
            && let Err(e) = self.save(machine)
            && !std::mem::replace(&mut self.failing, true)
        {
            eprintln!("xv6scope: {e:#}; will retry");
        }
    }

    /// At exit: writes back whatever the guest wrote since the last write-back.
    pub fn finish(&mut self, machine: &Machine) -> Result<()> {
        if machine.bus.virtio.stats().bytes_written != self.saved_writes {
            self.save(machine)?;
        }
        Ok(())
    }

    fn save(&mut self, machine: &Machine) -> Result<()> {
        let start = Instant::now();
        let written = machine.bus.virtio.stats().bytes_written;
        let result = write_atomically(&self.path, machine.bus.virtio.disk());
        let end = Instant::now();
        self.last_save = Some(end);
        self.min_gap = (end - start) * 10;
        result?;
        self.saved_writes = written;
        self.unsaved_since = None;
        self.failing = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xv6scope-disk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_write_back_replaces_the_whole_file_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("replace");
        let img = dir.join("fs.img");
        std::fs::write(&img, vec![1u8; 4096]).unwrap();
        std::fs::set_permissions(&img, std::fs::Permissions::from_mode(0o640)).unwrap();
        // Through a symlink: the file it names is replaced, the link stays.
        let link = dir.join("link.img");
        std::os::unix::fs::symlink(&img, &link).unwrap();
        write_atomically(&link, &[2u8; 2048]).unwrap();
        assert_eq!(std::fs::read(&img).unwrap(), vec![2u8; 2048]);
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        let mode = std::fs::metadata(&img).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        assert_eq!(
            entries(&dir),
            ["fs.img", "link.img"],
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_write_back_leaves_the_image_byte_identical() {
        let dir = scratch("enospc");
        let img = dir.join("fs.img");
        let old: Vec<u8> = (0..8192u32).map(|i| i as u8).collect();
        std::fs::write(&img, &old).unwrap();
        // The file system fills up half way through the new image.
        let mut full = |file: &mut File, bytes: &[u8]| -> std::io::Result<()> {
            file.write_all(&bytes[..bytes.len() / 2])?;
            Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
        };
        let e = write_atomically_with(&img, &[0u8; 8192], &mut full).unwrap_err();
        let text = format!("{e:#}");
        assert!(text.contains("the file is unchanged"), "{text}");
        assert!(text.contains("No space left on device"), "{text}");
        assert_eq!(std::fs::read(&img).unwrap(), old);
        assert_eq!(entries(&dir), ["fs.img"], "no temporary file left");
        // The directory vanished: same.
        let gone = dir.join("sub/fs.img");
        assert!(write_atomically(&gone, b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_read_only_image_is_refused_at_start_unless_snapshot() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("ro");
        let img = dir.join("fs.img");
        std::fs::write(&img, [0u8; 1024]).unwrap();
        assert!(load(&img, false).is_ok());
        std::fs::set_permissions(&img, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = load(&img, false).unwrap_err();
        assert!(format!("{e:#}").contains("is read-only"), "{e:#}");
        assert!(format!("{e:#}").contains("--snapshot"), "{e:#}");
        assert_eq!(load(&img, true).unwrap(), [0u8; 1024]);
        assert_eq!(entries(&dir), ["fs.img"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
