//! Entry point, trap vectors and the switch into and out of S/U mode, in assembly.
//!
//! `_start` (section `.text.init`, linked at 0x8000_0000): hart 0 takes the M stack, points
//! `mtvec` at `m_trap_entry` and `mscratch` at the M trap stack, zeroes `.bss` and calls
//! [`rust_start`]; every other hart parks in a `wfi` loop (our machine has 3 harts, QEMU 1).
//!
//! Trap entries (`m_trap_entry`, `s_trap_entry`, both in direct mode so 4-byte aligned):
//! `xscratch` always holds the top of that level's trap stack while no trap is being handled.
//! The entry swaps it with `sp`, saves x1..x31 and the trap pc in a [`TrapFrame`](crate::trap::TrapFrame)
//! on that stack, calls the Rust handler with the frame, then restores every register from the
//! frame (so a handler may change registers or the return pc), puts the stack top back in
//! `xscratch` and returns with `mret`/`sret`.
//!
//! `lower_enter(mode, pc, a0, a1, sp)` saves the callee-saved registers on the M stack, notes
//! that stack in `lower_m_sp` and `mret`s to `pc` in `mode` with the given a0, a1 and sp. The M
//! handler ends such a run by returning to `lower_return` in M-mode, which reloads `lower_m_sp`
//! and returns from `lower_enter` as from a normal call. `lower_trampoline` is the S/U-mode
//! side for Rust functions: it calls `a0(a1)` and makes an `ecall` with the result in a0.
use core::arch::global_asm;

