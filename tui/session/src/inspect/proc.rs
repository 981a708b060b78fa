//! Processes, CPUs and open files of a running xv6, read through DWARF ([`super::dwarf`]):
//! what `monitor ps` and `monitor fds PID` print.
//!
//! Interface: [`Kernel::new`] finds `proc`, `cpus`, `ftable` and `itable` in a kernel ELF's
//! DWARF once; [`Kernel::procs`], [`Kernel::cpus`] and [`Kernel::files`] read them from any
//! [`PhysMem`] at a stop; [`render_ps`] and [`render_fds`] give the lines. Inode numbers are
//! turned into path names with an [`InodeNames`] built from the disk image.
//!
//! Every field is optional: a kernel without `trace_mask`, or one whose `struct file` lacks
//! `major`, leaves that column blank. Field names are tried in C's and in the Rust kernel's
//! spelling (`type`/`typ`, `ref`/`refcnt`).
//!
//! The reads are not atomic with respect to the guest: call them while the machine is
//! stopped (between `run` calls), which is the only time the debugger's views run.

use super::PhysMem;
use super::dwarf::{DwarfError, Types, Val};
pub use super::fsimage::InodeNames;
use super::labs::{LabFields, RefCounts, map_str, prot_str};
use super::pagetable::{self, PTE_U};
use super::symbols::Symbols;
use std::collections::HashMap;

/// One slot of the process table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcInfo {
    pub slot: usize,
    /// Kernel address of the slot (`struct proc *`).
    pub addr: u64,
    pub pid: Option<i64>,
    /// `unused`, `used`, `sleeping`, `runnable`, `running`, `zombie`.
    pub state: Option<String>,
    pub name: Option<String>,
    pub parent: Option<u64>,
    pub ppid: Option<i64>,
    pub sz: Option<u64>,
    pub killed: Option<i64>,
    pub xstate: Option<i64>,
    pub chan: Option<u64>,
    pub kstack: Option<u64>,
    pub pagetable: Option<u64>,
    pub trapframe: Option<u64>,
    pub trace_mask: Option<u64>,
    /// `ofile[]`: kernel addresses of open `struct file`s (0 for a free descriptor).
    pub ofile: Vec<u64>,
    /// Where each `ofile[]` slot is in memory.
    pub ofile_slots: Vec<u64>,
    /// What the labs add to `struct proc` ([`super::labs`]); read for slots in use only.
    pub lab: LabFields,
}

impl ProcInfo {
    /// Whether the slot holds a process (state other than unused).
    pub fn in_use(&self) -> bool {
        self.state.as_deref().is_some_and(|s| s != "unused")
    }
}

/// One CPU: which process it runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuInfo {
    pub id: usize,
    /// Kernel address of the current `struct proc`, 0 when the CPU runs its scheduler.
    pub proc: Option<u64>,
    pub noff: Option<i64>,
    pub intena: Option<i64>,
}

/// An open file and, for inodes, the inode's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileInfo {
    pub addr: u64,
    /// `none`, `pipe`, `inode`, `device`.
    pub kind: Option<String>,
    pub refcnt: Option<i64>,
    pub readable: Option<bool>,
    pub writable: Option<bool>,
    pub off: Option<u64>,
    pub major: Option<i64>,
    pub pipe: Option<u64>,
    pub inum: Option<u64>,
    /// Inode type: 1 dir, 2 file, 3 device (`T_DIR`, `T_FILE`, `T_DEVICE`).
    pub itype: Option<i64>,
    pub isize: Option<u64>,
    pub nlink: Option<i64>,
}

/// The kernel's tables as DWARF describes them.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub types: Types,
    /// Where `pagetable`, `pid`, `name` and `state` sit in `proc[]`, for the syscall
    /// tracer's lookups, which must be cheap (one per system call).
    pub layout: Option<ProcLayout>,
    /// The cow lab's page reference counts, when the kernel keeps them.
    pub refcounts: Option<RefCounts>,
}

