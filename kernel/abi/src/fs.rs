//! The on-disk file system format, as in xv6's `kernel/fs.h` and `mkfs/mkfs.c`.
//!
//! Disk layout, in blocks of `BSIZE` bytes:
//!
//! ```text
//! [ boot | super | log header, log blocks | inode blocks | free bitmap | data blocks ]
//!    0       1      sb.logstart ...          sb.inodestart  sb.bmapstart
//! ```
//!
//! All integers are little-endian. The structs are `#[repr(C)]` so the kernel can use them in
//! place; host code (mkfs, the debugger) uses the explicit `decode`/`encode` methods instead.

use crate::param::LOGSIZE;

/// Block size in bytes.
pub const BSIZE: usize = 1024;
/// Superblock magic number.
pub const FSMAGIC: u32 = 0x1020_3040;
/// Root directory's inode number.
pub const ROOTINO: u32 = 1;
/// Number of direct block addresses in an inode.
pub const NDIRECT: usize = 12;
/// Number of block addresses in the indirect block.
pub const NINDIRECT: usize = BSIZE / 4;
/// Largest file, in blocks.
pub const MAXFILE: usize = NDIRECT + NINDIRECT;
/// The two layouts of a file's blocks. `Classic` is xv6's: `NDIRECT` direct blocks, then one
/// indirect block of `NINDIRECT` addresses. `Big` is the fs lab's large files (the bundled
/// kernel's `bigfile` lab option): one direct block fewer, the indirect block, then a
/// doubly-indirect block (an indirect block of indirect blocks) in the last address slot.
/// The inode keeps its 13 addresses either way; a `Big` image says so with its own magic
/// number, so that neither kernel mounts the other's layout, and readers tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Classic,
    Big,
}

/// Where one block of a file is found (see [`Layout::locate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRef {
    /// `addrs[i]`.
    Direct(usize),
    /// Slot `i` of the indirect block, `addrs[ndirect]`.
    Indirect(usize),
    /// Slot `j` of the indirect block in slot `i` of the doubly-indirect block,
    /// `addrs[ndirect + 1]`.
    Double(usize, usize),
}

/// The superblock magic of a `Layout::Big` image.
pub const FSMAGIC_BIG: u32 = 0x1020_3041;
/// Size in blocks of the bundled `Big` image: room for one file of `Layout::Big`'s largest
/// size (65803 blocks, 64 MiB) besides the programs.
pub const FSSIZE_BIG: usize = 100_000;

impl Layout {
    /// The layout a superblock magic announces.
    pub const fn of_magic(magic: u32) -> Option<Layout> {
        match magic {
            FSMAGIC => Some(Layout::Classic),
            FSMAGIC_BIG => Some(Layout::Big),
            _ => None,
        }
    }

    pub const fn magic(self) -> u32 {
        match self {
            Layout::Classic => FSMAGIC,
            Layout::Big => FSMAGIC_BIG,
        }
    }

    /// Direct block addresses in an inode.
    pub const fn ndirect(self) -> usize {
        match self {
            Layout::Classic => NDIRECT,
            Layout::Big => NDIRECT - 1,
        }
    }

    /// Largest file, in blocks: 268 or 65803.
    pub const fn maxfile(self) -> usize {
        match self {
            Layout::Classic => MAXFILE,
            Layout::Big => NDIRECT - 1 + NINDIRECT + NINDIRECT * NINDIRECT,
        }
    }

    /// Where block `bn` of a file lives, or None past the largest file.
    pub const fn locate(self, bn: usize) -> Option<BlockRef> {
        let nd = self.ndirect();
        if bn < nd {
            return Some(BlockRef::Direct(bn));
        }
        let bn = bn - nd;
        if bn < NINDIRECT {
            return Some(BlockRef::Indirect(bn));
        }
        let bn = bn - NINDIRECT;
        match self {
            Layout::Big if bn < NINDIRECT * NINDIRECT => {
                Some(BlockRef::Double(bn / NINDIRECT, bn % NINDIRECT))
            }
            _ => None,
        }
    }
}

