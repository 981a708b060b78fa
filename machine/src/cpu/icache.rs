//! The decode cache: pre-decoded instructions per physical RAM page, shared by all harts.
//!
//! A page of RAM that a hart executes from gets a *slot*: 2048 [`Inst`] entries, one per
//! 2-byte offset (RVC lets an instruction start at any even address). Entries are decoded
//! lazily, on first execution; an empty entry has `op == Op::Undecoded`.
//!
//! Invariant (shared with `ram.rs`): a slot's entries are valid only while `ram.is_code` holds
//! for its page. Every RAM write clears that flag; [`DecodeCache::page`], which a hart calls
//! whenever it starts fetching from a page, finds the flag clear, empties the slot's decoded
//! entries and sets the flag again. A hart that keeps executing in one page must itself notice
//! writes into that page (it compares each store's page with its fetch page) and re-enter the
//! page. Instructions that straddle a page boundary are never cached.
//!
//! Memory is bounded: at most `MAX_SLOTS` pages have slots; when they run out, every mapping
//! is dropped and slots are reused (the harts re-enter their pages on their next fetch-page
//! switch or `run` call, so none keeps a stale slot number across that).

use super::decode::{Inst, Op};
use crate::ram::{PAGE_SHIFT, Ram};

/// Entries per page: one per halfword.
pub const SLOTS: usize = 1 << (PAGE_SHIFT - 1);
/// Most pages with decoded code at once (each costs 24 KiB).
const MAX_SLOTS: usize = 2048;
const NONE: u32 = u32::MAX;

type Page = Box<[Inst; SLOTS]>;

pub struct DecodeCache {
    /// RAM page number → slot, or NONE.
    map: Vec<u32>,
    pages: Vec<Page>,
    /// Slot → RAM page number it holds.
    owner: Vec<u32>,
    /// Slot → (lowest, highest) decoded entry, to empty only what was filled.
    used: Vec<(u16, u16)>,
    /// Bumped whenever all mappings are dropped; harts compare it on `run` entry.
    pub generation: u64,
}

fn new_page() -> Page {
    let v = vec![Inst::default(); SLOTS].into_boxed_slice();
    match v.try_into() {
        Ok(p) => p,
        Err(_) => unreachable!("a boxed slice of SLOTS entries converts to an array"),
    }
}

impl DecodeCache {
    /// A cache for `ram_size` bytes of RAM.
    pub fn new(ram_size: u64) -> Self {
        DecodeCache {
            map: vec![NONE; (ram_size >> PAGE_SHIFT) as usize + 1],
            pages: Vec::new(),
            owner: Vec::new(),
            used: Vec::new(),
            generation: 0,
        }
    }

    /// The slot holding the page at RAM offset `off`, revalidated against `ram`'s code flags
    /// (see the module invariant).
    pub fn page(&mut self, ram: &mut Ram, off: usize) -> usize {
        let page = off >> PAGE_SHIFT;
        let fresh = !ram.is_code(off);
        ram.mark_code(off);
        let Some(&m) = self.map.get(page) else {
            return self.overflow_slot(page);
        };
        if m != NONE {
            if fresh {
                self.empty(m as usize);
            }
            return m as usize;
        }
        if self.pages.len() >= MAX_SLOTS {
            return self.overflow_slot(page);
        }
        self.pages.push(new_page());
        self.owner.push(page as u32);
        self.used.push((u16::MAX, 0));
        let s = self.pages.len() - 1;
        self.map[page] = s as u32;
        s
    }

    /// Out of slots: drop every mapping and give slot 0 to `page`.
    fn overflow_slot(&mut self, page: usize) -> usize {
        for s in 0..self.pages.len() {
            self.empty(s);
            if let Some(m) = self.map.get_mut(self.owner[s] as usize) {
                *m = NONE;
            }
        }
        self.generation += 1;
        if self.pages.is_empty() {
            self.pages.push(new_page());
            self.owner.push(0);
            self.used.push((u16::MAX, 0));
        }
        self.owner[0] = page as u32;
        if let Some(m) = self.map.get_mut(page) {
            *m = 0;
        }
        // Slots 1.. are free again: keep them allocated, but unmapped pages will reuse them.
        self.pages.truncate(1);
        self.owner.truncate(1);
        self.used.truncate(1);
        0
    }

    fn empty(&mut self, s: usize) {
        let (lo, hi) = self.used[s];
        if lo <= hi {
            self.pages[s][lo as usize..=hi as usize].fill(Inst::default());
        }
        self.used[s] = (u16::MAX, 0);
    }

    /// The entry for `pc` in slot `s` (`Op::Undecoded` if not decoded yet).
    #[inline(always)]
    pub fn get(&self, s: usize, pc: u64) -> Inst {
        self.pages[s][(pc as usize >> 1) & (SLOTS - 1)]
    }

    /// Stores the decoded `inst` for `pc` in slot `s`.
    pub fn set(&mut self, s: usize, pc: u64, inst: Inst) {
        let i = (pc as usize >> 1) & (SLOTS - 1);
        self.pages[s][i] = inst;
        let u = &mut self.used[s];
        *u = (u.0.min(i as u16), u.1.max(i as u16));
    }

    /// `fence.i`: forget every decoded instruction.
    pub fn flush(&mut self) {
        for s in 0..self.pages.len() {
            self.empty(s);
        }
    }

    /// Pages currently holding decoded code (for statistics).
    pub fn pages_in_use(&self) -> usize {
        self.pages.len()
    }
}

impl Inst {
    /// Whether this is an empty decode-cache entry.
    #[inline(always)]
    pub fn is_undecoded(&self) -> bool {
        self.op == Op::Undecoded
    }
}
