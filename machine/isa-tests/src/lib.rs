//! `isa`: the runtime shared by the bare-metal ISA test programs in `src/bin/`.
//!
//! Each test is a `#![no_std]` binary that defines `fn main()` and names it with
//! [`entry!`]. The runtime boots hart 0 in M-mode at 0x8000_0000 (other harts park in `wfi`),
//! installs the M-mode trap vector, zeroes `.bss`, calls `main`, and reports a pass when `main`
//! returns. A failed [`check!`] reports its source line as the failure code.
//!
//! Interface, by module:
//! - [`report`]: `report_pass()` / `report_fail(code)` through `tohost` and the SiFive test
//!   finisher, with a one-line verdict on the UART for people reading QEMU's console.
//! - [`csr`]: `csrr!`/`csrw!`/`csrs!`/`csrc!` by name or number, and mstatus/mip bit names.
//! - [`trap`]: the M and S trap handlers, the record of the last trap each one took,
//!   [`trap::expect_trap`] (run code that must trap once, then resume after it), interrupt hooks.
//! - [`lower`]: run code in S or U mode ([`lower::run_fn`], [`lower::run_at`]) and get back
//!   the trap that ended the run (normally the `ecall` that returns to M).
//! - [`vm`]: an Sv39 page-table builder for tests that turn on paging.
//! - [`clint`]: `mtime`, `mtimecmp` and `msip` of the CLINT.
//! - macros: `check!`/`check_eq!` (fail with the line number), `rr!`/`ri!` (run one
//!   register-register or register-immediate instruction on values).
//!
//! Invariants: one hart runs tests, so the globals here are plain atomics read and written by
//! that hart (and by its own trap handlers, which never run concurrently with themselves). Only
//! M-mode code may call [`report`] unless the caller knows the finisher is reachable (S-mode
//! with an identity map of the low gigabyte, or bare translation).
#![no_std]

/// Declares the test's main function: `isa::entry!(main);` with `fn main()`.
/// The test passes when `main` returns.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        extern "C" fn test_main() {
            $crate::report::set_name(env!("CARGO_BIN_NAME"));
            let f: fn() = $main;
            f();
            $crate::report_pass();
        }
    };
}

/// Fails the test with the current line number as code unless `cond` holds.
#[macro_export]
macro_rules! check {
    ($cond:expr) => {
        if !($cond) {
            $crate::report_fail(line!() as u64);
        }
    };
}

/// Fails the test with the current line number unless `a == b`; prints both values first.
#[macro_export]
macro_rules! check_eq {
    ($a:expr, $b:expr) => {{
        let (a, b): (u64, u64) = (($a) as u64, ($b) as u64);
        if a != b {
            $crate::report::mismatch(a, b);
            $crate::report_fail(line!() as u64);
        }
    }};
}

/// `op rd, rs1, rs2` on two values (any integer type, taken as u64); evaluates to rd.
#[macro_export]
macro_rules! rr {
    ($op:literal, $a:expr, $b:expr) => {{
        let d: u64;
        // SAFETY: a register-only instruction.
        unsafe {
            core::arch::asm!(concat!($op, " {d}, {a}, {b}"), d = out(reg) d,
                a = in(reg) ($a) as u64, b = in(reg) ($b) as u64, options(nomem, nostack))
        };
        d
    }};
}

/// `op rd, rs1, imm` with the immediate as a string literal; evaluates to rd.
#[macro_export]
macro_rules! ri {
    ($op:literal, $a:expr, $imm:literal) => {{
        let d: u64;
        // SAFETY: a register-only instruction.
        unsafe {
            core::arch::asm!(concat!($op, " {d}, {a}, ", $imm), d = out(reg) d,
                a = in(reg) ($a) as u64, options(nomem, nostack))
        };
        d
    }};
}

#[macro_use]
pub mod csr;
pub mod clint;
pub mod lower;
pub mod report;
mod start;
pub mod trap;
pub mod vm;

pub use report::{report_fail, report_pass};

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let line = info.location().map_or(0, |l| l.line());
    report::puts("panic at line ");
    report::put_dec(line as u64);
    report::puts("\n");
    report_fail(report::PANIC_BASE + line as u64)
}
