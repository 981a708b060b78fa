//! Building a file system image, block for block as MIT's `mkfs/mkfs.c` lays it out.
//!
//! Layout for the default [`Geometry`] (2000 blocks, 30 log blocks, 200 inodes):
//!
//! ```text
//! block 0      boot block (zero)
//! block 1      superblock
//! blocks 2..32   log (header block first; all zero = empty log)
//! blocks 32..45  inodes, 16 per block (200 inodes need 13 blocks)
//! block 45     free bitmap (one bit per block; 2000 blocks fit in one)
//! blocks 46..  data: the root directory's first block, then the files' blocks
//! ```
//!
//! Allocation order is MIT's, which is what makes the output byte-identical to its images:
//! inodes are numbered from 1 (the root) in argument order; data blocks are taken in order
//! from the first data block as bytes are appended, the root directory's entry for a file
//! being appended before the file's contents; a file's indirect block is taken when its 13th
//! block is first needed, before that block. The bitmap marks every block below the first
//! never-allocated one as in use (the metadata blocks included).
//!
//! One deliberate difference: MIT rounds the root directory's size up to the next block
//! boundary with `(size / BSIZE + 1) * BSIZE`, which overshoots by a whole unallocated block
//! when the entries exactly fill their blocks. Here the size rounds up to the boundary only;
//! both agree whenever the last block is partly used (fewer or more than 64 files mod 64).

use abi::fs::{
    BPB, BSIZE, BlockRef, DIRSIZ, DInode, Dirent, FSSIZE_BIG, IPB, Layout, ROOTINO, SuperBlock,
};
use abi::param::{FSSIZE, LOGSIZE};
use abi::stat::{T_DIR, T_FILE};

/// Shape of an image. [`Geometry::default`] is xv6's: `FSSIZE` blocks, `LOGSIZE` log blocks
/// and MIT mkfs's 200 inodes, files in xv6's block layout. [`Geometry::big`] is the fs lab's
/// large-file layout (`abi::fs::Layout::Big`) on `FSSIZE_BIG` blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Total size in blocks.
    pub size: u32,
    /// Number of inodes (inode 0 is never used, so `ninodes - 1` files and directories fit).
    pub ninodes: u32,
    /// Number of log blocks, header included (MIT's mkfs uses `LOGSIZE`).
    pub nlog: u32,
    /// How files map their blocks (and the superblock magic that says so).
    pub layout: Layout,
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry {
            size: FSSIZE as u32,
            ninodes: 200,
            nlog: LOGSIZE as u32,
            layout: Layout::Classic,
        }
    }
}

impl Geometry {
    /// The image the bundled kernel's `bigfile` lab option needs: large files, and room for
    /// the largest.
    pub fn big() -> Geometry {
        Geometry {
            size: FSSIZE_BIG as u32,
            layout: Layout::Big,
            ..Geometry::default()
        }
    }

    /// The superblock this geometry implies, with MIT's formulas (note `+ 1` rather than a
    /// ceiling for both the inode and the bitmap block counts).
    pub fn superblock(&self) -> SuperBlock {
        let ninodeblocks = self.ninodes / IPB as u32 + 1;
        let nbitmap = self.size / BPB as u32 + 1;
        let nmeta = 2 + self.nlog + ninodeblocks + nbitmap;
        SuperBlock {
            magic: self.layout.magic(),
            size: self.size,
            nblocks: self.size.saturating_sub(nmeta),
            ninodes: self.ninodes,
            nlog: self.nlog,
            logstart: 2,
            inodestart: 2 + self.nlog,
            bmapstart: 2 + self.nlog + ninodeblocks,
        }
    }
}

