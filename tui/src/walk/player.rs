//! The headless player: plays a [`Walk`] on a machine, step by step, and evaluates checks.
//!
//! Interface: [`prepare`] readies a booted machine; [`Player::new`] borrows it, its views
//! (symbols, DWARF tables) and the walk's [`Progress`] for one step; [`Player::play_step`]
//! types the step's input, runs to its target (a function, a `FILE:LINE`, a system call's
//! `ecall`, a console text), evaluates the checks in file order and then the step's `save`
//! list. The machine is deterministic, so a walkthrough that passes once passes every time
//! on the same kernel and disk.
//!
//! Checks read the machine only. A comparison (`"< $kernel.freemem"`) reads its right side
//! at the same stop (another key) or from [`Progress::saved`] (a `$KEY`); the free-list
//! reader behind `kernel.*` is built once, on the first step that needs it, and kept in the
//! progress, so replaying a walk from a fresh `Progress` (the TUI's "back") rebuilds all.
//!
//! Invariants: the syscall tracer stays on for the whole walk (its records give `result.*`
//! checks); a stop at a breakpoint of ours is shown to the tracer as a plain budget stop, as
//! the TUI's engine does, so the tracer never swallows it. A breakpoint the walk adds is
//! removed after the stop unless someone (the tracer) had it before.

use super::format::{Check, Operand, Step, Target};
use machine::{Machine, Stop};
use session::inspect::kmem::Kmem;
use session::inspect::monitor::Views;
use session::inspect::pagetable;
use session::inspect::proc::ProcInfo;
use session::inspect::state::{HartState, Satp, mode_name};
use session::inspect::strace::{Filter, Record};
use std::collections::HashMap;
use std::sync::Arc;
use toml::Value;

/// Cycles per `Machine::run` call between console and target checks.
const SLICE: u64 = 1_000_000;

/// What a walk has seen so far: it outlives each step's borrow of the machine.
#[derive(Default)]
pub struct Progress {
    /// Every console byte since the walk began.
    pub console: Vec<u8>,
    /// Completed system calls since the walk began (for `result.*` checks).
    pub records: Vec<Arc<Record>>,
    /// The hart the last stop was on (checks of registers read it).
    pub hart: usize,
    /// Values kept by steps' `save` lists, by check key, for `$KEY` in later checks.
    pub saved: HashMap<String, i128>,
    /// The free-list reader, made the first time a step mentions `kernel.*` (reading the
    /// DWARF takes a moment); Err says why it cannot be.
    pub kmem: Option<Result<Kmem, String>>,
}

/// A machine being walked: borrowed from its owner (the headless driver or the TUI's
/// machine thread) for one step at a time.
pub struct Player<'a> {
    pub machine: &'a mut Machine,
    pub views: &'a mut Views,
    pub progress: &'a mut Progress,
}

/// One check's outcome: the key, what was found, and whether it matched.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub key: String,
    pub found: String,
    pub ok: bool,
}

/// Readies a freshly booted machine and its views for walking: the tracer on, and idle
/// harts run through (a walk waits for the console or a breakpoint, never for a key).
pub fn prepare(machine: &mut Machine, views: &mut Views) {
    machine.set_idle_stops(false);
    // An error only says the tracer reads buffers late until it can hook the trampoline.
    let _ = views.strace_on(machine, Filter::default());
}

