//! Memory tests: the allocator and sbrk (growing, shrinking, failing, odd sizes), protection
//! (kernel memory, above MAXVA, the text segment, the guard page under the stack), bad
//! pointers in exec and link, bss, and exec's argument limits.
//!
//! Loads and stores at addresses that should fault go through [`peek`] and [`poke`], single
//! `lb`/`sb` instructions in inline assembly, so the compiler never sees (and never optimizes
//! on) an access it would consider undefined.

use super::{brk, fail, fork_raw, open_raw, sbrk_raw, touch, wait_st};
use abi::memlayout::{KERNBASE, MAXVA, PGSIZE};
use abi::param::MAXARG;
use core::alloc::Layout;
use core::arch::asm;
use user::*;

const PG: usize = PGSIZE as usize;

/// Loads the byte at `addr`; faults (and the kernel kills us) if it is not mapped readable.
pub fn peek(addr: usize) -> u8 {
    let v: u8;
    // SAFETY: a plain load; a bad address traps to the kernel, which kills the process.
    unsafe { asm!("lbu {v}, 0({a})", a = in(reg) addr, v = out(reg) v, options(nostack)) };
    v
}

/// Stores `v` at `addr`; faults if it is not mapped writable.
pub fn poke(addr: usize, v: u8) {
    // SAFETY: a plain store to memory the tests own or that must fault.
    unsafe { asm!("sb {v}, 0({a})", a = in(reg) addr, v = in(reg) v, options(nostack)) };
}

/// `exec(path, argv)` without the wrapper's heap copies: every string in `argv` must be
/// NUL-terminated, and `argv` must end with a null pointer.
pub fn exec_raw(path: &core::ffi::CStr, argv: &[*const u8]) -> i32 {
    // SAFETY: per the contract above; the kernel validates everything else.
    unsafe { usys::exec(path.as_ptr().cast(), argv.as_ptr()) }
}

/// Allocate all memory through the allocator, free it, and allocate again.
pub fn mem(_s: &str) {
    let layout = Layout::from_size_align(10001, 8).unwrap_or(Layout::new::<u8>());
    let pid = fork_raw();
    if pid == 0 {
        let mut m1: *mut u8 = core::ptr::null_mut();
        loop {
            // SAFETY: non-zero size; the result is checked for null.
            let m2 = unsafe { alloc::alloc::alloc(layout) };
            if m2.is_null() {
                break;
            }
            // SAFETY: m2 holds 10001 bytes, 16-byte aligned: room for a link.
            unsafe { (m2 as *mut *mut u8).write(m1) };
            m1 = m2;
        }
        while !m1.is_null() {
            // SAFETY: every block on the chain came from alloc with `layout`.
            unsafe {
                let m2 = (m1 as *mut *mut u8).read();
                alloc::alloc::dealloc(m1, layout);
                m1 = m2;
            }
        }
        let big = Layout::from_size_align(1024 * 20, 8).unwrap_or(layout);
        // SAFETY: as above.
        let m = unsafe { alloc::alloc::alloc(big) };
        if m.is_null() {
            fail!("couldn't allocate mem?!!");
        }
        // SAFETY: m came from alloc with `big`.
        unsafe { alloc::alloc::dealloc(m, big) };
        exit(0);
    }
    let (_, st) = wait_st();
    // -1: probably a page fault, so maybe a lazy-allocation kernel; that is OK.
    exit(if st == -1 { 0 } else { st });
}

