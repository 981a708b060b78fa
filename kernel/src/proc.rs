//! Processes, CPUs and the scheduler.
//!
//! Interface: `procinit`, `userinit` (boot); `fork`, `exit`, `wait`, `kill`, `growproc`
//! (system calls); `sleep`/`wakeup` (condition waiting on a channel, any `usize`, by custom
//! the address of the awaited object); `scheduler` (each hart's loop), `sched`/`yield_`
//! (give up the CPU); `myproc`/`mycpu`; `either_copyout`/`either_copyin` (copy to/from a
//! user or kernel address); `procdump` (Ctrl-P).
//!
//! Locking rules (as xv6):
//! - `p.lock` guards `state`, `chan`, `killed`, `xstate` and `pid` of `p`. It is held across
//!   `swtch` in both directions: a process gives the CPU up with its lock held (`sched`), the
//!   scheduler releases it; the scheduler picks a process with its lock held, the process
//!   releases it (in `forkret` the first time, otherwise after `sched` returns). This keeps
//!   `state` and the saved context consistent while no stack owns the process.
//! - `wait_lock` guards every `parent` field and must be taken before any `p.lock`. It also
//!   makes `wait` and `exit` agree: a parent cannot miss the wakeup of a child exiting.
//! - Fields private to the process (`kstack`, `sz`, `pagetable`, `trapframe`, `context`,
//!   `ofile`, `cwd`, `name`, `trace_mask`, and the lab options' fields) are used without a
//!   lock by the process itself, and by others only while the process cannot run
//!   (allocproc/freeproc under `p.lock`).
//! - `sleep(chan, lk)` takes `p.lock` before releasing `lk`, and `wakeup` takes `p.lock` of
//!   every sleeper; so a wakeup after the condition changes (under `lk`) cannot be lost.
//! - A `Cpu` entry is only touched by its own hart with interrupts off.

use crate::file::{File, fileclose, filedup};
use crate::fs::{Inode, fsinit, idup, iput, namei};
use crate::kalloc::{kalloc, kfree};
use crate::lab::{self, KPGTBL, LAZY, MMAP, USYSCALL};
use crate::log::{begin_op, end_op};
use crate::mmap::{self, NVMA, Vma};
use crate::riscv::{PGSIZE, intr_on, r_tp, wfi};
use crate::spinlock::{Shared, Spinlock, pop_off, push_off};
use crate::swtch::swtch;
use crate::trap::usertrapret;
use crate::vm::{
    PTE_R, PTE_U, PTE_W, PTE_X, Pagetable, copyin, copyout, kvmcreate_proc, kvmfree_proc,
    kvminithart, kvminstall, kvmmap, mappages, uvmalloc, uvmcopy, uvmcreate, uvmdealloc, uvmfirst,
    uvmfree, uvmunmap,
};
use abi::memlayout::{TRAMPOLINE, TRAPFRAME, USYSCALL as USYSCALL_VA, Usyscall};
use abi::param::{NCPU, NOFILE, NPROC, ROOTDEV};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Callee-saved registers for kernel context switches (`swtch`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Context {
    pub ra: u64,
    pub sp: u64,
    pub s0: u64,
    pub s1: u64,
    pub s2: u64,
    pub s3: u64,
    pub s4: u64,
    pub s5: u64,
    pub s6: u64,
    pub s7: u64,
    pub s8: u64,
    pub s9: u64,
    pub s10: u64,
    pub s11: u64,
}

impl Context {
    // SAFETY: every field is an integer, for which all-zero bits are a valid value.
    pub const ZERO: Context = unsafe { core::mem::zeroed() };
}

/// Per-hart state.
#[repr(C)]
pub struct Cpu {
    /// The process running on this hart, or null.
    pub proc: *mut Proc,
    /// `swtch` here to enter the scheduler.
    pub context: Context,
    /// Depth of `push_off` nesting.
    pub noff: i32,
    /// Were interrupts enabled before the outermost `push_off`?
    pub intena: i32,
}

#[unsafe(no_mangle)]
pub static cpus: Shared<[Cpu; NCPU]> = Shared::new(
    [const {
        Cpu {
            proc: null_mut(),
            context: Context::ZERO,
            noff: 0,
            intena: 0,
        }
    }; NCPU],
);

/// Saved user registers, in the per-process page mapped at `TRAPFRAME`. The trampoline's
/// `uservec` saves the user registers here and loads `kernel_*`; `userret` restores them.
/// Offsets are fixed by trampoline.rs.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Trapframe {
    /*   0 */ pub kernel_satp: u64,
    /*   8 */ pub kernel_sp: u64,
    /*  16 */ pub kernel_trap: u64,
    /*  24 */ pub epc: u64,
    /*  32 */ pub kernel_hartid: u64,
    /*  40 */ pub ra: u64,
    /*  48 */ pub sp: u64,
    /*  56 */ pub gp: u64,
    /*  64 */ pub tp: u64,
    /*  72 */ pub t0: u64,
    /*  80 */ pub t1: u64,
    /*  88 */ pub t2: u64,
    /*  96 */ pub s0: u64,
    /* 104 */ pub s1: u64,
    /* 112 */ pub a0: u64,
    /* 120 */ pub a1: u64,
    /* 128 */ pub a2: u64,
    /* 136 */ pub a3: u64,
    /* 144 */ pub a4: u64,
    /* 152 */ pub a5: u64,
    /* 160 */ pub a6: u64,
    /* 168 */ pub a7: u64,
    /* 176 */ pub s2: u64,
    /* 184 */ pub s3: u64,
    /* 192 */ pub s4: u64,
    /* 200 */ pub s5: u64,
    /* 208 */ pub s6: u64,
    /* 216 */ pub s7: u64,
    /* 224 */ pub s8: u64,
    /* 232 */ pub s9: u64,
    /* 240 */ pub s10: u64,
    /* 248 */ pub s11: u64,
    /* 256 */ pub t3: u64,
    /* 264 */ pub t4: u64,
    /* 272 */ pub t5: u64,
    /* 280 */ pub t6: u64,
}