/// Length of a directory entry's name (not NUL-terminated when full).
pub const DIRSIZ: usize = 14;
/// On-disk inodes per block.
pub const IPB: usize = BSIZE / core::mem::size_of::<DInode>();
/// Bitmap bits per block.
pub const BPB: usize = BSIZE * 8;

/// The superblock, in block 1.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SuperBlock {
    /// Must be `FSMAGIC`.
    pub magic: u32,
    /// Size of the file system image in blocks.
    pub size: u32,
    /// Number of data blocks.
    pub nblocks: u32,
    /// Number of inodes.
    pub ninodes: u32,
    /// Number of log blocks (header included).
    pub nlog: u32,
    /// Block number of the first log block.
    pub logstart: u32,
    /// Block number of the first inode block.
    pub inodestart: u32,
    /// Block number of the first free-map block.
    pub bmapstart: u32,
}

/// An on-disk inode (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DInode {
    /// File type (`T_DIR`, `T_FILE`, `T_DEVICE`), 0 when free.
    pub typ: i16,
    /// Major device number (`T_DEVICE` only).
    pub major: i16,
    /// Minor device number (`T_DEVICE` only).
    pub minor: i16,
    /// Number of directory entries that refer to this inode.
    pub nlink: i16,
    /// Size of the file in bytes.
    pub size: u32,
    /// `NDIRECT` direct block addresses, then the indirect block's address.
    pub addrs: [u32; NDIRECT + 1],
}

/// A directory entry (16 bytes). `inum == 0` marks a free entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dirent {
    pub inum: u16,
    pub name: [u8; DIRSIZ],
}

/// The log header, in block `sb.logstart`: the home block numbers of the logged blocks.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogHeader {
    pub n: i32,
    pub block: [i32; LOGSIZE],
}

const _: () = assert!(core::mem::size_of::<SuperBlock>() == 32);
const _: () = assert!(core::mem::size_of::<DInode>() == 64);
const _: () = assert!(core::mem::size_of::<Dirent>() == 16);
const _: () = assert!(core::mem::size_of::<LogHeader>() <= BSIZE);

/// Block containing inode `inum`.
pub const fn iblock(inum: u32, sb: &SuperBlock) -> u32 {
    inum / IPB as u32 + sb.inodestart
}

/// Block of the free map containing the bit for block `b`.
pub const fn bblock(b: u32, sb: &SuperBlock) -> u32 {
    b / BPB as u32 + sb.bmapstart
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le16(b: &[u8], at: usize) -> i16 {
    i16::from_le_bytes([b[at], b[at + 1]])
}

impl SuperBlock {
    /// Reads a superblock from the first 32 bytes of `b`. Panics if `b` is shorter.
    pub fn decode(b: &[u8]) -> Self {
        SuperBlock {
            magic: le32(b, 0),
            size: le32(b, 4),
            nblocks: le32(b, 8),
            ninodes: le32(b, 12),
            nlog: le32(b, 16),
            logstart: le32(b, 20),
            inodestart: le32(b, 24),
            bmapstart: le32(b, 28),
        }
    }

    /// Writes the superblock into the first 32 bytes of `b`.
    pub fn encode(&self, b: &mut [u8]) {
        let fields = [
            self.magic,
            self.size,
            self.nblocks,
            self.ninodes,
            self.nlog,
            self.logstart,
            self.inodestart,
            self.bmapstart,
        ];
        for (i, f) in fields.iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&f.to_le_bytes());
        }
    }
}

impl DInode {
    /// Reads an inode from the first 64 bytes of `b`.
    pub fn decode(b: &[u8]) -> Self {
        let mut addrs = [0u32; NDIRECT + 1];
        for (i, a) in addrs.iter_mut().enumerate() {
            *a = le32(b, 12 + 4 * i);
        }
        DInode {
            typ: le16(b, 0),
            major: le16(b, 2),
            minor: le16(b, 4),
            nlink: le16(b, 6),
            size: le32(b, 8),
            addrs,
        }
    }

    /// Writes the inode into the first 64 bytes of `b`.
    pub fn encode(&self, b: &mut [u8]) {
        b[0..2].copy_from_slice(&self.typ.to_le_bytes());
        b[2..4].copy_from_slice(&self.major.to_le_bytes());
        b[4..6].copy_from_slice(&self.minor.to_le_bytes());
        b[6..8].copy_from_slice(&self.nlink.to_le_bytes());
        b[8..12].copy_from_slice(&self.size.to_le_bytes());
        for (i, a) in self.addrs.iter().enumerate() {
            b[12 + 4 * i..16 + 4 * i].copy_from_slice(&a.to_le_bytes());
        }
    }
}

