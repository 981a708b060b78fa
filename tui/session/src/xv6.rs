//! Facts about xv6 that the debugger relies on, each read in one place.
//!
//! - The trampoline: xv6 links its `trampoline` page (`uservec`, `userret`) inside the
//!   kernel image but runs it only through the mapping at TRAMPOLINE, the same virtual page
//!   in every page table (memlayout). So a breakpoint on that code goes to TRAMPOLINE, and
//!   a pc there is named by the kernel's link address of the same code.
//! - The process a hart runs: `cpus[h].proc`, read through DWARF ([`inspect::proc`]).
//! - Address spaces: a process's root page table (`proc.pagetable`), the kernel's
//!   (`kernel_pagetable`), and whose table a `satp` names.
//! - The disk: an xv6 file system's superblock says how many blocks the image must hold.
//! - The board a kernel expects ([`expects`]): its virtio transport and its PHYSTOP, read
//!   from its code before it boots.
//! - The lab year of a tree, for `vmprint`'s format ([`vmprint_style`]).
//!
//! Everything here reads; nothing writes guest state.

pub mod expects;

use crate::inspect::pagetable::Vmprint;

use crate::inspect::PhysMem;
use crate::inspect::pagetable;
use crate::inspect::proc::{Kernel, ProcInfo};
use crate::inspect::symbols::Symbols;
use abi::memlayout::{PGSIZE, TRAMPOLINE};
use machine::Machine;

/// The trampoline page of a kernel: where it is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trampoline {
    /// The kernel's link address of the page (its `trampoline` symbol).
    pub link: u64,
}

impl Trampoline {
    /// The kernel's trampoline, from its `trampoline` symbol.
    pub fn of(kernel: &Symbols) -> Option<Trampoline> {
        kernel
            .lookup("trampoline")
            .map(|s| Trampoline { link: s.addr })
    }

    /// Where the code at link address `addr` executes: TRAMPOLINE + offset inside the page,
    /// else `addr` itself.
    pub fn executed_at(&self, addr: u64) -> u64 {
        if (self.link..self.link + PGSIZE).contains(&addr) {
            TRAMPOLINE + (addr - self.link)
        } else {
            addr
        }
    }

    /// The link address of the code executing at `pc`: inverse of [`Self::executed_at`].
    pub fn link_of(&self, pc: u64) -> u64 {
        if (TRAMPOLINE..TRAMPOLINE + PGSIZE).contains(&pc) {
            self.link + (pc - TRAMPOLINE)
        } else {
            pc
        }
    }

    /// Where trampoline symbol `name` (`uservec`, `userret`) executes.
    pub fn symbol(kernel: &Symbols, name: &str) -> Result<u64, String> {
        let t = Trampoline::of(kernel).ok_or("no `trampoline` symbol")?;
        let at = kernel
            .lookup(name)
            .ok_or(format!("no `{name}` symbol"))?
            .addr;
        Ok(TRAMPOLINE + at.wrapping_sub(t.link))
    }
}

/// The process hart `h` runs (`cpus[h].proc`), if any.
pub fn current_proc(kernel: &Kernel, m: &Machine, h: usize) -> Option<ProcInfo> {
    let addr = kernel
        .cpus(m)
        .into_iter()
        .find(|c| c.id == h)
        .and_then(|c| c.proc)
        .filter(|a| *a != 0)?;
    kernel.procs(m).into_iter().find(|p| p.addr == addr)
}

/// A process by pid (all digits) or by name (the newest of that name).
pub fn proc_by(kernel: &Kernel, m: &Machine, who: &str) -> Option<ProcInfo> {
    let procs = kernel.procs(m).into_iter().filter(ProcInfo::in_use);
    match who.parse::<i64>() {
        Ok(pid) => procs.into_iter().find(|p| p.pid == Some(pid)),
        Err(_) => procs
            .filter(|p| p.name.as_deref() == Some(who))
            .max_by_key(|p| p.pid),
    }
}

/// The process whose page table `satp` names, if any.
pub fn proc_of_satp(kernel: &Kernel, m: &Machine, satp: u64) -> Option<ProcInfo> {
    let root = pagetable::satp_root(satp);
    kernel
        .procs(m)
        .into_iter()
        .find(|p| p.in_use() && p.pagetable == Some(root))
}

/// The `vmprint` format of the lab year a kernel's tree comes from, told by what the
/// handouts' starter code adds: 2024's pgtbl lab has the `kpgtbl` and `pgpte` system calls
/// (`sys_kpgtbl`, `sys_pgpte`) and prints virtual addresses; any other tree (2020 to 2023,
/// the bundled kernel) prints indexes.
pub fn vmprint_style(kernel: &Symbols) -> Vmprint {
    if ["sys_kpgtbl", "sys_pgpte"]
        .iter()
        .any(|s| kernel.lookup(s).is_some())
    {
        Vmprint::Va
    } else {
        Vmprint::Index
    }
}