const _: () = assert!(core::mem::size_of::<Trapframe>() == 288);

impl Trapframe {
    // SAFETY: every field is an integer, for which all-zero bits are a valid value.
    pub const ZERO: Trapframe = unsafe { core::mem::zeroed() };
}

#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProcState {
    Unused,
    Used,
    Sleeping,
    Runnable,
    Running,
    Zombie,
}

/// Per-process state.
#[repr(C)]
pub struct Proc {
    pub lock: Spinlock,

    // p.lock must be held when using these:
    pub state: ProcState,
    /// If non-zero, sleeping on this channel.
    pub chan: usize,
    /// If non-zero, the process has been killed.
    pub killed: i32,
    /// Exit status, for the parent's wait.
    pub xstate: i32,
    pub pid: i32,

    // wait_lock must be held when using this:
    /// Parent process.
    pub parent: *mut Proc,

    // Private to the process, so p.lock need not be held:
    /// Virtual address of the kernel stack.
    pub kstack: u64,
    /// Size of process memory in bytes.
    pub sz: u64,
    /// User page table.
    pub pagetable: Pagetable,
    /// Page of saved user registers (mapped at TRAPFRAME in user space).
    pub trapframe: *mut Trapframe,
    /// `swtch` here to run the process.
    pub context: Context,
    /// Open files.
    pub ofile: [*mut File; NOFILE],
    /// Current directory.
    pub cwd: *mut Inode,
    /// Process name (debugging), NUL-padded.
    pub name: [u8; 16],
    /// Trace lab: bit N set prints system call N on return. Inherited by fork.
    pub trace_mask: i32,
    /// Usyscall lab option: the page mapped read-only at `USYSCALL` (the pid), or null.
    pub usyscall: *mut Usyscall,
    /// Alarm lab option: call `alarm_handler` every `alarm_interval` ticks of this
    /// process's CPU time (timer interrupts taken in user mode); 0 means no alarm.
    pub alarm_interval: i32,
    /// The handler's user address.
    pub alarm_handler: u64,
    /// Ticks counted towards the next call.
    pub alarm_ticks: i32,
    /// 1 while the handler runs (from the tick that called it to its `sigreturn`): the
    /// handler is not called again meanwhile.
    pub alarm_active: i32,
    /// The user registers at the tick that called the handler; `sigreturn` restores them.
    pub alarm_trapframe: Trapframe,
    /// Mmap lab option: the process's file mappings (`mmap.rs`).
    pub vma: [Vma; NVMA],
    /// Kpgtbl lab option (2020 pgtbl lab): the kernel page table installed while this
    /// process runs, or null. Maps what the kernel's does, but only this process's kernel
    /// stack (`vm::kvmcreate_proc`).
    pub kpagetable: Pagetable,
}

