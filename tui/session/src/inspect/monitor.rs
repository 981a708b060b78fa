//! The debugger's views as text commands: what gdb's `monitor CMD` and the TUI's command
//! line run. One [`Views`] per debugging session holds the symbols, the kernel's DWARF
//! tables and the syscall tracer; [`Views::command`] parses one line and returns the lines
//! to print. Commands (see [`HELP`]):
//!
//! `ps [-l [PID]]` · `fds PID` · `pt [PID [kernel]|kernel] [tree]` · `vmprint PID|kernel
//! [--year Y]` · `ptsave PID` then
//! `ptdiff PID` · `regs [HART]` · `sym ADDR|NAME` · `strace on [FILTER]|off|show|clear`.
//!
//! A view that needs what this kernel lacks (no DWARF, no `proc` table) says so in one
//! line rather than failing. Run loops that trace syscalls call [`Views::after_run`] after
//! every `Machine::run` (see [`super::strace`]).

use super::pagetable::{self, Names, Tree};
use super::proc::{InodeNames, Kernel, render_fds, render_ps, render_ps_long};
use super::state::HartState;
use super::strace::{Filter, KernelResolver, NoResolver, Record, SyscallTable, Tracer};
use super::symbols::{SymbolSet, Symbols};
use machine::machine::{Machine, Stop};
use std::collections::HashMap;
use std::sync::Arc;

/// One line per command, for `monitor help`.
pub const HELP: &[&str] = &[
    "ps                       processes (pid, parent, state, cpu, size, page table, name)",
    "ps -l [PID]              and what the labs add: kernel page table, mmap VMAs, pages",
    "                         shared (cow refcounts), alarm and other fields by name",
    "fds PID                  open files of process PID",
    "pt [PID|kernel|hart N] [tree]  page table, runs of like pages folded (default: hart 0's)",
    "pt PID kernel [tree]     the process's own kernel page table (2020 pgtbl lab)",
    "vmprint PID|kernel [--year Y]  page table as the pgtbl lab's vmprint prints it: indexes",
    "                         (2020-23) or virtual addresses (2024 on), as the kernel's lab",
    "                         year does (told from its symbols) or year Y does",
    "ptsave PID / ptdiff PID  remember a page table / show what changed since",
    "regs [HART]              registers and CSRs, decoded",
    "sym ADDR|NAME            symbol, file and line of an address; address of a symbol",
    "dis [ADDR|NAME] [N]      disassemble N instructions (default: at hart 0's pc)",
    "list [ADDR|NAME]         source lines around an address (default: hart 0's pc)",
    "strace on [FILTER]       trace system calls (FILTER: open,read,pid=N,proc=NAME,mask=N)",
    "strace off|show|clear    stop tracing / show the kept trace / forget it",
];

/// Ring size of the syscall trace kept for `strace show`.
pub const TRACE_KEEP: usize = 4096;

/// The state of the views for one machine.
pub struct Views {
    pub syms: SymbolSet,
    pub kernel: Option<Kernel>,
    /// Why `kernel` is None.
    pub kernel_error: Option<String>,
    pub tracer: Tracer,
    tracing: bool,
    resolver: Option<KernelResolver>,
    saved: HashMap<String, Tree>,
}

impl Views {
    /// Views for a kernel ELF (with DWARF for `ps`/`fds`; symbols alone still give `sym`).
    pub fn new(kernel_elf: Option<&[u8]>) -> Views {
        let mut v = Views {
            syms: SymbolSet::default(),
            kernel: None,
            kernel_error: Some("no kernel ELF given".into()),
            tracer: Tracer::new(TRACE_KEEP, Filter::default()),
            tracing: false,
            resolver: None,
            saved: HashMap::new(),
        };
        if let Some(elf) = kernel_elf {
            match Symbols::parse("kernel", elf) {
                Ok(s) => {
                    v.tracer.table = Arc::new(SyscallTable::of_kernel(elf, &s));
                    match Kernel::new(&s) {
                        Ok(k) if k.has_procs() => {
                            v.resolver = Some(KernelResolver::new(&k));
                            v.kernel = Some(k);
                            v.kernel_error = None;
                        }
                        Ok(_) => {
                            v.kernel_error = Some("the kernel's DWARF has no `proc` table".into())
                        }
                        Err(e) => v.kernel_error = Some(e.to_string()),
                    }
                    v.syms.kernel = Some(s);
                }
                Err(e) => v.kernel_error = Some(e.to_string()),
            }
        }
        v
    }

