//! RV64C: every compressed instruction of RV64C, written with explicit `c.` mnemonics so the
//! assembler emits the 16-bit encodings, each checked against its expansion's result.
//!
//! Quadrant 0: c.addi4spn c.lw c.ld c.sw c.sd (c.fld/c.fsd: illegal here, FP is off).
//! Quadrant 1: c.nop c.addi c.addiw c.li c.addi16sp c.lui c.srli c.srai c.andi c.sub c.xor
//!             c.or c.and c.subw c.addw c.j c.beqz c.bnez.
//! Quadrant 2: c.slli c.lwsp c.ldsp c.jr c.mv c.ebreak c.jalr c.add c.swsp c.sdsp
//!             (c.fldsp/c.fsdsp: illegal here).
//! Registers: the 3-bit register fields reach x8..x15 (s0, s1, a0..a5) only. The sp-based
//! forms run with sp pointed at a scratch buffer for the duration of one asm block (no
//! interrupts are enabled, so nothing else sees that sp).
//! FP forms: mstatus.FS is 0 (reset value, never changed here), so the compressed FP loads
//! and stores are illegal instructions on QEMU; on a machine without D they are illegal too.
#![no_std]
#![no_main]

use core::arch::asm;
use isa::check_eq;
use isa::csr::CAUSE_ILLEGAL;
use isa::trap::expect_trap;

isa::entry!(main);

#[repr(C, align(16))]
struct Buf([u64; 8]);

/// Runs a block with a0 = $x, a1 = $y in; returns a0.
macro_rules! c2 {
    ($x:expr, $y:expr, $($code:literal),+) => {{
        let mut a0: u64 = $x;
        // SAFETY: register-only compressed instructions on a0/a1.
        unsafe { asm!($($code),+, inout("a0") a0, in("a1") ($y) as u64, options(nomem, nostack)) };
        a0
    }};
}

