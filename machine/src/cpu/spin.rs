//! Spin detection: a hart that provably waits for another hart gives up the rest of its
//! quantum, so that idle or blocked harts do not steal the running hart's time.
//!
//! Harts take turns on one host thread, so a hart that spins gets nothing done until another
//! hart runs: spinning for the rest of its quantum is pure waste. Two patterns are caught,
//! both from the hart's own state, so the schedule stays deterministic:
//!
//! - An idle loop that re-enables interrupts: older xv6 schedulers loop over the process table
//!   with interrupts on, forever, when nothing is runnable (newer ones `wfi`). Each time a
//!   write to `sstatus`/`mstatus` leaves interrupts enabled, the hart's registers and pc are
//!   hashed; meeting a hash already seen since the last trap or xRET means the hart came back
//!   to exactly the same state without taking any trap: it is looping, waiting for memory that
//!   only another hart (or an interrupt, which would be a trap) can change.
//! - A lock spin: the same atomic swap or LR at the same pc reading the same non-zero value
//!   many times in a row — a test-and-set lock held by a hart that is not running.
//! - A flag poll: a backward `beqz`/`bnez` taken again and again on the same value
//!   (`while (started == 0);`), confirmed by the whole register file being unchanged between
//!   the 64th and the 128th time round — a loop that changes no register computes nothing.
//! - A wedged hart (caught in `execute.rs`, not here): a fetch fault whose trap vector is the
//!   pc that faulted (xv6 faulting at boot before it sets `stvec`). It can only fault again,
//!   at one trap per cycle; it yields after each one, so the other harts keep full speed.
//!
//! Yielding early is always a legal schedule (a hart may run at any speed); it can only slow
//! a hart that was waiting anyway. Hashes are 64-bit; a collision would cost one early yield.

/// Size of the table of states seen (a power of two). xv6's scheduler enables interrupts once
/// per process-table entry (64 of them) per sweep.
const SEEN: usize = 256;
/// Consecutive identical non-zero reads of a lock word that count as spinning.
pub(super) const LOCK_SPINS: u32 = 16;

#[derive(Clone)]
pub(super) struct SpinDetector {
    seen: [u64; SEEN],
    /// Bumped by every trap and xRET: states from before it never match states after it.
    epoch: u64,
    lock_pc: u64,
    lock_value: u64,
    lock_reads: u32,
    branch_pc: u64,
    branch_value: u64,
    branch_count: u32,
    branch_state: u64,
}

/// The flag-poll state of a [`SpinDetector`] that translated code keeps as
/// `backward_branch` does (see jit.rs): the last branch pc, its value, and the repeats.
/// The lock-spin state of a [`SpinDetector`] that translated code keeps as `atomic_read`
/// does for swaps: the last AMO pc, the value it read, and the repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LockSpin {
    pub pc: u64,
    pub value: u64,
    pub reads: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FlagPoll {
    pub pc: u64,
    pub value: u64,
    pub count: u32,
}

impl SpinDetector {
    pub(super) fn new() -> Self {
        SpinDetector {
            seen: [0; SEEN],
            epoch: 0,
            lock_pc: 0,
            lock_value: 0,
            lock_reads: 0,
            branch_pc: 0,
            branch_value: 0,
            branch_count: 0,
            branch_state: 0,
        }
    }

    /// A new quantum: forget what was seen (other harts may have changed memory since). As
    /// after a trap, a new epoch is enough: the states seen before hash differently now (a
    /// 64-bit collision would cost one early yield), and a quantum does not pay for clearing
    /// the table.
    pub(super) fn reset(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        self.lock_reads = 0;
        self.branch_count = 0;
    }

    pub(super) fn flag_poll(&self) -> FlagPoll {
        FlagPoll {
            pc: self.branch_pc,
            value: self.branch_value,
            count: self.branch_count,
        }
    }

    pub(super) fn lock_spin(&self) -> LockSpin {
        LockSpin {
            pc: self.lock_pc,
            value: self.lock_value,
            reads: self.lock_reads,
        }
    }

    pub(super) fn set_lock_spin(&mut self, l: LockSpin) {
        self.lock_pc = l.pc;
        self.lock_value = l.value;
        self.lock_reads = l.reads;
    }

    pub(super) fn set_flag_poll(&mut self, f: FlagPoll) {
        self.branch_pc = f.pc;
        self.branch_value = f.value;
        self.branch_count = f.count;
    }

