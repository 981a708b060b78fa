//! Pipes: a bounded byte queue between a read end and a write end (xv6's `pipe.c`).
//!
//! Interface: `pipealloc()` makes a pipe and two `File`s (read end, write end);
//! `pipewrite`/`piperead` move bytes between the pipe and user memory; `pipeclose(pi,
//! writable)` closes one end and frees the pipe when both are closed.
//!
//! Semantics: a writer blocks while the buffer (`PIPESIZE` bytes) is full and fails once
//! the read end is closed or it is killed; it returns after writing all `n` bytes (or fewer
//! if a user address faults). A reader blocks while the pipe is empty and the write end is
//! open; it then returns what is there (up to `n`), or 0 at end of file.
//!
//! Invariants: `nread <= nwrite <= nread + PIPESIZE` (both count up forever and wrap as
//! u32; byte `i` lives in `data[i % PIPESIZE]`).
//!
//! Locking: `lock` guards every field. Readers sleep on `&nread`, writers on `&nwrite`.
//! Each pipe lives in its own page from `kalloc`.

use core::ptr::{addr_of, null_mut};

use crate::file::{FdType, File, filealloc, fileclose};
use crate::kalloc::{kalloc, kfree};
use crate::proc::{killed, myproc, sleep, wakeup};
use crate::spinlock::Spinlock;
use crate::vm::{copyin, copyout};

pub const PIPESIZE: usize = 512;

#[repr(C)]
pub struct Pipe {
    pub lock: Spinlock,
    pub data: [u8; PIPESIZE],
    /// Number of bytes read.
    pub nread: u32,
    /// Number of bytes written.
    pub nwrite: u32,
    /// Is the read end still open?
    pub readopen: i32,
    /// Is the write end still open?
    pub writeopen: i32,
}

const _: () = assert!(core::mem::size_of::<Pipe>() <= abi::memlayout::PGSIZE as usize);

/// Makes a pipe; returns (read end, write end), or `None` when out of files or memory.
pub fn pipealloc() -> Option<(*mut File, *mut File)> {
    let f0 = filealloc();
    let f1 = if f0.is_null() {
        null_mut()
    } else {
        filealloc()
    };
    let pi = if f1.is_null() {
        null_mut()
    } else {
        kalloc() as *mut Pipe
    };
    if pi.is_null() {
        // The half-made files have typ FdNone, so closing them only frees the entries.
        for f in [f0, f1] {
            if !f.is_null() {
                fileclose(f);
            }
        }
        return None;
    }
    // SAFETY: pi is a fresh page that nobody else knows; f0 and f1 are fresh entries
    // (refcnt 1) not yet published in any descriptor table.
    unsafe {
        pi.write(Pipe {
            lock: Spinlock::new("pipe"),
            data: [0; PIPESIZE],
            nread: 0,
            nwrite: 0,
            readopen: 1,
            writeopen: 1,
        });
        (*f0).typ = FdType::FdPipe;
        (*f0).readable = 1;
        (*f0).writable = 0;
        (*f0).pipe = pi;
        (*f1).typ = FdType::FdPipe;
        (*f1).readable = 0;
        (*f1).writable = 1;
        (*f1).pipe = pi;
    }
    Some((f0, f1))
}

fn nread_chan(pi: *mut Pipe) -> usize {
    // SAFETY: only the address is taken.
    unsafe { addr_of!((*pi).nread) as usize }
}

fn nwrite_chan(pi: *mut Pipe) -> usize {
    // SAFETY: only the address is taken.
    unsafe { addr_of!((*pi).nwrite) as usize }
}

/// Closes one end (`writable` says which); frees the pipe when both ends are closed.
pub fn pipeclose(pi: *mut Pipe, writable: bool) {
    // SAFETY: the closing File held a reference to the pipe; pi.lock guards its fields.
    unsafe {
        let lk = &(*pi).lock;
        lk.acquire();
        if writable {
            (*pi).writeopen = 0;
            wakeup(nread_chan(pi));
        } else {
            (*pi).readopen = 0;
            wakeup(nwrite_chan(pi));
        }
        if (*pi).readopen == 0 && (*pi).writeopen == 0 {
            lk.release();
            kfree(pi as *mut u8);
        } else {
            lk.release();
        }
    }
}

/// Writes `n` bytes from user address `addr`; returns the count written or -1.
pub fn pipewrite(pi: *mut Pipe, addr: u64, n: i32) -> i32 {
    let pr = myproc();
    let mut i = 0;
    // SAFETY: the caller's File keeps the pipe alive; pi.lock guards its fields.
    unsafe {
        let lk = &(*pi).lock;
        lk.acquire();
        while i < n {
            if (*pi).readopen == 0 || killed(pr) {
                lk.release();
                return -1;
            }
            if (*pi).nwrite == (*pi).nread.wrapping_add(PIPESIZE as u32) {
                // Full: let readers drain it.
                wakeup(nread_chan(pi));
                sleep(nwrite_chan(pi), lk);
            } else {
                let mut ch = [0u8; 1];
                if copyin((*pr).pagetable, &mut ch, addr + i as u64).is_err() {
                    break;
                }
                (*pi).data[(*pi).nwrite as usize % PIPESIZE] = ch[0];
                (*pi).nwrite = (*pi).nwrite.wrapping_add(1);
                i += 1;
            }
        }
        wakeup(nread_chan(pi));
        lk.release();
    }
    i
}

/// Reads up to `n` bytes to user address `addr`; returns the count (0 at end of file) or
/// -1 if killed while waiting.
pub fn piperead(pi: *mut Pipe, addr: u64, n: i32) -> i32 {
    let pr = myproc();
    let mut i = 0;
    // SAFETY: as in pipewrite.
    unsafe {
        let lk = &(*pi).lock;
        lk.acquire();
        // Other harts change nread/writeopen; sleep releases and re-takes the lock, and the
        // fields are reloaded through the raw pointer on every test.
        #[allow(clippy::while_immutable_condition)]
        while (*pi).nread == (*pi).nwrite && (*pi).writeopen != 0 {
            if killed(pr) {
                lk.release();
                return -1;
            }
            sleep(nread_chan(pi), lk);
        }
        while i < n {
            if (*pi).nread == (*pi).nwrite {
                break;
            }
            let ch = [(*pi).data[(*pi).nread as usize % PIPESIZE]];
            (*pi).nread = (*pi).nread.wrapping_add(1);
            if copyout((*pr).pagetable, addr + i as u64, &ch).is_err() {
                break;
            }
            i += 1;
        }
        wakeup(nwrite_chan(pi));
        lk.release();
    }
    i
}
