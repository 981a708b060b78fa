//! Traps: synchronous exceptions and interrupts, taken as the privileged spec says (§3.1.6.1,
//! §3.1.8 delegation, §3.1.9 interrupt priority, §3.3.2 xRET).
//!
//! An exception is a value ([`Trap`]: cause and tval) that execution returns; the run loop
//! hands it to [`Hart::take_trap`], which picks the target mode (S when the cause is delegated
//! in `medeleg`/`mideleg` and the hart is not in M), stacks the interrupt enables and the
//! previous mode in `mstatus`, records `xepc`/`xcause`/`xtval` and jumps to `xtvec` (base, or
//! base + 4·cause for interrupts when vectored). Interrupts are polled, not per instruction:
//! the run loop calls [`Hart::check_interrupts`] at its start, every 256 instructions and after
//! anything that can change `mip`, `mie` or the global enables.

use super::csr::*;
use super::{Hart, Mode, encode};
use crate::bus::Bus;

/// A synchronous exception: `cause` as in `mcause` (interrupt bit clear) and its `tval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    pub cause: u64,
    pub tval: u64,
}

/// Exception codes (`mcause` with the interrupt bit clear), privileged spec table 3.6.
pub mod cause {
    pub const INST_MISALIGNED: u64 = 0;
    pub const INST_ACCESS: u64 = 1;
    pub const ILLEGAL: u64 = 2;
    pub const BREAKPOINT: u64 = 3;
    pub const LOAD_MISALIGNED: u64 = 4;
    pub const LOAD_ACCESS: u64 = 5;
    pub const STORE_MISALIGNED: u64 = 6;
    pub const STORE_ACCESS: u64 = 7;
    pub const ECALL_U: u64 = 8;
    pub const ECALL_S: u64 = 9;
    pub const ECALL_M: u64 = 11;
    pub const INST_PAGE: u64 = 12;
    pub const LOAD_PAGE: u64 = 13;
    pub const STORE_PAGE: u64 = 15;
    /// The interrupt bit of `mcause`/`scause`.
    pub const INTERRUPT: u64 = 1 << 63;
}

impl Trap {
    pub const fn new(cause: u64, tval: u64) -> Trap {
        Trap { cause, tval }
    }
    /// Illegal instruction; QEMU reports the instruction bits in `tval`.
    pub const fn illegal(bits: u64) -> Trap {
        Trap {
            cause: cause::ILLEGAL,
            tval: bits,
        }
    }
}

/// A change of privilege recorded for debuggers (see [`Hart::events`]): a trap taken, or an
/// `mret`/`sret`. A syscall tracer pairs an `ecall` from U (cause 8) with the next return to
/// U of the same address space (`satp`), where `a[0]` is the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// `mcause`/`scause` for a trap (interrupt bit included); `None` for an xRET.
    pub cause: Option<u64>,
    pub tval: u64,
    /// pc of the trapping instruction (trap) or of the xRET instruction.
    pub pc: u64,
    /// pc after the change: the handler or the return address.
    pub target: u64,
    pub from: Mode,
    pub to: Mode,
    /// `satp` at the change (the user address space for ecalls from and returns to U).
    pub satp: u64,
    /// a0..a7 at the change.
    pub a: [u64; 8],
    /// The hart's cycle count (`mcycle` without writes) when it happened.
    pub cycle: u64,
    /// The machine's position (`Machine::position`) when it happened: the trapping or
    /// returning instruction's attempt is not counted yet.
    pub position: u64,
}

/// Most events a hart keeps before its owner drains them; later ones are counted, not kept.
pub const MAX_EVENTS: usize = 1 << 16;

/// Interrupt codes in the order they are taken when several are pending (spec §3.1.9):
/// MEI, MSI, MTI, SEI, SSI, STI.
const PRIORITY: [u64; 6] = [11, 3, 7, 9, 1, 5];

impl Hart {
    /// Enters the trap handler for `cause` (interrupt bit included) with `tval`; `self.pc` is
    /// the instruction that trapped (exceptions) or the next one to run (interrupts).
    #[inline(never)]
    pub(super) fn take_trap(&mut self, cause: u64, tval: u64) {
        self.quiet = false;
        let (pc, from_mode) = (self.pc, self.mode);
        let interrupt = cause & cause::INTERRUPT != 0;
        let code = cause & 63;
        let deleg = if interrupt {
            self.csr.mideleg
        } else {
            self.csr.medeleg
        };
        // §3.1.8: traps are never delegated to a less privileged mode than the current one.
        let to_s = self.mode != Mode::Machine && (deleg >> code) & 1 != 0;
        let s = &mut self.csr.mstatus;
        let (tvec, from) = (
            if to_s { self.csr.stvec } else { self.csr.mtvec },
            self.mode as u64,
        );
        if to_s {
            self.csr.scause = cause;
            self.csr.sepc = self.pc;
            self.csr.stval = tval;
            let sie = (*s >> 1) & 1;
            *s = (*s & !(MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SIE)) | sie << 5 | (from & 1) << 8;
            self.mode = Mode::Supervisor;
        } else {
            self.csr.mcause = cause;
            self.csr.mepc = self.pc;
            self.csr.mtval = tval;
            let mie = (*s >> 3) & 1;
            *s = (*s & !(MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MIE)) | mie << 7 | from << 11;
            self.mode = Mode::Machine;
        }
        let base = tvec & !3;
        self.pc = if interrupt && tvec & 3 == 1 {
            base.wrapping_add(4 * code)
        } else {
            base
        };
        // Leaving the interrupted context: its LR reservation no longer stands.
        self.reservation = None;
        self.update_keys();
        self.record(Some(cause), tval, pc, from_mode);
    }

