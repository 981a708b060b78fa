//! Buffer cache: `NBUF` in-memory copies of disk blocks.
//!
//! Purpose: keep recently used blocks in memory (fewer disk reads), and make each cached
//! block a synchronisation point: at most one kernel thread uses a block's buffer at a time.
//!
//! Interface:
//! - `binit()` at boot builds the LRU list.
//! - `bread(dev, blockno)` returns a [`BufGuard`]: the buffer holding the block's current
//!   contents, sleep-locked by the caller. Dropping the guard is xv6's `brelse`.
//! - `BufGuard::bwrite()` writes the buffer to disk now (the log uses it; the file system
//!   uses `log::log_write` instead).
//! - `bpin`/`bunpin` keep a buffer cached while the log holds a modified copy.
//!
//! Invariants: at most one buffer holds a given (dev, blockno); a buffer with `refcnt > 0`
//! is never recycled; `valid` means `data` holds the block's contents. The list through
//! `prev`/`next` (circular, through `head`) is ordered by release time: `head.next` is the
//! most recently released, `head.prev` the least; recycling takes from the `prev` end.
//!
//! Locking: `bcache.lock` (spin) guards `dev`, `blockno`, `refcnt`, `prev` and `next` of all
//! buffers. Each buffer's sleep-lock guards `valid` and `data`; `disk` belongs to the
//! virtio driver (under its lock) while a request is in flight.

use core::ptr::{addr_of_mut, null_mut};

use abi::fs::BSIZE;
use abi::param::NBUF;

use crate::sleeplock::Sleeplock;
use crate::spinlock::{Shared, Spinlock};
use crate::virtio_disk;

/// One cached block, as xv6's `struct buf`.
#[repr(C)]
pub struct Buf {
    /// Has `data` been read from disk?
    pub valid: i32,
    /// Does the disk own the buffer (request in flight)?
    pub disk: i32,
    pub dev: u32,
    pub blockno: u32,
    pub lock: Sleeplock,
    pub refcnt: u32,
    /// LRU list links (bcache.lock).
    pub prev: *mut Buf,
    pub next: *mut Buf,
    pub data: [u8; BSIZE],
}

// On-disk structs are used in place in `data`; they need at most 8-byte alignment.
const _: () = assert!(core::mem::offset_of!(Buf, data) % 8 == 0);

impl Buf {
    const fn new() -> Self {
        Buf {
            valid: 0,
            disk: 0,
            dev: 0,
            blockno: 0,
            lock: Sleeplock::new("buffer"),
            refcnt: 0,
            prev: null_mut(),
            next: null_mut(),
            data: [0; BSIZE],
        }
    }
}

#[repr(C)]
pub struct Bcache {
    pub lock: Spinlock,
    pub buf: [Buf; NBUF],
    /// Sentinel of the LRU list; its own data is unused.
    pub head: Buf,
}

/// The buffer cache. `bcache.lock` guards the list and reference counts.
#[unsafe(no_mangle)]
pub static bcache: Shared<Bcache> = Shared::new(Bcache {
    lock: Spinlock::new("bcache"),
    buf: [const { Buf::new() }; NBUF],
    head: Buf::new(),
});

fn bc() -> *mut Bcache {
    bcache.get()
}

fn lock() -> &'static Spinlock {
    // SAFETY: the spinlock is only used through &self methods.
    unsafe { &(*bc()).lock }
}

/// Links every buffer into the LRU list. Called once at boot, before other harts run.
pub fn binit() {
    // SAFETY: single-threaded boot; nothing else uses bcache yet.
    unsafe {
        let c = bc();
        let head = addr_of_mut!((*c).head);
        (*head).prev = head;
        (*head).next = head;
        for i in 0..NBUF {
            let b = addr_of_mut!((*c).buf[i]);
            (*b).next = (*head).next;
            (*b).prev = head;
            (*(*head).next).prev = b;
            (*head).next = b;
        }
    }
}