/// Why an image could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MkfsError {
    #[error("file name {0:?} is empty once its directory and leading '_' are stripped")]
    EmptyName(String),
    #[error("two files would both be called {0:?} in the root directory")]
    DuplicateName(String),
    #[error(
        "{name:?} is {size} bytes; an xv6 file holds at most {max} bytes \
         (for a program built with debug info, store mkfs::strip_elf of it)"
    )]
    FileTooLarge {
        name: String,
        size: usize,
        max: usize,
    },
    #[error("out of inodes: the image has {0} (inode 0 is reserved)")]
    OutOfInodes(u32),
    #[error("out of data blocks: the image has {0} blocks in all")]
    DiskFull(u32),
    #[error("geometry {0:?} leaves no room for data or needs more than one bitmap block")]
    BadGeometry(Geometry),
}

/// The name a host file gets in the image's root directory: its last path component, less
/// one leading `_` (MIT names its binaries `user/_ls` so the host never runs them by mistake).
/// Names longer than `DIRSIZ` bytes are truncated by the directory entry, as in xv6.
pub fn short_name(path: &str) -> &str {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    base.strip_prefix('_').unwrap_or(base)
}

/// Builds an xv6 image with the default geometry holding `files` (host path or name, and
/// contents) in its root directory, in order.
pub fn build(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, MkfsError> {
    build_with(Geometry::default(), files)
}

/// [`build`] with an explicit geometry.
pub fn build_with(geo: Geometry, files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, MkfsError> {
    let sb = geo.superblock();
    let first_data = sb.size.saturating_sub(sb.nblocks);
    // MIT writes the whole bitmap as one block; more blocks than BPB would need more (the
    // bitmap blocks follow each other, so the big layout's image simply fills several).
    if sb.nblocks == 0 || (geo.layout == Layout::Classic && sb.size as usize > BPB) {
        return Err(MkfsError::BadGeometry(geo));
    }
    let mut fs = Builder {
        img: vec![0u8; sb.size as usize * BSIZE],
        sb,
        layout: geo.layout,
        next_inode: 1,
        next_block: first_data,
    };
    sb.encode(&mut fs.img[BSIZE..2 * BSIZE]);

    let root = fs.ialloc(T_DIR)?;
    debug_assert_eq!(root, ROOTINO);
    fs.append_dirent(root, root, b".")?;
    fs.append_dirent(root, root, b"..")?;

    // Names as the directory will hold them: truncated to DIRSIZ bytes.
    let mut seen: Vec<&[u8]> = vec![b".", b".."];
    for (path, data) in files {
        let name = short_name(path);
        if name.is_empty() {
            return Err(MkfsError::EmptyName(path.clone()));
        }
        let stored = &name.as_bytes()[..name.len().min(DIRSIZ)];
        if seen.contains(&stored) {
            return Err(MkfsError::DuplicateName(name.to_string()));
        }
        seen.push(stored);
        if data.len() > geo.layout.maxfile() * BSIZE {
            return Err(MkfsError::FileTooLarge {
                name: name.to_string(),
                size: data.len(),
                max: geo.layout.maxfile() * BSIZE,
            });
        }
        let inum = fs.ialloc(T_FILE)?;
        fs.append_dirent(root, inum, name.as_bytes())?;
        fs.iappend(inum, data)?;
    }

    // The root's size covers its last block whole, so the kernel's dirlookup and ls scan
    // every slot of that block (free slots have inum 0).
    let mut din = fs.rinode(root);
    din.size = (din.size as usize).div_ceil(BSIZE) as u32 * BSIZE as u32;
    fs.winode(root, &din);

    // Every block below next_block is in use; the bitmap holds one bit per block, LSB first.
    let bmap = sb.bmapstart as usize * BSIZE;
    for b in 0..fs.next_block as usize {
        fs.img[bmap + b / 8] |= 1 << (b % 8);
    }
    Ok(fs.img)
}

/// The image under construction and its two allocation cursors.
struct Builder {
    img: Vec<u8>,
    sb: SuperBlock,
    layout: Layout,
    next_inode: u32,
    next_block: u32,
}

impl Builder {
    fn block(&mut self, b: u32) -> &mut [u8] {
        let at = b as usize * BSIZE;
        &mut self.img[at..at + BSIZE]
    }

    fn inode_at(&self, inum: u32) -> usize {
        abi::fs::iblock(inum, &self.sb) as usize * BSIZE + (inum as usize % IPB) * 64
    }

    fn rinode(&self, inum: u32) -> DInode {
        let at = self.inode_at(inum);
        DInode::decode(&self.img[at..at + 64])
    }

    fn winode(&mut self, inum: u32, din: &DInode) {
        let at = self.inode_at(inum);
        din.encode(&mut self.img[at..at + 64]);
    }

    fn ialloc(&mut self, typ: i16) -> Result<u32, MkfsError> {
        let inum = self.next_inode;
        if inum >= self.sb.ninodes {
            return Err(MkfsError::OutOfInodes(self.sb.ninodes));
        }
        self.next_inode += 1;
        self.winode(
            inum,
            &DInode {
                typ,
                nlink: 1,
                ..Default::default()
            },
        );
        Ok(inum)
    }

    fn balloc(&mut self) -> Result<u32, MkfsError> {
        let b = self.next_block;
        if b >= self.sb.size {
            return Err(MkfsError::DiskFull(self.sb.size));
        }
        self.next_block += 1;
        Ok(b)
    }

    fn append_dirent(&mut self, dir: u32, inum: u32, name: &[u8]) -> Result<(), MkfsError> {
        let mut raw = [0u8; 16];
        Dirent::new(inum as u16, name).encode(&mut raw);
        self.iappend(dir, &raw)
    }

    /// The block in `*slot`, allocated first if it is 0.
    fn ensure_addr(&mut self, slot: &mut u32) -> Result<u32, MkfsError> {
        if *slot == 0 {
            *slot = self.balloc()?;
        }
        Ok(*slot)
    }

    /// Entry `i` of indirect block `table`, allocated first if it is 0.
    fn ensure_entry(&mut self, table: u32, i: usize) -> Result<u32, MkfsError> {
        let slot = i * 4;
        let cur = u32::from_le_bytes(self.block(table)[slot..slot + 4].try_into().unwrap());
        if cur != 0 {
            return Ok(cur);
        }
        let nb = self.balloc()?;
        self.block(table)[slot..slot + 4].copy_from_slice(&nb.to_le_bytes());
        Ok(nb)
    }

    /// Appends `data` to inode `inum`, allocating blocks in MIT's order.
    fn iappend(&mut self, inum: u32, mut data: &[u8]) -> Result<(), MkfsError> {
        let mut din = self.rinode(inum);
        let mut off = din.size as usize;
        while !data.is_empty() {
            let fbn = off / BSIZE;
            // Callers check sizes against the largest file; a directory cannot outgrow it
            // with fewer inodes than MAXFILE * 64 entries.
            let nd = self.layout.ndirect();
            let addr = match self.layout.locate(fbn) {
                Some(BlockRef::Direct(i)) => self.ensure_addr(&mut din.addrs[i])?,
                Some(BlockRef::Indirect(i)) => {
                    let table = self.ensure_addr(&mut din.addrs[nd])?;
                    self.ensure_entry(table, i)?
                }
                Some(BlockRef::Double(i, j)) => {
                    let double = self.ensure_addr(&mut din.addrs[nd + 1])?;
                    let table = self.ensure_entry(double, i)?;
                    self.ensure_entry(table, j)?
                }
                None => unreachable!("file block {fbn} past the largest file"),
            };
            let start = off - fbn * BSIZE;
            let n = data.len().min(BSIZE - start);
            self.block(addr)[start..start + n].copy_from_slice(&data[..n]);
            data = &data[n..];
            off += n;
        }
        din.size = off as u32;
        self.winode(inum, &din);
        Ok(())
    }
}
