//! The headless player: plays a [`Walk`] on a machine, step by step, and evaluates checks.
//!
//! Interface: [`prepare`] readies a booted session; [`Player::new`] borrows it and the
//! walk's [`Progress`] for one step; [`Player::play_step`]
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
//! checks). A step's target is a breakpoint of owner `Walk` in the session's registry, with
//! the step's conditions (system call number, process); it goes when the step stops, and
//! never disturbs the user's or the tracer's breakpoints at the same pc.

use super::format::{Check, Operand, Step, Target};
use machine::Stop;
use session::inspect::kmem::Kmem;
use session::inspect::pagetable;
use session::inspect::state::{HartState, Satp, mode_name};
use session::inspect::strace::{Filter, Record};
use session::{Cond, Owner, Session, Spec};
use std::collections::HashMap;
use std::sync::Arc;
use toml::Value;

/// Cycles per `Machine::run` call between console and target checks.
const SLICE: u64 = 1_000_000;

/// What a walk has seen so far: it outlives each step's borrow of the machine.
#[derive(Clone, Default)]
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

/// A session being walked: borrowed from its owner (the headless driver or the TUI's
/// machine thread) for one step at a time.
pub struct Player<'a> {
    pub session: &'a mut Session,
    pub progress: &'a mut Progress,
}

/// One check's outcome: the key, what was found, and whether it matched.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub key: String,
    pub found: String,
    pub ok: bool,
}

/// Readies a freshly booted session for walking: the tracer on, and idle harts run
/// through (a walk waits for the console or a breakpoint, never for a key).
pub fn prepare(session: &mut Session) {
    session.set_idle_stops(false);
    // An error only says the tracer reads buffers late until it can hook the trampoline.
    let _ = session.strace_on(Filter::default());
}

