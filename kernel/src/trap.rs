//! Traps: system calls, exceptions and device interrupts, from user and from kernel mode.
//!
//! Paths:
//! - From user mode: `uservec` (trampoline.rs) saves registers and calls `usertrap`, which
//!   dispatches (system call, device interrupt, or a fault that kills the process), then
//!   `usertrapret` prepares the trapframe and jumps to `userret`.
//! - From kernel mode: `stvec` is `kernelvec`, which saves the caller-saved registers on the
//!   current kernel stack and calls `kerneltrap`; only device interrupts are expected there,
//!   anything else is a kernel bug and panics.
//!
//! Timer: this kernel uses the Sstc extension instead of xv6-2022's M-mode CLINT handler.
//! `start` enables `stimecmp` for S-mode; the supervisor timer interrupt (scause
//! 0x8000000000000005) is raised while `time >= stimecmp`, and `clockintr` re-arms it one
//! interval (1_000_000 ticks = 0.1 s at QEMU's 10 MHz timebase) ahead, which also clears the
//! pending bit. Hart 0 alone counts `ticks`, so `ticks` advances once per interval.
//!
//! Locking: `ticks` is guarded by `tickslock`; sleepers on `ticks` wait on its address.

use crate::lab::{self, ALARM, COW, LAZY, MMAP};
use crate::plic::{plic_claim, plic_complete};
use crate::proc::{ProcState, cpuid, exit, killed, myproc, setkilled, wakeup, yield_};
use crate::riscv::{
    SSTATUS_SPIE, SSTATUS_SPP, intr_get, intr_off, intr_on, make_satp, r_satp, r_scause, r_sepc,
    r_sstatus, r_stval, r_time, w_sepc, w_sstatus, w_stimecmp, w_stvec,
};
use crate::spinlock::{Shared, Spinlock};
use crate::syscall::syscall;
use crate::trampoline::{userret, uservec};
use crate::vm::{fault_in, trampoline_addr};
use abi::memlayout::{TRAMPOLINE, UART0_IRQ, VIRTIO0_IRQ};

/// Timer interval in `time` ticks (QEMU virt's timebase is 10 MHz).
pub const TIMER_INTERVAL: u64 = 1_000_000;

const SCAUSE_INTERRUPT: u64 = 1 << 63;
const SCAUSE_S_TIMER: u64 = SCAUSE_INTERRUPT | 5;
const SCAUSE_S_EXTERNAL: u64 = SCAUSE_INTERRUPT | 9;
const SCAUSE_ECALL_U: u64 = 8;
const SCAUSE_LOAD_PAGE_FAULT: u64 = 13;
const SCAUSE_STORE_PAGE_FAULT: u64 = 15;

fn is_page_fault(scause: u64) -> bool {
    scause == SCAUSE_LOAD_PAGE_FAULT || scause == SCAUSE_STORE_PAGE_FAULT
}

#[unsafe(no_mangle)]
pub static tickslock: Spinlock = Spinlock::new("time");
/// Timer interrupts seen by hart 0 since boot. Guarded by `tickslock`.
#[unsafe(no_mangle)]
pub static ticks: Shared<u32> = Shared::new(0);

/// The channel sleepers on `ticks` use.
pub fn ticks_chan() -> usize {
    ticks.get() as usize
}

/// Current tick count (takes `tickslock`).
pub fn uptime() -> u32 {
    let _g = tickslock.lock();
    // SAFETY: guarded by tickslock, held.
    unsafe { *ticks.get() }
}

pub fn trapinit() {}

/// Installs the kernel trap vector on this hart.
pub fn trapinithart() {
    // SAFETY: kernelvec is a 4-byte-aligned trap entry that returns with sret.
    unsafe { w_stvec(kernelvec as *const () as u64) };
}

