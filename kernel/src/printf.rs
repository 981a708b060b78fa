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
    // Freeze the UART output paths on every hart; the others halt at their next timer
    // interrupt (trap.rs clockintr), at most one interval from now.
    PANICKED.store(true, Ordering::Relaxed);
    crate::trap::halt()
}
