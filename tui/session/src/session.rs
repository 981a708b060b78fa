//! The session: one machine, what it runs, and who wants it stopped where.
//!
//! Interface: [`Session::new`] boots a machine from a [`Boot`] (kernel image, disk,
//! configuration) and parses the kernel's symbols and DWARF once; every front end in the
//! process drives that one session. [`Session::run`] runs a slice and reports only the
//! stops someone asked for: the syscall tracer's own stops are consumed inside, and a
//! conditional breakpoint whose condition fails is not a stop. Stepping (instruction,
//! line, over a call, out of a function), running to an address, the current process of a
//! hart and booting again are here too (`step.rs`), so no front end repeats them.
//!
//! Invariants:
//! - The machine's breakpoint and watchpoint lists are the registry's union
//!   ([`Registry::sync`] after every change); nothing else writes them.
//! - The tracer's hooks are registry entries of owner [`Owner::Tracer`], re-synced after
//!   anything that may install or remove them (a run, a monitor command, strace on/off).
//! - Console input typed through [`Session::type_input`] and a debugger's steps outside the
//!   schedule are logged with the machine's position at which they happened, so the timeline
//!   (`timeline.rs`) reaches any earlier position of this run exactly (the machine is a pure
//!   function of its inputs). Running forward in the past follows that log.

use crate::breakpoints::{Breakpoint, Cond, Owner, Registry, Spec};
use crate::inspect::monitor::Views;
use crate::inspect::proc::ProcInfo;
use crate::inspect::strace::{Filter, Record};
use crate::timeline::{Event, Timeline};
use crate::xv6::{self, Trampoline};
use machine::cpu::trap::cause;
use machine::cpu::{Mode, Watchpoint};
use machine::{Config, Image, Machine, Stop};
use std::sync::Arc;

/// What a machine is booted from; kept so that the session can boot it again.
#[derive(Clone, Debug)]
pub struct Boot {
    /// The kernel image: an ELF file, or a raw binary loaded at the start of RAM.
    pub kernel: Vec<u8>,
    pub raw: bool,
    /// The disk image's bytes as they were at boot.
    pub disk: Option<Vec<u8>>,
    pub config: Config,
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Machine(#[from] machine::Error),
    #[error(transparent)]
    Disk(#[from] xv6::DiskTruncated),
}

/// A breakpoint resolved from a [`Spec`]: where the machine stops, what to call it, and
/// the condition that makes the stop count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub addr: u64,
    pub label: String,
    pub cond: Option<Cond>,
}

/// The debugging session (see the module essay).
pub struct Session {
    pub(crate) machine: Machine,
    boot: Boot,
    /// Symbols, DWARF tables and the syscall tracer of the booted kernel.
    pub views: Views,
    pub(crate) registry: Registry,
    pub(crate) trampoline: Option<Trampoline>,
    /// The breakpoints that held at the last stop [`Session::run`] reported.
    pub(crate) hits: Vec<Breakpoint>,
    /// Completed system calls not yet taken by a front end.
    records: Vec<Arc<Record>>,
    /// Snapshots and logged console input (`timeline.rs`).
    pub(crate) timeline: Timeline,
    /// System calls, faults and hits noted for the timeline bar (`landmarks.rs`).
    pub(crate) noted: crate::landmarks::Noted,
    pub(crate) idle_stops: bool,
}

impl Session {
    /// Boots `boot` and reads the kernel's symbols and DWARF (an ELF without them still
    /// runs; the views then say what they lack).
    pub fn new(boot: Boot) -> Result<Session, Error> {
        let machine = Self::machine_for(&boot)?;
        let views = Views::new((!boot.raw).then_some(boot.kernel.as_slice()));
        let trampoline = views.syms.kernel.as_ref().and_then(Trampoline::of);
        Ok(Session {
            machine,
            boot,
            views,
            registry: Registry::default(),
            trampoline,
            hits: Vec::new(),
            records: Vec::new(),
            timeline: Timeline::default(),
            noted: Default::default(),
            idle_stops: false,
        })
    }