/// Handles a trap from user mode (called by uservec on the process's kernel stack).
#[unsafe(no_mangle)]
pub extern "C" fn usertrap() {
    if r_sstatus() & SSTATUS_SPP != 0 {
        panic!("usertrap: not from user mode");
    }
    // We are in the kernel now: traps go to kerneltrap.
    trapinithart();
    let p = myproc();
    // SAFETY: the trapframe is private to the running process.
    let tf = unsafe { &mut *(*p).trapframe };
    tf.epc = r_sepc();
    let scause = r_scause();
    let mut which_dev = 0;
    if scause == SCAUSE_ECALL_U {
        if killed(p) {
            exit(-1);
        }
        // Return after the ecall instruction.
        tf.epc += 4;
        // sepc, scause and sstatus are saved; interrupts may come in again.
        intr_on();
        syscall();
    } else if lab::on(COW | LAZY | MMAP) && is_page_fault(scause) {
        // Perhaps a page a lab option deferred (copy-on-write, lazy heap, mmap'd file): put
        // it in place and run the instruction again. Reading a file may sleep, so interrupts
        // go back on, once the trap's registers are read.
        let stval = r_stval();
        intr_on();
        if fault_in(stval, scause == SCAUSE_STORE_PAGE_FAULT).is_err() {
            unexpected(p, scause, tf.epc, stval);
        }
    } else {
        which_dev = devintr();
        if which_dev == 0 {
            unexpected(p, scause, r_sepc(), r_stval());
        }
    }
    if killed(p) {
        exit(-1);
    }
    // Give up the CPU on a timer interrupt (after counting it for the alarm lab).
    if which_dev == 2 {
        if lab::on(ALARM) {
            alarm_tick(p);
        }
        yield_();
    }
    usertrapret();
}

/// The alarm lab: one more tick of CPU time for `p`, which was running in user mode. When
/// its interval is up and its handler is not running already, the handler gets called: the
/// user registers are kept for `sigreturn`, and the return to user mode goes to the handler.
fn alarm_tick(p: *mut crate::proc::Proc) {
    // SAFETY: the alarm fields and the trapframe are private to the running process.
    unsafe {
        if (*p).alarm_interval == 0 {
            return;
        }
        (*p).alarm_ticks += 1;
        if (*p).alarm_ticks >= (*p).alarm_interval && (*p).alarm_active == 0 {
            (*p).alarm_ticks = 0;
            (*p).alarm_active = 1;
            (*p).alarm_trapframe = *(*p).trapframe;
            (*(*p).trapframe).epc = (*p).alarm_handler;
        }
    }
}

/// A trap from user mode that no one handles: say so and kill the process.
fn unexpected(p: *mut crate::proc::Proc, scause: u64, sepc: u64, stval: u64) {
    // SAFETY: pid read for a message; the process is ours.
    let pid = unsafe { (*p).pid };
    crate::println!(
        "usertrap(): unexpected scause {:#x} pid={}\n            sepc={:#x} stval={:#x}",
        scause,
        pid,
        sepc,
        stval
    );
    setkilled(p);
}

/// Returns to user mode through the trampoline.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn usertrapret() -> ! {
    let p = myproc();
    // Traps must not arrive between the stvec switch and sret: they would go to uservec
    // while still in the kernel.
    intr_off();
    let trampoline_uservec = TRAMPOLINE + (uservec as *const () as u64 - trampoline_addr());
    // SAFETY: uservec in the trampoline page is the user-mode trap entry.
    unsafe { w_stvec(trampoline_uservec) };
    // SAFETY: the trapframe and pagetable are private to the running process.
    unsafe {
        let tf = &mut *(*p).trapframe;
        // What uservec needs next time.
        tf.kernel_satp = r_satp();
        tf.kernel_sp = crate::proc::kstack_top((*p).kstack);
        tf.kernel_trap = usertrap as *const () as u64;
        tf.kernel_hartid = cpuid() as u64;
        // sret goes to user mode (SPP = 0) with interrupts on (SPIE = 1).
        let mut x = r_sstatus();
        x &= !SSTATUS_SPP;
        x |= SSTATUS_SPIE;
        w_sstatus(x);
        w_sepc(tf.epc);
        let satp = make_satp((*p).pagetable as u64);
        let trampoline_userret = TRAMPOLINE + (userret as *const () as u64 - trampoline_addr());
        let f: extern "C" fn(u64) -> ! = core::mem::transmute(trampoline_userret as usize);
        f(satp)
    }
}

/// Handles a trap from kernel mode (called by kernelvec on the current kernel stack).
#[unsafe(no_mangle)]
pub extern "C" fn kerneltrap() {
    let sepc = r_sepc();
    let sstatus = r_sstatus();
    let scause = r_scause();
    if sstatus & SSTATUS_SPP == 0 {
        panic!("kerneltrap: not from supervisor mode");
    }
    if intr_get() {
        panic!("kerneltrap: interrupts enabled");
    }
    let which_dev = devintr();
    if which_dev == 0 {
        panic!(
            "kerneltrap: scause {:#x} sepc={:#x} stval={:#x}",
            scause,
            sepc,
            r_stval()
        );
    }
    // Give up the CPU on a timer interrupt if a process is running.
    let p = myproc();
    // SAFETY: racy-free: state of the running process is only changed by itself here.
    if which_dev == 2 && !p.is_null() && unsafe { (*p).state } == ProcState::Running {
        yield_();
    }
    // yield_ may have run other traps, which changed sepc and sstatus.
    // SAFETY: restoring the values this trap began with.
    unsafe {
        w_sepc(sepc);
        w_sstatus(sstatus);
    }
}