global_asm!(
    r#"
    .macro SAVE_GPRS
    sd x1, 8(sp)
    sd x3, 24(sp)
    sd x4, 32(sp)
    sd x5, 40(sp)
    sd x6, 48(sp)
    sd x7, 56(sp)
    sd x8, 64(sp)
    sd x9, 72(sp)
    sd x10, 80(sp)
    sd x11, 88(sp)
    sd x12, 96(sp)
    sd x13, 104(sp)
    sd x14, 112(sp)
    sd x15, 120(sp)
    sd x16, 128(sp)
    sd x17, 136(sp)
    sd x18, 144(sp)
    sd x19, 152(sp)
    sd x20, 160(sp)
    sd x21, 168(sp)
    sd x22, 176(sp)
    sd x23, 184(sp)
    sd x24, 192(sp)
    sd x25, 200(sp)
    sd x26, 208(sp)
    sd x27, 216(sp)
    sd x28, 224(sp)
    sd x29, 232(sp)
    sd x30, 240(sp)
    sd x31, 248(sp)
    .endm

    .macro LOAD_GPRS_BUT_SP
    ld x1, 8(sp)
    ld x3, 24(sp)
    ld x4, 32(sp)
    ld x5, 40(sp)
    ld x6, 48(sp)
    ld x7, 56(sp)
    ld x8, 64(sp)
    ld x9, 72(sp)
    ld x10, 80(sp)
    ld x11, 88(sp)
    ld x12, 96(sp)
    ld x13, 104(sp)
    ld x14, 112(sp)
    ld x15, 120(sp)
    ld x16, 128(sp)
    ld x17, 136(sp)
    ld x18, 144(sp)
    ld x19, 152(sp)
    ld x20, 160(sp)
    ld x21, 168(sp)
    ld x22, 176(sp)
    ld x23, 184(sp)
    ld x24, 192(sp)
    ld x25, 200(sp)
    ld x26, 208(sp)
    ld x27, 216(sp)
    ld x28, 224(sp)
    ld x29, 232(sp)
    ld x30, 240(sp)
    ld x31, 248(sp)
    .endm

    .section .text.init, "ax"
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, 3f
    la sp, _stack_top
    la t0, m_trap_entry
    csrw mtvec, t0
    la t0, _mtrap_stack_top
    csrw mscratch, t0
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  call {rust_start}
3:  wfi
    j 3b

    .section .text.trap, "ax"
    .balign 4
    .globl m_trap_entry
m_trap_entry:
    csrrw sp, mscratch, sp
    addi sp, sp, -272
    SAVE_GPRS
    csrr t0, mscratch
    sd t0, 16(sp)
    csrr t0, mepc
    sd t0, 256(sp)
    mv a0, sp
    call {m_trap}
    ld t0, 256(sp)
    csrw mepc, t0
    addi t0, sp, 272
    csrw mscratch, t0
    LOAD_GPRS_BUT_SP
    ld sp, 16(sp)
    mret

    .balign 4
    .globl s_trap_entry
s_trap_entry:
    csrrw sp, sscratch, sp
    addi sp, sp, -272
    SAVE_GPRS
    csrr t0, sscratch
    sd t0, 16(sp)
    csrr t0, sepc
    sd t0, 256(sp)
    mv a0, sp
    call {s_trap}
    ld t0, 256(sp)
    csrw sepc, t0
    addi t0, sp, 272
    csrw sscratch, t0
    LOAD_GPRS_BUT_SP
    ld sp, 16(sp)
    sret

    .globl lower_enter
lower_enter:
    addi sp, sp, -112
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    sd s2, 24(sp)
    sd s3, 32(sp)
    sd s4, 40(sp)
    sd s5, 48(sp)
    sd s6, 56(sp)
    sd s7, 64(sp)
    sd s8, 72(sp)
    sd s9, 80(sp)
    sd s10, 88(sp)
    sd s11, 96(sp)
    la t0, lower_m_sp
    sd sp, 0(t0)
    li t0, 0x1800
    csrc mstatus, t0
    slli t1, a0, 11
    csrs mstatus, t1
    csrw mepc, a1
    mv a0, a2
    mv a1, a3
    mv sp, a4
    mret

    .globl lower_return
lower_return:
    la t0, lower_m_sp
    ld sp, 0(t0)
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    ld s2, 24(sp)
    ld s3, 32(sp)
    ld s4, 40(sp)
    ld s5, 48(sp)
    ld s6, 56(sp)
    ld s7, 64(sp)
    ld s8, 72(sp)
    ld s9, 80(sp)
    ld s10, 88(sp)
    ld s11, 96(sp)
    addi sp, sp, 112
    ret

    .globl lower_trampoline
lower_trampoline:
    mv t0, a0
    mv a0, a1
    jalr t0
    ecall
4:  j 4b

    .section .data.lower_m_sp, "aw"
    .balign 8
lower_m_sp:
    .dword 0
"#,
    rust_start = sym rust_start,
    m_trap = sym crate::trap::m_trap,
    s_trap = sym crate::trap::s_trap,
);

unsafe extern "C" {
    fn test_main();
    pub(crate) fn lower_enter(mode: u64, pc: u64, a0: u64, a1: u64, sp: u64);
    pub(crate) fn lower_return();
    pub(crate) fn lower_trampoline();
    pub(crate) fn s_trap_entry();
    pub(crate) static _strap_stack_top: u8;
    pub(crate) static _lower_stack_top: u8;
}

/// Machine setup common to every test, then the test itself.
///
/// - PMP entry 0 covers all of memory with RWX (TOR up to 2^56), because with PMP implemented
///   and no entry matching, S and U accesses fail (privileged spec §3.7.1).
/// - `mcounteren`/`scounteren` let S and U read cycle, time and instret.
/// - `stvec` and `sscratch` are ready for tests that delegate traps to S.
extern "C" fn rust_start() {
    csrw!(pmpaddr0, 0x003f_ffff_ffff_ffff);
    csrw!(pmpcfg0, 0x0f);
    csrw!(mcounteren, 7);
    csrw!(scounteren, 7);
    csrw!(stvec, s_trap_entry as *const () as u64);
    // The address of a linker symbol; nothing is read.
    csrw!(sscratch, &raw const _strap_stack_top as u64);
    // SAFETY: defined by the test binary through `entry!`.
    unsafe { test_main() };
    crate::report_pass();
}