impl Proc {
    const fn new() -> Self {
        Proc {
            lock: Spinlock::new("proc"),
            state: ProcState::Unused,
            chan: 0,
            killed: 0,
            xstate: 0,
            pid: 0,
            parent: null_mut(),
            kstack: 0,
            sz: 0,
            pagetable: null_mut(),
            trapframe: null_mut(),
            context: Context::ZERO,
            ofile: [null_mut(); NOFILE],
            cwd: null_mut(),
            name: [0; 16],
            trace_mask: 0,
            usyscall: null_mut(),
            alarm_interval: 0,
            alarm_handler: 0,
            alarm_ticks: 0,
            alarm_active: 0,
            alarm_trapframe: Trapframe::ZERO,
            vma: [Vma::EMPTY; NVMA],
            kpagetable: null_mut(),
        }
    }
}

/// The process table. Each entry's fields are guarded as documented on `Proc`.
#[unsafe(no_mangle)]
pub static proc: Shared<[Proc; NPROC]> = Shared::new([const { Proc::new() }; NPROC]);

/// The first user process; orphans are given to it.
static INITPROC: Shared<*mut Proc> = Shared::new(null_mut());

static NEXTPID: AtomicI32 = AtomicI32::new(1);

/// Guards every `Proc::parent`; taken before any `p.lock`.
#[unsafe(no_mangle)]
pub static wait_lock: Spinlock = Spinlock::new("wait_lock");

/// Pages in each process's kernel stack (see `abi::memlayout::KSTACK_PAGES`).
pub const KSTACK_PAGES: u64 = abi::memlayout::KSTACK_PAGES;

/// Lowest address of the kernel stack of process slot `p`; an unmapped guard page lies below.
pub const fn kstack(p: usize) -> u64 {
    abi::memlayout::kstack(p, KSTACK_PAGES)
}

/// Top of a kernel stack whose lowest address is `kstack` (the initial stack pointer).
pub const fn kstack_top(kstack: u64) -> u64 {
    kstack + KSTACK_PAGES * PGSIZE
}

/// Slot `i` of the process table.
fn proc_at(i: usize) -> *mut Proc {
    // SAFETY: in bounds; only a raw pointer is formed.
    unsafe { &raw mut (*proc.get())[i] }
}

fn procs() -> impl Iterator<Item = *mut Proc> {
    (0..NPROC).map(proc_at)
}

/// Maps a kernel stack (`KSTACK_PAGES`, guard page below) for every process slot.
pub fn proc_mapstacks(kpgtbl: Pagetable) {
    for i in 0..NPROC {
        for page in 0..KSTACK_PAGES {
            let pa = kalloc();
            if pa.is_null() {
                panic!("proc_mapstacks: kalloc");
            }
            kvmmap(
                kpgtbl,
                kstack(i) + page * PGSIZE,
                pa as u64,
                PGSIZE,
                PTE_R | PTE_W,
            );
        }
    }
}

pub fn procinit() {
    for (i, p) in procs().enumerate() {
        // SAFETY: boot, single hart; nobody else uses the table yet.
        unsafe {
            (*p).state = ProcState::Unused;
            (*p).kstack = kstack(i);
        }
    }
}

/// This hart's id. Interrupts must be off so the process cannot move to another hart.
pub fn cpuid() -> usize {
    r_tp() as usize
}

/// This hart's `Cpu`. Interrupts must be off.
pub fn mycpu() -> *mut Cpu {
    // SAFETY: tp holds the hart id (< NCPU, checked by start); only a pointer is formed.
    unsafe { &raw mut (*cpus.get())[cpuid()] }
}

