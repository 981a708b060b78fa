//! Physical page allocator: 4096-byte pages between the end of the kernel image and
//! `PHYSTOP`, for page tables, kernel stacks, user memory and pipe buffers.
//!
//! Interface: `kinit()` frees every page once at boot; `kalloc()` returns a page (null when
//! memory is exhausted) filled with junk (5) so code that forgets to initialise fails fast;
//! `kfree(pa)` returns a page, filling it with junk (1) to catch dangling references;
//! `freemem()` is the number of free bytes (for sysinfo).
//!
//! Invariants: each free page holds, in its first 8 bytes, a pointer to the next free page
//! (an intrusive list headed by `kmem.freelist`); `kmem.nfree` counts the list. Both are
//! guarded by `kmem.lock`. A page is either on the list or owned by exactly one user.

use crate::riscv::{PGSIZE, pgroundup};
use crate::spinlock::{Shared, Spinlock};
use abi::memlayout::PHYSTOP;
use core::ptr::null_mut;

unsafe extern "C" {
    /// First address after the kernel image (kernel.ld).
    static end: u8;
}

#[repr(C)]
struct Run {
    next: *mut Run,
}

#[repr(C)]
pub struct Kmem {
    pub lock: Spinlock,
    /// Head of the free list. Guarded by `lock`.
    freelist: Shared<*mut Run>,
    /// Pages on the free list. Guarded by `lock`.
    pub nfree: Shared<u64>,
}

#[unsafe(no_mangle)]
pub static kmem: Kmem = Kmem {
    lock: Spinlock::new("kmem"),
    freelist: Shared::new(null_mut()),
    nfree: Shared::new(0),
};

fn end_addr() -> u64 {
    &raw const end as u64
}

pub fn kinit() {
    let mut p = pgroundup(end_addr());
    while p + PGSIZE <= PHYSTOP {
        kfree(p as *mut u8);
        p += PGSIZE;
    }
}

/// Returns the page at `pa` (as returned by `kalloc`) to the free list.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn kfree(pa: *mut u8) {
    let a = pa as u64;
    if !a.is_multiple_of(PGSIZE) || a < end_addr() || a >= PHYSTOP {
        panic!("kfree {a:#x}");
    }
    // SAFETY: the page is in RAM above the kernel and the caller gives up ownership of it.
    unsafe { core::ptr::write_bytes(pa, 1, PGSIZE as usize) };
    let r = pa as *mut Run;
    let _g = kmem.lock.lock();
    // SAFETY: freelist and nfree are guarded by kmem.lock, held; r is an owned free page.
    unsafe {
        (*r).next = *kmem.freelist.get();
        *kmem.freelist.get() = r;
        *kmem.nfree.get() += 1;
    }
}

/// A free page, or null when there is none. Its contents are junk.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn kalloc() -> *mut u8 {
    let r = {
        let _g = kmem.lock.lock();
        // SAFETY: guarded by kmem.lock, held.
        unsafe {
            let r = *kmem.freelist.get();
            if !r.is_null() {
                *kmem.freelist.get() = (*r).next;
                *kmem.nfree.get() -= 1;
            }
            r
        }
    };
    if !r.is_null() {
        // SAFETY: the page just left the free list and is ours.
        unsafe { core::ptr::write_bytes(r as *mut u8, 5, PGSIZE as usize) };
    }
    r as *mut u8
}

/// Bytes of free physical memory.
pub fn freemem() -> u64 {
    let _g = kmem.lock.lock();
    // SAFETY: guarded by kmem.lock, held.
    unsafe { *kmem.nfree.get() * PGSIZE }
}
