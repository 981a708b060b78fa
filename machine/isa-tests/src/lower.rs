//! Running code in S-mode or U-mode and getting control back in M-mode.
//!
//! [`run_at`] enters `pc` in the given mode through `mret` (MPP = mode), with a0/a1 set and
//! `sp` at the top of the lower-mode stack, and returns the M-mode trap that ended the run: an
//! `ecall` (cause 8 from U, 9 from S) when the code finishes normally, or any other exception
//! that reached M. [`run_fn`] runs a Rust `extern "C" fn(u64) -> u64` that way; its result is
//! the trap's `a0`. [`call_in`] additionally requires the normal ending.
//!
//! Translation is whatever `satp` says when the run starts; the tests that use paging map the
//! code, stack and data they touch. Without paging, PMP entry 0 (set at boot) lets S and U
//! reach all of memory, so ordinary Rust functions run in U-mode too.
//!
//! Invariant: runs do not nest; [`active`] is true only between entry and return.
use crate::start::{_lower_stack_top, _strap_stack_top, lower_enter, lower_trampoline};
use crate::trap::{M_TRAPS, Trap};
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// A privilege level below M, valued as in MPP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Mode {
    User = 0,
    Supervisor = 1,
}

impl Mode {
    /// The `ecall` cause from this mode.
    pub fn ecall_cause(self) -> u64 {
        match self {
            Mode::User => crate::csr::CAUSE_ECALL_U,
            Mode::Supervisor => crate::csr::CAUSE_ECALL_S,
        }
    }
}

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// True while code entered by [`run_at`] runs (or traps).
pub fn active() -> bool {
    ACTIVE.load(Relaxed)
}

/// Top of the stack lower-mode code starts with.
pub fn stack_top() -> u64 {
    // The address of a linker symbol; nothing is read.
    &raw const _lower_stack_top as u64
}

/// Runs the code at `pc` in `mode` with a0 = `a0`, a1 = `a1`; returns the trap that ended it.
/// The lower mode starts with mstatus.MIE = the caller's MPIE (mret's rule); back in M,
/// MIE is what it was before the call.
pub fn run_at(mode: Mode, pc: u64, a0: u64, a1: u64) -> Trap {
    // An S handler that ended an earlier run left sscratch pointing into its old stack.
    // The address of a linker symbol; nothing is read.
    csrw!(sscratch, &raw const _strap_stack_top as u64);
    let mie = csrr!(mstatus) & crate::csr::MIE;
    ACTIVE.store(true, Relaxed);
    // SAFETY: lower_enter returns here, through lower_return, when the M handler ends the run;
    // it saves and restores the callee-saved registers like a normal call.
    unsafe { lower_enter(mode as u64, pc, a0, a1, stack_top()) };
    ACTIVE.store(false, Relaxed);
    csrs!(mstatus, mie);
    M_TRAPS.last()
}

/// Runs `f(arg)` in `mode`; returns the trap that ended it (normally the ecall, a0 = result).
pub fn run_fn(mode: Mode, f: extern "C" fn(u64) -> u64, arg: u64) -> Trap {
    run_at(
        mode,
        lower_trampoline as *const () as u64,
        f as *const () as u64,
        arg,
    )
}

/// Runs `f(arg)` in `mode`, which must return normally; returns its result.
#[track_caller]
pub fn call_in(mode: Mode, f: extern "C" fn(u64) -> u64, arg: u64) -> u64 {
    let line = core::panic::Location::caller().line() as u64;
    let t = run_fn(mode, f, arg);
    if t.cause != mode.ecall_cause() {
        crate::report::puts("lower-mode run ended by cause ");
        crate::report::put_dec(t.cause);
        crate::report::puts("\n");
        crate::report_fail(line);
    }
    t.a0
}
