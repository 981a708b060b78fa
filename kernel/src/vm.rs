//! Virtual memory: Sv39 page tables for the kernel and for user processes, and copying
//! between kernel memory and user address spaces.
//!
//! Kernel address space (`kvmmake`), identity-mapped except the top:
//! UART0, VIRTIO0, PLIC (RW); kernel text `KERNBASE..etext` (RX); kernel data and all free RAM
//! `etext..PHYSTOP` (RW); the trampoline page at `TRAMPOLINE` (RX); each process's kernel
//! stack below it with an unmapped guard page beneath (`proc_mapstacks`).
//!
//! User address space: text, data, guard page, stack, heap from 0 up to `sz`, all `PTE_U`;
//! the trapframe at `TRAPFRAME` (RW, no U) and the trampoline at `TRAMPOLINE` (RX, no U).
//!
//! Interface: page tables are `Pagetable` (physical address of the root page; the kernel
//! reaches all RAM through the identity map). `walk`/`walkaddr`/`mappages`/`uvmunmap` work on
//! single mappings; `uvmcreate/uvmfirst/uvmalloc/uvmdealloc/uvmcopy/uvmfree/uvmclear` manage a
//! user space; `copyout/copyin/copyinstr` move bytes across, failing (never panicking) on a
//! bad user address. Errors are `Err(())` (the system call returns -1).
//!
//! Invariants: a page-table page belongs to exactly one table; leaves of user space below `sz`
//! own their physical pages (freed by `uvmunmap(.., do_free)`), the trapframe and trampoline
//! leaves do not. The caller serialises changes to a user table (it belongs to one process
//! and only that process, or its parent before it runs, changes it).
//!
//! Lab options (`lab.rs`) relax two of these. With copy-on-write, a user leaf may share its
//! page with other tables (`uvmcopy`): "own" then means "hold one reference", and a shared
//! writable page is mapped without W and with `PTE_COW` until `cow_fault` splits it. With
//! lazy sbrk (and mmap), pages below `sz` (or in a mapping) may be missing until the first
//! fault on them: `fault_in` makes them present, from `usertrap` and from the copy
//! functions, and `uvmunmap`/`uvmcopy` skip the missing ones. The kpgtbl option adds a
//! kernel page table per process (`kvmcreate_proc`): its own root and top-gigabyte tables,
//! the kernel's tables below that shared, never freed with it.
//!
//! `vmprint` prints a table in the pgtbl lab's format.

use crate::kalloc::{kalloc, kfree, kref_get, kref_inc};
use crate::lab::{self, COW, LAZY, MMAP};
use crate::proc::myproc;
use crate::riscv::{
    PGSIZE, make_satp, pa2pte, pgrounddown, pgroundup, pte_flags, pte2pa, px, sfence_vma, w_satp,
};
pub use crate::riscv::{PTE_A, PTE_COW, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X};
use crate::spinlock::Shared;
use abi::memlayout::{KERNBASE, MAXVA, PHYSTOP, PLIC, TRAMPOLINE, UART0, VIRTIO0};
use core::ptr::null_mut;

/// A page table: the physical (= kernel virtual) address of its root page of 512 PTEs.
pub type Pagetable = *mut u64;

/// Bytes mapped by one level-0 page-table page (512 pages).
const LEVEL0_SPAN: u64 = 512 * PGSIZE;

unsafe extern "C" {
    /// End of kernel text (kernel.ld).
    static etext: u8;
    /// Start of the trampoline page (kernel.ld, trampoline.rs).
    static trampoline: u8;
}

/// The kernel's page table. Written once by `kvminit` on hart 0 before other harts start.
#[unsafe(no_mangle)]
pub static kernel_pagetable: Shared<Pagetable> = Shared::new(null_mut());

fn etext_addr() -> u64 {
    &raw const etext as u64
}
pub fn trampoline_addr() -> u64 {
    &raw const trampoline as u64
}