/// Finds the buffer for (dev, blockno), or recycles the least recently used free buffer
/// for it; returns it sleep-locked.
fn bget(dev: u32, blockno: u32) -> *mut Buf {
    lock().acquire();
    // SAFETY: bcache.lock is held for the list walk and the refcnt/identity updates.
    unsafe {
        let head = addr_of_mut!((*bc()).head);
        let mut b = (*head).next;
        while b != head {
            if (*b).dev == dev && (*b).blockno == blockno {
                (*b).refcnt += 1;
                lock().release();
                (*b).lock.acquire();
                return b;
            }
            b = (*b).next;
        }
        let mut b = (*head).prev;
        while b != head {
            if (*b).refcnt == 0 {
                (*b).dev = dev;
                (*b).blockno = blockno;
                (*b).valid = 0;
                (*b).refcnt = 1;
                lock().release();
                (*b).lock.acquire();
                return b;
            }
            b = (*b).prev;
        }
    }
    panic!("bget: no buffers");
}

/// A locked buffer; dropping it releases the lock and the reference (xv6's `brelse`).
pub struct BufGuard {
    b: *mut Buf,
}

/// Returns the buffer holding block `blockno` of `dev`, read from disk if not cached.
pub fn bread(dev: u32, blockno: u32) -> BufGuard {
    let b = bget(dev, blockno);
    // SAFETY: we hold b's sleep-lock, which guards valid and data.
    unsafe {
        if (*b).valid == 0 {
            virtio_disk::rw(b, false);
            (*b).valid = 1;
        }
    }
    BufGuard { b }
}

impl BufGuard {
    /// The raw buffer (for the disk driver and the log's pinning).
    pub fn as_ptr(&self) -> *mut Buf {
        self.b
    }

    pub fn blockno(&self) -> u32 {
        // SAFETY: blockno does not change while refcnt > 0, and we hold a reference.
        unsafe { (*self.b).blockno }
    }

    pub fn data(&self) -> &[u8; BSIZE] {
        // SAFETY: the guard holds the sleep-lock that guards data.
        unsafe { &(*self.b).data }
    }

    pub fn data_mut(&mut self) -> &mut [u8; BSIZE] {
        // SAFETY: as in data(); &mut self makes the borrow unique.
        unsafe { &mut (*self.b).data }
    }

    /// Views the block as an array of `T` (an on-disk struct: `#[repr(C)]`, plain data,
    /// alignment ≤ 8, any bit pattern valid).
    pub fn view<T>(&self) -> &[T] {
        let n = BSIZE / core::mem::size_of::<T>();
        // SAFETY: data is 8-aligned (const assert on Buf) and BSIZE bytes long; callers use
        // only integer-only on-disk structs, for which every bit pattern is valid.
        unsafe { core::slice::from_raw_parts(self.data().as_ptr() as *const T, n) }
    }

    /// Mutable form of [`view`](Self::view).
    pub fn view_mut<T>(&mut self) -> &mut [T] {
        let n = BSIZE / core::mem::size_of::<T>();
        // SAFETY: as in view().
        unsafe { core::slice::from_raw_parts_mut(self.data_mut().as_mut_ptr() as *mut T, n) }
    }

    /// Writes the buffer's contents to disk now.
    pub fn bwrite(&mut self) {
        // SAFETY: the lock is read through &self methods only.
        if !unsafe { (*self.b).lock.holding() } {
            panic!("bwrite");
        }
        virtio_disk::rw(self.b, true);
    }
}

impl Drop for BufGuard {
    fn drop(&mut self) {
        let b = self.b;
        // SAFETY: we hold b's sleep-lock and a reference; list fields under bcache.lock.
        unsafe {
            if !(*b).lock.holding() {
                panic!("brelse");
            }
            (*b).lock.release();
            lock().acquire();
            (*b).refcnt -= 1;
            if (*b).refcnt == 0 {
                // Nobody is waiting for it: move it to the most-recently-used end.
                let head = addr_of_mut!((*bc()).head);
                (*(*b).next).prev = (*b).prev;
                (*(*b).prev).next = (*b).next;
                (*b).next = (*head).next;
                (*b).prev = head;
                (*(*head).next).prev = b;
                (*head).next = b;
            }
            lock().release();
        }
    }
}

/// Takes an extra reference so the buffer stays cached (the log pins logged blocks).
pub fn bpin(b: *mut Buf) {
    lock().acquire();
    // SAFETY: bcache.lock guards refcnt; b is a cached buffer.
    unsafe { (*b).refcnt += 1 };
    lock().release();
}

/// Drops a reference taken by `bpin`.
pub fn bunpin(b: *mut Buf) {
    lock().acquire();
    // SAFETY: as in bpin.
    unsafe { (*b).refcnt -= 1 };
    lock().release();
}
