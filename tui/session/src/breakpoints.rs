//! The breakpoint registry: every breakpoint and watchpoint has an owner.
//!
//! Owners are the user's numbered breakpoints, the syscall tracer's hooks, a temporary
//! breakpoint of a step (`next`, `finish`, run-to), a gdb client and a walkthrough step.
//! The machine keeps one flat list of pcs (it only needs to know where to stop); the
//! registry is the only writer of that list, and [`Registry::sync`] makes it the union of
//! the owners' addresses. So removing one owner's breakpoint never disturbs another's at the
//! same address, and a machine booted again gets every breakpoint back from one call.
//!
//! A breakpoint may carry a condition ([`Cond`]); the session evaluates it when the machine
//! stops there (see `Session::run`), and a stop whose breakpoints all fail their conditions
//! is not reported.
//!
//! A [`Spec`] is what a person or a file writes (`FUNC`, `FILE:LINE`, `*ADDR`, `uservec`,
//! `syscall NAME`, `pid N`); `Session::resolve` turns it into an address, a label and a
//! condition, in one place for every front end.

use machine::Machine;
use machine::cpu::Watchpoint;

/// Who set a breakpoint or watchpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// The user's breakpoint number N (TUI `b`, `d N`), numbered from 1, never reused.
    User(u32),
    /// The syscall tracer's hooks on the trampoline (see `inspect::strace`).
    Tracer,
    /// A step's own breakpoint: the return address of `next` or `finish`, a run-to target.
    Temp,
    /// The attached gdb client (`Z0`..`Z4`).
    Gdb,
    /// The target of the walkthrough step being played.
    Walk,
}

/// When a breakpoint counts: the machine stops at its pc, and then this must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// A system call with this number enters the kernel: the trap cause is an `ecall` from
    /// U-mode and a7 holds the number (xv6's calling convention).
    Syscall(u64),
    /// The stopped hart runs the process with this pid (`cpus[h].proc`).
    Pid(i64),
    /// The stopped hart runs a process of this name.
    Proc(String),
    /// The stop is on this hart.
    Hart(usize),
    /// All of these hold.
    All(Vec<Cond>),
}

/// One breakpoint: where, whose, what to call it, and when it counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breakpoint {
    pub owner: Owner,
    /// The virtual pc where the machine stops.
    pub addr: u64,
    pub label: String,
    pub cond: Option<Cond>,
}

/// One watchpoint and its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    pub owner: Owner,
    pub watch: Watchpoint,
}

/// A breakpoint as written by a person or a walkthrough file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    /// A kernel function by name (trampoline code breaks where it runs: TRAMPOLINE).
    Func(String),
    /// A kernel source line.
    FileLine(String, u32),
    /// A virtual address, as is.
    Addr(u64),
    /// The `ecall` of a system call, caught at the trampoline's `uservec`.
    Syscall(String),
    /// Process N about to run user code, caught at the trampoline's `userret`.
    Pid(i64),
}

impl Spec {
    /// Parses `FUNC`, `FILE:LINE`, `*ADDR` (or `0xADDR`), `syscall NAME`, `pid N`.
    pub fn parse(text: &str) -> Result<Spec, String> {
        let text = text.trim();
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            [] => Err("break where? (FUNC, FILE:LINE, *ADDR, syscall NAME, pid N)".into()),
            ["syscall", name] => Ok(Spec::Syscall(name.to_string())),
            ["pid", n] => n
                .parse()
                .map(Spec::Pid)
                .map_err(|_| format!("not a pid: {n:?}")),
            [one] => {
                let addr = one.strip_prefix('*').unwrap_or(one);
                if let Some(hex) = addr.strip_prefix("0x") {
                    return u64::from_str_radix(&hex.replace('_', ""), 16)
                        .map(Spec::Addr)
                        .map_err(|_| format!("not an address: {one:?}"));
                }
                if one.starts_with('*') {
                    return addr
                        .parse()
                        .map(Spec::Addr)
                        .map_err(|_| format!("not an address: {one:?}"));
                }
                match one.rsplit_once(':') {
                    Some((file, line)) if !file.is_empty() && !file.ends_with(':') => line
                        .parse()
                        .map(|l| Spec::FileLine(file.to_string(), l))
                        .map_err(|_| format!("not a line number: {line:?}")),
                    _ => Ok(Spec::Func(one.to_string())),
                }
            }
            _ => Err(format!(
                "cannot read {text:?} (FUNC, FILE:LINE, *ADDR, syscall NAME, pid N)"
            )),
        }
    }
}

/// Every owner's breakpoints and watchpoints.
#[derive(Debug, Default)]
pub struct Registry {
    breakpoints: Vec<Breakpoint>,
    watches: Vec<Watch>,
    /// The next user breakpoint number.
    next_user: u32,
}

impl Registry {
    /// Adds a breakpoint. Adding the same owner, address and condition twice keeps one.
    pub fn add(&mut self, bp: Breakpoint) {
        if !self.breakpoints.contains(&bp) {
            self.breakpoints.push(bp);
        }
    }

    /// The number the next user breakpoint gets (and reserves it).
    pub fn next_user_number(&mut self) -> u32 {
        self.next_user += 1;
        self.next_user
    }

    /// Removes `owner`'s breakpoints at `addr`; how many there were.
    pub fn remove(&mut self, owner: Owner, addr: u64) -> usize {
        let before = self.breakpoints.len();
        self.breakpoints
            .retain(|b| !(b.owner == owner && b.addr == addr));
        before - self.breakpoints.len()
    }

    /// Removes every breakpoint and watchpoint of `owner`; how many there were.
    pub fn remove_owner(&mut self, owner: Owner) -> usize {
        let before = self.breakpoints.len() + self.watches.len();
        self.breakpoints.retain(|b| b.owner != owner);
        self.watches.retain(|w| w.owner != owner);
        before - self.breakpoints.len() - self.watches.len()
    }