/// `proc[]`'s address, stride and the offsets of the fields that identify a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcLayout {
    pub base: u64,
    pub stride: u64,
    pub count: u64,
    pub pagetable: u64,
    /// (offset, size) of `pid`.
    pub pid: (u64, u64),
    /// (offset, length) of `name`.
    pub name: (u64, u64),
}

impl ProcLayout {
    fn of(types: &Types) -> Option<ProcLayout> {
        let none = super::MemImage::default();
        let table = types.var(&none, "proc")?;
        let p0 = table.index(0)?;
        let off = |f: &str| Some(p0.field(&[f])?.addr - p0.addr);
        let pid = p0.field(&["pid"])?;
        Some(ProcLayout {
            base: table.addr,
            stride: table.stride()?,
            count: table.len()?,
            pagetable: off("pagetable")?,
            pid: (
                off("pid")?,
                types.size(pid.ty).filter(|s| (1..=8).contains(s))?,
            ),
            name: (off("name")?, p0.field(&["name"])?.len()?.min(64)),
        })
    }

    /// (pid, name) of the slot whose `pagetable` is `root`. Free slots keep a null page
    /// table in xv6 (`freeproc` clears it), so a match is a live process.
    pub fn find(&self, mem: &dyn PhysMem, root: u64) -> Option<(i64, String)> {
        (0..self.count.min(4096)).find_map(|i| {
            let p = self.base + i * self.stride;
            if mem.read_u64(p + self.pagetable)? != root {
                return None;
            }
            let mut b = [0u8; 8];
            mem.read_phys(p + self.pid.0, &mut b[..self.pid.1 as usize])
                .then_some(())?;
            let shift = 64 - 8 * self.pid.1 as u32;
            let pid = ((u64::from_le_bytes(b) << shift) as i64) >> shift;
            let (name, _) = super::read_cstr(mem, p + self.name.0, self.name.1 as usize);
            Some((pid, String::from_utf8_lossy(&name).into_owned()))
        })
    }
}

/// The globals the views read.
pub const GLOBALS: [&str; 5] = ["proc", "cpus", "ftable", "itable", "ticks"];

fn opt_i(v: Option<Val>) -> Option<i64> {
    v.and_then(|v| v.int())
}

fn opt_u(v: Option<Val>) -> Option<u64> {
    v.and_then(|v| v.uint())
}

impl Kernel {
    /// Reads the kernel ELF's DWARF for the tables. Errors when there is no DWARF at all;
    /// tables that are missing just read as empty.
    pub fn new(syms: &Symbols) -> Result<Kernel, DwarfError> {
        let types = Types::for_vars(syms, &GLOBALS)?;
        let layout = ProcLayout::of(&types);
        let refcounts = RefCounts::find(syms)?;
        Ok(Kernel {
            types,
            layout,
            refcounts,
        })
    }

    /// Whether the process table was found.
    pub fn has_procs(&self) -> bool {
        self.types.vars.contains_key("proc")
    }

    /// Every slot of `proc[]`.
    pub fn procs(&self, mem: &dyn PhysMem) -> Vec<ProcInfo> {
        let Some(table) = self.types.var(mem, "proc") else {
            return Vec::new();
        };
        let n = table.len().unwrap_or(0).min(4096);
        let mut out: Vec<ProcInfo> = (0..n)
            .filter_map(|i| table.index(i))
            .enumerate()
            .map(|(i, p)| read_proc(i, p))
            .collect();
        // Parent pids: parents are slots of the same table.
        let pids: HashMap<u64, i64> = out.iter().filter_map(|p| Some((p.addr, p.pid?))).collect();
        for p in &mut out {
            p.ppid = p.parent.and_then(|a| pids.get(&a).copied());
        }
        out
    }

    /// Every slot of `cpus[]`.
    pub fn cpus(&self, mem: &dyn PhysMem) -> Vec<CpuInfo> {
        let Some(table) = self.types.var(mem, "cpus") else {
            return Vec::new();
        };
        let n = table.len().unwrap_or(0).min(64);
        (0..n)
            .filter_map(|i| table.index(i).map(|c| (i, c)))
            .map(|(id, c)| CpuInfo {
                id: id as usize,
                proc: opt_u(c.field(&["proc"])),
                noff: opt_i(c.field(&["noff"])),
                intena: opt_i(c.field(&["intena"])),
            })
            .collect()
    }