impl<'a> Player<'a> {
    pub fn new(
        machine: &'a mut Machine,
        views: &'a mut Views,
        progress: &'a mut Progress,
    ) -> Player<'a> {
        Player {
            machine,
            views,
            progress,
        }
    }

    /// Types, runs to the target and evaluates the checks. Err: the target was not reached.
    pub fn play_step(&mut self, step: &Step) -> Result<Vec<Outcome>, String> {
        let start = self.progress.console.len();
        if let Some(t) = &step.typed {
            self.machine.bus.uart.push_input(t.as_bytes());
        }
        match &step.target {
            Target::Stay => {}
            Target::Until(text) => self.run_until(start, text, step.limit)?,
            Target::Break(func) => {
                let k = self.views.syms.kernel.as_ref().ok_or("no kernel symbols")?;
                let addr = k
                    .lookup(func)
                    .ok_or(format!("no kernel function {func:?}"))?
                    .addr;
                // Trampoline code runs at TRAMPOLINE, not at its link address.
                let base = k.lookup("trampoline").map(|s| s.addr);
                let addr = match base {
                    Some(b) if (b..b + 4096).contains(&addr) => self.trampoline(func)?,
                    _ => addr,
                };
                self.run_to(addr, None, step.proc.as_deref(), step.limit)?;
            }
            Target::Line(file, line) => {
                let k = self.views.syms.kernel.as_ref().ok_or("no kernel symbols")?;
                let addr = k
                    .line_address(file, *line)
                    .ok_or(format!("no kernel code at {file}:{line}"))?;
                self.run_to(addr, None, step.proc.as_deref(), step.limit)?;
            }
            Target::Syscall(name) => {
                let sc = abi::syscall::by_name(name).ok_or(format!("no system call {name:?}"))?;
                let addr = self.trampoline("uservec")?;
                self.run_to(addr, Some(sc.nr as u64), step.proc.as_deref(), step.limit)?;
            }
        }
        if step_mentions(step, "kernel") && self.progress.kmem.is_none() {
            let k = self.views.syms.kernel.as_ref().ok_or("no kernel symbols")?;
            self.progress.kmem = Some(Kmem::new(k).map_err(|e| e.to_string()));
        }
        let outcomes = step.checks.iter().map(|c| self.check(c)).collect();
        for key in &step.save {
            let path: Vec<String> = key.split('.').map(str::to_string).collect();
            match self.found(&path) {
                Ok(Found::Int(v)) => {
                    self.progress.saved.insert(key.clone(), v);
                }
                Ok(f) => return Err(format!("cannot save {key}: {f} is not a number")),
                Err(e) => return Err(format!("cannot save {key}: {e}")),
            }
        }
        Ok(outcomes)
    }

    /// The address of a trampoline symbol in the trampoline page, the same in every page
    /// table (memlayout: TRAMPOLINE).
    fn trampoline(&self, sym: &str) -> Result<u64, String> {
        let k = self.views.syms.kernel.as_ref().ok_or("no kernel symbols")?;
        let base = k.lookup("trampoline").ok_or("no `trampoline` symbol")?.addr;
        let at = k.lookup(sym).ok_or(format!("no `{sym}` symbol"))?.addr;
        Ok(abi::memlayout::TRAMPOLINE + at.wrapping_sub(base))
    }

    /// One slice; the stop after the tracer has seen it. `ours`: a stop of our own to keep.
    fn slice(
        &mut self,
        ours: &mut dyn FnMut(&mut Player<'_>, usize) -> bool,
    ) -> Result<Option<usize>, String> {
        let stop = self.machine.run(SLICE);
        self.progress
            .console
            .extend(self.machine.bus.uart.take_output());
        let hit = matches!(stop, Stop::Breakpoint { hart } if ours(self, hart));
        let seen = if hit { Stop::Budget } else { stop };
        let (records, out) = self.views.after_run(self.machine, seen);
        self.progress.records.extend(records);
        if let Stop::Breakpoint { hart } = stop
            && hit
        {
            return Ok(Some(hart));
        }
        match out {
            Some(Stop::PowerOff { code }) => Err(format!("the guest powered off (code {code})")),
            Some(Stop::Reset) => Err("the guest asked for a reset".into()),
            Some(Stop::Htif { value }) => Err(format!("the guest wrote tohost = {value}")),
            _ => Ok(None),
        }
    }

    fn run_until(&mut self, start: usize, text: &str, limit: u64) -> Result<(), String> {
        let end = self.machine.cycle().saturating_add(limit);
        let needle = text.as_bytes();
        loop {
            let from = start.min(self.progress.console.len());
            if self.progress.console[from..]
                .windows(needle.len().max(1))
                .any(|w| w == needle)
            {
                return Ok(());
            }
            if self.machine.cycle() >= end {
                return Err(format!("{text:?} did not appear within {limit} cycles"));
            }
            self.slice(&mut |_, _| false)?;
        }
    }

    fn run_to(
        &mut self,
        addr: u64,
        nr: Option<u64>,
        proc: Option<&str>,
        limit: u64,
    ) -> Result<(), String> {
        let added = self.machine.add_breakpoint(addr);
        let end = self.machine.cycle().saturating_add(limit);
        let result = loop {
            if self.machine.cycle() >= end {
                break Err(format!(
                    "the breakpoint was not reached within {limit} cycles"
                ));
            }
            let mut ours = |p: &mut Player<'_>, h: usize| {
                let hart = &p.machine.harts[h];
                // scause 8: environment call from U-mode (privileged spec, Table 3.6).
                let syscall_ok =
                    nr.is_none_or(|n| hart.pc == addr && hart.csr.scause == 8 && hart.x[17] == n);
                hart.pc == addr
                    && syscall_ok
                    && proc.is_none_or(|who| {
                        let cur = p.current(h);
                        match who.parse::<i64>() {
                            Ok(pid) => cur.and_then(|c| c.pid) == Some(pid),
                            Err(_) => cur.and_then(|c| c.name).as_deref() == Some(who),
                        }
                    })
            };
            match self.slice(&mut ours) {
                Ok(Some(h)) => {
                    self.progress.hart = h;
                    break Ok(());
                }
                Ok(None) => {}
                Err(e) => break Err(e),
            }
        };
        if added {
            self.machine.remove_breakpoint(addr);
        }
        result
    }

    /// The process hart `h` runs (`cpus[h].proc`).
    fn current(&self, h: usize) -> Option<ProcInfo> {
        let k = self.views.kernel.as_ref()?;
        let addr = k
            .cpus(self.machine)
            .into_iter()
            .find(|c| c.id == h)
            .and_then(|c| c.proc)
            .filter(|a| *a != 0)?;
        k.procs(self.machine).into_iter().find(|p| p.addr == addr)
    }

    /// A process by pid (all digits) or by name (the newest of that name).
    fn proc(&self, who: &str) -> Option<ProcInfo> {
        let k = self.views.kernel.as_ref()?;
        let procs = k.procs(self.machine).into_iter().filter(ProcInfo::in_use);
        match who.parse::<i64>() {
            Ok(pid) => procs.into_iter().find(|p| p.pid == Some(pid)),
            Err(_) => procs
                .filter(|p| p.name.as_deref() == Some(who))
                .max_by_key(|p| p.pid),
        }
    }

    fn check(&self, c: &Check) -> Outcome {
        let found = self.found(&c.path);
        if let Some(rel) = &c.rel {
            let base = match &rel.base {
                Operand::Num(n) => Ok(*n),
                Operand::Now(path) => match self.found(path) {
                    Ok(Found::Int(v)) => Ok(v),
                    Ok(f) => Err(format!("{} = {f} is not a number", path.join("."))),
                    Err(e) => Err(format!("{}: {e}", path.join("."))),
                },
                Operand::Saved(path) => {
                    let key = path.join(".");
                    self.progress
                        .saved
                        .get(&key)
                        .copied()
                        .ok_or(format!("${key} was never saved (`save = [\"{key}\"]`)"))
                }
            };
            let (found, ok) = match (found, base) {
                (Ok(Found::Int(v)), Ok(b)) => {
                    let want = b + rel.offset;
                    (
                        format!("{} (against {})", Found::Int(v), Found::Int(want)),
                        rel.op.holds(v, want),
                    )
                }
                (Ok(f), Ok(_)) => (format!("{f}, not a number"), false),
                (Err(e), _) | (_, Err(e)) => (e, false),
            };
            return Outcome {
                key: c.key(),
                found,
                ok,
            };
        }
        let ok = match (&found, &c.want) {
            (Ok(Found::Int(v)), Value::Integer(w)) => *v == *w as u64 as i128 || *v == *w as i128,
            (Ok(Found::Int(v)), Value::String(w)) => parse_int(w).is_some_and(|w| w as i128 == *v),
            (Ok(Found::Text(v)), Value::String(w)) => v.eq_ignore_ascii_case(w),
            (Ok(Found::Bool(v)), Value::Boolean(w)) => v == w,
            (Ok(Found::Flags(pte)), Value::String(w)) => flags_match(*pte, w),
            _ => false,
        };
        Outcome {
            key: c.key(),
            found: match found {
                Ok(f) => f.to_string(),
                Err(e) => e,
            },
            ok,
        }
    }

    /// The root of a page table: process P's, or the kernel's for `kernel`.
    fn root(&self, who: &str) -> Result<u64, String> {
        if who == "kernel" {
            let k = self.views.syms.kernel.as_ref().ok_or("no kernel symbols")?;
            let sym = k.lookup("kernel_pagetable").ok_or("no kernel_pagetable")?;
            let mut b = [0u8; 8];
            if !self.machine.read_phys(sym.addr, &mut b) {
                return Err("cannot read kernel_pagetable".into());
            }
            Ok(u64::from_le_bytes(b))
        } else {
            self.proc(who)
                .ok_or(format!("no process {who}"))?
                .pagetable
                .ok_or("no page table".into())
        }
    }

    /// A virtual address in a `pte`/`pa`/`mem` key: a number, or `guard` / `stack`.
    fn va(&self, root: u64, va: &str) -> Result<u64, String> {
        match va {
            // xv6 puts one guard page (no U) right below the user stack.
            "guard" | "stack" => {
                let g = pagetable::walk(self.machine, root)
                    .user_guard()
                    .ok_or("no guard page (a leaf below the trapframe without U)")?;
                Ok(if va == "guard" { g } else { g + 4096 })
            }
            _ => parse_int(va).ok_or(format!("bad address {va}")),
        }
    }

    fn found(&self, path: &[String]) -> Result<Found, String> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let hart = HartState::of(&self.machine.harts[self.progress.hart]);
        match p.as_slice() {
            ["mode"] => Ok(Found::Text(mode_name(hart.mode).into())),
            // sstatus.SPP (bit 8): the mode the last trap into S-mode came from, and the mode
            // sret returns to (privileged spec §12.1.1).
            ["spp"] => {
                let v = hart.csr("sstatus").ok_or("no sstatus")?;
                Ok(Found::Text(if v >> 8 & 1 == 1 { "S" } else { "U" }.into()))
            }
            ["func"] => {
                let k = self.views.syms.kernel.as_ref().ok_or("no kernel symbols")?;
                let mut pc = hart.pc;
                // In the trampoline page: name it by the kernel's link address. The last
                // path component names a Rust function as xv6 names its C one.
                if let (Ok(tr), Some(base)) =
                    (self.trampoline("trampoline"), k.lookup("trampoline"))
                    && (tr..tr + 4096).contains(&pc)
                {
                    pc = base.addr + (pc - tr);
                }
                Ok(Found::Text(
                    k.symbol_at(pc)
                        .map(|(s, _)| s.name.rsplit("::").next().unwrap_or(&s.name).to_string())
                        .unwrap_or(format!("{pc:#x}")),
                ))
            }
            ["reg", r] => {
                let i = machine::cpu::decode::REG_NAMES
                    .iter()
                    .position(|n| n == r)
                    .or_else(|| {
                        r.strip_prefix('x')
                            .and_then(|n| n.parse().ok())
                            .filter(|n| *n < 32)
                    });
                match (*r, i) {
                    ("pc", _) => Ok(Found::Int(hart.pc as i128)),
                    (_, Some(i)) => Ok(Found::Int(hart.x[i] as i128)),
                    _ => Err(format!("no register {r}")),
                }
            }
            ["csr", name] => hart
                .csr(name)
                .map(|v| Found::Int(v as i128))
                .ok_or(format!("no CSR {name} shown")),
            ["satp", what] => {
                let satp = Satp::new(hart.csr("satp").ok_or("no satp")?);
                match *what {
                    "mode" => Ok(Found::Text(match satp.mode {
                        0 => "bare".into(),
                        8 => "sv39".into(),
                        m => format!("mode {m}"),
                    })),
                    "table" => {
                        let k = self.views.kernel.as_ref().ok_or("no kernel tables")?;
                        let owner = k
                            .procs(self.machine)
                            .into_iter()
                            .find(|p| p.in_use() && p.pagetable == Some(satp.root))
                            .and_then(|p| p.name);
                        Ok(Found::Text(owner.unwrap_or_else(|| "kernel".into())))
                    }
                    _ => Err(format!("satp.{what}: use satp.mode or satp.table")),
                }
            }
            ["proc", who, field] => {
                let pr = self.proc(who).ok_or(format!("no process {who}"))?;
                let int = |v: Option<i64>| {
                    v.map(|v| Found::Int(v as i128))
                        .ok_or(format!("{field} unknown"))
                };
                match *field {
                    "state" => pr.state.map(Found::Text).ok_or("state unknown".into()),
                    "name" => pr.name.map(Found::Text).ok_or("name unknown".into()),
                    "pid" => int(pr.pid),
                    "ppid" => int(pr.ppid),
                    "sz" => int(pr.sz.map(|v| v as i64)),
                    "xstate" => int(pr.xstate),
                    "fds" => Ok(Found::Int(
                        pr.ofile.iter().filter(|a| **a != 0).count() as i128
                    )),
                    "trace_mask" => int(pr.trace_mask.map(|v| v as i64)),
                    _ => Err(format!(
                        "no field {field} (state, name, pid, ppid, sz, xstate, fds, trace_mask)"
                    )),
                }
            }
            ["count", name] => {
                let k = self.views.kernel.as_ref().ok_or("no kernel tables")?;
                let n = k
                    .procs(self.machine)
                    .iter()
                    .filter(|p| p.in_use() && (*name == "all" || p.name.as_deref() == Some(*name)))
                    .count();
                Ok(Found::Int(n as i128))
            }
            ["fd", who, n, rest @ ..] => {
                let k = self.views.kernel.as_ref().ok_or("no kernel tables")?;
                let pr = self.proc(who).ok_or(format!("no process {who}"))?;
                let n: usize = n.parse().map_err(|_| format!("fd {n} is not a number"))?;
                let addr = pr.ofile.get(n).copied().unwrap_or(0);
                if addr == 0 {
                    return Ok(Found::Text("closed".into()));
                }
                let f = k.file(self.machine, addr).ok_or("cannot read the file")?;
                match rest.first().copied().unwrap_or("type") {
                    "type" => f.kind.map(Found::Text).ok_or("type unknown".into()),
                    "ref" => f
                        .refcnt
                        .map(|v| Found::Int(v as i128))
                        .ok_or("ref unknown".into()),
                    "readable" => f.readable.map(Found::Bool).ok_or("readable unknown".into()),
                    "writable" => f.writable.map(Found::Bool).ok_or("writable unknown".into()),
                    "pipe" => f
                        .pipe
                        .map(|v| Found::Int(v as i128))
                        .ok_or("no pipe".into()),
                    other => Err(format!(
                        "no fd field {other} (type, ref, readable, writable)"
                    )),
                }
            }
            ["pte" | "pa", who, va] => {
                let root = self.root(who)?;
                let va = self.va(root, va)?;
                let (pa, pte) = pagetable::translate(self.machine, root, va)
                    .ok_or(format!("{va:#x} not mapped"))?;
                Ok(if p[0] == "pte" {
                    Found::Flags(pte)
                } else {
                    Found::Int(pa as i128)
                })
            }
            ["mem", who, va] => {
                let root = self.root(who)?;
                let va = self.va(root, va)?;
                let mut b = [0u8; 8];
                if !pagetable::read_virt(self.machine, root, va, &mut b, false) {
                    return Err(format!("cannot read {va:#x}"));
                }
                Ok(Found::Int(u64::from_le_bytes(b) as i128))
            }
            ["pt", who, what] => {
                let tree = pagetable::walk(self.machine, self.root(who)?);
                let leaves = tree.leaves().count();
                match *what {
                    "leaves" => Ok(Found::Int(leaves as i128)),
                    // Every non-leaf entry points at one table page; plus the root.
                    "tables" => Ok(Found::Int((tree.entries.len() - leaves + 1) as i128)),
                    _ => Err(format!("pt.{who}.{what}: use leaves or tables")),
                }
            }
            ["kernel", what] => {
                let kmem = match &self.progress.kmem {
                    Some(Ok(k)) => k,
                    Some(Err(e)) => return Err(e.clone()),
                    None => return Err("no free-list reader".into()),
                };
                let pages = kmem
                    .free_pages(self.machine)
                    .ok_or("cannot follow kmem.freelist")?;
                match *what {
                    "freemem" => Ok(Found::Int(pages as i128 * 4096)),
                    "freepages" => Ok(Found::Int(pages as i128)),
                    _ => Err(format!("kernel.{what}: use freemem or freepages")),
                }
            }
            // Completed calls of NAME by process P (a pid, or the name at entry).
            ["calls", who, name] => {
                let pid = who.parse::<i64>().ok();
                let n = self
                    .progress
                    .records
                    .iter()
                    .filter(|r| r.result.is_some() && r.call_name() == *name)
                    .filter(|r| match pid {
                        Some(pid) => r.pid == Some(pid),
                        None => r.name.as_deref() == Some(*who),
                    })
                    .count();
                Ok(Found::Int(n as i128))
            }
            ["printed", text] => {
                let console = String::from_utf8_lossy(&self.progress.console);
                Ok(Found::Int(
                    console.lines().filter(|l| l.contains(text)).count() as i128,
                ))
            }
            ["result", name] => self
                .progress
                .records
                .iter()
                .rev()
                .find(|r| r.call_name() == *name && r.result.is_some())
                .and_then(|r| r.result)
                .map(|v| Found::Int(v as i128))
                .ok_or(format!("no completed {name} yet")),
            _ => Err("unknown check".into()),
        }
    }
}