    /// Loads user programs' symbols from the programs on an xv6 disk image (for `regs` and
    /// `dis` in user mode); returns how many. `--user-dir` goes to `syms.add_user_dir`.
    pub fn add_users_from_disk(&mut self, disk: &[u8]) -> usize {
        self.syms.add_users_from_disk(disk)
    }

    /// Whether the syscall tracer is on.
    pub fn tracing(&self) -> bool {
        self.tracing
    }

    /// Turns syscall tracing on with `filter`. An error says tracing is on but not yet exact
    /// (see [`Tracer::install`]); it is a warning to show, not a failure.
    pub fn strace_on(&mut self, m: &mut Machine, filter: Filter) -> Result<(), String> {
        filter.check(&self.tracer.table)?;
        self.tracer.filter = filter;
        if !self.tracing {
            self.tracing = true;
            if let Err(e) = self.tracer.install(m, self.syms.kernel.as_ref()) {
                return Err(format!(
                    "syscall trace on, buffers read late until the tracer can hook the trampoline ({e})"
                ));
            }
        }
        Ok(())
    }

    /// Turns it off.
    pub fn strace_off(&mut self, m: &mut Machine) {
        if self.tracing {
            self.tracer.uninstall(m);
            self.tracing = false;
        }
    }

    /// Call after every `Machine::run` while tracing: the records completed and the stop to
    /// report (None: the tracer's own breakpoint, run on).
    pub fn after_run(&mut self, m: &mut Machine, stop: Stop) -> (Vec<Arc<Record>>, Option<Stop>) {
        if !self.tracing {
            return (Vec::new(), Some(stop));
        }
        match &mut self.resolver {
            Some(r) => self.tracer.after_run(m, stop, r),
            None => self.tracer.after_run(m, stop, &mut NoResolver),
        }
    }

    fn need_kernel(&self) -> Result<&Kernel, Vec<String>> {
        self.kernel.as_ref().ok_or_else(|| {
            vec![format!(
                "no kernel tables: {}",
                self.kernel_error.as_deref().unwrap_or("unknown reason")
            )]
        })
    }

    /// The root and names of hart `h`'s address space (its `satp`).
    pub fn hart_space(&self, m: &Machine, h: usize) -> Result<(u64, Names, String), String> {
        let hart = m.harts.get(h).ok_or(format!(
            "no hart {h} (harts 0 to {})",
            m.harts.len().saturating_sub(1)
        ))?;
        let satp = hart.csr.satp;
        if !machine::cpu::csr::satp_paging(satp) {
            return Err(format!(
                "hart {h} runs without paging (satp {satp:#x} is Bare)"
            ));
        }
        let root = pagetable::satp_root(satp);
        let names = self.names_for_root(m, root);
        Ok((root, names, format!("hart {h}'s satp")))
    }

    /// The process in use with pid `pid`, from the kernel's tables.
    fn live_proc(&self, m: &Machine, pid: i64) -> Result<super::proc::ProcInfo, String> {
        let k = self
            .kernel
            .as_ref()
            .ok_or("no kernel tables (DWARF) to find processes")?;
        k.procs(m)
            .into_iter()
            .find(|p| p.in_use() && p.pid == Some(pid))
            .ok_or(format!("no process {pid}"))
    }