    /// The `struct file` at kernel address `addr`, with its inode's fields.
    pub fn file(&self, mem: &dyn PhysMem, addr: u64) -> Option<FileInfo> {
        let ftable = self.types.var(mem, "ftable")?;
        let files = ftable.field(&["file"])?;
        let f = Val {
            addr,
            ..files.index(0)?
        };
        let ip = f.field(&["ip"]).and_then(|p| p.deref());
        Some(FileInfo {
            addr,
            kind: f.field(&["type", "typ"]).and_then(|v| v.enum_name()),
            refcnt: opt_i(f.field(&["ref", "refcnt"])),
            readable: opt_i(f.field(&["readable"])).map(|v| v != 0),
            writable: opt_i(f.field(&["writable"])).map(|v| v != 0),
            off: opt_u(f.field(&["off"])),
            major: opt_i(f.field(&["major"])),
            pipe: opt_u(f.field(&["pipe"])).filter(|p| *p != 0),
            inum: opt_u(ip.and_then(|i| i.field(&["inum"]))),
            itype: opt_i(ip.and_then(|i| i.field(&["type", "typ"]))),
            isize: opt_u(ip.and_then(|i| i.field(&["size"]))),
            nlink: opt_i(ip.and_then(|i| i.field(&["nlink"]))),
        })
    }

    /// Open descriptors of process `pid`: (fd, file).
    pub fn files(&self, mem: &dyn PhysMem, pid: i64) -> Option<(ProcInfo, Vec<(usize, FileInfo)>)> {
        let p = self
            .procs(mem)
            .into_iter()
            .find(|p| p.in_use() && p.pid == Some(pid))?;
        let files = p
            .ofile
            .iter()
            .enumerate()
            .filter(|(_, a)| **a != 0)
            .map(|(fd, a)| {
                (
                    fd,
                    self.file(mem, *a).unwrap_or(FileInfo {
                        addr: *a,
                        ..FileInfo::default()
                    }),
                )
            })
            .collect();
        Some((p, files))
    }

    /// `ticks`, the clock-interrupt count.
    pub fn ticks(&self, mem: &dyn PhysMem) -> Option<u64> {
        self.types.var(mem, "ticks")?.uint()
    }
}

fn read_proc(slot: usize, p: Val) -> ProcInfo {
    let slots: Vec<Option<Val>> = p
        .field(&["ofile"])
        .map(|o| {
            (0..o.len().unwrap_or(0).min(256))
                .map(|i| o.index(i))
                .collect()
        })
        .unwrap_or_default();
    let ofile = slots
        .iter()
        .map(|f| f.as_ref().and_then(|f| f.uint()).unwrap_or(0))
        .collect();
    let ofile_slots = slots
        .iter()
        .map(|f| f.as_ref().map_or(0, |f| f.addr))
        .collect();
    let state = p.field(&["state"]).and_then(|s| s.enum_name());
    let lab = if state.as_deref().is_some_and(|s| s != "unused") {
        super::labs::read(&p)
    } else {
        LabFields::default()
    };
    ProcInfo {
        slot,
        addr: p.addr,
        pid: opt_i(p.field(&["pid"])),
        state,
        name: p.field(&["name"]).and_then(|n| n.cstring()),
        parent: opt_u(p.field(&["parent"])).filter(|a| *a != 0),
        ppid: None,
        sz: opt_u(p.field(&["sz"])),
        killed: opt_i(p.field(&["killed"])),
        xstate: opt_i(p.field(&["xstate"])),
        chan: opt_u(p.field(&["chan"])),
        kstack: opt_u(p.field(&["kstack"])),
        pagetable: opt_u(p.field(&["pagetable"])),
        trapframe: opt_u(p.field(&["trapframe"])),
        trace_mask: opt_u(p.field(&["trace_mask", "mask", "tracemask"])),
        ofile,
        ofile_slots,
        lab,
    }
}

