//! RV64I control transfer: every conditional branch taken and not taken (signed and unsigned
//! orders disagree on operands with the top bit set), a backward branch loop, jal (rd = pc+4,
//! the skipped instruction never runs), jalr (target = (rs1 + imm) & !1, rd = pc+4, rd equal to
//! rs1 uses the old rs1) and a call/return pair through ra.
#![no_std]
#![no_main]

use isa::check_eq;

isa::entry!(main);

/// 1 if `op a, b, target` is taken, else 0.
macro_rules! taken {
    ($op:literal, $a:expr, $b:expr) => {{
        let d: u64;
        // SAFETY: register-only; both paths meet at 1:.
        unsafe {
            core::arch::asm!("li {d}, 1", concat!($op, " {a}, {b}, 1f"), "li {d}, 0", "1:",
                d = out(reg) d, a = in(reg) ($a) as u64, b = in(reg) ($b) as u64)
        };
        d
    }};
}

const NEG: u64 = u64::MAX; // -1

fn main() {
    check_eq!(taken!("beq", 3, 3), 1);
    check_eq!(taken!("beq", 3, 4), 0);
    check_eq!(taken!("bne", 3, 4), 1);
    check_eq!(taken!("bne", 3, 3), 0);
    check_eq!(taken!("blt", NEG, 1), 1);
    check_eq!(taken!("blt", 1, NEG), 0);
    check_eq!(taken!("blt", 1, 1), 0);
    check_eq!(taken!("bge", 1, 1), 1);
    check_eq!(taken!("bge", NEG, 1), 0);
    check_eq!(taken!("bge", 1, NEG), 1);
    check_eq!(taken!("bltu", NEG, 1), 0);
    check_eq!(taken!("bltu", 1, NEG), 1);
    check_eq!(taken!("bltu", 2, 2), 0);
    check_eq!(taken!("bgeu", NEG, 1), 1);
    check_eq!(taken!("bgeu", 1, NEG), 0);
    check_eq!(taken!("bgeu", 3, 3), 1);
    // Pseudo-instructions with x0 operands.
    check_eq!(taken!("bgt", 2, 1), 1);
    check_eq!(taken!("bleu", 2, 1), 0);

    // Backward branch: sum 10 + 9 + ... + 1.
    let sum: u64;
    // SAFETY: register-only loop.
    unsafe {
        core::arch::asm!("li {s}, 0", "li {i}, 10", "1: add {s}, {s}, {i}", "addi {i}, {i}, -1",
            "bnez {i}, 1b", s = out(reg) sum, i = out(reg) _)
    };
    check_eq!(sum, 55);

    // jal: link is the address after the jal, the instruction after it is skipped.
    let (link, after, marker): (u64, u64, u64);
    // SAFETY: register-only; control rejoins at 2:.
    unsafe {
        core::arch::asm!(
            ".option push", ".option norvc",
            "li {m}, 0",
            "jal {l}, 2f",
            "1: li {m}, 99",
            "2: la {a}, 1b",
            ".option pop",
            l = out(reg) link, a = out(reg) after, m = out(reg) marker)
    };
    check_eq!(link, after);
    check_eq!(marker, 0);

    // jalr clears bit 0 of the target; imm is added first.
    let (link, after, target): (u64, u64, u64);
    // SAFETY: register-only; control rejoins at 2:.
    unsafe {
        core::arch::asm!(
            ".option push", ".option norvc",
            "la {t}, 2f",
            "addi {t}, {t}, -7",   // 2f - 7: jalr adds 8 and clears bit 0 -> 2f
            "jalr {l}, 8({t})",
            "1: j 3f",
            "2: la {a}, 1b",
            "la {t}, 2b",
            "3:",
            ".option pop",
            l = out(reg) link, a = out(reg) after, t = out(reg) target)
    };
    check_eq!(link, after);
    check_eq!(target, after + 4); // the path through 2: ran

    // jalr with rd == rs1: the target comes from the old value.
    let (r, after): (u64, u64);
    // SAFETY: register-only.
    unsafe {
        core::arch::asm!(
            ".option push", ".option norvc",
            "la {r}, 2f",
            "jalr {r}, 0({r})",
            "1: nop",
            "2: la {a}, 1b",
            ".option pop",
            r = out(reg) r, a = out(reg) after)
    };
    check_eq!(r, after);

    // call / ret through ra to a real function.
    check_eq!(twice(21), 42);
    check_eq!(core::hint::black_box(twice as fn(u64) -> u64)(50), 100);
}

#[inline(never)]
fn twice(x: u64) -> u64 {
    x * 2
}
