//! Open files: the system-wide file table and the device switch (xv6's `file.c`).
//!
//! Purpose: a `File` is what a file descriptor points to: a pipe end, an inode with a
//! read/write offset, or a device. Several descriptors (after `dup` or `fork`) share one
//! `File` and so share its offset.
//!
//! Interface: `fileinit()` at boot; `filealloc()` takes a free entry (refcnt 1);
//! `filedup(f)`/`fileclose(f)` count references (the last close releases the pipe end or the
//! inode); `fileread`, `filewrite`, `filestat` for the system calls. Devices register their
//! read and write routines with `set_devsw(major, read, write)` (the console is major 1).
//!
//! Invariants: an entry is free iff `refcnt == 0` (then `typ == FdNone`); `pipe` is set iff
//! `typ == FdPipe`; `ip` holds a counted inode reference iff `typ` is `FdInode` or
//! `FdDevice`. Writes to an inode go in chunks small enough for one log transaction.
//!
//! Locking: `ftable.lock` guards `refcnt` (and the choice of free entries). The other fields
//! are set once by the opener before the descriptor is published and then only read, except
//! `off`, which is updated with the inode's sleep-lock held (as xv6: two processes sharing
//! a `File` serialise on the inode). `devsw` is written at boot only.

use core::ptr::{addr_of_mut, null_mut};

use abi::Stat;
use abi::fs::BSIZE;
use abi::param::{MAXOPBLOCKS, NDEV, NFILE};

use crate::fs::{IRef, Inode, ilock, readi, stati, writei};
use crate::log::Op;
use crate::pipe::{Pipe, pipeclose, piperead, pipewrite};
use crate::proc::myproc;
use crate::spinlock::{Shared, Spinlock};
use crate::vm::copyout;

/// What a `File` refers to. Variant names are xv6's (`FD_NONE`...), which the debugger
/// and the contract use.
#[repr(C)]
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FdType {
    FdNone,
    FdPipe,
    FdInode,
    FdDevice,
}

/// An open file, as xv6's `struct file`.
#[repr(C)]
pub struct File {
    pub typ: FdType,
    /// Number of descriptors (in any process) that point here (ftable.lock).
    pub refcnt: i32,
    pub readable: u8,
    pub writable: u8,
    /// `FdPipe`: the pipe.
    pub pipe: *mut Pipe,
    /// `FdInode` and `FdDevice`: the inode (one counted reference).
    pub ip: *mut Inode,
    /// `FdInode`: read/write offset (ip's sleep-lock).
    pub off: u32,
    /// `FdDevice`: major device number.
    pub major: i16,
}

impl File {
    const fn new() -> Self {
        File {
            typ: FdType::FdNone,
            refcnt: 0,
            readable: 0,
            writable: 0,
            pipe: null_mut(),
            ip: null_mut(),
            off: 0,
            major: 0,
        }
    }
}

#[repr(C)]
pub struct Ftable {
    pub lock: Spinlock,
    pub file: [File; NFILE],
}

/// The system-wide table of open files.
#[unsafe(no_mangle)]
pub static ftable: Shared<Ftable> = Shared::new(Ftable {
    lock: Spinlock::new("ftable"),
    file: [const { File::new() }; NFILE],
});

/// A device's read routine: `(user_dst, dst, n)` → bytes read or -1.
pub type DevRead = fn(user_dst: bool, dst: u64, n: i32) -> i32;
/// A device's write routine: `(user_src, src, n)` → bytes written or -1.
pub type DevWrite = fn(user_src: bool, src: u64, n: i32) -> i32;

/// One entry of the device switch, as xv6's `struct devsw`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Devsw {
    pub read: Option<DevRead>,
    pub write: Option<DevWrite>,
}

/// Device switch, indexed by major number. Written during boot only.
#[unsafe(no_mangle)]
pub static devsw: Shared<[Devsw; NDEV]> = Shared::new(
    [Devsw {
        read: None,
        write: None,
    }; NDEV],
);

/// Registers the routines of device `major`. Call during boot, before other harts start.
pub fn set_devsw(major: usize, read: DevRead, write: DevWrite) {
    if major >= NDEV {
        panic!("set_devsw: bad major {}", major);
    }
    // SAFETY: boot-time only, before any reader.
    unsafe {
        (*devsw.get())[major] = Devsw {
            read: Some(read),
            write: Some(write),
        }
    };
}

fn dev_entry(major: i16) -> Option<Devsw> {
    if major < 0 || major as usize >= NDEV {
        return None;
    }
    // SAFETY: devsw is read-only after boot.
    Some(unsafe { (*devsw.get())[major as usize] })
}

fn lock() -> &'static Spinlock {
    // SAFETY: the spinlock is only used through &self methods.
    unsafe { &(*ftable.get()).lock }
}

/// Nothing to do at run time: the table is built at compile time (kept for the boot list).
pub fn fileinit() {}

