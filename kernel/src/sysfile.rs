//! File-system system calls (xv6's `sysfile.c`): argument checking and descriptor
//! bookkeeping on top of `file`, `fs`, `pipe` and `exec`.
//!
//! Interface: one `sys_NAME() -> u64` per call (read write open close dup fstat pipe exec
//! chdir mkdir mknod link unlink, and with the fs lab's `symlink` option symlink, which
//! `open` then follows unless `O_NOFOLLOW`), dispatched by `syscall.rs`; `u64::MAX` (-1) is
//! failure.
//! Each handler is a thin wrapper over a function returning `Option`, so every error path
//! is a `?` and the guards undo the work: `Op` ends the log operation, `IRef`/`LockedRef`
//! unlock and release inodes, in reverse order of declaration.
//!
//! Error behaviour (what usertests checks), as xv6: bad or closed descriptors fail;
//! `open` of a directory for writing fails, `O_CREATE` of an existing file opens it (fails
//! if it is a directory), `O_TRUNC` empties a regular file; `link` to a directory or across
//! devices fails; `unlink` of "." or "..", or of a non-empty directory, fails; `chdir` to a
//! non-directory fails; `mknod`/`mkdir` of an existing name fail; exec takes at most
//! `MAXARG - 1` arguments of at most one page each.
//!
//! Locking: path operations lock a parent directory before its child (create, unlink), the
//! order every path walk uses, so they cannot deadlock with each other. All inode work runs
//! inside one log operation per call (file writes: one per chunk, in `filewrite`).

use core::ptr::null_mut;

use abi::fs::{DIRSIZ, Dirent};
use abi::memlayout::PGSIZE;
use abi::param::{MAXARG, MAXPATH, NDEV, NOFILE};
use abi::{
    O_CREATE, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, T_DEVICE, T_DIR, T_FILE, T_SYMLINK,
};

use crate::exec::exec;
use crate::file::{FdType, File, filealloc, fileclose, filedup, fileread, filestat, filewrite};
use crate::fs::{
    Inode, LockedRef, Name, dirlink, dirlookup, ialloc, iput, itrunc, iupdate, lookup,
    lookup_parent, name, namecmp, read_dirent, readi_kernel, writei_kernel,
};
use crate::kalloc::{kalloc, kfree};
use crate::lab::{self, SYMLINK};
use crate::log::Op;
use crate::pipe::pipealloc;
use crate::proc::myproc;
use crate::syscall::{argaddr, argint, argstr, fetchaddr, fetchstr};
use crate::vm::copyout;

const ERR: u64 = u64::MAX;

fn ret(r: Option<u64>) -> u64 {
    r.unwrap_or(ERR)
}

/// Argument `n` as an open descriptor of the calling process: (fd, file).
pub(crate) fn argfd(n: usize) -> Option<(usize, *mut File)> {
    let fd = argint(n);
    if fd < 0 || fd as usize >= NOFILE {
        return None;
    }
    // SAFETY: a process's descriptor table is only used by the process itself.
    let f = unsafe { (*myproc()).ofile[fd as usize] };
    if f.is_null() {
        None
    } else {
        Some((fd as usize, f))
    }
}

/// Installs `f` in the lowest free descriptor; the descriptor takes over the caller's
/// reference on success.
fn fdalloc(f: *mut File) -> Option<usize> {
    let p = myproc();
    // SAFETY: as in argfd.
    unsafe {
        let fd = (*p).ofile.iter().position(|f| f.is_null())?;
        (*p).ofile[fd] = f;
        Some(fd)
    }
}

fn set_fd(fd: usize, f: *mut File) {
    // SAFETY: as in argfd.
    unsafe { (*myproc()).ofile[fd] = f };
}

