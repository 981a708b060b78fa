//! xv6 in Rust: the kernel's boot sequence.
//!
//! Every hart enters at `_entry` (start.rs) in M-mode, drops to S-mode and arrives in `main`.
//! Hart 0 initialises the kernel, in the order of the list below (each step relies on the
//! ones before it); the others wait for it, then turn on paging, traps and device interrupts
//! for themselves. All harts end in `scheduler`, which never returns.
//!
//! Module map (one file per xv6 subsystem; see kernel/README.md):
//! core — start, riscv, lab (boot-time lab options), kalloc, vm, trap, trampoline, swtch,
//! proc, spinlock, sleeplock, syscall, sysproc, printf, uart, console, plic; file system —
//! virtio_disk, bio, log, fs, file, pipe, exec, sysfile.
#![no_std]
#![no_main]
// Kernel tables keep xv6's C names (`proc`, `cpus`, `ticks`...) for the debugger.
#![allow(non_upper_case_globals)]
// xv6's interfaces pass raw pointers to kernel tables (`*mut Proc`, `*mut Inode`, ...) that
// stay valid for the kernel's lifetime; their safety rests on the locking rules documented
// with each table, not on the caller, so these functions are not `unsafe fn`.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// Failures that user space sees only as -1 carry no detail: `Result<_, ()>`.
#![allow(clippy::result_unit_err)]

#[macro_use]
pub mod printf;

pub mod bio;
pub mod console;
pub mod exec;
pub mod file;
pub mod fs;
pub mod kalloc;
pub mod lab;
pub mod log;
pub mod mmap;
pub mod pipe;
pub mod plic;
pub mod proc;
pub mod riscv;
pub mod sleeplock;
pub mod spinlock;
pub mod start;
pub mod swtch;
pub mod syscall;
pub mod sysfile;
pub mod sysproc;
pub mod trampoline;
pub mod trap;
pub mod uart;
pub mod virtio_disk;
pub mod vm;

use core::sync::atomic::{AtomicBool, Ordering};

/// Set by hart 0 when the kernel is initialised; the other harts wait for it.
static STARTED: AtomicBool = AtomicBool::new(false);

/// S-mode entry on every hart (`start` sets `mepc` here).
#[unsafe(no_mangle)]
pub extern "C" fn main() -> ! {
    if proc::cpuid() == 0 {
        console::consoleinit(); // UART and the console device
        println!();
        println!("xv6 kernel is booting");
        println!();
        lab::init(); // the lab options set in this image (prints them, if any)
        kalloc::kinit(); // physical page allocator
        vm::kvminit(); // create the kernel page table
        vm::kvminithart(); // turn on paging
        proc::procinit(); // process table
        trap::trapinit(); // trap vectors
        trap::trapinithart(); // install the kernel trap vector
        plic::plicinit(); // set up the interrupt controller
        plic::plicinithart(); // ask the PLIC for device interrupts
        bio::binit(); // buffer cache
        fs::iinit(); // inode table
        file::fileinit(); // file table
        virtio_disk::init(); // emulated hard disk
        proc::userinit(); // first user process
        STARTED.store(true, Ordering::Release);
    } else {
        while !STARTED.load(Ordering::Acquire) {
            core::hint::spin_loop();
        }
        println!("hart {} starting", proc::cpuid());
        vm::kvminithart(); // turn on paging
        trap::trapinithart(); // install the kernel trap vector
        plic::plicinithart(); // ask the PLIC for device interrupts
    }
    proc::scheduler()
}
