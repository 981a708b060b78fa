//! Safe wrappers over the system calls, and xv6's small string helpers.
//!
//! Every wrapper maps xv6's single failure value (-1, or any negative result) to
//! `Err(Error)`; xv6 has no errno, so there is nothing more to say. Paths and arguments are
//! taken as `&str` or bytes (anything `AsRef<[u8]>`) and copied with a terminating NUL before
//! the kernel sees them: on the stack when shorter than `MAXPATH`, otherwise on the heap, so
//! that over-long paths still reach the kernel and fail there, as in C.

use crate::usys;
use abi::param::{MAXARG, MAXPATH};
use abi::{Stat, Sysinfo};
use alloc::vec::Vec;

/// A file descriptor.
pub type Fd = i32;

/// The kernel refused a system call (it returned -1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error;

/// Result of a system call wrapper.
pub type SysResult<T> = core::result::Result<T, Error>;

fn check(r: i32) -> SysResult<i32> {
    if r < 0 { Err(Error) } else { Ok(r) }
}

/// Calls `f` with a NUL-terminated copy of `s`.
pub fn with_cstr<R>(s: &[u8], f: impl FnOnce(*const u8) -> R) -> R {
    if s.len() < MAXPATH {
        let mut buf = [0u8; MAXPATH];
        buf[..s.len()].copy_from_slice(s);
        f(buf.as_ptr())
    } else {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s);
        v.push(0);
        f(v.as_ptr())
    }
}

/// The longest valid UTF-8 prefix of `b`.
pub fn str_prefix(b: &[u8]) -> &str {
    match core::str::from_utf8(b) {
        Ok(s) => s,
        // SAFETY: `valid_up_to` bytes were just checked to be valid UTF-8.
        Err(e) => unsafe { core::str::from_utf8_unchecked(&b[..e.valid_up_to()]) },
    }
}

/// Creates a process; returns the child's pid in the parent and 0 in the child.
pub fn fork() -> SysResult<i32> {
    // SAFETY: no pointers.
    check(unsafe { usys::fork() })
}

/// Ends the process with `status`, which the parent's `wait` receives.
pub fn exit(status: i32) -> ! {
    // SAFETY: no pointers; exit does not return.
    unsafe { usys::exit(status) };
    unreachable!("exit returned")
}

/// Waits for a child to exit; returns its pid and, through `status`, its exit status.
pub fn wait(status: Option<&mut i32>) -> SysResult<i32> {
    let p = status.map_or(core::ptr::null_mut(), |s| s as *mut i32);
    // SAFETY: p is null or points at a live i32.
    check(unsafe { usys::wait(p) })
}

/// Creates a pipe: `[read end, write end]`.
pub fn pipe() -> SysResult<[Fd; 2]> {
    let mut fds = [0i32; 2];
    // SAFETY: the kernel writes two ints into fds.
    check(unsafe { usys::pipe(fds.as_mut_ptr()) })?;
    Ok(fds)
}

/// Reads up to `buf.len()` bytes; `Ok(0)` at end of file.
pub fn read(fd: Fd, buf: &mut [u8]) -> SysResult<usize> {
    let n = buf.len().min(i32::MAX as usize) as i32;
    // SAFETY: the kernel writes at most n bytes into buf.
    check(unsafe { usys::read(fd, buf.as_mut_ptr(), n) }).map(|n| n as usize)
}

/// Writes `buf`; returns how many bytes the kernel took.
pub fn write(fd: Fd, buf: &[u8]) -> SysResult<usize> {
    let n = buf.len().min(i32::MAX as usize) as i32;
    // SAFETY: the kernel reads at most n bytes from buf.
    check(unsafe { usys::write(fd, buf.as_ptr(), n) }).map(|n| n as usize)
}

/// Closes `fd`.
pub fn close(fd: Fd) -> SysResult<()> {
    // SAFETY: no pointers.
    check(unsafe { usys::close(fd) }).map(drop)
}

/// Marks process `pid` to be killed.
pub fn kill(pid: i32) -> SysResult<()> {
    // SAFETY: no pointers.
    check(unsafe { usys::kill(pid) }).map(drop)
}

