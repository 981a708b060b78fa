//! Kernel sizing parameters, as in xv6's `kernel/param.h`.

/// Maximum number of processes.
pub const NPROC: usize = 64;
/// Maximum number of CPUs (harts).
pub const NCPU: usize = 8;
/// Open files per process.
pub const NOFILE: usize = 16;
/// Open files per system.
pub const NFILE: usize = 100;
/// Maximum number of active in-memory inodes.
pub const NINODE: usize = 50;
/// Maximum major device number.
pub const NDEV: usize = 10;
/// Device number of the file system's root disk.
pub const ROOTDEV: u32 = 1;
/// Maximum number of exec arguments.
pub const MAXARG: usize = 32;
/// Maximum number of blocks any file system operation writes.
pub const MAXOPBLOCKS: usize = 10;
/// Maximum number of data blocks in the on-disk log.
pub const LOGSIZE: usize = MAXOPBLOCKS * 3;
/// Size of the disk block cache.
pub const NBUF: usize = MAXOPBLOCKS * 3;
/// Size of the file system in blocks.
pub const FSSIZE: usize = 2000;
/// Maximum length of a file path name, including the NUL.
pub const MAXPATH: usize = 128;
