//! `mmaptest` (mmap lab; boot with `--lab mmap`): mmap and munmap of files.
//!
//! `mmap_test`: a file of one and a half pages, mapped two pages long, reads as the file then
//! zeros; a private mapping may be writable on a read-only file and its stores never reach
//! the file; a shared writable mapping of a read-only file is refused; a shared mapping of a
//! read-write file outlives `close`, and its stores reach the file when the pages are
//! unmapped (the first two of three, then the third); two files mapped at once keep their
//! own contents, also after one is unmapped.
//!
//! `fork_test`: a child inherits two mappings of a file (already unlinked) and reads them;
//! unmapping a page in the child leaves the parent's mappings alone.
//!
//! Prints `mmap_test: ALL OK`, `fork_test OK` and `mmaptest: all tests succeeded`, as the
//! lab's test does; a failure prints `mmaptest: TEST failure: WHY` and exits with status 1.
#![no_std]
#![no_main]

use abi::memlayout::PGSIZE;
use user::*;

entry!(main);

const PAGE: usize = PGSIZE as usize;
const FILE: &str = "mmap.dur";

fn err(test: &str, why: &str) -> ! {
    println!("mmaptest: {test} failure: {why}, pid={}", getpid());
    exit(1)
}

/// The byte at `addr` of a mapping.
fn peek(addr: usize) -> u8 {
    // SAFETY: the tests only read inside their own mappings.
    unsafe { (addr as *const u8).read_volatile() }
}

fn poke(addr: usize, v: u8) {
    // SAFETY: the tests only write inside their own writable mappings.
    unsafe { (addr as *mut u8).write_volatile(v) }
}

/// A file of one and a half pages of 'A'.
fn makefile(test: &str) {
    let _ = unlink(FILE);
    let Ok(fd) = open(FILE, O_WRONLY | O_CREATE) else {
        err(test, "open")
    };
    let block = [b'A'; 512];
    for _ in 0..(PAGE + PAGE / 2) / block.len() {
        if write(fd, &block) != Ok(block.len()) {
            err(test, "write 0 makefile");
        }
    }
    if close(fd).is_err() {
        err(test, "close");
    }
}

/// The mapping at `p` shows the file: 1.5 pages of 'A', then zeros to the end of page two.
fn v1(test: &str, p: usize) {
    for i in 0..2 * PAGE {
        let want = if i < PAGE + PAGE / 2 { b'A' } else { 0 };
        if peek(p + i) != want {
            println!("mismatch at {i}, wanted {want}, got {}", peek(p + i));
            err(test, "v1 mismatch (1)");
        }
    }
}

fn mmap_test() {
    let t = "mmap_test";
    println!("{t} starting");
    makefile(t);
    let Ok(fd) = open(FILE, O_RDONLY) else {
        err(t, "open")
    };
    // A read-only private mapping, longer than the file.
    let Ok(p) = mmap(2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0) else {
        err(t, "mmap (1)")
    };
    v1(t, p);
    if munmap(p, 2 * PAGE).is_err() {
        err(t, "munmap (1)");
    }

    // Private and writable is fine on a read-only file; the stores stay in the process.
    let Ok(p) = mmap(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) else {
        err(t, "mmap (2)")
    };
    if close(fd).is_err() {
        err(t, "close");
    }
    v1(t, p);
    for i in 0..2 * PAGE {
        poke(p + i, b'Z');
    }
    if munmap(p, 2 * PAGE).is_err() {
        err(t, "munmap (2)");
    }

    // Shared and writable on a read-only file: refused.
    let Ok(fd) = open(FILE, O_RDONLY) else {
        err(t, "open")
    };
    if mmap(3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0).is_ok() {
        err(t, "mmap call should have failed");
    }
    let _ = close(fd);

    // Shared and writable on a read-write file: works after close, stores reach the file.
    let Ok(fd) = open(FILE, O_RDWR) else {
        err(t, "open")
    };
    let Ok(p) = mmap(3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) else {
        err(t, "mmap (3)")
    };
    let _ = close(fd);
    v1(t, p);
    for i in 0..2 * PAGE {
        poke(p + i, b'Z');
    }
    if munmap(p, 2 * PAGE).is_err() {
        err(t, "munmap (3)");
    }
    let Ok(fd) = open(FILE, O_RDWR) else {
        err(t, "open (4)")
    };
    let mut b = [0u8];
    for _ in 0..PAGE + PAGE / 2 {
        if read(fd, &mut b) != Ok(1) || b[0] != b'Z' {
            err(t, "file does not contain modifications");
        }
    }
    let _ = close(fd);
    if munmap(p + 2 * PAGE, PAGE).is_err() {
        err(t, "munmap (4)");
    }

    // Two files at once.
    let mapped = |name: &str, text: &[u8]| -> usize {
        let Ok(fd) = open(name, O_RDWR | O_CREATE) else {
            err(t, "open mmap")
        };
        if write(fd, text) != Ok(text.len()) {
            err(t, "write mmap");
        }
        let Ok(p) = mmap(PAGE, PROT_READ, MAP_PRIVATE, fd, 0) else {
            err(t, "mmap mmap")
        };
        let _ = close(fd);
        let _ = unlink(name);
        p
    };
    let same = |p: usize, text: &[u8]| text.iter().enumerate().all(|(i, &c)| peek(p + i) == c);
    let p1 = mapped("mmap1", b"12345");
    let p2 = mapped("mmap2", b"67890");
    if !same(p1, b"12345") {
        err(t, "mmap1 mismatch");
    }
    if !same(p2, b"67890") {
        err(t, "mmap2 mismatch");
    }
    let _ = munmap(p1, PAGE);
    if !same(p2, b"67890") {
        err(t, "mmap2 mismatch (2)");
    }
    let _ = munmap(p2, PAGE);
    println!("{t}: ALL OK");
}

fn fork_test() {
    let t = "fork_test";
    println!("{t} starting");
    makefile(t);
    let Ok(fd) = open(FILE, O_RDONLY) else {
        err(t, "open")
    };
    let _ = unlink(FILE);
    let (Ok(p1), Ok(p2)) = (
        mmap(2 * PAGE, PROT_READ, MAP_SHARED, fd, 0),
        mmap(2 * PAGE, PROT_READ, MAP_SHARED, fd, 0),
    ) else {
        err(t, "mmap")
    };
    // Fault in just the second page before the fork.
    if peek(p1 + PAGE) != b'A' {
        err(t, "fork mismatch (1)");
    }
    match fork() {
        Err(_) => err(t, "fork"),
        Ok(0) => {
            v1(t, p1);
            let _ = munmap(p1, PAGE);
            exit(0);
        }
        Ok(_) => {}
    }
    let mut st = 0;
    let _ = wait(Some(&mut st));
    if st != 0 {
        println!("fork_test failed");
        exit(1);
    }
    // The parent's mappings are all still there.
    v1(t, p1);
    v1(t, p2);
    println!("{t} OK");
}

fn main(_: Args) {
    mmap_test();
    fork_test();
    println!("mmaptest: all tests succeeded");
}