    /// Appends an event if the owner asked for them (`events` is Some).
    fn record(&mut self, cause: Option<u64>, tval: u64, pc: u64, from: Mode) {
        self.spin.trap();
        let Some(log) = &mut self.events else { return };
        if log.len() >= MAX_EVENTS {
            self.events_dropped += 1;
            return;
        }
        let mut a = [0; 8];
        a.copy_from_slice(&self.x[10..18]);
        log.push(Event {
            cause,
            tval,
            pc,
            target: self.pc,
            from,
            to: self.mode,
            satp: self.csr.satp,
            a,
            cycle: self.cycles + self.at,
            position: self.others + self.cycles + self.at,
        });
    }

    /// Takes a synchronous exception raised by the instruction at `self.pc`.
    #[inline(never)]
    pub(super) fn exception(&mut self, t: Trap) {
        self.skipped += 1;
        self.take_trap(t.cause, t.tval);
    }

    /// `mip` as the hart sees it now: software-written bits, the bus's lines as of the last
    /// poll, and `STIP` from `stimecmp` when Sstc is enabled.
    pub(super) fn mip_now(&self, mtime: u64) -> u64 {
        let mut mip = self.csr.mip | self.lines;
        if self.csr.menvcfg & MENVCFG_STCE != 0 {
            mip &= !MIP_STIP;
            if mtime >= self.csr.stimecmp {
                mip |= MIP_STIP;
            }
        }
        mip
    }

    /// Polls the interrupt lines and takes the highest-priority enabled interrupt, if any.
    /// `bus.now` must be exact. Returns whether an interrupt was taken.
    #[inline(never)]
    pub(super) fn check_interrupts(&mut self, bus: &mut Bus) -> bool {
        self.lines = bus.irq_lines(self.id);
        self.take_interrupt(bus.mtime())
    }

    /// Takes the highest-priority enabled interrupt given the lines of the last poll, if any.
    /// Enough after a change of enables (CSR writes, xRET), which cannot change the lines.
    #[inline(never)]
    pub(super) fn take_interrupt(&mut self, mtime: u64) -> bool {
        let pending = self.mip_now(mtime) & self.csr.mie;
        if pending == 0 {
            return false;
        }
        let mstatus = self.csr.mstatus;
        // §3.1.6.1: interrupts for a more privileged mode are always enabled, for the current
        // mode only when its xIE bit is set, for a less privileged mode never.
        let m_on = self.mode != Mode::Machine || mstatus & MSTATUS_MIE != 0;
        let s_on = self.mode == Mode::User
            || (self.mode == Mode::Supervisor && mstatus & MSTATUS_SIE != 0);
        let to_m = pending & !self.csr.mideleg;
        let to_s = pending & self.csr.mideleg;
        let takeable = if m_on { to_m } else { 0 } | if s_on { to_s } else { 0 };
        if takeable == 0 {
            return false;
        }
        // M-level interrupts come before all S-level ones; within a level, PRIORITY decides.
        let set = if to_m & takeable != 0 {
            to_m & takeable
        } else {
            takeable
        };
        for code in PRIORITY {
            if set >> code & 1 != 0 {
                self.waiting = false;
                self.take_trap(cause::INTERRUPT | code, 0);
                return true;
            }
        }
        false
    }

    /// `mret` (§3.3.2): back to `MPP` with `MIE = MPIE`.
    #[inline(never)]
    pub(super) fn mret(&mut self) -> Result<(), Trap> {
        self.quiet = false;
        if self.mode != Mode::Machine {
            return Err(Trap::illegal(encode::MRET as u64));
        }
        let s = self.csr.mstatus;
        let mpp = (s & MSTATUS_MPP) >> 11;
        let mut n = (s & !(MSTATUS_MIE | MSTATUS_MPP)) | MSTATUS_MPIE | ((s >> 7) & 1) << 3;
        if mpp != 3 {
            n &= !MSTATUS_MPRV;
        }
        self.csr.mstatus = n;
        let (pc, from) = (self.pc, self.mode);
        self.mode = Mode::from_bits(mpp);
        self.pc = self.csr.mepc;
        self.update_keys();
        self.record(None, 0, pc, from);
        Ok(())
    }

    /// `sret` (§3.3.2): back to `SPP` with `SIE = SPIE`; illegal in U, and in S under TSR.
    #[inline(never)]
    pub(super) fn sret(&mut self) -> Result<(), Trap> {
        self.quiet = false;
        let s = self.csr.mstatus;
        if self.mode == Mode::User || (self.mode == Mode::Supervisor && s & MSTATUS_TSR != 0) {
            return Err(Trap::illegal(encode::SRET as u64));
        }
        let spp = (s & MSTATUS_SPP) >> 8;
        let n =
            (s & !(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV)) | MSTATUS_SPIE | ((s >> 5) & 1) << 1;
        self.csr.mstatus = n;
        let (pc, from) = (self.pc, self.mode);
        self.mode = Mode::from_bits(spp);
        self.pc = self.csr.sepc;
        self.update_keys();
        self.record(None, 0, pc, from);
        Ok(())
    }
}
