//! Sv39 page tables as a debugger shows them: the tree from any root, runs of like leaves
//! folded, well-known pages named, the pgtbl lab's `vmprint` format, and a diff of two trees.
//!
//! Sv39 (privileged spec §4.4): a 39-bit virtual address is VPN[2] (bits 38..30), VPN[1]
//! (29..21), VPN[0] (20..12) and a 12-bit offset; bits 63..39 copy bit 38. A page table is one
//! 4 KiB page of 512 PTEs; a PTE holds the PPN in bits 53..10 and flags V R W X U G A D in bits
//! 0..7. V=0 is invalid; V=1 with R=W=X=0 points to the next level; anything else is a leaf,
//! which maps 1 GiB at level 2, 2 MiB at level 1, 4 KiB at level 0.
//!
//! Interface: [`walk`] reads a tree through [`PhysMem`] into a [`Tree`] (entries in DFS order,
//! both table pointers and leaves, plus tables that could not be read); [`Tree::runs`] folds
//! leaves; [`Names`] says what a page is; [`Tree::render`], [`Tree::vmprint`], [`diff`] and
//! [`render_diff`] produce lines. [`translate`] and [`read_virt`] follow one address (the
//! syscall tracer reads user strings with them).
//!
//! Invariant: a malformed tree (a pointer outside RAM, a table that points back up) cannot
//! make a walk loop or fail: depth is bounded by the three levels, unreadable tables are
//! listed in [`Tree::unreadable`], and at most [`MAX_ENTRIES`] entries are collected.

use super::PhysMem;
use abi::memlayout::{
    CLINT, CLINT_SIZE, KERNBASE, MAXVA, PGSIZE, PHYSTOP, PLIC, PLIC_SIZE, TRAMPOLINE, TRAPFRAME,
    UART0, USYSCALL, VIRTIO0,
};
use std::collections::BTreeMap;

pub const PTE_V: u64 = 1 << 0;
pub const PTE_R: u64 = 1 << 1;
pub const PTE_W: u64 = 1 << 2;
pub const PTE_X: u64 = 1 << 3;
pub const PTE_U: u64 = 1 << 4;
pub const PTE_G: u64 = 1 << 5;
pub const PTE_A: u64 = 1 << 6;
pub const PTE_D: u64 = 1 << 7;

/// Most entries a walk collects (a full tree of 4 KiB leaves over 128 MiB is 32 Ki entries).
pub const MAX_ENTRIES: usize = 1 << 20;

/// Physical address a PTE points to.
pub fn pte_pa(pte: u64) -> u64 {
    ((pte >> 10) & ((1 << 44) - 1)) << 12
}

/// Flags as eight columns, e.g. `V R W - U - A D`.
pub fn flags_str(pte: u64) -> String {
    let names = ['V', 'R', 'W', 'X', 'U', 'G', 'A', 'D'];
    let mut s = String::with_capacity(15);
    for (i, c) in names.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push(if pte >> i & 1 != 0 { *c } else { '-' });
    }
    s
}

/// Flags of a run of leaves: `all` has the bits every leaf has, `any` those some leaf has;
/// a bit some but not all leaves have (A or D, which the hardware sets page by page) shows
/// in lower case.
pub fn run_flags_str(all: u64, any: u64) -> String {
    let names = ['V', 'R', 'W', 'X', 'U', 'G', 'A', 'D'];
    let mut s = String::with_capacity(15);
    for (i, c) in names.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push(if all >> i & 1 != 0 {
            *c
        } else if any >> i & 1 != 0 {
            c.to_ascii_lowercase()
        } else {
            '-'
        });
    }
    s
}

/// The flags that make leaves "alike" for folding: all but A and D.
const LIKE: u64 = 0x3f;

/// Bytes mapped by a leaf at `level` (0, 1 or 2).
pub fn level_size(level: u8) -> u64 {
    PGSIZE << (9 * level as u64)
}

/// Sign-extends a 39-bit virtual address as Sv39 requires.
fn canon(va: u64) -> u64 {
    ((va as i64) << 25 >> 25) as u64
}

/// The root table's physical address from a `satp` value (Sv39 mode or not).
pub fn satp_root(satp: u64) -> u64 {
    machine::cpu::csr::satp_root(satp)
}

/// One valid PTE of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 2 at the root, 0 at the last level.
    pub level: u8,
    /// Index in its table (0..512).
    pub index: u16,
    /// First virtual address this entry covers (sign-extended).
    pub va: u64,
    /// The raw PTE.
    pub pte: u64,
}

