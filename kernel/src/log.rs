//! Write-ahead log: makes each file-system operation atomic with respect to crashes.
//!
//! Purpose: a system call that changes several blocks (bitmap, inode, directory, data) wraps
//! them in `begin_op()`/`end_op()` and writes them with `log_write` instead of `bwrite`.
//! Nothing reaches its home location until the whole group is safe in the log, so after a
//! crash either all of an operation's writes happen (replayed by `initlog`) or none do.
//!
//! On-disk log (`sb.nlog` blocks from `sb.logstart`): a header block (`LogHeader`: count
//! `n` and the home block number of each logged block), then the logged copies in order.
//! A transaction commits when the header is written with `n > 0`; it is erased after the
//! copies are installed.
//!
//! Interface: `initlog(dev, sb)` at mount (recovers a committed transaction);
//! `begin_op()`/`end_op()` around every file-system call, or the guard [`Op`] whose drop is
//! `end_op`; `log_write(buf)` after modifying a buffer inside an operation.
//!
//! Group commit: several calls may be inside operations at once (`outstanding`); the log
//! commits when the last one ends. `begin_op` reserves `MAXOPBLOCKS` log slots per
//! outstanding operation and sleeps when the log might overflow or a commit is running.
//! Logged buffers are pinned in the cache (`bpin`) until installed, because the log reads
//! them back from the cache at commit.
//!
//! Locking: `log.lock` guards every field. `commit` runs without it (it sleeps on the disk),
//! protected by `committing`, which keeps new operations out.

use abi::fs::{LogHeader, SuperBlock};
use abi::param::{LOGSIZE, MAXOPBLOCKS};

use crate::bio::{BufGuard, bpin, bread, bunpin};
use crate::proc::{sleep, wakeup};
use crate::spinlock::{Shared, Spinlock};

#[repr(C)]
pub struct Log {
    pub lock: Spinlock,
    /// First log block (the header).
    pub start: i32,
    /// Number of log blocks, header included.
    pub size: i32,
    /// File-system calls between begin_op and end_op.
    pub outstanding: i32,
    /// A commit is in progress; begin_op waits.
    pub committing: i32,
    pub dev: i32,
    /// In-memory header: blocks logged by the current transaction.
    pub lh: LogHeader,
}

/// The log. `log.lock` guards all fields.
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
pub static log: Shared<Log> = Shared::new(Log {
    lock: Spinlock::new("log"),
    start: 0,
    size: 0,
    outstanding: 0,
    committing: 0,
    dev: 0,
    lh: LogHeader {
        n: 0,
        block: [0; LOGSIZE],
    },
});

fn lg() -> *mut Log {
    log.get()
}

fn lock() -> &'static Spinlock {
    // SAFETY: the spinlock is only used through &self methods.
    unsafe { &(*lg()).lock }
}

fn chan() -> usize {
    lg() as usize
}

/// Sets up the log for `dev` and replays any committed transaction.
/// Called once, from fsinit, before any other file-system operation.
pub fn initlog(dev: u32, sb: &SuperBlock) {
    // SAFETY: mount runs in the first process before any other file-system user.
    unsafe {
        (*lg()).start = sb.logstart as i32;
        (*lg()).size = sb.nlog as i32;
        (*lg()).dev = dev as i32;
    }
    recover_from_log();
}

/// Copies each committed block from the log to its home location.
fn install_trans(recovering: bool) {
    // SAFETY: called only by the committer (committing == 1) or at mount, so nobody else
    // changes lh, start or dev meanwhile.
    let (dev, start, n) = unsafe { ((*lg()).dev as u32, (*lg()).start as u32, (*lg()).lh.n) };
    for tail in 0..n as usize {
        // SAFETY: as above.
        let home = unsafe { (*lg()).lh.block[tail] } as u32;
        let lbuf = bread(dev, start + tail as u32 + 1);
        let mut dbuf = bread(dev, home);
        dbuf.data_mut().copy_from_slice(lbuf.data());
        dbuf.bwrite();
        if !recovering {
            bunpin(dbuf.as_ptr());
        }
    }
}

/// Loads the on-disk header into `log.lh`.
fn read_head() {
    // SAFETY: as in install_trans.
    let (dev, start) = unsafe { ((*lg()).dev as u32, (*lg()).start as u32) };
    let buf = bread(dev, start);
    let hb = &buf.view::<LogHeader>()[0];
    let n = hb.n.clamp(0, LOGSIZE as i32);
    // SAFETY: as in install_trans.
    unsafe {
        (*lg()).lh.n = n;
        (&mut (*lg()).lh.block)[..n as usize].copy_from_slice(&hb.block[..n as usize]);
    }
}

