//! A read-only view of an xv6 file system image.
//!
//! [`Image::open`] checks the superblock (magic, and that log, inodes, bitmap and data follow
//! one another inside the image) once; afterwards every inode number and block address taken
//! from the image is range-checked where it is used, so that any corruption surfaces as an
//! [`FsError`] naming the inode or block at fault. Nothing here writes to the image.
//!
//! What the reader assumes, as xv6's kernel does: file blocks live in the data area (after the
//! bitmap, before `sb.size`); a directory is an array of 16-byte entries where `inum == 0`
//! marks a free slot; names compare on their first `DIRSIZ` bytes. A zero block address inside
//! a file's size reads as zeros (MIT's mkfs can leave one at the end of the root directory).

use std::collections::{HashSet, VecDeque};

use abi::fs::{
    BPB, BSIZE, BlockRef, DIRSIZ, DInode, Dirent, FSMAGIC, IPB, Layout, ROOTINO, SuperBlock,
};
use abi::param::ROOTDEV;
use abi::stat::{Stat, T_DEVICE, T_DIR, T_FILE};

/// Why an image, or a question about it, was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FsError {
    #[error("image is {len} bytes; an xv6 image has at least a boot block and a superblock")]
    TooShort { len: usize },
    #[error("bad superblock magic {0:#010x} (expected {FSMAGIC:#010x}): not an xv6 file system")]
    BadMagic(u32),
    #[error("superblock says {blocks} blocks of {BSIZE} bytes but the image is {len} bytes")]
    Truncated { blocks: u32, len: usize },
    #[error("inconsistent superblock: {0}")]
    BadGeometry(String),
    #[error("inode number {inum} is out of range (the image has {ninodes} inodes)")]
    BadInum { inum: u32, ninodes: u32 },
    #[error("inode {0} is free")]
    FreeInode(u32),
    #[error("inode {inum} has unknown type {typ}")]
    BadType { inum: u32, typ: i16 },
    #[error("inode {inum} points at block {addr}, outside the data area {start}..{end}")]
    BadBlock {
        inum: u32,
        addr: u32,
        start: u32,
        end: u32,
    },
    #[error("inode {inum} claims {size} bytes; an xv6 file holds at most {max}")]
    BadSize { inum: u32, size: u32, max: usize },
    #[error("{0}: not a directory")]
    NotADirectory(String),
    #[error("{0}: no such file or directory")]
    NotFound(String),
    #[error("inode {0} is not reachable from the root directory")]
    Unreachable(u32),
}

/// One used slot of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub inum: u32,
    /// The name's bytes up to the first NUL, decoded lossily as UTF-8.
    pub name: String,
}

/// A validated xv6 image held in memory.
#[derive(Clone, Debug)]
pub struct Image {
    data: Vec<u8>,
    sb: SuperBlock,
    /// First data block: everything from here to `sb.size` may belong to files.
    data_start: u32,
    /// xv6's block layout, or the fs lab's large files (by the superblock's magic).
    layout: Layout,
}

impl Image {
    /// Checks the superblock of `bytes` and keeps the image.
    pub fn open(bytes: impl Into<Vec<u8>>) -> Result<Image, FsError> {
        let data = bytes.into();
        if data.len() < 2 * BSIZE {
            return Err(FsError::TooShort { len: data.len() });
        }
        let sb = SuperBlock::decode(&data[BSIZE..2 * BSIZE]);
        let Some(layout) = Layout::of_magic(sb.magic) else {
            return Err(FsError::BadMagic(sb.magic));
        };
        if (sb.size as u64) * BSIZE as u64 > data.len() as u64 {
            return Err(FsError::Truncated {
                blocks: sb.size,
                len: data.len(),
            });
        }
        let bad = |what: String| Err(FsError::BadGeometry(what));
        let inode_blocks = (sb.ninodes as u64).div_ceil(IPB as u64);
        let bitmap_blocks = (sb.size as u64).div_ceil(BPB as u64);
        let (logstart, nlog) = (sb.logstart as u64, sb.nlog as u64);
        let (inodestart, bmapstart) = (sb.inodestart as u64, sb.bmapstart as u64);
        if logstart < 2 || nlog == 0 || logstart + nlog > inodestart {
            return bad(format!(
                "log blocks {logstart}..{} overlap the superblock or the inodes at {inodestart}",
                logstart + nlog
            ));
        }
        if sb.ninodes < 2 || inodestart + inode_blocks > bmapstart {
            return bad(format!(
                "{} inodes from block {inodestart} run into the bitmap at {bmapstart}",
                sb.ninodes
            ));
        }
        if sb.nblocks == 0 || sb.nblocks > sb.size {
            return bad(format!(
                "{} data blocks in a {}-block image",
                sb.nblocks, sb.size
            ));
        }
        let data_start = sb.size - sb.nblocks;
        if bmapstart + bitmap_blocks > data_start as u64 {
            return bad(format!(
                "bitmap at {bmapstart} ({bitmap_blocks} blocks) runs into the data at {data_start}"
            ));
        }
        Ok(Image {
            data,
            sb,
            data_start,
            layout,
        })
    }