impl<'a> Player<'a> {
    pub fn new(session: &'a mut Session, progress: &'a mut Progress) -> Player<'a> {
        Player { session, progress }
    }

    /// Types, runs to the target and evaluates the checks. Err: the target was not reached.
    pub fn play_step(&mut self, step: &Step) -> Result<Vec<Outcome>, String> {
        let start = self.progress.console.len();
        if let Some(t) = &step.typed {
            self.session.type_input(t.as_bytes());
        }
        let spec = match &step.target {
            Target::Stay => None,
            Target::Until(text) => {
                self.run_until(start, text, step.limit)?;
                None
            }
            Target::Break(func) => Some(Spec::Func(func.clone())),
            Target::Line(file, line) => Some(Spec::FileLine(file.clone(), *line)),
            Target::Syscall(name) => Some(Spec::Syscall(name.clone())),
        };
        if let Some(spec) = spec {
            let mut r = self.session.resolve(&spec)?;
            if let Some(who) = &step.proc {
                let proc = Cond::Proc(who.clone());
                r.cond = Some(match r.cond.take() {
                    Some(c) => Cond::All(vec![c, proc]),
                    None => proc,
                });
            }
            let reached = self.session.run_to(Owner::Walk, r, step.limit);
            self.collect();
            self.progress.hart = reached?;
        }
        if step_mentions(step, "kernel") && self.progress.kmem.is_none() {
            let k = self
                .session
                .views
                .syms
                .kernel
                .as_ref()
                .ok_or("no kernel symbols")?;
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

    /// Console output and completed system calls since the last look.
    fn collect(&mut self) {
        self.progress.console.extend(self.session.take_output());
        self.progress.records.extend(self.session.take_records());
    }

    fn run_until(&mut self, start: usize, text: &str, limit: u64) -> Result<(), String> {
        let end = self.session.machine().cycle().saturating_add(limit);
        let needle = text.as_bytes();
        loop {
            let from = start.min(self.progress.console.len());
            if self.progress.console[from..]
                .windows(needle.len().max(1))
                .any(|w| w == needle)
            {
                return Ok(());
            }
            if self.session.machine().cycle() >= end {
                return Err(format!("{text:?} did not appear within {limit} cycles"));
            }
            let stop = self.session.run(SLICE);
            self.collect();
            match stop {
                Stop::PowerOff { code } => {
                    return Err(format!("the guest powered off (code {code})"));
                }
                Stop::Reset => return Err("the guest asked for a reset".into()),
                Stop::Htif { value } => return Err(format!("the guest wrote tohost = {value}")),
                Stop::Idle if self.session.machine().idle_until().is_none() => {
                    return Err(format!(
                        "{text:?} did not appear: every hart waits with no wake-up source"
                    ));
                }
                _ => {}
            }
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
            let k = self.kernel_syms()?;
            session::xv6::kernel_pagetable(k, self.session.machine())
        } else {
            self.session
                .proc_by(who)
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
                let g = pagetable::walk(self.session.machine(), root)
                    .user_guard()
                    .ok_or("no guard page (a leaf below the trapframe without U)")?;
                Ok(if va == "guard" { g } else { g + 4096 })
            }
            _ => parse_int(va).ok_or(format!("bad address {va}")),
        }
    }

    fn found(&self, path: &[String]) -> Result<Found, String> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let m = self.session.machine();
        let hart = HartState::of(&m.harts[self.progress.hart]);
        match p.as_slice() {
            ["mode"] => Ok(Found::Text(mode_name(hart.mode).into())),
            // sstatus.SPP (bit 8): the mode the last trap into S-mode came from, and the mode
            // sret returns to (privileged spec §12.1.1).
            ["spp"] => {
                let v = hart.csr("sstatus").ok_or("no sstatus")?;
                Ok(Found::Text(if v >> 8 & 1 == 1 { "S" } else { "U" }.into()))
            }
            ["func"] => {
                let k = self.kernel_syms()?;
                // In the trampoline page: named by the kernel's link address. The last path
                // component names a Rust function as xv6 names its C one.
                let pc = self.session.link_of(hart.pc);
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
                        let k = self.kernel_tables()?;
                        let satp_value = hart.csr("satp").unwrap_or(0);
                        let owner =
                            session::xv6::proc_of_satp(k, m, satp_value).and_then(|p| p.name);
                        Ok(Found::Text(owner.unwrap_or_else(|| "kernel".into())))
                    }
                    _ => Err(format!("satp.{what}: use satp.mode or satp.table")),
                }
            }
            ["proc", who, field] => {
                let pr = self
                    .session
                    .proc_by(who)
                    .ok_or(format!("no process {who}"))?;
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
                let k = self.kernel_tables()?;
                let n = k
                    .procs(m)
                    .iter()
                    .filter(|p| p.in_use() && (*name == "all" || p.name.as_deref() == Some(*name)))
                    .count();
                Ok(Found::Int(n as i128))
            }
            ["fd", who, n, rest @ ..] => {
                let k = self.kernel_tables()?;
                let pr = self
                    .session
                    .proc_by(who)
                    .ok_or(format!("no process {who}"))?;
                let n: usize = n.parse().map_err(|_| format!("fd {n} is not a number"))?;
                let addr = pr.ofile.get(n).copied().unwrap_or(0);
                if addr == 0 {
                    return Ok(Found::Text("closed".into()));
                }
                let f = k.file(m, addr).ok_or("cannot read the file")?;
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
                let (pa, pte) =
                    pagetable::translate(m, root, va).ok_or(format!("{va:#x} not mapped"))?;
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
                if !pagetable::read_virt(m, root, va, &mut b, false) {
                    return Err(format!("cannot read {va:#x}"));
                }
                Ok(Found::Int(u64::from_le_bytes(b) as i128))
            }
            ["pt", who, what] => {
                let tree = pagetable::walk(m, self.root(who)?);
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
                let pages = kmem.free_pages(m).ok_or("cannot follow kmem.freelist")?;
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

impl Player<'_> {
    fn kernel_syms(&self) -> Result<&session::inspect::symbols::Symbols, String> {
        self.session
            .views
            .syms
            .kernel
            .as_ref()
            .ok_or_else(|| "no kernel symbols".to_string())
    }

    fn kernel_tables(&self) -> Result<&session::inspect::proc::Kernel, String> {
        self.session
            .views
            .kernel
            .as_ref()
            .ok_or_else(|| "no kernel tables".to_string())
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