enum Found {
    Int(i128),
    Text(String),
    Bool(bool),
    Flags(u64),
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::Int(v) if *v > 4096 || *v < -4096 => write!(f, "{v:#x}"),
            Found::Int(v) => write!(f, "{v}"),
            Found::Text(s) => write!(f, "{s:?}"),
            Found::Bool(b) => write!(f, "{b}"),
            Found::Flags(p) => write!(f, "{}", pagetable::flags_str(*p)),
        }
    }
}

/// Whether any check, relation operand or save of `step` is of kind `kind`.
fn step_mentions(step: &Step, kind: &str) -> bool {
    let is = |p: &[String]| p.first().is_some_and(|k| k == kind);
    step.checks.iter().any(|c| {
        is(&c.path)
            || c.rel.as_ref().is_some_and(|r| match &r.base {
                Operand::Now(p) | Operand::Saved(p) => is(p),
                Operand::Num(_) => false,
            })
    }) || step.save.iter().any(|k| k.split('.').next() == Some(kind))
}

/// Decimal or 0x-hex.
fn parse_int(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(&h.replace('_', ""), 16).ok(),
        None => s.parse().ok(),
    }
}

/// The flags listed must be set; of V R W X U, those not listed must be clear (G, A and D,
/// which vary with history, count only when listed). Spaces and dashes are ignored.
fn flags_match(pte: u64, want: &str) -> bool {
    let names = ['V', 'R', 'W', 'X', 'U', 'G', 'A', 'D'];
    names.iter().enumerate().all(|(i, c)| {
        let set = pte >> i & 1 != 0;
        let listed = want.contains(*c);
        if i <= 4 {
            set == listed
        } else {
            set || !listed
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_compare_vrwxu_exactly_and_gad_when_listed() {
        // V R W U A D: a user data page.
        let pte = 0b1101_0111;
        assert!(flags_match(pte, "V R W U"));
        assert!(flags_match(pte, "VRWUAD"));
        assert!(!flags_match(pte, "V R U"));
        assert!(!flags_match(pte, "V R W X U"));
        assert!(!flags_match(pte, "V R W U G"));
    }

    #[test]
    fn ints_parse_in_both_bases() {
        assert_eq!(parse_int("0x3fffffe000"), Some(0x3f_ffff_e000));
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int("x"), None);
    }
}