/// The root of the kernel's page table (`kernel_pagetable`), once the kernel set it.
pub fn kernel_pagetable(kernel: &Symbols, m: &Machine) -> Result<u64, String> {
    let sym = kernel
        .lookup("kernel_pagetable")
        .ok_or("no `kernel_pagetable` symbol")?;
    m.read_u64(sym.addr)
        .filter(|r| *r != 0)
        .ok_or_else(|| "kernel_pagetable is not set yet".to_string())
}

/// The physical address of the leaf PTE that maps `va` in the page table at `root` (the
/// kernel writes it there through its direct map, where virtual equals physical).
pub fn pte_address(m: &Machine, root: u64, va: u64) -> Option<u64> {
    let mut table = root;
    for level in (0..3u64).rev() {
        let slot = table + ((va >> (12 + 9 * level)) & 0x1ff) * 8;
        let pte = m.read_u64(slot)?;
        // PTE_V, and R/W/X for a leaf (privileged spec §12.4.1).
        if pte & 1 == 0 {
            return None;
        }
        if pte & 0b1110 != 0 {
            return Some(slot);
        }
        table = pagetable::pte_pa(pte);
    }
    None
}

/// Reads guest memory at virtual address `va` in the address space `satp` names (physical
/// when paging is off), as a debugger does: no side effects, U pages included.
pub fn read_virt(m: &Machine, satp: u64, va: u64, buf: &mut [u8]) -> bool {
    if machine::cpu::csr::satp_paging(satp) {
        pagetable::read_virt(m, pagetable::satp_root(satp), va, buf, false)
    } else {
        m.read_phys(va, buf)
    }
}

/// The physical address of `va` in the address space `satp` names (identity when paging
/// is off).
pub fn translate(m: &Machine, satp: u64, va: u64) -> Option<u64> {
    if machine::cpu::csr::satp_paging(satp) {
        pagetable::translate(m, pagetable::satp_root(satp), va).map(|(pa, _)| pa)
    } else {
        Some(va)
    }
}

/// What is wrong with a disk image that claims to hold an xv6 file system.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "disk image is truncated: its superblock says {blocks} blocks of {bsize} bytes, the image has {bytes} bytes"
)]
pub struct DiskTruncated {
    pub blocks: u64,
    pub bsize: u64,
    pub bytes: u64,
}

/// Checks an image that carries an xv6 file system (superblock magic in block 1): it holds
/// at least as many blocks as its superblock claims. Other images pass: the board takes any
/// whole number of sectors.
pub fn check_disk(disk: &[u8]) -> Result<(), DiskTruncated> {
    let bsize = abi::fs::BSIZE;
    if disk.len() >= 2 * bsize {
        let sb = abi::fs::SuperBlock::decode(&disk[bsize..2 * bsize]);
        let need = sb.size as u64 * bsize as u64;
        if sb.magic == abi::fs::FSMAGIC && need > disk.len() as u64 {
            return Err(DiskTruncated {
                blocks: sb.size as u64,
                bsize: bsize as u64,
                bytes: disk.len() as u64,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trampoline_addresses_map_both_ways() {
        let t = Trampoline { link: 0x8000_7000 };
        assert_eq!(t.executed_at(0x8000_7000), TRAMPOLINE);
        assert_eq!(t.executed_at(0x8000_709c), TRAMPOLINE + 0x9c);
        assert_eq!(t.executed_at(0x8000_8000), 0x8000_8000, "past the page");
        assert_eq!(t.link_of(TRAMPOLINE + 0x9c), 0x8000_709c);
        assert_eq!(t.link_of(0x8000_1000), 0x8000_1000);
    }

    #[test]
    fn a_truncated_xv6_image_is_refused_and_other_images_pass() {
        let bsize = abi::fs::BSIZE;
        let mut img = vec![0u8; 4 * bsize];
        // Superblock: magic, then size in blocks (little-endian u32s).
        img[bsize..bsize + 4].copy_from_slice(&abi::fs::FSMAGIC.to_le_bytes());
        img[bsize + 4..bsize + 8].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(
            check_disk(&img),
            Err(DiskTruncated {
                blocks: 8,
                bsize: bsize as u64,
                bytes: 4 * bsize as u64
            })
        );
        img[bsize + 4..bsize + 8].copy_from_slice(&4u32.to_le_bytes());
        assert_eq!(check_disk(&img), Ok(()));
        assert_eq!(check_disk(&[0u8; 512]), Ok(()), "no file system: any size");
    }
}
