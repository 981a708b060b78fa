//! The global allocator: Kernighan and Ritchie's free list (K&R 2nd ed., section 8.7), the
//! same algorithm as xv6's `umalloc.c`, over `sbrk`.
//!
//! Memory is handed out in units of one 16-byte [`Header`]; every block starts with a header
//! holding its size in units, and the payload follows it, so payloads are 16-byte aligned
//! (morecore pads the break to a unit boundary first). Free blocks
//! form a circular list sorted by address, which lets `free` merge a block with free
//! neighbours. When no free block fits, at least 4096 units (64 KiB) more are taken from
//! `sbrk`. Memory is never returned to the kernel. Alignments above 16 are refused (null).
//!
//! Locking: none. xv6 processes have one thread and no signal handlers, so the allocator is
//! never re-entered; `Sync` is asserted on that basis.

use crate::ulib::sbrk;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{self, null_mut};

#[repr(C, align(16))]
struct Header {
    /// Next free block (free blocks only).
    next: *mut Header,
    /// Size of this block in units, header included.
    units: usize,
}

const UNIT: usize = core::mem::size_of::<Header>();
const MIN_MORE: usize = 4096;

struct State {
    /// Zero-size list head, so the list is never empty.
    base: Header,
    /// Where the last search stopped; null until first use.
    freep: *mut Header,
}

/// The allocator behind `Vec`, `String`, `Box`.
pub struct Umalloc(UnsafeCell<State>);

// SAFETY: single-threaded processes without signals never call it concurrently (see above).
unsafe impl Sync for Umalloc {}

#[global_allocator]
static ALLOCATOR: Umalloc = Umalloc(UnsafeCell::new(State {
    base: Header {
        next: null_mut(),
        units: 0,
    },
    freep: null_mut(),
}));

impl State {
    /// Puts block `bp` (a header) on the free list, merging with adjacent free blocks.
    unsafe fn free(&mut self, bp: *mut Header) {
        // SAFETY: bp is a block header from malloc or morecore, not already free; every list
        // node is a valid header.
        unsafe {
            let mut p = self.freep;
            // Find p with p < bp < p.next, or the wrap-around point of the address order.
            while !(bp > p && bp < (*p).next) {
                if p >= (*p).next && (bp > p || bp < (*p).next) {
                    break;
                }
                p = (*p).next;
            }
            if bp.add((*bp).units) == (*p).next {
                (*bp).units += (*(*p).next).units;
                (*bp).next = (*(*p).next).next;
            } else {
                (*bp).next = (*p).next;
            }
            if p.add((*p).units) == bp {
                (*p).units += (*bp).units;
                (*p).next = (*bp).next;
            } else {
                (*p).next = bp;
            }
            self.freep = p;
        }
    }

    /// Gets at least `units` more units from the kernel onto the free list.
    unsafe fn morecore(&mut self, units: usize) -> bool {
        let units = units.max(MIN_MORE);
        let Some(bytes) = units
            .checked_mul(UNIT)
            .filter(|&b| b < i32::MAX as usize - UNIT)
        else {
            return false;
        };
        // A program may have moved the break by an odd amount with its own sbrk calls;
        // take the padding to the next unit boundary as well.
        let Ok(cur) = sbrk(0) else { return false };
        let pad = cur.wrapping_neg() % UNIT;
        let Ok(at) = sbrk((bytes + pad) as i32) else {
            return false;
        };
        let hp = (at + pad) as *mut Header;
        // SAFETY: sbrk just mapped `bytes + pad` writable bytes at `at`; hp is 16-byte aligned.
        unsafe {
            hp.write(Header {
                next: null_mut(),
                units,
            });
            self.free(hp);
        }
        true
    }

    unsafe fn malloc(&mut self, size: usize) -> *mut u8 {
        let units = size.div_ceil(UNIT) + 1;
        // SAFETY: list nodes are valid headers; a found block is carved up in place.
        unsafe {
            if self.freep.is_null() {
                let base = &raw mut self.base;
                (*base).next = base;
                (*base).units = 0;
                self.freep = base;
            }
            let mut prev = self.freep;
            let mut p = (*prev).next;
            loop {
                if (*p).units >= units {
                    if (*p).units == units {
                        (*prev).next = (*p).next;
                    } else {
                        // Hand out the tail of the block; the head stays on the list.
                        (*p).units -= units;
                        p = p.add((*p).units);
                        (*p).units = units;
                    }
                    self.freep = prev;
                    return p.add(1) as *mut u8;
                }
                if p == self.freep {
                    // Wrapped around the whole list: nothing fits.
                    if !self.morecore(units) {
                        return null_mut();
                    }
                    p = self.freep;
                }
                prev = p;
                p = (*p).next;
            }
        }
    }
}

// SAFETY: blocks never overlap; payloads are 16-byte aligned and at least `size` bytes.
unsafe impl GlobalAlloc for Umalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > UNIT {
            return ptr::null_mut();
        }
        // SAFETY: not re-entered (module comment).
        unsafe { (*self.0.get()).malloc(layout.size()) }
    }

    unsafe fn dealloc(&self, p: *mut u8, _layout: Layout) {
        // SAFETY: p came from alloc, so its header sits one unit below it.
        unsafe { (*self.0.get()).free((p as *mut Header).sub(1)) }
    }
}
