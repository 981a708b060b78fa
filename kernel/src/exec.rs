//! exec: replace the calling process's memory with a program loaded from an ELF file.
//!
//! Interface: `exec(path, argv)` returns argc (which the system call puts in a0, the first
//! argument of `main`) or -1; on failure the old image is untouched.
//!
//! What it builds (as xv6-riscv): a fresh page table (`proc_pagetable`: trampoline and
//! trapframe mapped), every `PT_LOAD` segment of the ELF64 RISC-V file at its virtual
//! address (which must be page-aligned; permissions from the segment flags: X and W, plus R
//! and U which `uvmalloc` adds), then at the next page boundary one inaccessible guard page
//! and one stack page. The stack holds the argument strings (each 16-byte aligned) and, below
//! them, the NULL-terminated `argv[]` pointer array; sp points at that array, and a1 too.
//! Only after everything succeeded does the process switch to the new page table and free
//! the old one.
//!
//! Locking: the program file is read inside one log operation with its inode locked; the
//! operation ends before the stack is built. The process's own fields (pagetable, sz,
//! trapframe, name) are only written by the process itself.

use core::ptr::null_mut;

use abi::memlayout::PGSIZE;
use abi::param::MAXARG;

use crate::fs::{Inode, lookup, readi, readi_kernel};
use crate::lab::{self, MMAP, VMPRINT};
use crate::log::Op;
use crate::proc::{myproc, proc_freepagetable, proc_pagetable};
use crate::vm::{PTE_W, PTE_X, Pagetable, copyout, uvmalloc, uvmclear, vmprint, walkaddr};

/// "\x7fELF" as a little-endian u32.
const ELF_MAGIC: u32 = 0x464c_457f;
/// Program header type of a loadable segment.
const PT_LOAD: u32 = 1;
/// Segment flag bits.
const PF_X: u32 = 1;
const PF_W: u32 = 2;

/// The ELF64 file header.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct ElfHdr {
    magic: u32,
    elf: [u8; 12],
    typ: u16,
    machine: u16,
    version: u32,
    entry: u64,
    phoff: u64,
    shoff: u64,
    flags: u32,
    ehsize: u16,
    phentsize: u16,
    phnum: u16,
    shentsize: u16,
    shnum: u16,
    shstrndx: u16,
}

/// An ELF64 program header.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct ProgHdr {
    typ: u32,
    flags: u32,
    off: u64,
    vaddr: u64,
    paddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

const _: () = assert!(size_of::<ElfHdr>() == 64 && size_of::<ProgHdr>() == 56);

/// Page permissions for a segment's ELF flags.
fn flags2perm(flags: u32) -> u64 {
    let mut perm = 0;
    if flags & PF_X != 0 {
        perm |= PTE_X;
    }
    if flags & PF_W != 0 {
        perm |= PTE_W;
    }
    perm
}

/// Reads a plain `#[repr(C)]` header of type `T` at offset `off`.
fn read_struct<T: Default>(ip: &mut Inode, off: u64) -> Option<T> {
    let mut v = T::default();
    let n = size_of::<T>();
    let off = u32::try_from(off).ok()?;
    // SAFETY: T is one of the integer-only header structs above; any bytes are valid.
    let bytes = unsafe { core::slice::from_raw_parts_mut(&raw mut v as *mut u8, n) };
    (readi_kernel(ip, bytes, off) == n as i32).then_some(v)
}

/// Copies `sz` bytes at file offset `offset` to virtual address `va` (page-aligned, already
/// mapped) of `pagetable`.
fn loadseg(pagetable: Pagetable, va: u64, ip: &mut Inode, offset: u32, sz: u32) -> Option<()> {
    let mut i = 0u32;
    while i < sz {
        let pa = walkaddr(pagetable, va + i as u64);
        if pa == 0 {
            panic!("loadseg: address should exist");
        }
        let n = (sz - i).min(PGSIZE as u32);
        if readi(ip, false, pa, offset + i, n) != n as i32 {
            return None;
        }
        i += PGSIZE as u32;
    }
    Some(())
}