    fn machine_for(boot: &Boot) -> Result<Machine, Error> {
        if let Some(d) = &boot.disk {
            xv6::check_disk(d)?;
        }
        let image = if boot.raw {
            Image::Raw(&boot.kernel)
        } else {
            Image::Elf(&boot.kernel)
        };
        Ok(Machine::new(boot.config.clone(), image, boot.disk.clone())?)
    }

    /// The machine, to read (registers, memory, devices).
    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// The machine, to change its state as a debugger may (registers, memory, console
    /// output). Running, stepping and breakpoints go through the session's own methods.
    pub fn machine_mut(&mut self) -> &mut Machine {
        &mut self.machine
    }

    /// The session's machine, for a front end that ends the session (its disk goes back).
    pub fn into_machine(self) -> Machine {
        self.machine
    }

    /// What the machine was booted from.
    pub fn boot(&self) -> &Boot {
        &self.boot
    }

    /// Adds user programs' symbols (file name, ELF) for user-mode source and names.
    pub fn add_user_elfs(&mut self, elfs: &[(String, Vec<u8>)]) {
        for (name, elf) in elfs {
            let _ = self.views.syms.add_user(name, elf);
        }
    }

    /// Whether idle periods stop [`Session::run`] (see `Machine::set_idle_stops`).
    pub fn set_idle_stops(&mut self, on: bool) {
        self.idle_stops = on;
        self.machine.set_idle_stops(on);
    }

    /// Types `bytes` into the console, logged at the current position (typed in the past,
    /// it makes a new future: see [`Session::diverge`]).
    pub fn type_input(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.log_event(Event::Input(bytes.to_vec()));
        self.machine.bus.uart.push_input(bytes);
    }

    /// Gives the board the net lab's hardware (see `machine::net`); before the first run.
    pub fn attach_net(&mut self) {
        self.machine.attach_net();
    }

    /// A datagram the host received arrives for the guest, logged at the current position
    /// like console input. Ignored when the board has no network.
    pub fn deliver_datagram(&mut self, d: machine::net::slirp::Datagram) {
        if self.machine.net().is_none() {
            return;
        }
        self.log_event(Event::Datagram(d.clone()));
        self.machine.deliver_datagram(&d);
    }

    /// Datagrams the guest sent to the world outside since the last call (none without a
    /// network).
    pub fn take_datagrams(&mut self) -> Vec<machine::net::slirp::Datagram> {
        self.machine
            .net_mut()
            .map(|n| n.take_datagrams())
            .unwrap_or_default()
    }

    /// A debugger's write to a register of hart `h` (logged on the timeline, so that going
    /// back and forth and recordings reproduce it); false when there is no such register
    /// or it refuses the value.
    pub fn write_register(&mut self, h: usize, reg: crate::timeline::Reg, value: u64) -> bool {
        let Some(hart) = self.machine.harts.get(h) else {
            return false;
        };
        // Try it on a copy first: only a write that takes is an event.
        if !crate::timeline::write_reg(&mut hart.clone(), reg, value) {
            return false;
        }
        self.log_event(Event::WriteReg {
            hart: h,
            reg,
            value,
        });
        crate::timeline::write_reg(&mut self.machine.harts[h], reg, value)
    }

    /// A debugger's write to physical memory (logged as [`Session::write_register`] is);
    /// false when it is not all RAM.
    pub fn write_phys(&mut self, addr: u64, bytes: &[u8]) -> bool {
        let mut probe = vec![0u8; bytes.len()];
        if !self.machine.read_phys(addr, &mut probe) {
            return false;
        }
        self.log_event(Event::WritePhys {
            addr,
            bytes: bytes.to_vec(),
        });
        self.machine.write_phys(addr, bytes)
    }

    /// Console output since the last call.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.machine.bus.uart.take_output()
    }

