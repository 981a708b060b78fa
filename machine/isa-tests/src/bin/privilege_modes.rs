//! Privilege levels M, S and U (privileged spec §3.1.6, §3.3, §4.1.1):
//! - ecall from U, S and M raises causes 8, 9 and 11, with MPP naming the mode it came from;
//! - mret stacking: MIE <- MPIE, MPIE <- 1, MPP <- U (the least-privileged mode), pc <- mepc;
//!   a trap into M: MPIE <- MIE, MIE <- 0, MPP <- previous mode;
//! - sret stacking: SIE <- SPIE, SPIE <- 1, SPP <- U; sret with SPP = U enters U-mode;
//! - U-mode via mret runs ordinary code;
//! - privileged instructions and CSRs from too low a mode are illegal (tval = instruction):
//!   M CSRs from S, S CSRs from U, mret from S, sret and sfence.vma from U, wfi from U (QEMU
//!   traps it; the spec allows a bounded wait instead);
//! - the trap-virtualization bits: TSR makes sret illegal in S, TW makes wfi illegal in S,
//!   TVM makes satp and sfence.vma illegal in S.
//!
//! (MPP = 2 is reserved and WARL in the spec, but QEMU 7.2 reads it back, so it is not tested.)
#![no_std]
#![no_main]

use core::arch::asm;
use isa::csr::*;
use isa::lower::{Mode, call_in, run_fn};
use isa::{check_eq, csrc, csrs};

isa::entry!(main);

fn main() {
    // ecall causes and MPP, and ecall's mepc.
    let t = run_fn(Mode::User, nothing, 5);
    check_eq!(t.cause, CAUSE_ECALL_U);
    check_eq!(t.prev, 0);
    check_eq!(t.a0, 5);
    check_eq!(t.tval, 0);
    // SAFETY: epc is the ecall in lower_trampoline's code.
    check_eq!(unsafe { (t.epc as *const u32).read() }, 0x0000_0073);
    let t = run_fn(Mode::Supervisor, nothing, 6);
    check_eq!(t.cause, CAUSE_ECALL_S);
    check_eq!(t.prev, 1);
    check_eq!(t.a0, 6);
    // Ordinary code in U-mode.
    check_eq!(call_in(Mode::User, fib, 20), 6765);

    // mret within M: MIE <- MPIE, MPIE <- 1, MPP <- U.
    for mpie in [0, MPIE] {
        csrc!(mstatus, MIE | MPIE | MPP_MASK);
        csrs!(mstatus, mpie | (3 << MPP_SHIFT));
        let s = mret_to_m();
        check_eq!(s & MIE, if mpie != 0 { MIE } else { 0 });
        check_eq!(s & MPIE, MPIE);
        check_eq!(s & MPP_MASK, 0);
        csrc!(mstatus, MIE);
    }
    // mret into S with MPIE = 1 or 0; the ecall back shows MIE as S ran with it (now MPIE).
    for mpie in [MPIE, 0] {
        csrc!(mstatus, MPIE);
        csrs!(mstatus, mpie);
        let t = run_fn(Mode::Supervisor, nothing, 0);
        check_eq!(t.cause, CAUSE_ECALL_S);
        check_eq!(t.status & MPIE, mpie);
        check_eq!(t.status & MIE, 0);
        check_eq!((t.status & MPP_MASK) >> MPP_SHIFT, 1);
    }
    csrc!(mstatus, MPIE);

    // sret within S: SIE <- SPIE, SPIE <- 1, SPP <- U.
    let s = call_in(Mode::Supervisor, sret_to_s, SPIE);
    check_eq!(s & (SIE | SPIE | SPP), SIE | SPIE);
    let s = call_in(Mode::Supervisor, sret_to_s, 0);
    check_eq!(s & (SIE | SPIE | SPP), SPIE);
    // sret with SPP = U lands in U-mode: its ecall is cause 8.
    let mut label = 0u64;
    let t = run_fn(Mode::Supervisor, sret_to_u, &raw mut label as u64);
    check_eq!(t.cause, CAUSE_ECALL_U);
    check_eq!(t.epc, label);

    // Too little privilege. The M record shows the illegal instruction and where it came from.
    let cases: [(Mode, extern "C" fn(u64) -> u64, u64); 9] = [
        (Mode::Supervisor, read_mstatus, 0x3000_2573),
        (Mode::User, read_mstatus, 0x3000_2573),
        (Mode::User, read_sstatus, 0x1000_2573),
        (Mode::User, read_satp, 0x1800_2573),
        (Mode::Supervisor, do_mret, 0x3020_0073),
        (Mode::User, do_sret, 0x1020_0073),
        (Mode::User, do_sfence, 0x1200_0073),
        (Mode::User, do_wfi, 0x1050_0073),
        (Mode::Supervisor, read_mscratch, 0x3400_2573),
    ];
    for (mode, f, insn) in cases {
        let t = run_fn(mode, f, 0);
        check_eq!(t.cause, CAUSE_ILLEGAL);
        check_eq!(t.prev, mode as u64);
        check_eq!(t.tval, insn);
    }
    // ...while S may read its own CSRs.
    check_eq!(call_in(Mode::Supervisor, read_sstatus, 0) & SPP, 0);
    let _ = call_in(Mode::Supervisor, read_satp, 0);

    // TSR: sret from S is illegal.
    csrs!(mstatus, TSR);
    let t = run_fn(Mode::Supervisor, sret_to_s, 0);
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0x1020_0073);
    csrc!(mstatus, TSR);
    // TW: wfi from S is illegal.
    csrs!(mstatus, TW);
    let t = run_fn(Mode::Supervisor, do_wfi, 0);
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0x1050_0073);
    csrc!(mstatus, TW);
    // TVM: satp access and sfence.vma from S are illegal.
    csrs!(mstatus, TVM);
    let t = run_fn(Mode::Supervisor, read_satp, 0);
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0x1800_2573);
    let t = run_fn(Mode::Supervisor, do_sfence, 0);
    check_eq!(t.cause, CAUSE_ILLEGAL);
    csrc!(mstatus, TVM);
    check_eq!(run_fn(Mode::Supervisor, do_sfence, 0).cause, CAUSE_ECALL_S);
}

