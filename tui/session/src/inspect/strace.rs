//! System call trace, strace-style, with no help from the kernel: it works for any xv6.
//!
//! Source: the hart's event log ([`machine::cpu::Event`], on when `Hart::events` is `Some`),
//! which records every trap and xRET with `satp`, a0..a7 and the cycle. A system call is a
//! trap with cause 8 (ecall from U-mode): a7 holds its number and a0..a5 its arguments (the
//! xv6 calling convention, `abi::syscall`). Its result is a0 at the next return to U-mode
//! (an xRET whose target mode is U) of the same process, because xv6's `usertrapret` restores
//! the trapframe, where `syscall()` stored the result, just before `sret`.
//!
//! Matching an entry with its return: by pid when a [`Resolver`] can tell the pid from the
//! address space (the [`KernelResolver`] reads `proc[]` through DWARF), else by `satp`.
//! Matching by pid is what makes `exec` work (it returns on a new page table) and shows
//! `fork` once, in the parent (the child's first return has no pending entry). `exit`
//! never returns, so it is recorded at entry with no result.
//!
//! Arguments are decoded by the shared table's [`Arg`] kinds: strings, argv arrays and
//! written buffers are read at entry through the caller's page table (U pages only); filled
//! buffers (`read`, `pipe`, `wait`, `fstat`, `sysinfo`) at return.
//!
//! Bounded memory: completed records go to a ring buffer of `capacity` records (older ones
//! are dropped and counted); pending entries are at most [`MAX_PENDING`].
//!
//! Exactness: the event log is drained only when `Machine::run` returns, and memory is read
//! then, so a buffer the process reused in between would show its later contents. To read
//! memory at the right instant, [`Tracer::install`] finds two hooks on the trampoline
//! page, which every xv6 maps at the same virtual address in every address
//! space: its first instruction (`uservec`, where every trap from U enters) and its `sret`
//! (in `userret`, after the user page table and a0 are restored), which the session sets as
//! breakpoints of the tracer's own (owner `Tracer` in `crate::breakpoints`). `run` then
//! returns at each trap from U and before each return to U; [`Tracer::after_run`] drains the
//! entry there, completes the return from the hart's registers at the `sret` and tells the
//! caller the stop was at a hook: the session reports it only if another owner's
//! breakpoint at the same pc holds, and the next `run` executes the instruction.
//!
//! Use from a run loop (the CLI's `--strace`, the TUI, gdb's `monitor strace`):
//! ```text
//! let mut t = Tracer::new(4096, Filter::parse(spec)?);
//! t.install(&mut m, kernel_symbols);          // enables the event logs, finds the hooks
//! let (uservec, sret) = t.hooks().unwrap();   // breakpoints at both (the session does it)
//! loop {
//!     let stop = m.run(budget);
//!     let (records, stop) = t.after_run(&mut m, stop, &mut resolver);
//!     for r in records { eprintln!("{r}"); }
//!     let Some(stop) = stop else { continue };   // at a hook
//!     /* handle the stop as usual */
//! }
//! ```
//! Without `install`, [`Tracer::enable`] plus [`Tracer::drain`] after each run give the same
//! records with buffers read late (good enough when stops are frequent).

use super::PhysMem;
use super::pagetable::satp_root;
use super::proc::{Kernel, ProcLayout};
use super::symbols::Symbols;
pub use super::syscall_args::open_flags;
use super::syscall_args::{show_arg, show_out};
use crate::xv6::Trampoline;
use abi::memlayout::{PGSIZE, TRAMPOLINE};
use abi::syscall::{Arg, Ret, SYSCALLS, Syscall, lookup};
use machine::cpu::encode::SRET;
use machine::cpu::trap::cause;
use machine::cpu::{Event, Mode};
use machine::machine::{Machine, Stop};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Most syscalls waiting for their return at once.
pub const MAX_PENDING: usize = 256;

/// One system call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Order of entry (0, 1, 2...).
    pub seq: u64,
    /// The hart that executed the `ecall`.
    pub hart: usize,
    pub pid: Option<i64>,
    /// The process's name (`proc.name`) at entry.
    pub name: Option<String>,
    pub nr: u64,
    /// Raw a0..a5 at entry.
    pub args: [u64; 6],
    /// Decoded arguments, as shown.
    pub shown: Vec<String>,
    /// a0 at the return to user mode; None for `exit` or a call that never returned.
    pub result: Option<i64>,
    /// Hart cycle counts at entry and return.
    pub cycle_enter: u64,
    pub cycle_exit: Option<u64>,
}

