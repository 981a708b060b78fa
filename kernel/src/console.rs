//! The console device (major 1): line-buffered input from the UART, output to the UART.
//!
//! Interface: `consoleinit()` sets up the UART and registers `consoleread`/`consolewrite` in
//! the device switch; `consputc(c)` prints one byte synchronously (kernel printf, echo);
//! `consoleintr(c)` is called by the UART interrupt for each received byte.
//!
//! Line discipline, as xv6: input is echoed and collected until newline, Ctrl-D or a full
//! buffer, then handed to `read`. Backspace (Ctrl-H) and DEL erase the last character of the
//! line being typed; Ctrl-U erases the whole line; Ctrl-D ends the input (a `read` that finds
//! it at the start of a line returns 0, i.e. end of file); Ctrl-P prints the process list.
//!
//! Invariants: `cons.buf` is a ring indexed modulo `INPUT_BUF_SIZE` with
//! `r <= w <= e`: bytes `[r, w)` are complete lines ready for `read`, `[w, e)` the line being
//! edited. All of `cons` is guarded by `cons.lock`; readers sleep on `&cons.r`.

use crate::file::set_devsw;
use crate::proc::{either_copyin, either_copyout, killed, myproc, procdump, sleep, wakeup};
use crate::spinlock::{Shared, Spinlock};
use crate::uart::{uartinit, uartputc, uartputc_sync};
use abi::fcntl::CONSOLE;

/// `consputc(BACKSPACE)` erases the previous character on the terminal.
pub const BACKSPACE: i32 = 0x100;

const fn ctrl(c: u8) -> u8 {
    c - b'@'
}

const INPUT_BUF_SIZE: usize = 128;

#[repr(C)]
pub struct Cons {
    pub lock: Spinlock,
    /// Guarded by `lock` (all of `Input`).
    pub input: Shared<Input>,
}

#[repr(C)]
pub struct Input {
    pub buf: [u8; INPUT_BUF_SIZE],
    /// Read index.
    pub r: u64,
    /// Write index: end of the committed lines.
    pub w: u64,
    /// Edit index: end of the line being typed.
    pub e: u64,
}

#[unsafe(no_mangle)]
pub static cons: Cons = Cons {
    lock: Spinlock::new("cons"),
    input: Shared::new(Input {
        buf: [0; INPUT_BUF_SIZE],
        r: 0,
        w: 0,
        e: 0,
    }),
};

fn read_chan() -> usize {
    // SAFETY: only the address is taken.
    unsafe { &raw const (*cons.input.get()).r as usize }
}

/// Prints one byte (or erases one on BACKSPACE) without sleeping.
pub fn consputc(c: i32) {
    if c == BACKSPACE {
        // Overwrite the last character with a space.
        uartputc_sync(b'\x08');
        uartputc_sync(b' ');
        uartputc_sync(b'\x08');
    } else {
        uartputc_sync(c as u8);
    }
}

/// `write` to the console: each byte goes through the UART's output queue.
fn consolewrite(user_src: bool, src: u64, n: i32) -> i32 {
    let mut i = 0;
    while i < n {
        let mut c = [0u8; 1];
        if either_copyin(&mut c, user_src, src + i as u64).is_err() {
            break;
        }
        uartputc(c[0]);
        i += 1;
    }
    i
}

/// `read` from the console: copies up to `n` bytes, at most one whole line, waiting for one.
fn consoleread(user_dst: bool, mut dst: u64, n: i32) -> i32 {
    let target = n;
    let mut n = n;
    cons.lock.acquire();
    // SAFETY: `input` is guarded by cons.lock, held except inside sleep (which re-takes it).
    let inp = cons.input.get();
    while n > 0 {
        // SAFETY: see above.
        unsafe {
            // The ring changes under us while sleep() has released the lock.
            #[allow(clippy::while_immutable_condition)]
            while (*inp).r == (*inp).w {
                if killed(myproc()) {
                    cons.lock.release();
                    return -1;
                }
                sleep(read_chan(), &cons.lock);
            }
            let c = (*inp).buf[((*inp).r % INPUT_BUF_SIZE as u64) as usize];
            (*inp).r += 1;
            if c == ctrl(b'D') {
                if n < target {
                    // Keep Ctrl-D for the next read so that it returns 0.
                    (*inp).r -= 1;
                }
                break;
            }
            if either_copyout(user_dst, dst, &[c]).is_err() {
                break;
            }
            dst += 1;
            n -= 1;
            if c == b'\n' {
                break;
            }
        }
    }
    cons.lock.release();
    target - n
}

/// One byte of input from the UART interrupt: line editing, echo, and waking readers.
pub fn consoleintr(c: u8) {
    cons.lock.acquire();
    // SAFETY: `input` is guarded by cons.lock, held.
    let inp = unsafe { &mut *cons.input.get() };
    let n = INPUT_BUF_SIZE as u64;
    match c {
        c if c == ctrl(b'P') => procdump(),
        c if c == ctrl(b'U') => {
            while inp.e != inp.w && inp.buf[((inp.e - 1) % n) as usize] != b'\n' {
                inp.e -= 1;
                consputc(BACKSPACE);
            }
        }
        c if c == ctrl(b'H') || c == 0x7f => {
            if inp.e != inp.w {
                inp.e -= 1;
                consputc(BACKSPACE);
            }
        }
        _ => {
            if c != 0 && inp.e - inp.r < n {
                let c = if c == b'\r' { b'\n' } else { c };
                consputc(c as i32);
                inp.buf[(inp.e % n) as usize] = c;
                inp.e += 1;
                if c == b'\n' || c == ctrl(b'D') || inp.e - inp.r == n {
                    // A whole line (or end of file, or a full buffer): readers may have it.
                    inp.w = inp.e;
                    wakeup(read_chan());
                }
            }
        }
    }
    cons.lock.release();
}

pub fn consoleinit() {
    uartinit();
    set_devsw(CONSOLE as usize, consoleread, consolewrite);
}