    /// A trap or xRET happened.
    #[inline]
    pub(super) fn trap(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Interrupts were left enabled by a status write; true when the hart has been in exactly
    /// this state before with no trap in between.
    pub(super) fn interrupts_enabled(&mut self, pc: u64, x: &[u64; 32]) -> bool {
        let h = self.state_hash(pc, x);
        let slot = &mut self.seen[(h >> 7) as usize & (SEEN - 1)];
        let repeat = *slot == h;
        *slot = h;
        repeat
    }

    /// A hash of the epoch, `pc` and the registers; never 0 (0 marks an empty slot).
    fn state_hash(&self, pc: u64, x: &[u64; 32]) -> u64 {
        let mut h = (self.epoch ^ pc).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for &v in &x[1..] {
            h = (h ^ v).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
        }
        h | 1
    }

    /// A backward branch at `pc` comparing `value` with zero was taken; true when it is a
    /// flag poll that changes nothing.
    pub(super) fn backward_branch(&mut self, pc: u64, value: u64, x: &[u64; 32]) -> bool {
        if pc != self.branch_pc || value != self.branch_value {
            self.branch_pc = pc;
            self.branch_value = value;
            self.branch_count = 0;
            return false;
        }
        self.branch_count += 1;
        match self.branch_count {
            64 => self.branch_state = self.state_hash(pc, x),
            128 => {
                self.branch_count = 0;
                return self.state_hash(pc, x) == self.branch_state;
            }
            _ => {}
        }
        false
    }

    /// An atomic swap or LR at `pc` read `value` from memory; true when it is a lock spin.
    pub(super) fn atomic_read(&mut self, pc: u64, value: u64) -> bool {
        if value != 0 && pc == self.lock_pc && value == self.lock_value {
            self.lock_reads += 1;
            self.lock_reads >= LOCK_SPINS
        } else {
            self.lock_pc = pc;
            self.lock_value = value;
            self.lock_reads = u32::from(value != 0);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_state_is_a_spin_unless_a_trap_intervened() {
        let mut s = SpinDetector::new();
        let mut x = [0u64; 32];
        for p in 0..64u64 {
            x[9] = 0x8000_1000 + p * 0x100; // the scheduler's `p`
            assert!(
                !s.interrupts_enabled(0x8000_2000, &x),
                "first sweep, entry {p}"
            );
        }
        x[9] = 0x8000_1000;
        assert!(
            s.interrupts_enabled(0x8000_2000, &x),
            "second sweep meets the first"
        );
        s.trap();
        assert!(
            !s.interrupts_enabled(0x8000_2000, &x),
            "a trap starts afresh"
        );
        x[10] = 1;
        assert!(
            !s.interrupts_enabled(0x8000_2000, &x),
            "other registers, other state"
        );
    }

    #[test]
    fn a_poll_that_changes_no_register_is_a_spin_but_a_counting_loop_is_not() {
        let mut s = SpinDetector::new();
        let x = [7u64; 32];
        let polled = (0..200).any(|_| s.backward_branch(0x8000_0010, 0, &x));
        assert!(polled, "while (started == 0); is a spin");
        let mut s = SpinDetector::new();
        let mut x = [0u64; 32];
        let spun = (0..1000u64).any(|i| {
            x[12] = i; // the loop also moves a pointer
            s.backward_branch(0x8000_0010, 0, &x)
        });
        assert!(!spun, "a loop whose registers change does work");
        let mut s = SpinDetector::new();
        let counted = (0..1000u64)
            .rev()
            .any(|i| s.backward_branch(0x8000_0010, i, &x));
        assert!(!counted, "a count-down loop compares a new value each time");
    }

    #[test]
    fn repeated_failed_lock_reads_are_a_spin() {
        let mut s = SpinDetector::new();
        for i in 1..LOCK_SPINS {
            assert!(!s.atomic_read(0x100, 1), "read {i}");
        }
        assert!(s.atomic_read(0x100, 1));
        assert!(!s.atomic_read(0x100, 0), "the lock was free");
        for _ in 0..100 {
            assert!(!s.atomic_read(0x100, 0), "acquiring free locks is no spin");
        }
        s.reset();
        assert!(!s.atomic_read(0x100, 1));
    }
}
