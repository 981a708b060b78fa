//! Delegation of traps to S-mode through medeleg/mideleg (privileged spec §3.1.8, §4.1):
//! - a delegated exception from U or S goes to the S handler (stvec) with scause, sepc,
//!   stval and SPP/SPIE/SIE stacked, and M sees nothing of it;
//! - an exception in M-mode is never delegated, whatever medeleg says;
//! - a delegated interrupt (SSIP) is taken in S when SIE is set and masked when it is clear,
//!   always taken in U, and never taken in M-mode; undelegated, the same interrupt goes to M.
#![no_std]
#![no_main]

use core::arch::asm;
use isa::csr::*;
use isa::lower::{Mode, call_in, run_fn};
use isa::trap::{
    M_IRQS, M_TRAPS, S_IRQS, S_TRAPS, expect_s_trap, expect_trap, set_m_irq_hook, set_s_irq_hook,
};
use isa::{check_eq, csrc, csrr, csrs, csrw};

isa::entry!(main);

const HOLE: u64 = 0x8800_0000;

fn main() {
    // U ecall delegated: the S handler records it (SPP = U), then ends the run by its own
    // ecall, which M sees as cause 9.
    csrw!(medeleg, 1 << CAUSE_ECALL_U);
    check_eq!(csrr!(medeleg), 1 << CAUSE_ECALL_U);
    let s0 = S_TRAPS.count();
    let t = run_fn(Mode::User, ident, 3);
    check_eq!(t.cause, CAUSE_ECALL_S);
    check_eq!(S_TRAPS.count(), s0 + 1);
    let s = S_TRAPS.last();
    check_eq!(s.cause, CAUSE_ECALL_U);
    check_eq!(s.prev, 0);
    check_eq!(s.a0, 3);
    // SAFETY: sepc is the ecall instruction in lower_trampoline.
    check_eq!(unsafe { (s.epc as *const u32).read() }, 0x73);
    check_eq!(csrr!(scause), CAUSE_ECALL_U);
    check_eq!(csrr!(sepc), s.epc);

    // Illegal instruction and load access fault delegated, raised in S, handled in S and
    // resumed after the instruction. M takes no trap.
    csrw!(
        medeleg,
        (1 << CAUSE_ILLEGAL) | (1 << CAUSE_LOAD_ACCESS) | (1 << CAUSE_BREAKPOINT)
    );
    let m0 = M_TRAPS.count();
    check_eq!(call_in(Mode::Supervisor, s_traps, 0), 1);
    check_eq!(M_TRAPS.count(), m0 + 1); // only the ecall that ended the run
    // Breakpoint from U, delegated.
    let t = run_fn(Mode::User, do_ebreak, 0);
    check_eq!(t.cause, CAUSE_ECALL_S);
    check_eq!(S_TRAPS.last().cause, CAUSE_BREAKPOINT);
    check_eq!(S_TRAPS.last().prev, 0);

    // M-mode exceptions stay in M even when delegated.
    let s0 = S_TRAPS.count();
    let t = expect_trap(|| unsafe { asm!(".word 0x0000000b") });
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(S_TRAPS.count(), s0);
    csrw!(medeleg, 0);

    // Supervisor software interrupt, delegated.
    set_s_irq_hook(Some(clear_ssip));
    csrw!(mideleg, 1 << IRQ_S_SOFT);
    csrw!(mie, 1 << IRQ_S_SOFT); // sie.SSIE is the same bit
    // In M-mode, even with MIE set, a delegated interrupt is not taken.
    let (mi, si) = (M_IRQS.count(), S_IRQS.count());
    csrs!(mstatus, MIE);
    csrs!(mip, 1 << IRQ_S_SOFT);
    spin(100);
    check_eq!(csrr!(mip) & (1 << IRQ_S_SOFT), 1 << IRQ_S_SOFT);
    check_eq!(M_IRQS.count(), mi);
    check_eq!(S_IRQS.count(), si);
    csrc!(mstatus, MIE);
    // In S-mode with SIE clear it stays pending; setting SIE takes it at once.
    check_eq!(call_in(Mode::Supervisor, s_soft_irq, 0), 1);
    check_eq!(S_IRQS.count(), si + 1);
    let s = S_IRQS.last();
    check_eq!(s.cause, INTERRUPT | IRQ_S_SOFT);
    check_eq!(s.prev, 1);
    check_eq!(s.status & SPIE, SPIE); // SIE was 1 when it was taken
    check_eq!(csrr!(mip) & (1 << IRQ_S_SOFT), 0);
    // In U-mode it is taken whatever SIE says (pending before U starts; SIE = 0).
    csrc!(mstatus, SIE);
    csrs!(mip, 1 << IRQ_S_SOFT);
    let t = run_fn(Mode::User, ident, 9);
    check_eq!(t.cause, CAUSE_ECALL_U);
    check_eq!(S_IRQS.count(), si + 2);
    check_eq!(S_IRQS.last().prev, 0);

    // Not delegated: the same interrupt from S goes to M (M interrupts are always enabled
    // below M).
    set_m_irq_hook(Some(clear_ssip_m));
    csrw!(mideleg, 0);
    csrs!(mip, 1 << IRQ_S_SOFT);
    let t = run_fn(Mode::Supervisor, ident, 1);
    check_eq!(t.cause, CAUSE_ECALL_S);
    check_eq!(M_IRQS.count(), mi + 1);
    check_eq!(M_IRQS.last().cause, INTERRUPT | IRQ_S_SOFT);
    check_eq!(M_IRQS.last().prev, 1);
    check_eq!(S_IRQS.count(), si + 2);
    csrw!(mie, 0);
}

fn spin(n: u64) {
    // SAFETY: register-only loop.
    unsafe { asm!("1: addi {n}, {n}, -1", "bnez {n}, 1b", n = inout(reg) n => _) };
}

/// S hook: sip.SSIP is writable from S when SSIP is delegated.
fn clear_ssip(_: u64) {
    csrc!(sip, 1 << IRQ_S_SOFT);
}

/// M hook: without delegation sip does not show SSIP, so clear it through mip.
fn clear_ssip_m(_: u64) {
    csrc!(mip, 1 << IRQ_S_SOFT);
}

extern "C" fn ident(x: u64) -> u64 {
    x
}

extern "C" fn do_ebreak(_: u64) -> u64 {
    // SAFETY: traps to S, which ends the run.
    unsafe { asm!("ebreak") };
    0
}

/// In S: raises two delegated exceptions and checks what the S handler saw (a failed check
/// reports from S-mode, which reaches tohost and the finisher without paging). Returns 1.
extern "C" fn s_traps(_: u64) -> u64 {
    let t = expect_s_trap(|| unsafe { asm!(".word 0xdead000b") });
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0xdead_000b);
    check_eq!(t.prev, 1);
    let t = expect_s_trap(|| unsafe { asm!("ld x0, 16({a})", a = in(reg) HOLE) });
    check_eq!(t.cause, CAUSE_LOAD_ACCESS);
    check_eq!(t.tval, HOLE + 16);
    1
}

/// In S: SSIP is pending and enabled in sie; with SIE clear nothing happens, then SIE is set.
extern "C" fn s_soft_irq(_: u64) -> u64 {
    csrs!(sip, 1 << IRQ_S_SOFT);
    let before = S_IRQS.count();
    spin(100);
    if S_IRQS.count() != before {
        return 0;
    }
    csrs!(sstatus, SIE);
    spin(10);
    csrc!(sstatus, SIE);
    S_IRQS.count() - before
}
