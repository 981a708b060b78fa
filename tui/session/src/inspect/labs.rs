//! The MIT labs' kernel structures, found by shape in any kernel's DWARF: a per-process
//! kernel page table (2020 pgtbl lab), the mmap lab's VMAs, the cow lab's page reference
//! counts, and whatever else a lab adds to `struct proc` (the alarm's interval, handler and
//! saved registers; the trace mask).
//!
//! Students name these freely (`kpagetable`, `kernel_pagetable`, `kpgtbl`; `vma[NVMA]`,
//! `vmas[16]`, `VMAs[16]`; `kmem.refcnt`, `refcount[]`, `ref.cnt`, `page_ref_count`), so each
//! is matched by type and field shape, with names only as hints:
//! - Kernel page table: a member of `struct proc` other than `pagetable` whose type is a
//!   pointer to a 64-bit integer (C's `pagetable_t` is `uint64 *`, the Rust kernel's
//!   `*mut u64`) and whose name speaks of a page table ([`is_pagetable_name`]).
//! - VMAs: a member of `struct proc` that is an array of structs (or of pointers to them)
//!   with a start address and a length or an end ([`VMA_FIELDS`]), or a list of them (a
//!   pointer to the first, or an embedded head, linked by `next`/`vm_next`), directly or
//!   inside a struct member; a slot is in use when its `used`/`valid`-like field is
//!   non-zero, or, lacking one, when its length is.
//! - Reference counts: a global that is or holds an array of integers (or of structs with
//!   one count) with one slot per page of RAM: `(PHYSTOP - KERNBASE) / PGSIZE` slots indexed
//!   from KERNBASE, or `PHYSTOP / PGSIZE` indexed from 0 (both are common). One whose name
//!   (or its member's) mentions ref, cnt or count wins (such a name may also be a pointer to
//!   a table allocated at boot, `struct refcnt *refcnts`, whose slots' count must be named
//!   so too; it is taken as indexed from KERNBASE); else the only such table of integers
//!   wider than a byte whose name does not say mask (`umem.mem_map`, beside a `kmem_mask`
//!   of the same shape; C's `char stack0[4096 * NCPU]` has that many slots too).
//! - Other fields: the members of `struct proc` that stock xv6 lacks ([`STOCK_PROC`]),
//!   integers and pointers by value, a struct, or a pointer to one, by its `epc` (the
//!   alarm's saved registers).
//!
//! Invariant: as everywhere in the views, a field a kernel lacks is absent, and guest data
//! cannot make a read loop or panic (array lengths are capped).

use super::PhysMem;
use super::dwarf::{DwarfError, Shape, Types, Val};
use super::symbols::Symbols;
use abi::memlayout::{KERNBASE, PGSIZE, PHYSTOP};

/// The members of stock xv6's `struct proc` (2020 to 2024, C and Rust spellings).
pub const STOCK_PROC: &[&str] = &[
    "lock",
    "state",
    "chan",
    "killed",
    "xstate",
    "pid",
    "parent",
    "kstack",
    "sz",
    "pagetable",
    "trapframe",
    "context",
    "ofile",
    "cwd",
    "name",
];

/// Most VMA slots read per process.
const MAX_VMAS: u64 = 256;

/// Whether a member name speaks of a page table (`kpagetable`, `kernel_pagetable`,
/// `k_pagetable`, `kpgtbl`, `kpt`, `kernelpt`...).
pub fn is_pagetable_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n != "pagetable"
        && [
            "pagetable",
            "pgtbl",
            "pgtable",
            "page_table",
            "kpt",
            "kernelpt",
            "kernel_pt",
        ]
        .iter()
        .any(|w| n.contains(w))
}

