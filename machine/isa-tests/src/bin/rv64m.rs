//! RV64M: mul, mulh/mulhsu/mulhu (upper 64 bits of the 128-bit product with the operands'
//! signedness), div/divu/rem/remu and the W forms, including the two special cases the ISA
//! manual's table defines instead of trapping: division by zero (quotient all ones, remainder
//! the dividend) and signed overflow (-2^63 / -1 = -2^63, remainder 0; likewise in 32 bits).
#![no_std]
#![no_main]

use isa::{check_eq, rr};

isa::entry!(main);

const MIN: u64 = 0x8000_0000_0000_0000;
const ALL: u64 = u64::MAX; // -1

fn main() {
    check_eq!(rr!("mul", 7, (-3i64) as u64), (-21i64) as u64);
    check_eq!(
        rr!("mul", 0x1_0000_0001u64, 0x1_0000_0001u64),
        0x0000_0002_0000_0001
    ); // mod 2^64
    check_eq!(rr!("mul", MIN, 2), 0);
    // (-1)(-1) = 1: high half 0. (-2^63)^2 = 2^126: high half 2^62. -6: high half all ones.
    check_eq!(rr!("mulh", ALL, ALL), 0);
    check_eq!(rr!("mulh", MIN, MIN), 0x4000_0000_0000_0000);
    check_eq!(rr!("mulh", (-2i64) as u64, 3), ALL);
    check_eq!(rr!("mulh", 0x1_0000_0000u64, 0x1_0000_0000u64), 1);
    // (2^64-1)^2 = 2^128 - 2^65 + 1: high half 2^64 - 2.
    check_eq!(rr!("mulhu", ALL, ALL), 0xffff_ffff_ffff_fffe);
    check_eq!(rr!("mulhu", MIN, 4), 2);
    // mulhsu: rs1 signed, rs2 unsigned. -1 * (2^64-1) = -(2^64) + 1: high half all ones.
    check_eq!(rr!("mulhsu", ALL, ALL), ALL);
    check_eq!(rr!("mulhsu", 2, ALL), 1); // 2 * (2^64-1) = 2^65 - 2
    check_eq!(rr!("mulhsu", (-2i64) as u64, 3), ALL);
    check_eq!(rr!("mulhsu", MIN, MIN), 0xc000_0000_0000_0000); // -2^63 * 2^63 = -2^126

    // Division truncates toward zero; the remainder takes the dividend's sign.
    check_eq!(rr!("div", (-7i64) as u64, 2), (-3i64) as u64);
    check_eq!(rr!("rem", (-7i64) as u64, 2), ALL);
    check_eq!(rr!("div", 7, (-2i64) as u64), (-3i64) as u64);
    check_eq!(rr!("rem", 7, (-2i64) as u64), 1);
    check_eq!(rr!("divu", ALL, 2), 0x7fff_ffff_ffff_ffff);
    check_eq!(rr!("remu", ALL, 2), 1);
    check_eq!(rr!("divu", (-7i64) as u64, 2), 0x7fff_ffff_ffff_fffc);
    // By zero.
    check_eq!(rr!("div", 42, 0), ALL);
    check_eq!(rr!("divu", 42, 0), ALL);
    check_eq!(rr!("rem", (-42i64) as u64, 0), (-42i64) as u64);
    check_eq!(rr!("remu", 42, 0), 42);
    // Overflow.
    check_eq!(rr!("div", MIN, ALL), MIN);
    check_eq!(rr!("rem", MIN, ALL), 0);

    // W forms: low 32 bits in, 32-bit result sign-extended (also for the unsigned ones).
    check_eq!(rr!("mulw", 0x7fff_ffff, 2), 0xffff_ffff_ffff_fffe);
    check_eq!(rr!("mulw", 0x1_0000_0003u64, 5), 15);
    check_eq!(rr!("mulw", 0x10000, 0x10000), 0); // 2^32 truncated
    check_eq!(rr!("divw", 0xffff_fff9, 2), (-3i64) as u64); // -7 / 2
    check_eq!(rr!("divw", 0xffff_ffff_0000_0010u64, 0x1_0000_0004u64), 4);
    check_eq!(rr!("divuw", 0xffff_ffff, 2), 0x7fff_ffff);
    check_eq!(rr!("divuw", 0x8000_0000, 1), 0xffff_ffff_8000_0000);
    check_eq!(rr!("remw", 0xffff_fff9, 2), ALL);
    check_eq!(rr!("remuw", 0xffff_ffff, 0x10), 0xf);
    check_eq!(
        rr!("remuw", 0x1_8000_0003u64, 0x1_0000_0000u64 + 0x8000_0000),
        3
    );
    check_eq!(rr!("divw", 5, 0), ALL);
    check_eq!(rr!("divuw", 5, 0), ALL);
    check_eq!(rr!("remw", 0x1_8000_0001u64, 0), 0xffff_ffff_8000_0001);
    check_eq!(rr!("remuw", 0x1_8000_0001u64, 0), 0xffff_ffff_8000_0001);
    check_eq!(rr!("divw", 0x8000_0000, ALL), 0xffff_ffff_8000_0000);
    check_eq!(rr!("remw", 0x8000_0000, ALL), 0);
}