/// The current process, or null.
pub fn myproc() -> *mut Proc {
    push_off();
    // SAFETY: interrupts are off; this hart's entry is ours.
    let p = unsafe { (*mycpu()).proc };
    pop_off();
    p
}

fn allocpid() -> i32 {
    NEXTPID.fetch_add(1, Ordering::Relaxed)
}

/// Finds an unused slot and prepares it to run in the kernel (at `forkret`). Returns it
/// with `p.lock` held, or null when the table or memory is full.
fn allocproc() -> *mut Proc {
    for p in procs() {
        // SAFETY: each field access below is under p.lock or to a slot we just claimed.
        unsafe {
            (*p).lock.acquire();
            if (*p).state != ProcState::Unused {
                (*p).lock.release();
                continue;
            }
            (*p).pid = allocpid();
            (*p).state = ProcState::Used;
            (*p).trapframe = kalloc() as *mut Trapframe;
            if (*p).trapframe.is_null() {
                freeproc(p);
                (*p).lock.release();
                return null_mut();
            }
            if lab::on(USYSCALL) {
                // The page ugetpid reads: the pid, and nothing else of the kernel's.
                let page = kalloc() as *mut Usyscall;
                if page.is_null() {
                    freeproc(p);
                    (*p).lock.release();
                    return null_mut();
                }
                core::ptr::write_bytes(page as *mut u8, 0, PGSIZE as usize);
                (*page).pid = (*p).pid;
                (*p).usyscall = page;
            }
            if lab::on(KPGTBL) {
                (*p).kpagetable = kvmcreate_proc((*p).kstack);
                if (*p).kpagetable.is_null() {
                    freeproc(p);
                    (*p).lock.release();
                    return null_mut();
                }
            }
            (*p).pagetable = proc_pagetable(p);
            if (*p).pagetable.is_null() {
                freeproc(p);
                (*p).lock.release();
                return null_mut();
            }
            // Start executing at forkret, which returns to user space.
            (*p).context = Context::ZERO;
            (*p).context.ra = forkret as *const () as u64;
            (*p).context.sp = kstack_top((*p).kstack);
            return p;
        }
    }
    null_mut()
}

/// Frees a process slot and what hangs off it. `p.lock` must be held.
fn freeproc(p: *mut Proc) {
    // SAFETY: p.lock held; the process is not running.
    unsafe {
        if !(*p).trapframe.is_null() {
            kfree((*p).trapframe as *mut u8);
        }
        (*p).trapframe = null_mut();
        if !(*p).usyscall.is_null() {
            kfree((*p).usyscall as *mut u8);
        }
        (*p).usyscall = null_mut();
        if !(*p).pagetable.is_null() {
            proc_freepagetable((*p).pagetable, (*p).sz);
        }
        (*p).pagetable = null_mut();
        if !(*p).kpagetable.is_null() {
            kvmfree_proc((*p).kpagetable);
        }
        (*p).kpagetable = null_mut();
        (*p).sz = 0;
        (*p).pid = 0;
        (*p).parent = null_mut();
        (*p).name[0] = 0;
        (*p).chan = 0;
        (*p).killed = 0;
        (*p).xstate = 0;
        (*p).trace_mask = 0;
        (*p).alarm_interval = 0;
        (*p).alarm_handler = 0;
        (*p).alarm_ticks = 0;
        (*p).alarm_active = 0;
        // exit and exec unmapped every mapping already (and closed its file).
        (*p).vma = [Vma::EMPTY; NVMA];
        (*p).state = ProcState::Unused;
    }
}