fn or_blank<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn hex_or_blank(v: Option<u64>) -> String {
    v.map(|v| format!("{v:#x}")).unwrap_or_default()
}

/// `monitor ps`: one line per process in use, with the CPU running it.
pub fn render_ps(procs: &[ProcInfo], cpus: &[CpuInfo]) -> Vec<String> {
    let mut lines = vec![format!(
        "{:>4} {:>5} {:>5} {:<9} {:>3} {:>8} {:>12} {:>6} {}",
        "slot", "pid", "ppid", "state", "cpu", "sz", "pagetable", "killed", "name"
    )];
    for p in procs.iter().filter(|p| p.in_use()) {
        let cpu = cpus.iter().find(|c| c.proc == Some(p.addr)).map(|c| c.id);
        lines.push(format!(
            "{:>4} {:>5} {:>5} {:<9} {:>3} {:>8} {:>12} {:>6} {}",
            p.slot,
            or_blank(p.pid),
            or_blank(p.ppid),
            or_blank(p.state.as_deref()),
            or_blank(cpu),
            hex_or_blank(p.sz),
            hex_or_blank(p.pagetable),
            or_blank(p.killed),
            or_blank(p.name.as_deref())
        ));
    }
    if lines.len() == 1 {
        lines.push("(no processes)".into());
    }
    lines
}

/// The user pages of the address space at `root` (leaves with U) and how many of them
/// share their physical page (reference count above 1).
pub fn shared_pages(mem: &dyn PhysMem, root: u64, refs: &RefCounts) -> (u64, u64) {
    let t = pagetable::walk(mem, root);
    let user: Vec<u64> = t
        .leaves()
        .filter(|e| e.pte & PTE_U != 0)
        .map(|e| e.pa())
        .collect();
    let shared = user
        .iter()
        .filter(|pa| refs.count(mem, **pa).is_some_and(|c| c > 1))
        .count();
    (user.len() as u64, shared as u64)
}

/// The lines `ps -l` adds under a process: its kernel page table, its mappings (with the
/// file's name when `names` knows the inode), its page sharing (cow lab) and the other
/// fields labs add, by the kernel's own names. `file` reads a `struct file`.
pub fn render_lab(
    p: &ProcInfo,
    mem: &dyn PhysMem,
    kernel: &Kernel,
    names: Option<&InodeNames>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let l = &p.lab;
    // Null: the bundled kernel without its kpgtbl option (a lab kernel's live process
    // always has one).
    if let Some((name, root)) = l.kpagetable.as_ref().filter(|(_, r)| *r != 0) {
        lines.push(format!("kernel page table ({name}) {root:#x}"));
    }
    if let Some(field) = &l.vma_field {
        if l.vmas.is_empty() {
            lines.push(format!("no mappings ({field}[])"));
        }
        for v in &l.vmas {
            let mut s = format!(
                "{field}[{}] {:#x}-{:#x} {} {}",
                v.slot,
                v.addr,
                v.addr.wrapping_add(v.len),
                prot_str(v.prot),
                map_str(v.flags)
            );
            if let Some(off) = v.off {
                s.push_str(&format!(" off {off}"));
            }
            if let Some(f) = v.file.filter(|f| *f != 0) {
                let inum = kernel.file(mem, f).and_then(|f| f.inum);
                s.push_str(&format!(" file {f:#x}"));
                if let Some(i) = inum {
                    s.push_str(&format!(" inum {i}"));
                    if let Some(n) = names.and_then(|n| n.name(i as u32)) {
                        s.push_str(&format!(" \"{n}\""));
                    }
                }
            }
            lines.push(s);
        }
    }
    if let (Some(refs), Some(root)) = (&kernel.refcounts, p.pagetable.filter(|r| *r != 0)) {
        let (user, shared) = shared_pages(mem, root, refs);
        lines.push(format!(
            "{user} user pages, {shared} shared (reference count > 1)"
        ));
    }
    if !l.other.is_empty() {
        let fields: Vec<String> = l.other.iter().map(|(n, v)| format!("{n}={v}")).collect();
        lines.push(fields.join(" "));
    }
    lines
}

