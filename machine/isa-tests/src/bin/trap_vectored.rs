//! Vectored trap vectors (privileged spec §3.1.7, §4.1.2): with xtvec.MODE = 1, exceptions
//! go to BASE and interrupt n goes to BASE + 4n.
//!
//! Each vector slot is one `j` to a stub; interrupt stub n writes n into xtval (which the
//! hardware sets to 0 for interrupts) and continues into the ordinary trap entry, so the
//! recorded tval names the slot that was used. The exception slot leaves xtval alone.
//! Checked: ecall in M lands on BASE; MSI on slot 3; MTI on slot 7; in S, a delegated SSI on
//! slot 1 and a delegated Sstc timer on slot 5.
#![no_std]
#![no_main]

use core::arch::{asm, global_asm};
use isa::clint::{mtime, set_msip, set_mtimecmp};
use isa::csr::*;
use isa::lower::{Mode, call_in};
use isa::trap::{M_IRQS, S_IRQS, expect_trap, set_m_irq_hook, set_s_irq_hook};
use isa::{check_eq, csrc, csrr, csrs, csrw};

isa::entry!(main);

global_asm!(
    r#"
    .section .text.vectors, "ax"
    .option push
    .option norvc
    .balign 256
    .globl m_vectors
m_vectors:
    j m_trap_entry
    .irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    j m_slot\n
    .endr
    .irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
m_slot\n:
    csrwi mtval, \n
    j m_trap_entry
    .endr

    .balign 256
    .globl s_vectors
s_vectors:
    j s_trap_entry
    .irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    j s_slot\n
    .endr
    .irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
s_slot\n:
    csrwi stval, \n
    j s_trap_entry
    .endr
    .option pop
"#
);

unsafe extern "C" {
    fn m_vectors();
    fn s_vectors();
}

fn m_hook(code: u64) {
    match code {
        IRQ_M_SOFT => set_msip(0, 0),
        IRQ_M_TIMER => set_mtimecmp(0, u64::MAX),
        _ => isa::report_fail(900 + code),
    }
}

fn s_hook(code: u64) {
    match code {
        IRQ_S_SOFT => csrc!(sip, 1 << IRQ_S_SOFT),
        IRQ_S_TIMER => csrw!(0x14d, u64::MAX),
        _ => isa::report_fail(950 + code),
    }
}

fn main() {
    let direct = csrr!(mtvec);
    let mv = m_vectors as *const () as u64;
    let sv = s_vectors as *const () as u64;
    csrw!(mtvec, mv | 1);
    check_eq!(csrr!(mtvec), mv | 1);
    let sdirect = csrr!(stvec);
    csrw!(stvec, sv | 1);
    check_eq!(csrr!(stvec), sv | 1);
    set_m_irq_hook(Some(m_hook));
    set_s_irq_hook(Some(s_hook));
    set_mtimecmp(0, u64::MAX);

    // Exceptions use BASE: tval untouched (0 for ecall).
    let t = expect_trap(|| unsafe { asm!("ecall") });
    check_eq!(t.cause, CAUSE_ECALL_M);
    check_eq!(t.tval, 0);

    // M software interrupt: slot 3.
    csrw!(mie, 1 << IRQ_M_SOFT);
    set_msip(0, 1);
    csrs!(mstatus, MIE);
    csrc!(mstatus, MIE);
    check_eq!(M_IRQS.count(), 1);
    check_eq!(M_IRQS.last().cause, INTERRUPT | IRQ_M_SOFT);
    check_eq!(M_IRQS.last().tval, 3);
    // M timer interrupt: slot 7.
    csrw!(mie, 1 << IRQ_M_TIMER);
    set_mtimecmp(0, mtime());
    csrs!(mstatus, MIE);
    csrc!(mstatus, MIE);
    check_eq!(M_IRQS.count(), 2);
    check_eq!(M_IRQS.last().cause, INTERRUPT | IRQ_M_TIMER);
    check_eq!(M_IRQS.last().tval, 7);

    // S: delegated software interrupt on slot 1, Sstc timer on slot 5.
    csrw!(0x30a, MENVCFG_STCE);
    csrw!(0x14d, u64::MAX);
    csrw!(mideleg, (1 << IRQ_S_SOFT) | (1 << IRQ_S_TIMER));
    csrw!(mie, (1 << IRQ_S_SOFT) | (1 << IRQ_S_TIMER));
    check_eq!(call_in(Mode::Supervisor, s_raise, 0), 2);
    check_eq!(S_IRQS.count(), 2);
    check_eq!(S_IRQS.last().cause, INTERRUPT | IRQ_S_TIMER);
    check_eq!(S_IRQS.last().tval, 5);
    csrw!(mie, 0);
    csrw!(mideleg, 0);
    csrw!(mtvec, direct);
    csrw!(stvec, sdirect);
}

/// In S: raise SSIP, then arm the Sstc timer in the past; returns interrupts taken and
/// fails (from S) if the software interrupt did not use slot 1.
extern "C" fn s_raise(_: u64) -> u64 {
    let before = S_IRQS.count();
    csrs!(sstatus, SIE);
    csrs!(sip, 1 << IRQ_S_SOFT);
    check_eq!(S_IRQS.count(), before + 1);
    check_eq!(S_IRQS.last().cause, INTERRUPT | IRQ_S_SOFT);
    check_eq!(S_IRQS.last().tval, 1);
    csrw!(0x14d, 0);
    let mut spins = 0;
    while S_IRQS.count() == before + 1 && spins < 1000 {
        spins += 1;
    }
    csrc!(sstatus, SIE);
    S_IRQS.count() - before
}
