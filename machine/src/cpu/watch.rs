//! Data watchpoints inside the hart, at full speed away from the watched pages.
//!
//! How (the method of QEMU's softmmu TLB): a virtual page that overlaps a watchpoint never
//! enters the load or store TLB, so every access to it takes the slow path, and only the slow
//! paths (`load_slow`, `store_slow`, LR/SC, AMOs) compare the access with the watchpoints.
//! Accesses to other pages run as fast as with no watchpoint set. Setting or clearing
//! watchpoints flushes the TLB, so no entry made before can hide a watched page.
//!
//! Semantics, as the gdb server reports them: a watchpoint stops the hart *before* the access
//! takes effect (the instruction has not executed, pc is at it; an AMO neither read nor wrote).
//! The stop is [`ExitReason::Watchpoint`](super::ExitReason) with [`Hart::watch_hit`] saying
//! which address and kind; the caller resumes with the hart's `watch_off` set for the one
//! instruction that stopped, exactly as it resumes past a breakpoint. Addresses are virtual,
//! in whatever address space the hart is in when it makes the access (gdb's meaning).
//! Device DMA is not watched.

use super::decode::{Op, decode};
use super::trap::Trap;
use super::{Access, Hart};
use crate::bus::Bus;

/// What a watchpoint reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    Write,
    Read,
    /// Reads and writes.
    Access,
}

/// Accesses of `kind` that overlap virtual addresses `addr .. addr + len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watchpoint {
    pub addr: u64,
    pub len: u64,
    pub kind: WatchKind,
}

impl Watchpoint {
    fn overlaps(&self, va: u64, size: u64) -> bool {
        va < self.addr.wrapping_add(self.len) && self.addr < va.wrapping_add(size)
    }

    fn matches(&self, read: bool, write: bool) -> bool {
        match self.kind {
            WatchKind::Write => write,
            WatchKind::Read => read,
            WatchKind::Access => read || write,
        }
    }
}

/// The internal cause that carries a watchpoint stop out of a slow path. Not a RISC-V cause
/// (those are below 64): the run loop turns it into an exit, never into a guest trap.
pub(super) const WATCH_STOP: u64 = u64::MAX;

impl Hart {
    /// Replaces the hart's watchpoints and forgets every cached translation.
    pub fn set_watchpoints(&mut self, list: &[Watchpoint]) {
        self.watchpoints = list.to_vec();
        self.watch_hit = None;
        self.flush_tlb();
    }

    /// The first watched address the access touches and the kind of the watchpoint (as set:
    /// gdb names the watchpoint by it) that ended the last run, if one did.
    pub fn watch_hit(&self) -> Option<(u64, WatchKind)> {
        self.watch_hit
    }

    /// The watchpoint the hart's next instruction would trigger, by decoding it (without
    /// executing anything or changing any state): the address and the watchpoint's kind, as
    /// [`Hart::watch_hit`] would give them. For a debugger that must know before an
    /// instruction runs outside the watched path (a replayed debugger step).
    pub fn next_watch_hit(&self, bus: &Bus) -> Option<(u64, WatchKind)> {
        if self.watchpoints.is_empty() {
            return None;
        }
        let fetch = |va: u64| -> Option<u16> {
            let pa = self.translate(bus, va, Access::Fetch)?;
            let off = bus.ram.offset(pa, 2)?;
            Some(bus.ram.load(off, 2) as u16)
        };
        let lo = fetch(self.pc)?;
        let raw = if lo & 3 == 3 {
            // The upper half may sit on the next page: translated on its own.
            (fetch(self.pc.wrapping_add(2))? as u32) << 16 | lo as u32
        } else {
            lo as u32
        };
        let i = decode(raw);
        let base = self.x[i.rs1 as usize & 31];
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
        self.watchpoints
            .iter()
            .find(|w| w.matches(read, write) && w.overlaps(addr, len))
            .map(|w| (addr.max(w.addr), w.kind))
    }

    /// Whether virtual page `va >> 12` holds any watched byte: such a page stays out of the
    /// load and store TLB.
    pub(super) fn page_watched(&self, va: u64) -> bool {
        let page = va & !0xfff;
        self.watchpoints.iter().any(|w| w.overlaps(page, 4096))
    }

    /// Err(the internal stop) when the access `va .. va + size` triggers a watchpoint. Called
    /// by the slow paths before they translate or touch memory.
    pub(super) fn watch_check(
        &mut self,
        va: u64,
        size: u64,
        read: bool,
        write: bool,
    ) -> Result<(), Trap> {
        if self.watch_off {
            return Ok(());
        }
        let hit = self
            .watchpoints
            .iter()
            .find(|w| w.matches(read, write) && w.overlaps(va, size));
        match hit {
            Some(w) => {
                self.watch_hit = Some((va.max(w.addr), w.kind));
                Err(Trap::new(WATCH_STOP, va))
            }
            None => Ok(()),
        }
    }
}