fn kvmmake() -> Pagetable {
    let kpgtbl = kalloc() as Pagetable;
    if kpgtbl.is_null() {
        panic!("kvmmake");
    }
    // SAFETY: a fresh page we own.
    unsafe { core::ptr::write_bytes(kpgtbl as *mut u8, 0, PGSIZE as usize) };
    kvmmap(kpgtbl, UART0, UART0, PGSIZE, PTE_R | PTE_W);
    kvmmap(kpgtbl, VIRTIO0, VIRTIO0, PGSIZE, PTE_R | PTE_W);
    kvmmap(kpgtbl, PLIC, PLIC, 0x40_0000, PTE_R | PTE_W);
    kvmmap(
        kpgtbl,
        KERNBASE,
        KERNBASE,
        etext_addr() - KERNBASE,
        PTE_R | PTE_X,
    );
    kvmmap(
        kpgtbl,
        etext_addr(),
        etext_addr(),
        PHYSTOP - etext_addr(),
        PTE_R | PTE_W,
    );
    kvmmap(kpgtbl, TRAMPOLINE, trampoline_addr(), PGSIZE, PTE_R | PTE_X);
    crate::proc::proc_mapstacks(kpgtbl);
    kpgtbl
}

/// Builds the kernel page table (hart 0, once).
pub fn kvminit() {
    // SAFETY: single-threaded boot; other harts wait for hart 0 before reading it.
    unsafe { *kernel_pagetable.get() = kvmmake() };
}

/// Switches this hart to the kernel page table and turns paging on.
pub fn kvminithart() {
    // SAFETY: written once by kvminit before any hart gets here.
    kvminstall(unsafe { *kernel_pagetable.get() });
}

/// Installs kernel page table `kpgtbl` on this hart: the kernel's, or (kpgtbl lab option)
/// a process's copy of it.
pub fn kvminstall(kpgtbl: Pagetable) {
    // Order earlier page-table writes before translation uses them.
    sfence_vma();
    // SAFETY: every kernel page table identity-maps the running code, data and the boot
    // stacks; a process's maps its own kernel stack, and only it runs on that table.
    unsafe { w_satp(make_satp(kpgtbl as u64)) };
    sfence_vma();
}

/// The root index of the top gigabyte of the address space: the trampoline and the
/// kernel stacks.
const TOP_INDEX: usize = px(2, TRAMPOLINE);

/// The 2020 pgtbl lab (`lab::KPGTBL`): a kernel page table for one process, whose kernel
/// stack (`KSTACK_PAGES` from `kstack`) is the only one it maps. It shares the kernel's
/// tables below the root for everything under the top gigabyte (devices, kernel text and
/// data, all RAM: the same mappings in every process), and has its own tables for the top
/// gigabyte, with the trampoline and that one stack. Null if memory ran out.
pub fn kvmcreate_proc(kstack: u64) -> Pagetable {
    let root = uvmcreate();
    if root.is_null() {
        return null_mut();
    }
    // SAFETY: kernel_pagetable is written once at boot; both roots are 512-entry pages.
    let kernel = unsafe { *kernel_pagetable.get() };
    for i in 0..TOP_INDEX {
        // SAFETY: as above.
        unsafe { *root.add(i) = *kernel.add(i) };
    }
    let ok = mappages(root, TRAMPOLINE, PGSIZE, trampoline_addr(), PTE_R | PTE_X).is_ok()
        && (0..crate::proc::KSTACK_PAGES).all(|i| {
            let va = kstack + i * PGSIZE;
            let pa = pte2pa(pte_at(walk(kernel, va, false)));
            pa != 0 && mappages(root, va, PGSIZE, pa, PTE_R | PTE_W).is_ok()
        });
    if !ok {
        kvmfree_proc(root);
        return null_mut();
    }
    root
}

/// The PTE at `pte`, or 0 for a missing one.
fn pte_at(pte: *mut u64) -> u64 {
    // SAFETY: a live PTE when not null.
    if pte.is_null() { 0 } else { unsafe { *pte } }
}

