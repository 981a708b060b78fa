//! File system: blocks, inodes, directories and path names (xv6's `fs.c`).
//!
//! Layers, bottom up (the buffer cache and the log are below, in `bio` and `log`):
//! - **Blocks**: `balloc`/`bfree` find and release data blocks in the free bitmap.
//! - **Inodes**: the in-memory table `itable` caches on-disk inodes (`DInode`). `iget` finds
//!   or makes an entry and counts a reference; `ilock` locks it and reads it from disk on
//!   first use; `iput` drops a reference and, when the last reference to an inode with no
//!   links goes, frees its blocks and the inode on disk. `readi`/`writei` move bytes,
//!   `bmap` maps a file block to a disk block (12 direct addresses, then one indirect block;
//!   with the bigfile lab option 11, one indirect and one doubly-indirect block, on an image
//!   of that layout), `itrunc` frees contents, `iupdate` writes the inode back, `stati` fills
//!   a `Stat`.
//! - **Directories**: a directory is a file of `Dirent`s; `dirlookup` and `dirlink`.
//! - **Path names**: `namei`/`nameiparent` walk `/a/b/c` from the root or the current
//!   directory, one element at a time (`skipelem`).
//!
//! Files: this one holds blocks and inodes; `dir.rs` holds directories and path names (its
//! items are re-exported here, so `fs::namei` etc. keep xv6's flat naming).
//!
//! Guards: [`IRef`] is one counted reference (drop = `iput`); [`ilock`] returns an
//! [`ILocked`] (drop = `iunlock`) that dereferences to the `Inode`. Declared in the order
//! "reference, then lock", they drop as xv6's `iunlockput`; [`LockedRef`] holds both and
//! drops in that order by construction. Functions that need the inode locked take
//! `&mut Inode`, which only an `ILocked` hands out. The contract functions `idup`, `iput`,
//! `namei` work on raw `*mut Inode` for callers outside the file system (process cwd, open
//! files).
//!
//! Invariants: an itable entry is free when `refcnt == 0`; `dev`/`inum` name the inode while
//! `refcnt > 0`; the other fields are a copy of the disk inode only when `valid != 0`.
//! Every call that can write the disk (ialloc, iupdate, writei, itrunc, dirlink, and iput,
//! which may free) runs inside a log operation.
//!
//! Locking: `itable.lock` (spin) guards `refcnt`, `dev`, `inum` of every entry and the choice
//! of free entries. Each inode's sleep-lock guards `valid`, `typ`, `major`, `minor`, `nlink`,
//! `size`, `addrs` and the inode's contents on disk. A path walk holds at most one inode lock
//! at a time (it unlocks the directory before locking the next element), so lookups of "."
//! and ".." cannot deadlock. `ILocked`'s `&mut Inode` must not be used to touch `refcnt`.

use core::ops::{Deref, DerefMut};
use core::ptr::{addr_of_mut, null_mut};

use abi::Stat;
use abi::fs::{
    BPB, BSIZE, BlockRef, DInode, FSMAGIC, IPB, Layout, NDIRECT, SuperBlock, bblock, iblock,
};
use abi::param::NINODE;

mod dir;
pub use dir::*;

use crate::bio::bread;
use crate::lab::{self, BIGFILE};
use crate::log::{initlog, log_write};
use crate::proc::{either_copyin, either_copyout};
use crate::sleeplock::Sleeplock;
use crate::spinlock::{Shared, Spinlock};

/// The in-memory copy of an inode, as xv6's `struct inode`.
#[repr(C)]
pub struct Inode {
    /// Device number (itable.lock).
    pub dev: u32,
    /// Inode number (itable.lock).
    pub inum: u32,
    /// References from open files, cwds and kernel code (itable.lock).
    pub refcnt: i32,
    /// Guards everything below.
    pub lock: Sleeplock,
    /// Has the inode been read from disk?
    pub valid: i32,
    /// Copy of the disk inode.
    pub typ: i16,
    pub major: i16,
    pub minor: i16,
    pub nlink: i16,
    pub size: u32,
    pub addrs: [u32; NDIRECT + 1],
}

impl Inode {
    const fn new() -> Self {
        Inode {
            dev: 0,
            inum: 0,
            refcnt: 0,
            lock: Sleeplock::new("inode"),
            valid: 0,
            typ: 0,
            major: 0,
            minor: 0,
            nlink: 0,
            size: 0,
            addrs: [0; NDIRECT + 1],
        }
    }
}