impl Record {
    /// The table row, if `nr` is a known system call.
    pub fn syscall(&self) -> Option<&'static Syscall> {
        lookup(self.nr as usize)
    }

    /// The system call's name, or `syscall_N`.
    pub fn call_name(&self) -> String {
        match self.syscall() {
            Some(s) => s.name.to_string(),
            None => format!("syscall_{}", self.nr),
        }
    }
}

impl std::fmt::Display for Record {
    /// `[1] 3 sh: open("README", O_RDONLY) = 3`: hart, pid, process name, call, result.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pid = self
            .pid
            .map(|p| p.to_string())
            .unwrap_or_else(|| "?".into());
        let name = self.name.as_deref().unwrap_or("?");
        write!(
            f,
            "[{}] {pid} {name}: {}({})",
            self.hart,
            self.call_name(),
            self.shown.join(", ")
        )?;
        match (self.result, self.syscall().map(|s| s.ret)) {
            (None, _) => write!(f, " = ?"),
            (Some(r), Some(Ret::Addr)) => write!(f, " = {:#x}", r as u64),
            (Some(r), _) => write!(f, " = {}", r as i32),
        }
    }
}

/// Which calls to keep. Empty lists mean "all".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub pids: Vec<i64>,
    /// Process names (`proc.name`).
    pub procs: Vec<String>,
    /// System call numbers.
    pub calls: Vec<u64>,
    /// The trace lab's mask: bit N keeps system call N.
    pub mask: Option<u64>,
}

impl Filter {
    /// Parses a comma-separated list: syscall names (`open`), `pid=N`, `proc=NAME`,
    /// `mask=N` (decimal or 0x hex). Empty text keeps everything; otherwise every item and
    /// every value must be non-empty (`proc=`, `read,,write` and `,` are refused).
    pub fn parse(s: &str) -> Result<Filter, String> {
        let mut f = Filter::default();
        let num = |v: &str| -> Result<u64, String> {
            let r = match v.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => v.parse(),
            };
            r.map_err(|_| format!("not a number: {v:?}"))
        };
        if s.trim().is_empty() {
            return Ok(f);
        }
        for item in s.split(',').map(str::trim) {
            if item.is_empty() {
                return Err("empty item in the filter list".into());
            }
            match item.split_once('=') {
                Some((k, v)) if v.trim().is_empty() => {
                    return Err(format!("{k}= needs a value"));
                }
                Some(("pid", v)) => f.pids.push(num(v)? as i64),
                Some(("proc", v)) => f.procs.push(v.to_string()),
                Some(("mask", v)) => f.mask = Some(num(v)?),
                Some((k, _)) => return Err(format!("unknown filter key {k:?} (pid, proc, mask)")),
                None => match SYSCALLS.iter().find(|c| c.name == item) {
                    Some(c) => f.calls.push(c.nr as u64),
                    None => return Err(format!("unknown system call {item:?}")),
                },
            }
        }
        Ok(f)
    }

    /// Whether `r` passes.
    pub fn keeps(&self, r: &Record) -> bool {
        (self.pids.is_empty() || r.pid.is_some_and(|p| self.pids.contains(&p)))
            && (self.procs.is_empty() || r.name.as_ref().is_some_and(|n| self.procs.contains(n)))
            && (self.calls.is_empty() || self.calls.contains(&r.nr))
            && self.mask.is_none_or(|m| r.nr < 64 && m >> r.nr & 1 != 0)
    }
}

/// Tells which process owns an address space.
pub trait Resolver {
    /// (pid, name) of the process whose page table is `satp`'s root.
    fn process(&mut self, mem: &dyn PhysMem, satp: u64) -> Option<(i64, String)>;
    /// Forget cached answers (after calls that change processes: fork, exec, exit, wait).
    fn invalidate(&mut self) {}
}

/// A resolver that knows nothing: records carry no pid and match by `satp`.
pub struct NoResolver;

impl Resolver for NoResolver {
    fn process(&mut self, _: &dyn PhysMem, _: u64) -> Option<(i64, String)> {
        None
    }
}

/// Finds the process through the kernel's `proc[]` (DWARF): the slot whose `pagetable` is
/// the root of `satp` (kernel pointers are physical addresses in xv6's direct map). Answers
/// are cached per root until [`Resolver::invalidate`].
#[derive(Clone, Debug)]
pub struct KernelResolver {
    layout: Option<ProcLayout>,
    cache: HashMap<u64, (i64, String)>,
}