pub fn sbrkbasic(s: &str) {
    const TOOMUCH: usize = 1024 * 1024 * 1024;
    // Does sbrk return the failure value for an impossible request?
    let pid = fork_raw();
    if pid < 0 {
        fail!("fork failed in sbrkbasic");
    }
    if pid == 0 {
        let a = sbrk_raw(TOOMUCH as i32);
        if a == usize::MAX {
            exit(0); // failing is fine
        }
        let mut b = a;
        while b < a + TOOMUCH {
            poke(b, 99);
            b += 4096;
        }
        // Either sbrk should have failed or a lazy page fault should have killed us.
        exit(1);
    }
    let (_, st) = wait_st();
    if st == 1 {
        fail!("{s}: too much memory allocated!");
    }
    // Can one sbrk less than a page?
    let mut a = brk();
    for i in 0..5000 {
        let b = sbrk_raw(1);
        if b != a {
            fail!("{s}: sbrk test failed {i} {a:x} {b:x}");
        }
        poke(b, 1);
        a = b + 1;
    }
    let pid = fork_raw();
    if pid < 0 {
        fail!("{s}: sbrk test fork failed");
    }
    sbrk_raw(1);
    let c = sbrk_raw(1);
    if c != a + 1 {
        fail!("{s}: sbrk test failed post-fork");
    }
    if pid == 0 {
        exit(0);
    }
    let (_, st) = wait_st();
    exit(st);
}

pub fn sbrkmuch(s: &str) {
    const BIG: usize = 100 * 1024 * 1024;
    let oldbrk = brk();
    // Can one grow the address space to something big?
    let a = brk();
    let p = sbrk_raw((BIG - a) as i32);
    if p != a {
        fail!("{s}: sbrk test failed to grow big address space; enough phys mem?");
    }
    let eee = brk();
    let mut pp = a;
    while pp < eee {
        poke(pp, 1);
        pp += 4096;
    }
    let lastaddr = BIG - 1;
    poke(lastaddr, 99);

    // Can one de-allocate?
    let a = brk();
    if sbrk_raw(-(PG as i32)) == usize::MAX {
        fail!("{s}: sbrk could not deallocate");
    }
    let c = brk();
    if c != a - PG {
        fail!("{s}: sbrk deallocation produced wrong address, a {a:x} c {c:x}");
    }
    // Can one re-allocate that page? It must come back zeroed.
    let a = brk();
    let c = sbrk_raw(PG as i32);
    if c != a || brk() != a + PG {
        fail!("{s}: sbrk re-allocation failed, a {a:x} c {c:x}");
    }
    if peek(lastaddr) == 99 {
        fail!("{s}: sbrk de-allocation didn't really deallocate");
    }
    let a = brk();
    let c = sbrk_raw(-((brk() - oldbrk) as i32));
    if c != a {
        fail!("{s}: sbrk downsize failed, a {a:x} c {c:x}");
    }
}

/// User code must not read kernel memory.
pub fn kernmem(s: &str) {
    let mut a = KERNBASE as usize;
    while a < KERNBASE as usize + 2_000_000 {
        let pid = fork_raw();
        if pid < 0 {
            fail!("{s}: fork failed");
        }
        if pid == 0 {
            fail!("{s}: oops could read {a:x} = {:x}", peek(a));
        }
        let (_, st) = wait_st();
        if st != -1 {
            exit(1); // the kernel should have killed the child
        }
        a += 50_000;
    }
}

/// User code must not write at or above MAXVA.
pub fn maxvaplus(s: &str) {
    let mut a = MAXVA as usize;
    while a != 0 {
        let pid = fork_raw();
        if pid < 0 {
            fail!("{s}: fork failed");
        }
        if pid == 0 {
            poke(a, 99);
            fail!("{s}: oops wrote {a:x}");
        }
        let (_, st) = wait_st();
        if st != -1 {
            exit(1);
        }
        a <<= 1;
    }
}