    /// Completed system calls since the last call, oldest first.
    pub fn take_records(&mut self) -> Vec<Arc<Record>> {
        std::mem::take(&mut self.records)
    }

    /// The breakpoints that held at the last reported stop (empty after any other stop).
    pub fn hits(&self) -> &[Breakpoint] {
        &self.hits
    }

    /// Whether the last stop was at a breakpoint of `owner`.
    pub fn hit_by(&self, owner: Owner) -> bool {
        self.hits.iter().any(|b| b.owner == owner)
    }

    /// Runs the machine for at most `budget` cycles and returns the stop to report:
    /// [`Stop::Budget`] when the slice ended with nothing anyone asked for (the budget, the
    /// tracer's hook, a breakpoint whose condition failed), else the machine's stop; after
    /// a [`Stop::Breakpoint`], [`Session::hits`] says whose.
    pub fn run(&mut self, budget: u64) -> Stop {
        let stop = if self.in_the_past() {
            self.run_following_history(budget)
        } else {
            self.machine.run(budget)
        };
        self.after(stop)
    }

    /// Runs hart `h` alone for at most `budget` instructions (gdb's scheduler locking);
    /// stops are filtered as by [`Session::run`].
    pub fn run_hart(&mut self, h: usize, budget: u64) -> Stop {
        let from = self.mark();
        let attempts = self.machine.harts[h].cycles();
        // A run outside the schedule makes a new history from here.
        self.diverge();
        let stop = self.machine.run_hart(h, budget);
        let done = self.machine.harts[h].cycles() - attempts;
        if done > 0 {
            self.log_event_at(from, Event::RunHart(h, done));
        }
        self.after(stop)
    }

    /// Executes one instruction on hart `h` whatever breakpoints and watchpoints say (a
    /// debugger's step); the tracer sees the traps it went through.
    pub fn step_instruction(&mut self, h: usize) -> Stop {
        self.log_event(Event::Step(h));
        let stop = self.machine.step_hart(h);
        let stop = self.after(stop);
        self.hits.clear();
        stop
    }

    /// The tracer sees the stop; then the stop is kept only if someone asked for it.
    fn after(&mut self, stop: Stop) -> Stop {
        self.hits.clear();
        self.note_landmarks();
        let (records, seen) = self.views.after_run(&mut self.machine, stop);
        self.records.extend(records);
        self.sync_tracer();
        self.timeline_after_run();
        match stop {
            Stop::Breakpoint { hart } => {
                self.hits = self.holding(hart);
                if self.hits.is_empty() {
                    Stop::Budget
                } else {
                    self.note_hit(hart);
                    stop
                }
            }
            _ => {
                let seen = seen.unwrap_or(Stop::Budget);
                if let Stop::Watchpoint { hart, .. } = seen {
                    self.note_hit(hart);
                }
                seen
            }
        }
    }

    /// The breakpoints (of every owner but the tracer) at hart `h`'s pc whose conditions
    /// hold.
    pub(crate) fn holding(&self, h: usize) -> Vec<Breakpoint> {
        let pc = self.machine.harts[h].pc;
        let mut current: Option<Option<ProcInfo>> = None;
        let mut proc = || current.get_or_insert_with(|| self.current_proc(h)).clone();
        self.registry
            .at(pc)
            .filter(|b| b.owner != Owner::Tracer)
            .filter(|b| match &b.cond {
                None => true,
                Some(c) => self.cond_holds(c, h, &mut proc),
            })
            .cloned()
            .collect()
    }

    fn cond_holds(&self, c: &Cond, h: usize, proc: &mut dyn FnMut() -> Option<ProcInfo>) -> bool {
        let hart = &self.machine.harts[h];
        match c {
            Cond::Syscall(nr) => hart.csr.scause == cause::ECALL_U && hart.x[17] == *nr,
            Cond::Pid(pid) => proc().and_then(|p| p.pid) == Some(*pid),
            Cond::Proc(name) => match name.parse::<i64>() {
                Ok(pid) => proc().and_then(|p| p.pid) == Some(pid),
                Err(_) => proc().and_then(|p| p.name).as_deref() == Some(name.as_str()),
            },
            Cond::Hart(x) => *x == h,
            Cond::All(all) => all.iter().all(|c| self.cond_holds(c, h, proc)),
        }
    }

