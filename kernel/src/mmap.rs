//! mmap and munmap of files (the mmap lab; `lab::MMAP`).
//!
//! A process's mappings are VMAs, `Proc::vma`: a fixed table of `NVMA` regions, each a
//! page-aligned range of user addresses backed by an open file from an offset, with its
//! protection and whether stores reach the file (`MAP_SHARED`) or stay in the process
//! (`MAP_PRIVATE`). `mmap` only reserves the range: the top of the address space, just
//! below the trapframe (or the usyscall page), going down as mappings are added; the heap
//! (`sz`) may not grow into it. The pages come at the first fault on them (`mmap_fault`,
//! called by `vm::fault_in` from `usertrap` or from the copy functions): a zeroed page, the
//! file's bytes read into it, mapped with the VMA's protection.
//!
//! `munmap(addr, len)` removes whole pages at the start or the end of one mapping (or all
//! of it; a hole in the middle is refused, as the lab allows): pages of a shared mapping
//! that were written (`PTE_D`) go back to the file first, within the file's size. The last
//! page gone closes the mapping's file reference. `exit` and `exec` unmap everything; `fork`
//! gives the child the same mappings (and file references), whose pages it faults in again
//! from the file.
//!
//! Locking: the VMA table is private to the process, like its page table. Faults and
//! write-backs lock the file's inode (sleep-lock); write-backs run in log operations of at
//! most one block-chunk each, as `filewrite` does.

use core::ptr::null_mut;

use abi::fs::BSIZE;
use abi::param::MAXOPBLOCKS;
use abi::{MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE};

use crate::file::{FdType, File, fileclose, filedup};
use crate::fs::{ilock, readi, writei};
use crate::kalloc::{kalloc, kfree};
use crate::log::Op;
use crate::proc::{Proc, myproc, user_top_fixed};
use crate::riscv::{PGSIZE, pgrounddown, pgroundup, pte2pa};
use crate::syscall::{argaddr, argint};
use crate::sysfile::argfd;
use crate::vm::{PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, mappages, uvmunmap, walk};

/// Mappings per process.
pub const NVMA: usize = 16;

/// Dirty: the hart sets it in a PTE it writes through.
const PTE_D: u64 = crate::riscv::PTE_D;

/// One mapping (xv6 lab solutions call it `struct vma`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Vma {
    /// 1 if this slot holds a mapping.
    pub used: i32,
    /// First address (page-aligned).
    pub addr: u64,
    /// Length in bytes (a multiple of the page size).
    pub len: u64,
    /// `PROT_*` bits.
    pub prot: i32,
    /// `MAP_SHARED` or `MAP_PRIVATE`.
    pub flags: i32,
    /// File offset of `addr`.
    pub off: u64,
    /// The file (one counted reference while the mapping exists).
    pub file: *mut File,
}

impl Vma {
    pub const EMPTY: Vma = Vma {
        used: 0,
        addr: 0,
        len: 0,
        prot: 0,
        flags: 0,
        off: 0,
        file: null_mut(),
    };

    fn contains(&self, va: u64) -> bool {
        self.used != 0 && (self.addr..self.addr + self.len).contains(&va)
    }
}

const ERR: u64 = u64::MAX;

/// The lowest address any mapping of `p` uses (the top of user memory when none does): the
/// heap must stay below it.
pub fn lowest(p: *mut Proc) -> u64 {
    // SAFETY: the VMA table is private to the process; callers are the process itself or
    // its parent during fork.
    let vmas = unsafe { &(*p).vma };
    vmas.iter()
        .filter(|v| v.used != 0)
        .map(|v| v.addr)
        .min()
        .unwrap_or_else(user_top_fixed)
}

/// mmap(addr, len, prot, flags, fd, off): maps `len` bytes of the open file `fd` from `off`
/// (page-aligned) at an address of the kernel's choosing (`addr` is only a hint, ignored);
/// returns it, or -1 (`MAP_FAILED`). A shared writable mapping needs a file open for
/// writing; any mapping needs it open for reading.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_mmap() -> u64 {
    let (len, prot, flags, off) = (argint(1), argint(2), argint(3), argaddr(5));
    let Some((_, f)) = argfd(4) else { return ERR };
    if len <= 0 || !off.is_multiple_of(PGSIZE) || (flags != MAP_SHARED && flags != MAP_PRIVATE) {
        return ERR;
    }
    // SAFETY: the descriptor keeps f open; its type and modes are fixed while open.
    let (typ, readable, writable) = unsafe { ((*f).typ, (*f).readable, (*f).writable) };
    if typ != FdType::FdInode || readable == 0 {
        return ERR;
    }
    if flags == MAP_SHARED && prot & PROT_WRITE != 0 && writable == 0 {
        return ERR;
    }
    let p = myproc();
    let len = pgroundup(len as u64);
    let top = lowest(p);
    // SAFETY: sz and the VMA table are private to the running process.
    unsafe {
        if top < len || top - len < pgroundup((*p).sz) {
            return ERR;
        }
        let Some(v) = (*p).vma.iter_mut().find(|v| v.used == 0) else {
            return ERR;
        };
        *v = Vma {
            used: 1,
            addr: top - len,
            len,
            prot,
            flags,
            off,
            file: filedup(f),
        };
        top - len
    }
}