impl Entry {
    pub fn is_leaf(&self) -> bool {
        self.pte & (PTE_R | PTE_W | PTE_X) != 0
    }
    pub fn pa(&self) -> u64 {
        pte_pa(self.pte)
    }
    pub fn size(&self) -> u64 {
        level_size(self.level)
    }
}

/// A page-table tree as read from memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    /// Physical address of the root table.
    pub root: u64,
    /// Valid entries in depth-first order (a table pointer comes before its children).
    pub entries: Vec<Entry>,
    /// Tables (physical addresses) that could not be read, with the level they would be at.
    pub unreadable: Vec<(u8, u64)>,
    /// True if the walk stopped at [`MAX_ENTRIES`].
    pub truncated: bool,
}

/// Reads the tree whose root table is at physical address `root`.
pub fn walk(mem: &dyn PhysMem, root: u64) -> Tree {
    let mut t = Tree {
        root,
        ..Tree::default()
    };
    walk_table(mem, root, 2, 0, &mut t);
    t
}

fn walk_table(mem: &dyn PhysMem, table: u64, level: u8, base: u64, t: &mut Tree) {
    let mut page = vec![0u8; PGSIZE as usize];
    if !mem.read_phys(table, &mut page) {
        t.unreadable.push((level, table));
        return;
    }
    for (i, chunk) in page.chunks_exact(8).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        let pte = u64::from_le_bytes(b);
        if pte & PTE_V == 0 {
            continue;
        }
        if t.entries.len() >= MAX_ENTRIES {
            t.truncated = true;
            return;
        }
        let va = canon(base + ((i as u64) << (12 + 9 * level as u64)));
        let e = Entry {
            level,
            index: i as u16,
            va,
            pte,
        };
        t.entries.push(e);
        // A non-leaf at level 0 is reserved (spec: page fault); show it, do not follow it.
        if !e.is_leaf() && level > 0 {
            walk_table(mem, e.pa(), level - 1, va & ((1 << 39) - 1), t);
        }
    }
}

/// Physical address and leaf PTE for `va` under the tree at `root`, ignoring permissions.
pub fn translate(mem: &dyn PhysMem, root: u64, va: u64) -> Option<(u64, u64)> {
    if canon(va) != va {
        return None;
    }
    let mut table = root;
    for level in (0..3u8).rev() {
        let vpn = (va >> (12 + 9 * level as u64)) & 0x1ff;
        let pte = mem.read_u64(table + vpn * 8)?;
        if pte & PTE_V == 0 {
            return None;
        }
        if pte & (PTE_R | PTE_W | PTE_X) != 0 {
            let off = va & (level_size(level) - 1);
            return Some((pte_pa(pte) + off, pte));
        }
        table = pte_pa(pte);
    }
    None
}

/// Reads `buf.len()` bytes at virtual address `va` of the address space at `root`, page by
/// page; false if any page is unmapped or unreadable. With `user_only`, pages without U fail.
pub fn read_virt(mem: &dyn PhysMem, root: u64, va: u64, buf: &mut [u8], user_only: bool) -> bool {
    let mut done = 0usize;
    while done < buf.len() {
        let cur = va.wrapping_add(done as u64);
        let Some((pa, pte)) = translate(mem, root, cur) else {
            return false;
        };
        if user_only && pte & PTE_U == 0 {
            return false;
        }
        let n = ((PGSIZE - (cur & (PGSIZE - 1))) as usize).min(buf.len() - done);
        if !mem.read_phys(pa, &mut buf[done..done + n]) {
            return false;
        }
        done += n;
    }
    true
}

/// What a page is, for labels. Built for a user address space or for the kernel's.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// (start, end, name) ranges, checked in order.
    ranges: Vec<(u64, u64, String)>,
    /// A user address space: name pages below `sz` from their flags (text, data, guard,
    /// stack, heap).
    user_sz: Option<u64>,
}

impl Names {
    /// No names.
    pub fn none() -> Self {
        Names::default()
    }

    /// An xv6 process's address space of size `sz` (the `sz` field of `struct proc`).
    pub fn user(sz: u64) -> Self {
        Names {
            ranges: vec![
                (TRAMPOLINE, TRAMPOLINE + PGSIZE, "trampoline".into()),
                (TRAPFRAME, TRAPFRAME + PGSIZE, "trapframe".into()),
                // The 2021+ pgtbl lab's read-only page shared with user space (`ugetpid`).
                (USYSCALL, USYSCALL + PGSIZE, "usyscall".into()),
            ],
            user_sz: Some(sz),
        }
    }

