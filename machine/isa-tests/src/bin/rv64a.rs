//! RV64A: lr/sc pairs that succeed (rd = 0, memory written) and fail (rd != 0, memory
//! untouched: no reservation, or a reservation on another address), lr.w sign-extension, and
//! every AMO in .w and .d form: rd gets the old value (sign-extended for .w), memory gets
//! op(old, rs2), with min/max comparing signed or unsigned and .w using only rs2[31:0].
//! A .w AMO leaves the other half of the doubleword alone. Ordering bits (.aq/.rl) assemble
//! and execute.
#![no_std]
#![no_main]

use isa::check_eq;

isa::entry!(main);

#[repr(C, align(4096))]
struct Mem([u64; 64]);

static mut MEM: Mem = Mem([0; 64]);

fn word(i: usize) -> *mut u64 {
    // SAFETY: address computation inside MEM.
    unsafe { &raw mut MEM.0[i] }
}

fn get(i: usize) -> u64 {
    // SAFETY: MEM is only used by this hart.
    unsafe { word(i).read_volatile() }
}

fn set(i: usize, v: u64) {
    // SAFETY: as get.
    unsafe { word(i).write_volatile(v) }
}

/// `op rd, rs2, (addr)`: returns rd.
macro_rules! amo {
    ($op:literal, $addr:expr, $v:expr) => {{
        let d: u64;
        // SAFETY: $addr is an aligned word of MEM.
        unsafe {
            core::arch::asm!(concat!($op, " {d}, {v}, ({a})"), d = out(reg) d,
                v = in(reg) ($v) as u64, a = in(reg) $addr, options(nostack))
        };
        d
    }};
}

macro_rules! lr {
    ($op:literal, $addr:expr) => {{
        let d: u64;
        // SAFETY: as amo!.
        unsafe { core::arch::asm!(concat!($op, " {d}, ({a})"), d = out(reg) d, a = in(reg) $addr) };
        d
    }};
}