/// Writes `log.lh` to the header block: with n > 0 this is the commit point.
fn write_head() {
    // SAFETY: as in install_trans.
    let (dev, start) = unsafe { ((*lg()).dev as u32, (*lg()).start as u32) };
    let mut buf = bread(dev, start);
    {
        let hb = &mut buf.view_mut::<LogHeader>()[0];
        // SAFETY: as in install_trans.
        unsafe {
            let n = (*lg()).lh.n;
            hb.n = n;
            hb.block[..n as usize].copy_from_slice(&(&(*lg()).lh.block)[..n as usize]);
        }
    }
    buf.bwrite();
}

fn recover_from_log() {
    read_head();
    install_trans(true);
    // SAFETY: mount time, single user.
    unsafe { (*lg()).lh.n = 0 };
    write_head();
}

/// Starts a file-system operation; may sleep until the log has room for it.
pub fn begin_op() {
    lock().acquire();
    loop {
        // SAFETY: log.lock is held.
        let (committing, n, outstanding) =
            unsafe { ((*lg()).committing, (*lg()).lh.n, (*lg()).outstanding) };
        if committing != 0 {
            sleep(chan(), lock());
        } else if n as usize + (outstanding as usize + 1) * MAXOPBLOCKS > LOGSIZE {
            // This operation might exhaust the log; wait for the current commit.
            sleep(chan(), lock());
        } else {
            // SAFETY: log.lock is held.
            unsafe { (*lg()).outstanding += 1 };
            lock().release();
            return;
        }
    }
}

/// Ends a file-system operation; the last one out commits the transaction.
pub fn end_op() {
    let mut do_commit = false;
    lock().acquire();
    // SAFETY: log.lock is held.
    unsafe {
        (*lg()).outstanding -= 1;
        if (*lg()).committing != 0 {
            panic!("log.committing");
        }
        if (*lg()).outstanding == 0 {
            do_commit = true;
            (*lg()).committing = 1;
        } else {
            // begin_op may be waiting for the space this operation had reserved.
            wakeup(chan());
        }
    }
    lock().release();

    if do_commit {
        // Commit without log.lock: it sleeps on the disk. committing keeps others out.
        commit();
        lock().acquire();
        // SAFETY: log.lock is held.
        unsafe { (*lg()).committing = 0 };
        wakeup(chan());
        lock().release();
    }
}

/// Guard for one file-system operation: `Op::begin()` is `begin_op`, drop is `end_op`.
/// Declare it before any inode guard of the same operation so it is dropped after them
/// (iput may free an inode, which needs the transaction).
pub struct Op(());

impl Op {
    pub fn begin() -> Op {
        begin_op();
        Op(())
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        end_op();
    }
}

/// Copies the modified blocks from the cache into the log area.
fn write_log() {
    // SAFETY: only the committer runs this (committing == 1).
    let (dev, start, n) = unsafe { ((*lg()).dev as u32, (*lg()).start as u32, (*lg()).lh.n) };
    for tail in 0..n as usize {
        // SAFETY: as above.
        let home = unsafe { (*lg()).lh.block[tail] } as u32;
        let mut to = bread(dev, start + tail as u32 + 1);
        let from = bread(dev, home);
        to.data_mut().copy_from_slice(from.data());
        to.bwrite();
    }
}

fn commit() {
    // SAFETY: committing == 1, so nobody else touches lh.
    if unsafe { (*lg()).lh.n } > 0 {
        write_log(); // modified blocks: cache → log
        write_head(); // the real commit
        install_trans(false); // log → home locations
        // SAFETY: as above.
        unsafe { (*lg()).lh.n = 0 };
        write_head(); // erase the transaction
    }
}

/// Records that `b` (modified, still locked by the caller) belongs to the current
/// transaction, and pins it in the cache. Replaces `bwrite` inside an operation.
/// Writing the same block twice in one transaction uses one log slot (absorption).
pub fn log_write(b: &BufGuard) {
    let blockno = b.blockno() as i32;
    lock().acquire();
    // SAFETY: log.lock is held.
    unsafe {
        let l = lg();
        let n = (*l).lh.n as usize;
        if n >= LOGSIZE || n as i32 >= (*l).size - 1 {
            panic!("too big a transaction");
        }
        if (*l).outstanding < 1 {
            panic!("log_write outside of trans");
        }
        let i = (&(*l).lh.block)[..n]
            .iter()
            .position(|&x| x == blockno)
            .unwrap_or(n);
        (*l).lh.block[i] = blockno;
        if i == n {
            bpin(b.as_ptr());
            (*l).lh.n += 1;
        }
    }
    lock().release();
}
