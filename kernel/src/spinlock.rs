//! Spin locks: mutual exclusion between harts, with interrupts off while held.
//!
//! Interface: `Spinlock::new(name)`, `acquire`, `release`, `holding`, and `lock()` which
//! returns a guard that releases on drop; `push_off`/`pop_off`
//! nest interrupt disabling per hart; `Shared<T>` is the `UnsafeCell` wrapper that lets a
//! `static` table (the process table, the file table, ...) be mutated under a lock that lives
//! beside it.
//!
//! Invariants:
//! - A hart holding any spin lock has interrupts off, so an interrupt handler on the same hart
//!   can never spin on a lock its own hart holds (deadlock). `push_off` counts nesting in
//!   `Cpu::noff` and remembers in `Cpu::intena` whether interrupts were on before the
//!   outermost `push_off`; the matching last `pop_off` restores that state.
//! - `locked` is taken with an atomic swap with acquire ordering and released with a store of
//!   release ordering, so everything written inside the critical section is visible to the
//!   next holder (RISC-V `amoswap.w.aq` / `amoswap.w.rl` or `fence` + `sw`).
//! - `cpu` records the holder for `holding` and for debugging; it is only meaningful while
//!   `locked` is 1, and is written only by the holder.
//! - Acquiring a lock the hart already holds, or releasing one it does not, is a kernel bug
//!   and panics.

use crate::proc::{Cpu, mycpu};
use crate::riscv::{intr_get, intr_off, intr_on};
use core::cell::UnsafeCell;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

#[repr(C)]
pub struct Spinlock {
    /// 1 while held.
    pub locked: AtomicU32,
    /// For debugging: the lock's name.
    pub name: &'static str,
    /// The cpu holding the lock (null when free).
    pub cpu: AtomicPtr<Cpu>,
}

impl Spinlock {
    pub const fn new(name: &'static str) -> Self {
        Spinlock {
            locked: AtomicU32::new(0),
            name,
            cpu: AtomicPtr::new(null_mut()),
        }
    }

    /// Spins until the lock is ours. Interrupts stay off until the matching `release`.
    pub fn acquire(&self) {
        push_off();
        if self.holding() {
            panic!("acquire {}", self.name);
        }
        while self.locked.swap(1, Ordering::Acquire) != 0 {
            core::hint::spin_loop();
        }
        self.cpu.store(mycpu(), Ordering::Relaxed);
    }

    pub fn release(&self) {
        if !self.holding() {
            panic!("release {}", self.name);
        }
        self.cpu.store(null_mut(), Ordering::Relaxed);
        self.locked.store(0, Ordering::Release);
        pop_off();
    }

    /// Acquires the lock for the lifetime of the returned guard (released when it drops).
    pub fn lock(&self) -> SpinlockGuard<'_> {
        self.acquire();
        SpinlockGuard { lock: self }
    }

    /// Does this hart hold the lock? Call with interrupts off (the answer would otherwise go
    /// stale if the process moved to another hart).
    pub fn holding(&self) -> bool {
        self.locked.load(Ordering::Relaxed) != 0 && self.cpu.load(Ordering::Relaxed) == mycpu()
    }
}

/// Proof that this hart holds `lock`; releases it when dropped. Used where a critical
/// section has one entry and several exits; `sleep` still takes the bare lock.
pub struct SpinlockGuard<'a> {
    lock: &'a Spinlock,
}

impl Drop for SpinlockGuard<'_> {
    fn drop(&mut self) {
        self.lock.release();
    }
}

/// Disables interrupts on this hart, counting nesting. Pairs with `pop_off`.
pub fn push_off() {
    let old = intr_get();
    intr_off();
    let c = mycpu();
    // SAFETY: interrupts are off, so nothing else on this hart touches its own Cpu entry,
    // and no other hart ever writes it.
    unsafe {
        if (*c).noff == 0 {
            (*c).intena = old as i32;
        }
        (*c).noff += 1;
    }
}

/// Undoes one `push_off`; the outermost one re-enables interrupts if they were on before.
pub fn pop_off() {
    let c = mycpu();
    if intr_get() {
        panic!("pop_off - interruptible");
    }
    // SAFETY: interrupts are off; this hart alone uses its Cpu entry.
    unsafe {
        if (*c).noff < 1 {
            panic!("pop_off");
        }
        (*c).noff -= 1;
        if (*c).noff == 0 && (*c).intena != 0 {
            intr_on();
        }
    }
}

/// A `static`'s interior, mutated through raw pointers under a lock named in the user's docs.
/// Transparent, so DWARF and the debugger see the inner type's layout at the symbol.
#[repr(transparent)]
pub struct Shared<T>(UnsafeCell<T>);

// SAFETY: every user of a `Shared` documents which lock (or per-hart invariant) serialises
// access to each part of it; `Shared` itself only hands out raw pointers.
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    pub const fn new(v: T) -> Self {
        Shared(UnsafeCell::new(v))
    }
    pub const fn get(&self) -> *mut T {
        self.0.get()
    }
}