    /// Puts the tracer's hooks into the registry (or takes them out) to match the tracer.
    fn sync_tracer(&mut self) {
        // The timeline's landmarks come from the same trap logs.
        if self.timeline.on {
            crate::inspect::strace::Tracer::enable(&mut self.machine);
        }
        let want: Vec<u64> = match self.views.tracer.hooks() {
            Some((uservec, sret)) if self.views.tracing() => vec![uservec, sret],
            _ => Vec::new(),
        };
        let have: Vec<u64> = self.registry.of(Owner::Tracer).map(|b| b.addr).collect();
        if want == have {
            return;
        }
        self.registry.remove_owner(Owner::Tracer);
        for (addr, label) in want.into_iter().zip(["uservec (trace)", "sret (trace)"]) {
            self.registry.add(Breakpoint {
                owner: Owner::Tracer,
                addr,
                label: label.into(),
                cond: None,
            });
        }
        self.registry.sync(&mut self.machine);
    }

    // --- breakpoints -------------------------------------------------------------------

    /// Resolves a spec: a function or line of the kernel (trampoline code where it runs),
    /// an address, a system call's `ecall` (at `uservec`, on its number) or a process about
    /// to run (at `userret`, on its pid).
    pub fn resolve(&self, spec: &Spec) -> Result<Resolved, String> {
        let kernel = self.views.syms.kernel.as_ref();
        let need = || kernel.ok_or_else(|| "no kernel symbols".to_string());
        let executed_at = |addr: u64| match self.trampoline {
            Some(t) => t.executed_at(addr),
            None => addr,
        };
        Ok(match spec {
            Spec::Addr(a) => Resolved {
                addr: *a,
                label: kernel
                    .map(|k| k.describe(self.link_of(*a)))
                    .unwrap_or_else(|| format!("{a:#x}")),
                cond: None,
            },
            Spec::Func(name) => {
                let k = need()?;
                let s = k
                    .lookup(name)
                    .ok_or(format!("no kernel function {name:?}"))?;
                Resolved {
                    addr: executed_at(s.addr),
                    label: k.describe(s.addr),
                    cond: None,
                }
            }
            Spec::FileLine(file, line) => {
                let k = need()?;
                let addr = k
                    .line_address(file, *line)
                    .ok_or(format!("no kernel code at {file}:{line}"))?;
                Resolved {
                    addr: executed_at(addr),
                    label: k.describe(addr),
                    cond: None,
                }
            }
            Spec::Syscall(name) => {
                // By this kernel's number for the name: the labs' calls differ between trees.
                let sc = self
                    .views
                    .tracer
                    .table
                    .by_name(name)
                    .ok_or(format!("no system call {name:?}"))?;
                Resolved {
                    addr: Trampoline::symbol(need()?, "uservec")?,
                    label: format!("syscall {} (uservec)", sc.name),
                    cond: Some(Cond::Syscall(sc.nr)),
                }
            }
            Spec::Pid(n) => Resolved {
                addr: Trampoline::symbol(need()?, "userret")?,
                label: format!("pid {n} runs (userret)"),
                cond: Some(Cond::Pid(*n)),
            },
        })
    }

    /// Sets a breakpoint for `owner`.
    pub fn set_breakpoint(&mut self, owner: Owner, r: Resolved) {
        self.registry.add(Breakpoint {
            owner,
            addr: r.addr,
            label: r.label,
            cond: r.cond,
        });
        self.registry.sync(&mut self.machine);
    }