fn main() {
    // Immediate loads and arithmetic.
    check_eq!(c2!(0, 0, "c.li a0, -32"), (-32i64) as u64);
    check_eq!(c2!(0, 0, "c.li a0, 31"), 31);
    check_eq!(c2!(0, 0, "c.addi a0, -1"), u64::MAX);
    check_eq!(c2!(10, 0, "c.addi a0, 31"), 41);
    check_eq!(c2!(0x7fff_ffff, 0, "c.addiw a0, 1"), 0xffff_ffff_8000_0000);
    check_eq!(
        c2!(0x1_8000_0000, 0, "c.addiw a0, 0"),
        0xffff_ffff_8000_0000
    );
    check_eq!(c2!(0, 0, "c.lui a0, 1"), 0x1000);
    check_eq!(c2!(0, 0, "c.lui a0, 0x1f"), 0x1_f000);
    check_eq!(c2!(0, 0, "c.lui a0, 0xfffff"), 0xffff_ffff_ffff_f000); // nzimm = -1
    check_eq!(c2!(0, 0, "c.lui a0, 0xfffe0"), 0xffff_ffff_fffe_0000); // nzimm = -32
    // Shifts and andi.
    check_eq!(c2!(1, 0, "c.slli a0, 63"), 0x8000_0000_0000_0000);
    check_eq!(c2!(u64::MAX, 0, "c.srli a0, 60"), 0xf);
    check_eq!(
        c2!(0x8000_0000_0000_0000, 0, "c.srai a0, 60"),
        0xffff_ffff_ffff_fff8
    );
    check_eq!(
        c2!(0x8000_0000_0000_0000, 0, "c.srli a0, 1"),
        0x4000_0000_0000_0000
    );
    check_eq!(c2!(0x1234, 0, "c.andi a0, -16"), 0x1230);
    check_eq!(c2!(0x1234, 0, "c.andi a0, 15"), 4);
    // Register-register.
    let (p, q) = (0xf0f0_f0f0_f0f0_f0f0u64, 0xff00_ff00_ff00_ff00u64);
    check_eq!(c2!(5, 7, "c.sub a0, a1"), (-2i64) as u64);
    check_eq!(c2!(p, q, "c.xor a0, a1"), 0x0ff0_0ff0_0ff0_0ff0);
    check_eq!(c2!(p, q, "c.or a0, a1"), 0xfff0_fff0_fff0_fff0);
    check_eq!(c2!(p, q, "c.and a0, a1"), 0xf000_f000_f000_f000);
    check_eq!(c2!(0, 1, "c.subw a0, a1"), u64::MAX);
    check_eq!(c2!(0x1_0000_0000, 1, "c.subw a0, a1"), u64::MAX);
    check_eq!(c2!(0x7fff_ffff, 1, "c.addw a0, a1"), 0xffff_ffff_8000_0000);
    check_eq!(c2!(3, 0xdead, "c.mv a0, a1"), 0xdead);
    check_eq!(c2!(u64::MAX, 2, "c.add a0, a1"), 1);
    check_eq!(c2!(77, 0, "c.nop", "c.nop"), 77);

    // Control transfer.
    check_eq!(c2!(1, 0, "c.j 1f", "c.li a0, 2", "1:"), 1);
    check_eq!(
        c2!(
            0,
            0,
            "c.li a1, 0",
            "c.beqz a1, 1f",
            "c.li a0, 2",
            "1: c.addi a0, 1"
        ),
        1
    );
    check_eq!(
        c2!(0, 5, "c.beqz a1, 1f", "c.li a0, 2", "1: c.addi a0, 1"),
        3
    );
    check_eq!(
        c2!(0, 5, "c.bnez a1, 1f", "c.li a0, 2", "1: c.addi a0, 1"),
        1
    );
    check_eq!(
        c2!(0, 0, "c.bnez a1, 1f", "c.li a0, 2", "1: c.addi a0, 1"),
        3
    );
    check_eq!(
        c2!(0, 5, "c.bnez a1, 1f", "c.li a0, 2", "1: c.addi a0, 1"),
        1
    );
    // A backward c.bnez loop: a0 counts a1 down to zero.
    let n: u64;
    // SAFETY: register-only.
    unsafe {
        asm!("c.li a0, 0", "1: c.addi a0, 1", "c.addi a1, -1", "c.bnez a1, 1b",
            out("a0") n, inout("a1") 6u64 => _)
    };
    check_eq!(n, 6);
    // c.jr to a register target; c.jalr links ra = its pc + 2.
    let (link, after, took): (u64, u64, u64);
    // SAFETY: register-only; control rejoins at 2:.
    unsafe {
        asm!(
            "la a1, 3f",
            "c.li a0, 0",
            "c.jr a1",
            "c.li a0, 9",
            "3: c.addi a0, 1",
            "la a1, 2f",
            "c.jalr a1",
            "1: c.j 4f",
            "2: la a2, 1b",
            "c.jr ra",
            "4:",
            out("a0") took, out("a1") _, out("a2") after, out("ra") link)
    };
    check_eq!(took, 1);
    check_eq!(link, after);

    // Loads and stores, register-based.
    let mut buf = Buf([0; 8]);
    buf.0[0] = 0x1111_2222_8000_0000; // lw at 0 sign-extends 0x80000000
    buf.0[1] = 0x0123_4567_89ab_cdef;
    let b = buf.0.as_mut_ptr() as u64;
    let (w, d): (u64, u64);
    // SAFETY: a1 points at buf; offsets stay inside it.
    unsafe {
        asm!("c.lw a0, 0(a1)", "c.ld a2, 8(a1)", in("a1") b, out("a0") w, out("a2") d,
            options(nostack, readonly))
    };
    check_eq!(w, 0xffff_ffff_8000_0000);
    check_eq!(d, 0x0123_4567_89ab_cdef);
    // SAFETY: as above.
    unsafe {
        asm!("c.sw a0, 20(a1)", "c.sd a2, 24(a1)", in("a1") b, in("a0") 0x5555_6666_7777_8888u64,
            in("a2") 0x0a0b_0c0d_0e0f_1011u64, options(nostack))
    };
    check_eq!(buf.0[2], 0x7777_8888_0000_0000);
    check_eq!(buf.0[3], 0x0a0b_0c0d_0e0f_1011);

    // sp-based: addi4spn, addi16sp, lwsp/ldsp/swsp/sdsp with sp = buf.
    buf.0[4] = 0xaaaa_bbbb_cccc_dddd;
    let (spn, sp16, lw, ld): (u64, u64, u64, u64);
    // SAFETY: sp is restored from t0 before the block ends; nothing runs on the borrowed sp.
    unsafe {
        asm!(
            "mv t0, sp",
            "mv sp, {b}",
            "c.addi4spn a0, sp, 16",
            "c.swsp a2, 40(sp)",
            "c.sdsp a2, 48(sp)",
            "c.lwsp a3, 32(sp)",
            "c.ldsp a4, 32(sp)",
            "c.addi16sp sp, 32",
            "c.addi16sp sp, -16",
            "mv a5, sp",
            "mv sp, t0",
            b = in(reg) b, in("a2") 0x1234_5678_9abc_def0u64, out("a0") spn, out("a3") lw,
            out("a4") ld, out("a5") sp16, out("t0") _)
    };
    check_eq!(spn, b + 16);
    check_eq!(sp16, b + 16);
    check_eq!(lw, 0xffff_ffff_cccc_dddd);
    check_eq!(ld, 0xaaaa_bbbb_cccc_dddd);
    check_eq!(buf.0[5], 0x0000_0000_9abc_def0);
    check_eq!(buf.0[6], 0x1234_5678_9abc_def0);

    // c.ebreak: a breakpoint trap at its own pc.
    let t = expect_trap(|| unsafe { asm!("c.ebreak") });
    check_eq!(t.cause, 3);
    // Compressed FP loads/stores: illegal with FS off; tval holds the 16-bit encoding.
    let t = expect_trap(|| unsafe { asm!("c.fld fa0, 0(a1)", in("a1") b) });
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0x2188); // c.fld fa0, 0(a1): 001 0 00 011 00 010 00 -> 0x2188
    let t = expect_trap(|| unsafe { asm!("c.fsdsp fa0, 8(sp)") });
    check_eq!(t.cause, CAUSE_ILLEGAL);
    check_eq!(t.tval, 0xa42a); // 101 001000 01010 10
    let t = expect_trap(|| unsafe { asm!("c.fldsp fa0, 8(sp)") });
    check_eq!(t.cause, CAUSE_ILLEGAL);
    let t = expect_trap(|| unsafe { asm!("c.fsd fa0, 8(a1)", in("a1") b) });
    check_eq!(t.cause, CAUSE_ILLEGAL);
}