/// Replaces this program with `path`, passing `argv` (the program name first). Returns only
/// on failure (also when there are more than `MAXARG` arguments).
pub fn exec<A: AsRef<[u8]>>(path: impl AsRef<[u8]>, argv: &[A]) -> Error {
    if argv.len() > MAXARG {
        return Error;
    }
    let mut strings: Vec<Vec<u8>> = Vec::with_capacity(argv.len());
    for a in argv {
        let mut s = Vec::with_capacity(a.as_ref().len() + 1);
        s.extend_from_slice(a.as_ref());
        s.push(0);
        strings.push(s);
    }
    let mut ptrs: Vec<*const u8> = strings.iter().map(|s| s.as_ptr()).collect();
    ptrs.push(core::ptr::null());
    // SAFETY: path and every argv entry are NUL-terminated and live across the call; the
    // array ends with a null pointer as exec expects.
    with_cstr(path.as_ref(), |p| unsafe { usys::exec(p, ptrs.as_ptr()) });
    Error
}

/// File status of an open file.
pub fn fstat(fd: Fd) -> SysResult<Stat> {
    let mut st = Stat::default();
    // SAFETY: the kernel writes one struct stat.
    check(unsafe { usys::fstat(fd, &mut st) })?;
    Ok(st)
}

/// File status of `path` (opens it read-only, as xv6's `stat` does).
pub fn stat(path: impl AsRef<[u8]>) -> SysResult<Stat> {
    let fd = open(path, abi::O_RDONLY)?;
    let r = fstat(fd);
    let _ = close(fd);
    r
}

/// Changes the current directory.
pub fn chdir(path: impl AsRef<[u8]>) -> SysResult<()> {
    // SAFETY: NUL-terminated copy.
    check(with_cstr(path.as_ref(), |p| unsafe { usys::chdir(p) })).map(drop)
}

/// Duplicates `fd` onto the lowest free descriptor.
pub fn dup(fd: Fd) -> SysResult<Fd> {
    // SAFETY: no pointers.
    check(unsafe { usys::dup(fd) })
}

/// This process's id.
pub fn getpid() -> i32 {
    // SAFETY: no pointers.
    unsafe { usys::getpid() }
}

/// Grows (or, negative, shrinks) the data segment by `n` bytes; returns the old break.
pub fn sbrk(n: i32) -> SysResult<usize> {
    // SAFETY: no pointers; memory given back is the caller's business.
    let r = unsafe { usys::sbrk(n) };
    if r == usize::MAX { Err(Error) } else { Ok(r) }
}

/// Sleeps for `ticks` timer ticks.
pub fn sleep(ticks: i32) -> SysResult<()> {
    // SAFETY: no pointers.
    check(unsafe { usys::sleep(ticks) }).map(drop)
}

/// Timer ticks since boot.
pub fn uptime() -> i32 {
    // SAFETY: no pointers.
    unsafe { usys::uptime() }
}

/// Opens `path` with `O_*` flags.
pub fn open(path: impl AsRef<[u8]>, flags: i32) -> SysResult<Fd> {
    // SAFETY: NUL-terminated copy.
    check(with_cstr(path.as_ref(), |p| unsafe {
        usys::open(p, flags)
    }))
}

/// Creates a device file.
pub fn mknod(path: impl AsRef<[u8]>, major: i16, minor: i16) -> SysResult<()> {
    let (ma, mi) = (major as i32, minor as i32);
    // SAFETY: NUL-terminated copy.
    check(with_cstr(path.as_ref(), |p| unsafe {
        usys::mknod(p, ma, mi)
    }))
    .map(drop)
}

/// Removes a directory entry.
pub fn unlink(path: impl AsRef<[u8]>) -> SysResult<()> {
    // SAFETY: NUL-terminated copy.
    check(with_cstr(path.as_ref(), |p| unsafe { usys::unlink(p) })).map(drop)
}

/// Makes `new` another name for `old`.
pub fn link(old: impl AsRef<[u8]>, new: impl AsRef<[u8]>) -> SysResult<()> {
    // SAFETY: NUL-terminated copies.
    let r = with_cstr(old.as_ref(), |o| {
        with_cstr(new.as_ref(), |n| unsafe { usys::link(o, n) })
    });
    check(r).map(drop)
}

/// Creates a directory.
pub fn mkdir(path: impl AsRef<[u8]>) -> SysResult<()> {
    // SAFETY: NUL-terminated copy.
    check(with_cstr(path.as_ref(), |p| unsafe { usys::mkdir(p) })).map(drop)
}

/// Traces the system calls whose bits are set in `mask` (lab syscall 22).
pub fn trace(mask: i32) -> SysResult<()> {
    // SAFETY: no pointers.
    check(unsafe { usys::trace(mask) }).map(drop)
}

/// Free memory and process count (lab syscall 23).
pub fn sysinfo() -> SysResult<Sysinfo> {
    let mut si = Sysinfo::default();
    // SAFETY: the kernel writes one struct sysinfo.
    check(unsafe { usys::sysinfo(&mut si) })?;
    Ok(si)
}

