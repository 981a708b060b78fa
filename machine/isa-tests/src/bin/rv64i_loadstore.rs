//! RV64I loads and stores of every width: lb/lbu/lh/lhu/lw/lwu/ld sign- or zero-extend as
//! their names say, sb/sh/sw/sd write only their low 1/2/4/8 bytes, offsets are 12-bit signed.
//! Memory is little-endian. fence (a no-op for one hart) is executed for completeness.
//!
//! The data words are chosen so every byte differs and the interesting lanes have their top
//! bit set: w0 = 0xf1e2d3c4b5a69788 is bytes 88 97 a6 b5 c4 d3 e2 f1 in memory order,
//! w1 = 0x0123456789abcdef is bytes ef cd ab 89 67 45 23 01.
#![no_std]
#![no_main]

use isa::check_eq;

isa::entry!(main);

#[repr(C, align(16))]
struct Buf([u64; 4]);

macro_rules! load {
    ($op:literal, $base:expr, $off:literal) => {{
        let d: u64;
        // SAFETY: $base points into a live buffer and the offset stays inside it.
        unsafe {
            core::arch::asm!(concat!($op, " {d}, ", $off, "({b})"), d = out(reg) d,
                b = in(reg) $base, options(nostack, readonly))
        };
        d
    }};
}

macro_rules! store {
    ($op:literal, $val:expr, $base:expr, $off:literal) => {{
        // SAFETY: as load!.
        unsafe {
            core::arch::asm!(concat!($op, " {v}, ", $off, "({b})"), v = in(reg) ($val) as u64,
                b = in(reg) $base, options(nostack))
        };
    }};
}

fn main() {
    let mut buf = Buf([0xf1e2_d3c4_b5a6_9788, 0x0123_4567_89ab_cdef, 0, 0]);
    let b = buf.0.as_mut_ptr() as u64;

    check_eq!(load!("lb", b, "0"), 0xffff_ffff_ffff_ff88);
    check_eq!(load!("lbu", b, "0"), 0x88);
    check_eq!(load!("lb", b, "1"), 0xffff_ffff_ffff_ff97);
    check_eq!(load!("lb", b, "15"), 0x01);
    check_eq!(load!("lbu", b, "15"), 0x01);
    check_eq!(load!("lh", b, "0"), 0xffff_ffff_ffff_9788);
    check_eq!(load!("lhu", b, "0"), 0x9788);
    check_eq!(load!("lh", b, "2"), 0xffff_ffff_ffff_b5a6);
    check_eq!(load!("lh", b, "14"), 0x0123);
    check_eq!(load!("lhu", b, "6"), 0xf1e2);
    check_eq!(load!("lw", b, "0"), 0xffff_ffff_b5a6_9788);
    check_eq!(load!("lwu", b, "0"), 0xb5a6_9788);
    check_eq!(load!("lw", b, "4"), 0xffff_ffff_f1e2_d3c4);
    check_eq!(load!("lw", b, "12"), 0x0123_4567);
    check_eq!(load!("lwu", b, "12"), 0x0123_4567);
    check_eq!(load!("ld", b, "0"), 0xf1e2_d3c4_b5a6_9788);
    check_eq!(load!("ld", b, "8"), 0x0123_4567_89ab_cdef);
    // Negative offsets from a base inside the buffer.
    let mid = b + 8;
    check_eq!(load!("lb", mid, "-1"), 0xffff_ffff_ffff_fff1);
    check_eq!(load!("lhu", mid, "-2"), 0xf1e2);
    check_eq!(load!("ld", mid, "-8"), 0xf1e2_d3c4_b5a6_9788);
    // Large offsets reach across the buffer.
    check_eq!(load!("ld", b - 2039, "2047"), 0x0123_4567_89ab_cdef);
    check_eq!(load!("lbu", b + 2063, "-2048"), 0x01);

    // Stores write only their width; the neighbours keep their bytes.
    buf.0[2] = u64::MAX;
    store!("sb", 0x1234_5600u64, b, "17");
    check_eq!(load!("ld", b, "16"), 0xffff_ffff_ffff_00ff);
    buf.0[2] = 0;
    store!("sb", 0xab, b, "19");
    check_eq!(load!("ld", b, "16"), 0x0000_0000_ab00_0000);
    buf.0[2] = 0;
    store!("sh", 0x1234_5678_9abc_def0u64, b, "18");
    check_eq!(load!("ld", b, "16"), 0x0000_0000_def0_0000);
    buf.0[2] = u64::MAX;
    store!("sh", 0, b, "22");
    check_eq!(load!("ld", b, "16"), 0x0000_ffff_ffff_ffff);
    buf.0[2] = 0;
    store!("sw", 0x1111_2222_cafe_babeu64, b, "20");
    check_eq!(load!("ld", b, "16"), 0xcafe_babe_0000_0000);
    store!("sd", 0x0102_0304_0506_0708u64, b, "24");
    check_eq!(load!("ld", b, "24"), 0x0102_0304_0506_0708);
    check_eq!(load!("lbu", b, "24"), 0x08); // little-endian: low byte first
    check_eq!(load!("lbu", b, "31"), 0x01);
    check_eq!(load!("ld", b, "16"), 0xcafe_babe_0000_0000); // sd left its neighbour alone
    store!("sd", 0x5a5a, mid, "-8");
    check_eq!(buf.0[0], 0x5a5a);

    // A load into x0 is performed but discarded; fences execute.
    // SAFETY: reads the buffer.
    unsafe {
        core::arch::asm!("ld x0, 0({b})", "fence", "fence rw, rw", "fence.tso", b = in(reg) b)
    };
    check_eq!(buf.0[1], 0x0123_4567_89ab_cdef);
}
