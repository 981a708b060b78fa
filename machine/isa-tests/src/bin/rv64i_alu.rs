//! RV64I register-register and register-immediate arithmetic, logic, compare and shift
//! instructions, their 32-bit W forms (result sign-extended from bit 31, shift amounts taken
//! from the low 5 bits), lui and auipc, and writes to x0.
//!
//! Expected values are worked out by hand from the ISA manual (RV64I chapter): 64-bit
//! wrapping two's-complement arithmetic, shifts use the low 6 bits of rs2 (5 for W forms),
//! immediates are 12-bit sign-extended.
#![no_std]
#![no_main]

use isa::{check_eq, ri, rr};

isa::entry!(main);

const MIN: u64 = 0x8000_0000_0000_0000;
const MAX: u64 = 0x7fff_ffff_ffff_ffff;
const ALL: u64 = u64::MAX;

fn main() {
    // add / sub wrap around.
    check_eq!(rr!("add", 5, 7), 12);
    check_eq!(rr!("add", ALL, 1), 0);
    check_eq!(rr!("add", MAX, 1), MIN);
    check_eq!(rr!("sub", 5, 7), 0xffff_ffff_ffff_fffe);
    check_eq!(rr!("sub", 0, MIN), MIN);
    // Logic.
    let (p, q) = (0xf0f0_f0f0_f0f0_f0f0u64, 0xff00_ff00_ff00_ff00u64);
    check_eq!(rr!("and", p, q), 0xf000_f000_f000_f000);
    check_eq!(rr!("or", p, q), 0xfff0_fff0_fff0_fff0);
    check_eq!(rr!("xor", p, q), 0x0ff0_0ff0_0ff0_0ff0);
    // Compares: signed and unsigned disagree on -1 versus 1.
    check_eq!(rr!("slt", ALL, 1), 1);
    check_eq!(rr!("slt", 1, ALL), 0);
    check_eq!(rr!("slt", 3, 3), 0);
    check_eq!(rr!("sltu", ALL, 1), 0);
    check_eq!(rr!("sltu", 1, ALL), 1);
    check_eq!(rr!("slt", MIN, MAX), 1);
    check_eq!(rr!("sltu", MIN, MAX), 0);
    // Shifts: only rs2[5:0] counts.
    check_eq!(rr!("sll", 1, 63), MIN);
    check_eq!(rr!("sll", 1, 64 + 3), 8);
    check_eq!(rr!("srl", MIN, 63), 1);
    check_eq!(rr!("srl", MIN, 4), 0x0800_0000_0000_0000);
    check_eq!(rr!("sra", MIN, 63), ALL);
    check_eq!(rr!("sra", MIN, 4), 0xf800_0000_0000_0000);
    check_eq!(rr!("sra", MIN, 64 + 4), 0xf800_0000_0000_0000);
    check_eq!(rr!("sra", MAX, 62), 1);

    // Immediates are 12-bit, sign-extended.
    check_eq!(ri!("addi", 5, "-7"), 0xffff_ffff_ffff_fffe);
    check_eq!(ri!("addi", 1, "2047"), 2048);
    check_eq!(ri!("addi", 0, "-2048"), 0xffff_ffff_ffff_f800);
    check_eq!(ri!("slti", ALL, "0"), 1);
    check_eq!(ri!("slti", 0, "-1"), 0);
    check_eq!(ri!("sltiu", 0, "-1"), 1); // -1 extends to 2^64-1 before the unsigned compare
    check_eq!(ri!("sltiu", 5, "1"), 0);
    check_eq!(ri!("sltiu", 0, "1"), 1);
    check_eq!(ri!("andi", 0x1234, "-16"), 0x1230);
    check_eq!(ri!("ori", 0, "-1"), ALL);
    check_eq!(ri!("ori", 0x100, "0x0ff"), 0x1ff);
    check_eq!(ri!("xori", 0x0f, "-1"), 0xffff_ffff_ffff_fff0);
    check_eq!(ri!("slli", 1, "63"), MIN);
    check_eq!(ri!("slli", 0x8000_0001, "33"), 0x0000_0002_0000_0000);
    check_eq!(ri!("srli", ALL, "60"), 0xf);
    check_eq!(ri!("srai", MIN, "60"), 0xffff_ffff_ffff_fff8);
    check_eq!(ri!("srai", 0x4000_0000_0000_0000u64, "62"), 1);

    // W forms: operate on the low 32 bits, sign-extend the 32-bit result.
    check_eq!(rr!("addw", 0x7fff_ffff, 1), 0xffff_ffff_8000_0000);
    check_eq!(rr!("addw", 0xffff_ffff_0000_0001u64, 0x1_0000_0001u64), 2);
    check_eq!(rr!("subw", 0, 1), ALL);
    check_eq!(rr!("subw", 0x8000_0000, 1), 0x7fff_ffff);
    check_eq!(ri!("addiw", 0x7fff_ffff, "1"), 0xffff_ffff_8000_0000);
    check_eq!(ri!("addiw", 0x1_8000_0000u64, "0"), 0xffff_ffff_8000_0000); // sext.w
    check_eq!(ri!("addiw", 0xffff_ffff_ffff_ffffu64, "2"), 1);
    check_eq!(rr!("sllw", 1, 31), 0xffff_ffff_8000_0000);
    check_eq!(rr!("sllw", 1, 32 + 1), 2);
    check_eq!(rr!("srlw", 0xffff_ffff_8000_0000u64, 31), 1);
    check_eq!(rr!("srlw", 0x8000_0000, 0), 0xffff_ffff_8000_0000);
    check_eq!(rr!("srlw", 0xffff_ffff_ffff_ffffu64, 4), 0x0fff_ffff);
    check_eq!(rr!("sraw", 0x8000_0000, 4), 0xffff_ffff_f800_0000);
    check_eq!(rr!("sraw", 0x1_7fff_ffffu64, 32 + 30), 1);
    check_eq!(ri!("slliw", 1, "31"), 0xffff_ffff_8000_0000);
    check_eq!(ri!("slliw", 0xffff_ffff_0000_0003u64, "1"), 6);
    check_eq!(ri!("srliw", ALL, "28"), 0xf);
    check_eq!(ri!("srliw", 0x8000_0000, "0"), 0xffff_ffff_8000_0000);
    check_eq!(ri!("sraiw", 0x8000_0000, "31"), ALL);
    check_eq!(ri!("sraiw", 0x1_7fff_ffffu64, "0"), 0x7fff_ffff);

    // lui: imm << 12, sign-extended from bit 31.
    check_eq!(lui_12345(), 0x1234_5000);
    check_eq!(lui_80000(), 0xffff_ffff_8000_0000);
    check_eq!(lui_fffff(), 0xffff_ffff_ffff_f000);
    // auipc: pc of the auipc plus imm << 12 (sign-extended).
    let (pc, got0, got1, got_neg) = auipc();
    check_eq!(got0, pc);
    check_eq!(got1, pc + 0x1000 + 4);
    check_eq!(got_neg, (pc + 8).wrapping_sub(0x8000_0000));
    // x0 ignores writes.
    let z: u64;
    // SAFETY: register-only.
    unsafe { core::arch::asm!("addi x0, x0, 5", "lui x0, 1", "mv {0}, x0", out(reg) z) };
    check_eq!(z, 0);
    // rd may equal a source.
    let mut v = 9u64;
    // SAFETY: register-only.
    unsafe { core::arch::asm!("add {0}, {0}, {0}", inout(reg) v) };
    check_eq!(v, 18);
}

fn lui_12345() -> u64 {
    let d: u64;
    // SAFETY: register-only.
    unsafe { core::arch::asm!("lui {0}, 0x12345", out(reg) d) };
    d
}

fn lui_80000() -> u64 {
    let d: u64;
    // SAFETY: register-only.
    unsafe { core::arch::asm!("lui {0}, 0x80000", out(reg) d) };
    d
}

fn lui_fffff() -> u64 {
    let d: u64;
    // SAFETY: register-only.
    unsafe { core::arch::asm!("lui {0}, 0xfffff", out(reg) d) };
    d
}

/// Three auipc in a row and the address of the first, taken by `la` of a label on it.
fn auipc() -> (u64, u64, u64, u64) {
    let (pc, a, b, c): (u64, u64, u64, u64);
    // SAFETY: register-only. norvc keeps every instruction 4 bytes, so the offsets hold.
    unsafe {
        core::arch::asm!(
            ".option push",
            ".option norvc",
            "1: auipc {a}, 0",
            "auipc {b}, 1",
            "auipc {c}, 0x80000",
            ".option pop",
            "la {pc}, 1b",
            pc = out(reg) pc, a = out(reg) a, b = out(reg) b, c = out(reg) c,
        )
    };
    (pc, a, b, c)
}
