//! Process-related system calls: fork exit wait kill getpid sbrk sleep uptime, and the labs'
//! trace and sysinfo. Each returns its result as `u64` (`u64::MAX` is -1).

use crate::kalloc::freemem;
use crate::proc::{exit, fork, growproc, kill, killed, myproc, nproc, sleep, wait};
use crate::syscall::{argaddr, argint};
use crate::trap::{ticks, ticks_chan, tickslock, uptime};
use crate::vm::copyout;
use abi::Sysinfo;

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