/// The names a VMA's fields go by: (role, names tried in order).
pub const VMA_FIELDS: &[(&str, &[&str])] = &[
    (
        "addr",
        &[
            "addr",
            "start",
            "va",
            "vastart",
            "begin",
            "address",
            "start_addr",
            "vm_start",
            "startva",
            "vstart",
            "addr_start",
            "va_low",
            "start_va",
        ],
    ),
    ("len", &["len", "length", "size", "sz", "vm_len"]),
    (
        "end",
        &[
            "end", "vm_end", "addr_end", "vend", "end_addr", "va_high", "end_va",
        ],
    ),
    (
        "prot",
        &["prot", "perm", "perms", "permission", "permissions"],
    ),
    ("flags", &["flags", "flag", "mapflags"]),
    (
        "file",
        &[
            "file", "f", "fp", "vfile", "mfile", "vm_file", "filep", "pf",
        ],
    ),
    (
        "off",
        &["offset", "off", "foff", "file_offset", "vm_pgoff", "pgoff"],
    ),
    (
        "used",
        &[
            "used",
            "valid",
            "inuse",
            "in_use",
            "allocated",
            "mapped",
            "active",
            "occupied",
        ],
    ),
];

fn vma_names(role: &str) -> &'static [&'static str] {
    VMA_FIELDS
        .iter()
        .find(|(r, _)| *r == role)
        .map_or(&[], |(_, n)| n)
}

/// One mapping of the mmap lab.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VmaInfo {
    /// Index in the process's array.
    pub slot: usize,
    pub addr: u64,
    /// Bytes (from `len`, or `end - addr`).
    pub len: u64,
    pub prot: Option<i64>,
    pub flags: Option<i64>,
    /// Kernel address of the `struct file`.
    pub file: Option<u64>,
    pub off: Option<u64>,
}

/// What the labs add to one process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabFields {
    /// The per-process kernel page table: (member name, root).
    pub kpagetable: Option<(String, u64)>,
    /// The VMA array's member name, when the process has one.
    pub vma_field: Option<String>,
    /// The mappings in use.
    pub vmas: Vec<VmaInfo>,
    /// Other members stock xv6 lacks: (name, value as shown).
    pub other: Vec<(String, String)>,
}

impl LabFields {
    /// Whether the kernel adds anything to this process.
    pub fn is_empty(&self) -> bool {
        self.kpagetable.is_none() && self.vma_field.is_none() && self.other.is_empty()
    }
}

/// Reads the labs' members of the `struct proc` at `p`.
pub fn read(p: &Val) -> LabFields {
    let mut out = LabFields::default();
    for (name, v) in p.members() {
        if STOCK_PROC.contains(&name) {
            continue;
        }
        let shape = v.shape();
        if out.kpagetable.is_none()
            && matches!(
                shape,
                Shape::Pointer {
                    to_int: Some(8),
                    ..
                }
            )
            && is_pagetable_name(name)
        {
            out.kpagetable = Some((name.to_string(), v.uint().unwrap_or(0)));
            continue;
        }
        if out.vma_field.is_none()
            && let Some((field, vmas)) = vmas_in(name, &v)
        {
            out.vma_field = Some(field);
            out.vmas = vmas;
            continue;
        }
        // A pointer to saved registers (`struct trapframe *alarm_tf`, a page of its own):
        // where they would resume.
        let saved_epc = matches!(
            shape,
            Shape::Pointer {
                to_struct: true,
                ..
            }
        )
        .then(|| v.deref()?.field(&["epc"])?.uint())
        .flatten();
        if let Some(epc) = saved_epc {
            out.other
                .push((format!("{name}->epc"), format!("{epc:#x}")));
        } else if let Some(s) = show_scalar(name, &v, shape) {
            out.other.push((name.to_string(), s));
        } else if shape == Shape::Struct
            && let Some(epc) = v.field(&["epc"]).and_then(|e| e.uint())
        {
            out.other.push((format!("{name}.epc"), format!("{epc:#x}")));
        }
    }
    out
}

/// An integer in decimal (in hex when it is a 64-bit unsigned whose name says address:
/// the alarm's `handler`), an enum by name, a pointer in hex.
fn show_scalar(name: &str, v: &Val, shape: Shape) -> Option<String> {
    let n = name.to_ascii_lowercase();
    let addr_name = ["handler", "addr", "va", "pc", "fn"]
        .iter()
        .any(|w| n.contains(w));
    match shape {
        Shape::Int {
            size: 8,
            signed: false,
        } if addr_name => v.uint().map(|u| format!("{u:#x}")),
        Shape::Int { .. } => v.int().map(|i| i.to_string()),
        Shape::Enum => v.enum_name(),
        Shape::Pointer { .. } => v.uint().map(|p| format!("{p:#x}")),
        _ => None,
    }
}

