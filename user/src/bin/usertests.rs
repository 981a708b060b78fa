//! `usertests [-q | -c | -C | NAME]`: the xv6 kernel's test suite, test for test as MIT's
//! `user/usertests.c` (2022): the same names, the same questions, the same messages.
//!
//! Each test runs in a child process: `test NAME: ` is printed, then `OK` when the child
//! exits with status 0 and `FAILED` otherwise; the first failure stops the run with `SOME TESTS
//! FAILED`. Without arguments the quick tests run and then the slow ones; `-q` runs only the
//! quick ones, `NAME` only that test, `-c` repeats forever stopping at a failure, `-C` repeats
//! forever regardless. Around the run, free memory is counted (by sbrk until failure, in a
//! child) and a run that ends with fewer free pages than it started with fails with
//! `FAILED -- lost some free pages`. The last line is `ALL TESTS PASSED` on success.
//!
//! Some tests make the kernel print `usertrap(): ...` lines for processes they deliberately
//! crash; those are expected.
//!
//! Tests live in modules by subject: `copy` (bad pointers into and out of the kernel), `file`
//! (files, directories, links, inodes), `proc` (fork, exit, wait, kill, pipes, exec), `mem`
//! (sbrk, the address space, arguments) and `slow`. A test is `fn(name: &str)`; it fails by
//! calling `exit` with a non-zero status (the `fail!` macro prints and exits 1).
#![no_std]
#![no_main]

extern crate alloc;

use user::*;

// A binary's root sits in src/bin/, so its modules are named by path.
#[path = "usertests/copy.rs"]
mod copy;
#[path = "usertests/file.rs"]
mod file;
#[path = "usertests/mem.rs"]
mod mem;
#[path = "usertests/proc.rs"]
mod proc;
#[path = "usertests/slow.rs"]
mod slow;

entry!(main);

/// Prints a message and ends the test process with status 1.
macro_rules! fail {
    ($($arg:tt)*) => {{
        user::println!($($arg)*);
        user::exit(1)
    }};
}
pub(crate) use fail;

/// Size of the shared scratch buffer: a little more than the most one write may log.
pub const BUFSZ: usize = (abi::param::MAXOPBLOCKS + 2) * abi::fs::BSIZE;

/// The scratch buffer tests share, as the C suite's global `buf` (in bss, not on the one-page
/// stack nor in the heap, whose growth some tests measure).
pub fn buf() -> &'static mut [u8; BUFSZ] {
    static mut BUF: [u8; BUFSZ] = [0; BUFSZ];
    let p = &raw mut BUF;
    // SAFETY: each test process is single-threaded and uses the buffer through one reference
    // at a time (tests take it once, at the start, or re-take it after the last use).
    unsafe { &mut *p }
}

/// `fork()` with the C convention: the pid, 0 in the child, -1 on failure.
pub fn fork_raw() -> i32 {
    fork().unwrap_or(-1)
}

/// `wait(&status)`: returns the pid (or -1) and the status.
pub fn wait_st() -> (i32, i32) {
    let mut st = 0;
    let pid = wait(Some(&mut st)).unwrap_or(-1);
    (pid, st)
}

/// `open` that returns the fd or -1, like C.
pub fn open_raw(path: impl AsRef<[u8]>, flags: i32) -> i32 {
    open(path, flags).unwrap_or(-1)
}

/// `close(open(path, flags))`, ignoring failures, as the C tests often do.
pub fn touch(path: impl AsRef<[u8]>, flags: i32) {
    if let Ok(fd) = open(path, flags) {
        let _ = close(fd);
    }
}

/// `write` returning the count or -1.
pub fn write_raw(fd: Fd, b: &[u8]) -> i32 {
    write(fd, b).map_or(-1, |n| n as i32)
}

/// `read` returning the count or -1.
pub fn read_raw(fd: Fd, b: &mut [u8]) -> i32 {
    read(fd, b).map_or(-1, |n| n as i32)
}

/// `sbrk(n)` returning the old break, or `usize::MAX` on failure, as C's `(uint64) sbrk(n)`.
pub fn sbrk_raw(n: i32) -> usize {
    sbrk(n).unwrap_or(usize::MAX)
}

/// The current break.
pub fn brk() -> usize {
    sbrk_raw(0)
}

