//! Guest RAM, and the bookkeeping that keeps pre-decoded code honest.
//!
//! Invariant: `code[page]` is true only while the decode cache may hold instructions decoded
//! from that physical page. Every write into RAM — by a hart or by device DMA — goes through
//! this module and clears the page's flag, so the decode cache re-decodes the page before it
//! executes from it again (self-modifying code, exec reusing a freed page, DMA of program text).

use crate::board::RAM_BASE;

/// Page size of the decode-cache bookkeeping (the Sv39 base page).
pub const PAGE_SHIFT: u32 = 12;

/// Guest physical memory starting at `RAM_BASE`.
pub struct Ram {
    data: Vec<u8>,
    code: Vec<bool>,
}

impl Ram {
    /// `size` bytes of zeroed RAM; `size` is rounded up to a whole page.
    pub fn new(size: u64) -> Self {
        let size = size.next_multiple_of(1 << PAGE_SHIFT) as usize;
        Ram {
            data: vec![0; size],
            code: vec![false; size >> PAGE_SHIFT],
        }
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.data.len() as u64
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
        self.code[off >> PAGE_SHIFT] = true;
    }

    /// Whether decoded instructions of the page at RAM offset `off` are still valid.
    #[inline(always)]
    pub fn is_code(&self, off: usize) -> bool {
        self.code[off >> PAGE_SHIFT]
    }

    /// Mutable access to `len` bytes at RAM offset `off`, invalidating decoded code there.
    #[inline(always)]
    pub fn bytes_mut(&mut self, off: usize, len: usize) -> &mut [u8] {
        let first = off >> PAGE_SHIFT;
        let last = (off + len.max(1) - 1) >> PAGE_SHIFT;
        for page in first..=last {
            self.code[page] = false;
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
        let page = off >> PAGE_SHIFT;
        if self.code[page] {
            self.code[page] = false;
        }
        self.data[off..off + size].copy_from_slice(&val.to_le_bytes()[..size]);
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
    fn offsets_outside_ram_are_refused() {
        let ram = Ram::new(4096);
        assert_eq!(ram.offset(RAM_BASE, 8), Some(0));
        assert_eq!(ram.offset(RAM_BASE + 4092, 8), None);
        assert_eq!(ram.offset(RAM_BASE - 1, 1), None);
        assert_eq!(ram.offset(0, 1), None);
    }
}