#[repr(C)]
pub struct Itable {
    pub lock: Spinlock,
    pub inode: [Inode; NINODE],
}

/// The inode table. See the module essay for its locking.
#[unsafe(no_mangle)]
pub static itable: Shared<Itable> = Shared::new(Itable {
    lock: Spinlock::new("itable"),
    inode: [const { Inode::new() }; NINODE],
});

/// The superblock of the one file system; written once by `fsinit`, read-only after.
static SB: Shared<SuperBlock> = Shared::new(SuperBlock {
    magic: 0,
    size: 0,
    nblocks: 0,
    ninodes: 0,
    nlog: 0,
    logstart: 0,
    inodestart: 0,
    bmapstart: 0,
});

fn itable_lock() -> &'static Spinlock {
    // SAFETY: the spinlock is only used through &self methods.
    unsafe { &(*itable.get()).lock }
}

fn superblock() -> &'static SuperBlock {
    // SAFETY: SB is written once in fsinit, before any other file-system use.
    unsafe { &*SB.get() }
}

/// Reads the superblock of `dev` and mounts the log (replaying a committed transaction).
/// Called once, from the first process (it sleeps on the disk).
pub fn fsinit(dev: u32) {
    {
        let bp = bread(dev, 1);
        let s = bp.view::<SuperBlock>()[0];
        // SAFETY: single writer, before any reader (see `SB`).
        unsafe { *SB.get() = s };
    }
    if superblock().magic != layout().magic() {
        if lab::on(BIGFILE) && superblock().magic == FSMAGIC {
            panic!("fsinit: the bigfile lab option needs a file system of its layout");
        }
        panic!("fsinit: invalid file system");
    }
    initlog(dev, superblock());
}

// ---------------------------------------------------------------------------------------
// Blocks.

/// Zeroes block `bno` (inside a transaction).
fn bzero(dev: u32, bno: u32) {
    let mut bp = bread(dev, bno);
    bp.data_mut().fill(0);
    log_write(&bp);
}

/// Allocates a zeroed block; returns 0 when the disk is full.
fn balloc(dev: u32) -> u32 {
    let sb = superblock();
    let mut b = 0;
    while b < sb.size {
        let mut bp = bread(dev, bblock(b, sb));
        let mut bi = 0;
        while bi < BPB as u32 && b + bi < sb.size {
            let m = 1u8 << (bi % 8);
            let byte = &mut bp.data_mut()[(bi / 8) as usize];
            if *byte & m == 0 {
                *byte |= m;
                log_write(&bp);
                drop(bp);
                bzero(dev, b + bi);
                return b + bi;
            }
            bi += 1;
        }
        b += BPB as u32;
    }
    println!("balloc: out of blocks");
    0
}

/// Marks block `b` free in the bitmap.
fn bfree(dev: u32, b: u32) {
    let mut bp = bread(dev, bblock(b, superblock()));
    let bi = b % BPB as u32;
    let m = 1u8 << (bi % 8);
    let byte = &mut bp.data_mut()[(bi / 8) as usize];
    if *byte & m == 0 {
        panic!("bfree: freeing free block");
    }
    *byte &= !m;
    log_write(&bp);
}

// ---------------------------------------------------------------------------------------
// Inodes.

/// Nothing to do at run time: the table and its locks are built at compile time. Kept
/// because the boot list names it, as xv6's does.
pub fn iinit() {}

/// A counted reference to an inode table entry; dropping it is `iput` (so it must be
/// dropped inside a log operation).
pub struct IRef(*mut Inode);

impl IRef {
    /// Takes over a reference counted elsewhere (e.g. `p.cwd`, `f.ip`).
    pub fn from_raw(ip: *mut Inode) -> IRef {
        IRef(ip)
    }

    /// Gives up the guard without dropping the reference.
    pub fn into_raw(self) -> *mut Inode {
        let ip = self.0;
        core::mem::forget(self);
        ip
    }

    pub fn as_ptr(&self) -> *mut Inode {
        self.0
    }

    /// Locks the inode (reading it from disk if needed) for as long as the returned
    /// guard lives; the reference stays with `self`.
    pub fn lock(&self) -> ILocked {
        ilock(self.0)
    }