/// A user page table with only the trampoline and `p`'s trapframe mapped; null on failure.
pub fn proc_pagetable(p: *mut Proc) -> Pagetable {
    let pagetable = uvmcreate();
    if pagetable.is_null() {
        return null_mut();
    }
    // The trampoline, for entering and leaving the kernel; no PTE_U: supervisor only.
    if mappages(
        pagetable,
        TRAMPOLINE,
        PGSIZE,
        crate::vm::trampoline_addr(),
        PTE_R | PTE_X,
    )
    .is_err()
    {
        uvmfree(pagetable, 0);
        return null_mut();
    }
    // SAFETY: the caller owns p (allocproc or exec on itself).
    let tf = unsafe { (*p).trapframe } as u64;
    if mappages(pagetable, TRAPFRAME, PGSIZE, tf, PTE_R | PTE_W).is_err() {
        uvmunmap(pagetable, TRAMPOLINE, 1, false);
        uvmfree(pagetable, 0);
        return null_mut();
    }
    // The usyscall page: user-readable, never writable.
    // SAFETY: as above.
    let us = unsafe { (*p).usyscall } as u64;
    if lab::on(USYSCALL) && mappages(pagetable, USYSCALL_VA, PGSIZE, us, PTE_R | PTE_U).is_err() {
        uvmunmap(pagetable, TRAPFRAME, 1, false);
        uvmunmap(pagetable, TRAMPOLINE, 1, false);
        uvmfree(pagetable, 0);
        return null_mut();
    }
    pagetable
}

/// Frees a user page table and the `sz` bytes of memory it maps.
pub fn proc_freepagetable(pagetable: Pagetable, sz: u64) {
    uvmunmap(pagetable, TRAMPOLINE, 1, false);
    uvmunmap(pagetable, TRAPFRAME, 1, false);
    if lab::on(USYSCALL) {
        uvmunmap(pagetable, USYSCALL_VA, 1, false);
    }
    uvmfree(pagetable, sz);
}

/// One past the highest address user memory may use: the trapframe, or the usyscall page
/// below it when that option is on. (Mappings of the mmap option go down from here.)
pub fn user_top_fixed() -> u64 {
    if lab::on(USYSCALL) {
        USYSCALL_VA
    } else {
        TRAPFRAME
    }
}

// The first user program: exec("/init", {"/init", 0}); if that fails, exit(0) forever.
// Position independent (auipc-relative), copied to user address 0 by userinit.
core::arch::global_asm!(
    ".pushsection .rodata.initcode, \"a\"",
    ".balign 8",
    ".globl initcode_start",
    "initcode_start:",
    "   lla a0, 1f",
    "   lla a1, 2f",
    "   li a7, {exec}",
    "   ecall",
    "3: li a0, 0",
    "   li a7, {exit}",
    "   ecall",
    "   j 3b",
    "1: .string \"/init\"",
    "   .balign 8",
    "2: .dword 1b - initcode_start",
    "   .dword 0",
    ".globl initcode_end",
    "initcode_end:",
    ".popsection",
    exec = const abi::syscall::nr::exec,
    exit = const abi::syscall::nr::exit,
);

unsafe extern "C" {
    static initcode_start: u8;
    static initcode_end: u8;
}

/// Sets up the first user process.
pub fn userinit() {
    let p = allocproc();
    if p.is_null() {
        panic!("userinit: allocproc");
    }
    // SAFETY: the linker symbols bound the initcode bytes in .rodata.
    let code = unsafe {
        let s = &raw const initcode_start;
        let n = (&raw const initcode_end as usize) - (s as usize);
        core::slice::from_raw_parts(s, n)
    };
    // SAFETY: p.lock is held (allocproc); the process has never run.
    unsafe {
        *INITPROC.get() = p;
        uvmfirst((*p).pagetable, code);
        (*p).sz = PGSIZE;
        // Return to user address 0 with the stack at the top of the page.
        (*(*p).trapframe).epc = 0;
        (*(*p).trapframe).sp = PGSIZE;
        set_name(p, b"initcode");
        // cwd is set by forkret once the file system is up.
        (*p).state = ProcState::Runnable;
        (*p).lock.release();
    }
}

fn set_name(p: *mut Proc, s: &[u8]) {
    // SAFETY: name is private to the process; callers own p.
    unsafe {
        let n = s.len().min(15);
        let mut name = [0; 16];
        name[..n].copy_from_slice(&s[..n]);
        (*p).name = name;
    }
}

