//! A small Sv39 page-table builder (privileged spec §4.4) for the paging tests.
//!
//! Pages come from a static pool, zeroed by boot (`.bss`), handed out once each by
//! [`alloc_page`]. [`Sv39::map`] installs a leaf at level 0 (4 KiB), 1 (2 MiB megapage) or
//! 2 (1 GiB gigapage), creating intermediate tables as needed, and returns the leaf PTE's
//! address so a test can inspect the A/D bits hardware sets or change the entry later (then
//! `sfence.vma`). PTE: V R W X U G A D in bits 0..7, PPN from bit 10.
//!
//! Addresses are physical = virtual for everything here: the builder runs in M-mode, and the
//! tests map RAM at its own address so S-mode code sees the same tables.
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub const V: u64 = 1 << 0;
pub const R: u64 = 1 << 1;
pub const W: u64 = 1 << 2;
pub const X: u64 = 1 << 3;
pub const U: u64 = 1 << 4;
pub const G: u64 = 1 << 5;
pub const A: u64 = 1 << 6;
pub const D: u64 = 1 << 7;

pub const PGSIZE: u64 = abi::memlayout::PGSIZE;
const POOL_PAGES: usize = 24;

#[repr(C, align(4096))]
struct Pool([[u64; 512]; POOL_PAGES]);

static mut POOL: Pool = Pool([[0; 512]; POOL_PAGES]);
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A zeroed 4 KiB page from the pool; its physical address. Panics when the pool is empty.
pub fn alloc_page() -> u64 {
    let i = NEXT.fetch_add(1, Relaxed);
    assert!(i < POOL_PAGES, "page pool exhausted");
    // SAFETY: address computation only; each page is handed out once.
    unsafe { (&raw mut POOL.0[i]) as u64 }
}

/// A PTE for physical address `pa` with `flags` (V added).
pub const fn pte(pa: u64, flags: u64) -> u64 {
    ((pa >> 12) << 10) | flags | V
}

/// The physical address a PTE points to.
pub const fn pte_pa(pte: u64) -> u64 {
    (pte >> 10) << 12
}

/// VPN[level] of a virtual address.
const fn vpn(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * level)) & 0x1ff) as usize
}

/// An Sv39 address space under construction.
pub struct Sv39 {
    root: u64,
}

impl Default for Sv39 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sv39 {
    pub fn new() -> Self {
        Sv39 { root: alloc_page() }
    }

    /// Physical address of the root table.
    pub fn root(&self) -> u64 {
        self.root
    }

    /// `satp` value selecting this table.
    pub fn satp(&self) -> u64 {
        crate::csr::satp_sv39(self.root)
    }

    /// Maps `va` to `pa` with a leaf at `level` carrying `flags`; returns the PTE.
    pub fn map(&mut self, va: u64, pa: u64, level: u32, flags: u64) -> Pte {
        let p = self.slot(va, level);
        p.set(pte(pa, flags));
        p
    }

    /// The PTE slot for `va` at `level`, creating tables above it as needed.
    pub fn slot(&mut self, va: u64, level: u32) -> Pte {
        let mut table = self.root;
        let mut l = 2;
        loop {
            let p = (table + 8 * vpn(va, l) as u64) as *mut u64;
            if l == level {
                return Pte(p);
            }
            // SAFETY: p points into a pool page owned by this table.
            let e = unsafe { core::ptr::read_volatile(p) };
            table = if e & V != 0 {
                assert!(e & (R | W | X) == 0, "slot: a leaf is in the way");
                pte_pa(e)
            } else {
                let t = alloc_page();
                // SAFETY: as above.
                unsafe { core::ptr::write_volatile(p, pte(t, 0)) };
                t
            };
            l -= 1;
        }
    }
}

/// The address space every paging test starts from: two identity gigapages, neither
/// user-accessible, with A and D preset so hardware never needs to update them:
/// 0x0000_0000..0x4000_0000 RW (the devices: finisher, CLINT, UART) and
/// 0x8000_0000..0xc000_0000 RWX (RAM: code, data, stacks, these page tables).
pub fn base_space() -> Sv39 {
    let mut s = Sv39::new();
    s.map(0, 0, 2, R | W | A | D);
    s.map(0x8000_0000, 0x8000_0000, 2, R | W | X | A | D);
    s
}

/// Runs `f` with `satp` installed (it governs S and U; M stays untranslated), then turns
/// translation off again. Each switch is followed by `sfence.vma`.
pub fn with_satp<T>(satp: u64, f: impl FnOnce() -> T) -> T {
    csrw!(satp, satp);
    sfence_all();
    let r = f();
    csrw!(satp, 0);
    sfence_all();
    r
}

/// One page-table entry in memory, as handed out by [`Sv39`]: the hardware may update it
/// (A/D bits) and tests may rewrite it (then `sfence.vma`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pte(*mut u64);

impl Pte {
    /// The entry's current value.
    pub fn get(self) -> u64 {
        // SAFETY: Pte values only come from Sv39 (or from_addr of such an address): an aligned
        // slot in a pool page that lives for the whole program.
        unsafe { core::ptr::read_volatile(self.0) }
    }

    /// Overwrites the entry; the caller issues `sfence.vma` before relying on the change.
    pub fn set(self, v: u64) {
        // SAFETY: as get.
        unsafe { core::ptr::write_volatile(self.0, v) }
    }

    /// Physical (= identity-mapped virtual) address of the entry.
    pub fn addr(self) -> u64 {
        self.0 as u64
    }

    /// Rebuilds a `Pte` from [`Pte::addr`] (for passing one through an integer).
    ///
    /// # Safety
    /// `a` must be the address of an entry that [`Sv39`] handed out.
    pub unsafe fn from_addr(a: u64) -> Pte {
        Pte(a as *mut u64)
    }
}

/// `sfence.vma` for all addresses and address spaces.
pub fn sfence_all() {
    // SAFETY: a fence; no memory is touched.
    unsafe { core::arch::asm!("sfence.vma") };
}
