//! Flags of `open(path, flags)`, as in xv6's `kernel/fcntl.h`.

pub const O_RDONLY: i32 = 0x000;
pub const O_WRONLY: i32 = 0x001;
pub const O_RDWR: i32 = 0x002;
pub const O_CREATE: i32 = 0x200;
pub const O_TRUNC: i32 = 0x400;

/// Major device number of the console (`mknod("console", CONSOLE, 0)`).
pub const CONSOLE: i16 = 1;
