//! Kernel context switch.
//!
//! `swtch(old, new)` saves the callee-saved registers (ra, sp, s0..s11) of the running
//! kernel thread into `*old` and loads them from `*new`, then returns — on `new`'s stack, to
//! `new`'s saved `ra`. Caller-saved registers need no saving: `swtch` is an ordinary call as
//! far as the compiler knows. Offsets follow `proc::Context` (8 bytes per register).
//!
//! Invariant: the caller holds the lock that protects both contexts (the process's `p.lock`)
//! and has interrupts off, as `sched` and `scheduler` check.

use crate::proc::Context;

/// # Safety
/// `old` and `new` point to valid contexts; `new` was saved by `swtch` or built to start a
/// fresh kernel thread (ra = entry, sp = top of its stack).
#[unsafe(naked)]
pub unsafe extern "C" fn swtch(old: *mut Context, new: *const Context) {
    core::arch::naked_asm!(
        "sd ra, 0(a0)",
        "sd sp, 8(a0)",
        "sd s0, 16(a0)",
        "sd s1, 24(a0)",
        "sd s2, 32(a0)",
        "sd s3, 40(a0)",
        "sd s4, 48(a0)",
        "sd s5, 56(a0)",
        "sd s6, 64(a0)",
        "sd s7, 72(a0)",
        "sd s8, 80(a0)",
        "sd s9, 88(a0)",
        "sd s10, 96(a0)",
        "sd s11, 104(a0)",
        "ld ra, 0(a1)",
        "ld sp, 8(a1)",
        "ld s0, 16(a1)",
        "ld s1, 24(a1)",
        "ld s2, 32(a1)",
        "ld s3, 40(a1)",
        "ld s4, 48(a1)",
        "ld s5, 56(a1)",
        "ld s6, 64(a1)",
        "ld s7, 72(a1)",
        "ld s8, 80(a1)",
        "ld s9, 88(a1)",
        "ld s10, 96(a1)",
        "ld s11, 104(a1)",
        "ret",
    )
}