    /// The kernel page table; `etext` is the end of kernel text (the ELF symbol), when known.
    pub fn kernel(etext: Option<u64>) -> Self {
        let mut ranges = vec![
            (UART0, UART0 + PGSIZE, "UART0".to_string()),
            (VIRTIO0, VIRTIO0 + PGSIZE, "virtio disk".into()),
            (PLIC, PLIC + PLIC_SIZE, "PLIC".into()),
            (CLINT, CLINT + CLINT_SIZE, "CLINT".into()),
            (TRAMPOLINE, TRAMPOLINE + PGSIZE, "trampoline".into()),
            // Kernel stacks and their guard pages sit just below the trampoline (memlayout).
            (TRAMPOLINE - (1 << 30), TRAMPOLINE, "kernel stacks".into()),
        ];
        match etext {
            Some(e) if (KERNBASE..PHYSTOP).contains(&e) => {
                ranges.push((KERNBASE, e, "kernel text".into()));
                ranges.push((e, PHYSTOP, "direct map (kernel data, free RAM)".into()));
            }
            _ => ranges.push((KERNBASE, PHYSTOP, "direct map".into())),
        }
        Names {
            ranges,
            user_sz: None,
        }
    }

    /// The name of the page at `va` mapped by leaf `pte`; `guard` is the va of the user guard
    /// page when one was found (see [`Tree::user_guard`]).
    pub fn name(&self, va: u64, pte: u64, guard: Option<u64>) -> String {
        if let Some((_, _, n)) = self.ranges.iter().find(|(s, e, _)| (*s..*e).contains(&va)) {
            return n.clone();
        }
        let Some(sz) = self.user_sz else {
            return String::new();
        };
        if va >= sz.next_multiple_of(PGSIZE) {
            return if pte & PTE_U != 0 {
                "beyond sz".into()
            } else {
                String::new()
            };
        }
        match guard {
            Some(g) if va == g => "guard page".into(),
            Some(g) if va > g && va <= g + PGSIZE => "user stack".into(),
            Some(g) if va > g => "heap".into(),
            _ if pte & PTE_X != 0 => "text".into(),
            _ => "data".into(),
        }
    }
}

/// Leaves folded: consecutive virtual pages of one size with equal flags and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub level: u8,
    pub va: u64,
    /// Number of leaves.
    pub count: u64,
    /// PA of the first leaf.
    pub pa: u64,
    /// Whether the leaves are also physically contiguous.
    pub pa_contiguous: bool,
    /// Flag bits (0..7) that all leaves have.
    pub flags: u64,
    /// Flag bits that some leaf has (differs from `flags` only in A and D).
    pub any: u64,
    pub name: String,
}

impl Run {
    pub fn end(&self) -> u64 {
        self.va + self.count * level_size(self.level)
    }
}

