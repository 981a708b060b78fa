//! qemu-system-riscv64 as `xv6scope bench` runs it: the reference column.
//!
//! QEMU runs the same bytes as our machine, with the command line of `board::qemu_args` (the
//! board xv6's Makefile builds: virt, no firmware, 128 MiB, virtio-blk on the first
//! virtio-mmio slot, `-snapshot` so the disk image is never written).
//!
//! - Loops: QEMU does not count instructions, so its MIPS comes from two runs of different
//!   length, (instructions(long) - instructions(short)) / (time(long) - time(short)), which
//!   cancels its start-up time.
//! - Kernels: [`Console`] runs QEMU with the serial port on pipes; a reader thread hands the
//!   output over a channel, so every wait has a deadline and a QEMU that hangs or dies is an
//!   error, never a hang of the bench. Times run from the spawn of the process.

use super::Transcript;
use super::loops::Program;
use anyhow::{Context, Result, bail};
use machine::board::{QemuSerial, qemu_args};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

pub fn available() -> bool {
    Command::new("qemu-system-riscv64")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A private directory under the host's temp dir for files QEMU reads, removed on drop.
pub struct TempFiles(PathBuf);

impl TempFiles {
    pub fn new(what: &str) -> Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("xv6scope-bench-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(TempFiles(dir))
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs an ELF on QEMU until it powers off; returns the host time.
fn run_elf(elf_bytes: &[u8]) -> Result<Duration> {
    let files = TempFiles::new("loop")?;
    let path = files.write("prog.elf", elf_bytes)?;
    let start = Instant::now();
    let status = Command::new("qemu-system-riscv64")
        .args(qemu_args(&path, None, 1, QemuSerial::Null, false))
        .status()
        .context("cannot run qemu-system-riscv64")?;
    let elapsed = start.elapsed();
    if !status.success() {
        bail!("qemu-system-riscv64 exited with {status}");
    }
    Ok(elapsed)
}

/// Shortest difference between QEMU's long and short runs that is timed: start-up time
/// varies by milliseconds from run to run, and would be all a shorter difference measures.
const MIN_DIFFERENCE: Duration = Duration::from_millis(20);

/// QEMU's MIPS from a short and a long run of the same loop; None when the two runs differ
/// by less than [`MIN_DIFFERENCE`] (too few iterations for QEMU, as with `--quick`).
pub fn mips(make: fn(u64) -> Program, iterations: u64) -> Result<Option<f64>> {
    let (short, long) = (make(iterations / 10), make(iterations));
    let t_short = run_elf(&short.elf)?;
    let t_long = run_elf(&long.elf)?;
    let dt = t_long.saturating_sub(t_short);
    Ok((dt >= MIN_DIFFERENCE)
        .then(|| (long.instructions - short.instructions) as f64 / dt.as_secs_f64() / 1e6))
}

/// A QEMU booting a kernel, its console on pipes. Killed on drop.
pub struct Console {
    child: Child,
    stdin: ChildStdin,
    output: Receiver<Vec<u8>>,
    seen: Transcript,
    start: Instant,
}

impl Console {
    pub fn start(kernel: &Path, disk: &Path, harts: usize) -> Result<Self> {
        let start = Instant::now();
        let mut child = Command::new("qemu-system-riscv64")
            .args(qemu_args(
                kernel,
                Some(disk),
                harts,
                QemuSerial::Stdio,
                true,
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot run qemu-system-riscv64")?;
        let (stdin, mut stdout) = (
            child.stdin.take().expect("piped"),
            child.stdout.take().expect("piped"),
        );
        let (tx, output) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Ok(Console {
            child,
            stdin,
            output,
            seen: Transcript::default(),
            start,
        })
    }

    /// Waits until one of `texts` appears in the output after the last match; returns which
    /// one, and the host time since QEMU was started.
    pub fn wait_for(&mut self, texts: &[&str], limit: Duration) -> Result<(usize, Duration)> {
        let deadline = self.start + limit;
        loop {
            if let Some(i) = self.seen.find(texts) {
                return Ok((i, self.start.elapsed()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.seen.feed(&bytes),
                Err(RecvTimeoutError::Timeout) => {
                    bail!(
                        "QEMU printed none of {texts:?} within {} s",
                        limit.as_secs()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    bail!("QEMU exited before printing any of {texts:?}")
                }
            }
        }
    }

    /// Types `bytes` at the console.
    pub fn type_text(&mut self, bytes: &[u8]) -> Result<()> {
        self.stdin
            .write_all(bytes)
            .and_then(|()| self.stdin.flush())
            .context("cannot type at QEMU's console")
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