/// Grows (n > 0) or shrinks user memory by `n` bytes. With lazy sbrk (`lab::LAZY`) growing
/// only moves `sz`: each page is allocated at the first fault on it (`vm::fault_in`).
pub fn growproc(n: i32) -> Result<(), ()> {
    let p = myproc();
    // SAFETY: sz and pagetable are private to the current process.
    unsafe {
        let mut sz = (*p).sz;
        if n > 0 {
            // User memory must stay below the trapframe and trampoline pages.
            let top = if lab::on(MMAP) {
                mmap::lowest(p)
            } else {
                user_top_fixed()
            };
            if sz + n as u64 > top {
                return Err(());
            }
            if lab::on(LAZY) {
                (*p).sz = sz + n as u64;
                return Ok(());
            }
            sz = uvmalloc((*p).pagetable, sz, sz + n as u64, PTE_W)?;
        } else if n < 0 {
            let dec = (-(n as i64)) as u64;
            if dec > sz {
                return Err(());
            }
            sz = uvmdealloc((*p).pagetable, sz, sz - dec);
        }
        (*p).sz = sz;
    }
    Ok(())
}

/// Creates a copy of the current process; returns the child's pid to the parent (the child
/// returns 0 from the system call), or -1.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn fork() -> i32 {
    let p = myproc();
    let np = allocproc();
    if np.is_null() {
        return -1;
    }
    // SAFETY: np.lock is held and np has never run; p's private fields are ours.
    unsafe {
        if uvmcopy((*p).pagetable, (*np).pagetable, (*p).sz).is_err() {
            freeproc(np);
            (*np).lock.release();
            return -1;
        }
        (*np).sz = (*p).sz;
        core::ptr::copy_nonoverlapping((*p).trapframe, (*np).trapframe, 1);
        // The child sees fork return 0.
        (*(*np).trapframe).a0 = 0;
        for i in 0..NOFILE {
            if !(*p).ofile[i].is_null() {
                (*np).ofile[i] = filedup((*p).ofile[i]);
            }
        }
        (*np).cwd = idup((*p).cwd);
        (*np).name = (*p).name;
        (*np).trace_mask = (*p).trace_mask;
        if lab::on(MMAP) {
            mmap::copy_vmas(p, np);
        }
        let pid = (*np).pid;
        (*np).lock.release();

        wait_lock.acquire();
        (*np).parent = p;
        wait_lock.release();

        (*np).lock.acquire();
        (*np).state = ProcState::Runnable;
        (*np).lock.release();
        pid
    }
}

/// Gives `p`'s children to init. `wait_lock` must be held.
fn reparent(p: *mut Proc) {
    for pp in procs() {
        // SAFETY: parent fields are guarded by wait_lock, held.
        unsafe {
            if (*pp).parent == p {
                (*pp).parent = *INITPROC.get();
                wakeup(*INITPROC.get() as usize);
            }
        }
    }
}

/// Exits the current process; it stays a zombie until its parent waits. Never returns.
pub fn exit(status: i32) -> ! {
    let p = myproc();
    // SAFETY: ofile, cwd are private; parent/state under wait_lock and p.lock as taken below.
    unsafe {
        if p == *INITPROC.get() {
            panic!("init exiting");
        }
        if lab::on(MMAP) {
            // Shared mappings' written pages go back to their files while those are open.
            mmap::unmap_all(p);
        }
        for fd in 0..NOFILE {
            let f = (*p).ofile[fd];
            if !f.is_null() {
                fileclose(f);
                (*p).ofile[fd] = null_mut();
            }
        }
        begin_op();
        iput((*p).cwd);
        end_op();
        (*p).cwd = null_mut();

        wait_lock.acquire();
        reparent(p);
        // The parent may be sleeping in wait().
        wakeup((*p).parent as usize);
        (*p).lock.acquire();
        (*p).xstate = status;
        (*p).state = ProcState::Zombie;
        wait_lock.release();
    }
    sched();
    panic!("zombie exit");
}