/// Frees a process's kernel page table: its root and its own tables for the top gigabyte,
/// none of the pages they map (those belong to the kernel).
pub fn kvmfree_proc(root: Pagetable) {
    // SAFETY: the root is a 512-entry page; entries below TOP_INDEX are the kernel's tables.
    let top = unsafe { *root.add(TOP_INDEX) };
    if top & PTE_V != 0 {
        let l1 = pte2pa(top) as Pagetable;
        for i in 0..512 {
            // SAFETY: a level-1 page of this table.
            let e = unsafe { *l1.add(i) };
            if e & PTE_V != 0 {
                kfree(pte2pa(e) as *mut u8);
            }
        }
        kfree(l1 as *mut u8);
    }
    kfree(root as *mut u8);
}

/// The address of the level-0 PTE for `va`, creating page-table pages if `alloc`.
/// Null if a page is missing (and !alloc) or memory ran out.
pub fn walk(mut pagetable: Pagetable, va: u64, alloc: bool) -> *mut u64 {
    if va >= MAXVA {
        panic!("walk");
    }
    for level in [2, 1] {
        // SAFETY: `pagetable` is a page-table page (512 entries) reached from the root.
        unsafe {
            let pte = pagetable.add(px(level, va));
            if *pte & PTE_V != 0 {
                pagetable = pte2pa(*pte) as Pagetable;
            } else {
                if !alloc {
                    return null_mut();
                }
                let p = kalloc() as Pagetable;
                if p.is_null() {
                    return null_mut();
                }
                core::ptr::write_bytes(p as *mut u8, 0, PGSIZE as usize);
                *pte = pa2pte(p as u64) | PTE_V;
                pagetable = p;
            }
        }
    }
    // SAFETY: as above, level-0 page.
    unsafe { pagetable.add(px(0, va)) }
}

/// The physical address `va` maps to, if it is a valid user page; else 0.
pub fn walkaddr(pagetable: Pagetable, va: u64) -> u64 {
    if va >= MAXVA {
        return 0;
    }
    let pte = walk(pagetable, va, false);
    if pte.is_null() {
        return 0;
    }
    // SAFETY: walk returned a PTE inside a live page-table page.
    let pte = unsafe { *pte };
    if pte & PTE_V == 0 || pte & PTE_U == 0 {
        return 0;
    }
    pte2pa(pte)
}

/// Adds a mapping to the kernel table during boot; panics on failure.
pub fn kvmmap(kpgtbl: Pagetable, va: u64, pa: u64, sz: u64, perm: u64) {
    if mappages(kpgtbl, va, sz, pa, perm).is_err() {
        panic!("kvmmap");
    }
}

/// Maps `[va, va+size)` to `[pa, ..)` with `perm`. `va` and `size` need not be aligned.
/// Fails if a page-table page cannot be allocated; remapping a valid page is a kernel bug.
pub fn mappages(
    pagetable: Pagetable,
    va: u64,
    size: u64,
    mut pa: u64,
    perm: u64,
) -> Result<(), ()> {
    if size == 0 {
        panic!("mappages: size");
    }
    let mut a = pgrounddown(va);
    let last = pgrounddown(va + size - 1);
    loop {
        let pte = walk(pagetable, a, true);
        if pte.is_null() {
            return Err(());
        }
        // SAFETY: a live PTE slot from walk.
        unsafe {
            if *pte & PTE_V != 0 {
                panic!("mappages: remap");
            }
            *pte = pa2pte(pa) | perm | PTE_V;
        }
        if a == last {
            break;
        }
        a += PGSIZE;
        pa += PGSIZE;
    }
    Ok(())
}

