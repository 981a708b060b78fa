#![no_std]
#![no_main]
use isa::report::{put_hex, puts};
use isa::trap::*;
isa::entry!(main);
fn show(name: &str, t: Trap) { puts(name); puts(" cause "); put_hex(t.cause); puts(" tval "); put_hex(t.tval); puts(" epc "); put_hex(t.epc); puts("\n"); }
fn main() {
    puts("misa "); put_hex(isa::csrr!(misa)); puts("\n");
    puts("mstatus "); put_hex(isa::csrr!(mstatus)); puts("\n");
    let buf = [0x11223344_55667788u64, 0x99aabbcc_ddeeff00];
    let p = buf.as_ptr() as u64 + 1;
    let c0 = M_TRAPS.count();
    let v: u64;
    unsafe { core::arch::asm!("ld {0}, 0({1})", out(reg) v, in(reg) p) };
    puts("misaligned ld -> "); put_hex(v); puts(" traps "); put_hex(M_TRAPS.count() - c0); puts("\n");
    arm_m_expect();
    unsafe { core::arch::asm!("lr.d {0}, ({1})", out(reg) _, in(reg) p) };
    show("lr.d mis", M_TRAPS.last());
    arm_m_expect();
    unsafe { core::arch::asm!("amoadd.d {0}, {0}, ({1})", out(reg) _, in(reg) p) };
    show("amoadd mis", M_TRAPS.last());
    show("ebreak", expect_trap(|| unsafe { core::arch::asm!(".option push; .option norvc; ebreak; .option pop") }));
    show("c.ebreak", expect_trap(|| unsafe { core::arch::asm!("c.ebreak") }));
    show("ill32", expect_trap(|| unsafe { core::arch::asm!(".word 0xdead000b") }));
    show("ill16", expect_trap(|| unsafe { core::arch::asm!(".half 0") }));
    show("csrw cycle", expect_trap(|| unsafe { core::arch::asm!("csrw cycle, x0") }));
    show("ecall", expect_trap(|| unsafe { core::arch::asm!("ecall") }));
    show("ld bad", expect_trap(|| unsafe { core::arch::asm!("ld x0, 0({0})", in(reg) 0x8800_0000u64) }));
    show("ld 0x20000", expect_trap(|| unsafe { core::arch::asm!("ld x0, 0({0})", in(reg) 0x2_0000u64) }));
    show("sd bad", expect_trap(|| unsafe { core::arch::asm!("sd x0, 0({0})", in(reg) 0x8800_0000u64) }));
    show("fetch bad", expect_trap_ret_ra(|| unsafe { core::arch::asm!("jalr ra, 0({0})", in(reg) 0x8800_0000u64, out("ra") _) }));
    puts("menvcfg "); put_hex(isa::csrr!(0x30a)); puts("\n");
    isa::csrw!(0x30a, 1<<63);
    puts("menvcfg "); put_hex(isa::csrr!(0x30a)); puts("\n");
    puts("stimecmp "); put_hex(isa::csrr!(0x14d)); puts("\n");
    puts("mip "); put_hex(isa::csrr!(mip)); puts("\n");
    puts("time "); put_hex(isa::csrr!(time)); puts(" instret "); put_hex(isa::csrr!(instret)); puts(" cycle "); put_hex(isa::csrr!(cycle));puts("\n");
    puts("mtimecmp "); put_hex(isa::clint::mtimecmp(0)); puts("\n");
}