    /// Resolves and sets a user breakpoint; its number and label. Err: the spec does not
    /// resolve, or the same breakpoint is set already (its number).
    pub fn add_user_breakpoint(&mut self, spec: &Spec) -> Result<(u32, String), String> {
        let r = self.resolve(spec)?;
        let same =
            self.registry.breakpoints().iter().find(|b| {
                matches!(b.owner, Owner::User(_)) && b.addr == r.addr && b.cond == r.cond
            });
        if let Some(b) = same {
            let Owner::User(n) = b.owner else {
                unreachable!()
            };
            return Err(format!("breakpoint {n} at {} already set", b.label));
        }
        let n = self.registry.next_user_number();
        let label = r.label.clone();
        self.set_breakpoint(Owner::User(n), r);
        Ok((n, label))
    }

    /// Deletes user breakpoint `n`; its label.
    pub fn delete_user_breakpoint(&mut self, n: u32) -> Result<String, String> {
        let label = self
            .registry
            .of(Owner::User(n))
            .next()
            .map(|b| b.label.clone())
            .ok_or(format!("no breakpoint {n}"))?;
        self.registry.remove_owner(Owner::User(n));
        self.registry.sync(&mut self.machine);
        Ok(label)
    }

    /// Removes `owner`'s breakpoint at `addr`; whether it had one.
    pub fn remove_breakpoint(&mut self, owner: Owner, addr: u64) -> bool {
        let n = self.registry.remove(owner, addr);
        self.registry.sync(&mut self.machine);
        n > 0
    }

    /// Removes everything `owner` set (a gdb client that went away, a finished step).
    pub fn clear_owner(&mut self, owner: Owner) {
        self.registry.remove_owner(owner);
        self.registry.sync(&mut self.machine);
    }

    /// Adds a watchpoint for `owner`; false if it had the same one.
    pub fn add_watchpoint(&mut self, owner: Owner, w: Watchpoint) -> bool {
        let added = self.registry.add_watch(owner, w);
        self.registry.sync(&mut self.machine);
        added
    }

    /// Removes `owner`'s watchpoint; false if it had none such.
    pub fn remove_watchpoint(&mut self, owner: Owner, w: Watchpoint) -> bool {
        let removed = self.registry.remove_watch(owner, w);
        self.registry.sync(&mut self.machine);
        removed
    }

    /// Every owner's breakpoints.
    pub fn breakpoints(&self) -> &[Breakpoint] {
        self.registry.breakpoints()
    }

    // --- the syscall tracer ------------------------------------------------------------

    /// Turns the syscall trace on with `filter` (see `Views::strace_on`: an error is a
    /// warning that records are read late until the trampoline can be hooked).
    pub fn strace_on(&mut self, filter: Filter) -> Result<(), String> {
        let r = self.views.strace_on(&mut self.machine, filter);
        self.sync_tracer();
        r
    }

    /// Turns it off.
    pub fn strace_off(&mut self) {
        self.views.strace_off(&mut self.machine);
        self.sync_tracer();
    }

    /// While tracing: exact records (hooks on the trampoline, two stops per call) or late
    /// ones (from the harts' event logs after each slice, no stops).
    pub fn set_trace_exact(&mut self, exact: bool) {
        if !self.views.tracing() || exact == self.views.tracer.exact() {
            return;
        }
        if exact {
            let _ = self
                .views
                .tracer
                .install(&mut self.machine, self.views.syms.kernel.as_ref());
        } else {
            self.views.tracer.uninstall(&mut self.machine);
            crate::inspect::strace::Tracer::enable(&mut self.machine);
        }
        self.sync_tracer();
    }

    /// A monitor command (`ps`, `fds PID`, `pt`, `strace on`...): the lines to print.
    pub fn command(&mut self, line: &str) -> Vec<String> {
        let out = self.views.command(&mut self.machine, line);
        self.sync_tracer();
        out
    }

    // --- xv6 facts ---------------------------------------------------------------------

    /// The process hart `h` runs, if the kernel's DWARF tells.
    pub fn current_proc(&self, h: usize) -> Option<ProcInfo> {
        xv6::current_proc(self.views.kernel.as_ref()?, &self.machine, h)
    }

