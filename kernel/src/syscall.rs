//! System call dispatch and argument fetching.
//!
//! `syscall()` reads the number from the trapframe's a7 and calls the handler; the result
//! goes to a0 (`u64::MAX`, i.e. -1, on failure). The dispatch `match` is generated from
//! `abi::for_each_syscall!`, the one table that also drives the user stubs and the debugger;
//! `handlers` maps each table name to its `sys_NAME` function (`lab_calls`: a lab option's).
//! Trace lab: if bit N of the process's `trace_mask` is set, system call N prints
//! `PID: syscall NAME -> RET` when it returns.
//!
//! Argument helpers read a0..a5 of the current process's trapframe. Pointer arguments are
//! only checked when used (copyin/copyout fail on bad addresses); `fetchaddr` and `fetchstr`
//! read user memory and fail on addresses outside the process.

use crate::proc::myproc;
use crate::vm::{copyin, copyinstr};

/// Each name of the syscall table, bound to its handler.
mod handlers {
    pub use super::lab_calls::*;
    pub use crate::sysfile::{
        sys_chdir as chdir, sys_close as close, sys_dup as dup, sys_exec as exec,
        sys_fstat as fstat, sys_link as link, sys_mkdir as mkdir, sys_mknod as mknod,
        sys_open as open, sys_pipe as pipe, sys_read as read, sys_unlink as unlink,
        sys_write as write,
    };
    pub use crate::sysproc::{
        sys_exit as exit, sys_fork as fork, sys_getpid as getpid, sys_kill as kill,
        sys_sbrk as sbrk, sys_sleep as sleep, sys_sysinfo as sysinfo, sys_trace as trace,
        sys_uptime as uptime, sys_wait as wait,
    };
}

macro_rules! dispatch {
    ($($nr:literal $name:ident($($arg:ident),*) -> $ret:ident;)*) => {
        /// Runs system call `num`; its name and result, or None for an unknown number.
        fn call(num: u64) -> Option<(&'static str, u64)> {
            match num {
                $($nr if lab_allows($nr) => Some((stringify!($name), handlers::$name())),)*
                _ => None,
            }
        }
    };
}
abi::for_each_syscall!(dispatch);

#[unsafe(no_mangle)]
#[inline(never)]
pub fn syscall() {
    let p = myproc();
    // SAFETY: the trapframe and trace_mask are private to the running process.
    unsafe {
        let num = (*(*p).trapframe).a7;
        match call(num) {
            Some((name, ret)) => {
                // The handler may have replaced the trapframe contents (exec): store after.
                (*(*p).trapframe).a0 = ret;
                if num < 32 && (*p).trace_mask & (1 << num) != 0 {
                    crate::println!("{}: syscall {} -> {}", (*p).pid, name, ret as i64);
                }
            }
            None => {
                let name = &(*p).name;
                let n = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                crate::println!(
                    "{} {}: unknown sys call {}",
                    (*p).pid,
                    core::str::from_utf8(&name[..n]).unwrap_or("?"),
                    num
                );
                (*(*p).trapframe).a0 = u64::MAX;
            }
        }
    }
}

/// The labs' calls (sigalarm, sigreturn, mmap, munmap, symlink, pgaccess): each exists only
/// with its lab option on (`lab.rs`); otherwise its number is unknown, as on stock xv6.
mod lab_calls {
    pub use crate::mmap::{sys_mmap as mmap, sys_munmap as munmap};
    pub use crate::sysfile::sys_symlink as symlink;
    pub use crate::sysproc::{
        sys_pgaccess as pgaccess, sys_sigalarm as sigalarm, sys_sigreturn as sigreturn,
    };
}

/// May system call `num` run? Always, unless it is a lab's call and its option is off.
fn lab_allows(num: u64) -> bool {
    use crate::lab::{ALARM, MMAP, PGACCESS, SYMLINK, on};
    use abi::syscall::nr;
    match num as usize {
        nr::sigalarm | nr::sigreturn => on(ALARM),
        nr::mmap | nr::munmap => on(MMAP),
        nr::symlink => on(SYMLINK),
        nr::pgaccess => on(PGACCESS),
        _ => true,
    }
}

fn argraw(n: usize) -> u64 {
    let p = myproc();
    // SAFETY: the trapframe is private to the running process.
    let tf = unsafe { &*(*p).trapframe };
    match n {
        0 => tf.a0,
        1 => tf.a1,
        2 => tf.a2,
        3 => tf.a3,
        4 => tf.a4,
        5 => tf.a5,
        _ => panic!("argraw"),
    }
}

/// The n-th argument as a C `int`.
pub fn argint(n: usize) -> i32 {
    argraw(n) as i32
}

/// The n-th argument as a user address (not checked here).
pub fn argaddr(n: usize) -> u64 {
    argraw(n)
}

/// The n-th argument as a NUL-terminated user string copied into `buf`; its length.
pub fn argstr(n: usize, buf: &mut [u8]) -> Result<usize, ()> {
    fetchstr(argaddr(n), buf)
}

/// The 8-byte word at user address `addr`, which must lie inside the process.
pub fn fetchaddr(addr: u64) -> Result<u64, ()> {
    let p = myproc();
    // SAFETY: sz and pagetable are private to the running process.
    unsafe {
        if addr >= (*p).sz || addr.checked_add(8).is_none_or(|e| e > (*p).sz) {
            return Err(());
        }
        let mut b = [0u8; 8];
        copyin((*p).pagetable, &mut b, addr)?;
        Ok(u64::from_ne_bytes(b))
    }
}

/// The NUL-terminated string at user address `addr`, copied into `buf`; its length.
pub fn fetchstr(addr: u64, buf: &mut [u8]) -> Result<usize, ()> {
    let p = myproc();
    // SAFETY: pagetable is private to the running process.
    copyinstr(unsafe { (*p).pagetable }, buf, addr)
}