/// Takes a free file-table entry with refcnt 1, or null if the table is full.
pub fn filealloc() -> *mut File {
    lock().acquire();
    // SAFETY: ftable.lock is held.
    unsafe {
        let t = ftable.get();
        for i in 0..NFILE {
            let f = addr_of_mut!((*t).file[i]);
            if (*f).refcnt == 0 {
                (*f).refcnt = 1;
                lock().release();
                return f;
            }
        }
    }
    lock().release();
    null_mut()
}

/// Counts another reference to `f`.
pub fn filedup(f: *mut File) -> *mut File {
    lock().acquire();
    // SAFETY: ftable.lock guards refcnt; f points into ftable.
    unsafe {
        if (*f).refcnt < 1 {
            panic!("filedup");
        }
        (*f).refcnt += 1;
    }
    lock().release();
    f
}

/// Drops a reference to `f`; the last one closes the pipe end or releases the inode.
pub fn fileclose(f: *mut File) {
    lock().acquire();
    // SAFETY: ftable.lock guards refcnt; when it reaches 0 the entry is ours alone.
    let (typ, pipe, ip, writable) = unsafe {
        if (*f).refcnt < 1 {
            panic!("fileclose");
        }
        (*f).refcnt -= 1;
        if (*f).refcnt > 0 {
            lock().release();
            return;
        }
        let saved = ((*f).typ, (*f).pipe, (*f).ip, (*f).writable != 0);
        (*f).typ = FdType::FdNone;
        (*f).pipe = null_mut();
        (*f).ip = null_mut();
        saved
    };
    lock().release();

    match typ {
        FdType::FdPipe => pipeclose(pipe, writable),
        FdType::FdInode | FdType::FdDevice => {
            let _op = Op::begin();
            drop(IRef::from_raw(ip));
        }
        FdType::FdNone => {}
    }
}

/// Copies `f`'s metadata to the user's `struct stat` at `addr`.
pub fn filestat(f: *mut File, addr: u64) -> i32 {
    // SAFETY: the caller's descriptor keeps f open; typ and ip are fixed while open.
    let (typ, ip) = unsafe { ((*f).typ, (*f).ip) };
    if typ != FdType::FdInode && typ != FdType::FdDevice {
        return -1;
    }
    let st: Stat = stati(&ilock(ip));
    // SAFETY: Stat is plain #[repr(C)] data; viewing it as bytes is sound.
    let bytes = unsafe {
        core::slice::from_raw_parts(&raw const st as *const u8, core::mem::size_of::<Stat>())
    };
    let p = myproc();
    // SAFETY: the current process's page table, used by the process itself.
    if copyout(unsafe { (*p).pagetable }, addr, bytes).is_err() {
        return -1;
    }
    0
}

/// Reads up to `n` bytes from `f` to user address `addr`.
pub fn fileread(f: *mut File, addr: u64, n: i32) -> i32 {
    // SAFETY: as in filestat; off is accessed with the inode locked.
    unsafe {
        if (*f).readable == 0 {
            return -1;
        }
        match (*f).typ {
            FdType::FdPipe => piperead((*f).pipe, addr, n),
            FdType::FdDevice => match dev_entry((*f).major).and_then(|d| d.read) {
                Some(read) => read(true, addr, n),
                None => -1,
            },
            FdType::FdInode => {
                let mut ip = ilock((*f).ip);
                let r = readi(&mut ip, true, addr, (*f).off, n as u32);
                if r > 0 {
                    (*f).off += r as u32;
                }
                r
            }
            FdType::FdNone => panic!("fileread"),
        }
    }
}

/// Writes `n` bytes from user address `addr` to `f`. Returns `n`, or -1 on any error.
pub fn filewrite(f: *mut File, addr: u64, n: i32) -> i32 {
    // SAFETY: as in fileread.
    unsafe {
        if (*f).writable == 0 {
            return -1;
        }
        match (*f).typ {
            FdType::FdPipe => pipewrite((*f).pipe, addr, n),
            FdType::FdDevice => match dev_entry((*f).major).and_then(|d| d.write) {
                Some(write) => write(true, addr, n),
                None => -1,
            },
            FdType::FdInode => {
                // One transaction may write MAXOPBLOCKS blocks: the inode, an indirect
                // block, bitmap blocks for new blocks, and 2 blocks of slop for a write that
                // is not block-aligned at both ends; data blocks and their bitmap updates
                // count twice. Hence chunks of this many bytes.
                let max = ((MAXOPBLOCKS - 1 - 1 - 2) / 2 * BSIZE) as i32;
                let mut i = 0;
                while i < n {
                    let n1 = (n - i).min(max);
                    let r = {
                        let _op = Op::begin();
                        let mut ip = ilock((*f).ip);
                        let r = writei(&mut ip, true, addr + i as u64, (*f).off, n1 as u32);
                        if r > 0 {
                            (*f).off += r as u32;
                        }
                        r
                    };
                    if r != n1 {
                        break; // error from writei
                    }
                    i += r;
                }
                if i == n { n } else { -1 }
            }
            FdType::FdNone => panic!("filewrite"),
        }
    }
}