    /// The root and names of `who`'s address space: a pid, `kernel`, `hart:N`, or None for
    /// hart 0's.
    pub fn space(&self, m: &Machine, who: Option<&str>) -> Result<(u64, Names, String), String> {
        match who {
            None => self.hart_space(m, 0),
            Some(w) if w.starts_with("hart:") => match w[5..].parse() {
                Ok(h) => self.hart_space(m, h),
                Err(_) => Err("usage: pt hart N".into()),
            },
            Some(w) if w.starts_with("kpt:") => {
                // A process's own kernel page table (the 2020 pgtbl lab's `kpagetable`).
                let pid: i64 = w[4..]
                    .parse()
                    .map_err(|_| format!("not a pid: {:?}", &w[4..]))?;
                let p = self.live_proc(m, pid)?;
                let (field, root) = p
                    .lab
                    .kpagetable
                    .clone()
                    .ok_or("this kernel's processes have no kernel page table of their own")?;
                if root == 0 {
                    return Err(format!("process {pid}'s {field} is null"));
                }
                let label = format!("pid {pid}'s kernel page table ({field})");
                Ok((root, self.kernel_names(), label))
            }
            Some("kernel") => {
                let sym = self
                    .syms
                    .kernel
                    .as_ref()
                    .and_then(|k| k.lookup("kernel_pagetable"))
                    .ok_or("no `kernel_pagetable` symbol")?;
                let root = super::PhysMem::read_u64(m, sym.addr)
                    .filter(|r| *r != 0)
                    .ok_or("kernel_pagetable is not set yet")?;
                Ok((root, self.kernel_names(), "the kernel".into()))
            }
            Some(pid) => {
                let pid: i64 = pid.parse().map_err(|_| format!("not a pid: {pid:?}"))?;
                let p = self.live_proc(m, pid)?;
                let root = p
                    .pagetable
                    .filter(|r| *r != 0)
                    .ok_or(format!("process {pid} has no page table"))?;
                let label = format!("pid {pid} ({})", p.name.unwrap_or_default());
                Ok((root, Names::user(p.sz.unwrap_or(0)), label))
            }
        }
    }

