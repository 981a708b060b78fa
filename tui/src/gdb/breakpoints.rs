//! Breakpoints and watchpoints (`Z0`–`Z4`).
//!
//! Software and hardware breakpoints are the same thing on an interpreter: a pc where the
//! machine stops, checked by the hart only when it enters a page that holds one, so they
//! cost the guest nothing until hit. They go into the session's registry under the owner
//! `Gdb`, so a breakpoint the TUI or the syscall tracer has at the same pc is never
//! disturbed by gdb removing its own, and a client that vanishes leaves nothing behind
//! (`Session::clear_owner`). The target remembers which kind gdb asked for, to answer
//! `swbreak`/`hwbreak` in the stop reply.
//!
//! Watchpoints are virtual address ranges in the hart (`machine/src/cpu/watch.rs`): pages
//! holding a watched byte leave the hart's TLB, so only accesses to those pages are
//! compared, and the rest of the guest runs at full speed. A hit stops the hart *before*
//! the access, with the pc at the accessing instruction. That is what gdb expects on
//! RISC-V (its watchpoints are "non-steppable": gdb removes the watchpoint, steps over the
//! instruction itself and compares old and new values) and what QEMU's stub reports. With
//! scheduler locking on (one hart runs alone) the same machine check applies
//! (`Session::run_hart`).

use super::GdbTarget;
use gdbstub::target::TargetResult;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps, SwBreakpoint,
    SwBreakpointOps, WatchKind,
};
use machine::cpu::Watchpoint;
use session::{Owner, Resolved};

/// The machine's form of a gdb watchpoint.
pub fn machine_watch(addr: u64, len: u64, kind: WatchKind) -> Watchpoint {
    Watchpoint {
        addr,
        len,
        kind: match kind {
            WatchKind::Write => machine::cpu::WatchKind::Write,
            WatchKind::Read => machine::cpu::WatchKind::Read,
            WatchKind::ReadWrite => machine::cpu::WatchKind::Access,
        },
    }
}

/// gdb's name for the kind of a machine watchpoint.
pub fn gdb_watch_kind(kind: machine::cpu::WatchKind) -> WatchKind {
    match kind {
        machine::cpu::WatchKind::Write => WatchKind::Write,
        machine::cpu::WatchKind::Read => WatchKind::Read,
        machine::cpu::WatchKind::Access => WatchKind::ReadWrite,
    }
}

impl GdbTarget {
    /// Removes every breakpoint and watchpoint of this client (on detach or when it goes
    /// away).
    pub fn drop_breakpoints(&mut self) {
        self.sw.clear();
        self.hw.clear();
        self.session.clear_owner(Owner::Gdb);
    }

    fn add_pc(&mut self, pc: u64, hw: bool) -> bool {
        let list = if hw { &mut self.hw } else { &mut self.sw };
        if !list.contains(&pc) {
            list.push(pc);
        }
        self.session.set_breakpoint(
            Owner::Gdb,
            Resolved {
                addr: pc,
                label: format!("gdb {pc:#x}"),
                cond: None,
            },
        );
        true
    }

    fn remove_pc(&mut self, pc: u64, hw: bool) -> bool {
        let list = if hw { &mut self.hw } else { &mut self.sw };
        let before = list.len();
        list.retain(|&p| p != pc);
        let was = before != list.len();
        if !self.sw.contains(&pc) && !self.hw.contains(&pc) {
            self.session.remove_breakpoint(Owner::Gdb, pc);
        }
        was
    }
}

impl Breakpoints for GdbTarget {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for GdbTarget {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.add_pc(addr, false))
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.remove_pc(addr, false))
    }
}

impl HwBreakpoint for GdbTarget {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.add_pc(addr, true))
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.remove_pc(addr, true))
    }
}

impl HwWatchpoint for GdbTarget {
    fn add_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        if len == 0 {
            return Ok(false);
        }
        self.session
            .add_watchpoint(Owner::Gdb, machine_watch(addr, len, kind));
        Ok(true)
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        Ok(self
            .session
            .remove_watchpoint(Owner::Gdb, machine_watch(addr, len, kind)))
    }
}
