//! Physical page allocator: 4096-byte pages between the end of the kernel image and
//! `PHYSTOP`, for page tables, kernel stacks, user memory and pipe buffers.
//!
//! Interface: `kinit()` frees every page once at boot; `kalloc()` returns a page (null when
//! memory is exhausted) filled with junk (5) so code that forgets to initialise fails fast;
//! `kfree(pa)` returns a page, filling it with junk (1) to catch dangling references;
//! `kref_inc`/`kref_get` count the sharers of a page (below);
//! `freemem()` is the number of free bytes (for sysinfo).
//!
//! Invariants: each free page holds, in its first 8 bytes, a pointer to the next free page
//! (an intrusive list headed by `kmem.freelist`); `kmem.nfree` counts the list. Both are
//! guarded by `kmem.lock`. A page is either on the list or owned by exactly one user.
//!
//! Reference counts (the cow lab, `lab::COW`): `page_refcnt[i]` counts the page tables that
//! map physical page `KERNBASE + i * PGSIZE` (or the one kernel owner of a page that no user
//! maps). `kalloc` sets it to 1 whatever the options; `kref_inc` adds a sharer (fork with
//! copy-on-write); with the option on, `kfree` drops one reference and frees the page only
//! when the last one goes, so a page shared by parent and child stays until both let go.
//! The counts are atomics: a count only rises through a process that maps the page, so a
//! process that sees 1 is the page's only user and may take it over.

use crate::lab::{self, COW};
use crate::riscv::{PGSIZE, pgroundup};
use crate::spinlock::{Shared, Spinlock};
use abi::memlayout::{KERNBASE, PHYSTOP};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicU16, Ordering};

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

/// Physical pages of RAM, kernel image included (one reference count each).
const NPAGES: usize = ((PHYSTOP - KERNBASE) / PGSIZE) as usize;

/// The cow lab's reference counts, one per physical page of RAM, indexed by
/// `(pa - KERNBASE) / PGSIZE`.
#[unsafe(no_mangle)]
pub static page_refcnt: [AtomicU16; NPAGES] = [const { AtomicU16::new(0) }; NPAGES];

fn end_addr() -> u64 {
    &raw const end as u64
}

pub fn kinit() {
    let mut p = pgroundup(end_addr());
    while p + PGSIZE <= PHYSTOP {
        free_page(p as *mut u8);
        p += PGSIZE;
    }
}

/// The reference count of the page at `pa`.
fn refcnt(pa: u64) -> &'static AtomicU16 {
    if !pa.is_multiple_of(PGSIZE) || pa < end_addr() || pa >= PHYSTOP {
        panic!("refcnt: not a page of free RAM: {pa:#x}");
    }
    &page_refcnt[((pa - KERNBASE) / PGSIZE) as usize]
}

/// One more page table maps the page at `pa` (a copy-on-write fork shares it).
pub fn kref_inc(pa: u64) {
    refcnt(pa).fetch_add(1, Ordering::AcqRel);
}

/// How many page tables map the page at `pa`.
pub fn kref_get(pa: u64) -> u16 {
    refcnt(pa).load(Ordering::Acquire)
}

/// Drops a reference to the page at `pa` (as returned by `kalloc`); with copy-on-write on,
/// the page goes back to the free list only when that was the last reference.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn kfree(pa: *mut u8) {
    if lab::on(COW) {
        let before = refcnt(pa as u64).fetch_sub(1, Ordering::AcqRel);
        if before == 0 {
            panic!("kfree: {:#x} has no references", pa as u64);
        }
        if before > 1 {
            return;
        }
    }
    free_page(pa);
}

/// Puts the page at `pa` on the free list.
fn free_page(pa: *mut u8) {
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
        refcnt(r as u64).store(1, Ordering::Release);
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
