//! The gdb remote server: gdb-multiarch drives xv6scope's machine as it drives QEMU's
//! (`target remote :26000`), and sees more than QEMU shows.
//!
//! Shape (after gdbstub's armv4t example): the machine knows nothing of gdb. [`GdbTarget`]
//! owns the [`Session`] and implements gdbstub's `Target`; each protocol extension lives in
//! its own file — `target_xml` (registers, CSRs, `priv`), `memory` (virtual and physical
//! access), `breakpoints` (breakpoints and watchpoints, owner `Gdb` in the session's
//! registry), `threads` (harts as threads, resume actions), `monitor` (`monitor
//! help|pt|phys|stats` and the session's views), `legacy` (the bare `c` packet of minimal
//! clients such as the labs' grade scripts continues every hart, as on QEMU). `server` owns the
//! TCP listener and the protocol state machine; `resume` and `step` only record what gdb
//! asked for, and the server's run loop executes it in slices, polling the connection
//! between slices so that Ctrl-C stops a running guest within milliseconds.
//!
//! Interface: [`Server::bind`] takes the session; the run loop of `xv6scope run` calls
//! [`Server::run`] where it would call `Session::run`, and reaches the session through
//! [`Server::session`] for console I/O. With no client attached the machine runs freely
//! (or is held at its first instruction with `--gdb-wait`); with a client attached it runs
//! only while gdb has resumed it.
//!
//! Invariants: harts are threads 1..=N (thread id = hart + 1); every breakpoint a client
//! set is removed when its connection ends, however it ends; the guest's
//! state is never changed by a protocol error — the client is dropped with a message and
//! the server keeps listening.

mod breakpoints;
#[cfg(test)]
mod fuzz;
mod legacy;
mod memory;
mod monitor;
mod server;
mod target_xml;
mod threads;

pub use server::{Event, Server};

use gdbstub::common::Tid;
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::base::multithread::{MultiThreadBase, MultiThreadResumeOps};
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::breakpoints::BreakpointsOps;
use gdbstub::target::ext::monitor_cmd::MonitorCmdOps;
use gdbstub::target::ext::target_description_xml_override::{
    TargetDescriptionXmlOverride, TargetDescriptionXmlOverrideOps,
};
use gdbstub::target::ext::thread_extra_info::ThreadExtraInfoOps;
use gdbstub::target::{Target, TargetError, TargetResult};
use gdbstub_arch::riscv::reg::RiscvCoreRegs;
use machine::Stop;
use session::Session;
use std::num::NonZeroUsize;
use std::time::Instant;
use target_xml::{Reg, Rv64};

/// EFAULT, the error number gdb shows as "Cannot access memory".
const EFAULT: u8 = 14;

/// What the next resume executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resume {
    /// Run every hart in the machine's round-robin order.
    Continue,
    /// Execute one instruction of this hart; the others hold.
    Step(usize),
    /// Run this hart alone (gdb's scheduler locking, used to step over a breakpoint), one
    /// instruction at a time.
    Solo(usize),
    /// Go back one instruction of this hart (`bs`, gdb's `reverse-stepi`).
    ReverseStep(usize),
    /// Go back to the last breakpoint or watchpoint hit (`bc`, `reverse-continue`).
    ReverseCont,
}

/// The debugging session plus what a gdb client adds to it.
pub struct GdbTarget {
    pub session: Session,
    resume: Resume,
    /// Resume actions gdb sent since `clear_resume_actions`: harts to continue, a hart to
    /// step, and whether the others must hold.
    continued: Vec<usize>,
    stepped: Option<usize>,
    locked: bool,
    /// The hart of the last stop gdb was told about: the default hart of monitor commands
    /// (gdb does not tell the stub which thread the user selected with `thread N`).
    stopped: usize,
    /// `monitor phys on`: memory packets use physical addresses.
    phys: bool,
    /// Why the last reverse operation could not go back (said in the server's log).
    reverse_error: Option<String>,
    /// The client's breakpoints by kind (to answer `swbreak`/`hwbreak`); the registry
    /// holds them as owner `Gdb`.
    sw: Vec<u64>,
    hw: Vec<u64>,
    /// The target description, built on first request.
    xml: Option<String>,
    /// When serving began, and when the current client attached (for `monitor stats`).
    started: Instant,
    attached: Option<(Instant, u64)>,
}

impl GdbTarget {
    fn new(session: Session) -> Self {
        GdbTarget {
            session,
            resume: Resume::Continue,
            continued: Vec::new(),
            stepped: None,
            locked: false,
            stopped: 0,
            phys: false,
            reverse_error: None,
            sw: Vec::new(),
            hw: Vec::new(),
            xml: None,
            started: Instant::now(),
            attached: None,
        }
    }

    /// The hart behind thread `tid`, if there is one.
    fn hart(&self, tid: Tid) -> Option<usize> {
        let h = tid.get() - 1;
        (h < self.session.machine().harts.len()).then_some(h)
    }

    /// Same, or a non-fatal error for gdb.
    fn select(&self, tid: Tid) -> Result<usize, TargetError<String>> {
        self.hart(tid).ok_or(TargetError::NonFatal)
    }
}

/// Thread id of hart `h`.
fn tid(h: usize) -> Tid {
    NonZeroUsize::MIN.saturating_add(h)
}

impl Target for GdbTarget {
    type Arch = Rv64;
    /// Fatal errors end the session (never the machine).
    type Error = String;