/// Waits for a child to exit; copies its status to user address `addr` unless 0. Returns
/// its pid, or -1 if there are no children (or the caller is killed, or addr is bad).
pub fn wait(addr: u64) -> i32 {
    let p = myproc();
    wait_lock.acquire();
    loop {
        let mut havekids = false;
        for pp in procs() {
            // SAFETY: parent under wait_lock; state/xstate/pid under pp.lock.
            unsafe {
                if (*pp).parent != p {
                    continue;
                }
                // Holding pp.lock ensures the child is done with exit() and swtch.
                (*pp).lock.acquire();
                havekids = true;
                if (*pp).state == ProcState::Zombie {
                    let pid = (*pp).pid;
                    if addr != 0
                        && copyout((*p).pagetable, addr, &(*pp).xstate.to_ne_bytes()).is_err()
                    {
                        (*pp).lock.release();
                        wait_lock.release();
                        return -1;
                    }
                    freeproc(pp);
                    (*pp).lock.release();
                    wait_lock.release();
                    return pid;
                }
                (*pp).lock.release();
            }
        }
        if !havekids || killed(p) {
            wait_lock.release();
            return -1;
        }
        // Children wake us through wakeup(parent) in exit().
        sleep(p as usize, &wait_lock);
    }
}

/// Each hart's scheduler loop: run a runnable process until it gives the CPU back.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn scheduler() -> ! {
    let c = mycpu();
    // SAFETY: this hart's Cpu entry; interrupts are managed as documented in spinlock.rs.
    unsafe { (*c).proc = null_mut() };
    loop {
        // Let devices interrupt: the last runnable process may be waiting for one.
        intr_on();
        let mut found = false;
        for p in procs() {
            // SAFETY: state under p.lock; context handed over with the lock held.
            unsafe {
                (*p).lock.acquire();
                if (*p).state == ProcState::Runnable {
                    // The process releases its lock and re-takes it before switching back.
                    (*p).state = ProcState::Running;
                    (*c).proc = p;
                    if lab::on(KPGTBL) {
                        // The 2020 pgtbl lab: the process runs on its own kernel page table.
                        kvminstall((*p).kpagetable);
                    }
                    swtch(&raw mut (*c).context, &raw const (*p).context);
                    if lab::on(KPGTBL) {
                        kvminithart();
                    }
                    // The process is done running for now.
                    (*c).proc = null_mut();
                    found = true;
                }
                (*p).lock.release();
            }
        }
        if !found {
            // Nothing to run: sleep until an interrupt rather than spin.
            intr_on();
            wfi();
        }
    }
}

/// Switches to the scheduler. The caller holds only `p.lock` and has changed `p.state`.
/// Saves and restores `intena`, which belongs to this kernel thread, not to the hart.
pub fn sched() {
    let p = myproc();
    // SAFETY: p.lock is held, interrupts are off; c is this hart's entry.
    unsafe {
        if !(*p).lock.holding() {
            panic!("sched p->lock");
        }
        let c = mycpu();
        if (*c).noff != 1 {
            panic!("sched locks");
        }
        if (*p).state == ProcState::Running {
            panic!("sched running");
        }
        if crate::riscv::intr_get() {
            panic!("sched interruptible");
        }
        let intena = (*c).intena;
        swtch(&raw mut (*p).context, &raw const (*c).context);
        (*mycpu()).intena = intena;
    }
}

/// Gives up the CPU for one scheduling round.
pub fn yield_() {
    let p = myproc();
    // SAFETY: state under p.lock.
    unsafe {
        (*p).lock.acquire();
        (*p).state = ProcState::Runnable;
        sched();
        (*p).lock.release();
    }
}

static FIRST: AtomicBool = AtomicBool::new(true);

/// A new process's first kernel code, reached from the scheduler's `swtch` with `p.lock`
/// held.
extern "C" fn forkret() {
    let p = myproc();
    // SAFETY: the scheduler handed us p with p.lock held.
    unsafe { (*p).lock.release() };
    if FIRST.swap(false, Ordering::AcqRel) {
        // The file system must be initialised in process context (it sleeps), so it is done
        // by the first process rather than from main.
        fsinit(ROOTDEV);
        // SAFETY: cwd is private to the process.
        unsafe { (*p).cwd = namei(b"/") };
    }
    usertrapret();
}

/// Atomically releases `lk` and sleeps on `chan`; re-takes `lk` before returning.
pub fn sleep(chan: usize, lk: &Spinlock) {
    let p = myproc();
    // SAFETY: chan/state under p.lock, taken before lk is released so no wakeup is lost.
    unsafe {
        (*p).lock.acquire();
        lk.release();
        (*p).chan = chan;
        (*p).state = ProcState::Sleeping;
        sched();
        (*p).chan = 0;
        (*p).lock.release();
    }
    lk.acquire();
}