/// Removes `npages` mappings from `va` (aligned); they must exist, unless a lab option
/// leaves pages unmapped until used (lazy sbrk, mmap), when missing ones are skipped. Frees
/// the pages if `do_free` (with copy-on-write: drops a reference).
pub fn uvmunmap(pagetable: Pagetable, va: u64, npages: u64, do_free: bool) {
    if !va.is_multiple_of(PGSIZE) {
        panic!("uvmunmap: not aligned");
    }
    let sparse = lab::on(LAZY);
    let end = va + npages * PGSIZE;
    let mut a = va;
    while a < end {
        let pte = walk(pagetable, a, false);
        if pte.is_null() {
            if sparse {
                // No level-0 table here: nothing is mapped up to the next 2 MiB boundary.
                a = (a | (LEVEL0_SPAN - 1)) + 1;
                continue;
            }
            panic!("uvmunmap: walk");
        }
        // SAFETY: live PTE slot.
        unsafe {
            if *pte & PTE_V == 0 {
                if sparse {
                    a += PGSIZE;
                    continue;
                }
                panic!("uvmunmap: not mapped");
            }
            if pte_flags(*pte) == PTE_V {
                panic!("uvmunmap: not a leaf");
            }
            if do_free {
                kfree(pte2pa(*pte) as *mut u8);
            }
            *pte = 0;
        }
        a += PGSIZE;
    }
}

/// An empty user page table, or null.
pub fn uvmcreate() -> Pagetable {
    let p = kalloc() as Pagetable;
    if !p.is_null() {
        // SAFETY: fresh page.
        unsafe { core::ptr::write_bytes(p as *mut u8, 0, PGSIZE as usize) };
    }
    p
}

/// Loads the first process's code at address 0 (`src` fits in one page).
pub fn uvmfirst(pagetable: Pagetable, src: &[u8]) {
    if src.len() as u64 >= PGSIZE {
        panic!("uvmfirst: more than a page");
    }
    let mem = kalloc();
    if mem.is_null() {
        panic!("uvmfirst: kalloc");
    }
    // SAFETY: fresh page, src shorter than a page.
    unsafe {
        core::ptr::write_bytes(mem, 0, PGSIZE as usize);
        core::ptr::copy_nonoverlapping(src.as_ptr(), mem, src.len());
    }
    if mappages(
        pagetable,
        0,
        PGSIZE,
        mem as u64,
        PTE_W | PTE_R | PTE_X | PTE_U,
    )
    .is_err()
    {
        panic!("uvmfirst: mappages");
    }
}

/// Grows a process from `oldsz` to `newsz` bytes with zeroed pages mapped R|U|`xperm`.
/// Returns the new size; on failure undoes its work.
pub fn uvmalloc(pagetable: Pagetable, oldsz: u64, newsz: u64, xperm: u64) -> Result<u64, ()> {
    if newsz < oldsz {
        return Ok(oldsz);
    }
    let mut a = pgroundup(oldsz);
    while a < newsz {
        let mem = kalloc();
        if mem.is_null() {
            uvmdealloc(pagetable, a, oldsz);
            return Err(());
        }
        // SAFETY: fresh page.
        unsafe { core::ptr::write_bytes(mem, 0, PGSIZE as usize) };
        if mappages(pagetable, a, PGSIZE, mem as u64, PTE_R | PTE_U | xperm).is_err() {
            kfree(mem);
            uvmdealloc(pagetable, a, oldsz);
            return Err(());
        }
        a += PGSIZE;
    }
    Ok(newsz)
}

/// Shrinks a process from `oldsz` to `newsz`, freeing pages. Returns the new size.
pub fn uvmdealloc(pagetable: Pagetable, oldsz: u64, newsz: u64) -> u64 {
    if newsz >= oldsz {
        return oldsz;
    }
    if pgroundup(newsz) < pgroundup(oldsz) {
        let npages = (pgroundup(oldsz) - pgroundup(newsz)) / PGSIZE;
        uvmunmap(pagetable, pgroundup(newsz), npages, true);
    }
    newsz
}

