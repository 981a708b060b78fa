//! A RISC-V RV64IMAC hart. STUB: to be completed by the cpu work.
//!
//! Interface used by `machine.rs` (keep these signatures):
//! - `Hart::new(id)`, public `x`, `pc`, `mode`
//! - `Hart::run(&mut self, bus, budget, breakpoints) -> Exit`
//! - `is_waiting`, `wakeable(bus)`, `timer_deadline()`, `instret()`
//! - `csr_read(addr)` / `csr_write(addr, val)` without side effects, for debuggers
//! - `translate(bus, vaddr, Access)` without side effects, for debuggers

use crate::bus::Bus;

/// Privilege mode, encoded as in `mstatus.MPP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    User = 0,
    Supervisor = 1,
    Machine = 3,
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
    /// A device asked the machine to stop (`bus.halt` is set).
    Halt,
}

/// Result of `Hart::run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// Instructions retired during this call.
    pub executed: u64,
    pub reason: ExitReason,
}

pub struct Hart {
    pub id: usize,
    pub x: [u64; 32],
    pub pc: u64,
    pub mode: Mode,
}

impl Hart {
    pub fn new(id: usize) -> Self {
        Hart { id, x: [0; 32], pc: 0, mode: Mode::Machine }
    }

    /// Runs at most `budget` instructions. `bus.now` must hold the cycle at which this hart's
    /// quantum starts; the hart advances it as it retires instructions.
    pub fn run(&mut self, _bus: &mut Bus, _budget: u64, _breakpoints: &[u64]) -> Exit {
        Exit { executed: 0, reason: ExitReason::Budget }
    }
}
