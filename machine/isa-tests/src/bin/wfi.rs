//! wfi (privileged spec §3.3.3): it waits until an interrupt is pending in mip & mie,
//! whether or not mstatus.MIE lets it be taken.
//! - M-mode, MIE = 0, MTIE = 1: wfi returns once the timer fires, without a trap; a few wfi
//!   suffice (QEMU sleeps until then; our machine jumps time to the deadline). The loop
//!   bound (100) would only be reached by an implementation that treats wfi as a nop, which
//!   the spec allows but neither reference machine does.
//! - with an interrupt already pending and enabled in mie, wfi returns at once;
//! - M-mode, MIE = 1: the interrupt is taken right after wfi, mepc = the next instruction;
//! - S-mode with TW = 0: wfi waits too, and the M timer interrupt (not delegated) wakes it.
#![no_std]
#![no_main]

use core::arch::asm;
use isa::clint::{mtime, mtimecmp, set_mtimecmp};
use isa::csr::*;
use isa::lower::{Mode, call_in};
use isa::trap::{M_IRQS, set_m_irq_hook};
use isa::{check, check_eq, csrc, csrr, csrw};

isa::entry!(main);

const MTIP: u64 = 1 << IRQ_M_TIMER;

fn silence(_: u64) {
    set_mtimecmp(0, u64::MAX);
}

fn wfi() {
    // SAFETY: waits; interrupts are controlled by the caller.
    unsafe { asm!("wfi") };
}

fn main() {
    set_m_irq_hook(Some(silence));
    set_mtimecmp(0, u64::MAX);
    csrw!(mie, MTIP);

    // Wake without a trap.
    let deadline = mtime() + 20_000; // 2 ms at 10 MHz
    set_mtimecmp(0, deadline);
    let mut n = 0;
    while csrr!(mip) & MTIP == 0 && n < 100 {
        wfi();
        n += 1;
    }
    check_eq!(csrr!(mip) & MTIP, MTIP);
    check!(n < 100);
    check!(mtime() >= deadline);
    check_eq!(M_IRQS.count(), 0);
    // Already pending: returns at once.
    wfi();
    check_eq!(M_IRQS.count(), 0);

    // Wake with a trap: mepc is the instruction after wfi.
    set_mtimecmp(0, mtime() + 20_000);
    let after: u64;
    // SAFETY: MIE is set only around the wfi; the hook silences the timer.
    unsafe {
        asm!("csrs mstatus, {mie}", "wfi", "1: csrc mstatus, {mie}", "la {a}, 1b",
            mie = in(reg) MIE, a = out(reg) after)
    };
    check_eq!(M_IRQS.count(), 1);
    let t = M_IRQS.last();
    check_eq!(t.cause, INTERRUPT | IRQ_M_TIMER);
    check_eq!(t.epc, after);
    check_eq!(mtimecmp(0), u64::MAX);

    // In S-mode the (undelegated) M timer wakes the wfi; the handler returns after it.
    csrc!(mstatus, TW);
    set_mtimecmp(0, mtime() + 20_000);
    let start = mtime();
    check_eq!(call_in(Mode::Supervisor, s_wfi, 0), 1);
    check!(mtime() >= start + 20_000);
    check_eq!(M_IRQS.count(), 2);
    check_eq!(M_IRQS.last().prev, 1);
    csrw!(mie, 0);
}

extern "C" fn s_wfi(_: u64) -> u64 {
    let before = M_IRQS.count();
    let mut n = 0;
    while M_IRQS.count() == before && n < 100 {
        wfi();
        n += 1;
    }
    M_IRQS.count() - before
}