/// Frees the page-table pages of a table whose leaves are already removed.
fn freewalk(pagetable: Pagetable) {
    for i in 0..512 {
        // SAFETY: a live page-table page of 512 entries.
        unsafe {
            let pte = *pagetable.add(i);
            if pte & PTE_V != 0 && pte & (PTE_R | PTE_W | PTE_X) == 0 {
                // Points to a lower-level page-table page.
                freewalk(pte2pa(pte) as Pagetable);
                *pagetable.add(i) = 0;
            } else if pte & PTE_V != 0 {
                panic!("freewalk: leaf");
            }
        }
    }
    kfree(pagetable as *mut u8);
}

/// Frees user memory `[0, sz)` and then the page-table pages.
pub fn uvmfree(pagetable: Pagetable, sz: u64) {
    if sz > 0 {
        uvmunmap(pagetable, 0, pgroundup(sz) / PGSIZE, true);
    }
    freewalk(pagetable);
}

/// Copies a parent's memory `[0, sz)` (page tables and contents) into `new` for fork.
/// On failure frees what it allocated.
///
/// With copy-on-write (`lab::COW`) no page is copied: the child maps the parent's physical
/// pages, each gains a reference, and pages that were writable lose `PTE_W` and gain
/// `PTE_COW` in both tables, so the first store by either process faults into `cow_fault`.
/// With lazy sbrk, pages the parent never touched are not there to copy or share.
pub fn uvmcopy(old: Pagetable, new: Pagetable, sz: u64) -> Result<(), ()> {
    let cow = lab::on(COW);
    let lazy = lab::on(LAZY);
    let mut i = 0;
    while i < sz {
        let ptep = walk(old, i, false);
        if ptep.is_null() {
            if lazy {
                i = (i | (LEVEL0_SPAN - 1)) + 1;
                continue;
            }
            panic!("uvmcopy: pte should exist");
        }
        // SAFETY: live PTE.
        let pte = unsafe { *ptep };
        if pte & PTE_V == 0 {
            if lazy {
                i += PGSIZE;
                continue;
            }
            panic!("uvmcopy: page not present");
        }
        let pa = pte2pa(pte);
        let mut flags = pte_flags(pte);
        if cow {
            if flags & PTE_W != 0 {
                flags = (flags & !PTE_W) | PTE_COW;
                // SAFETY: live PTE of the parent, which is the running process (or its
                // table is not in use); the fence below drops its stale writable entry.
                unsafe { *ptep = pa2pte(pa) | flags };
            }
            if mappages(new, i, PGSIZE, pa, flags).is_err() {
                uvmunmap(new, 0, i / PGSIZE, true);
                sfence_vma();
                return Err(());
            }
            kref_inc(pa);
            i += PGSIZE;
            continue;
        }
        let mem = kalloc();
        if mem.is_null() {
            uvmunmap(new, 0, i / PGSIZE, true);
            return Err(());
        }
        // SAFETY: fresh page; pa is a user page of the parent.
        unsafe { core::ptr::copy_nonoverlapping(pa as *const u8, mem, PGSIZE as usize) };
        if mappages(new, i, PGSIZE, mem as u64, flags).is_err() {
            kfree(mem);
            uvmunmap(new, 0, i / PGSIZE, true);
            return Err(());
        }
        i += PGSIZE;
    }
    if cow {
        sfence_vma();
    }
    Ok(())
}

/// Resolves a store to the copy-on-write page at `va`: the process gets a private copy,
/// mapped writable (or, when it is the page's last sharer, the page itself becomes
/// writable again), and the shared page loses a reference. Err if `va` is not a
/// copy-on-write user page (a store to text must still kill) or memory ran out.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn cow_fault(pagetable: Pagetable, va: u64) -> Result<(), ()> {
    if va >= MAXVA {
        return Err(());
    }
    let ptep = walk(pagetable, va, false);
    if ptep.is_null() {
        return Err(());
    }
    // SAFETY: live PTE of the current process's table.
    let pte = unsafe { *ptep };
    if pte & (PTE_V | PTE_U | PTE_COW) != PTE_V | PTE_U | PTE_COW {
        return Err(());
    }
    let pa = pte2pa(pte);
    let flags = (pte_flags(pte) | PTE_W) & !PTE_COW;
    if kref_get(pa) == 1 {
        // Nobody else maps it any more: take it over.
        // SAFETY: live PTE.
        unsafe { *ptep = pa2pte(pa) | flags };
    } else {
        let mem = kalloc();
        if mem.is_null() {
            return Err(());
        }
        // SAFETY: a fresh page; pa is the shared user page, still mapped and referenced.
        unsafe {
            core::ptr::copy_nonoverlapping(pa as *const u8, mem, PGSIZE as usize);
            *ptep = pa2pte(mem as u64) | flags;
        }
        kfree(pa as *mut u8);
    }
    sfence_vma();
    Ok(())
}