impl KernelResolver {
    pub fn new(kernel: &Kernel) -> Self {
        KernelResolver {
            layout: kernel.layout,
            cache: HashMap::new(),
        }
    }
}

impl Resolver for KernelResolver {
    fn process(&mut self, mem: &dyn PhysMem, satp: u64) -> Option<(i64, String)> {
        let root = satp_root(satp);
        if let Some(hit) = self.cache.get(&root) {
            return Some(hit.clone());
        }
        let v = self.layout?.find(mem, root)?;
        self.cache.insert(root, v.clone());
        Some(v)
    }

    fn invalidate(&mut self) {
        self.cache.clear();
    }
}

/// A syscall between its entry and its return.
#[derive(Clone, Debug)]
struct Pending {
    rec: Record,
    /// (index in args, address, length) of buffers to show at return.
    out: Vec<(usize, Arg, u64, u64)>,
}

/// The tracer: pending calls and the ring of completed ones.
#[derive(Debug)]
pub struct Tracer {
    pub filter: Filter,
    capacity: usize,
    ring: VecDeque<Arc<Record>>,
    /// Records dropped from the ring because it was full.
    pub dropped: u64,
    /// Events the harts could not record (their logs were full): calls may be missing.
    pub events_lost: u64,
    pending: HashMap<(bool, u64), Pending>,
    seq: u64,
    /// The hooks [`Tracer::install`] found: where the machine must stop for exact records.
    hooks: Option<Hooks>,
    /// `install` could not find the trampoline yet (no symbols, paging not on): retried by
    /// `after_run` until it succeeds; meanwhile records come from the event logs alone.
    retry_install: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hooks {
    uservec: u64,
    sret: u64,
}

/// The syscalls after which the pid ↔ page table map may have changed.
fn changes_processes(nr: u64) -> bool {
    use abi::syscall::nr;
    [nr::fork, nr::exec, nr::exit, nr::wait, nr::kill, nr::sbrk].contains(&(nr as usize))
}

impl Tracer {
    /// A tracer keeping at most `capacity` completed records.
    pub fn new(capacity: usize, filter: Filter) -> Tracer {
        Tracer {
            filter,
            capacity: capacity.max(1),
            ring: VecDeque::new(),
            dropped: 0,
            events_lost: 0,
            pending: HashMap::new(),
            seq: 0,
            hooks: None,
            retry_install: false,
        }
    }

    /// Enables the event logs and finds the two trampoline hooks (see the module essay);
    /// [`Tracer::hooks`] gives them to whoever sets breakpoints. The trampoline's code is found through the kernel's `trampoline`, `uservec`
    /// symbols when given, else through the page mapped at TRAMPOLINE by any hart's `satp`.
    ///
    /// On error the event logs stay on and the tracer retries after each run (a kernel
    /// without symbols maps the trampoline only once paging is on).
    pub fn install(&mut self, m: &mut Machine, kernel: Option<&Symbols>) -> Result<(), String> {
        Tracer::enable(m);
        self.retry_install = true;
        let tramp = kernel.and_then(Trampoline::of);
        // Physical address of the trampoline page: xv6 maps the kernel's `trampoline` there.
        let page = tramp.map(|t| t.link).or_else(|| {
            m.harts
                .iter()
                .map(|h| h.csr.satp)
                .filter(|s| machine::cpu::csr::satp_paging(*s))
                .find_map(|satp| {
                    super::pagetable::translate(&*m, satp_root(satp), TRAMPOLINE).map(|t| t.0)
                })
        });
        let Some(page) = page else {
            return Err(
                "trampoline not found: give the kernel's symbols or install after boot".into(),
            );
        };
        // `uservec` starts the page in every xv6; a symbol says where when there is one.
        let uservec = kernel
            .and_then(|k| Trampoline::symbol(k, "uservec").ok())
            .filter(|u| (TRAMPOLINE..TRAMPOLINE + PGSIZE).contains(u))
            .unwrap_or(TRAMPOLINE);
        let mut code = vec![0u8; PGSIZE as usize];
        if !PhysMem::read_phys(&*m, page, &mut code) {
            return Err(format!("trampoline page {page:#x} is not in RAM"));
        }
        // With compressed instructions around it, `sret` is only 2-byte aligned.
        let off = (0..code.len() - 3)
            .step_by(2)
            .find(|&i| u32::from_le_bytes([code[i], code[i + 1], code[i + 2], code[i + 3]]) == SRET)
            .ok_or("no sret in the trampoline page")?;
        let sret = TRAMPOLINE + off as u64;
        self.retry_install = false;
        self.hooks = Some(Hooks { uservec, sret });
        Ok(())
    }