/// The mappings member `name` holds, and how to call it: an array of VMAs (or of pointers
/// to them), a list of them (a pointer to the first, or an embedded list head, linked by
/// a `next` pointer), or either inside a struct member (`struct mm { struct vma vma[16];
/// }`).
fn vmas_in(name: &str, v: &Val) -> Option<(String, Vec<VmaInfo>)> {
    if let Some(vmas) = vma_array(v).or_else(|| vma_list(v)) {
        return Some((name.to_string(), vmas));
    }
    if v.shape() == Shape::Struct && !is_vma(v) {
        for (inner, iv) in v.members() {
            if let Some(vmas) = vma_array(&iv).or_else(|| vma_list(&iv)) {
                return Some((format!("{name}.{inner}"), vmas));
            }
        }
    }
    None
}

/// The names of a list's link to the next element.
const NEXT: &[&str] = &["next", "vm_next", "nxt", "next_vma"];

/// The mappings of a list: `v` is a pointer to the first VMA (null-terminated), or a VMA
/// used as the list's head (its own `next` starts the list, which ends back at the head or
/// at null; the head itself is not a mapping). Bounded by [`MAX_VMAS`].
fn vma_list(v: &Val) -> Option<Vec<VmaInfo>> {
    let (head, mut cur) = match v.shape() {
        Shape::Pointer {
            to_struct: true, ..
        } => {
            if !is_vma(&v.pointee_at(0)?) {
                return None;
            }
            (None, v.deref())
        }
        Shape::Struct if is_vma(v) => (Some(v.addr), v.field(NEXT)?.deref()),
        _ => return None,
    };
    let mut out = Vec::new();
    for i in 0..MAX_VMAS as usize {
        let Some(c) = cur else { break };
        if Some(c.addr) == head {
            break;
        }
        if let Some(m) = vma_of(i, &c) {
            out.push(m);
        }
        cur = c.field(NEXT).and_then(|n| n.deref());
    }
    Some(out)
}

/// The mappings in use, if `v` is an array of VMA-shaped structs (or pointers to them).
fn vma_array(v: &Val) -> Option<Vec<VmaInfo>> {
    if v.shape() != Shape::Array {
        return None;
    }
    let first = v.index(0)?;
    let by_pointer = matches!(
        first.shape(),
        Shape::Pointer {
            to_struct: true,
            ..
        }
    );
    let elem_shape = if by_pointer {
        // The pointee's type, whatever the slot holds (it may be null).
        first.pointee_at(0)?
    } else {
        first
    };
    if !is_vma(&elem_shape) {
        return None;
    }
    let n = v.len()?.min(MAX_VMAS);
    let mut out = Vec::new();
    for i in 0..n {
        let Some(slot) = v.index(i) else { break };
        let s = if by_pointer {
            match slot.deref() {
                Some(s) => s,
                None => continue,
            }
        } else {
            slot
        };
        if let Some(m) = vma_of(i as usize, &s) {
            out.push(m);
        }
    }
    Some(out)
}

fn is_vma(s: &Val) -> bool {
    let has = |role| s.field(vma_names(role)).is_some();
    !s.members().is_empty() && has("addr") && (has("len") || has("end"))
}

/// The mapping in slot `s`, if it is in use.
fn vma_of(slot: usize, s: &Val) -> Option<VmaInfo> {
    let get = |role| s.field(vma_names(role));
    let int = |role| get(role).and_then(|v| v.int());
    let addr = get("addr")?.uint()?;
    let len = match int("len") {
        Some(l) => l as u64,
        None => get("end")?.uint()?.wrapping_sub(addr),
    };
    let used = match int("used") {
        Some(u) => u != 0,
        None => len != 0,
    };
    used.then(|| VmaInfo {
        slot,
        addr,
        len,
        prot: int("prot"),
        flags: int("flags"),
        file: get("file").and_then(|f| match f.shape() {
            Shape::Pointer { .. } => f.uint(),
            _ => None,
        }),
        off: get("off").and_then(|o| o.uint()),
    })
}