/// Maps a zeroed page at `va` (read, write, user) for lazy sbrk. Err if memory ran out.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn lazy_alloc(pagetable: Pagetable, va: u64) -> Result<(), ()> {
    let mem = kalloc();
    if mem.is_null() {
        return Err(());
    }
    // SAFETY: fresh page.
    unsafe { core::ptr::write_bytes(mem, 0, PGSIZE as usize) };
    if mappages(
        pagetable,
        pgrounddown(va),
        PGSIZE,
        mem as u64,
        PTE_R | PTE_W | PTE_U,
    )
    .is_err()
    {
        kfree(mem);
        return Err(());
    }
    Ok(())
}

/// Makes user page `va` of the current process usable for a load (`write` false) or a
/// store when a lab option deferred it: a store to a copy-on-write page copies it, a page of
/// the lazy heap (below `sz`, never mapped) is allocated, a page of an mmap'd file is read
/// in. Called from `usertrap` on page faults and by the copy functions before they touch
/// user memory. Err when the access is bad (the process is then killed, or the system call
/// fails) or memory ran out.
pub fn fault_in(va: u64, write: bool) -> Result<(), ()> {
    let p = myproc();
    if p.is_null() || va >= MAXVA {
        return Err(());
    }
    // SAFETY: pagetable and sz are private to the running process.
    let (pagetable, sz) = unsafe { ((*p).pagetable, (*p).sz) };
    let ptep = walk(pagetable, va, false);
    // SAFETY: a live PTE when not null.
    let present = !ptep.is_null() && unsafe { *ptep } & PTE_V != 0;
    if present {
        if write && lab::on(COW) {
            return cow_fault(pagetable, va);
        }
        return Err(());
    }
    if lab::on(LAZY) && va < sz {
        return lazy_alloc(pagetable, va);
    }
    if lab::on(MMAP) {
        return crate::mmap::mmap_fault(p, va, write);
    }
    Err(())
}

/// Makes the page at `va` inaccessible to user mode (exec's stack guard page).
pub fn uvmclear(pagetable: Pagetable, va: u64) {
    let pte = walk(pagetable, va, false);
    if pte.is_null() {
        panic!("uvmclear");
    }
    // SAFETY: live PTE.
    unsafe { *pte &= !PTE_U };
}

/// The physical address of user page `va0`, requiring `need` permission bits too. In the
/// current process's table, a page a lab option deferred (`fault_in`) is made present first.
fn user_page(pagetable: Pagetable, va0: u64, need: u64) -> Result<u64, ()> {
    if va0 >= MAXVA {
        return Err(());
    }
    let mut ptep = walk(pagetable, va0, false);
    if lab::on(COW | LAZY | MMAP) && deferred(pagetable, ptep, need) {
        fault_in(va0, need & PTE_W != 0)?;
        ptep = walk(pagetable, va0, false);
    }
    if ptep.is_null() {
        return Err(());
    }
    // SAFETY: live PTE.
    let pte = unsafe { *ptep };
    if pte & (PTE_V | PTE_U | need) != PTE_V | PTE_U | need {
        return Err(());
    }
    Ok(pte2pa(pte))
}

