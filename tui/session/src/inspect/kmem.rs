//! The kernel's physical page allocator seen from outside: how many pages are on its free
//! list, read through DWARF, for the sysinfo lab's "free memory" and for walkthroughs.
//!
//! Interface: [`Kmem::new`] finds the global `kmem` in a kernel ELF's DWARF once;
//! [`Kmem::free_pages`] follows `kmem.freelist` at a stop and counts the pages.
//! [`count_chain`] is the walk itself, over any [`PhysMem`].
//!
//! The layout is xv6's in both kernels: `kmem.freelist` points at the first free page, and
//! each free page holds in its first 8 bytes a pointer to the next (C `struct run`, the Rust
//! kernel's `Run` inside `Shared<*mut Run>`, looked through by [`super::dwarf`]); null ends
//! the list. Kernel pointers are physical addresses (the direct map), so the chain is read
//! from physical memory.
//!
//! Invariants: a corrupt or cyclic list cannot hang the reader: the walk stops after
//! [`MAX_PAGES`] links, or at a pointer that is unaligned or unreadable, and reports None
//! instead of a count. As with every view, read only while the machine is stopped: the
//! list is not read under `kmem.lock`.

use super::PhysMem;
use super::dwarf::{DwarfError, Types};
use super::symbols::Symbols;

/// More pages than the board's RAM holds (128 MiB / 4096): a longer chain is a cycle.
pub const MAX_PAGES: u64 = 128 * 1024 * 1024 / 4096 + 1;

/// `kmem` as DWARF describes it.
#[derive(Clone, Debug)]
pub struct Kmem {
    types: Types,
}

impl Kmem {
    /// Reads the kernel ELF's DWARF for `kmem`. Errors when there is no DWARF; a kernel
    /// without `kmem` gives a reader whose counts are None.
    pub fn new(syms: &Symbols) -> Result<Kmem, DwarfError> {
        Ok(Kmem {
            types: Types::for_vars(syms, &["kmem"])?,
        })
    }

    /// Pages on the free list now, or None when `kmem` is unknown or the list is corrupt.
    pub fn free_pages(&self, mem: &dyn PhysMem) -> Option<u64> {
        let head = self.types.var(mem, "kmem")?.field(&["freelist"])?.uint()?;
        count_chain(mem, head)
    }
}

/// Length of the singly linked list of pages starting at `head` (0 when null): each node's
/// first 8 bytes are the next node's address. None when a link is not page-aligned, not
/// readable, or the chain is longer than [`MAX_PAGES`] (a cycle).
pub fn count_chain(mem: &dyn PhysMem, head: u64) -> Option<u64> {
    let mut n = 0;
    let mut p = head;
    while p != 0 {
        // kfree only takes page-aligned addresses, so any other link is corruption.
        if !p.is_multiple_of(4096) || n >= MAX_PAGES {
            return None;
        }
        p = mem.read_u64(p)?;
        n += 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::MemImage;

    #[test]
    fn chains_count_and_bad_links_fail() {
        let base = 0x8000_0000;
        let mut m = MemImage::new(base, 4 * 4096);
        // 3 → 1 → 0 (page indexes), then null.
        m.write_u64(base + 3 * 4096, base + 4096);
        m.write_u64(base + 4096, base);
        m.write_u64(base, 0);
        assert_eq!(count_chain(&m, base + 3 * 4096), Some(3));
        assert_eq!(count_chain(&m, 0), Some(0));
        // A cycle: 2 → 2.
        m.write_u64(base + 2 * 4096, base + 2 * 4096);
        assert_eq!(count_chain(&m, base + 2 * 4096), None);
        // An unaligned link, and a link outside memory.
        m.write_u64(base, base + 8);
        assert_eq!(count_chain(&m, base + 4096), None);
        m.write_u64(base, 0x1000);
        assert_eq!(count_chain(&m, base + 4096), None);
    }

    #[test]
    fn mit_free_list_at_the_prompt() {
        let Some(b) = crate::inspect::testboot::Booted::mit(1) else {
            return;
        };
        let syms = Symbols::parse("kernel", &b.kernel_elf).expect("symbols");
        let k = Kmem::new(&syms).expect("DWARF");
        let free = k.free_pages(&b.m).expect("a readable free list");
        // 128 MiB of RAM less the kernel image and what init and sh hold: most of it.
        assert!((20_000..32_768).contains(&free), "{free} free pages");
    }
}
