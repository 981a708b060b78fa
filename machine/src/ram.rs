//! Guest RAM, and the bookkeeping that keeps pre-decoded code honest.
//!
//! Invariant: a page's `CODE` flag is set only while the decode cache may hold instructions
//! decoded from that physical page. Every write into RAM — by a hart or by device DMA — goes
//! through this module and clears the page's `CODE` flag, so the decode cache re-decodes the
//! page before it executes from it again (self-modifying code, exec reusing a freed page, DMA
//! of program text). The same write sets the page's `DIRTY` flag, which stays until
//! [`Ram::take_dirty`] collects it: snapshots copy only the pages written since the last one
//! (`machine/src/machine/snapshot.rs`). A write keeps both in one byte, compared once, so
//! the store path costs what it did with the code flag alone.

use crate::board::RAM_BASE;

/// Page size of the decode-cache bookkeeping (the Sv39 base page).
pub const PAGE_SHIFT: u32 = 12;

/// A page's flags: its decoded code may be cached; it was written since `take_dirty`.
const CODE: u8 = 1;
pub(crate) const DIRTY: u8 = 2;

/// Bytes in a page.
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;

/// Guest physical memory starting at `RAM_BASE`.
pub struct Ram {
    data: Vec<u8>,
    /// `CODE` and `DIRTY` per page.
    flags: Vec<u8>,
}

impl Ram {
    /// `size` bytes of zeroed RAM; `size` is rounded up to a whole page.
    pub fn new(size: u64) -> Self {
        let size = size.next_multiple_of(1 << PAGE_SHIFT) as usize;
        Ram {
            data: vec![0; size],
            // Every page counts as written: the first snapshot copies all of RAM.
            flags: vec![DIRTY; size >> PAGE_SHIFT],
        }
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }

    /// The bytes and the page flags, for translated code (cpu/jit.rs), which keeps both
    /// exactly as [`Ram::store`] does. Neither vector is ever resized, so the pointers stay
    /// valid for the life of the `Ram`.
    pub(crate) fn raw_parts(&mut self) -> (*mut u8, *mut u8) {
        (self.data.as_mut_ptr(), self.flags.as_mut_ptr())
    }

    /// One past the last RAM address.
    pub fn end(&self) -> u64 {
        RAM_BASE + self.size()
    }

    /// Offset of the `len` bytes at `paddr` inside RAM, if they all lie in RAM.
    #[inline(always)]
    pub fn offset(&self, paddr: u64, len: u64) -> Option<usize> {
        let off = paddr.wrapping_sub(RAM_BASE);
        (off < self.size() && len <= self.size() - off).then_some(off as usize)
    }

    /// All of RAM, read-only.
    #[inline(always)]
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Marks the page at RAM offset `off` as holding decoded code (see the module invariant).
    #[inline(always)]
    pub fn mark_code(&mut self, off: usize) {
        self.flags[off >> PAGE_SHIFT] |= CODE;
    }

    /// Whether decoded instructions of the page at RAM offset `off` are still valid.
    #[inline(always)]
    pub fn is_code(&self, off: usize) -> bool {
        self.flags[off >> PAGE_SHIFT] & CODE != 0
    }

    /// Mutable access to `len` bytes at RAM offset `off`, invalidating decoded code there.
    #[inline(always)]
    pub fn bytes_mut(&mut self, off: usize, len: usize) -> &mut [u8] {
        let first = off >> PAGE_SHIFT;
        let last = (off + len.max(1) - 1) >> PAGE_SHIFT;
        for page in first..=last {
            self.flags[page] = DIRTY;
        }
        &mut self.data[off..off + len]
    }

    /// Little-endian load of `size` (1, 2, 4, 8) bytes at RAM offset `off`.
    #[inline(always)]
    pub fn load(&self, off: usize, size: usize) -> u64 {
        let d = &self.data;
        match size {
            1 => d[off] as u64,
            2 => u16::from_le_bytes([d[off], d[off + 1]]) as u64,
            4 => u32::from_le_bytes(d[off..off + 4].try_into().unwrap()) as u64,
            _ => u64::from_le_bytes(d[off..off + 8].try_into().unwrap()),
        }
    }

