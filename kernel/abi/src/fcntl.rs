//! Flags of `open(path, flags)`, as in xv6's `kernel/fcntl.h`.

pub const O_RDONLY: i32 = 0x000;
pub const O_WRONLY: i32 = 0x001;
pub const O_RDWR: i32 = 0x002;
pub const O_CREATE: i32 = 0x200;
pub const O_TRUNC: i32 = 0x400;
/// Open a symbolic link itself rather than what it names (the fs lab).
pub const O_NOFOLLOW: i32 = 0x800;

/// Major device number of the console (`mknod("console", CONSOLE, 0)`).
pub const CONSOLE: i16 = 1;

/// `mmap` protections (mmap lab), as in the lab's `kernel/fcntl.h`.
pub const PROT_NONE: i32 = 0x0;
pub const PROT_READ: i32 = 0x1;
pub const PROT_WRITE: i32 = 0x2;
pub const PROT_EXEC: i32 = 0x4;

/// `mmap` flags: stores reach the file (at munmap or exit), or stay private.
pub const MAP_SHARED: i32 = 0x01;
pub const MAP_PRIVATE: i32 = 0x02;