/// `monitor ps -l [PID]`: `ps`, each process followed by [`render_lab`]'s lines, indented,
/// and the reference counts' totals when the kernel keeps them.
pub fn render_ps_long(
    procs: &[ProcInfo],
    cpus: &[CpuInfo],
    mem: &dyn PhysMem,
    kernel: &Kernel,
    names: Option<&InodeNames>,
    only: Option<i64>,
) -> Vec<String> {
    let short = render_ps(procs, cpus);
    let mut lines = vec![short[0].clone()];
    let live: Vec<&ProcInfo> = procs
        .iter()
        .filter(|p| p.in_use() && only.is_none_or(|pid| p.pid == Some(pid)))
        .collect();
    for p in &live {
        if let Some(row) = short
            .iter()
            .skip(1)
            .find(|r| r.split_whitespace().next() == Some(&p.slot.to_string()))
        {
            lines.push(row.clone());
        }
        lines.extend(
            render_lab(p, mem, kernel, names)
                .into_iter()
                .map(|l| format!("{:>11}{l}", "")),
        );
    }
    if live.is_empty() {
        lines.push(match only {
            Some(pid) => format!("no process {pid}"),
            None => "(no processes)".into(),
        });
    }
    if let Some(refs) = &kernel.refcounts
        && only.is_none()
    {
        match refs.totals(mem) {
            Some((shared, counted)) => lines.push(format!(
                "reference counts ({}): {counted} pages counted, {shared} shared",
                refs.describe()
            )),
            None => lines.push(format!(
                "reference counts ({}): not readable",
                refs.describe()
            )),
        }
    }
    lines
}

/// `monitor fds PID`: the process's open descriptors.
pub fn render_fds(
    p: &ProcInfo,
    files: &[(usize, FileInfo)],
    names: Option<&InodeNames>,
) -> Vec<String> {
    let mut lines = vec![format!(
        "pid {} ({})",
        or_blank(p.pid),
        or_blank(p.name.as_deref())
    )];
    lines.push(format!(
        "{:>3} {:<7} {:>4} {:<2} {:>7}  {}",
        "fd", "type", "ref", "rw", "off", "what"
    ));
    for (fd, f) in files {
        let rw = format!(
            "{}{}",
            if f.readable == Some(true) { "r" } else { "-" },
            if f.writable == Some(true) { "w" } else { "-" }
        );
        let kind = f.kind.as_deref().unwrap_or("");
        let what = match kind {
            "pipe" => format!("pipe {}", hex_or_blank(f.pipe)),
            "device" => {
                let dev = match f.major {
                    Some(1) => "console (major 1)".to_string(),
                    Some(m) => format!("major {m}"),
                    None => String::new(),
                };
                format!("{dev} inum {}", or_blank(f.inum))
                    .trim()
                    .to_string()
            }
            _ => {
                let itype = match f.itype {
                    Some(1) => "dir",
                    Some(2) => "file",
                    Some(3) => "device",
                    _ => "",
                };
                let path = f.inum.and_then(|i| names.and_then(|n| n.name(i as u32)));
                let mut s = format!(
                    "inum {} {itype} size {}",
                    or_blank(f.inum),
                    or_blank(f.isize)
                );
                if let Some(p) = path {
                    s.push_str(&format!(" \"{p}\""));
                }
                s
            }
        };
        let off = if kind == "inode" {
            or_blank(f.off)
        } else {
            String::new()
        };
        lines.push(format!(
            "{fd:>3} {kind:<7} {:>4} {rw:<2} {off:>7}  {what}",
            or_blank(f.refcnt)
        ));
    }
    if files.is_empty() {
        lines.push("(no open files)".into());
    }
    lines
}

#[cfg(test)]
#[path = "proc_tests.rs"]
mod tests;