    /// Locks the inode and moves the reference into the guard (drop = `iunlockput`).
    pub fn lock_owned(self) -> LockedRef {
        LockedRef {
            g: ilock(self.0),
            ip: self,
        }
    }

    pub fn inum(&self) -> u32 {
        // SAFETY: inum is stable while we hold a reference.
        unsafe { (*self.0).inum }
    }

    pub fn dev(&self) -> u32 {
        // SAFETY: dev is stable while we hold a reference.
        unsafe { (*self.0).dev }
    }
}

impl Drop for IRef {
    fn drop(&mut self) {
        iput(self.0);
    }
}

/// Finds the table entry for (dev, inum), taking a reference; neither locks the inode nor
/// reads it from disk.
fn iget(dev: u32, inum: u32) -> IRef {
    itable_lock().acquire();
    // SAFETY: itable.lock is held for refcnt/dev/inum of every entry.
    unsafe {
        let t = itable.get();
        let mut empty: *mut Inode = null_mut();
        for i in 0..NINODE {
            let ip = addr_of_mut!((*t).inode[i]);
            if (*ip).refcnt > 0 && (*ip).dev == dev && (*ip).inum == inum {
                (*ip).refcnt += 1;
                itable_lock().release();
                return IRef(ip);
            }
            if empty.is_null() && (*ip).refcnt == 0 {
                empty = ip;
            }
        }
        if empty.is_null() {
            panic!("iget: no inodes");
        }
        (*empty).dev = dev;
        (*empty).inum = inum;
        (*empty).refcnt = 1;
        (*empty).valid = 0;
        itable_lock().release();
        IRef(empty)
    }
}

/// Allocates an inode of type `typ` on `dev`; returns it referenced and unlocked, or `None`
/// when every inode is in use.
pub fn ialloc(dev: u32, typ: i16) -> Option<IRef> {
    let sb = superblock();
    for inum in 1..sb.ninodes {
        let mut bp = bread(dev, iblock(inum, sb));
        let dip = &mut bp.view_mut::<DInode>()[inum as usize % IPB];
        if dip.typ == 0 {
            *dip = DInode {
                typ,
                ..DInode::default()
            };
            log_write(&bp);
            drop(bp);
            return Some(iget(dev, inum));
        }
    }
    println!("ialloc: no inodes");
    None
}

/// Copies the in-memory inode to its disk block (inside a transaction). Call after every
/// change to a field that lives on disk.
pub fn iupdate(ip: &Inode) {
    let mut bp = bread(ip.dev, iblock(ip.inum, superblock()));
    let dip = &mut bp.view_mut::<DInode>()[ip.inum as usize % IPB];
    dip.typ = ip.typ;
    dip.major = ip.major;
    dip.minor = ip.minor;
    dip.nlink = ip.nlink;
    dip.size = ip.size;
    dip.addrs = ip.addrs;
    log_write(&bp);
}

/// Takes another reference to `ip` (contract form of `IRef` cloning).
pub fn idup(ip: *mut Inode) -> *mut Inode {
    itable_lock().acquire();
    // SAFETY: itable.lock guards refcnt; ip is a live entry (caller holds a reference).
    unsafe { (*ip).refcnt += 1 };
    itable_lock().release();
    ip
}

/// A locked inode; dropping it unlocks (xv6's `iunlock`). Does not own a reference.
pub struct ILocked(*mut Inode);

/// Locks `ip`, reading it from disk if this entry is not yet valid.
pub fn ilock(ip: *mut Inode) -> ILocked {
    // SAFETY: the caller holds a reference, so the entry stays this inode; refcnt is only
    // read for the sanity check. The fields read from disk are written under the sleep-lock.
    unsafe {
        if ip.is_null() || (*ip).refcnt < 1 {
            panic!("ilock");
        }
        (*ip).lock.acquire();
        if (*ip).valid == 0 {
            let bp = bread((*ip).dev, iblock((*ip).inum, superblock()));
            let dip = &bp.view::<DInode>()[(*ip).inum as usize % IPB];
            (*ip).typ = dip.typ;
            (*ip).major = dip.major;
            (*ip).minor = dip.minor;
            (*ip).nlink = dip.nlink;
            (*ip).size = dip.size;
            (*ip).addrs = dip.addrs;
            drop(bp);
            (*ip).valid = 1;
            if (*ip).typ == 0 {
                panic!("ilock: no type");
            }
        }
    }
    ILocked(ip)
}

