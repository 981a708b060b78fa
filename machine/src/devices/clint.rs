//! CLINT: per-hart software interrupts (`msip`), timer compares (`mtimecmp`) and `mtime`.
//!
//! QEMU's `virt` builds its CLINT from two ACLINT devices (hw/intc/riscv_aclint.c):
//!
//! ```text
//!  offset                  register                       access
//!  0x0000 + 4*h            msip[h]: bit 0 raises MSIP      32-bit
//!  0x4000 + 8*h            mtimecmp[h]                     64-bit, or 32-bit halves
//!  0xbff8                  mtime                           64-bit, or 32-bit halves
//! ```
//!
//! Interface: the bus hands [`Clint::read`] and [`Clint::write`] the offset, the access size
//! and the current `mtime`; it asks [`Clint::msip`] and [`Clint::mtimecmp`] when it computes
//! a hart's interrupt lines (`MTIP` is the level `mtime >= mtimecmp[h]`).
//!
//! Invariants and choices:
//! - `mtime` is not stored here: it is a pure function of the instructions retired (see
//!   `board`), which keeps a run reproducible. Guest writes to `mtime` are therefore ignored;
//!   QEMU would move its clock (xv6 never writes it).
//! - Reset matches QEMU: `msip` clear and `mtimecmp` 0. QEMU's reset also rewrites `mtime`
//!   to 0, which re-evaluates every compare, so MTIP is pending from the first instruction
//!   (0 >= 0). That is harmless because `mie.MTIE` resets to 0: xv6 writes `mtimecmp` before
//!   it sets MTIE (old xv6), or never sets MTIE and uses Sstc's `stimecmp` (new xv6).
//! - Accesses QEMU rejects (sizes other than 4 for `msip`, other than 4 or 8 for the timer,
//!   harts that do not exist, holes) read 0 and write nothing. QEMU would raise an access
//!   fault for a bad size; the bus has no way to fault from here and no xv6 makes such an
//!   access.
//!
//! Locking: none; the bus owns the CLINT and harts run one at a time.

/// Start of the `msip` words.
const MSIP_BASE: u64 = 0x0000;
/// Start of the `mtimecmp` double words (the ACLINT MTIMER region starts here).
const MTIMECMP_BASE: u64 = 0x4000;
/// `mtime`, at the top of the MTIMER region.
const MTIME: u64 = 0xbff8;

#[derive(Clone)]
pub struct Clint {
    /// `msip[h]` bit 0: the software interrupt line of hart `h` (MSIP in its `mip`).
    msip: Vec<bool>,
    /// `mtimecmp[h]`: MTIP of hart `h` is high while `mtime >= mtimecmp[h]`.
    mtimecmp: Vec<u64>,
}

impl Clint {
    /// A CLINT for `harts` harts, in QEMU's reset state.
    pub fn new(harts: usize) -> Self {
        Clint {
            msip: vec![false; harts],
            mtimecmp: vec![0; harts],
        }
    }

    /// Load of `size` bytes at `offset`, `mtime` being the current time.
    pub fn read(&mut self, offset: u64, size: u64, mtime: u64) -> u64 {
        self.peek(offset, size, mtime)
    }

    /// The value a load would return (for debuggers; reads have no side effects here).
    pub fn peek(&self, offset: u64, size: u64, mtime: u64) -> u64 {
        if let Some((hart, word)) = self.msip_slot(offset) {
            return if size == 4 && word == 0 {
                self.msip[hart] as u64
            } else {
                0
            };
        }
        if size != 4 && size != 8 {
            return 0;
        }
        let half = |v: u64, hi: bool| {
            if hi {
                v >> 32
            } else if size == 4 {
                v & 0xffff_ffff
            } else {
                v
            }
        };
        if let Some((hart, word)) = self.mtimecmp_slot(offset) {
            return match word {
                0 => half(self.mtimecmp[hart], false),
                4 => half(self.mtimecmp[hart], true),
                _ => 0,
            };
        }
        match offset {
            MTIME => half(mtime, false),
            o if o == MTIME + 4 => half(mtime, true),
            _ => 0,
        }
    }

    /// Store of the low `size` bytes of `val` at `offset`. Writes to `mtime` are ignored (see
    /// the module essay).
    pub fn write(&mut self, offset: u64, size: u64, val: u64, _mtime: u64) {
        if let Some((hart, word)) = self.msip_slot(offset) {
            if size == 4 && word == 0 {
                self.msip[hart] = val & 1 != 0;
            }
            return;
        }
        if size != 4 && size != 8 {
            return;
        }
        if let Some((hart, word)) = self.mtimecmp_slot(offset) {
            let old = self.mtimecmp[hart];
            self.mtimecmp[hart] = match (word, size) {
                (0, 8) => val,
                (0, _) => (old & !0xffff_ffff) | (val & 0xffff_ffff),
                // A 64-bit store to the high half is not an access QEMU accepts.
                (4, 4) => (old & 0xffff_ffff) | (val << 32),
                _ => old,
            };
        }
    }