impl Tree {
    /// Leaves only, in address order.
    pub fn leaves(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.is_leaf())
    }

    /// xv6's user guard page: the highest user-space leaf below the stack that lacks U
    /// (`uvmclear` clears it), if there is one.
    pub fn user_guard(&self) -> Option<u64> {
        self.leaves()
            .filter(|e| e.va < TRAPFRAME && e.level == 0 && e.pte & PTE_U == 0)
            .map(|e| e.va)
            .max()
    }

    /// Leaves folded into runs.
    pub fn runs(&self, names: &Names) -> Vec<Run> {
        let guard = self.user_guard();
        let mut out: Vec<Run> = Vec::new();
        for e in self.leaves() {
            let name = names.name(e.va, e.pte, guard);
            let flags = e.pte & 0xff;
            if let Some(r) = out.last_mut()
                && r.level == e.level
                && r.end() == e.va
                && r.flags & LIKE == flags & LIKE
                && r.name == name
            {
                r.pa_contiguous &= r.pa + r.count * e.size() == e.pa();
                r.count += 1;
                r.flags &= flags;
                r.any |= flags;
                continue;
            }
            out.push(Run {
                level: e.level,
                va: e.va,
                count: 1,
                pa: e.pa(),
                pa_contiguous: true,
                flags,
                any: flags,
                name,
            });
        }
        out
    }

    /// One line per run: VA range, PA, flags, size, name.
    pub fn render(&self, names: &Names) -> Vec<String> {
        let mut lines = vec![format!("page table at {:#x}", self.root)];
        lines.push(format!(
            "{:<37}  {:<19}  {:<15}  {:>6}  name",
            "va range", "pa", "flags", "pages"
        ));
        for r in self.runs(names) {
            let pa = if r.count == 1 || r.pa_contiguous {
                format!("{:#018x}", r.pa)
            } else {
                format!("{:#018x}+", r.pa)
            };
            let pages = match r.level {
                0 => format!("{}", r.count),
                1 => format!("{}x2M", r.count),
                _ => format!("{}x1G", r.count),
            };
            lines.push(format!(
                "{:#018x}-{:#018x}  {:<19}  {}  {:>6}  {}",
                r.va,
                r.end(),
                pa,
                run_flags_str(r.flags, r.any),
                pages,
                r.name
            ));
        }
        self.push_problems(&mut lines);
        lines
    }

    /// The tree with levels and indexes: table pointers on their own lines, leaves of one
    /// table folded into runs (`L0[16..19]`).
    pub fn render_tree(&self, names: &Names) -> Vec<String> {
        let guard = self.user_guard();
        let mut lines = vec![format!("page table at {:#x}", self.root)];
        let mut i = 0;
        while i < self.entries.len() {
            let e = self.entries[i];
            let indent = "  ".repeat(2 - e.level as usize);
            if !e.is_leaf() {
                lines.push(format!(
                    "{indent}L{}[{:3}] {:#018x}-{:#018x} -> table {:#x}",
                    e.level,
                    e.index,
                    e.va,
                    e.va.wrapping_add(e.size()),
                    e.pa()
                ));
                i += 1;
                continue;
            }
            let name = names.name(e.va, e.pte, guard);
            let j = self.run_end(i, names, guard);
            let last = self.entries[j - 1];
            let run = &self.entries[i..j];
            let all = run.iter().fold(0xff, |a, x| a & x.pte);
            let any = run.iter().fold(0, |a, x| a | x.pte);
            let idx = if j - i == 1 {
                format!("[{:3}]", e.index)
            } else {
                format!("[{}..{}]", e.index, last.index)
            };
            lines.push(format!(
                "{indent}L{}{idx} {:#018x}-{:#018x} pa {:#x}{} {} {}",
                e.level,
                e.va,
                last.va.wrapping_add(last.size()),
                e.pa(),
                if j - i > 1 { ".." } else { "" },
                run_flags_str(all, any),
                name
            ));
            i = j;
        }
        self.push_problems(&mut lines);
        lines
    }

    /// The end (exclusive) of the run of like leaf pages that starts at leaf entry `i`:
    /// consecutive slots of one table, at one level, with the same permission bits and the
    /// same name. A tree shows such a run as one row (`L0[16..19]`); `guard` is
    /// [`Tree::user_guard`].
    pub fn run_end(&self, i: usize, names: &Names, guard: Option<u64>) -> usize {
        let Some(first) = self.entries.get(i) else {
            return i;
        };
        let name = names.name(first.va, first.pte, guard);
        let mut j = i + 1;
        while let Some(n) = self.entries.get(j) {
            let prev = self.entries[j - 1];
            if n.is_leaf()
                && n.level == first.level
                && n.index == prev.index + 1
                && n.pte & LIKE == first.pte & LIKE
                && names.name(n.va, n.pte, guard) == name
            {
                j += 1;
            } else {
                break;
            }
        }
        j
    }

    fn push_problems(&self, lines: &mut Vec<String>) {
        for (level, pa) in &self.unreadable {
            lines.push(format!("!! level-{level} table at {pa:#x} is outside RAM"));
        }
        if self.truncated {
            lines.push(format!("!! stopped after {MAX_ENTRIES} entries"));
        }
    }

    /// The pgtbl lab's `vmprint` output as the 2020-2023 handouts print it.
    pub fn vmprint(&self) -> Vec<String> {
        self.vmprint_as(Vmprint::Index)
    }

    /// The pgtbl lab's `vmprint` output in format `style`: every valid PTE, one line each,
    /// ` ..` per level, then the index (the virtual address in 2024's), the PTE and the
    /// physical address it points to.
    pub fn vmprint_as(&self, style: Vmprint) -> Vec<String> {
        let mut lines = vec![format!("page table {:#018x}", self.root)];
        for e in &self.entries {
            let dots = vec![".."; 3 - e.level as usize].join(" ");
            let at = match style {
                // `%p` of the va the handout's loop computes: not sign-extended.
                Vmprint::Va => format!("{:#018x}", e.va & (MAXVA * 2 - 1)),
                Vmprint::Index => e.index.to_string(),
            };
            lines.push(format!(
                " {dots}{at}: pte {:#018x} pa {:#018x}",
                e.pte,
                e.pa()
            ));
        }
        lines
    }
}

