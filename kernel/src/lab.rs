//! Lab options: which of the MIT labs' features this boot of the kernel has.
//!
//! One kernel image carries every lab's feature (copy-on-write fork, lazy sbrk, the usyscall
//! page, pgaccess, vmprint, backtraces, alarms, per-process kernel page tables, mmap,
//! symbolic links, large files), each behind a bit of `LAB_OPTIONS`. The word is zero in the image as
//! built, and a kernel with no bit set is stock xv6 in every observable way. The debugger
//! (`xv6scope --lab cow,lazy`) writes the word into the ELF file's `.data` before the
//! machine loads it, so no rebuild is needed; on QEMU, `-device loader` or gdb's `set var`
//! before the first instruction do the same. `abi::lab` names the bits.
//!
//! Interface: `on(bit)` asks whether an option is set; `init()` (hart 0, first thing in
//! `main`) fixes the word for the rest of the boot and prints the options it found.
//!
//! Invariant: the word is only read after `init`, and `init` runs before any other hart
//! leaves its wait, so every hart sees the same options for the whole boot. Nothing writes
//! the word at run time: features that change data structures (reference counts, page-table
//! layout) would be inconsistent if an option changed under them.

use core::sync::atomic::{AtomicU32, Ordering};

pub use abi::lab::{
    ALARM, BACKTRACE, BIGFILE, COW, KPGTBL, LAZY, MMAP, OPTIONS, PGACCESS, SYMLINK, USYSCALL,
    VMPRINT,
};

/// The option word (bits of `abi::lab`). In `.data`, not `.bss`, so that the word has bytes
/// in the ELF file for the host to set before boot; exported unmangled under
/// `abi::lab::SYMBOL`.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".data.LAB_OPTIONS")]
pub static LAB_OPTIONS: AtomicU32 = AtomicU32::new(0);

/// The word as `init` found it; every `on` reads this copy.
static OPTIONS_AT_BOOT: AtomicU32 = AtomicU32::new(0);

/// Is lab option `bit` (one of the constants above) on?
#[inline]
pub fn on(bit: u32) -> bool {
    OPTIONS_AT_BOOT.load(Ordering::Relaxed) & bit != 0
}

/// Reads the option word once, at boot on hart 0, and says which options are on. Prints
/// nothing when none are, so a stock boot's console is unchanged.
pub fn init() {
    let word = LAB_OPTIONS.load(Ordering::Relaxed) & abi::lab::ALL;
    OPTIONS_AT_BOOT.store(word, Ordering::Release);
    if word == 0 {
        return;
    }
    crate::print!("lab options:");
    for o in OPTIONS.iter().filter(|o| word & o.bit != 0) {
        crate::print!(" {}", o.name);
    }
    crate::println!();
}