/// When the system runs out of memory, are the failed allocations cleaned up?
pub fn sbrkfail(s: &str) {
    const BIG: usize = 100 * 1024 * 1024;
    let Ok(fds) = pipe() else {
        fail!("{s}: pipe() failed")
    };
    let mut pids = [0i32; 10];
    let mut scratch = [0u8];
    for p in pids.iter_mut() {
        *p = fork_raw();
        if *p == 0 {
            // Allocate a lot of memory, then sit around until killed.
            sbrk_raw((BIG - brk()) as i32);
            let _ = write(fds[1], b"x");
            loop {
                let _ = sleep(1000);
            }
        }
        if *p != -1 {
            let _ = read(fds[0], &mut scratch);
        }
    }
    // If the failed allocations gave back what they did get, this works.
    let c = sbrk_raw(PG as i32);
    for &p in &pids {
        if p == -1 {
            continue;
        }
        let _ = kill(p);
        let _ = wait(None);
    }
    if c == usize::MAX {
        fail!("{s}: failed sbrk leaked memory");
    }
    // Fork with that page allocated; the child's huge allocation must not complete.
    let pid = fork_raw();
    if pid < 0 {
        fail!("{s}: fork failed");
    }
    if pid == 0 {
        let a = brk();
        sbrk_raw((10 * BIG) as i32);
        let mut n: u32 = 0;
        let mut i = 0;
        while i < 10 * BIG {
            n += peek(a + i) as u32;
            i += PG;
        }
        fail!("{s}: allocate a lot of memory succeeded {n}");
    }
    let (_, st) = wait_st();
    if st != -1 && st != 2 {
        exit(1);
    }
}

/// System calls read and write freshly sbrk'd memory.
pub fn sbrkarg(s: &str) {
    let a = sbrk_raw(PG as i32);
    let fd = open_raw("sbrk", O_CREATE | O_WRONLY);
    let _ = unlink("sbrk");
    if fd < 0 {
        fail!("{s}: open sbrk failed");
    }
    // SAFETY: [a, a + PG) was just given to us by sbrk.
    let n = unsafe { usys::write(fd, a as *const u8, PG as i32) };
    if n < 0 {
        fail!("{s}: write sbrk failed");
    }
    let _ = close(fd);
    let a = sbrk_raw(PG as i32);
    // SAFETY: as above; the kernel writes two ints there.
    if unsafe { usys::pipe(a as *mut i32) } != 0 {
        fail!("{s}: pipe() failed");
    }
}

/// Bad string pointers everywhere in the low megabyte must fail, not crash the kernel.
pub fn validatetest(s: &str) {
    let hi = 1100 * 1024;
    let mut p = 0;
    while p <= hi {
        // SAFETY: the kernel only reads the strings; p is checked by it.
        let r = unsafe { usys::link(c"nosuchfile".as_ptr().cast(), p as *const u8) };
        if r != -1 {
            fail!("{s}: link should not succeed");
        }
        p += PG;
    }
}

/// Does uninitialized data start out zero?
pub fn bsstest(s: &str) {
    static mut UNINIT: [u8; 10000] = [0; 10000];
    let p = &raw const UNINIT;
    // SAFETY: read-only look at a static nobody else touches.
    let u = unsafe { &*p };
    // A volatile read, so the check is of memory and not of the initializer.
    if u.iter().any(|b| {
        // SAFETY: b is a valid reference.
        unsafe { core::ptr::read_volatile(b) != 0 }
    }) {
        fail!("{s}: bss test failed");
    }
}

/// exec must refuse arguments larger than its stack page rather than write below it.
pub fn bigargtest(s: &str) {
    let _ = unlink("bigarg-ok");
    let pid = fork_raw();
    if pid == 0 {
        static ARG: &[u8] = b"bigargs test: failed\n                                                                                                                                                                                                       \0";
        let mut args = [core::ptr::null::<u8>(); MAXARG];
        for a in args.iter_mut().take(MAXARG - 1) {
            *a = ARG.as_ptr();
        }
        exec_raw(c"echo", &args);
        touch("bigarg-ok", O_CREATE);
        exit(0);
    } else if pid < 0 {
        fail!("{s}: bigargtest: fork failed");
    }
    let (_, st) = wait_st();
    if st != 0 {
        exit(st);
    }
    let Ok(fd) = open("bigarg-ok", O_RDONLY) else {
        fail!("{s}: bigarg test failed!")
    };
    let _ = close(fd);
}

/// A read whose buffer runs off the end of the heap (and whose length is -1).
pub fn argptest(s: &str) {
    let fd = open_raw("init", O_RDONLY);
    if fd < 0 {
        fail!("{s}: open failed");
    }
    // SAFETY: the kernel checks the range; the one valid byte is ours (end of the heap).
    unsafe { usys::read(fd, (brk() - 1) as *mut u8, -1) };
    let _ = close(fd);
}