    /// All breakpoints, in the order they were added.
    pub fn breakpoints(&self) -> &[Breakpoint] {
        &self.breakpoints
    }

    /// `owner`'s breakpoints.
    pub fn of(&self, owner: Owner) -> impl Iterator<Item = &Breakpoint> {
        self.breakpoints.iter().filter(move |b| b.owner == owner)
    }

    /// The breakpoints at virtual pc `pc`, of every owner.
    pub fn at(&self, pc: u64) -> impl Iterator<Item = &Breakpoint> {
        self.breakpoints.iter().filter(move |b| b.addr == pc)
    }

    /// Whether anyone has a breakpoint at `pc`.
    pub fn is_set(&self, pc: u64) -> bool {
        self.at(pc).next().is_some()
    }

    /// Adds a watchpoint; false if the owner had the same one.
    pub fn add_watch(&mut self, owner: Owner, watch: Watchpoint) -> bool {
        let w = Watch { owner, watch };
        if self.watches.contains(&w) {
            return false;
        }
        self.watches.push(w);
        true
    }

    /// Removes an owner's watchpoint; false if it had none such.
    pub fn remove_watch(&mut self, owner: Owner, watch: Watchpoint) -> bool {
        let before = self.watches.len();
        self.watches
            .retain(|w| !(w.owner == owner && w.watch == watch));
        before != self.watches.len()
    }

    /// All watchpoints.
    pub fn watches(&self) -> &[Watch] {
        &self.watches
    }

    /// Makes the machine's flat lists the union of every owner's: one pc or range per entry,
    /// whoever set it, added and removed only where they differ (the machine keeps its
    /// resume-past-a-breakpoint state across unchanged entries).
    pub fn sync(&self, m: &mut Machine) {
        let want: Vec<u64> = self.breakpoints.iter().map(|b| b.addr).collect();
        let have: Vec<u64> = m.breakpoints().to_vec();
        for pc in &have {
            if !want.contains(pc) {
                m.remove_breakpoint(*pc);
            }
        }
        for pc in want {
            m.add_breakpoint(pc); // a no-op where it is already set
        }
        let want: Vec<Watchpoint> = self.watches.iter().map(|w| w.watch).collect();
        let have: Vec<Watchpoint> = m.watchpoints().to_vec();
        for w in &have {
            if !want.contains(w) {
                m.remove_watchpoint(*w);
            }
        }
        for w in want {
            m.add_watchpoint(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use machine::{Config, Image};

    fn bp(owner: Owner, addr: u64) -> Breakpoint {
        Breakpoint {
            owner,
            addr,
            label: format!("{addr:#x}"),
            cond: None,
        }
    }

    #[test]
    fn specs_parse_as_people_write_them() {
        assert_eq!(Spec::parse("sys_exec"), Ok(Spec::Func("sys_exec".into())));
        assert_eq!(
            Spec::parse("kernel::proc::fork"),
            Ok(Spec::Func("kernel::proc::fork".into()))
        );
        assert_eq!(
            Spec::parse("kernel/proc.c:42"),
            Ok(Spec::FileLine("kernel/proc.c".into(), 42))
        );
        assert_eq!(Spec::parse("*0x80001000"), Ok(Spec::Addr(0x8000_1000)));
        assert_eq!(Spec::parse("0x8000_1000"), Ok(Spec::Addr(0x8000_1000)));
        assert_eq!(
            Spec::parse("syscall  read"),
            Ok(Spec::Syscall("read".into()))
        );
        assert_eq!(Spec::parse("pid 3"), Ok(Spec::Pid(3)));
        assert!(Spec::parse("pid x").is_err());
        assert!(Spec::parse("").is_err());
        assert!(Spec::parse("proc.c:x").is_err());
        assert!(Spec::parse("a b c").is_err());
    }

    #[test]
    fn one_owner_removing_its_breakpoint_leaves_the_others() {
        let mut m = Machine::new(
            Config {
                harts: 1,
                ..Config::default()
            },
            Image::Raw(&[0x13, 0, 0, 0]),
            None,
        )
        .expect("a raw image loads");
        let mut r = Registry::default();
        r.add(bp(Owner::User(1), 0x1000));
        r.add(bp(Owner::Tracer, 0x1000));
        r.add(bp(Owner::Gdb, 0x2000));
        r.add(bp(Owner::Gdb, 0x2000)); // the same twice: one
        r.sync(&mut m);
        assert_eq!(m.breakpoints(), &[0x1000, 0x2000]);
        assert_eq!(r.remove(Owner::User(1), 0x1000), 1);
        r.sync(&mut m);
        assert_eq!(
            m.breakpoints(),
            &[0x1000, 0x2000],
            "the tracer keeps 0x1000"
        );
        assert_eq!(r.remove_owner(Owner::Gdb), 1);
        r.sync(&mut m);
        assert_eq!(m.breakpoints(), &[0x1000]);
        let w = Watchpoint {
            addr: 0x8000_1000,
            len: 8,
            kind: machine::cpu::WatchKind::Write,
        };
        assert!(r.add_watch(Owner::Gdb, w));
        assert!(r.add_watch(Owner::User(2), w));
        assert!(!r.add_watch(Owner::Gdb, w));
        r.sync(&mut m);
        assert_eq!(m.watchpoints(), &[w]);
        assert!(r.remove_watch(Owner::Gdb, w));
        r.sync(&mut m);
        assert_eq!(m.watchpoints(), &[w], "the user's watchpoint stays");
        r.remove_owner(Owner::User(2));
        r.sync(&mut m);
        assert!(m.watchpoints().is_empty());
    }
}