    /// A hex address or a kernel symbol's address.
    fn addr_of(&self, a: &str) -> Option<u64> {
        match a.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => self.syms.kernel.as_ref()?.lookup(a).map(|s| s.addr),
        }
    }

    /// The address a `dis`/`list` argument names (a symbol or 0x-hex), or hart 0's pc when
    /// there is none.
    fn addr_or_pc(&self, m: &Machine, a: Option<&str>) -> Result<u64, String> {
        match a {
            Some(a) => self.addr_of(a).ok_or(format!("no symbol or address {a:?}")),
            None => Ok(m.harts.first().map(|h| h.pc).unwrap_or(0)),
        }
    }

    fn kernel_names(&self) -> Names {
        Names::kernel(
            self.syms
                .kernel
                .as_ref()
                .and_then(|k| k.lookup("etext"))
                .map(|s| s.addr),
        )
    }

    /// Names for a root found in a satp: a process's if it is one, else the kernel's.
    fn names_for_root(&self, m: &Machine, root: u64) -> Names {
        let p = self.kernel.as_ref().and_then(|k| {
            k.procs(m)
                .into_iter()
                .find(|p| p.in_use() && p.pagetable == Some(root))
        });
        match p {
            Some(p) => Names::user(p.sz.unwrap_or(0)),
            None => self.kernel_names(),
        }
    }

    /// Runs one command line and returns its output.
    pub fn command(&mut self, m: &mut Machine, line: &str) -> Vec<String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let arg = |i: usize| words.get(i).copied();
        let err = |e: String| vec![e];
        match words.first().copied() {
            None | Some("help") => HELP.iter().map(|s| s.to_string()).collect(),
            Some("ps") => match (self.need_kernel(), arg(1)) {
                (Err(e), _) => e,
                (Ok(k), None) => render_ps(&k.procs(m), &k.cpus(m)),
                (Ok(k), Some("-l")) => {
                    let only = match arg(2).map(str::parse::<i64>) {
                        None => None,
                        Some(Ok(pid)) => Some(pid),
                        Some(Err(_)) => return err("usage: ps [-l [PID]]".into()),
                    };
                    let names = InodeNames::from_disk(m.bus.virtio.disk());
                    render_ps_long(&k.procs(m), &k.cpus(m), &*m, k, Some(&names), only)
                }
                (Ok(_), Some(_)) => err("usage: ps [-l [PID]]".into()),
            },
            Some("fds") => {
                let k = match self.need_kernel() {
                    Ok(k) => k,
                    Err(e) => return e,
                };
                let Some(pid) = arg(1).and_then(|p| p.parse::<i64>().ok()) else {
                    return err("usage: fds PID".into());
                };
                match k.files(m, pid) {
                    Some((p, files)) => {
                        let names = InodeNames::from_disk(m.bus.virtio.disk());
                        render_fds(&p, &files, Some(&names))
                    }
                    None => err(format!("no process {pid}")),
                }
            }
            Some("pt") => {
                let tree_form = words.contains(&"tree");
                let rest: Vec<&str> = words[1..]
                    .iter()
                    .copied()
                    .filter(|w| *w != "tree")
                    .collect();
                let named;
                let who = match rest.as_slice() {
                    ["hart", n] => {
                        named = format!("hart:{n}");
                        Some(named.as_str())
                    }
                    ["hart"] => return err("usage: pt hart N".into()),
                    [pid, "kernel"] => {
                        named = format!("kpt:{pid}");
                        Some(named.as_str())
                    }
                    other => other.first().copied(),
                };
                match self.space(m, who) {
                    Ok((root, names, label)) => {
                        let t = pagetable::walk(&*m, root);
                        let mut lines = vec![format!("address space of {label}")];
                        lines.extend(if tree_form {
                            t.render_tree(&names)
                        } else {
                            t.render(&names)
                        });
                        lines
                    }
                    Err(e) => err(e),
                }
            }
            Some("vmprint") => {
                const USAGE: &str = "usage: vmprint PID|kernel [kernel] [--year YEAR]";
                let mut rest: Vec<&str> = words[1..].to_vec();
                let mut style = self.syms.kernel.as_ref().map(crate::xv6::vmprint_style);
                if let Some(i) = rest.iter().position(|w| *w == "--year") {
                    match rest.get(i + 1).and_then(|y| y.parse::<u32>().ok()) {
                        Some(y) => style = Some(pagetable::Vmprint::of_year(y)),
                        None => return err(USAGE.into()),
                    }
                    rest.drain(i..i + 2);
                }
                let named;
                let who = match rest.as_slice() {
                    [pid, "kernel"] => {
                        named = format!("kpt:{pid}");
                        named.as_str()
                    }
                    [w] => w,
                    _ => return err(USAGE.into()),
                };
                match self.space(m, Some(who)) {
                    Ok((root, _, _)) => pagetable::walk(&*m, root)
                        .vmprint_as(style.unwrap_or(pagetable::Vmprint::Index)),
                    Err(e) => err(e),
                }
            }
            Some("ptsave") => match self.space(m, arg(1)) {
                Ok((root, _, label)) => {
                    let t = pagetable::walk(&*m, root);
                    let n = t.leaves().count();
                    self.saved.insert(arg(1).unwrap_or("").to_string(), t);
                    vec![format!("saved the page table of {label} ({n} leaves)")]
                }
                Err(e) => err(e),
            },
            Some("ptdiff") => {
                let key = arg(1).unwrap_or("").to_string();
                let Some(old) = self.saved.get(&key) else {
                    return err(format!("nothing saved for {key:?}: use ptsave first"));
                };
                match self.space(m, arg(1)) {
                    Ok((root, _, label)) => {
                        let new = pagetable::walk(&*m, root);
                        let mut lines =
                            vec![format!("changes in the page table of {label} since ptsave")];
                        lines.extend(pagetable::render_diff(&pagetable::diff(old, &new)));
                        lines
                    }
                    Err(e) => err(e),
                }
            }
            Some("regs") => {
                let h = arg(1).and_then(|h| h.parse::<usize>().ok()).unwrap_or(0);
                match m.harts.get(h) {
                    Some(hart) => {
                        let st = HartState::of(hart);
                        let mut lines = st.render();
                        let user = st.mode == machine::cpu::Mode::User;
                        let pname = if user {
                            let satp = st.csr("satp").unwrap_or(0);
                            self.kernel
                                .as_ref()
                                .and_then(|k| crate::xv6::proc_of_satp(k, m, satp))
                                .and_then(|p| p.name)
                        } else {
                            None
                        };
                        lines.insert(
                            1,
                            format!("at {}", self.syms.describe(st.pc, user, pname.as_deref())),
                        );
                        lines
                    }
                    None => err(format!("no hart {h}")),
                }
            }
            Some("sym") => {
                let Some(a) = arg(1) else {
                    return err("usage: sym ADDR|NAME".into());
                };
                let Some(k) = self.syms.kernel.as_ref() else {
                    return err("no kernel symbols".into());
                };
                let addr = a
                    .strip_prefix("0x")
                    .and_then(|h| u64::from_str_radix(h, 16).ok());
                match addr {
                    Some(addr) => {
                        let mut lines = vec![k.describe(addr)];
                        for f in k.frames(addr).iter().filter(|f| f.inlined) {
                            lines.push(format!(
                                "  inlined: {} at {}",
                                f.function.as_deref().unwrap_or("?"),
                                f.location().unwrap_or_default()
                            ));
                        }
                        lines
                    }
                    None => match k.lookup(a) {
                        Some(s) => vec![format!("{} = {:#x} (size {})", s.name, s.addr, s.size)],
                        None => err(format!("no symbol {a:?}")),
                    },
                }
            }
            Some("dis") => {
                let at = match self.addr_or_pc(m, arg(1)) {
                    Ok(at) => at,
                    Err(e) => return err(e),
                };
                let n = arg(2)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(16usize)
                    .min(1000);
                let satp = m.harts.first().map(|h| h.csr.satp).unwrap_or(0);
                let mem: &Machine = m;
                // Through hart 0's address space when it pages, else physical.
                let read = |va: u64, buf: &mut [u8]| -> bool {
                    if machine::cpu::csr::satp_paging(satp) {
                        pagetable::read_virt(mem, pagetable::satp_root(satp), va, buf, false)
                    } else {
                        super::PhysMem::read_phys(mem, va, buf)
                    }
                };
                let user = m
                    .harts
                    .first()
                    .is_some_and(|h| h.mode == machine::cpu::Mode::User);
                let syms = if user {
                    let root = pagetable::satp_root(satp);
                    let name = self
                        .kernel
                        .as_ref()
                        .and_then(|k| k.layout?.find(mem, root))
                        .map(|p| p.1);
                    self.syms.for_pc(at, true, name.as_deref())
                } else {
                    self.syms.kernel.as_ref()
                };
                super::symbols::disasm(&read, at, n, syms)
            }
            Some("list") => {
                let at = match self.addr_or_pc(m, arg(1)) {
                    Ok(at) => at,
                    Err(e) => return err(e),
                };
                let Some(k) = self.syms.kernel.as_ref() else {
                    return err("no kernel symbols".into());
                };
                match k.line(at) {
                    Some((file, line)) => source_lines(&file, line, 5),
                    None => err(format!("no line information for {at:#x}")),
                }
            }
            Some("strace") => match arg(1) {
                Some("on") => {
                    let spec = words.get(2..).map(|w| w.join(",")).unwrap_or_default();
                    match Filter::parse(&spec).and_then(|f| self.strace_on(m, f)) {
                        Ok(()) => vec![format!(
                            "syscall trace on{}",
                            if spec.is_empty() {
                                String::new()
                            } else {
                                format!(" ({spec})")
                            }
                        )],
                        Err(e) => err(e),
                    }
                }
                Some("off") => {
                    self.strace_off(m);
                    vec!["syscall trace off".into()]
                }
                Some("show") | None => {
                    let lines = self.tracer.render();
                    if lines.is_empty() {
                        vec!["(no system calls recorded)".into()]
                    } else {
                        lines
                    }
                }
                Some("clear") => {
                    self.tracer.clear();
                    vec!["trace cleared".into()]
                }
                Some(other) => err(format!("strace {other}: use on, off, show or clear")),
            },
            Some(other) => err(format!("unknown command {other:?}; try help")),
        }
    }
}

/// Lines `line - around ..= line + around` of source file `file`, the line itself marked;
/// one line saying why when the file cannot be read (sources are not always at hand).
pub fn source_lines(file: &str, line: u32, around: u32) -> Vec<String> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            return vec![format!(
                "{}:{line} (source not readable: {e})",
                super::symbols::short_path(file)
            )];
        }
    };
    let first = line.saturating_sub(around).max(1);
    let mut out = vec![format!("{}:{line}", super::symbols::short_path(file))];
    for (i, l) in text
        .lines()
        .enumerate()
        .skip(first as usize - 1)
        .take((2 * around + 1) as usize)
    {
        let n = i as u32 + 1;
        out.push(format!(
            "{} {n:>5}  {l}",
            if n == line { "=>" } else { "  " }
        ));
    }
    out
}

#[cfg(test)]
#[path = "monitor_tests.rs"]
mod tests;
