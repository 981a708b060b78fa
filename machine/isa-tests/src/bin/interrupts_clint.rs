//! CLINT interrupts to M-mode (privileged spec §3.1.9, §3.2.1; SiFive CLINT layout):
//! - mtime advances; MTIP is pending exactly while mtime >= mtimecmp (at reset mtimecmp is
//!   0, so it starts pending), and software cannot clear MTIP through mip;
//! - with mie.MTIE and mstatus.MIE the timer traps with mcause = 2^63 | 7, and the handler
//!   silences it by moving mtimecmp; mepc is where the interrupted code resumes;
//! - the timer interrupts U-mode code whatever mstatus.MIE says;
//! - msip[0] bit 0 drives mip.MSIP; with MSIE it traps with mcause = 2^63 | 3;
//! - with both pending, the software interrupt is taken first (priority MEI > MSI > MTI).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use isa::clint::{msip, mtime, mtimecmp, set_msip, set_mtimecmp};
use isa::csr::*;
use isa::lower::{Mode, call_in};
use isa::trap::{M_IRQS, set_m_irq_hook};
use isa::{check, check_eq, csrc, csrr, csrs, csrw};

isa::entry!(main);

const MTIP: u64 = 1 << IRQ_M_TIMER;
const MSIP: u64 = 1 << IRQ_M_SOFT;

/// Interrupt codes in the order the hook saw them (up to 8).
static SEEN: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
static NSEEN: AtomicU64 = AtomicU64::new(0);

fn hook(code: u64) {
    let n = NSEEN.fetch_add(1, Relaxed);
    if (n as usize) < SEEN.len() {
        SEEN[n as usize].store(code, Relaxed);
    }
    match code {
        IRQ_M_TIMER => set_mtimecmp(0, u64::MAX),
        IRQ_M_SOFT => set_msip(0, 0),
        _ => isa::report_fail(900 + code),
    }
}

/// Spins until `cond` or about `limit` iterations; true if cond became true.
fn wait(limit: u64, cond: impl Fn() -> bool) -> bool {
    for _ in 0..limit {
        if cond() {
            return true;
        }
    }
    cond()
}

fn main() {
    set_m_irq_hook(Some(hook));
    // Reset state: mtimecmp = 0 <= mtime, so MTIP is pending.
    check_eq!(mtimecmp(0), 0);
    check_eq!(csrr!(mip) & MTIP, MTIP);
    // Writes to mip cannot clear MTIP.
    csrc!(mip, MTIP);
    check_eq!(csrr!(mip) & MTIP, MTIP);
    set_mtimecmp(0, u64::MAX);
    check_eq!(csrr!(mip) & MTIP, 0);
    check_eq!(mtimecmp(0), u64::MAX);

    // mtime advances.
    let t0 = mtime();
    check!(wait(1_000_000, || mtime() > t0));

    // MTIP rises by itself once mtime passes mtimecmp; nothing is taken while mie is 0.
    set_mtimecmp(0, mtime() + 1000);
    check_eq!(csrr!(mip) & MTIP, 0);
    check!(wait(10_000_000, || csrr!(mip) & MTIP != 0));
    check!(mtime() >= mtimecmp(0));
    check_eq!(M_IRQS.count(), 0);
    // Enabling it (MTIE, then MIE) takes it at once.
    csrs!(mie, MTIP);
    check_eq!(M_IRQS.count(), 0);
    csrs!(mstatus, MIE);
    csrc!(mstatus, MIE);
    check_eq!(M_IRQS.count(), 1);
    let t = M_IRQS.last();
    check_eq!(t.cause, INTERRUPT | IRQ_M_TIMER);
    check_eq!(t.prev, 3);
    check_eq!(t.status & MPIE, MPIE);
    check_eq!(csrr!(mip) & MTIP, 0);
    // A timer interrupt arriving later while interrupts are on.
    csrs!(mstatus, MIE);
    set_mtimecmp(0, mtime() + 2000);
    check!(wait(10_000_000, || M_IRQS.count() == 2));
    csrc!(mstatus, MIE);
    check_eq!(M_IRQS.last().cause, INTERRUPT | IRQ_M_TIMER);

    // In U-mode the timer interrupt is taken even with mstatus.MIE = 0.
    set_mtimecmp(0, mtime() + 5000);
    check_eq!(call_in(Mode::User, user_wait, 0), 1);
    check_eq!(M_IRQS.last().cause, INTERRUPT | IRQ_M_TIMER);
    check_eq!(M_IRQS.last().prev, 0);

    // Software interrupt through msip.
    csrw!(mie, 0);
    set_msip(0, 1);
    check_eq!(msip(0), 1);
    check_eq!(csrr!(mip) & MSIP, MSIP);
    set_msip(0, 0);
    check_eq!(csrr!(mip) & MSIP, 0);
    set_msip(0, 1);
    csrs!(mie, MSIP);
    csrs!(mstatus, MIE);
    csrc!(mstatus, MIE);
    check_eq!(M_IRQS.count(), 4);
    check_eq!(M_IRQS.last().cause, INTERRUPT | IRQ_M_SOFT);
    check_eq!(msip(0), 0);
    check_eq!(csrr!(mip) & MSIP, 0);

    // Priority: MSI before MTI when both are pending and enabled.
    csrw!(mie, 0);
    set_msip(0, 1);
    set_mtimecmp(0, 0);
    check_eq!(csrr!(mip) & (MSIP | MTIP), MSIP | MTIP);
    csrw!(mie, MSIP | MTIP);
    NSEEN.store(0, Relaxed);
    csrs!(mstatus, MIE);
    csrc!(mstatus, MIE);
    check_eq!(NSEEN.load(Relaxed), 2);
    check_eq!(SEEN[0].load(Relaxed), IRQ_M_SOFT);
    check_eq!(SEEN[1].load(Relaxed), IRQ_M_TIMER);
    csrw!(mie, 0);
    set_mtimecmp(0, u64::MAX);
}

/// In U: spins until the hook has seen one more interrupt; returns how many it waited for.
extern "C" fn user_wait(_: u64) -> u64 {
    let start = NSEEN.load(Relaxed);
    while NSEEN.load(Relaxed) == start {}
    NSEEN.load(Relaxed) - start
}
