//! Debugger views: what the TUI, gdb `monitor` commands and scripts show about a guest.
//!
//! Each view works over small traits rather than over a running [`Machine`], so it can be
//! tested on hand-built memory images and ELF files:
//! - [`PhysMem`]: reads guest physical memory. [`Machine`] implements it (RAM only), and so
//!   does [`MemImage`], a byte vector at a base address, for tests.
//! - [`symbols`]: ELF symbols and pc → function, file:line and inlined frames (kernel and
//!   user ELFs), with the cpu's disassembler where no source exists.
//! - [`state`]: a hart's registers and CSRs decoded (mode, ABI names, status fields, causes).
//! - [`pagetable`]: the Sv39 tree from any root, folded, named, in `vmprint` form, diffed.
//! - [`dwarf`]: kernel tables (`proc`, `cpus`, `ftable`) read through DWARF, for MIT's C
//!   kernel and the Rust kernel alike; a field a kernel lacks reads as None.
//! - [`labs`]: the labs' structures (per-process kernel page table, VMAs, page reference
//!   counts, alarm state), found by shape in any kernel's DWARF.
//! - [`proc`]: `monitor ps` and `monitor fds PID` on top of [`dwarf`], inode names from
//!   the disk image.
//! - [`fsimage`]: the disk image's files: inode names, user programs for their symbols.
//! - [`monitor`]: all of the above as text commands (`ps`, `fds PID`, `pt PID`...), for
//!   gdb's `monitor` and the TUI's command line.
//! - [`strace`]: syscall trace from the hart's trap/xRET events, with no kernel help.
//! - [`syscall_table`]: which call each number is, from the kernel's own `syscalls[]`.
//!
//! Invariant: nothing here writes guest memory or registers (the tracer only adds machine
//! breakpoints and steps a hart over its own, which the guest cannot observe), and no guest
//! value can panic the host: every read of guest memory may fail and every failure becomes
//! a blank or an error value.

pub mod dwarf;
pub mod fsimage;
pub mod kmem;
pub mod labs;
pub mod monitor;
pub mod pagetable;
pub mod proc;
pub mod state;
pub mod strace;
pub mod symbols;
mod syscall_args;
pub mod syscall_table;
#[cfg(test)]
pub(crate) mod testboot;

use machine::machine::Machine;

/// Guest physical memory, as a debugger reads it: no side effects, no device access.
pub trait PhysMem {
    /// Fills `buf` from physical address `paddr`; false if any byte is outside readable memory.
    fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> bool;

    /// A little-endian u64 at `paddr` (RISC-V is little-endian).
    fn read_u64(&self, paddr: u64) -> Option<u64> {
        let mut b = [0u8; 8];
        self.read_phys(paddr, &mut b).then(|| u64::from_le_bytes(b))
    }
}

impl PhysMem for Machine {
    fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> bool {
        Machine::read_phys(self, paddr, buf)
    }
}

impl<T: PhysMem + ?Sized> PhysMem for &T {
    fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> bool {
        (**self).read_phys(paddr, buf)
    }
}

/// A flat memory image at a base physical address: a test double for RAM.
#[derive(Clone, Debug, Default)]
pub struct MemImage {
    pub base: u64,
    pub bytes: Vec<u8>,
}

impl MemImage {
    /// `len` zero bytes starting at physical address `base`.
    pub fn new(base: u64, len: usize) -> Self {
        MemImage {
            base,
            bytes: vec![0; len],
        }
    }

    /// Writes `data` at `paddr`; false (and no write) if it does not fit.
    pub fn write(&mut self, paddr: u64, data: &[u8]) -> bool {
        match self.range(paddr, data.len()) {
            Some(r) => {
                self.bytes[r].copy_from_slice(data);
                true
            }
            None => false,
        }
    }

    /// Writes a little-endian u64 at `paddr`.
    pub fn write_u64(&mut self, paddr: u64, v: u64) -> bool {
        self.write(paddr, &v.to_le_bytes())
    }

    fn range(&self, paddr: u64, len: usize) -> Option<std::ops::Range<usize>> {
        let off = usize::try_from(paddr.checked_sub(self.base)?).ok()?;
        let end = off.checked_add(len)?;
        (end <= self.bytes.len()).then_some(off..end)
    }
}

impl PhysMem for MemImage {
    fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> bool {
        match self.range(paddr, buf.len()) {
            Some(r) => {
                buf.copy_from_slice(&self.bytes[r]);
                true
            }
            None => false,
        }
    }
}

/// Reads a NUL-terminated string of at most `max` bytes; stops early at unreadable memory.
/// Returns the bytes (without the NUL) and whether the NUL was found.
pub fn read_cstr(mem: &dyn PhysMem, paddr: u64, max: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while out.len() < max {
        if !mem.read_phys(paddr + out.len() as u64, &mut b) {
            return (out, false);
        }
        if b[0] == 0 {
            return (out, true);
        }
        out.push(b[0]);
    }
    (out, false)
}

/// Shows bytes as a C string literal body: printable ASCII as is, the rest escaped.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &c in bytes {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_image_reads_only_inside() {
        let mut m = MemImage::new(0x8000_0000, 16);
        assert!(m.write_u64(0x8000_0008, 0x1122_3344_5566_7788));
        assert_eq!(m.read_u64(0x8000_0008), Some(0x1122_3344_5566_7788));
        assert_eq!(m.read_u64(0x8000_0009), None);
        assert_eq!(m.read_u64(0x7fff_fff8), None);
        assert!(!m.write(0x8000_000f, &[1, 2]));
    }

    #[test]
    fn cstr_and_escape() {
        let mut m = MemImage::new(0x1000, 8);
        // "hi\n", NUL, "xyz", then the image's last byte: 0 (a NUL).
        m.write(0x1000, b"hi\n\0xyz");
        let (s, nul) = read_cstr(&m, 0x1000, 64);
        assert_eq!((escape(&s), nul), ("hi\\n".to_string(), true));
        let (s, nul) = read_cstr(&m, 0x1004, 64);
        assert_eq!((s, nul), (b"xyz".to_vec(), true));
        assert_eq!(read_cstr(&m, 0x1008, 4), (Vec::new(), false));
        assert_eq!(read_cstr(&m, 0x1000, 2), (b"hi".to_vec(), false));
    }
}
