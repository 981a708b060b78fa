//! Misaligned accesses, as QEMU (the reference) handles them:
//! - ordinary loads and stores at any address just work, little-endian, also across a 4 KiB
//!   page boundary (the spec lets hardware do this or trap; QEMU does it, so must we);
//! - LR/SC and AMOs must be naturally aligned: lr traps with load address misaligned (4),
//!   AMOs with store/AMO address misaligned (6; QEMU 7.2 reports 4), tval = the address, memory
//!   unchanged; a misaligned sc traps (6) or, as on QEMU 7.2, just fails;
//! - instruction fetch needs only 2-byte alignment with C: a 32-bit instruction at pc = 2 mod
//!   4 runs, also when it straddles a page boundary.
#![no_std]
#![no_main]

use core::arch::asm;
use isa::csr::*;
use isa::trap::{M_TRAPS, arm_m_expect, disarm_m_expect, expect_trap};
use isa::{check, check_eq};

isa::entry!(main);

#[repr(C, align(4096))]
struct Pages([u8; 8192]);

static mut DATA: Pages = Pages([0; 8192]);

macro_rules! load {
    ($op:literal, $a:expr) => {{
        let d: u64;
        // SAFETY: $a points into DATA with room for the access.
        unsafe { asm!(concat!($op, " {d}, 0({a})"), d = out(reg) d, a = in(reg) $a) };
        d
    }};
}

macro_rules! store {
    ($op:literal, $v:expr, $a:expr) => {{
        // SAFETY: as load!.
        unsafe { asm!(concat!($op, " {v}, 0({a})"), v = in(reg) ($v) as u64, a = in(reg) $a) };
    }};
}

fn main() {
    let base = (&raw mut DATA) as u64;
    // Bytes 0x00, 0x11, 0x22, ... 0xff repeating.
    for i in 0..8192u64 {
        // SAFETY: inside DATA.
        unsafe { ((base + i) as *mut u8).write_volatile((i as u8 & 0xf) * 0x11) };
    }
    check_eq!(load!("lh", base + 1), 0x2211);
    check_eq!(load!("lhu", base + 15), 0x00ff);
    check_eq!(load!("lh", base + 15), 0x00ff);
    check_eq!(load!("lh", base + 14), 0xffff_ffff_ffff_ffee);
    check_eq!(load!("lw", base + 3), 0x6655_4433);
    check_eq!(load!("lw", base + 13), 0x00ff_eedd);
    check_eq!(load!("lw", base + 12), 0xffff_ffff_ffee_ddcc);
    check_eq!(load!("lwu", base + 12), 0xffee_ddcc);
    check_eq!(load!("ld", base + 5), 0xccbb_aa99_8877_6655);
    // Across the page boundary at base + 4096.
    check_eq!(load!("ld", base + 4093), 0x4433_2211_00ff_eedd);
    check_eq!(load!("lw", base + 4094), 0x1100_ffee);
    store!("sd", 0x0102_0304_0506_0708u64, base + 4091);
    check_eq!(load!("ld", base + 4088), 0x0405_0607_08aa_9988);
    check_eq!(load!("ld", base + 4096), 0x7766_5544_3301_0203);
    store!("sw", 0xaabb_ccdd_u32, base + 33);
    check_eq!(load!("ld", base + 32), 0x7766_55aa_bbcc_dd00);
    store!("sh", 0xbeef, base + 63);
    check_eq!(load!("lbu", base + 63), 0xef);
    check_eq!(load!("lbu", base + 64), 0xbe);
    check_eq!(load!("lbu", base + 65), 0x11); // untouched neighbour

    // Atomics must be aligned.
    let a = base + 0x100 + 4; // 4-aligned, not 8-aligned
    let t = expect_trap(|| unsafe { asm!("lr.d t6, ({a})", a = in(reg) a, out("t6") _) });
    check_eq!(t.cause, CAUSE_LOAD_MISALIGNED);
    check_eq!(t.tval, a);
    let t = expect_trap(|| unsafe { asm!("lr.w t6, ({a})", a = in(reg) a + 2, out("t6") _) });
    check_eq!(t.cause, CAUSE_LOAD_MISALIGNED);
    check_eq!(t.tval, a + 2);
    let before = load!("ld", a - 4);
    let t = expect_trap(|| unsafe {
        asm!("amoadd.d t6, {v}, ({a})", a = in(reg) a, v = in(reg) 1u64, out("t6") _)
    });
    check_eq!(
        t.cause == CAUSE_STORE_MISALIGNED || t.cause == CAUSE_LOAD_MISALIGNED,
        true
    );
    check_eq!(t.tval, a);
    let t = expect_trap(|| unsafe {
        asm!("amoswap.w t6, {v}, ({a})", a = in(reg) a + 1, v = in(reg) 1u64, out("t6") _)
    });
    check_eq!(
        t.cause == CAUSE_STORE_MISALIGNED || t.cause == CAUSE_LOAD_MISALIGNED,
        true
    );
    check_eq!(t.tval, a + 1);
    check_eq!(load!("ld", a - 4), before);
    // sc.d to a misaligned address (with a reservation held on the aligned word below): the
    // spec raises store/AMO misaligned; QEMU 7.2 fails the sc without an access because the
    // address cannot match the reservation. Either way memory keeps its value.
    let rd: u64;
    arm_m_expect();
    // SAFETY: lr from an aligned word of DATA; the sc either traps (skipped) or fails.
    unsafe {
        asm!("lr.d t6, ({b})", "li t6, 0x5a", "sc.d t6, {v}, ({a})", b = in(reg) a - 4,
            a = in(reg) a, v = in(reg) 1u64, out("t6") rd)
    };
    if disarm_m_expect() {
        check!(rd != 0 && rd != 0x5a);
    } else {
        let t = M_TRAPS.last();
        check_eq!(t.cause, CAUSE_STORE_MISALIGNED);
        check_eq!(t.tval, a);
    }
    check_eq!(load!("ld", a - 4), before);

    // A 32-bit instruction at pc = 2 mod 4.
    let r: u64;
    // SAFETY: register-only.
    unsafe {
        asm!(".balign 4", "c.nop", ".option push", ".option norvc", "addi {r}, x0, 77",
            ".option pop", r = out(reg) r)
    };
    check_eq!(r, 77);
    // A 32-bit instruction straddling a page boundary, executed from DATA: c.nop at 4092,
    // addi a0, x0, 123 (0x07b00513) at 4094..4097, ret at 4098.
    let code = base + 4094;
    // SAFETY: writes code into DATA; fence.i below makes it visible to fetch.
    unsafe {
        ((base + 4092) as *mut u16).write_volatile(0x0001); // c.nop
        (code as *mut u16).write_volatile(0x0513); // addi a0, x0, 123: low half
        ((code + 2) as *mut u16).write_volatile(0x07b0); // high half (123 << 4)
        ((code + 4) as *mut u32).write_unaligned(0x0000_8067); // ret
        asm!("fence.i");
    }
    // SAFETY: the code above is a complete function.
    let f: extern "C" fn() -> u64 = unsafe { core::mem::transmute(base + 4092) };
    check_eq!(f(), 123);
}