fn clockintr() {
    if crate::printf::panicked() {
        halt();
    }
    if cpuid() == 0 {
        tickslock.acquire();
        // SAFETY: guarded by tickslock, held.
        unsafe { *ticks.get() += 1 };
        wakeup(ticks_chan());
        tickslock.release();
    }
    // Next interrupt one interval from now; writing stimecmp also clears STIP.
    // SAFETY: a timer deadline has no memory-safety effect.
    unsafe { w_stimecmp(r_time() + TIMER_INTERVAL) };
}

/// Stops this hart for good: no more timer interrupts, interrupts off, wait forever. Used by
/// the panic handler on the panicking hart and by every other hart at its next timer tick.
pub fn halt() -> ! {
    intr_off();
    // SAFETY: a timer deadline has no memory-safety effect; u64::MAX never arrives.
    unsafe { w_stimecmp(u64::MAX) };
    loop {
        crate::riscv::wfi();
    }
}

/// Handles a device interrupt if `scause` says it is one: 2 for the timer, 1 for another
/// device, 0 if it is not an interrupt we know.
fn devintr() -> i32 {
    let scause = r_scause();
    if scause == SCAUSE_S_EXTERNAL {
        let irq = plic_claim();
        if irq == UART0_IRQ {
            crate::uart::uartintr();
        } else if irq == VIRTIO0_IRQ {
            crate::virtio_disk::intr();
        } else if irq != 0 {
            crate::println!("unexpected interrupt irq={}", irq);
        }
        // The PLIC allows one interrupt per source at a time; let it send the next.
        if irq != 0 {
            plic_complete(irq);
        }
        1
    } else if scause == SCAUSE_S_TIMER {
        clockintr();
        2
    } else {
        0
    }
}

// Kernel trap entry. Saves the registers that `kerneltrap` (an ordinary function) may
// clobber — ra, gp, t0-t6, a0-a7 — on the current stack; the callee-saved ones it keeps
// itself. tp is not restored: it holds the hart id, and after a yield the thread may resume
// on another hart. 4-byte aligned for stvec (see trampoline.rs for why global_asm).
core::arch::global_asm!(
    ".pushsection .text.kernelvec, \"ax\"",
    ".balign 4",
    ".globl kernelvec",
    "kernelvec:",
    "   addi sp, sp, -144",
    "   sd ra, 0(sp)",
    "   sd gp, 8(sp)",
    "   sd t0, 16(sp)",
    "   sd t1, 24(sp)",
    "   sd t2, 32(sp)",
    "   sd a0, 40(sp)",
    "   sd a1, 48(sp)",
    "   sd a2, 56(sp)",
    "   sd a3, 64(sp)",
    "   sd a4, 72(sp)",
    "   sd a5, 80(sp)",
    "   sd a6, 88(sp)",
    "   sd a7, 96(sp)",
    "   sd t3, 104(sp)",
    "   sd t4, 112(sp)",
    "   sd t5, 120(sp)",
    "   sd t6, 128(sp)",
    "   call kerneltrap",
    "   ld ra, 0(sp)",
    "   ld gp, 8(sp)",
    "   ld t0, 16(sp)",
    "   ld t1, 24(sp)",
    "   ld t2, 32(sp)",
    "   ld a0, 40(sp)",
    "   ld a1, 48(sp)",
    "   ld a2, 56(sp)",
    "   ld a3, 64(sp)",
    "   ld a4, 72(sp)",
    "   ld a5, 80(sp)",
    "   ld a6, 88(sp)",
    "   ld a7, 96(sp)",
    "   ld t3, 104(sp)",
    "   ld t4, 112(sp)",
    "   ld t5, 120(sp)",
    "   ld t6, 128(sp)",
    "   addi sp, sp, 144",
    "   sret",
    ".popsection",
);

unsafe extern "C" {
    fn kernelvec();
}