extern "C" fn nothing(x: u64) -> u64 {
    x
}

extern "C" fn fib(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

/// mret to the next instruction with MPP as set by the caller; returns mstatus after it.
fn mret_to_m() -> u64 {
    let s: u64;
    // SAFETY: mret stays in M-mode (MPP = M) and continues at 1:.
    unsafe {
        asm!("la t0, 1f", "csrw mepc, t0", "mret", "1: csrr {s}, mstatus", s = out(reg) s, out("t0") _)
    };
    s
}

/// In S: sret to the next instruction with SPP = S, SPIE = spie, SIE = 0; returns sstatus.
extern "C" fn sret_to_s(spie: u64) -> u64 {
    let s: u64;
    // SAFETY: sret stays in S-mode and continues at 1:.
    unsafe {
        asm!("csrc sstatus, {m}", "csrs sstatus, {set}", "la t0, 1f", "csrw sepc, t0", "sret",
            "1: csrr {s}, sstatus", "csrc sstatus, {sie}",
            m = in(reg) SIE | SPIE | SPP, set = in(reg) spie | SPP, sie = in(reg) SIE,
            s = out(reg) s, out("t0") _)
    };
    s
}

/// In S: sret with SPP = U to an ecall; stores that ecall's address at `label`.
extern "C" fn sret_to_u(label: u64) -> u64 {
    // SAFETY: enters U-mode at 1:, whose ecall ends the run.
    unsafe {
        asm!("la t0, 1f", "sd t0, 0({l})", "csrw sepc, t0", "csrc sstatus, {spp}", "sret",
            "1: ecall", l = in(reg) label, spp = in(reg) SPP, out("t0") _)
    };
    0
}

extern "C" fn read_mstatus(_: u64) -> u64 {
    let v: u64;
    // SAFETY: traps below M. Fixed register a0 keeps the encoding known: csrr a0, mstatus.
    unsafe { asm!("csrr a0, mstatus", out("a0") v) };
    v
}

extern "C" fn read_mscratch(_: u64) -> u64 {
    let v: u64;
    // SAFETY: as read_mstatus.
    unsafe { asm!("csrr a0, mscratch", out("a0") v) };
    v
}

extern "C" fn read_sstatus(_: u64) -> u64 {
    let v: u64;
    // SAFETY: as read_mstatus.
    unsafe { asm!("csrr a0, sstatus", out("a0") v) };
    v
}

extern "C" fn read_satp(_: u64) -> u64 {
    let v: u64;
    // SAFETY: as read_mstatus.
    unsafe { asm!("csrr a0, satp", out("a0") v) };
    v
}

extern "C" fn do_mret(_: u64) -> u64 {
    // SAFETY: illegal below M; the run ends at the trap.
    unsafe { asm!("mret") };
    0
}

extern "C" fn do_sret(_: u64) -> u64 {
    // SAFETY: illegal in U; the run ends at the trap.
    unsafe { asm!("sret") };
    0
}

extern "C" fn do_sfence(_: u64) -> u64 {
    // SAFETY: a fence (or an illegal-instruction trap).
    unsafe { asm!("sfence.vma") };
    0
}

extern "C" fn do_wfi(_: u64) -> u64 {
    // SAFETY: traps in these tests before it could wait.
    unsafe { asm!("wfi") };
    0
}
