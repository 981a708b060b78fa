//! Bad pointers handed to the kernel: copyin, copyout and copyinstr must refuse addresses the
//! process does not own (kernel memory, the top of the address space, returned heap) and
//! strings that do not end in time, without crashing.

use super::{brk, fail, fork_raw, open_raw, sbrk_raw, wait_st};
use abi::memlayout::PGSIZE;
use abi::param::MAXPATH;
use user::*;

/// Addresses no process may read or write: the kernel's base and the last byte of memory.
const BAD: [usize; 2] = [0x8000_0000, usize::MAX];

// The raw calls below pass addresses the process does not own, which is the point: the
// kernel checks every user address against the page table and must fail the call.

fn write_at(fd: Fd, addr: usize, n: i32) -> i32 {
    // SAFETY: the kernel only reads from addr, and must reject it (see above).
    unsafe { usys::write(fd, addr as *const u8, n) }
}

fn read_at(fd: Fd, addr: usize, n: i32) -> i32 {
    // SAFETY: addr is not ours (see above), so nothing of ours can be overwritten.
    unsafe { usys::read(fd, addr as *mut u8, n) }
}

pub fn copyin(_s: &str) {
    for addr in BAD {
        let fd = open_raw("copyin1", O_CREATE | O_WRONLY);
        if fd < 0 {
            fail!("open(copyin1) failed");
        }
        let n = write_at(fd, addr, 8192);
        if n >= 0 {
            fail!("write(fd, {addr:#x}, 8192) returned {n}, not -1");
        }
        let _ = close(fd);
        let _ = unlink("copyin1");

        let n = write_at(1, addr, 8192);
        if n > 0 {
            fail!("write(1, {addr:#x}, 8192) returned {n}, not -1 or 0");
        }

        let Ok(fds) = pipe() else {
            fail!("pipe() failed")
        };
        let n = write_at(fds[1], addr, 8192);
        if n > 0 {
            fail!("write(pipe, {addr:#x}, 8192) returned {n}, not -1 or 0");
        }
        let _ = close(fds[0]);
        let _ = close(fds[1]);
    }
}

pub fn copyout(_s: &str) {
    for addr in BAD {
        let fd = open_raw("README", O_RDONLY);
        if fd < 0 {
            fail!("open(README) failed");
        }
        let n = read_at(fd, addr, 8192);
        if n > 0 {
            fail!("read(fd, {addr:#x}, 8192) returned {n}, not -1 or 0");
        }
        let _ = close(fd);

        let Ok(fds) = pipe() else {
            fail!("pipe() failed")
        };
        if write(fds[1], b"x") != Ok(1) {
            fail!("pipe write failed");
        }
        let n = read_at(fds[0], addr, 8192);
        if n > 0 {
            fail!("read(pipe, {addr:#x}, 8192) returned {n}, not -1 or 0");
        }
        let _ = close(fds[0]);
        let _ = close(fds[1]);
    }
}

pub fn copyinstr1(_s: &str) {
    for addr in BAD {
        // SAFETY: the kernel only reads the path, and must reject addr.
        let fd = unsafe { usys::open(addr as *const u8, O_CREATE | O_WRONLY) };
        if fd >= 0 {
            fail!("open({addr:#x}) returned {fd}, not -1");
        }
    }
}

/// Every path call with a string of exactly MAXPATH bytes, whose NUL would fall just past the
/// kernel's buffer; `b` must be NUL-terminated (exec's path goes through a raw call).
fn path_calls_fail(b: &[u8], shown: &str) {
    // SAFETY (all four calls): b is NUL-terminated and the kernel only reads it.
    let ret = unsafe { usys::unlink(b.as_ptr()) };
    if ret != -1 {
        fail!("unlink({shown}) returned {ret}, not -1");
    }
    let fd = unsafe { usys::open(b.as_ptr(), O_CREATE | O_WRONLY) };
    if fd != -1 {
        fail!("open({shown}) returned {fd}, not -1");
    }
    let ret = unsafe { usys::link(b.as_ptr(), b.as_ptr()) };
    if ret != -1 {
        fail!("link({shown}, {shown}) returned {ret}, not -1");
    }
    let xx = [c"xx".as_ptr().cast::<u8>(), core::ptr::null()];
    let ret = unsafe { usys::exec(b.as_ptr(), xx.as_ptr()) };
    if ret != -1 {
        fail!("exec({shown}) returned {ret}, not -1");
    }
}

pub fn copyinstr2(_s: &str) {
    let mut b = [b'x'; MAXPATH + 1];
    b[MAXPATH] = 0;
    path_calls_fail(&b, str_prefix(&b[..MAXPATH]));

    let pid = fork_raw();
    if pid < 0 {
        fail!("fork failed");
    }
    if pid == 0 {
        // Three arguments of a page each cannot fit in exec's one-page stack.
        let mut big = vec![b'x'; PGSIZE as usize + 1];
        big[PGSIZE as usize] = 0;
        let args = [big.as_ptr(), big.as_ptr(), big.as_ptr(), core::ptr::null()];
        // SAFETY: all strings NUL-terminated, array null-terminated.
        let ret = unsafe { usys::exec(c"echo".as_ptr().cast(), args.as_ptr()) };
        if ret != -1 {
            fail!("exec(echo, BIG) returned {ret}, not -1");
        }
        exit(747); // OK
    }
    let (_, st) = wait_st();
    if st != 747 {
        fail!("exec(echo, BIG) succeeded, should have failed");
    }
}

pub fn copyinstr3(_s: &str) {
    sbrk_raw(8192);
    let top = brk();
    if !top.is_multiple_of(PGSIZE as usize) {
        sbrk_raw((PGSIZE as usize - top % PGSIZE as usize) as i32);
    }
    let top = brk();
    if !top.is_multiple_of(PGSIZE as usize) {
        fail!("oops");
    }
    // A one-byte string with no NUL before the end of the address space's last page.
    let b = (top - 1) as *mut u8;
    // SAFETY: top - 1 is the last byte of the heap we just grew.
    unsafe { b.write(b'x') };
    // SAFETY: the slice is that one byte; path_calls_fail only hands its pointer on.
    let s = unsafe { core::slice::from_raw_parts(b, 1) };
    path_calls_fail(s, "x");
}

pub fn rwsbrk(_s: &str) {
    let a = sbrk_raw(8192);
    if a == usize::MAX {
        fail!("sbrk(rwsbrk) failed");
    }
    if sbrk_raw(-8192) == usize::MAX {
        fail!("sbrk(rwsbrk) shrink failed");
    }
    let fd = open_raw("rwsbrk", O_CREATE | O_WRONLY);
    if fd < 0 {
        fail!("open(rwsbrk) failed");
    }
    let n = write_at(fd, a + 4096, 1024);
    if n >= 0 {
        fail!("write(fd, {:#x}, 1024) returned {n}, not -1", a + 4096);
    }
    let _ = close(fd);
    let _ = unlink("rwsbrk");
    let fd = open_raw("README", O_RDONLY);
    if fd < 0 {
        fail!("open(rwsbrk) failed");
    }
    let n = read_at(fd, a + 4096, 10);
    if n >= 0 {
        fail!("read(fd, {:#x}, 10) returned {n}, not -1", a + 4096);
    }
    let _ = close(fd);
    exit(0);
}