    /// The hooks' virtual addresses (`uservec`, the trampoline's `sret`) once installed:
    /// breakpoints there make the records exact.
    pub fn hooks(&self) -> Option<(u64, u64)> {
        self.hooks.map(|h| (h.uservec, h.sret))
    }

    /// Forgets the hooks and turns the event logs off.
    pub fn uninstall(&mut self, m: &mut Machine) {
        self.retry_install = false;
        self.hooks = None;
        Tracer::disable(m);
    }

    /// Call after every `Machine::run`: drains the event logs, completes a return at the
    /// `sret` hook, and returns the completed records and the stop to report: None when
    /// `stop` is at one of the hooks (whoever else has a breakpoint there decides whether
    /// it counts), else `stop`.
    pub fn after_run(
        &mut self,
        m: &mut Machine,
        stop: Stop,
        resolver: &mut dyn Resolver,
    ) -> (Vec<Arc<Record>>, Option<Stop>) {
        let mut done = self.drain(m, resolver);
        if self.retry_install
            && m.harts
                .iter()
                .any(|h| machine::cpu::csr::satp_paging(h.csr.satp))
        {
            let _ = self.install(m, None);
        }
        let (Some(h), Stop::Breakpoint { hart }) = (self.hooks, stop) else {
            return (done, Some(stop));
        };
        let Some(hs) = m.harts.get(hart) else {
            return (done, Some(stop));
        };
        let pc = hs.pc;
        if pc == h.sret && hs.mode == Mode::Supervisor {
            // The return as the xRET event would record it, but with memory as of now.
            let mut a = [0u64; 8];
            a.copy_from_slice(&hs.x[10..18]);
            let e = Event {
                cause: None,
                tval: 0,
                pc,
                target: hs.csr.sepc,
                from: Mode::Supervisor,
                to: Mode::User,
                satp: hs.csr.satp,
                a,
                cycle: hs.cycles(),
                position: m.position(),
            };
            self.leave(&e, &*m, resolver, &mut done);
        }
        if pc == h.uservec || pc == h.sret {
            (done, None)
        } else {
            (done, Some(stop))
        }
    }

    /// Turns on the event logs of every hart of `m`.
    /// Whether the trampoline breakpoints are set (records are then exact).
    pub fn exact(&self) -> bool {
        self.hooks.is_some()
    }

    pub fn enable(m: &mut Machine) {
        for h in &mut m.harts {
            h.events.get_or_insert_with(Vec::new);
        }
    }

    /// Turns them off (no cost while off).
    pub fn disable(m: &mut Machine) {
        for h in &mut m.harts {
            h.events = None;
        }
    }

    /// The completed records kept, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.ring.iter().map(|r| &**r)
    }

    /// Forgets the calls in flight (the machine went back in time: their returns will not
    /// come as recorded).
    pub fn forget_pending(&mut self) {
        self.pending.clear();
    }

    /// Empties the ring.
    pub fn clear(&mut self) {
        self.ring.clear();
        self.dropped = 0;
    }

    /// Consumes every hart's event log and returns the records completed by it (filtered),
    /// which are also kept in the ring.
    pub fn drain(&mut self, m: &mut Machine, resolver: &mut dyn Resolver) -> Vec<Arc<Record>> {
        let mut evs: Vec<(usize, Event)> = Vec::new();
        for h in &mut m.harts {
            if let Some(v) = h.events.as_mut() {
                evs.extend(v.drain(..).map(|e| (h.id, e)));
            }
            self.events_lost += std::mem::take(&mut h.events_dropped);
        }
        // Harts run in round-robin slices; their cycle counts are close enough to order a
        // process's entry (on one hart) before its return (possibly on another).
        evs.sort_by_key(|(_, e)| e.cycle);
        let mut done = Vec::new();
        for (hart, e) in evs {
            self.event(hart, &e, &*m, resolver, &mut done);
        }
        done
    }

    /// Feeds one event (for tests and for callers with their own event source).
    pub fn event(
        &mut self,
        hart: usize,
        e: &Event,
        mem: &dyn PhysMem,
        resolver: &mut dyn Resolver,
        done: &mut Vec<Arc<Record>>,
    ) {
        let ecall_u = e.cause == Some(cause::ECALL_U) && e.from == Mode::User;
        let ret_u = e.cause.is_none() && e.to == Mode::User;
        if ecall_u {
            self.enter(hart, e, mem, resolver, done);
        } else if ret_u {
            self.leave(e, mem, resolver, done);
        }
    }