    fn base_ops(&mut self) -> BaseOps<'_, Rv64, String> {
        BaseOps::MultiThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }

    fn support_target_description_xml_override(
        &mut self,
    ) -> Option<TargetDescriptionXmlOverrideOps<'_, Self>> {
        Some(self)
    }
}

impl MultiThreadBase for GdbTarget {
    fn read_registers(
        &mut self,
        regs: &mut RiscvCoreRegs<u64>,
        tid: Tid,
    ) -> TargetResult<(), Self> {
        let h = self.select(tid)?;
        let hart = &self.session.machine().harts[h];
        regs.x = hart.x;
        regs.pc = hart.pc;
        Ok(())
    }

    fn write_registers(&mut self, regs: &RiscvCoreRegs<u64>, tid: Tid) -> TargetResult<(), Self> {
        let h = self.select(tid)?;
        // Each register that changes is a write the session logs on its timeline (one that
        // differs from the history there makes a new future).
        let hart = &self.session.machine().harts[h];
        let (old_x, old_pc) = (hart.x, hart.pc);
        for (n, (&new, &old)) in regs.x.iter().zip(&old_x).enumerate().skip(1) {
            if new != old {
                self.session
                    .write_register(h, session::Reg::X(n as u8), new);
            }
        }
        if regs.pc != old_pc {
            self.session.write_register(h, session::Reg::Pc, regs.pc);
        }
        Ok(())
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, Tid, Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8], tid: Tid) -> TargetResult<usize, Self> {
        let h = self.select(tid)?;
        match memory::read(self.session.machine(), h, start, data, self.phys) {
            0 if !data.is_empty() => Err(TargetError::Errno(EFAULT)),
            n => Ok(n),
        }
    }

    fn write_addrs(&mut self, start: u64, data: &[u8], tid: Tid) -> TargetResult<(), Self> {
        let h = self.select(tid)?;
        if memory::write(&mut self.session, h, start, data, self.phys) {
            Ok(())
        } else {
            Err(TargetError::Errno(EFAULT))
        }
    }

    fn list_active_threads(&mut self, thread_is_active: &mut dyn FnMut(Tid)) -> Result<(), String> {
        (0..self.session.machine().harts.len()).for_each(|h| thread_is_active(tid(h)));
        Ok(())
    }

    fn is_thread_alive(&mut self, tid: Tid) -> Result<bool, String> {
        Ok(self.hart(tid).is_some())
    }

    fn support_resume(&mut self) -> Option<MultiThreadResumeOps<'_, Self>> {
        Some(self)
    }

    fn support_thread_extra_info(&mut self) -> Option<ThreadExtraInfoOps<'_, Self>> {
        Some(self)
    }
}

impl SingleRegisterAccess<Tid> for GdbTarget {
    fn read_register(&mut self, tid: Tid, reg: Reg, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let h = self.select(tid)?;
        let val =
            target_xml::read(&self.session.machine().harts[h], reg).ok_or(TargetError::NonFatal)?;
        let bytes = val.to_le_bytes();
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn write_register(&mut self, tid: Tid, reg: Reg, val: &[u8]) -> TargetResult<(), Self> {
        let h = self.select(tid)?;
        let mut bytes = [0u8; 8];
        let n = val.len().min(8);
        bytes[..n].copy_from_slice(&val[..n]);
        let value = u64::from_le_bytes(bytes);
        let written =
            target_xml::session_reg(reg).is_some_and(|r| self.session.write_register(h, r, value));
        if written {
            Ok(())
        } else {
            Err(TargetError::NonFatal)
        }
    }
}

impl TargetDescriptionXmlOverride for GdbTarget {
    fn target_description_xml(
        &self,
        annex: &[u8],
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        if annex != b"target.xml" {
            return Err(TargetError::NonFatal);
        }
        // `&self` here: the document is built once the session starts (see `Server`).
        match &self.xml {
            Some(doc) => Ok(target_xml::window(doc, offset, length, buf)),
            None => Ok(target_xml::window(
                &target_xml::build(&self.session.machine().harts[0]),
                offset,
                length,
                buf,
            )),
        }
    }
}

/// The host loop's view of the session: driven directly, or through the gdb server.
pub enum Host {
    Plain(Box<Session>),
    Gdb(Box<Server>),
}

impl Host {
    /// A gdb server on `addr` if one is given, else the bare session.
    pub fn new(session: Session, addr: Option<&str>, wait: bool) -> anyhow::Result<Host> {
        match addr {
            None => Ok(Host::Plain(Box::new(session))),
            Some(a) => Ok(Host::Gdb(Box::new(Server::bind(a, wait, session)?))),
        }
    }

    pub fn session(&mut self) -> &mut Session {
        match self {
            Host::Plain(s) => s,
            Host::Gdb(s) => s.session(),
        }
    }

    /// Runs a slice; None when gdb killed the guest.
    pub fn run(&mut self, budget: u64) -> Option<Stop> {
        match self {
            Host::Plain(s) => Some(s.run(budget)),
            Host::Gdb(s) => match s.run(budget) {
                Event::Stop(stop) => Some(stop),
                Event::Kill => None,
            },
        }
    }

    pub fn into_session(self) -> Session {
        match self {
            Host::Plain(s) => *s,
            Host::Gdb(s) => s.into_session(),
        }
    }
}