    /// Whether hart `hart`'s software interrupt (MSIP) is raised.
    pub fn msip(&self, hart: usize) -> bool {
        self.msip.get(hart).copied().unwrap_or(false)
    }

    /// Hart `hart`'s timer compare value.
    pub fn mtimecmp(&self, hart: usize) -> u64 {
        self.mtimecmp.get(hart).copied().unwrap_or(u64::MAX)
    }

    /// Hart and byte-in-word of an offset inside the `msip` array of existing harts.
    fn msip_slot(&self, offset: u64) -> Option<(usize, u64)> {
        let rel = offset.checked_sub(MSIP_BASE)?;
        let hart = (rel / 4) as usize;
        (offset < MTIMECMP_BASE && hart < self.msip.len()).then_some((hart, rel % 4))
    }

    /// Hart and byte-in-double-word of an offset inside the `mtimecmp` array of existing harts.
    fn mtimecmp_slot(&self, offset: u64) -> Option<(usize, u64)> {
        let rel = offset.checked_sub(MTIMECMP_BASE)?;
        let hart = (rel / 8) as usize;
        (hart < self.mtimecmp.len()).then_some((hart, rel % 8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_state_is_qemus() {
        let c = Clint::new(3);
        for h in 0..3 {
            assert!(!c.msip(h));
            assert_eq!(c.mtimecmp(h), 0);
        }
        // A hart that does not exist never gets a timer interrupt.
        assert_eq!(c.mtimecmp(3), u64::MAX);
        assert!(!c.msip(3));
    }

    #[test]
    fn msip_is_bit_zero_of_a_32_bit_word() {
        let mut c = Clint::new(3);
        c.write(8, 4, 0xffff_ffff, 0);
        assert!(c.msip(2) && !c.msip(0) && !c.msip(1));
        assert_eq!(c.read(8, 4, 0), 1);
        c.write(8, 4, 2, 0);
        assert!(!c.msip(2));
        // Sub-word and unaligned accesses, and harts beyond the last, do nothing.
        c.write(4, 1, 1, 0);
        c.write(5, 4, 1, 0);
        c.write(12, 4, 1, 0);
        assert!(!c.msip(1));
        assert_eq!(c.read(12, 4, 0), 0);
    }

    #[test]
    fn mtimecmp_64_bit_and_halves() {
        let mut c = Clint::new(2);
        c.write(0x4008, 8, 0x1122_3344_5566_7788, 0);
        assert_eq!(c.mtimecmp(1), 0x1122_3344_5566_7788);
        assert_eq!(c.read(0x4008, 8, 0), 0x1122_3344_5566_7788);
        assert_eq!(c.read(0x4008, 4, 0), 0x5566_7788);
        assert_eq!(c.read(0x400c, 4, 0), 0x1122_3344);
        c.write(0x4008, 4, 0xaaaa_bbbb, 0);
        assert_eq!(c.mtimecmp(1), 0x1122_3344_aaaa_bbbb);
        c.write(0x400c, 4, 0xcccc_dddd, 0);
        assert_eq!(c.mtimecmp(1), 0xcccc_dddd_aaaa_bbbb);
        // A 64-bit store to the high half is refused, as QEMU does.
        c.write(0x400c, 8, 0, 0);
        assert_eq!(c.mtimecmp(1), 0xcccc_dddd_aaaa_bbbb);
        assert_eq!(c.mtimecmp(0), 0);
        // No third hart.
        c.write(0x4010, 8, 5, 0);
        assert_eq!(c.read(0x4010, 8, 0), 0);
    }

    #[test]
    fn mtime_reads_the_bus_time_and_ignores_writes() {
        let mut c = Clint::new(1);
        let t = 0x0000_0012_8000_0001;
        assert_eq!(c.read(0xbff8, 8, t), t);
        assert_eq!(c.read(0xbff8, 4, t), 0x8000_0001);
        assert_eq!(c.read(0xbffc, 4, t), 0x12);
        c.write(0xbff8, 8, 0, t);
        assert_eq!(c.read(0xbff8, 8, t + 1), t + 1);
        // Holes read as zero.
        assert_eq!(c.read(0x8000, 4, t), 0);
        assert_eq!(c.read(0xbff8, 2, t), 0);
    }
}
