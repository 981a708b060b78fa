//! Formatted output to a file descriptor: `print!`, `println!`, `eprint!`, `eprintln!`,
//! `fprint!(fd, ...)`, `fprintln!(fd, ...)`.
//!
//! Each macro call formats into one [`FdWriter`] (a 256-byte buffer on the caller's stack)
//! and writes it out when the call ends, so a line normally reaches the kernel in a single
//! `write` and output from concurrent processes interleaves by whole lines, not by bytes (C
//! xv6's printf writes byte by byte). Text longer than the buffer goes out in several writes.
//! Write errors are ignored, as C's printf ignores them.

use crate::ulib::{Fd, write_all};
use core::fmt;

const BUF: usize = 256;

/// Buffers formatted text for one descriptor; flushes when full and when dropped.
pub struct FdWriter {
    fd: Fd,
    len: usize,
    buf: [u8; BUF],
}

impl FdWriter {
    pub fn new(fd: Fd) -> Self {
        FdWriter {
            fd,
            len: 0,
            buf: [0; BUF],
        }
    }

    pub fn flush(&mut self) {
        let _ = write_all(self.fd, &self.buf[..self.len]);
        self.len = 0;
    }

    /// Appends raw bytes (not necessarily UTF-8), flushing as the buffer fills.
    pub fn write_bytes(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            if self.len == BUF {
                self.flush();
            }
            let n = b.len().min(BUF - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
            self.len += n;
            b = &b[n..];
        }
    }
}

impl fmt::Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

impl Drop for FdWriter {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Formats `args` to `fd` (what the macros expand to).
#[inline(never)]
pub fn fprint(fd: Fd, args: fmt::Arguments) {
    let mut w = FdWriter::new(fd);
    let _ = fmt::write(&mut w, args);
}

/// `fprint!(fd, "fmt", args...)`: formatted text to `fd`.
#[macro_export]
macro_rules! fprint {
    ($fd:expr, $($arg:tt)*) => { $crate::printf::fprint($fd, format_args!($($arg)*)) };
}

/// `fprintln!(fd, "fmt", args...)`: formatted text and a newline to `fd`.
#[macro_export]
macro_rules! fprintln {
    ($fd:expr) => { $crate::printf::fprint($fd, format_args!("\n")) };
    ($fd:expr, $($arg:tt)*) => {
        $crate::printf::fprint($fd, format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Formatted text to standard output (fd 1).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::fprint!(1, $($arg)*) };
}

/// Formatted text and a newline to standard output (fd 1).
#[macro_export]
macro_rules! println {
    () => { $crate::fprintln!(1) };
    ($($arg:tt)*) => { $crate::fprintln!(1, $($arg)*) };
}

/// Formatted text to standard error (fd 2).
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::fprint!(2, $($arg)*) };
}

/// Formatted text and a newline to standard error (fd 2).
#[macro_export]
macro_rules! eprintln {
    () => { $crate::fprintln!(2) };
    ($($arg:tt)*) => { $crate::fprintln!(2, $($arg)*) };
}
