//! `cowtest` (cow lab; boot with `--lab cow`): fork must share memory copy-on-write.
//!
//! - `simple`: a process holding two thirds of all RAM forks, twice. An eager fork needs as
//!   much again and fails; a copy-on-write fork needs a page table.
//! - `three`: a quarter of RAM, shared by three processes that each write part of it; every
//!   process must read back only what it wrote itself. Three times.
//! - `file`: the kernel writes into shared pages (`read` from a pipe into a buffer the
//!   children share with their parent): copyout must copy the page first, or the parent
//!   sees its children's bytes.
//!
//! Prints `simple: ok`, `three: ok`, `file: ok` and `ALL COW TESTS PASSED`, as the lab's test
//! does; a failure prints why and exits with status 1. Also sane on a stock kernel up to the
//! first fork that cannot copy (it then says `fork() failed`).
#![no_std]
#![no_main]

use abi::memlayout::{KERNBASE, PGSIZE, PHYSTOP};
use user::*;

entry!(main);

const PAGE: usize = PGSIZE as usize;
const RAM: usize = (PHYSTOP - KERNBASE) as usize;

fn fail(msg: &str) -> ! {
    println!("{msg}");
    exit(1)
}

/// The word at the start of each page of `[base, base + len)`.
fn pages(base: usize, len: usize) -> impl Iterator<Item = *mut i32> {
    (base..base + len).step_by(PAGE).map(|a| a as *mut i32)
}

/// Grows the heap by `len` bytes; the start of the new memory.
fn grow(len: usize) -> usize {
    sbrk(len as i32).unwrap_or_else(|_| fail("sbrk failed"))
}

fn shrink(len: usize) {
    if sbrk(-(len as i32)).is_err() {
        fail("sbrk(-sz) failed");
    }
}

/// Two thirds of RAM, forked: only copy-on-write has room for the child.
fn simple() {
    let len = RAM / 3 * 2;
    print!("simple: ");
    let base = grow(len);
    for (i, w) in pages(base, len).enumerate() {
        // SAFETY: [base, base + len) is our fresh heap.
        unsafe { w.write_volatile(i as i32) };
    }
    match fork() {
        Err(_) => fail("fork() failed"),
        Ok(0) => exit(0),
        Ok(_) => {}
    }
    let _ = wait(None);
    shrink(len);
    println!("ok");
}

/// A quarter of RAM in three processes, each writing its own part.
fn three() {
    let len = RAM / 4;
    print!("three: ");
    let base = grow(len);
    let me = getpid();
    for w in pages(base, len) {
        // SAFETY: our heap.
        unsafe { w.write_volatile(me) };
    }
    match fork() {
        Err(_) => fail("fork failed"),
        Ok(0) => {
            match fork() {
                Err(_) => fail("fork failed"),
                Ok(0) => {
                    // The grandchild writes four fifths, then checks them.
                    let part = len / 5 * 4;
                    let me = getpid();
                    for w in pages(base, part) {
                        // SAFETY: our (shared) heap.
                        unsafe { w.write_volatile(me) };
                    }
                    for w in pages(base, part) {
                        // SAFETY: as above.
                        if unsafe { w.read_volatile() } != me {
                            fail("wrong content");
                        }
                    }
                    exit(-1);
                }
                Ok(_) => {}
            }
            // The child writes half, and leaves without waiting.
            for w in pages(base, len / 2) {
                // SAFETY: our (shared) heap.
                unsafe { w.write_volatile(9999) };
            }
            exit(0);
        }
        Ok(_) => {}
    }
    for w in pages(base, len) {
        // SAFETY: our (shared) heap.
        unsafe { w.write_volatile(me) };
    }
    let _ = wait(None);
    let _ = sleep(1);
    for w in pages(base, len) {
        // SAFETY: as above.
        if unsafe { w.read_volatile() } != me {
            fail("wrong content");
        }
    }
    shrink(len);
    println!("ok");
}

/// The kernel's copyout into a page shared with the parent.
fn file() {
    static mut BUF: [u8; 4096] = [0; 4096];
    let buf = &raw mut BUF;
    print!("file: ");
    // SAFETY: single-threaded; the only reference to BUF in this process.
    unsafe { (*buf)[0] = 99 };
    for i in 0..4u8 {
        let Ok([r, w]) = pipe() else {
            fail("pipe() failed")
        };
        match fork() {
            Err(_) => fail("fork failed"),
            Ok(0) => {
                let _ = sleep(1);
                // SAFETY: as above: BUF's page is shared copy-on-write with the parent.
                let b = unsafe { &mut (&mut *buf)[..1] };
                if read(r, b) != Ok(1) {
                    fail("error: read failed");
                }
                let _ = sleep(1);
                if b[0] != i {
                    fail("error: read the wrong value");
                }
                exit(0);
            }
            Ok(_) => {}
        }
        if write(w, &[i]) != Ok(1) {
            fail("error: write failed");
        }
        let _ = close(r);
        let _ = close(w);
    }
    for _ in 0..4 {
        let mut st = 0;
        let _ = wait(Some(&mut st));
        if st != 0 {
            exit(1);
        }
    }
    // SAFETY: as above.
    if unsafe { (*buf)[0] } != 99 {
        fail("error: child overwrote parent");
    }
    println!("ok");
}

fn main(_: Args) {
    simple();
    // Twice: a kernel that leaks the shared pages has no room the second time.
    simple();
    three();
    three();
    three();
    file();
    println!("ALL COW TESTS PASSED");
}