impl Deref for ILocked {
    type Target = Inode;
    fn deref(&self) -> &Inode {
        // SAFETY: we hold the inode's sleep-lock.
        unsafe { &*self.0 }
    }
}

impl DerefMut for ILocked {
    fn deref_mut(&mut self) -> &mut Inode {
        // SAFETY: we hold the inode's sleep-lock; refcnt is not touched through this.
        unsafe { &mut *self.0 }
    }
}

impl Drop for ILocked {
    fn drop(&mut self) {
        // SAFETY: the sleep-lock is used through &self methods.
        unsafe {
            if !(*self.0).lock.holding() || (*self.0).refcnt < 1 {
                panic!("iunlock");
            }
            (*self.0).lock.release();
        }
    }
}

/// A referenced and locked inode; dropping it is xv6's `iunlockput`.
pub struct LockedRef {
    // Field order is drop order: unlock first, then drop the reference.
    g: ILocked,
    ip: IRef,
}

impl LockedRef {
    /// Unlocks, keeping the reference.
    pub fn unlock(self) -> IRef {
        let LockedRef { g, ip } = self;
        drop(g);
        ip
    }
}

impl Deref for LockedRef {
    type Target = Inode;
    fn deref(&self) -> &Inode {
        &self.g
    }
}

impl DerefMut for LockedRef {
    fn deref_mut(&mut self) -> &mut Inode {
        &mut self.g
    }
}

/// Drops a reference. The last reference to an inode with no links frees it on disk, so
/// every call must be inside a log operation.
pub fn iput(ip: *mut Inode) {
    itable_lock().acquire();
    // SAFETY: itable.lock guards refcnt. With refcnt == 1 nobody else can hold or wait for
    // the sleep-lock, so reading valid/nlink here is safe and acquiring it cannot block.
    unsafe {
        if (*ip).refcnt == 1 && (*ip).valid != 0 && (*ip).nlink == 0 {
            (*ip).lock.acquire();
            itable_lock().release();

            let inode = &mut *ip;
            itrunc(inode);
            inode.typ = 0;
            iupdate(inode);
            inode.valid = 0;

            (*ip).lock.release();
            itable_lock().acquire();
        }
        (*ip).refcnt -= 1;
    }
    itable_lock().release();
}

/// How files map their blocks: xv6's layout, or with the bigfile lab option the fs lab's,
/// with a doubly-indirect block (`abi::fs::Layout`).
fn layout() -> Layout {
    if lab::on(BIGFILE) {
        Layout::Big
    } else {
        Layout::Classic
    }
}

/// The block address in `*slot`, allocating a block there first if it is 0; 0 when the disk
/// is full.
fn ensure(dev: u32, slot: &mut u32) -> u32 {
    if *slot == 0 {
        *slot = balloc(dev);
    }
    *slot
}

/// Entry `i` of the indirect block `table`, allocating a block for it first if it is 0; 0
/// when the disk is full.
fn ensure_entry(dev: u32, table: u32, i: usize) -> u32 {
    let mut bp = bread(dev, table);
    let mut addr = bp.view::<u32>()[i];
    if addr == 0 {
        addr = balloc(dev);
        if addr != 0 {
            bp.view_mut::<u32>()[i] = addr;
            log_write(&bp);
        }
    }
    addr
}

/// Returns the disk block holding block `bn` of the file, allocating it (and the indirect
/// blocks on the way) if absent; 0 when the disk is full.
fn bmap(ip: &mut Inode, bn: u32) -> u32 {
    let nd = layout().ndirect();
    let dev = ip.dev;
    match layout().locate(bn as usize) {
        Some(BlockRef::Direct(i)) => ensure(dev, &mut ip.addrs[i]),
        Some(BlockRef::Indirect(i)) => match ensure(dev, &mut ip.addrs[nd]) {
            0 => 0,
            table => ensure_entry(dev, table, i),
        },
        Some(BlockRef::Double(i, j)) => match ensure(dev, &mut ip.addrs[nd + 1]) {
            0 => 0,
            double => match ensure_entry(dev, double, i) {
                0 => 0,
                table => ensure_entry(dev, table, j),
            },
        },
        None => panic!("bmap: out of range"),
    }
}

