//! Breakpoints and watchpoints (`Z0`–`Z4`).
//!
//! Software and hardware breakpoints are the same thing on an interpreter: a pc in the
//! machine's breakpoint list, checked by the hart only when it enters a page that holds one,
//! so they cost the guest nothing until hit. The session remembers which kind gdb asked for
//! (to answer `swbreak`/`hwbreak` in the stop reply) and which addresses it added, so a
//! client that vanishes leaves no breakpoint behind.
//!
//! Watchpoints are virtual address ranges, handed to the machine (`machine::cpu::watch`):
//! pages holding a watched byte leave the hart's TLB, so only accesses to those pages are
//! compared, and the rest of the guest runs at full speed. A hit stops the hart *before* the
//! access, with the pc at the accessing instruction. That is what gdb expects on RISC-V (its
//! watchpoints are "non-steppable": gdb removes the watchpoint, steps over the instruction
//! itself and compares old and new values) and what QEMU's stub reports. With scheduler
//! locking on (one hart runs alone) the server steps that hart and checks each instruction's
//! access itself ([`next_access`], [`triggered`]), the same rule by decoding.

use super::GdbTarget;
use gdbstub::target::TargetResult;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps, SwBreakpoint,
    SwBreakpointOps, WatchKind,
};
use machine::Machine;
use machine::cpu::{Access, Op, decode};

/// A watched range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    pub addr: u64,
    pub len: u64,
    pub kind: WatchKind,
}

/// What an instruction is about to do to memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemAccess {
    pub addr: u64,
    pub len: u64,
    pub read: bool,
    pub write: bool,
}

/// The memory access the instruction at hart `h`'s pc would make, if it is a load, store or
/// AMO whose instruction can be fetched.
pub fn next_access(m: &Machine, h: usize) -> Option<MemAccess> {
    let hart = m.harts.get(h)?;
    let fetch = |va: u64| -> Option<u16> {
        let pa = hart.translate(&m.bus, va, Access::Fetch)?;
        let mut b = [0u8; 2];
        m.read_phys(pa, &mut b).then(|| u16::from_le_bytes(b))
    };
    let lo = fetch(hart.pc)?;
    let raw = if lo & 3 == 3 {
        // The upper half may sit on the next page: translate it on its own.
        (fetch(hart.pc.wrapping_add(2))? as u32) << 16 | lo as u32
    } else {
        lo as u32
    };
    let i = decode(raw);
    let base = hart.x[i.rs1 as usize & 31];
    let offset = base.wrapping_add(i.imm as i64 as u64);
    use Op::*;
    let (addr, len, read, write) = match i.op {
        Lb | Lbu => (offset, 1, true, false),
        Lh | Lhu => (offset, 2, true, false),
        Lw | Lwu => (offset, 4, true, false),
        Ld => (offset, 8, true, false),
        Sb => (offset, 1, false, true),
        Sh => (offset, 2, false, true),
        Sw => (offset, 4, false, true),
        Sd => (offset, 8, false, true),
        // LR/SC/AMOs address x[rs1] with no offset (`imm` holds aq/rl there).
        LrW => (base, 4, true, false),
        LrD => (base, 8, true, false),
        ScW => (base, 4, false, true),
        ScD => (base, 8, false, true),
        AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW | AmominuW
        | AmomaxuW => (base, 4, true, true),
        AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD | AmomaxD | AmominuD
        | AmomaxuD => (base, 8, true, true),
        _ => return None,
    };
    Some(MemAccess {
        addr,
        len,
        read,
        write,
    })
}

/// The first watchpoint that `access` triggers, with the watched address to report.
pub fn triggered(watches: &[Watch], access: MemAccess) -> Option<(WatchKind, u64)> {
    watches.iter().find_map(|w| {
        let overlap = access.addr < w.addr.wrapping_add(w.len)
            && w.addr < access.addr.wrapping_add(access.len);
        let kind_ok = match w.kind {
            WatchKind::Write => access.write,
            WatchKind::Read => access.read,
            WatchKind::ReadWrite => access.read || access.write,
        };
        (overlap && kind_ok).then(|| (w.kind, access.addr.max(w.addr)))
    })
}