/// Is the page behind `ptep` (in `pagetable`, needing `need`) one that `fault_in` would
/// make usable: not present, or copy-on-write for a store, in the current process's table?
fn deferred(pagetable: Pagetable, ptep: *mut u64, need: u64) -> bool {
    let p = myproc();
    // SAFETY: the current process's pagetable field is private to it.
    if p.is_null() || unsafe { (*p).pagetable } != pagetable {
        return false;
    }
    // SAFETY: a live PTE when not null.
    let pte = if ptep.is_null() { 0 } else { unsafe { *ptep } };
    pte & PTE_V == 0 || (need & PTE_W != 0 && pte & PTE_COW != 0)
}

/// Copies `src` to user address `dstva`; the pages must be user-writable.
pub fn copyout(pagetable: Pagetable, mut dstva: u64, mut src: &[u8]) -> Result<(), ()> {
    while !src.is_empty() {
        let va0 = pgrounddown(dstva);
        let pa0 = user_page(pagetable, va0, PTE_W)?;
        let n = (PGSIZE - (dstva - va0)).min(src.len() as u64) as usize;
        // SAFETY: pa0 is a user page the table maps; n stays inside it.
        unsafe { core::ptr::copy(src.as_ptr(), (pa0 + (dstva - va0)) as *mut u8, n) };
        src = &src[n..];
        dstva = va0 + PGSIZE;
    }
    Ok(())
}

/// Fills `dst` from user address `srcva`.
pub fn copyin(pagetable: Pagetable, dst: &mut [u8], mut srcva: u64) -> Result<(), ()> {
    let mut off = 0;
    while off < dst.len() {
        let va0 = pgrounddown(srcva);
        let pa0 = user_page(pagetable, va0, 0)?;
        let n = (PGSIZE - (srcva - va0)).min((dst.len() - off) as u64) as usize;
        // SAFETY: pa0 is a mapped user page; n stays inside it and inside dst.
        unsafe {
            core::ptr::copy(
                (pa0 + (srcva - va0)) as *const u8,
                dst.as_mut_ptr().add(off),
                n,
            )
        };
        off += n;
        srcva = va0 + PGSIZE;
    }
    Ok(())
}

/// Copies a NUL-terminated string from user address `srcva` into `dst` (NUL included).
/// Returns its length without the NUL; fails if no NUL fits in `dst`.
pub fn copyinstr(pagetable: Pagetable, dst: &mut [u8], mut srcva: u64) -> Result<usize, ()> {
    let mut off = 0;
    while off < dst.len() {
        let va0 = pgrounddown(srcva);
        let pa0 = user_page(pagetable, va0, 0)?;
        let mut n = PGSIZE - (srcva - va0);
        let mut p = (pa0 + (srcva - va0)) as *const u8;
        while n > 0 && off < dst.len() {
            // SAFETY: p stays inside the mapped user page (n counts what is left of it).
            let c = unsafe { *p };
            dst[off] = c;
            if c == 0 {
                return Ok(off);
            }
            off += 1;
            n -= 1;
            // SAFETY: see above.
            p = unsafe { p.add(1) };
        }
        srcva = va0 + PGSIZE;
    }
    Err(())
}

/// The pgtbl lab's vmprint: `page table ROOT`, then every valid PTE depth first, one line
/// each, ` ..` per level, the index, the PTE and the physical address it points at (the
/// format of the 2021-2023 handouts, which `mon vmprint` in the debugger also prints).
pub fn vmprint(pagetable: Pagetable) {
    crate::println!("page table {:#018x}", pagetable as u64);
    vmprint_table(pagetable, 1);
}

fn vmprint_table(table: Pagetable, depth: usize) {
    for i in 0..512 {
        // SAFETY: a live page-table page of 512 entries.
        let pte = unsafe { *table.add(i) };
        if pte & PTE_V == 0 {
            continue;
        }
        let dots = &" .. .. .."[..3 * depth];
        crate::println!("{dots}{i}: pte {pte:#018x} pa {:#018x}", pte2pa(pte));
        if pte & (PTE_R | PTE_W | PTE_X) == 0 && depth < 3 {
            vmprint_table(pte2pa(pte) as Pagetable, depth + 1);
        }
    }
}
