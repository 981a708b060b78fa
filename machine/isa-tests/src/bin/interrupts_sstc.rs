//! Sstc: the supervisor timer compare register `stimecmp` (CSR 0x14d) and its enable bit
//! `menvcfg.STCE` (bit 63 of CSR 0x30a), as current xv6-riscv uses them:
//! - STCE is writable, so Sstc is present (QEMU's rv64 CPU has it);
//! - mip.STIP is pending exactly while time >= stimecmp, and software cannot set or clear it
//!   through mip while STCE = 1;
//! - delegated through mideleg, the timer reaches the S handler as scause = 2^63 | 5, which
//!   silences it by writing stimecmp from S-mode;
//! - S-mode access to stimecmp needs both menvcfg.STCE and mcounteren.TM; without either it is
//!   an illegal instruction.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use isa::csr::*;
use isa::lower::{Mode, call_in, run_fn};
use isa::trap::{S_IRQS, set_s_irq_hook};
use isa::{check, check_eq, csrc, csrr, csrs, csrw};

isa::entry!(main);

const STIP: u64 = 1 << IRQ_S_TIMER;

fn main() {
    csrw!(0x30a, MENVCFG_STCE);
    check_eq!(csrr!(0x30a) & MENVCFG_STCE, MENVCFG_STCE);

    // The comparator, driven from M.
    csrw!(0x14d, u64::MAX);
    check_eq!(csrr!(0x14d), u64::MAX);
    check_eq!(csrr!(mip) & STIP, 0);
    csrw!(0x14d, 0);
    check_eq!(csrr!(mip) & STIP, STIP);
    // STIP belongs to the comparator now: mip writes do not move it.
    csrc!(mip, STIP);
    check_eq!(csrr!(mip) & STIP, STIP);
    csrw!(0x14d, u64::MAX);
    check_eq!(csrr!(mip) & STIP, 0);
    csrs!(mip, STIP);
    check_eq!(csrr!(mip) & STIP, 0);
    // A deadline a little ahead becomes pending by itself.
    csrw!(0x14d, csrr!(time) + 1000);
    check_eq!(csrr!(mip) & STIP, 0);
    let mut spins = 0u64;
    while csrr!(mip) & STIP == 0 && spins < 10_000_000 {
        spins += 1;
    }
    check_eq!(csrr!(mip) & STIP, STIP);
    check!(csrr!(time) >= csrr!(0x14d));
    csrw!(0x14d, u64::MAX);

    // Delegated to S, taken there, silenced there.
    set_s_irq_hook(Some(s_timer));
    csrw!(mideleg, STIP);
    csrw!(mie, STIP); // sie.STIE
    check_eq!(call_in(Mode::Supervisor, s_wait_timer, 2000), 1);
    let t = S_IRQS.last();
    check_eq!(t.cause, INTERRUPT | IRQ_S_TIMER);
    check_eq!(t.prev, 1);
    check_eq!(csrr!(mip) & STIP, 0);
    check_eq!(csrr!(0x14d), u64::MAX);
    // Also from U-mode (S interrupts are always enabled below S).
    csrw!(0x14d, csrr!(time) + 2000);
    check_eq!(call_in(Mode::User, u_wait, 0), 1);
    check_eq!(S_IRQS.last().prev, 0);
    check_eq!(S_IRQS.count(), 2);

    // S-mode access rules.
    csrw!(mcounteren, 0b101); // TM = 0
    let t = run_fn(Mode::Supervisor, s_read_stimecmp, 0);
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0x14d0_2573); // csrr a0, stimecmp
    csrw!(mcounteren, 7);
    csrw!(0x30a, 0);
    let t = run_fn(Mode::Supervisor, s_read_stimecmp, 0);
    check_eq!(t.cause, CAUSE_ILLEGAL);
    csrw!(0x30a, MENVCFG_STCE);
    check_eq!(call_in(Mode::Supervisor, s_read_stimecmp, 0), u64::MAX);
    csrw!(mie, 0);
    csrw!(mideleg, 0);
}

static TICKS: AtomicU64 = AtomicU64::new(0);

/// S interrupt hook: silence the comparator from S-mode and count.
fn s_timer(code: u64) {
    if code == IRQ_S_TIMER {
        csrw!(0x14d, u64::MAX);
        TICKS.fetch_add(1, Relaxed);
    }
}

/// In S: arm stimecmp `delta` ahead, enable SIE, wait for the tick; returns ticks seen.
extern "C" fn s_wait_timer(delta: u64) -> u64 {
    let start = TICKS.load(Relaxed);
    csrw!(0x14d, csrr!(time) + delta);
    csrs!(sstatus, SIE);
    while TICKS.load(Relaxed) == start {}
    csrc!(sstatus, SIE);
    TICKS.load(Relaxed) - start
}

extern "C" fn u_wait(_: u64) -> u64 {
    let start = TICKS.load(Relaxed);
    while TICKS.load(Relaxed) == start {}
    TICKS.load(Relaxed) - start
}

extern "C" fn s_read_stimecmp(_: u64) -> u64 {
    let v: u64;
    // SAFETY: a CSR read (or an illegal-instruction trap that ends the run).
    unsafe { core::arch::asm!("csrr a0, 0x14d", out("a0") v) };
    v
}