impl Dirent {
    /// Reads a directory entry from the first 16 bytes of `b`.
    pub fn decode(b: &[u8]) -> Self {
        let mut name = [0u8; DIRSIZ];
        name.copy_from_slice(&b[2..2 + DIRSIZ]);
        Dirent {
            inum: u16::from_le_bytes([b[0], b[1]]),
            name,
        }
    }

    /// Writes the entry into the first 16 bytes of `b`.
    pub fn encode(&self, b: &mut [u8]) {
        b[0..2].copy_from_slice(&self.inum.to_le_bytes());
        b[2..2 + DIRSIZ].copy_from_slice(&self.name);
    }

    /// An entry for `name`, truncated to `DIRSIZ` bytes as xv6 does.
    pub fn new(inum: u16, name: &[u8]) -> Self {
        let mut d = Dirent {
            inum,
            name: [0; DIRSIZ],
        };
        let n = name.len().min(DIRSIZ);
        d.name[..n].copy_from_slice(&name[..n]);
        d
    }

    /// The name up to its first NUL (or all `DIRSIZ` bytes).
    pub fn name_bytes(&self) -> &[u8] {
        let end = self.name.iter().position(|&c| c == 0).unwrap_or(DIRSIZ);
        &self.name[..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_place_blocks() {
        assert_eq!(Layout::Classic.locate(11), Some(BlockRef::Direct(11)));
        assert_eq!(Layout::Classic.locate(12), Some(BlockRef::Indirect(0)));
        assert_eq!(Layout::Classic.locate(MAXFILE), None);
        assert_eq!(Layout::Big.locate(11), Some(BlockRef::Indirect(0)));
        assert_eq!(Layout::Big.locate(11 + 256), Some(BlockRef::Double(0, 0)));
        assert_eq!(
            Layout::Big.locate(11 + 256 + 257),
            Some(BlockRef::Double(1, 1))
        );
        assert_eq!(Layout::Big.maxfile(), 65803);
        assert_eq!(Layout::Big.locate(65802), Some(BlockRef::Double(255, 255)));
        assert_eq!(Layout::Big.locate(65803), None);
        assert_eq!(Layout::of_magic(FSMAGIC_BIG), Some(Layout::Big));
    }

    #[test]
    fn superblock_round_trips_through_bytes() {
        let sb = SuperBlock {
            magic: FSMAGIC,
            size: 2000,
            nblocks: 1954,
            ninodes: 200,
            nlog: 31,
            logstart: 2,
            inodestart: 33,
            bmapstart: 46,
        };
        let mut b = [0u8; BSIZE];
        sb.encode(&mut b);
        assert_eq!(&b[0..4], &[0x40, 0x30, 0x20, 0x10]);
        assert_eq!(SuperBlock::decode(&b), sb);
    }

    #[test]
    fn dinode_and_dirent_round_trip() {
        let mut d = DInode {
            typ: 2,
            major: 0,
            minor: 0,
            nlink: 1,
            size: 5000,
            ..Default::default()
        };
        d.addrs[12] = 777;
        let mut b = [0u8; 64];
        d.encode(&mut b);
        assert_eq!(DInode::decode(&b), d);
        let e = Dirent::new(7, b"README");
        let mut b = [0u8; 16];
        e.encode(&mut b);
        assert_eq!(Dirent::decode(&b).name_bytes(), b"README");
        assert_eq!(
            Dirent::new(1, b"a-name-longer-than-14").name_bytes().len(),
            DIRSIZ
        );
    }

    #[test]
    fn geometry_matches_xv6() {
        assert_eq!(IPB, 16);
        assert_eq!(MAXFILE, 268);
        let sb = SuperBlock {
            inodestart: 32,
            bmapstart: 45,
            ..Default::default()
        };
        assert_eq!(iblock(17, &sb), 33);
        assert_eq!(bblock(8193, &sb), 46);
    }
}
