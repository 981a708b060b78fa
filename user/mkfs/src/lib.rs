//! xv6 file system images: build them, and read them back.
//!
//! Two halves share this crate:
//!
//! - [`build`] lays out a fresh image exactly as MIT's `mkfs/mkfs.c` does (same geometry, same
//!   block allocation order), so an image made from the same files is byte-identical to MIT's
//!   and mounts under any xv6-riscv kernel. The xv6scope host build calls it to make the
//!   bundled `fs.img`; the `mkfs` binary is a thin command line over it.
//! - [`Image`] is a read-only view of any image (ours or MIT's) for the debugger and the
//!   tests: directory listings, path lookup, file contents, `stat`, and the path of an inode.
//!   Every block number and inode number read from the image is checked before use, so a
//!   corrupt image yields an [`FsError`], never a panic or an out-of-bounds read.
//!
//! - [`strip_elf`] trims a program to what xv6's exec loads, for putting debug builds on disk.
//!
//! The on-disk structures and constants come from `abi::fs`; nothing about the format is
//! defined here.

mod elf;
mod image;
mod mkfs;

pub use elf::strip_elf;
pub use image::{DirEntry, FsError, Image};
pub use mkfs::{Geometry, MkfsError, build, build_with, short_name};

#[cfg(test)]
mod tests;
