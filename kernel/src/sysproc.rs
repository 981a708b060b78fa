//! Process-related system calls: fork exit wait kill getpid sbrk sleep uptime, and the labs'
//! trace and sysinfo; with their lab options, pgaccess (pgtbl lab) and sigalarm/sigreturn
//! (traps lab). Each returns its result as `u64` (`u64::MAX` is -1).

use crate::kalloc::freemem;
use crate::lab::{self, BACKTRACE};
use crate::proc::{exit, fork, growproc, kill, killed, myproc, nproc, sleep, wait};
use crate::riscv::{PGSIZE, sfence_vma};
use crate::syscall::{argaddr, argint};
use crate::trap::{ticks, ticks_chan, tickslock, uptime};
use crate::vm::{PTE_A, PTE_V, copyout, walk};
use abi::Sysinfo;
use abi::memlayout::MAXVA;

const ERR: u64 = u64::MAX;

fn ret(v: i32) -> u64 {
    v as i64 as u64
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_exit() -> u64 {
    exit(argint(0))
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_getpid() -> u64 {
    // SAFETY: pid of the running process does not change while it runs.
    ret(unsafe { (*myproc()).pid })
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_fork() -> u64 {
    ret(fork())
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_wait() -> u64 {
    ret(wait(argaddr(0)))
}

/// Grows memory by n bytes; returns the old break.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_sbrk() -> u64 {
    let n = argint(0);
    // SAFETY: sz is private to the running process.
    let addr = unsafe { (*myproc()).sz };
    if growproc(n).is_err() {
        return ERR;
    }
    addr
}

/// Sleeps for n ticks; -1 if killed meanwhile.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_sleep() -> u64 {
    if lab::on(BACKTRACE) {
        // The traps lab's exercise: bttest sleeps, and the kernel shows how it got here.
        crate::printf::backtrace();
    }
    let n = argint(0).max(0) as u32;
    tickslock.acquire();
    // SAFETY: ticks is guarded by tickslock, held (sleep re-takes it before returning).
    let ticks0 = unsafe { *ticks.get() };
    while unsafe { *ticks.get() }.wrapping_sub(ticks0) < n {
        if killed(myproc()) {
            tickslock.release();
            return ERR;
        }
        sleep(ticks_chan(), &tickslock);
    }
    tickslock.release();
    0
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_kill() -> u64 {
    ret(kill(argint(0)))
}

/// Clock ticks since boot.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_uptime() -> u64 {
    uptime() as u64
}

/// trace(mask): bit N set prints system call N of this process (and its future children).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_trace() -> u64 {
    // SAFETY: trace_mask is private to the running process.
    unsafe { (*myproc()).trace_mask = argint(0) };
    0
}

/// sysinfo(struct sysinfo *): free memory in bytes and the number of used process slots.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_sysinfo() -> u64 {
    let addr = argaddr(0);
    let info = Sysinfo {
        freemem: freemem(),
        nproc: nproc(),
    };
    // SAFETY: Sysinfo is two u64s without padding; viewing it as bytes is sound.
    let bytes = unsafe {
        core::slice::from_raw_parts(&info as *const Sysinfo as *const u8, size_of::<Sysinfo>())
    };
    // SAFETY: pagetable is private to the running process.
    match copyout(unsafe { (*myproc()).pagetable }, addr, bytes) {
        Ok(()) => 0,
        Err(()) => ERR,
    }
}

/// Most pages one pgaccess call reports (bits of the 32-bit mask it writes).
const PGACCESS_MAX: i32 = 32;

/// pgaccess(base, n, mask): bit i of the `u32` written at `mask` says whether the hart used
/// page i of the n pages from `base` since the last call; the accessed bits (PTE_A) are
/// cleared as they are read. Pages not mapped (lazy, or beyond sz) read as not accessed.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_pgaccess() -> u64 {
    let (base, n, dst) = (argaddr(0), argint(1), argaddr(2));
    if !(0..=PGACCESS_MAX).contains(&n) {
        return ERR;
    }
    // SAFETY: pagetable is private to the running process.
    let pagetable = unsafe { (*myproc()).pagetable };
    let mut mask = 0u32;
    for i in 0..n as u64 {
        let va = base.wrapping_add(i * PGSIZE);
        if va >= MAXVA {
            return ERR;
        }
        let pte = walk(pagetable, va, false);
        // SAFETY: a live PTE of the running process's table when not null.
        unsafe {
            if !pte.is_null() && *pte & (PTE_V | PTE_A) == PTE_V | PTE_A {
                mask |= 1 << i;
                *pte &= !PTE_A;
            }
        }
    }
    // Forget the translations that still say "accessed", so the next use sets the bit again.
    sfence_vma();
    match copyout(pagetable, dst, &mask.to_ne_bytes()) {
        Ok(()) => 0,
        Err(()) => ERR,
    }
}

/// sigalarm(n, handler): from now on, call `handler` after every n ticks of CPU time the
/// process uses; n = 0 turns the alarm off.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_sigalarm() -> u64 {
    let (n, handler) = (argint(0), argaddr(1));
    if n < 0 {
        return ERR;
    }
    let p = myproc();
    // SAFETY: the alarm fields are private to the running process.
    unsafe {
        (*p).alarm_interval = n;
        (*p).alarm_handler = handler;
        (*p).alarm_ticks = 0;
    }
    0
}

/// sigreturn(): the handler is done; the registers of the moment the alarm interrupted the
/// process come back, a0 included (the return value is the restored a0), so the process
/// goes on as if nothing had happened.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_sigreturn() -> u64 {
    let p = myproc();
    // SAFETY: the trapframe and the alarm fields are private to the running process.
    unsafe {
        if (*p).alarm_active == 0 {
            return ERR;
        }
        *(*p).trapframe = (*p).alarm_trapframe;
        (*p).alarm_active = 0;
        (*(*p).trapframe).a0
    }
}
