//! The xv6 user library in Rust: what every program in `src/bin/` links.
//!
//! Pieces, named after xv6's user library files:
//! - [`usys`]: raw `unsafe` system call stubs generated from `abi::for_each_syscall!`.
//! - [`ulib`]: safe wrappers over them (`open(path, flags)`, `read(fd, &mut buf)`,
//!   `exec(path, &argv)`, `pipe()`...), returning `Err(Error)` where xv6 returns -1, plus the
//!   small string helpers xv6 programs use (`atoi`, `gets`).
//! - [`printf`]: `print!`, `println!`, `eprint!`, `eprintln!`, `fprint!`, `fprintln!`. Each
//!   call formats into a small stack buffer and writes it with one `write` (more only when the
//!   text outgrows the buffer), so lines from different processes do not interleave.
//! - [`umalloc`]: the global allocator (a K&R free list over `sbrk`), so programs may use
//!   `Vec`, `String` and `Box` from `alloc`.
//!
//! Program entry: the kernel's exec starts a program at `_start` with argc in a0 and argv in
//! a1 and the stack pointer at the top of its single 4 KiB stack page. `_start` wraps them in
//! [`Args`] and calls the function named by the program's `entry!(main)`; when that returns it
//! exits with status 0. A panic prints `panic: MESSAGE` on fd 2 and exits with status 1.
//!
//! Stack discipline: the stack is one page with an unmapped guard page below it, so overflow
//! faults and the kernel kills the process. Keep frames small; put big buffers in statics or
//! on the heap.
#![no_std]

extern crate alloc;

pub mod printf;
pub mod ulib;
pub mod umalloc;
pub mod usys;

pub use abi::fcntl::*;
pub use abi::stat::{Stat, Sysinfo, T_DEVICE, T_DIR, T_FILE, T_SYMLINK};
pub use alloc::{boxed::Box, format, string::String, string::ToString, vec, vec::Vec};
pub use ulib::*;

/// The program's command line: `argc` NUL-terminated strings placed by exec on the stack.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const u8,
}

impl Args {
    /// Number of arguments, the program name included.
    pub fn len(&self) -> usize {
        self.argc
    }

    /// Whether there are no arguments at all (not even the program name).
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// Argument `i` as bytes, without its NUL.
    pub fn bytes(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: exec wrote argc valid pointers to NUL-terminated strings, all inside the
        // stack page, which lives (unchanged by us) until the process exits.
        unsafe {
            let p = *self.argv.add(i);
            let mut n = 0;
            while *p.add(n) != 0 {
                n += 1;
            }
            Some(core::slice::from_raw_parts(p, n))
        }
    }

    /// Argument `i` as text; invalid UTF-8 is cut at the first bad byte.
    pub fn get(&self, i: usize) -> Option<&'static str> {
        self.bytes(i).map(ulib::str_prefix)
    }

    /// All arguments as text, the program name first.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + use<> {
        let a = *self;
        (0..a.argc).filter_map(move |i| a.get(i))
    }

    /// The raw `argv` pointer, for tests that hand it straight back to the kernel.
    pub fn argv(&self) -> *const *const u8 {
        self.argv
    }
}

/// Names the program's main function, `fn main(args: Args)`. Expands to the symbol that
/// `_start` calls.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        pub extern "Rust" fn __user_main(args: $crate::Args) {
            $main(args)
        }
    };
}

unsafe extern "Rust" {
    /// Defined in every program by `entry!`.
    fn __user_main(args: Args);
}

/// Where exec starts a program: a0 = argc, a1 = argv, sp 16-byte aligned at the top of the
/// stack page. Placed first in `.text` so that it sits at address 0 like xv6's `_main`.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text._start")]
pub extern "C" fn _start(argc: usize, argv: *const *const u8) -> ! {
    // SAFETY: `entry!` defines `__user_main` with this signature in every program.
    unsafe { __user_main(Args { argc, argv }) };
    exit(0)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    eprintln!("panic: {}", info.message());
    exit(1)
}