/// `PROT_READ|PROT_WRITE` as `rw-`.
pub fn prot_str(prot: Option<i64>) -> String {
    match prot {
        Some(p) => [(1, 'r'), (2, 'w'), (4, 'x')]
            .iter()
            .map(|(b, c)| if p & b != 0 { *c } else { '-' })
            .collect(),
        None => "???".into(),
    }
}

/// `MAP_SHARED` (1) / `MAP_PRIVATE` (2), as the mmap lab's fcntl.h numbers them.
pub fn map_str(flags: Option<i64>) -> String {
    match flags {
        Some(1) => "shared".into(),
        Some(2) => "private".into(),
        Some(f) => format!("flags {f:#x}"),
        None => String::new(),
    }
}

/// The cow lab's page reference counts.
#[derive(Clone, Debug)]
pub struct RefCounts {
    types: Types,
    /// The global, and the member holding the array when the global is a struct.
    var: String,
    member: Option<String>,
    /// The count's member when each slot is a struct (`struct { uint8 cnt; ... } x[N]`).
    elem_member: Option<String>,
    /// Slot 0 is physical page 0 (`PHYSTOP / PGSIZE` slots), else KERNBASE.
    absolute: bool,
    /// The global is a pointer to the first slot of a table allocated at boot (`struct
    /// refcnt *refcnts`, placed at `end`): its length is not in the type, so it is taken
    /// as one slot per page from KERNBASE.
    via_pointer: bool,
}

/// Slots of a KERNBASE-relative and of an absolute table (some solutions add one or a few).
const RELATIVE_SLOTS: u64 = (PHYSTOP - KERNBASE) / PGSIZE;
const ABSOLUTE_SLOTS: u64 = PHYSTOP / PGSIZE;

fn refish(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["ref", "cnt", "count"].iter().any(|w| n.contains(w))
}

impl RefCounts {
    /// Finds the table in a kernel's DWARF; None when the kernel has none (or no DWARF).
    pub fn find(syms: &Symbols) -> Result<Option<RefCounts>, DwarfError> {
        Ok(RefCounts::among(Types::for_vars_where(syms, |_| true)?))
    }

    /// The table among the globals of `types` (see the module essay for the shapes): the
    /// first one named for counting (ref, cnt, count), else the only table of pages whose
    /// name does not say mask.
    pub fn among(types: Types) -> Option<RefCounts> {
        let named = RefCounts::candidates(&types, true);
        if let Some(r) = named.into_iter().next() {
            return Some(r);
        }
        let mut any = RefCounts::candidates(&types, false);
        (any.len() == 1).then(|| any.remove(0))
    }

