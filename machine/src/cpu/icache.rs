//! The decode cache: pre-decoded instructions per physical RAM page, shared by all harts.
//!
//! A page of RAM that a hart executes from gets a *slot*: 2048 [`Slot`] entries, one per
//! 2-byte offset (RVC lets an instruction start at any even address), all slots in one flat
//! vector so that a fetch is a single indexed load. Entries are decoded lazily, on first
//! execution; an empty entry has `op == Op::Undecoded`. A [`Slot`] is an [`Inst`] packed in
//! 8 bytes: the length lives in bit 6 of `rd`, which the executor masks off anyway.
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
/// Most pages with decoded code at once by default (each costs 16 KiB).
const MAX_SLOTS: usize = 2048;
const NONE: u32 = u32::MAX;
/// A `heat` value holding a region id.
pub const REGION: u32 = 1 << 31;
/// A `heat` value: the entry cannot start a region (its instruction is not translatable).
pub const NO_REGION: u32 = u32::MAX;
/// The bit of [`Slot::rd`] that marks a 4-byte instruction (rd itself is 5 bits).
pub const SLOT_LONG: u8 = 1 << 6;
/// The bits of [`Slot::rd`] that hold rd.
const SLOT_RD: u8 = 31;

/// A decode-cache entry: an [`Inst`] in 8 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    pub op: Op,
    /// Bits 4..0: rd; [`SLOT_LONG`]: the instruction is 4 bytes long (else 2).
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub imm: i32,
}

impl Slot {
    pub fn new(i: Inst) -> Slot {
        Slot {
            op: i.op,
            rd: i.rd | if i.len == 4 { SLOT_LONG } else { 0 },
            rs1: i.rs1,
            rs2: i.rs2,
            imm: i.imm,
        }
    }
    #[inline(always)]
    pub fn size(&self) -> u64 {
        // SLOT_LONG (bit 6) shifted down to 2: a length of 2 or 4 without a branch.
        2 + ((self.rd as u64 >> 5) & 2)
    }
    pub fn inst(&self) -> Inst {
        Inst {
            op: self.op,
            rd: self.rd & SLOT_RD,
            rs1: self.rs1,
            rs2: self.rs2,
            imm: self.imm,
            len: self.size() as u8,
        }
    }
}

pub struct DecodeCache {
    /// RAM page number → slot, or NONE.
    map: Vec<u32>,
    /// Slot s holds entries `s * SLOTS .. (s + 1) * SLOTS`.
    entries: Vec<Slot>,
    /// Parallel to `entries`: for the translating tier, how often the interpreter started
    /// at that entry (below `jit::HOT`), or [`REGION`] | the id of its translated region, or
    /// [`NO_REGION`]. Emptied with the entries, so a region never outlives its code.
    heat: Vec<u32>,
    /// Slot → RAM page number it holds.
    owner: Vec<u32>,
    /// Slot → (lowest, highest) decoded entry, to empty only what was filled.
    used: Vec<(u16, u16)>,
    /// Bumped whenever all mappings are dropped (for statistics).
    pub generation: u64,
    max_slots: usize,
}

impl DecodeCache {
    /// A cache for `ram_size` bytes of RAM.
    pub fn new(ram_size: u64) -> Self {
        Self::with_limit(ram_size, MAX_SLOTS)
    }

    /// A cache for `ram_size` bytes of RAM holding at most `max_slots` pages at once.
    pub fn with_limit(ram_size: u64, max_slots: usize) -> Self {
        DecodeCache {
            max_slots: max_slots.max(1),
            map: vec![NONE; (ram_size >> PAGE_SHIFT) as usize + 1],
            entries: Vec::new(),
            heat: Vec::new(),
            owner: Vec::new(),
            used: Vec::new(),
            generation: 0,
        }
    }

