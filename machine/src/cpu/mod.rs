//! A RISC-V hart: RV64IMAC + Zicsr + Zifencei, privilege modes M/S/U, Sv39, Sstc, behaving as
//! QEMU's `virt` CPU does for xv6.
//!
//! Interface (used by `machine.rs`, gdb and the TUI):
//! - [`Hart::new`]`(id)`: reset state (M-mode, pc 0); public `x`, `pc`, `mode`.
//! - [`Hart::run`]`(bus, budget, breakpoints) -> Exit`: executes up to `budget` cycles (one
//!   per instruction attempted) and says why it stopped. `bus.now` is the machine cycle at the
//!   start of the call and is kept exact (`start + cycles so far`) whenever the hart touches a
//!   device, reads `time` or polls interrupts; on return it is `start + executed`.
//! - [`Hart::is_waiting`], [`Hart::wakeable`], [`Hart::timer_deadline`]: the `wfi` protocol.
//! - [`Hart::clear_reservation`]: the machine calls it when it switches harts.
//! - [`Hart::csr_read`], [`Hart::csr_write`], [`Hart::translate`], [`Hart::instret`]: for
//!   debuggers, without side effects on the guest.
//!
//! Structure: `decode` (pure decoder and disassembler), `encode` (its inverse, for generated
//! programs), `icache` (decode cache shared through the bus), `execute` (the run loop), `csr`,
//! `mmu` (Sv39 and the TLB), `trap`, `watch` (data watchpoints), `spin` (idle-loop detection).
//!
//! The guest never panics the host: every guest error is a RISC-V trap.

pub mod csr;
pub mod decode;
pub mod encode;
mod execute;
pub mod icache;
pub mod jit;
pub mod mmu;
mod spin;
pub mod trap;
mod watch;

#[cfg(test)]
mod jit_tests;
#[cfg(test)]
mod tests;

use crate::board::CYCLES_PER_TICK;
use crate::bus::Bus;
use csr::{Csrs, MENVCFG_STCE, MIP_STIP, Now};
use mmu::{EMPTY, INVALID, TLB_SIZE, TlbEntry};

pub use decode::{Inst, Op, decode};
pub use trap::{Event, Trap};
pub use watch::{WatchKind, Watchpoint};

/// Privilege mode, encoded as in `mstatus.MPP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    User = 0,
    Supervisor = 1,
    Machine = 3,
}

impl Mode {
    /// The mode of an `MPP`-style field; the reserved value 2 reads as User.
    pub fn from_bits(b: u64) -> Mode {
        match b & 3 {
            3 => Mode::Machine,
            1 => Mode::Supervisor,
            _ => Mode::User,
        }
    }
}

/// Kind of memory access, for translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Fetch,
    Load,
    Store,
}

/// Why `Hart::run` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// The budget of instructions ran out.
    Budget,
    /// The hart executed `wfi` and waits for an interrupt.
    Wfi,
    /// `pc` reached a breakpoint address; the instruction there has not executed.
    Breakpoint,
    /// The instruction at `pc` would access watched memory; it has not executed
    /// ([`Hart::watch_hit`] says where).
    Watchpoint,
    /// A device asked the machine to stop (`bus.halt` is set).
    Halt,
    /// The hart spins waiting for another hart (see `spin`): the rest of its quantum would be
    /// wasted. It is not waiting: the machine runs it again in its next turn.
    Yield,
}

/// Result of `Hart::run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// Cycles used during this call: instructions attempted, retired or trapping.
    pub executed: u64,
    pub reason: ExitReason,
}

#[derive(Clone)]
pub struct Hart {
    pub id: usize,
    pub x: [u64; 32],
    pub pc: u64,
    pub mode: Mode,
    pub csr: Csrs,
    /// Misaligned loads and stores: true (default) performs them, byte by byte, as QEMU's
    /// `virt` CPU does (measured on QEMU 7.2 with riscv-tests' ma_data and our ISA tests);
    /// false traps them (cause 4/6, tval = address), as the spec also allows. Misaligned
    /// LR/SC and AMOs always trap.
    pub misaligned_ok: bool,
    /// When Some, every trap and xRET appends an [`Event`] (at most `trap::MAX_EVENTS`; the
    /// owner drains the vector). None by default: no cost.
    pub events: Option<Vec<Event>>,
    /// Events not recorded because the vector was full.
    pub events_dropped: u64,
    /// Set by `wfi` with nothing pending; cleared when an interrupt becomes pending.
    waiting: bool,
    /// Instructions retired and cycles spent before the current `run` call.
    instret: u64,
    cycles: u64,
    /// LR reservation: virtual address and the value loaded (SC compares both, as QEMU).
    reservation: Option<(u64, u64)>,
    /// Hardware interrupt lines (MSIP, MTIP, MEIP, SEIP) at the last poll.
    lines: u64,
    /// The machine cycle at which the current `run` call started, and how many of its cycles
    /// went to instructions that did not retire.
    run_start: u64,
    skipped: u64,
    /// Cycles into the current `run` call at the last slow path (for event timestamps).
    at: u64,
    /// The other harts' cycles when the current `run` call started (they hold while this
    /// hart runs): with `cycles + at`, the machine's position of an event.
    pub(crate) others: u64,
    /// `bus.now` when the last `run` call returned.
    last_now: u64,
    /// Set by slow paths that touched a device: the run loop then polls interrupts and halt.
    poll: bool,
    /// A lock spin or a flag poll gives up the hart's turn (false in contention mode: it
    /// spins on, as a parallel hart would; xv6's `acquire` loop is caught as either).
    pub(crate) lock_yield: bool,
    /// Since the last interrupt poll of this `run` call, which took nothing, nothing that a
    /// poll looks at has changed but time (see execute.rs): cleared by traps, xRET and CSR
    /// instructions.
    quiet: bool,
    /// A poll was due when the last `run` call ended (see execute.rs): the next one polls
    /// before its first instruction.
    poll_due: bool,
    // Software TLB (see mmu.rs).
    tlb_fetch: [TlbEntry; TLB_SIZE],
    tlb_load: [TlbEntry; TLB_SIZE],
    tlb_store: [TlbEntry; TLB_SIZE],
    tlb_gen: u8,
    /// `satp` as of the last flush: `run` flushes if a debugger changed `csr.satp` directly.
    tlb_satp: u64,
    key_ls: u64,
    key_fetch: u64,
    // The page being executed: its TLB-style tag, first decode-cache entry and RAM offset.
    fetch_tag: u64,
    fetch_slot: usize,
    fetch_off: usize,
    /// Whether a breakpoint lies in the fetch page.
    bp_here: bool,
    /// Detects idle loops and lock spins (see spin.rs).
    spin: spin::SpinDetector,
    /// Data watchpoints (see watch.rs); empty costs nothing.
    watchpoints: Vec<Watchpoint>,
    /// Which watchpoint ended the last run.
    watch_hit: Option<(u64, WatchKind)>,
    /// Watchpoints do not fire: set by the machine to resume past a watchpoint stop.
    pub watch_off: bool,
}

