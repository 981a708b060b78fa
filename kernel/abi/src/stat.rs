//! `struct stat` and `struct sysinfo` as user programs see them.

/// Directory.
pub const T_DIR: i16 = 1;
/// Regular file.
pub const T_FILE: i16 = 2;
/// Device.
pub const T_DEVICE: i16 = 3;
/// Symbolic link (the fs lab; the bundled kernel's `symlink` lab option): its contents are
/// the target path.
pub const T_SYMLINK: i16 = 4;

/// xv6's `struct stat` (24 bytes: 4 bytes of padding before `size`, as C lays it out).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// File system's disk device.
    pub dev: i32,
    /// Inode number.
    pub ino: u32,
    /// `T_DIR`, `T_FILE` or `T_DEVICE`.
    pub typ: i16,
    /// Number of links to the file.
    pub nlink: i16,
    /// Size of the file in bytes.
    pub size: u64,
}

/// The sysinfo lab's `struct sysinfo`, filled by system call 23.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sysinfo {
    /// Bytes of free physical memory.
    pub freemem: u64,
    /// Number of processes whose state is not UNUSED.
    pub nproc: u64,
}

const _: () = assert!(core::mem::size_of::<Stat>() == 24);
const _: () = assert!(core::mem::size_of::<Sysinfo>() == 16);
