//! Directories and path names (the upper half of xv6's `fs.c`).
//!
//! A directory is an inode of type `T_DIR` whose contents are `Dirent`s (16 bytes: inode
//! number, then a NUL-padded name of up to `DIRSIZ` bytes; inode number 0 marks a free
//! slot). `dirlookup` finds a name, `dirlink` adds one. Path names are walked one element at
//! a time by `namex`, from the root for "/..." and from the process's cwd otherwise.
//!
//! Locking: every function here that takes `&mut Inode` needs that inode locked (an
//! `ILocked`/`LockedRef` hands it out). A walk holds at most one inode lock at a time: it
//! unlocks a directory before locking the next element, so "." and ".." cannot deadlock.
//! All of it runs inside a log operation, since dropping an `IRef` may free an inode.

use core::ptr::null_mut;

use abi::T_DIR;
use abi::fs::{DIRSIZ, Dirent, ROOTINO};
use abi::param::ROOTDEV;

use super::{IRef, Inode, idup, iget, readi, writei};
use crate::proc::myproc;

// Directories.

/// A path element as directories store it: up to `DIRSIZ` bytes, NUL-padded.
pub type Name = [u8; DIRSIZ];

/// Makes a `Name` from bytes (truncated to `DIRSIZ`).
pub const fn name(s: &[u8]) -> Name {
    let mut n = [0u8; DIRSIZ];
    let mut i = 0;
    while i < s.len() && i < DIRSIZ {
        n[i] = s[i];
        i += 1;
    }
    n
}

/// Compares two names as C's `strncmp(a, b, DIRSIZ) == 0`: equal up to the first NUL.
pub fn namecmp(a: &Name, b: &Name) -> bool {
    for i in 0..DIRSIZ {
        if a[i] != b[i] {
            return false;
        }
        if a[i] == 0 {
            return true;
        }
    }
    true
}

/// Reads the directory entry at byte offset `off`; panics on a short read (a directory's
/// size is always a multiple of the entry size).
pub fn read_dirent(dp: &mut Inode, off: u32) -> Dirent {
    let mut de = Dirent::default();
    let n = readi(
        dp,
        false,
        &raw mut de as u64,
        off,
        size_of::<Dirent>() as u32,
    );
    if n != size_of::<Dirent>() as i32 {
        panic!("read_dirent");
    }
    de
}

/// Looks `name` up in directory `dp`; returns the entry's inode (referenced, unlocked) and
/// its byte offset.
pub fn dirlookup(dp: &mut Inode, name: &Name) -> Option<(IRef, u32)> {
    if dp.typ != T_DIR {
        panic!("dirlookup not DIR");
    }
    let mut off = 0;
    while off < dp.size {
        let de = read_dirent(dp, off);
        if de.inum != 0 && namecmp(name, &de.name) {
            return Some((iget(dp.dev, de.inum as u32), off));
        }
        off += size_of::<Dirent>() as u32;
    }
    None
}

/// Adds the entry (name, inum) to directory `dp`. Fails if the name is already present or
/// the disk is full.
pub fn dirlink(dp: &mut Inode, name: &Name, inum: u32) -> Result<(), ()> {
    if dirlookup(dp, name).is_some() {
        return Err(()); // the IRef is dropped (iput) here
    }
    let mut off = 0;
    while off < dp.size {
        if read_dirent(dp, off).inum == 0 {
            break;
        }
        off += size_of::<Dirent>() as u32;
    }
    let de = Dirent {
        inum: inum as u16,
        name: *name,
    };
    let n = writei(
        dp,
        false,
        &raw const de as u64,
        off,
        size_of::<Dirent>() as u32,
    );
    if n != size_of::<Dirent>() as i32 {
        return Err(());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Path names.

/// Splits off the first element of `path` into `name`; returns the rest with its leading
/// slashes removed, or `None` if there is no element. Examples: "a/bb/c" → name "a", rest
/// "bb/c"; "///a//bb" → "a", "bb"; "a" → "a", ""; "" and "////" → None. Elements longer
/// than `DIRSIZ` are truncated, as xv6 does.
pub fn skipelem<'a>(path: &'a [u8], name: &mut Name) -> Option<&'a [u8]> {
    let mut i = 0;
    while i < path.len() && path[i] == b'/' {
        i += 1;
    }
    if i == path.len() {
        return None;
    }
    let s = i;
    while i < path.len() && path[i] != b'/' {
        i += 1;
    }
    *name = self::name(&path[s..i]);
    while i < path.len() && path[i] == b'/' {
        i += 1;
    }
    Some(&path[i..])
}

/// Walks `path`. With `parent`, stops one element early: returns the parent directory and
/// leaves the last element in `name`. Must run inside a log operation (it calls iput).
fn namex(path: &[u8], parent: bool, name: &mut Name) -> Option<IRef> {
    // A C string ends at its NUL.
    let path = match path.iter().position(|&c| c == 0) {
        Some(end) => &path[..end],
        None => path,
    };
    let mut ip = if path.first() == Some(&b'/') {
        iget(ROOTDEV, ROOTINO)
    } else {
        let p = myproc();
        // SAFETY: a process's cwd is only changed by the process itself (chdir).
        IRef(idup(unsafe { (*p).cwd }))
    };
    let mut path = path;
    while let Some(rest) = skipelem(path, name) {
        path = rest;
        let mut dp = ip.lock();
        if dp.typ != T_DIR {
            return None; // drops the lock, then the reference
        }
        if parent && path.is_empty() {
            drop(dp);
            return Some(ip);
        }
        let (next, _) = dirlookup(&mut dp, name)?;
        drop(dp);
        ip = next;
    }
    if parent {
        return None;
    }
    Some(ip)
}

/// The inode named by `path`, referenced and unlocked.
pub fn lookup(path: &[u8]) -> Option<IRef> {
    let mut name = [0; DIRSIZ];
    namex(path, false, &mut name)
}

/// The parent directory of `path`'s last element, which goes in `name`.
pub fn lookup_parent(path: &[u8], name: &mut Name) -> Option<IRef> {
    namex(path, true, name)
}

/// Contract form of `lookup`: a counted reference, or null if the path does not resolve.
pub fn namei(path: &[u8]) -> *mut Inode {
    lookup(path).map_or(null_mut(), IRef::into_raw)
}

/// Contract form of `lookup_parent`.
pub fn nameiparent(path: &[u8], name: &mut Name) -> *mut Inode {
    lookup_parent(path, name).map_or(null_mut(), IRef::into_raw)
}