impl Hart {
    /// A hart at reset: M-mode, pc 0, `mhartid = id`.
    pub fn new(id: usize) -> Self {
        let mut h = Hart {
            id,
            x: [0; 32],
            pc: 0,
            mode: Mode::Machine,
            csr: Csrs::default(),
            misaligned_ok: true,
            events: None,
            events_dropped: 0,
            at: 0,
            others: 0,
            poll_due: false,
            quiet: false,
            lock_yield: true,
            waiting: false,
            instret: 0,
            cycles: 0,
            reservation: None,
            lines: 0,
            run_start: 0,
            skipped: 0,
            last_now: 0,
            poll: false,
            tlb_fetch: [EMPTY; TLB_SIZE],
            tlb_load: [EMPTY; TLB_SIZE],
            tlb_store: [EMPTY; TLB_SIZE],
            tlb_gen: 0,
            tlb_satp: 0,
            key_ls: 0,
            key_fetch: 0,
            fetch_tag: INVALID,
            fetch_slot: 0,
            fetch_off: usize::MAX,
            bp_here: false,
            spin: spin::SpinDetector::new(),
            watchpoints: Vec::new(),
            watch_hit: None,
            watch_off: false,
        };
        h.update_keys();
        h
    }

    /// Runs at most `budget` cycles. `bus.now` must hold the cycle at which this hart's
    /// quantum starts; the hart advances it as it executes (see the module essay).
    pub fn run(&mut self, bus: &mut Bus, budget: u64, breakpoints: &[u64]) -> Exit {
        self.run_loop(bus, budget, breakpoints)
    }

    /// Instructions retired so far (`minstret` without writes to it).
    pub fn instret(&self) -> u64 {
        self.instret
    }

    /// Cycles this hart has spent in `run` (`mcycle` without writes to it).
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Whether the hart sits in `wfi`.
    pub fn is_waiting(&self) -> bool {
        self.waiting
    }

    /// Whether an enabled interrupt is pending (`mip & mie`, ignoring the global enables), so
    /// that a waiting hart should resume. Polls the bus's lines; `bus.now` must be current.
    pub fn wakeable(&mut self, bus: &mut Bus) -> bool {
        self.lines = bus.irq_lines(self.id);
        self.mip_now(bus.mtime()) & self.csr.mie != 0
    }

    /// The `stimecmp` deadline in `mtime` ticks, when Sstc is on and STIE enabled.
    pub fn timer_deadline(&self) -> Option<u64> {
        let c = &self.csr;
        (c.menvcfg & MENVCFG_STCE != 0 && c.mie & MIP_STIP != 0).then_some(c.stimecmp)
    }

    /// The hart starts a turn (a new quantum, or a debugger's step): spin detection starts
    /// afresh. Only here, not at every `run` call, so that where a run of the machine ends
    /// (a budget, a breakpoint) never changes when a spinning hart yields.
    pub(crate) fn new_turn(&mut self) {
        self.spin.reset();
    }

    /// Forgets the page being executed, as `fence.i` does: the next fetch looks its page up
    /// in the decode cache again (after the cache was flushed by a snapshot restore).
    pub(crate) fn forget_fetch(&mut self) {
        self.fetch_tag = INVALID;
    }

    /// Drops the LR reservation (the machine does this when it switches harts).
    pub fn clear_reservation(&mut self) {
        self.reservation = None;
    }

    /// The values a CSR read outside `run` sees: time as of the end of the last `run`.
    fn idle_now(&self) -> Now {
        Now {
            mtime: self.last_now / CYCLES_PER_TICK,
            cycle: self.cycles,
            instret: self.instret,
        }
    }

    /// Reads a CSR for a debugger: no access check, no side effect. `mip` shows the lines as
    /// of the last interrupt poll, `time` the time at the end of the last `run`.
    pub fn csr_read(&self, addr: u16) -> Option<u64> {
        self.csr_get(addr, self.idle_now())
    }

    /// Writes a CSR for a debugger: no access check; WARL rules apply. False if the CSR does
    /// not exist or is read-only.
    pub fn csr_write(&mut self, addr: u16, val: u64) -> bool {
        let now = self.idle_now();
        self.csr_set(addr, val, now)
    }
}
