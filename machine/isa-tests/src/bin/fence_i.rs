//! Zifencei: self-modifying code. Write instructions into a RAM buffer, `fence.i`, call the
//! buffer and see the new instructions run; overwrite them, `fence.i` again, and see the
//! second version run (an emulator with a decode cache must drop the stale entries).
//!
//! Encodings (RV64I, by hand): `addi a0, x0, imm` = imm << 20 | 0x513; `ret` = `jalr x0,
//! 0(ra)` = 0x00008067; c.li a0, 5 = 0x4515; c.jr ra = 0x8082.
#![no_std]
#![no_main]

use isa::check_eq;

isa::entry!(main);

#[repr(C, align(64))]
struct Code([u32; 16]);

static mut CODE: Code = Code([0; 16]);

const fn li_a0(imm: u32) -> u32 {
    (imm << 20) | 0x513
}
const RET: u32 = 0x0000_8067;

fn write(i: usize, w: u32) {
    // SAFETY: CODE is ours; writes are volatile so none is elided.
    unsafe { (&raw mut CODE.0[i]).write_volatile(w) }
}

fn call() -> u64 {
    // SAFETY: CODE holds a complete function ending in ret, made visible by fence.i.
    let f: extern "C" fn() -> u64 = unsafe { core::mem::transmute(&raw const CODE.0) };
    f()
}

fn fence_i() {
    // SAFETY: a fence.
    unsafe { core::arch::asm!("fence.i") };
}

fn main() {
    write(0, li_a0(42));
    write(1, RET);
    fence_i();
    check_eq!(call(), 42);
    write(0, li_a0(99));
    fence_i();
    check_eq!(call(), 99);
    // Change the second instruction only: now two adds before ret.
    write(1, 0x0015_0513); // addi a0, a0, 1
    write(2, RET);
    fence_i();
    check_eq!(call(), 100);
    // Compressed code in the same buffer: c.li a0, 5; c.jr ra.
    write(0, 0x8082_4515);
    fence_i();
    check_eq!(call(), 5);
    // Run a version many times (so a cache has it hot), then replace it.
    write(0, li_a0(7));
    write(1, RET);
    fence_i();
    let mut s = 0;
    for _ in 0..100 {
        s += call();
    }
    check_eq!(s, 700);
    write(0, li_a0(8));
    fence_i();
    check_eq!(call(), 8);
}