/// Frees the blocks an indirect block lists (descending `depth` more levels of indirect
/// blocks first), then the block itself.
fn free_indirect(dev: u32, table: u32, depth: u32) {
    {
        let bp = bread(dev, table);
        for &a in bp.view::<u32>() {
            if a != 0 {
                if depth > 0 {
                    free_indirect(dev, a, depth - 1);
                } else {
                    bfree(dev, a);
                }
            }
        }
    }
    bfree(dev, table);
}

/// Frees all of the file's blocks and sets its size to 0.
pub fn itrunc(ip: &mut Inode) {
    let nd = layout().ndirect();
    for i in 0..nd {
        if ip.addrs[i] != 0 {
            bfree(ip.dev, ip.addrs[i]);
            ip.addrs[i] = 0;
        }
    }
    if ip.addrs[nd] != 0 {
        free_indirect(ip.dev, ip.addrs[nd], 0);
        ip.addrs[nd] = 0;
    }
    if layout() == Layout::Big && ip.addrs[nd + 1] != 0 {
        free_indirect(ip.dev, ip.addrs[nd + 1], 1);
        ip.addrs[nd + 1] = 0;
    }
    ip.size = 0;
    iupdate(ip);
}

/// The inode's metadata as `fstat` reports it.
pub fn stati(ip: &Inode) -> Stat {
    Stat {
        dev: ip.dev as i32,
        ino: ip.inum,
        typ: ip.typ,
        nlink: ip.nlink,
        size: ip.size as u64,
    }
}

/// Reads up to `n` bytes at `off` into `dst` (a user address if `user_dst`, else a kernel
/// one). Returns the number of bytes read (short at end of file), or -1 if a copy failed.
pub fn readi(ip: &mut Inode, user_dst: bool, mut dst: u64, mut off: u32, mut n: u32) -> i32 {
    if off > ip.size || off.checked_add(n).is_none() {
        return 0;
    }
    if off + n > ip.size {
        n = ip.size - off;
    }
    let mut tot = 0u32;
    while tot < n {
        let addr = bmap(ip, off / BSIZE as u32);
        if addr == 0 {
            break;
        }
        let bp = bread(ip.dev, addr);
        let start = off as usize % BSIZE;
        let m = (n - tot).min((BSIZE - start) as u32);
        if either_copyout(user_dst, dst, &bp.data()[start..start + m as usize]).is_err() {
            return -1;
        }
        tot += m;
        off += m;
        dst += m as u64;
    }
    tot as i32
}

/// Reads into a kernel buffer; returns the byte count as `readi`.
pub fn readi_kernel(ip: &mut Inode, dst: &mut [u8], off: u32) -> i32 {
    readi(ip, false, dst.as_mut_ptr() as u64, off, dst.len() as u32)
}

/// Writes `n` bytes from `src` (user or kernel address) at `off`, growing the file.
/// Returns the number of bytes written: less than `n` if the disk filled up or a copy
/// failed, -1 if `off` is past the end or the file would pass `MAXFILE` blocks.
pub fn writei(ip: &mut Inode, user_src: bool, mut src: u64, mut off: u32, n: u32) -> i32 {
    let Some(end) = off.checked_add(n) else {
        return -1;
    };
    if off > ip.size || end as usize > layout().maxfile() * BSIZE {
        return -1;
    }
    let mut tot = 0u32;
    while tot < n {
        let addr = bmap(ip, off / BSIZE as u32);
        if addr == 0 {
            break;
        }
        let mut bp = bread(ip.dev, addr);
        let start = off as usize % BSIZE;
        let m = (n - tot).min((BSIZE - start) as u32);
        if either_copyin(&mut bp.data_mut()[start..start + m as usize], user_src, src).is_err() {
            break;
        }
        log_write(&bp);
        tot += m;
        off += m;
        src += m as u64;
    }
    if off > ip.size {
        ip.size = off;
    }
    // Written back even if the size is unchanged: bmap may have added blocks to addrs.
    iupdate(ip);
    tot as i32
}

/// Writes from a kernel buffer; returns the byte count as `writei`.
pub fn writei_kernel(ip: &mut Inode, src: &[u8], off: u32) -> i32 {
    writei(ip, false, src.as_ptr() as u64, off, src.len() as u32)
}

// ---------------------------------------------------------------------------------------