/// Fetches path argument `n` into `buf`; returns the path without its NUL.
fn argpath(n: usize, buf: &mut [u8; MAXPATH]) -> Option<&[u8]> {
    let len = argstr(n, buf).ok()?;
    Some(&buf[..len])
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_dup() -> u64 {
    ret((|| {
        let (_, f) = argfd(0)?;
        let fd = fdalloc(f)?;
        filedup(f);
        Some(fd as u64)
    })())
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_read() -> u64 {
    let addr = argaddr(1);
    let n = argint(2);
    ret(argfd(0).map(|(_, f)| fileread(f, addr, n) as i64 as u64))
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_write() -> u64 {
    let addr = argaddr(1);
    let n = argint(2);
    ret(argfd(0).map(|(_, f)| filewrite(f, addr, n) as i64 as u64))
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_close() -> u64 {
    ret(argfd(0).map(|(fd, f)| {
        set_fd(fd, null_mut());
        fileclose(f);
        0
    }))
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_fstat() -> u64 {
    let st = argaddr(1);
    ret(argfd(0).map(|(_, f)| filestat(f, st) as i64 as u64))
}

/// link(old, new): makes `new` another name for the inode of `old`.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_link() -> u64 {
    let (mut old, mut new) = ([0u8; MAXPATH], [0u8; MAXPATH]);
    let (Some(old), Some(new)) = (argpath(0, &mut old), argpath(1, &mut new)) else {
        return ERR;
    };
    let _op = Op::begin();
    let Some(ip) = lookup(old) else { return ERR };
    {
        let mut g = ip.lock();
        if g.typ == T_DIR {
            return ERR;
        }
        g.nlink += 1;
        iupdate(&g);
    }
    let linked = (|| {
        let mut nm: Name = [0; DIRSIZ];
        let mut dp = lookup_parent(new, &mut nm)?.lock_owned();
        if dp.dev != ip.dev() {
            return None;
        }
        dirlink(&mut dp, &nm, ip.inum()).ok()
    })();
    if linked.is_none() {
        let mut g = ip.lock();
        g.nlink -= 1;
        iupdate(&g);
        return ERR;
    }
    0
}

/// Is directory `dp` empty apart from "." and ".."?
fn isdirempty(dp: &mut Inode) -> bool {
    let sz = size_of::<Dirent>() as u32;
    let mut off = 2 * sz;
    while off < dp.size {
        if read_dirent(dp, off).inum != 0 {
            return false;
        }
        off += sz;
    }
    true
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_unlink() -> u64 {
    let mut buf = [0u8; MAXPATH];
    let Some(path) = argpath(0, &mut buf) else {
        return ERR;
    };
    let _op = Op::begin();
    ret((|| {
        let mut nm: Name = [0; DIRSIZ];
        let mut dp = lookup_parent(path, &mut nm)?.lock_owned();
        if namecmp(&nm, &name(b".")) || namecmp(&nm, &name(b"..")) {
            return None;
        }
        let (ip, off) = dirlookup(&mut dp, &nm)?;
        let mut ip = ip.lock_owned();
        if ip.nlink < 1 {
            panic!("unlink: nlink < 1");
        }
        if ip.typ == T_DIR && !isdirempty(&mut ip) {
            return None;
        }
        let empty = Dirent::default();
        // SAFETY: Dirent is plain #[repr(C)] data.
        let bytes = unsafe {
            core::slice::from_raw_parts(&raw const empty as *const u8, size_of::<Dirent>())
        };
        if writei_kernel(&mut dp, bytes, off) != size_of::<Dirent>() as i32 {
            panic!("unlink: writei");
        }
        if ip.typ == T_DIR {
            dp.nlink -= 1; // the child's ".." no longer points here
            iupdate(&dp);
        }
        drop(dp);
        ip.nlink -= 1;
        iupdate(&ip);
        Some(0)
    })())
}

/// Creates `path` as a new inode of type `typ`, or (for `T_FILE`) opens an existing file or
/// device of that name. Returns it locked and referenced. Runs inside a log operation.
fn create(path: &[u8], typ: i16, major: i16, minor: i16) -> Option<LockedRef> {
    let mut nm: Name = [0; DIRSIZ];
    let mut dp = lookup_parent(path, &mut nm)?.lock_owned();

    if let Some((ip, _)) = dirlookup(&mut dp, &nm) {
        drop(dp);
        let ip = ip.lock_owned();
        if typ == T_FILE && (ip.typ == T_FILE || ip.typ == T_DEVICE) {
            return Some(ip);
        }
        return None;
    }

    let mut ip = ialloc(dp.dev, typ)?.lock_owned();
    ip.major = major;
    ip.minor = minor;
    ip.nlink = 1;
    iupdate(&ip);

    let inum = ip.inum;
    // "." gets no nlink++: that would make the count cyclic.
    let ok = (typ != T_DIR
        || (dirlink(&mut ip, &name(b"."), inum).is_ok()
            && dirlink(&mut ip, &name(b".."), dp.inum).is_ok()))
        && dirlink(&mut dp, &nm, inum).is_ok();
    if !ok {
        // Undo: with no links, the last iput (when ip drops) frees the inode.
        ip.nlink = 0;
        iupdate(&ip);
        return None;
    }
    if typ == T_DIR {
        dp.nlink += 1; // for the new directory's ".."
        iupdate(&dp);
    }
    drop(dp);
    Some(ip)
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_open() -> u64 {
    let omode = argint(1);
    let mut buf = [0u8; MAXPATH];
    let Some(path) = argpath(0, &mut buf) else {
        return ERR;
    };
    let _op = Op::begin();
    ret((|| {
        let mut ip = if omode & O_CREATE != 0 {
            create(path, T_FILE, 0, 0)?
        } else {
            let mut ip = lookup(path)?.lock_owned();
            if lab::on(SYMLINK) && omode & O_NOFOLLOW == 0 {
                ip = follow(ip)?;
            }
            if ip.typ == T_DIR && omode != O_RDONLY {
                return None;
            }
            ip
        };
        if ip.typ == T_DEVICE && (ip.major < 0 || ip.major as usize >= NDEV) {
            return None;
        }
        let f = filealloc();
        if f.is_null() {
            return None;
        }
        let Some(fd) = fdalloc(f) else {
            fileclose(f);
            return None;
        };
        if omode & O_TRUNC != 0 && ip.typ == T_FILE {
            itrunc(&mut ip);
        }
        // SAFETY: f is a fresh entry only this process can reach.
        unsafe {
            if ip.typ == T_DEVICE {
                (*f).typ = FdType::FdDevice;
                (*f).major = ip.major;
            } else {
                (*f).typ = FdType::FdInode;
                (*f).off = 0;
            }
            (*f).readable = (omode & O_WRONLY == 0) as u8;
            (*f).writable = (omode & O_WRONLY != 0 || omode & O_RDWR != 0) as u8;
            (*f).ip = ip.unlock().into_raw();
        }
        Some(fd as u64)
    })())
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_mkdir() -> u64 {
    let mut buf = [0u8; MAXPATH];
    let Some(path) = argpath(0, &mut buf) else {
        return ERR;
    };
    let _op = Op::begin();
    ret(create(path, T_DIR, 0, 0).map(|_| 0))
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_mknod() -> u64 {
    let major = argint(1) as i16;
    let minor = argint(2) as i16;
    let mut buf = [0u8; MAXPATH];
    let Some(path) = argpath(0, &mut buf) else {
        return ERR;
    };
    let _op = Op::begin();
    ret(create(path, T_DEVICE, major, minor).map(|_| 0))
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_chdir() -> u64 {
    let mut buf = [0u8; MAXPATH];
    let Some(path) = argpath(0, &mut buf) else {
        return ERR;
    };
    let _op = Op::begin();
    let Some(ip) = lookup(path) else { return ERR };
    if ip.lock().typ != T_DIR {
        return ERR;
    }
    let p = myproc();
    // SAFETY: cwd is only changed by its own process; the old reference is dropped inside
    // the log operation, as iput requires.
    unsafe {
        let old = (*p).cwd;
        (*p).cwd = ip.into_raw();
        iput(old);
    }
    0
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_exec() -> u64 {
    let mut buf = [0u8; MAXPATH];
    let uargv = argaddr(1);
    let Some(path) = argpath(0, &mut buf) else {
        return ERR;
    };

    // Each argument string is copied into its own kernel page.
    let mut pages = [null_mut::<u8>(); MAXARG];
    let mut lens = [0usize; MAXARG];
    let mut argc = 0;
    let fetched = loop {
        if argc >= MAXARG {
            break false;
        }
        let Ok(uarg) = fetchaddr(uargv.wrapping_add((argc * size_of::<u64>()) as u64)) else {
            break false;
        };
        if uarg == 0 {
            break true;
        }
        let page = kalloc();
        if page.is_null() {
            break false;
        }
        pages[argc] = page;
        // SAFETY: page is a whole page owned by us until kfree below.
        let dst = unsafe { core::slice::from_raw_parts_mut(page, PGSIZE as usize) };
        match fetchstr(uarg, dst) {
            Ok(len) => lens[argc] = len,
            Err(()) => break false,
        }
        argc += 1;
    };

    let r = if fetched {
        let mut argv: [&[u8]; MAXARG] = [&[]; MAXARG];
        for i in 0..argc {
            // SAFETY: pages[i] holds lens[i] bytes written by fetchstr.
            argv[i] = unsafe { core::slice::from_raw_parts(pages[i], lens[i]) };
        }
        exec(path, &argv[..argc]) as u64
    } else {
        ERR
    };
    for page in pages.into_iter().filter(|p| !p.is_null()) {
        kfree(page);
    }
    r
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_pipe() -> u64 {
    let fdarray = argaddr(0);
    let Some((rf, wf)) = pipealloc() else {
        return ERR;
    };
    let close_both = || {
        fileclose(rf);
        fileclose(wf);
        ERR
    };
    let Some(fd0) = fdalloc(rf) else {
        return close_both();
    };
    let Some(fd1) = fdalloc(wf) else {
        set_fd(fd0, null_mut());
        return close_both();
    };
    // SAFETY: the calling process's own page table.
    let pt = unsafe { (*myproc()).pagetable };
    if copyout(pt, fdarray, &(fd0 as i32).to_le_bytes()).is_err()
        || copyout(pt, fdarray + 4, &(fd1 as i32).to_le_bytes()).is_err()
    {
        set_fd(fd0, null_mut());
        set_fd(fd1, null_mut());
        return close_both();
    }
    0
}

/// How many symbolic links `open` follows in a row before it decides they form a cycle.
const MAX_SYMLINKS: usize = 10;

/// The fs lab: what the symbolic link `ip` (locked) names, following links in turn; any
/// other inode is itself. None for a target that does not exist or a chain that is too
/// long (a cycle). Runs inside the caller's log operation (dropping a link's inode may
/// free it).
fn follow(mut ip: LockedRef) -> Option<LockedRef> {
    for _ in 0..MAX_SYMLINKS {
        if ip.typ != T_SYMLINK {
            return Some(ip);
        }
        let mut target = [0u8; MAXPATH];
        let n = readi_kernel(&mut ip, &mut target, 0);
        if n <= 0 {
            return None;
        }
        drop(ip);
        ip = lookup(&target[..n as usize])?.lock_owned();
    }
    None
}

/// symlink(target, path) (the fs lab; `symlink` lab option): creates `path` as a symbolic
/// link holding `target`, which need not exist. Fails if `path` exists.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_symlink() -> u64 {
    let (mut tbuf, mut pbuf) = ([0u8; MAXPATH], [0u8; MAXPATH]);
    let (Some(target), Some(path)) = (argpath(0, &mut tbuf), argpath(1, &mut pbuf)) else {
        return ERR;
    };
    let _op = Op::begin();
    ret((|| {
        let mut ip = create(path, T_SYMLINK, 0, 0)?;
        (writei_kernel(&mut ip, target, 0) == target.len() as i32).then_some(0)
    })())
}