    /// Little-endian store of the low `size` (1, 2, 4, 8) bytes of `val` at RAM offset `off`.
    #[inline(always)]
    pub fn store(&mut self, off: usize, size: usize, val: u64) {
        let flags = &mut self.flags[off >> PAGE_SHIFT];
        if *flags != DIRTY {
            *flags = DIRTY;
        }
        self.data[off..off + size].copy_from_slice(&val.to_le_bytes()[..size]);
    }

    /// Number of pages.
    pub fn pages(&self) -> usize {
        self.flags.len()
    }

    /// Page `p`'s bytes.
    pub fn page(&self, p: usize) -> &[u8] {
        &self.data[p * PAGE_SIZE..(p + 1) * PAGE_SIZE]
    }

    /// The pages written since the last call (or since boot), in order; their `DIRTY` flags
    /// are cleared.
    pub fn take_dirty(&mut self) -> Vec<usize> {
        let mut pages = Vec::new();
        for (p, f) in self.flags.iter_mut().enumerate() {
            if *f & DIRTY != 0 {
                *f &= !DIRTY;
                pages.push(p);
            }
        }
        pages
    }

    /// Whether page `p` was written since the last [`Ram::take_dirty`].
    pub fn is_dirty(&self, p: usize) -> bool {
        self.flags[p] & DIRTY != 0
    }

    /// Puts `bytes` into page `p` as a snapshot had it: neither code nor dirty afterwards (the
    /// caller flushes the decode cache and takes the snapshot as its new base).
    pub fn restore_page(&mut self, p: usize, bytes: &[u8]) {
        self.data[p * PAGE_SIZE..(p + 1) * PAGE_SIZE].copy_from_slice(bytes);
        self.flags[p] = 0;
    }

    /// Clears every page's flags (after a restore: nothing cached, nothing written since).
    pub fn clear_flags(&mut self) {
        self.flags.fill(0);
    }

    /// Copies RAM at physical `paddr` into `buf`. `None` if any byte is outside RAM.
    pub fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> Option<()> {
        let off = self.offset(paddr, buf.len() as u64)?;
        buf.copy_from_slice(&self.data[off..off + buf.len()]);
        Some(())
    }

    /// Copies `buf` into RAM at physical `paddr` (DMA, loaders, debuggers). `None` if any byte
    /// is outside RAM.
    pub fn write_phys(&mut self, paddr: u64, buf: &[u8]) -> Option<()> {
        let off = self.offset(paddr, buf.len() as u64)?;
        self.bytes_mut(off, buf.len()).copy_from_slice(buf);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_dma_invalidate_code_pages() {
        let mut ram = Ram::new(4 * 4096);
        ram.mark_code(4096);
        assert!(ram.is_code(4096 + 8));
        ram.store(4096 + 100, 4, 0xdead_beef);
        assert!(!ram.is_code(4096));
        assert_eq!(ram.load(4096 + 100, 4), 0xdead_beef);
        ram.mark_code(8192);
        ram.write_phys(RAM_BASE + 8190, &[1, 2, 3, 4]).unwrap();
        assert!(!ram.is_code(8192));
    }

    #[test]
    fn writes_mark_pages_dirty_until_collected() {
        let mut ram = Ram::new(4 * 4096);
        assert_eq!(ram.take_dirty(), vec![0, 1, 2, 3], "all of a new RAM");
        assert!(ram.take_dirty().is_empty());
        ram.mark_code(0);
        ram.store(4096 + 8, 8, 1);
        ram.write_phys(RAM_BASE + 3 * 4096 - 1, &[1, 2]).unwrap();
        assert!(
            ram.is_code(0) && !ram.is_dirty(0),
            "reading code does not dirty"
        );
        assert_eq!(ram.take_dirty(), vec![1, 2, 3]);
        ram.restore_page(1, &[7; 4096]);
        assert_eq!((ram.load(4096, 1), ram.is_dirty(1)), (7, false));
    }

    #[test]
    fn offsets_outside_ram_are_refused() {
        let ram = Ram::new(4096);
        assert_eq!(ram.offset(RAM_BASE, 8), Some(0));
        assert_eq!(ram.offset(RAM_BASE + 4092, 8), None);
        assert_eq!(ram.offset(RAM_BASE - 1, 1), None);
        assert_eq!(ram.offset(0, 1), None);
    }
}
