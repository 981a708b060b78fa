//! Kernel printing: `print!`/`println!` to the console, and the panic handler.
//!
//! Interface: the `print!` and `println!` macros (exported at the crate root) format with
//! `core::fmt` and write each byte with `console::consputc`, which never sleeps, so they work
//! from interrupt handlers and with spin locks held. `panicked()` tells the UART to freeze.
//!
//! Locking: `PR` serialises whole messages so lines from different harts do not interleave.
//! After a panic the lock is no longer taken (the panicking hart might hold it), the message
//! is printed, `PANICKED` is set, and every hart that tries to print spins forever — the
//! machine stops with the panic message last on the console. The panicking hart halts at
//! once; the others halt at their next timer interrupt.

use crate::console::consputc;
use crate::spinlock::Spinlock;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

static PR: Spinlock = Spinlock::new("pr");
/// Take `PR` when printing? Cleared by the panic handler.
static LOCKING: AtomicBool = AtomicBool::new(true);
static PANICKED: AtomicBool = AtomicBool::new(false);

/// Has some hart panicked? Output paths then stop.
pub fn panicked() -> bool {
    PANICKED.load(Ordering::Relaxed)
}

struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            consputc(b as i32);
        }
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    let locking = LOCKING.load(Ordering::Relaxed);
    if locking {
        PR.acquire();
    }
    let _ = Console.write_fmt(args);
    if locking {
        PR.release();
    }
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::printf::_print(format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::printf::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::riscv::intr_off();
    LOCKING.store(false, Ordering::Relaxed);
    let _ = match info.location() {
        Some(l) => writeln!(
            Console,
            "panic: {} ({}:{})",
            info.message(),
            l.file(),
            l.line()
        ),
        None => writeln!(Console, "panic: {}", info.message()),
    };
    if crate::lab::on(crate::lab::BACKTRACE) {
        backtrace();
    }
    // Freeze the UART output paths on every hart; the others halt at their next timer
    // interrupt (trap.rs clockintr), at most one interval from now.
    PANICKED.store(true, Ordering::Relaxed);
    crate::trap::halt()
}

/// The traps lab's backtrace: the return address of every kernel frame on this stack, the
/// innermost first, one `0x%016lx` line each (`addr2line -e kernel` names them).
///
/// The kernel is built with frame pointers (`.cargo/config.toml`), so each frame keeps the
/// caller's return address at `fp - 8` and the caller's frame pointer at `fp - 16`, with
/// `s0` the innermost frame pointer. The walk stays inside the stack it started on (the
/// process's kernel stack, or this hart's boot stack in the scheduler) and ends at the top
/// of it: `usertrap`'s frame pointer is the top of the kernel stack (uservec enters it with
/// an empty stack), and its caller is the trampoline, which keeps no frame.
#[inline(never)]
pub fn backtrace() {
    let mut fp: u64;
    // SAFETY: reads the frame pointer register.
    unsafe { core::arch::asm!("mv {}, s0", out(reg) fp) };
    let (lo, hi) = stack_bounds(fp);
    crate::println!("backtrace:");
    while fp >= lo + 16 && fp < hi && fp.is_multiple_of(8) {
        // SAFETY: fp - 16 .. fp lies inside the kernel stack in use, mapped and readable.
        let (ra, prev) = unsafe { (*((fp - 8) as *const u64), *((fp - 16) as *const u64)) };
        crate::println!("{ra:#018x}");
        if prev <= fp {
            break;
        }
        fp = prev;
    }
}

/// The kernel stack holding `fp`: the current process's, or this hart's boot stack.
fn stack_bounds(fp: u64) -> (u64, u64) {
    let p = crate::proc::myproc();
    if !p.is_null() {
        // SAFETY: kstack is set once by procinit and never changes.
        let lo = unsafe { (*p).kstack };
        let hi = crate::proc::kstack_top(lo);
        if (lo..=hi).contains(&fp) {
            return (lo, hi);
        }
    }
    let size = crate::start::STACK0_SIZE as u64;
    let lo = &raw const crate::start::stack0 as u64 + crate::proc::cpuid() as u64 * size;
    (lo, lo + size)
}