/// The pid, read from the `USYSCALL` page without a system call (2021+ pgtbl lab; the
/// kernel maps the page with its `usyscall` lab option, and without it this faults).
pub fn ugetpid() -> i32 {
    let page = abi::memlayout::USYSCALL as *const abi::memlayout::Usyscall;
    // SAFETY: with the option on, the kernel maps a Usyscall there read-only for us.
    unsafe { core::ptr::read_volatile(page).pid }
}

/// Which of the `n` pages from `base` were accessed since the last call: bit i for page i
/// (pgtbl lab; `pgaccess` lab option). At most 32 pages.
pub fn pgaccess(base: *const u8, n: i32) -> SysResult<u32> {
    let mut mask = 0u32;
    // SAFETY: the kernel only looks at the page table for [base, ...) and writes the mask.
    check(unsafe { usys::pgaccess(base as usize, n, &mut mask as *mut u32 as usize) })?;
    Ok(mask)
}

/// An alarm handler: it must end with [`sigreturn`].
pub type AlarmHandler = extern "C" fn();

/// Calls `handler` after every `ticks` ticks of CPU time; `None` (or 0 ticks) stops the
/// alarm (traps lab; `alarm` lab option).
pub fn sigalarm(ticks: i32, handler: Option<AlarmHandler>) -> SysResult<()> {
    let h = handler.map_or(0, |f| f as usize);
    // SAFETY: the kernel keeps the handler's address; it is never dereferenced here.
    check(unsafe { usys::sigalarm(ticks, h) }).map(drop)
}

/// Ends an alarm handler: the interrupted code resumes with all its registers. Returns only
/// when not called from a handler (then it fails).
pub fn sigreturn() -> SysResult<()> {
    // SAFETY: no pointers.
    check(unsafe { usys::sigreturn() }).map(drop)
}

/// Creates `path` as a symbolic link to `target` (fs lab; `symlink` lab option).
pub fn symlink(target: impl AsRef<[u8]>, path: impl AsRef<[u8]>) -> SysResult<()> {
    let r = with_cstr(target.as_ref(), |t| {
        // SAFETY: both strings are NUL-terminated copies that live across the call.
        with_cstr(path.as_ref(), |p| unsafe { usys::symlink(t, p) })
    });
    check(r).map(drop)
}

/// What `mmap` returns on failure (C's `MAP_FAILED`).
pub const MAP_FAILED: usize = usize::MAX;

/// Maps `len` bytes of the open file `fd` from offset `off` (page-aligned), with `PROT_*`
/// protection and `MAP_SHARED` or `MAP_PRIVATE`; the address (mmap lab; `mmap` option).
pub fn mmap(len: usize, prot: i32, flags: i32, fd: Fd, off: usize) -> SysResult<usize> {
    // SAFETY: the kernel picks the address; no pointers are passed.
    let r = unsafe { usys::mmap(0, len as i32, prot, flags, fd, off as i32) };
    if r == MAP_FAILED { Err(Error) } else { Ok(r) }
}

/// Unmaps `[addr, addr + len)`: the start, the end or all of one mapping.
pub fn munmap(addr: usize, len: usize) -> SysResult<()> {
    // SAFETY: the caller gives up the mapping; touching it afterwards faults.
    check(unsafe { usys::munmap(addr, len as i32) }).map(drop)
}

/// Writes all of `buf`, retrying short writes.
pub fn write_all(fd: Fd, mut buf: &[u8]) -> SysResult<()> {
    while !buf.is_empty() {
        match write(fd, buf)? {
            0 => return Err(Error),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

/// Reads one line from `fd` into `buf` a byte at a time, as xv6's `gets` does (so no input
/// past the newline is consumed). Keeps the newline; stops when `buf` is full. Returns the
/// number of bytes stored, 0 at end of file.
pub fn gets(fd: Fd, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        let mut c = [0u8];
        match read(fd, &mut c) {
            Ok(1) => {}
            _ => break,
        }
        buf[n] = c[0];
        n += 1;
        if c[0] == b'\n' || c[0] == b'\r' {
            break;
        }
    }
    n
}

/// C's `atoi` as xv6 has it: the value of the leading decimal digits (0 if none). A leading
/// '-' negates.
pub fn atoi(s: &str) -> i32 {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut n: i32 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.wrapping_mul(10).wrapping_add((c - b'0') as i32);
    }
    if neg { n.wrapping_neg() } else { n }
}