/// Loads the program's segments into `pagetable`, growing `*sz`; returns the entry point.
fn load(path: &[u8], pagetable: &mut Pagetable, sz: &mut u64) -> Option<u64> {
    let _op = Op::begin();
    let ip = lookup(path)?;
    let mut ip = ip.lock_owned();

    let elf: ElfHdr = read_struct(&mut ip, 0)?;
    if elf.magic != ELF_MAGIC {
        return None;
    }
    *pagetable = proc_pagetable(myproc());
    if pagetable.is_null() {
        return None;
    }

    for i in 0..elf.phnum as u64 {
        let ph: ProgHdr = read_struct(&mut ip, elf.phoff + i * size_of::<ProgHdr>() as u64)?;
        if ph.typ != PT_LOAD {
            continue;
        }
        if ph.memsz < ph.filesz || ph.vaddr.checked_add(ph.memsz).is_none() {
            return None;
        }
        if !ph.vaddr.is_multiple_of(PGSIZE) {
            return None;
        }
        let (Ok(off), Ok(filesz)) = (u32::try_from(ph.off), u32::try_from(ph.filesz)) else {
            return None;
        };
        *sz = uvmalloc(*pagetable, *sz, ph.vaddr + ph.memsz, flags2perm(ph.flags)).ok()?;
        loadseg(*pagetable, ph.vaddr, &mut ip, off, filesz)?;
    }
    Some(elf.entry)
}

/// Builds the guard page, the stack and the arguments on it; returns the final sp.
fn setup_stack(pagetable: Pagetable, sz: &mut u64, argv: &[&[u8]]) -> Option<u64> {
    let base = sz.next_multiple_of(PGSIZE);
    *sz = uvmalloc(pagetable, base, base + 2 * PGSIZE, PTE_W).ok()?;
    uvmclear(pagetable, *sz - 2 * PGSIZE); // the guard page: no user access
    let mut sp = *sz;
    let stackbase = sp - PGSIZE;

    if argv.len() > MAXARG {
        return None;
    }
    let mut ustack = [0u64; MAXARG + 1];
    for (k, arg) in argv.iter().enumerate() {
        sp = sp.checked_sub(arg.len() as u64 + 1)?;
        sp -= sp % 16; // the RISC-V ABI keeps sp 16-byte aligned
        if sp < stackbase {
            return None;
        }
        copyout(pagetable, sp, arg).ok()?;
        copyout(pagetable, sp + arg.len() as u64, &[0]).ok()?;
        ustack[k] = sp;
    }
    ustack[argv.len()] = 0;

    let n = (argv.len() + 1) * size_of::<u64>();
    sp = sp.checked_sub(n as u64)?;
    sp -= sp % 16;
    if sp < stackbase {
        return None;
    }
    // SAFETY: ustack is an array of u64; its first n bytes are initialised.
    let bytes = unsafe { core::slice::from_raw_parts(ustack.as_ptr() as *const u8, n) };
    copyout(pagetable, sp, bytes).ok()?;
    Some(sp)
}

/// Runs the program at `path` with arguments `argv` in the calling process.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn exec(path: &[u8], argv: &[&[u8]]) -> i64 {
    let mut pagetable: Pagetable = null_mut();
    let mut sz = 0u64;

    let loaded = load(path, &mut pagetable, &mut sz)
        .and_then(|entry| Some((entry, setup_stack(pagetable, &mut sz, argv)?)));
    let Some((entry, sp)) = loaded else {
        if !pagetable.is_null() {
            proc_freepagetable(pagetable, sz);
        }
        return -1;
    };

    let p = myproc();
    if lab::on(MMAP) {
        // The mappings belong to the old image (their pages are in the old page table).
        crate::mmap::unmap_all(p);
    }
    // SAFETY: the process is running this code; nobody else writes these fields.
    unsafe {
        // Name the process after the last path element, for debugging.
        let path = match path.iter().position(|&c| c == 0) {
            Some(end) => &path[..end],
            None => path,
        };
        let last = match path.iter().rposition(|&c| c == b'/') {
            Some(i) => &path[i + 1..],
            None => path,
        };
        let name = &mut (*p).name;
        let n = last.len().min(name.len() - 1);
        name[..n].copy_from_slice(&last[..n]);
        name[n..].fill(0);

        let oldpagetable = (*p).pagetable;
        let oldsz = (*p).sz;
        (*p).pagetable = pagetable;
        (*p).sz = sz;
        (*(*p).trapframe).epc = entry; // start at the ELF entry point (main)
        (*(*p).trapframe).sp = sp;
        (*(*p).trapframe).a1 = sp; // argv; argc goes to a0 as our return value
        proc_freepagetable(oldpagetable, oldsz);
        // The old image's alarm handler is gone with it (alarm lab).
        (*p).alarm_interval = 0;
        (*p).alarm_active = 0;
        if lab::on(VMPRINT) && (*p).pid == 1 {
            // The pgtbl lab: init's first page table, as the handout prints it.
            vmprint((*p).pagetable);
        }
    }
    argv.len() as i64
}