    /// A process by pid or by name (the newest of that name).
    pub fn proc_by(&self, who: &str) -> Option<ProcInfo> {
        xv6::proc_by(self.views.kernel.as_ref()?, &self.machine, who)
    }

    /// The kernel's link address of the code executing at `pc` (trampoline code runs at
    /// TRAMPOLINE, where no symbol names it).
    pub fn link_of(&self, pc: u64) -> u64 {
        match self.trampoline {
            Some(t) => t.link_of(pc),
            None => pc,
        }
    }

    /// Hart `h`'s pc as the symbols know it, whether it is a user pc, and the name of the
    /// process whose symbols apply.
    pub fn pc_context(&self, h: usize) -> (u64, bool, Option<String>) {
        let hart = &self.machine.harts[h];
        if hart.mode == Mode::User {
            let name = self
                .views
                .kernel
                .as_ref()
                .and_then(|k| xv6::proc_of_satp(k, &self.machine, hart.csr.satp))
                .and_then(|p| p.name);
            (hart.pc, true, name)
        } else {
            (self.link_of(hart.pc), false, None)
        }
    }

    /// The source line of hart `h`'s pc, if its ELF has one.
    pub fn line_of(&self, h: usize) -> Option<(String, u32)> {
        let (pc, user, name) = self.pc_context(h);
        self.views.syms.for_pc(pc, user, name.as_deref())?.line(pc)
    }

    /// Hart `h`'s pc described: symbol+offset, file:line.
    pub fn describe_pc(&self, h: usize) -> String {
        let (pc, user, name) = self.pc_context(h);
        self.views.syms.describe(pc, user, name.as_deref())
    }

    /// After an idle stop: how long an interactive host waits (for input) before running
    /// on, so that guest time does not run ahead of the host clock, measured from `started`
    /// (when the guest started). At most 50 ms, so keys and gdb packets stay responsive.
    pub fn idle_pace(&self, started: std::time::Instant) -> std::time::Duration {
        const MAX: std::time::Duration = std::time::Duration::from_millis(50);
        // Machine cycles per guest second (machine/src/board.rs).
        let cycles_per_second =
            (machine::board::CYCLES_PER_TICK * machine::board::TIMEBASE_HZ) as f64;
        match self.machine.idle_until() {
            Some(until) => {
                let ahead = until as f64 / cycles_per_second - started.elapsed().as_secs_f64();
                std::time::Duration::from_secs_f64(ahead.clamp(0.0, MAX.as_secs_f64()))
            }
            None => MAX,
        }
    }

    /// The hart a front end shows when nothing stopped on one: the first that is not
    /// waiting in `wfi`, else hart 0.
    pub fn busy_hart(&self) -> usize {
        let m = &self.machine;
        (0..m.harts.len())
            .find(|&h| !m.harts[h].is_waiting())
            .unwrap_or(0)
    }

    // --- the timeline ------------------------------------------------------------------

    /// Boots the same kernel and disk again (the disk as it was at the first boot). Every
    /// owner's breakpoints and watchpoints stay; the trace starts over.
    pub fn reboot(&mut self) -> Result<(), Error> {
        let tracing = self.views.tracing();
        let filter = self.views.tracer.filter.clone();
        let exact = self.views.tracer.exact();
        self.views.strace_off(&mut self.machine);
        self.views.tracer.clear();
        let net = self.machine.net().is_some();
        self.machine = Self::machine_for(&self.boot)?;
        if net {
            self.machine.attach_net();
        }
        self.machine.set_idle_stops(self.idle_stops);
        self.registry.sync(&mut self.machine);
        if tracing {
            let _ = self.views.strace_on(&mut self.machine, filter);
            if !exact {
                self.set_trace_exact(false);
            }
        }
        self.sync_tracer();
        self.hits.clear();
        self.records.clear();
        if self.timeline.on {
            self.timeline.on = false;
            self.set_time_travel(true);
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