type Test = (fn(&str), &'static str);

const QUICK: &[Test] = &[
    (copy::copyin, "copyin"),
    (copy::copyout, "copyout"),
    (copy::copyinstr1, "copyinstr1"),
    (copy::copyinstr2, "copyinstr2"),
    (copy::copyinstr3, "copyinstr3"),
    (copy::rwsbrk, "rwsbrk"),
    (file::truncate1, "truncate1"),
    (file::truncate2, "truncate2"),
    (file::truncate3, "truncate3"),
    (file::openiputtest, "openiput"),
    (file::exitiputtest, "exitiput"),
    (file::iputtest, "iput"),
    (file::opentest, "opentest"),
    (file::writetest, "writetest"),
    (file::writebig, "writebig"),
    (file::createtest, "createtest"),
    (file::dirtest, "dirtest"),
    (proc::exectest, "exectest"),
    (proc::pipe1, "pipe1"),
    (proc::killstatus, "killstatus"),
    (proc::preempt, "preempt"),
    (proc::exitwait, "exitwait"),
    (proc::reparent, "reparent"),
    (proc::twochildren, "twochildren"),
    (proc::forkfork, "forkfork"),
    (proc::forkforkfork, "forkforkfork"),
    (proc::reparent2, "reparent2"),
    (mem::mem, "mem"),
    (file::sharedfd, "sharedfd"),
    (file::fourfiles, "fourfiles"),
    (file::createdelete, "createdelete"),
    (file::unlinkread, "unlinkread"),
    (file::linktest, "linktest"),
    (file::concreate, "concreate"),
    (file::linkunlink, "linkunlink"),
    (file::subdir, "subdir"),
    (file::bigwrite, "bigwrite"),
    (file::bigfile, "bigfile"),
    (file::fourteen, "fourteen"),
    (file::rmdot, "rmdot"),
    (file::dirfile, "dirfile"),
    (file::iref, "iref"),
    (proc::forktest, "forktest"),
    (mem::sbrkbasic, "sbrkbasic"),
    (mem::sbrkmuch, "sbrkmuch"),
    (mem::kernmem, "kernmem"),
    (mem::maxvaplus, "MAXVAplus"),
    (mem::sbrkfail, "sbrkfail"),
    (mem::sbrkarg, "sbrkarg"),
    (mem::validatetest, "validatetest"),
    (mem::bsstest, "bsstest"),
    (mem::bigargtest, "bigargtest"),
    (mem::argptest, "argptest"),
    (mem::stacktest, "stacktest"),
    (mem::textwrite, "textwrite"),
    (mem::pgbug, "pgbug"),
    (mem::sbrkbugs, "sbrkbugs"),
    (mem::sbrklast, "sbrklast"),
    (mem::sbrk8000, "sbrk8000"),
    (mem::badarg, "badarg"),
];

const SLOW: &[Test] = &[
    (slow::bigdir, "bigdir"),
    (slow::manywrites, "manywrites"),
    (slow::badwrite, "badwrite"),
    (slow::execout, "execout"),
    (slow::diskfull, "diskfull"),
    (slow::outofinodes, "outofinodes"),
];

/// Runs one test in a child; true when it exited with status 0.
fn run(f: fn(&str), name: &str) -> bool {
    print!("test {name}: ");
    match fork() {
        Err(_) => {
            println!("runtest: fork error");
            exit(1);
        }
        Ok(0) => {
            f(name);
            exit(0);
        }
        Ok(_) => {
            let (_, st) = wait_st();
            println!("{}", if st == 0 { "OK" } else { "FAILED" });
            st == 0
        }
    }
}

/// Runs `tests` (or just `only`); false after the first failure.
fn runtests(tests: &[Test], only: Option<&str>) -> bool {
    for &(f, name) in tests {
        if (only.is_none() || only == Some(name)) && !run(f, name) {
            println!("SOME TESTS FAILED");
            return false;
        }
    }
    true
}

/// Counts free physical pages: a child takes pages with sbrk (touching each) until it fails,
/// reporting each over a pipe. In a child, because with lazy allocation running out of memory
/// kills the process instead of failing sbrk.
pub fn countfree() -> usize {
    let Ok([r, w]) = pipe() else {
        fail!("pipe() failed in countfree()")
    };
    match fork() {
        Err(_) => fail!("fork failed in countfree()"),
        Ok(0) => {
            let _ = close(r);
            loop {
                let a = sbrk_raw(4096);
                if a == usize::MAX {
                    break;
                }
                // SAFETY: sbrk just made [a, a + 4096) ours.
                unsafe { ((a + 4095) as *mut u8).write_volatile(1) };
                if write(w, b"x") != Ok(1) {
                    fail!("write() failed in countfree()");
                }
            }
            exit(0);
        }
        Ok(_) => {}
    }
    let _ = close(w);
    let mut n = 0;
    let mut c = [0u8];
    loop {
        match read(r, &mut c) {
            Err(_) => fail!("read() failed in countfree()"),
            Ok(0) => break,
            Ok(_) => n += 1,
        }
    }
    let _ = close(r);
    let _ = wait(None);
    n
}

/// Runs the suites; false on failure (unless `continuous` is 2: keep going).
fn drivetests(quick: bool, continuous: u8, only: Option<&str>) -> bool {
    loop {
        println!("usertests starting");
        let free0 = countfree();
        if !runtests(QUICK, only) && continuous != 2 {
            return false;
        }
        if !quick {
            if only.is_none() {
                println!("usertests slow tests starting");
            }
            if !runtests(SLOW, only) && continuous != 2 {
                return false;
            }
        }
        let free1 = countfree();
        if free1 < free0 {
            println!("FAILED -- lost some free pages {free1} (out of {free0})");
            if continuous != 2 {
                return false;
            }
        }
        if continuous == 0 {
            return true;
        }
    }
}

fn main(args: Args) {
    let (mut quick, mut continuous, mut only) = (false, 0, None);
    match (args.len(), args.get(1)) {
        (2, Some("-q")) => quick = true,
        (2, Some("-c")) => continuous = 1,
        (2, Some("-C")) => continuous = 2,
        (2, Some(name)) if !name.starts_with('-') => only = Some(name),
        (n, _) if n > 1 => {
            println!("Usage: usertests [-c] [-C] [-q] [testname]");
            exit(1);
        }
        _ => {}
    }
    if !drivetests(quick, continuous, only) {
        exit(1);
    }
    println!("ALL TESTS PASSED");
}