/// The machine's form of a gdb watchpoint.
pub fn machine_watch(w: Watch) -> machine::cpu::Watchpoint {
    machine::cpu::Watchpoint {
        addr: w.addr,
        len: w.len,
        kind: match w.kind {
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
    /// Removes every breakpoint this session added to the machine (on detach or when the
    /// client goes away) and forgets the watchpoints.
    pub fn drop_breakpoints(&mut self) {
        for pc in self.sw.drain(..).chain(self.hw.drain(..)) {
            self.machine.remove_breakpoint(pc);
        }
        for w in self.watches.drain(..) {
            self.machine.remove_watchpoint(machine_watch(w));
        }
    }

    fn add_pc(&mut self, pc: u64, hw: bool) -> bool {
        let list = if hw { &mut self.hw } else { &mut self.sw };
        if !list.contains(&pc) {
            list.push(pc);
        }
        self.machine.add_breakpoint(pc);
        true
    }

    fn remove_pc(&mut self, pc: u64, hw: bool) -> bool {
        let list = if hw { &mut self.hw } else { &mut self.sw };
        let before = list.len();
        list.retain(|&p| p != pc);
        let was = before != list.len();
        if !self.sw.contains(&pc) && !self.hw.contains(&pc) {
            self.machine.remove_breakpoint(pc);
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
        let w = Watch { addr, len, kind };
        self.watches.push(w);
        self.machine.add_watchpoint(machine_watch(w));
        Ok(true)
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        match self
            .watches
            .iter()
            .position(|w| *w == Watch { addr, len, kind })
        {
            Some(i) => {
                let w = self.watches.remove(i);
                if !self.watches.contains(&w) {
                    self.machine.remove_watchpoint(machine_watch(w));
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use machine::{Config, Image};

    fn machine(code: &[u32]) -> Machine {
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        Machine::new(
            Config {
                harts: 1,
                ram_mib: 1,
                ..Config::default()
            },
            Image::Raw(&bytes),
            None,
        )
        .expect("machine")
    }

    #[test]
    fn decodes_the_address_of_loads_stores_and_amos() {
        let m = |w: u32| {
            let mut m = machine(&[w]);
            m.harts[0].x[10] = 0x8000_1000; // a0
            next_access(&m, 0)
        };
        // sw a5,8(a0)
        assert_eq!(
            m(0x00f52423),
            Some(MemAccess {
                addr: 0x8000_1008,
                len: 4,
                read: false,
                write: true
            })
        );
        // ld a1,-8(a0)
        assert_eq!(
            m(0xff853583),
            Some(MemAccess {
                addr: 0x8000_0ff8,
                len: 8,
                read: true,
                write: false
            })
        );
        // amoadd.w a1,a2,(a0)
        assert_eq!(
            m(0x00c525af),
            Some(MemAccess {
                addr: 0x8000_1000,
                len: 4,
                read: true,
                write: true
            })
        );
        // c.sw a5,0(a0) = 0xc11c, followed by a nop half
        assert_eq!(
            m(0x0001_c11c),
            Some(MemAccess {
                addr: 0x8000_1000,
                len: 4,
                read: false,
                write: true
            })
        );
        // addi a0,a0,1
        assert_eq!(m(0x00150513), None);
    }

    #[test]
    fn kinds_and_ranges_decide_a_trigger() {
        let w = [
            Watch {
                addr: 0x100,
                len: 4,
                kind: WatchKind::Write,
            },
            Watch {
                addr: 0x200,
                len: 8,
                kind: WatchKind::Read,
            },
        ];
        let acc = |addr, len, read, write| MemAccess {
            addr,
            len,
            read,
            write,
        };
        assert_eq!(
            triggered(&w, acc(0x102, 1, false, true)),
            Some((WatchKind::Write, 0x102))
        );
        assert_eq!(
            triggered(&w, acc(0xfc, 8, false, true)),
            Some((WatchKind::Write, 0x100))
        );
        assert_eq!(
            triggered(&w, acc(0x100, 4, true, false)),
            None,
            "a load does not trigger a write watch"
        );
        assert_eq!(
            triggered(&w, acc(0x104, 4, false, true)),
            None,
            "adjacent, no overlap"
        );
        assert_eq!(
            triggered(&w, acc(0x1fc, 8, true, true)),
            Some((WatchKind::Read, 0x200))
        );
        let a = [Watch {
            addr: 0x300,
            len: 4,
            kind: WatchKind::ReadWrite,
        }];
        assert!(triggered(&a, acc(0x300, 4, true, false)).is_some());
        assert!(triggered(&a, acc(0x300, 4, false, true)).is_some());
    }
}