/// The pgtbl lab's `vmprint` formats. 2020 to 2023 print each PTE's index in its table
/// (` .. ..0: pte 0x... pa 0x...`, with the leading space the graders match: the 2020
/// `grade-lab-pgtbl` as much as the 2021 one); 2024 prints the virtual address the entry
/// maps instead (` .. ..0x0000003fc0000000: ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vmprint {
    /// 2020 to 2023.
    Index,
    /// 2024 on.
    Va,
}

impl Vmprint {
    /// The format of a handout year.
    pub fn of_year(year: u32) -> Vmprint {
        if year >= 2024 {
            Vmprint::Va
        } else {
            Vmprint::Index
        }
    }
}

/// One difference between two trees, per leaf page (superpages count as one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Mapped only in the new tree: (level, pte).
    Added(u8, u64),
    /// Mapped only in the old tree.
    Removed(u8, u64),
    /// Mapped in both, differently: old and new (level, pte).
    Changed((u8, u64), (u8, u64)),
}

/// Leaf-by-leaf differences from `old` to `new`, by virtual address.
pub fn diff(old: &Tree, new: &Tree) -> BTreeMap<u64, Change> {
    let map = |t: &Tree| -> BTreeMap<u64, (u8, u64)> {
        t.leaves().map(|e| (e.va, (e.level, e.pte))).collect()
    };
    let (a, b) = (map(old), map(new));
    let mut out = BTreeMap::new();
    for (va, x) in &a {
        match b.get(va) {
            None => {
                out.insert(*va, Change::Removed(x.0, x.1));
            }
            Some(y) if y != x => {
                out.insert(*va, Change::Changed(*x, *y));
            }
            _ => {}
        }
    }
    for (va, y) in &b {
        if !a.contains_key(va) {
            out.insert(*va, Change::Added(y.0, y.1));
        }
    }
    out
}

/// The diff as lines: `+` added, `-` removed, `~` changed (what changed: pa, flags), with
/// consecutive pages of the same kind of change folded.
pub fn render_diff(changes: &BTreeMap<u64, Change>) -> Vec<String> {
    // (kind, first va, end va, count, description of the first)
    let mut rows: Vec<(String, u64, u64, u64, String)> = Vec::new();
    for (&va, c) in changes {
        let (kind, level, desc) = match c {
            Change::Added(l, p) => ("+", *l, format!("pa {:#x} {}", pte_pa(*p), flags_str(*p))),
            Change::Removed(l, p) => ("-", *l, format!("pa {:#x} {}", pte_pa(*p), flags_str(*p))),
            Change::Changed((lo, po), (_, pn)) => {
                let mut what = Vec::new();
                if pte_pa(*po) != pte_pa(*pn) {
                    what.push("pa");
                }
                if po & 0xff != pn & 0xff {
                    what.push("flags");
                }
                (
                    "~",
                    *lo,
                    format!(
                        "{} : pa {:#x} {} -> pa {:#x} {}",
                        what.join("+"),
                        pte_pa(*po),
                        flags_str(*po),
                        pte_pa(*pn),
                        flags_str(*pn)
                    ),
                )
            }
        };
        let key = format!("{kind}{}", desc.split(" : ").next().unwrap_or(""));
        let kindkey = match c {
            Change::Changed(..) => key,
            _ => kind.to_string(),
        };
        let end = va.wrapping_add(level_size(level));
        if let Some(r) = rows.last_mut()
            && r.0 == kindkey
            && r.2 == va
        {
            r.2 = end;
            r.3 += 1;
            continue;
        }
        rows.push((kindkey, va, end, 1, format!("{kind} {desc}")));
    }
    if rows.is_empty() {
        return vec!["(no differences)".into()];
    }
    rows.into_iter()
        .map(|(_, va, end, n, desc)| {
            let more = if n > 1 {
                format!(" (+{} more like it)", n - 1)
            } else {
                String::new()
            };
            format!("{va:#018x}-{end:#018x} {n:>5} pages  {desc}{more}")
        })
        .collect()
}

#[cfg(test)]
#[path = "pagetable_tests.rs"]
mod tests;
