//! Raw system call stubs, one per row of `abi::for_each_syscall!` (xv6's `usys.S`).
//!
//! Each stub puts the call number in a7 and its arguments in a0..a5, executes `ecall`, and
//! returns a0. xv6's trap path saves and restores every user register except a0, so nothing
//! else is clobbered. The stubs are `unsafe` because pointer arguments go to the kernel as
//! they are: the kernel checks them against the page table (usertests relies on being able to
//! pass bad ones), but a valid-looking pointer to the wrong object would let the kernel
//! overwrite it. Safe wrappers live in `ulib`.
//!
//! Argument and result types follow the table's kinds: integers, fds and pids are `i32`
//! (C `int`), user addresses `usize`, strings and buffers raw byte pointers.

use abi::{Stat, Sysinfo};
use core::arch::asm;

/// Conversion of one argument to the register value the kernel reads (`int` arguments are
/// sign-extended, as the C calling convention does).
pub trait Reg {
    fn reg(self) -> usize;
}
impl Reg for i32 {
    fn reg(self) -> usize {
        self as isize as usize
    }
}
impl Reg for usize {
    fn reg(self) -> usize {
        self
    }
}
impl<T> Reg for *const T {
    fn reg(self) -> usize {
        self as usize
    }
}
impl<T> Reg for *mut T {
    fn reg(self) -> usize {
        self as usize
    }
}

/// Result conversion from a0.
pub trait FromReg {
    fn from_reg(r: usize) -> Self;
}
impl FromReg for i32 {
    fn from_reg(r: usize) -> Self {
        r as i32
    }
}
impl FromReg for usize {
    fn from_reg(r: usize) -> Self {
        r
    }
}

/// Executes `ecall` for system call `nr` with three argument registers.
///
/// # Safety
/// Registers holding pointers must be valid for what system call `nr` does with them.
#[inline(always)]
pub unsafe fn ecall(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let ret: usize;
    // SAFETY: xv6's ecall returns to the next instruction with only a0 changed; memory
    // effects are the caller's contract (see the module comment).
    unsafe {
        asm!("ecall", inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2, in("a7") nr,
             options(nostack));
    }
    ret
}

/// Executes `ecall` for system call `nr` with six argument registers (mmap).
///
/// # Safety
/// Registers holding pointers must be valid for what system call `nr` does with them.
#[inline(always)]
pub unsafe fn ecall6(nr: usize, a: [usize; 6]) -> usize {
    let ret: usize;
    // SAFETY: as `ecall`.
    unsafe {
        asm!("ecall", inlateout("a0") a[0] => ret, in("a1") a[1], in("a2") a[2], in("a3") a[3],
             in("a4") a[4], in("a5") a[5], in("a7") nr, options(nostack));
    }
    ret
}

macro_rules! arg_ty {
    (Int) => { i32 };
    (Fd) => { i32 };
    (Pid) => { i32 };
    (Addr) => { usize };
    (Str) => { *const u8 };
    (Argv) => { *const *const u8 };
    (BufIn) => { *const u8 };
    (BufOut) => { *mut u8 };
    (OpenFlags) => { i32 };
    (Mask) => { i32 };
    (StatusOut) => { *mut i32 };
    (PipeOut) => { *mut i32 };
    (StatOut) => { *mut Stat };
    (SysinfoOut) => { *mut Sysinfo };
}

macro_rules! ret_ty {
    (Addr) => {
        usize
    };
    ($other:ident) => {
        i32
    };
}

macro_rules! stub {
    ($nr:literal $name:ident () -> $r:ident) => {
        #[doc = concat!("System call ", stringify!($nr), ": `", stringify!($name), "`.")]
        #[doc = ""]
        #[doc = "# Safety"]
        #[doc = "Pointer arguments must be valid for what the kernel reads or writes through them."]
        #[inline(never)]
        pub unsafe fn $name() -> ret_ty!($r) {
            // SAFETY: no arguments; see the module comment.
            FromReg::from_reg(unsafe { ecall($nr, 0, 0, 0) })
        }
    };
    ($nr:literal $name:ident ($t0:ident) -> $r:ident) => {
        #[doc = concat!("System call ", stringify!($nr), ": `", stringify!($name), "`.")]
        #[doc = ""]
        #[doc = "# Safety"]
        #[doc = "Pointer arguments must be valid for what the kernel reads or writes through them."]
        #[inline(never)]
        pub unsafe fn $name(a0: arg_ty!($t0)) -> ret_ty!($r) {
            // SAFETY: the caller vouches for pointer arguments; see the module comment.
            FromReg::from_reg(unsafe { ecall($nr, a0.reg(), 0, 0) })
        }
    };
    ($nr:literal $name:ident ($t0:ident, $t1:ident) -> $r:ident) => {
        #[doc = concat!("System call ", stringify!($nr), ": `", stringify!($name), "`.")]
        #[doc = ""]
        #[doc = "# Safety"]
        #[doc = "Pointer arguments must be valid for what the kernel reads or writes through them."]
        #[inline(never)]
        pub unsafe fn $name(a0: arg_ty!($t0), a1: arg_ty!($t1)) -> ret_ty!($r) {
            // SAFETY: the caller vouches for pointer arguments; see the module comment.
            FromReg::from_reg(unsafe { ecall($nr, a0.reg(), a1.reg(), 0) })
        }
    };
    ($nr:literal $name:ident ($t0:ident, $t1:ident, $t2:ident) -> $r:ident) => {
        #[doc = concat!("System call ", stringify!($nr), ": `", stringify!($name), "`.")]
        #[doc = ""]
        #[doc = "# Safety"]
        #[doc = "Pointer arguments must be valid for what the kernel reads or writes through them."]
        #[inline(never)]
        pub unsafe fn $name(a0: arg_ty!($t0), a1: arg_ty!($t1), a2: arg_ty!($t2)) -> ret_ty!($r) {
            // SAFETY: the caller vouches for pointer arguments; see the module comment.
            FromReg::from_reg(unsafe { ecall($nr, a0.reg(), a1.reg(), a2.reg()) })
        }
    };
    ($nr:literal $name:ident ($t0:ident, $t1:ident, $t2:ident, $t3:ident, $t4:ident, $t5:ident) -> $r:ident) => {
        #[doc = concat!("System call ", stringify!($nr), ": `", stringify!($name), "`.")]
        #[doc = ""]
        #[doc = "# Safety"]
        #[doc = "Pointer arguments must be valid for what the kernel reads or writes through them."]
        #[inline(never)]
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn $name(
            a0: arg_ty!($t0),
            a1: arg_ty!($t1),
            a2: arg_ty!($t2),
            a3: arg_ty!($t3),
            a4: arg_ty!($t4),
            a5: arg_ty!($t5),
        ) -> ret_ty!($r) {
            // SAFETY: the caller vouches for pointer arguments; see the module comment.
            FromReg::from_reg(unsafe {
                ecall6(
                    $nr,
                    [a0.reg(), a1.reg(), a2.reg(), a3.reg(), a4.reg(), a5.reg()],
                )
            })
        }
    };
}

macro_rules! stubs {
    ($($nr:literal $name:ident ($($arg:ident),*) -> $ret:ident;)*) => {
        $(stub!($nr $name ($($arg),*) -> $ret);)*
    };
}

abi::for_each_syscall!(stubs);