    /// The superblock.
    pub fn superblock(&self) -> &SuperBlock {
        &self.sb
    }

    /// The whole image.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The range of block numbers that hold file data.
    pub fn data_blocks(&self) -> std::ops::Range<u32> {
        self.data_start..self.sb.size
    }

    /// Whether the free bitmap marks block `b` as in use (false for blocks past the end).
    pub fn block_in_use(&self, b: u32) -> bool {
        if b >= self.sb.size {
            return false;
        }
        let at = self.sb.bmapstart as usize * BSIZE + b as usize / 8;
        self.data[at] & (1 << (b % 8)) != 0
    }

    /// Block `b`; `b` must be inside the image (checked by `open` for metadata blocks).
    fn block(&self, b: u32) -> &[u8] {
        let at = b as usize * BSIZE;
        &self.data[at..at + BSIZE]
    }

    /// The on-disk inode `inum`, which must be allocated and of a known type.
    pub fn inode(&self, inum: u32) -> Result<DInode, FsError> {
        if inum == 0 || inum >= self.sb.ninodes {
            return Err(FsError::BadInum {
                inum,
                ninodes: self.sb.ninodes,
            });
        }
        let b = self.block(abi::fs::iblock(inum, &self.sb));
        let at = (inum as usize % IPB) * 64;
        let din = DInode::decode(&b[at..at + 64]);
        match din.typ {
            0 => Err(FsError::FreeInode(inum)),
            T_DIR | T_FILE | T_DEVICE => Ok(din),
            typ => Err(FsError::BadType { inum, typ }),
        }
    }