    /// The first entry index of the slot holding the page at RAM offset `off`, revalidated
    /// against `ram`'s code flags (see the module invariant).
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
            return m as usize * SLOTS;
        }
        if self.owner.len() >= self.max_slots {
            return self.overflow_slot(page);
        }
        self.entries
            .resize(self.entries.len() + SLOTS, Slot::default());
        self.heat.resize(self.entries.len(), 0);
        self.owner.push(page as u32);
        self.used.push((u16::MAX, 0));
        let s = self.owner.len() - 1;
        self.map[page] = s as u32;
        s * SLOTS
    }

    /// Out of slots: drop every mapping and give slot 0 to `page`.
    fn overflow_slot(&mut self, page: usize) -> usize {
        for m in self.map.iter_mut() {
            *m = NONE;
        }
        self.generation += 1;
        // Keep one slot (its memory is reused), free the others.
        self.entries.truncate(SLOTS);
        self.entries.fill(Slot::default());
        self.entries.resize(SLOTS, Slot::default());
        self.heat.truncate(SLOTS);
        self.heat.fill(0);
        self.heat.resize(SLOTS, 0);
        self.owner = vec![page as u32];
        self.used = vec![(u16::MAX, 0)];
        if let Some(m) = self.map.get_mut(page) {
            *m = 0;
        }
        0
    }

    fn empty(&mut self, s: usize) {
        let (lo, hi) = self.used[s];
        if lo <= hi {
            let range = s * SLOTS + lo as usize..=s * SLOTS + hi as usize;
            self.entries[range.clone()].fill(Slot::default());
            self.heat[range].fill(0);
        }
        self.used[s] = (u16::MAX, 0);
    }

    /// The entry for `pc` in the slot starting at entry `base` (`Op::Undecoded` if not
    /// decoded yet).
    #[inline(always)]
    pub fn get(&self, base: usize, pc: u64) -> Slot {
        self.entries[base | ((pc as usize >> 1) & (SLOTS - 1))]
    }

    /// Stores the decoded `inst` for `pc` in the slot starting at entry `base`.
    pub fn set(&mut self, base: usize, pc: u64, inst: Inst) {
        let i = (pc as usize >> 1) & (SLOTS - 1);
        if let Some(e) = self.entries.get_mut(base | i) {
            *e = Slot::new(inst);
        }
        if let Some(u) = self.used.get_mut(base / SLOTS) {
            *u = (u.0.min(i as u16), u.1.max(i as u16));
        }
    }

    /// The first entry index of the slot holding the page at RAM offset `off` when its
    /// entries are valid as they are ([`DecodeCache::page`] would neither fill nor empty
    /// it); None otherwise.
    #[inline(always)]
    pub fn valid_slot(&self, ram: &Ram, off: usize) -> Option<usize> {
        let m = *self.map.get(off >> PAGE_SHIFT)?;
        (m != NONE && ram.is_code(off)).then_some(m as usize * SLOTS)
    }

    /// The translating tier's value for `pc` in the slot starting at entry `base` (see
    /// `heat`).
    #[inline(always)]
    pub fn heat(&self, base: usize, pc: u64) -> u32 {
        self.heat[base | ((pc as usize >> 1) & (SLOTS - 1))]
    }

    /// Sets the translating tier's value for `pc` in the slot starting at entry `base`.
    pub fn set_heat(&mut self, base: usize, pc: u64, value: u32) {
        let i = (pc as usize >> 1) & (SLOTS - 1);
        if let Some(e) = self.heat.get_mut(base | i) {
            *e = value;
        }
        if let Some(u) = self.used.get_mut(base / SLOTS) {
            *u = (u.0.min(i as u16), u.1.max(i as u16));
        }
    }

    /// Forgets every translated region (the translator dropped its code) and every count.
    pub fn drop_regions(&mut self) {
        self.heat.fill(0);
    }

    /// `fence.i`: forget every decoded instruction.
    pub fn flush(&mut self) {
        for s in 0..self.owner.len() {
            self.empty(s);
        }
    }

    /// Pages currently holding decoded code (for statistics).
    pub fn pages_in_use(&self) -> usize {
        self.owner.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::decode::decode;

    #[test]
    fn pages_are_revalidated_and_slots_recycled() {
        let mut ram = Ram::new(16 * 4096);
        let mut c = DecodeCache::with_limit(ram.size(), 2);
        let addi = decode(0x00150513); // addi a0, a0, 1
        let a = c.page(&mut ram, 0);
        c.set(a, 0x8000_0008, addi);
        assert_eq!(c.get(a, 0x8000_0008).inst(), addi);
        assert_eq!(c.page(&mut ram, 100), a, "same page, still valid");
        assert_eq!(c.get(a, 0x8000_0008).op, Op::Addi);
        // A write into the page: the next entry empties it.
        ram.store(200, 4, 0);
        assert_eq!(c.page(&mut ram, 0), a);
        assert_eq!(c.get(a, 0x8000_0008).op, Op::Undecoded);
        c.set(a, 0x8000_0008, addi);
        // Two more pages overflow the limit of 2: everything is dropped, and the slot the
        // new page gets holds nothing stale.
        let b = c.page(&mut ram, 4096);
        assert_ne!(a, b);
        let d = c.page(&mut ram, 2 * 4096);
        assert_eq!(c.pages_in_use(), 1);
        assert_eq!(c.generation, 1);
        assert_eq!(c.get(d, 0x8000_0008).op, Op::Undecoded);
        // The first page comes back in a fresh slot, empty.
        let a2 = c.page(&mut ram, 0);
        assert_eq!(c.get(a2, 0x8000_0008).op, Op::Undecoded);
        // fence.i empties every slot.
        c.set(a2, 0x8000_0010, addi);
        c.flush();
        assert_eq!(c.get(a2, 0x8000_0010).op, Op::Undecoded);
    }
}