fn main() {
    let a = word(0);
    // lr.d / sc.d succeed.
    set(0, 5);
    check_eq!(lr!("lr.d", a), 5);
    check_eq!(amo!("sc.d", a, 7), 0);
    check_eq!(get(0), 7);
    // A second sc without a new lr fails and does not write.
    check_eq!(amo!("sc.d", a, 9) != 0, 1);
    check_eq!(get(0), 7);
    // lr.w sign-extends; sc.w writes only 4 bytes.
    set(1, 0x1111_1111_8000_0001);
    check_eq!(lr!("lr.w", word(1)), 0xffff_ffff_8000_0001);
    check_eq!(amo!("sc.w", word(1), 0xffff_ffff_0000_0002u64), 0);
    check_eq!(get(1), 0x1111_1111_0000_0002);
    // sc to an address other than the reserved one (a different 256-byte block) fails.
    set(40, 1);
    check_eq!(lr!("lr.d", a), 7);
    check_eq!(amo!("sc.d", word(40), 3) != 0, 1);
    check_eq!(get(40), 1);
    // With ordering bits.
    check_eq!(lr!("lr.d.aqrl", a), 7);
    check_eq!(amo!("sc.d.rl", a, 8), 0);
    check_eq!(get(0), 8);

    // AMO .w on the low word of word 2; the high word must stay 0x5a5a5a5a.
    let w = word(2);
    let hi = 0x5a5a_5a5a_0000_0000u64;
    set(2, hi | 0x8000_0000);
    check_eq!(amo!("amoswap.w", w, 1), 0xffff_ffff_8000_0000);
    check_eq!(get(2), hi | 1);
    set(2, hi | 0xffff_ffff);
    check_eq!(amo!("amoadd.w", w, 1), u64::MAX);
    check_eq!(get(2), hi); // carry does not reach the high word
    set(2, hi | 0xf0f0_f0f0);
    check_eq!(amo!("amoxor.w", w, 0xff00_ff00u64), 0xffff_ffff_f0f0_f0f0);
    check_eq!(get(2), hi | 0x0ff0_0ff0);
    set(2, hi | 0xf0f0_f0f0);
    check_eq!(amo!("amoand.w", w, 0xff00_ff00u64), 0xffff_ffff_f0f0_f0f0);
    check_eq!(get(2), hi | 0xf000_f000);
    set(2, hi | 0xf0f0_f0f0);
    check_eq!(
        amo!("amoor.w.aqrl", w, 0xff00_ff00u64),
        0xffff_ffff_f0f0_f0f0
    );
    check_eq!(get(2), hi | 0xfff0_fff0);
    // min/max: memory holds -5 (0xfffffffb); rs2 = 3, with junk above bit 31 that .w ignores.
    let three = 0xffff_ffff_0000_0003u64;
    set(2, hi | 0xffff_fffb);
    check_eq!(amo!("amomin.w", w, three), 0xffff_ffff_ffff_fffb);
    check_eq!(get(2), hi | 0xffff_fffb);
    check_eq!(amo!("amominu.w", w, three), 0xffff_ffff_ffff_fffb);
    check_eq!(get(2), hi | 3);
    set(2, hi | 0xffff_fffb);
    check_eq!(amo!("amomax.w", w, three), 0xffff_ffff_ffff_fffb);
    check_eq!(get(2), hi | 3);
    set(2, hi | 0xffff_fffb);
    check_eq!(amo!("amomaxu.w", w, three), 0xffff_ffff_ffff_fffb);
    check_eq!(get(2), hi | 0xffff_fffb);
    // .w on the high half of a doubleword (address + 4).
    set(3, 0x0000_0007_0000_0009);
    check_eq!(amo!("amoadd.w", word(3) as u64 + 4, 1), 7);
    check_eq!(get(3), 0x0000_0008_0000_0009);

    // AMO .d.
    let d = word(4);
    set(4, 0x8000_0000_0000_0000);
    check_eq!(amo!("amoswap.d", d, 1), 0x8000_0000_0000_0000);
    check_eq!(get(4), 1);
    set(4, u64::MAX);
    check_eq!(amo!("amoadd.d", d, 2), u64::MAX);
    check_eq!(get(4), 1);
    set(4, 0xf0f0_f0f0_0000_ffff);
    check_eq!(
        amo!("amoxor.d", d, 0xff00_ff00_ffff_0000u64),
        0xf0f0_f0f0_0000_ffff
    );
    check_eq!(get(4), 0x0ff0_0ff0_ffff_ffff);
    set(4, 0xf0f0_f0f0_0000_ffff);
    check_eq!(
        amo!("amoand.d.aq", d, 0xff00_ff00_ffff_0000u64),
        0xf0f0_f0f0_0000_ffff
    );
    check_eq!(get(4), 0xf000_f000_0000_0000);
    set(4, 0xf0f0_f0f0_0000_ffff);
    check_eq!(
        amo!("amoor.d.rl", d, 0xff00_ff00_ffff_0000u64),
        0xf0f0_f0f0_0000_ffff
    );
    check_eq!(get(4), 0xfff0_fff0_ffff_ffff);
    let m5 = (-5i64) as u64;
    set(4, m5);
    check_eq!(amo!("amomin.d", d, 3), m5);
    check_eq!(get(4), m5);
    check_eq!(amo!("amominu.d", d, 3), m5);
    check_eq!(get(4), 3);
    set(4, m5);
    check_eq!(amo!("amomax.d", d, 3), m5);
    check_eq!(get(4), 3);
    set(4, m5);
    check_eq!(amo!("amomaxu.d", d, 3), m5);
    check_eq!(get(4), m5);
    set(4, 0x8000_0000_0000_0000);
    check_eq!(
        amo!("amomin.d", d, 0x7fff_ffff_ffff_ffffu64),
        0x8000_0000_0000_0000
    );
    check_eq!(get(4), 0x8000_0000_0000_0000);
    check_eq!(
        amo!("amominu.d", d, 0x7fff_ffff_ffff_ffffu64),
        0x8000_0000_0000_0000
    );
    check_eq!(get(4), 0x7fff_ffff_ffff_ffff);
    // rd = x0 still performs the operation.
    // SAFETY: aligned word of MEM.
    unsafe { core::arch::asm!("amoadd.d x0, {v}, ({a})", v = in(reg) 10u64, a = in(reg) d) };
    check_eq!(get(4), 0x8000_0000_0000_0009);
}