    fn candidates(types: &Types, named: bool) -> Vec<RefCounts> {
        let mut found = Vec::new();
        let none = super::MemImage::default();
        let mut names: Vec<&String> = types.vars.keys().collect();
        names.sort();
        for name in names {
            let Some(v) = types.var(&none, name) else {
                continue;
            };
            let mut candidates = vec![(None, v)];
            candidates.extend(
                v.members()
                    .into_iter()
                    .map(|(m, mv)| (Some(m.to_string()), mv)),
            );
            for (member, arr) in candidates {
                let path_ref = refish(name) || member.as_deref().is_some_and(refish);
                let mask = |n: &str| n.to_ascii_lowercase().contains("mask");
                let path_mask = mask(name) || member.as_deref().is_some_and(mask);
                let via_pointer = matches!(arr.shape(), Shape::Pointer { .. });
                // A pointer's table has no length to check the shape by: named ones only.
                if (named && !path_ref)
                    || path_mask
                    || !(arr.shape() == Shape::Array || (via_pointer && named))
                {
                    continue;
                }
                let (absolute, e) = if via_pointer {
                    let Some(e) = arr.pointee_at(0) else { continue };
                    (false, e)
                } else {
                    let Some(len) = arr.len() else { continue };
                    let absolute = match len {
                        n if (RELATIVE_SLOTS..RELATIVE_SLOTS + 64).contains(&n) => false,
                        n if (ABSOLUTE_SLOTS..ABSOLUTE_SLOTS + 64).contains(&n) => true,
                        _ => continue,
                    };
                    let Some(e) = arr.index(0) else { continue };
                    (absolute, e)
                };
                let elem_member = match e.shape() {
                    // Unnamed, a byte array of that length is more likely a buffer (C's
                    // `char stack0[4096 * NCPU]` is 32768 bytes) than counts.
                    Shape::Int { size: 1, .. } if !named => continue,
                    Shape::Int { .. } => None,
                    Shape::Struct => {
                        let ints: Vec<&str> = e
                            .members()
                            .into_iter()
                            .filter(|(_, m)| matches!(m.shape(), Shape::Int { .. }))
                            .map(|(n, _)| n)
                            .collect();
                        // Behind a pointer the count must say so (a `struct spinlock *`
                        // has one integer too).
                        match ints.iter().find(|n| refish(n)).or(ints.first()) {
                            Some(n) if refish(n) || (ints.len() == 1 && !via_pointer) => {
                                Some(n.to_string())
                            }
                            _ => continue,
                        }
                    }
                    _ => continue,
                };
                found.push(RefCounts {
                    var: name.clone(),
                    member,
                    elem_member,
                    absolute,
                    via_pointer,
                    types: types.clone(),
                });
            }
        }
        found
    }

    /// How the table is named and indexed, e.g. `kmem.refcnt[(pa - KERNBASE) / PGSIZE]`.
    pub fn describe(&self) -> String {
        let mut s = self.var.clone();
        if let Some(m) = &self.member {
            s.push('.');
            s.push_str(m);
        }
        s.push_str(if self.absolute {
            "[pa / PGSIZE]"
        } else {
            "[(pa - KERNBASE) / PGSIZE]"
        });
        if let Some(e) = &self.elem_member {
            s.push('.');
            s.push_str(e);
        }
        s
    }

    /// Slot `i` of the table.
    fn slot<'a>(&'a self, mem: &'a dyn PhysMem, i: u64) -> Option<Val<'a>> {
        let v = self.types.var(mem, &self.var)?;
        let v = match &self.member {
            Some(m) => v.field(&[m.as_str()])?,
            None => v,
        };
        if !self.via_pointer {
            return v.index(i);
        }
        let base = v.uint().filter(|b| *b != 0)?;
        let size = self.types.size(v.pointee_at(base)?.ty)?;
        (i < RELATIVE_SLOTS).then_some(())?;
        v.pointee_at(base.checked_add(i.checked_mul(size)?)?)
    }

    /// The count in slot `i`.
    fn count_at(&self, mem: &dyn PhysMem, i: u64) -> Option<i64> {
        let e = self.slot(mem, i)?;
        match &self.elem_member {
            Some(m) => e.field(&[m.as_str()])?.int(),
            None => e.int(),
        }
    }

    fn index(&self, pa: u64) -> Option<u64> {
        if self.absolute {
            Some(pa / PGSIZE)
        } else {
            pa.checked_sub(KERNBASE).map(|o| o / PGSIZE)
        }
    }

    /// The count of the physical page holding `pa`.
    pub fn count(&self, mem: &dyn PhysMem, pa: u64) -> Option<i64> {
        self.count_at(mem, self.index(pa)?)
    }

    /// Pages of RAM with a count above 1 (shared), and with any count.
    pub fn totals(&self, mem: &dyn PhysMem) -> Option<(u64, u64)> {
        let (mut shared, mut counted) = (0, 0);
        let first = self.index(KERNBASE)?;
        for i in first..first + RELATIVE_SLOTS {
            let c = self.count_at(mem, i)?;
            if c > 0 {
                counted += 1;
            }
            if c > 1 {
                shared += 1;
            }
        }
        Some((shared, counted))
    }
}

#[cfg(test)]
#[path = "labs_tests.rs"]
mod tests;
