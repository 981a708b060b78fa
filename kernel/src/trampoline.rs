//! The trampoline page: the code that switches between user and kernel address spaces.
//!
//! It is mapped at `TRAMPOLINE` (the top of every address space, user and kernel alike,
//! without PTE_U), so it keeps executing across the `satp` switch. `uservec` is where
//! `stvec` points while a process runs in user mode: it saves the 31 user registers into the
//! trapframe (mapped at `TRAPFRAME` in every user space), loads the kernel stack pointer,
//! hart id, page table and `usertrap` address that `usertrapret` left there, switches to the
//! kernel page table and jumps to `usertrap`. `userret(satp)` does the reverse and `sret`s.
//!
//! Why `global_asm!` rather than naked functions: the whole thing must live in its own
//! section (`trampsec`, placed page-aligned by kernel.ld) and `uservec` must be 4-byte
//! aligned to be a valid `stvec` (its low two bits are the mode); an explicit `.balign` is
//! the only stable way to guarantee that.
//!
//! Offsets are those of `proc::Trapframe`.

use abi::memlayout::TRAPFRAME;

core::arch::global_asm!(
    ".pushsection trampsec, \"ax\"",
    ".balign 4",
    ".globl uservec",
    "uservec:",
    // sscratch keeps user a0 while a0 addresses the trapframe.
    "   csrw sscratch, a0",
    "   li a0, {tf}",
    "   sd ra, 40(a0)",
    "   sd sp, 48(a0)",
    "   sd gp, 56(a0)",
    "   sd tp, 64(a0)",
    "   sd t0, 72(a0)",
    "   sd t1, 80(a0)",
    "   sd t2, 88(a0)",
    "   sd s0, 96(a0)",
    "   sd s1, 104(a0)",
    "   sd a1, 120(a0)",
    "   sd a2, 128(a0)",
    "   sd a3, 136(a0)",
    "   sd a4, 144(a0)",
    "   sd a5, 152(a0)",
    "   sd a6, 160(a0)",
    "   sd a7, 168(a0)",
    "   sd s2, 176(a0)",
    "   sd s3, 184(a0)",
    "   sd s4, 192(a0)",
    "   sd s5, 200(a0)",
    "   sd s6, 208(a0)",
    "   sd s7, 216(a0)",
    "   sd s8, 224(a0)",
    "   sd s9, 232(a0)",
    "   sd s10, 240(a0)",
    "   sd s11, 248(a0)",
    "   sd t3, 256(a0)",
    "   sd t4, 264(a0)",
    "   sd t5, 272(a0)",
    "   sd t6, 280(a0)",
    "   csrr t0, sscratch",
    "   sd t0, 112(a0)",
    // kernel_sp, kernel_hartid, kernel_trap, kernel_satp.
    "   ld sp, 8(a0)",
    "   ld tp, 32(a0)",
    "   ld t0, 16(a0)",
    "   ld t1, 0(a0)",
    // Order user-memory accesses before the switch, and flush stale user translations after.
    "   sfence.vma zero, zero",
    "   csrw satp, t1",
    "   sfence.vma zero, zero",
    // usertrap never returns; a zero return address ends gdb's backtrace there instead of
    // at a frame made from whatever the user left in ra.
    "   li ra, 0",
    "   jr t0",
    // Typed and sized, so that a pc here is named `uservec` and not by the linker's
    // `trampoline` label at the same address.
    ".type uservec, @function",
    ".size uservec, . - uservec",
    "",
    ".globl userret",
    "userret:",
    // a0: the user page table's satp value.
    "   sfence.vma zero, zero",
    "   csrw satp, a0",
    "   sfence.vma zero, zero",
    "   li a0, {tf}",
    "   ld ra, 40(a0)",
    "   ld sp, 48(a0)",
    "   ld gp, 56(a0)",
    "   ld tp, 64(a0)",
    "   ld t0, 72(a0)",
    "   ld t1, 80(a0)",
    "   ld t2, 88(a0)",
    "   ld s0, 96(a0)",
    "   ld s1, 104(a0)",
    "   ld a1, 120(a0)",
    "   ld a2, 128(a0)",
    "   ld a3, 136(a0)",
    "   ld a4, 144(a0)",
    "   ld a5, 152(a0)",
    "   ld a6, 160(a0)",
    "   ld a7, 168(a0)",
    "   ld s2, 176(a0)",
    "   ld s3, 184(a0)",
    "   ld s4, 192(a0)",
    "   ld s5, 200(a0)",
    "   ld s6, 208(a0)",
    "   ld s7, 216(a0)",
    "   ld s8, 224(a0)",
    "   ld s9, 232(a0)",
    "   ld s10, 240(a0)",
    "   ld s11, 248(a0)",
    "   ld t3, 256(a0)",
    "   ld t4, 264(a0)",
    "   ld t5, 272(a0)",
    "   ld t6, 280(a0)",
    "   ld a0, 112(a0)",
    // Return to user mode at sepc, with the sstatus bits usertrapret prepared.
    "   sret",
    ".type userret, @function",
    ".size userret, . - userret",
    ".popsection",
    tf = const TRAPFRAME,
);

unsafe extern "C" {
    /// Entry from user mode (stvec while in user space).
    pub fn uservec();
    /// Return to user mode with the given satp.
    pub fn userret(satp: u64);
}