/// munmap(addr, len): unmaps the pages of `[addr, addr + len)`, which must be the start, the
/// end or the whole of one mapping. 0, or -1.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_munmap() -> u64 {
    let (addr, len) = (argaddr(0), argint(1));
    if len <= 0 || !addr.is_multiple_of(PGSIZE) {
        return ERR;
    }
    match unmap(myproc(), addr, pgroundup(len as u64)) {
        Ok(()) => 0,
        Err(()) => ERR,
    }
}

/// Unmaps `[addr, addr + len)` (page-aligned) from `p`'s mapping that holds `addr`.
fn unmap(p: *mut Proc, addr: u64, len: u64) -> Result<(), ()> {
    // SAFETY: the VMA table is private to the process.
    let v = unsafe { (*p).vma.iter_mut().find(|v| v.contains(addr)) }.ok_or(())?;
    let end = addr.checked_add(len).ok_or(())?;
    let (start, stop) = (v.addr, v.addr + v.len);
    if end > stop || (addr != start && end != stop) {
        return Err(());
    }
    // SAFETY: the page table is private to the process.
    let pagetable = unsafe { (*p).pagetable };
    let mut a = addr;
    while a < end {
        let pte = walk(pagetable, a, false);
        // SAFETY: a live PTE when not null.
        if !pte.is_null() && unsafe { *pte } & PTE_V != 0 {
            // SAFETY: as above.
            let e = unsafe { *pte };
            if v.flags == MAP_SHARED && e & PTE_D != 0 {
                write_back(v, a, pte2pa(e));
            }
            uvmunmap(pagetable, a, 1, true);
        }
        a += PGSIZE;
    }
    if addr == start {
        v.addr = end;
        v.off += len;
    }
    v.len -= len;
    if v.len == 0 {
        let f = v.file;
        *v = Vma::EMPTY;
        fileclose(f);
    }
    Ok(())
}

/// Writes the page at `pa`, mapped at `va` of mapping `v`, back to the file, within the
/// file's current size, in chunks that each fit one log operation.
fn write_back(v: &Vma, va: u64, pa: u64) {
    let max = ((MAXOPBLOCKS - 1 - 1 - 2) / 2 * BSIZE) as u64;
    let off = v.off + (va - v.addr);
    // SAFETY: the mapping holds a reference to the file, whose ip is fixed while open.
    let ip = unsafe { (*v.file).ip };
    let size = ilock(ip).size as u64;
    let n = PGSIZE.min(size.saturating_sub(off));
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(max);
        let _op = Op::begin();
        let mut g = ilock(ip);
        if writei(&mut g, false, pa + done, (off + done) as u32, chunk as u32) != chunk as i32 {
            break;
        }
        done += chunk;
    }
}

/// Unmaps every mapping of `p` (exit, exec), writing shared pages back.
pub fn unmap_all(p: *mut Proc) {
    for i in 0..NVMA {
        // SAFETY: the VMA table is private to the process.
        let v = unsafe { (*p).vma[i] };
        if v.used != 0 {
            let _ = unmap(p, v.addr, v.len);
        }
    }
}

/// fork: the child `np` gets the mappings of `p`, each with its own file reference.
pub fn copy_vmas(p: *mut Proc, np: *mut Proc) {
    for i in 0..NVMA {
        // SAFETY: p is the running process and np has not run yet: both tables are ours.
        unsafe {
            let v = (*p).vma[i];
            if v.used != 0 {
                (*np).vma[i] = Vma {
                    file: filedup(v.file),
                    ..v
                };
            }
        }
    }
}

/// A fault at `va` in one of `p`'s mappings: reads the page in from the file and maps it.
/// Err if `va` is in no mapping or the access is not allowed (a store to a read-only
/// mapping), or memory ran out.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn mmap_fault(p: *mut Proc, va: u64, write: bool) -> Result<(), ()> {
    // SAFETY: the VMA table and the page table are private to the running process.
    let (v, pagetable) = unsafe {
        let v = *(*p).vma.iter().find(|v| v.contains(va)).ok_or(())?;
        (v, (*p).pagetable)
    };
    if (write && v.prot & PROT_WRITE == 0) || (!write && v.prot & PROT_READ == 0) {
        return Err(());
    }
    let page = pgrounddown(va);
    let mem = kalloc();
    if mem.is_null() {
        return Err(());
    }
    // SAFETY: a fresh page.
    unsafe { core::ptr::write_bytes(mem, 0, PGSIZE as usize) };
    let off = v.off + (page - v.addr);
    {
        // SAFETY: the mapping holds a reference to the file, whose ip is fixed while open.
        let mut g = ilock(unsafe { (*v.file).ip });
        // A short read at the end of the file leaves the rest of the page zero.
        if readi(&mut g, false, mem as u64, off as u32, PGSIZE as u32) < 0 {
            drop(g);
            kfree(mem);
            return Err(());
        }
    }
    let mut perm = PTE_U;
    for (bit, pte) in [(PROT_READ, PTE_R), (PROT_WRITE, PTE_W), (PROT_EXEC, PTE_X)] {
        if v.prot & bit != 0 {
            perm |= pte;
        }
    }
    if mappages(pagetable, page, PGSIZE, mem as u64, perm).is_err() {
        kfree(mem);
        return Err(());
    }
    Ok(())
}
