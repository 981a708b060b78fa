//! The xv6-riscv ABI, defined once.
//!
//! Everything that the kernel, the user programs, `mkfs` and the debugger must agree on lives
//! here and nowhere else: system call numbers, names and argument shapes; `struct stat`,
//! `struct dirent`, `struct sysinfo`; open flags; kernel parameters; the on-disk file system
//! layout; and the QEMU `virt` memory layout that xv6 assumes. Values match MIT's xv6-riscv
//! byte for byte, so C programs, `fs.img` files and kernels interchange.
//!
//! The crate is `no_std`, has no dependencies, and builds for the host and for
//! `riscv64gc-unknown-none-elf` alike.
#![no_std]

pub mod fcntl;
pub mod fs;
pub mod lab;
pub mod memlayout;
pub mod param;
pub mod stat;
pub mod syscall;

pub use fcntl::*;
pub use stat::{Stat, Sysinfo, T_DEVICE, T_DIR, T_FILE, T_SYMLINK};
