//! The limits on what the command line hands in: input files and option ranges.
//!
//! Every file xv6scope reads (kernel and test ELFs, disk images, user program ELFs,
//! walkthroughs) goes through [`read_input_file`]: it must be a regular file no larger than
//! the limit for its kind, so that `--disk /dev/zero` or a FIFO is one line on stderr rather
//! than a host that blocks or eats memory. Option values with a range are checked by clap
//! value parsers here, so their errors are clap's one line too (exit status 2).

use anyhow::{Context, Result, bail};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;
/// Largest kernel, test program or user program ELF: larger than any RAM the machine has.
pub const MAX_ELF_BYTES: u64 = 2048 * MIB;
/// Largest disk image: it lives in host memory for the whole run (xv6's fs.img is 2 MB).
pub const MAX_DISK_BYTES: u64 = 1024 * MIB;
/// Largest recording: a kernel, a disk image and the run's console and input.
pub const MAX_RECORDING_BYTES: u64 = 4096 * MIB;
/// Largest walkthrough file.
pub const MAX_TEXT_BYTES: u64 = 4 * MIB;
/// Most console input queued in the UART that the guest has not read; beyond it, stdin is
/// not read until the guest catches up.
pub const MAX_PENDING_INPUT: usize = 1 << 20;
/// Longest `--timeout`: a year, far below where host clocks overflow.
pub const MAX_TIMEOUT_SECS: f64 = 365.0 * 24.0 * 3600.0;

/// Reads `path`, which must be a regular file of at most `max` bytes; `what` names it in
/// errors ("kernel", "disk image"...). Devices, FIFOs, sockets and directories are refused
/// before they are opened (opening a FIFO would block), and a file that grows past `max`
/// while it is read is refused too.
pub fn read_input_file(path: &Path, what: &str, max: u64) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    check_regular(path, what, &meta, max)?;
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    // The path may have been replaced since it was looked at: check what was opened.
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    check_regular(path, what, &meta, max)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!(
            "{what} {} grew past {} while being read",
            path.display(),
            size(max)
        );
    }
    Ok(bytes)
}

/// [`read_input_file`] for text (UTF-8).
pub fn read_input_text(path: &Path, what: &str, max: u64) -> Result<String> {
    let bytes = read_input_file(path, what, max)?;
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{what} {} is not UTF-8", path.display()))
}

fn check_regular(path: &Path, what: &str, meta: &std::fs::Metadata, max: u64) -> Result<()> {
    if !meta.is_file() {
        bail!(
            "{what} {} is not a regular file (it is {})",
            path.display(),
            kind(meta)
        );
    }
    if meta.len() > max {
        bail!(
            "{what} {} is too large: {} (at most {})",
            path.display(),
            size(meta.len()),
            size(max)
        );
    }
    Ok(())
}

fn kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// clap value parser for `--timeout SECS`: finite, positive, at most a year.
pub fn parse_timeout(text: &str) -> std::result::Result<f64, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds".to_string())?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err("must be a positive, finite number of seconds".into());
    }
    if secs > MAX_TIMEOUT_SECS {
        return Err(format!("at most {MAX_TIMEOUT_SECS} seconds (a year)"));
    }
    Ok(secs)
}

/// The instant `secs` (as [`parse_timeout`] accepts) after `start`; None if the host clock
/// cannot represent it, which then never arrives.
pub fn deadline(start: Instant, secs: f64) -> Option<Instant> {
    let d = Duration::try_from_secs_f64(secs.clamp(0.0, MAX_TIMEOUT_SECS)).ok()?;
    start.checked_add(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_must_be_finite_positive_and_at_most_a_year() {
        for ok in ["0.5", "20", "31536000"] {
            assert!(parse_timeout(ok).is_ok(), "{ok}");
        }
        for bad in [
            "inf", "-inf", "nan", "NaN", "1e20", "1e300", "-1", "0", "-0", "", "20s", "1e19",
        ] {
            assert!(parse_timeout(bad).is_err(), "{bad} accepted");
        }
        let now = Instant::now();
        assert!(deadline(now, 20.0).is_some_and(|d| d > now));
    }

    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let dir = std::env::temp_dir().join(format!("xv6scope-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_input_file(&file, "disk image", 5).unwrap(), b"12345");
        let e = read_input_file(&file, "disk image", 4).unwrap_err();
        assert!(format!("{e:#}").contains("too large"), "{e:#}");
        let e = read_input_file(&dir, "kernel", 1 << 20).unwrap_err();
        assert!(format!("{e:#}").contains("a directory"), "{e:#}");
        let e = read_input_file(Path::new("/dev/zero"), "disk image", 1 << 20).unwrap_err();
        assert!(
            format!("{e:#}").contains("disk image /dev/zero is not a regular file"),
            "{e:#}"
        );
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Opening it would block until a writer came: refused without opening.
            let e = read_input_file(&fifo, "walkthrough", 1 << 20).unwrap_err();
            assert!(format!("{e:#}").contains("a FIFO"), "{e:#}");
        }
        let e = read_input_text(&dir.join("missing"), "walkthrough", 10).unwrap_err();
        assert!(format!("{e:#}").starts_with("cannot read walkthrough"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