    /// Every allocated inode with a known type, in inode-number order (free slots and
    /// slots of unknown type are skipped).
    pub fn inodes(&self) -> impl Iterator<Item = (u32, DInode)> + '_ {
        (1..self.sb.ninodes).filter_map(|inum| self.inode(inum).ok().map(|d| (inum, d)))
    }

    /// Block numbers recorded in the log header: blocks committed to the log but not yet
    /// installed (empty after a clean shutdown). Counts beyond the log's size are clamped.
    pub fn pending_log_blocks(&self) -> Vec<u32> {
        let h = self.block(self.sb.logstart);
        let n = i32::from_le_bytes([h[0], h[1], h[2], h[3]]).max(0) as usize;
        let max = (self.sb.nlog as usize).saturating_sub(1).min(BSIZE / 4 - 1);
        (0..n.min(max))
            .map(|i| u32::from_le_bytes([h[4 + 4 * i], h[5 + 4 * i], h[6 + 4 * i], h[7 + 4 * i]]))
            .collect()
    }

    /// `struct stat` for inode `inum`, as `fstat` would fill it on the root device.
    pub fn stat(&self, inum: u32) -> Result<Stat, FsError> {
        let din = self.inode(inum)?;
        Ok(Stat {
            dev: ROOTDEV as i32,
            ino: inum,
            typ: din.typ,
            nlink: din.nlink,
            size: din.size as u64,
        })
    }

    fn check_addr(&self, inum: u32, addr: u32) -> Result<u32, FsError> {
        if addr != 0 && !(self.data_start..self.sb.size).contains(&addr) {
            return Err(FsError::BadBlock {
                inum,
                addr,
                start: self.data_start,
                end: self.sb.size,
            });
        }
        Ok(addr)
    }

    /// The disk block of each of inode `inum`'s blocks in file order, 0 for a hole, covering
    /// its size.
    pub fn block_addrs(&self, inum: u32) -> Result<Vec<u32>, FsError> {
        let din = self.inode(inum)?;
        let max = self.layout.maxfile() * BSIZE;
        if din.size as usize > max {
            return Err(FsError::BadSize {
                inum,
                size: din.size,
                max,
            });
        }
        let nblocks = (din.size as usize).div_ceil(BSIZE);
        let nd = self.layout.ndirect();
        let mut addrs = Vec::with_capacity(nblocks);
        for bn in 0..nblocks {
            let a = match self.layout.locate(bn) {
                Some(BlockRef::Direct(i)) => din.addrs[i],
                Some(BlockRef::Indirect(i)) => {
                    let table = self.check_addr(inum, din.addrs[nd])?;
                    self.entry(table, i)
                }
                Some(BlockRef::Double(i, j)) => {
                    let double = self.check_addr(inum, din.addrs[nd + 1])?;
                    let table = self.check_addr(inum, self.entry(double, i))?;
                    self.entry(table, j)
                }
                None => 0,
            };
            addrs.push(self.check_addr(inum, a)?);
        }
        Ok(addrs)
    }

    /// Entry `i` of indirect block `table` (0 for a hole, or when `table` is 0).
    fn entry(&self, table: u32, i: usize) -> u32 {
        if table == 0 {
            return 0;
        }
        let b = self.block(table);
        u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
    }

    /// How this image's files map their blocks (from its superblock's magic).
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The contents of inode `inum` (any type; a device has none).
    pub fn read_file(&self, inum: u32) -> Result<Vec<u8>, FsError> {
        let size = self.inode(inum)?.size as usize;
        let mut out = Vec::with_capacity(size);
        for a in self.block_addrs(inum)? {
            let n = (size - out.len()).min(BSIZE);
            if a == 0 {
                out.resize(out.len() + n, 0);
            } else {
                out.extend_from_slice(&self.block(a)[..n]);
            }
        }
        Ok(out)
    }

    /// The used entries of directory `inum`, in slot order (`.` and `..` included).
    pub fn list_dir(&self, inum: u32) -> Result<Vec<DirEntry>, FsError> {
        if self.inode(inum)?.typ != T_DIR {
            return Err(FsError::NotADirectory(format!("inode {inum}")));
        }
        let raw = self.read_file(inum)?;
        Ok(raw
            .chunks_exact(16)
            .map(Dirent::decode)
            .filter(|d| d.inum != 0)
            .map(|d| DirEntry {
                inum: d.inum as u32,
                name: String::from_utf8_lossy(d.name_bytes()).into_owned(),
            })
            .collect())
    }

    /// The inode that `path` names, resolved from the root (a relative path is taken as
    /// relative to the root). Components compare on their first `DIRSIZ` bytes, as in xv6.
    pub fn lookup(&self, path: &str) -> Result<u32, FsError> {
        let mut inum = ROOTINO;
        let mut walked = String::new();
        for name in path.split('/').filter(|c| !c.is_empty()) {
            if self.inode(inum)?.typ != T_DIR {
                return Err(FsError::NotADirectory(if walked.is_empty() {
                    "/".into()
                } else {
                    walked
                }));
            }
            walked.push('/');
            walked.push_str(name);
            let key = &name.as_bytes()[..name.len().min(DIRSIZ)];
            inum = self
                .list_dir(inum)?
                .into_iter()
                .find(|e| e.name.as_bytes() == key)
                .map(|e| e.inum)
                .ok_or_else(|| FsError::NotFound(walked.clone()))?;
        }
        self.inode(inum)?;
        Ok(inum)
    }

    /// Every path reachable from the root with its inode number and type, breadth first
    /// (the root itself first, as "/"). A file with several links appears under each name;
    /// each directory is listed once, so a corrupt image with a cycle cannot loop, and
    /// directories that cannot be read are skipped.
    pub fn tree(&self) -> Vec<(String, u32, i16)> {
        let mut out = vec![("/".to_string(), ROOTINO, T_DIR)];
        let mut seen = HashSet::from([ROOTINO]);
        let mut queue = VecDeque::from([(ROOTINO, String::new())]);
        while let Some((dir, prefix)) = queue.pop_front() {
            let Ok(entries) = self.list_dir(dir) else {
                continue;
            };
            for e in entries {
                if e.name == "." || e.name == ".." {
                    continue;
                }
                let Ok(din) = self.inode(e.inum) else {
                    continue;
                };
                let path = format!("{prefix}/{}", e.name);
                if din.typ == T_DIR && seen.insert(e.inum) {
                    queue.push_back((e.inum, path.clone()));
                }
                out.push((path, e.inum, din.typ));
            }
        }
        out
    }

    /// An absolute path naming inode `inum`: the first found in a breadth-first walk from the
    /// root (a file with several links has several paths). Directories that cannot be read
    /// are skipped; cycles are not followed.
    pub fn path_of(&self, inum: u32) -> Result<String, FsError> {
        self.inode(inum)?;
        self.tree()
            .into_iter()
            .find(|(_, i, _)| *i == inum)
            .map(|(path, ..)| path)
            .ok_or(FsError::Unreachable(inum))
    }
}
