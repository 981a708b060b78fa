//! Machine-mode start: the first code on every hart.
//!
//! QEMU's `-bios none` starts every hart at 0x8000_0000 in M-mode with paging off. `_entry`
//! gives each hart its own boot stack (`stack0`, `STACK0_SIZE` bytes per hart, indexed by
//! `mhartid`) and calls `start`, which configures M-mode state and drops to S-mode at `main`
//! with `mret`:
//! - `mstatus.MPP = S`, `mepc = main`: where `mret` goes;
//! - `satp = 0`: paging off until `kvminithart`;
//! - `medeleg = mideleg = 0xffff`: every exception and interrupt is handled in S-mode;
//! - `sie = SEIE | STIE | SSIE`: S-mode takes external, timer and software interrupts;
//! - PMP entry 0 = TOR over the whole address space with R|W|X: without a PMP entry S-mode
//!   could touch no memory at all;
//! - timer: Sstc (`menvcfg.STCE`) lets S-mode program `stimecmp` itself, and
//!   `mcounteren.TM` lets it read `time`; the first deadline is set here. See trap.rs.
//! - `tp = mhartid`: the kernel's `cpuid()` reads tp, since S-mode cannot read `mhartid`.

use crate::riscv::*;
use crate::trap::TIMER_INTERVAL;
use abi::param::NCPU;

/// Boot stack bytes per hart. `scheduler` keeps running on this stack, and interrupts taken
/// there nest on it, so it is larger than a process's one-page kernel stack.
pub const STACK0_SIZE: usize = 4 * 4096;
const _: () = assert!(
    STACK0_SIZE.is_power_of_two(),
    "_entry shifts by log2(STACK0_SIZE)"
);

#[repr(C, align(16))]
pub struct Stack0([u8; STACK0_SIZE * NCPU]);

/// Boot (and scheduler) stacks, one per hart. Written only through `sp`.
#[unsafe(no_mangle)]
pub static mut stack0: Stack0 = Stack0([0; STACK0_SIZE * NCPU]);

/// The kernel entry point (kernel.ld places `.text.entry` at 0x8000_0000).
///
/// # Safety
/// Only the hardware calls this, once per hart at reset, in M-mode.
#[unsafe(naked)]
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.entry")]
pub unsafe extern "C" fn _entry() -> ! {
    core::arch::naked_asm!(
        // sp = stack0 + (hartid + 1) * STACK0_SIZE
        "la sp, {stack0}",
        "csrr a1, mhartid",
        "addi a1, a1, 1",
        "slli a0, a1, {shift}",
        "add sp, sp, a0",
        "call {start}",
        "1: wfi",
        "j 1b",
        stack0 = sym stack0,
        shift = const STACK0_SIZE.trailing_zeros(),
        start = sym start,
    )
}

unsafe extern "C" fn start() -> ! {
    let hart = r_mhartid();
    if hart as usize >= NCPU {
        // No stack or Cpu entry for this hart: park it.
        loop {
            wfi();
        }
    }
    // SAFETY: M-mode setup before any S-mode code runs on this hart; each write establishes
    // the state described in the module essay.
    unsafe {
        let mut x = r_mstatus();
        x &= !MSTATUS_MPP_MASK;
        x |= MSTATUS_MPP_S;
        w_mstatus(x);
        w_mepc(crate::main as *const () as u64);
        w_satp(0);
        w_medeleg(0xffff);
        w_mideleg(0xffff);
        w_sie(r_sie() | SIE_SEIE | SIE_STIE | SIE_SSIE);
        w_pmpaddr0(0x3f_ffff_ffff_ffff);
        w_pmpcfg0(0xf);
        timerinit();
        w_tp(hart);
        core::arch::asm!("mret", options(noreturn));
    }
}

/// Lets S-mode own the timer through Sstc and arms the first interrupt.
unsafe fn timerinit() {
    // SAFETY: enabling counters and the S-mode timer compare has no memory effect.
    unsafe {
        // mie.STIE (bit 5) so the delegated supervisor timer interrupt can be taken.
        w_mie(r_mie() | (1 << 5));
        w_menvcfg(r_menvcfg() | MENVCFG_STCE);
        w_mcounteren(r_mcounteren() | MCOUNTEREN_TM);
        w_stimecmp(r_time() + TIMER_INTERVAL);
    }
}