/// Wakes every process sleeping on `chan`. Call without any `p.lock` held.
pub fn wakeup(chan: usize) {
    let me = myproc();
    for p in procs() {
        if p == me {
            continue;
        }
        // SAFETY: state/chan under p.lock.
        unsafe {
            (*p).lock.acquire();
            if (*p).state == ProcState::Sleeping && (*p).chan == chan {
                (*p).state = ProcState::Runnable;
            }
            (*p).lock.release();
        }
    }
}

/// Marks process `pid` killed; it exits when it next crosses the user/kernel boundary.
pub fn kill(pid: i32) -> i32 {
    for p in procs() {
        // SAFETY: pid, state and killed are guarded by p.lock, held by the guard.
        unsafe {
            let _g = (*p).lock.lock();
            if (*p).pid == pid && (*p).state != ProcState::Unused {
                (*p).killed = 1;
                if (*p).state == ProcState::Sleeping {
                    // Wake it from sleep() so it notices.
                    (*p).state = ProcState::Runnable;
                }
                return 0;
            }
        }
    }
    -1
}

pub fn setkilled(p: *mut Proc) {
    // SAFETY: killed is guarded by p.lock, held by the guard.
    unsafe {
        let _g = (*p).lock.lock();
        (*p).killed = 1;
    }
}

pub fn killed(p: *mut Proc) -> bool {
    if p.is_null() {
        return false;
    }
    // SAFETY: killed is guarded by p.lock, held by the guard.
    unsafe {
        let _g = (*p).lock.lock();
        (*p).killed != 0
    }
}

/// Copies `src` to a user address (`user_dst`) of the current process, or to kernel
/// address `dst`.
pub fn either_copyout(user_dst: bool, dst: u64, src: &[u8]) -> Result<(), ()> {
    if user_dst {
        let p = myproc();
        // SAFETY: pagetable is private to the current process.
        copyout(unsafe { (*p).pagetable }, dst, src)
    } else {
        // SAFETY: the kernel caller passes a kernel buffer of at least src.len() bytes.
        unsafe { core::ptr::copy(src.as_ptr(), dst as *mut u8, src.len()) };
        Ok(())
    }
}

/// Fills `dst` from a user address (`user_src`) of the current process, or from kernel
/// address `src`.
pub fn either_copyin(dst: &mut [u8], user_src: bool, src: u64) -> Result<(), ()> {
    if user_src {
        let p = myproc();
        // SAFETY: pagetable is private to the current process.
        copyin(unsafe { (*p).pagetable }, dst, src)
    } else {
        // SAFETY: the kernel caller passes a kernel buffer of at least dst.len() bytes.
        unsafe { core::ptr::copy(src as *const u8, dst.as_mut_ptr(), dst.len()) };
        Ok(())
    }
}

/// Number of processes whose state is not `Unused` (sysinfo).
pub fn nproc() -> u64 {
    let mut n = 0;
    for p in procs() {
        // SAFETY: state is guarded by p.lock, held by the guard.
        unsafe {
            let _g = (*p).lock.lock();
            if (*p).state != ProcState::Unused {
                n += 1;
            }
        }
    }
    n
}

/// Prints the process list (Ctrl-P). Takes no locks, so it works even when the kernel is
/// wedged; the output may be slightly inconsistent.
pub fn procdump() {
    crate::println!();
    for p in procs() {
        // SAFETY: racy reads of plain integers for a debugging aid, as xv6 does.
        unsafe {
            let state = core::ptr::read_volatile(&raw const (*p).state);
            if state == ProcState::Unused {
                continue;
            }
            let s = match state {
                ProcState::Unused => "unused",
                ProcState::Used => "used",
                ProcState::Sleeping => "sleep ",
                ProcState::Runnable => "runble",
                ProcState::Running => "run   ",
                ProcState::Zombie => "zombie",
            };
            let name = &(*p).name;
            let n = name.iter().position(|&c| c == 0).unwrap_or(name.len());
            let name = core::str::from_utf8(&name[..n]).unwrap_or("?");
            crate::println!("{} {} {}", (*p).pid, s, name);
        }
    }
}