/// There must be an unmapped guard page below the user stack.
pub fn stacktest(s: &str) {
    let pid = fork_raw();
    if pid == 0 {
        let sp: usize;
        // SAFETY: reads the stack pointer.
        unsafe { asm!("mv {}, sp", out(reg) sp, options(nomem, nostack)) };
        // This load must trap.
        fail!("{s}: stacktest: read below stack {:x}", peek(sp - PG));
    } else if pid < 0 {
        fail!("{s}: fork failed");
    }
    let (_, st) = wait_st();
    exit(if st == -1 { 0 } else { st });
}

/// Writes to the text segment must fault.
pub fn textwrite(s: &str) {
    let pid = fork_raw();
    if pid == 0 {
        poke(0, 10);
        exit(1);
    } else if pid < 0 {
        fail!("{s}: fork failed");
    }
    let (_, st) = wait_st();
    exit(if st == -1 { 0 } else { st });
}

/// Regression: wild pointers once made copyin/copyout fault in the kernel.
pub fn pgbug(_s: &str) {
    const BIG: usize = 0xeaeb_0b5b_0000_2f5e;
    let argv = [core::ptr::null::<u8>()];
    // SAFETY: the kernel must reject BIG in both calls.
    unsafe {
        usys::exec(BIG as *const u8, argv.as_ptr());
        usys::pipe(BIG as *mut i32);
    }
    exit(0);
}

/// Regression: shrinking the break below a page, to zero, or by less than a page.
pub fn sbrkbugs(_s: &str) {
    let pid = fork_raw();
    if pid < 0 {
        fail!("fork failed");
    }
    if pid == 0 {
        // Free all user memory (text included); the return faults, which is expected.
        let sz = brk();
        sbrk_raw(-(sz as i32));
        exit(0);
    }
    let _ = wait(None);

    let pid = fork_raw();
    if pid < 0 {
        fail!("fork failed");
    }
    if pid == 0 {
        // Set the break inside the very first page.
        let sz = brk();
        sbrk_raw(-((sz - 3500) as i32));
        exit(0);
    }
    let _ = wait(None);

    let pid = fork_raw();
    if pid < 0 {
        fail!("fork failed");
    }
    if pid == 0 {
        // A break in mid-page, then shrink by too little to free a page.
        sbrk_raw((10 * 4096 + 2048 - brk()) as i32);
        sbrk_raw(-10);
        exit(0);
    }
    let _ = wait(None);
    exit(0);
}

/// After growing past a page boundary and shrinking back below it, the last page must still
/// be usable by copyin and copyout.
pub fn sbrklast(_s: &str) {
    let top = brk();
    if !top.is_multiple_of(4096) {
        sbrk_raw((4096 - top % 4096) as i32);
    }
    sbrk_raw(4096);
    sbrk_raw(10);
    sbrk_raw(-20);
    let p = brk() - 64;
    poke(p, b'x');
    poke(p + 1, 0);
    // SAFETY (all three calls): p..p+2 is ours and NUL-terminated.
    let fd = unsafe { usys::open(p as *const u8, O_RDWR | O_CREATE) };
    unsafe { usys::write(fd, p as *const u8, 1) };
    let _ = close(fd);
    let fd = unsafe { usys::open(p as *const u8, O_RDWR) };
    poke(p, 0);
    unsafe { usys::read(fd, p as *mut u8, 1) };
    if peek(p) != b'x' {
        exit(1);
    }
}

/// Does sbrk handle a negative argument that wraps a signed 32-bit int?
pub fn sbrk8000(_s: &str) {
    sbrk_raw(0x8000_0004u32 as i32);
    let top = brk();
    poke(top - 1, peek(top - 1).wrapping_add(1));
}

/// Regression: exec with an invalid argument pointer must not leak memory.
pub fn badarg(_s: &str) {
    for _ in 0..50_000 {
        let argv = [0xffff_ffffusize as *const u8, core::ptr::null()];
        exec_raw(c"echo", &argv);
    }
    exit(0);
}
