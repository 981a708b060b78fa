//! Sleep locks: long-term locks (held across disk I/O) that yield the CPU while waiting.
//!
//! Interface: `Sleeplock::new(name)`, `acquire`, `release`, `holding`. Only process context
//! may use them (they sleep); they may be held with interrupts on.
//!
//! Invariants: `locked` and `pid` are guarded by the inner spin lock `lk`; `pid` names the
//! holder while `locked` is 1. Waiters sleep on the lock's own address and `release` wakes
//! them all; each re-checks `locked` under `lk`.

use crate::proc::{myproc, sleep, wakeup};
use crate::spinlock::{Shared, Spinlock};

#[repr(C)]
pub struct Sleeplock {
    /// Is the lock held? Guarded by `lk`.
    pub locked: Shared<u32>,
    /// Spin lock protecting this sleep lock.
    pub lk: Spinlock,
    /// For debugging: the lock's name.
    pub name: &'static str,
    /// Process holding the lock. Guarded by `lk`.
    pub pid: Shared<i32>,
}

impl Sleeplock {
    pub const fn new(name: &'static str) -> Self {
        Sleeplock {
            locked: Shared::new(0),
            lk: Spinlock::new("sleep lock"),
            name,
            pid: Shared::new(0),
        }
    }

    fn chan(&self) -> usize {
        self as *const Self as usize
    }

    pub fn acquire(&self) {
        self.lk.acquire();
        // SAFETY: locked and pid are guarded by lk, held here.
        unsafe {
            while *self.locked.get() != 0 {
                sleep(self.chan(), &self.lk);
            }
            *self.locked.get() = 1;
            *self.pid.get() = (*myproc()).pid;
        }
        self.lk.release();
    }

    pub fn release(&self) {
        self.lk.acquire();
        // SAFETY: guarded by lk.
        unsafe {
            *self.locked.get() = 0;
            *self.pid.get() = 0;
        }
        wakeup(self.chan());
        self.lk.release();
    }

    /// Does the current process hold this lock?
    pub fn holding(&self) -> bool {
        self.lk.acquire();
        let p = myproc();
        // SAFETY: guarded by lk; myproc() is non-null in process context.
        let r = unsafe { *self.locked.get() != 0 && !p.is_null() && *self.pid.get() == (*p).pid };
        self.lk.release();
        r
    }
}