    fn key(pid: Option<i64>, satp: u64) -> (bool, u64) {
        match pid {
            Some(p) => (true, p as u64),
            None => (false, satp_root(satp)),
        }
    }

    fn enter(
        &mut self,
        hart: usize,
        e: &Event,
        mem: &dyn PhysMem,
        resolver: &mut dyn Resolver,
        done: &mut Vec<Arc<Record>>,
    ) {
        let who = resolver.process(mem, e.satp);
        let nr = e.a[7];
        let mut args = [0u64; 6];
        args.copy_from_slice(&e.a[..6]);
        let root = satp_root(e.satp);
        let mut out = Vec::new();
        let shown = match lookup(nr as usize) {
            Some(sc) => sc
                .args
                .iter()
                .enumerate()
                .map(|(i, kind)| {
                    let next = args.get(i + 1).copied().unwrap_or(0);
                    if matches!(
                        kind,
                        Arg::BufOut
                            | Arg::StatusOut
                            | Arg::PipeOut
                            | Arg::StatOut
                            | Arg::SysinfoOut
                    ) {
                        out.push((i, *kind, args[i], next));
                    }
                    show_arg(mem, root, *kind, args[i], next)
                })
                .collect(),
            None => args.iter().map(|a| format!("{a:#x}")).collect(),
        };
        let rec = Record {
            seq: self.seq,
            hart,
            pid: who.as_ref().map(|w| w.0),
            name: who.map(|w| w.1),
            nr,
            args,
            shown,
            result: None,
            cycle_enter: e.cycle,
            cycle_exit: None,
        };
        self.seq += 1;
        if nr as usize == abi::syscall::nr::exit {
            resolver.invalidate();
            self.complete(rec, done);
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            // Calls that never returned (killed processes): forget the oldest.
            if let Some(k) = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.rec.seq)
                .map(|(k, _)| *k)
            {
                self.pending.remove(&k);
            }
        }
        self.pending
            .insert(Self::key(rec.pid, e.satp), Pending { rec, out });
    }

    fn leave(
        &mut self,
        e: &Event,
        mem: &dyn PhysMem,
        resolver: &mut dyn Resolver,
        done: &mut Vec<Arc<Record>>,
    ) {
        // A fast path: no call in flight means nothing to match (timer returns and the like).
        if self.pending.is_empty() {
            return;
        }
        let mut who = resolver.process(mem, e.satp);
        if who.is_none() {
            // A new page table (exec): the cache may be stale.
            resolver.invalidate();
            who = resolver.process(mem, e.satp);
        }
        let Some(mut p) = self.pending.remove(&Self::key(who.map(|w| w.0), e.satp)) else {
            return;
        };
        let result = e.a[0] as i64;
        p.rec.result = Some(result);
        p.rec.cycle_exit = Some(e.cycle);
        let root = satp_root(e.satp);
        for (i, kind, addr, len) in p.out {
            if let Some(s) = show_out(mem, root, kind, addr, len, result) {
                p.rec.shown[i] = s;
            }
        }
        if changes_processes(p.rec.nr) {
            resolver.invalidate();
        }
        self.complete(p.rec, done);
    }

    /// Keeps a completed record in the ring and hands it to the caller: one allocation
    /// shared by both, so a busy guest does not pay for a deep copy of every record.
    fn complete(&mut self, rec: Record, done: &mut Vec<Arc<Record>>) {
        if !self.filter.keeps(&rec) {
            return;
        }
        if self.ring.len() >= self.capacity {
            self.ring.pop_front();
            self.dropped += 1;
        }
        let rec = Arc::new(rec);
        self.ring.push_back(rec.clone());
        done.push(rec);
    }

    /// The ring as lines (for `monitor strace show`).
    pub fn render(&self) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        if self.dropped > 0 {
            lines.push(format!("({} older records dropped)", self.dropped));
        }
        lines.extend(self.ring.iter().map(|r| r.to_string()));
        if self.events_lost > 0 {
            lines.push(format!(
                "({} hart events lost: some calls may be missing)",
                self.events_lost
            ));
        }
        lines
    }
}

#[cfg(test)]
#[path = "strace_tests.rs"]
mod tests;
