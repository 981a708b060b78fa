//! `lazytests` (lazy lab; boot with `--lab lazy`): sbrk must only reserve address space.
//!
//! - `lazy alloc`: a gigabyte of heap (eight times the RAM), written and read back one page
//!   in 64: an eager sbrk cannot give it, a lazy one faults in only the pages written.
//! - `lazy unmap`: the gigabyte handed back with `sbrk(-n)` must be gone: a child that writes
//!   anywhere in it (every 16 MiB) must be killed.
//! - `out of memory`: a child that keeps taking 16 MiB blocks and touching each runs out of
//!   RAM in the page-fault handler and must be killed, not hang or panic the kernel.
//!
//! Prints `running test NAME` and `test NAME: OK` (or `FAILED`) for each, then `ALL TESTS
//! PASSED`, as the lab's test does; exits with status 1 after a failure.
#![no_std]
#![no_main]

use abi::memlayout::PGSIZE;
use user::*;

entry!(main);

const PAGE: usize = PGSIZE as usize;
const REGION: usize = 1024 * 1024 * 1024;

fn fail(msg: &str) -> ! {
    println!("{msg}");
    exit(1)
}

fn sparse_memory() {
    let Ok(base) = sbrk(REGION as i32) else {
        fail("sbrk() failed")
    };
    for a in (base..base + REGION).step_by(64 * PAGE) {
        // SAFETY: [base, base + REGION) is our heap.
        unsafe { (a as *mut usize).write_volatile(a) };
    }
    for a in (base..base + REGION).step_by(64 * PAGE) {
        // SAFETY: as above.
        if unsafe { (a as *const usize).read_volatile() } != a {
            fail("failed to read value from memory");
        }
    }
    exit(0);
}

fn sparse_memory_unmap() {
    let Ok(base) = sbrk(REGION as i32) else {
        fail("sbrk() failed")
    };
    for a in (base..base + REGION).step_by(PAGE * PAGE) {
        // SAFETY: our heap.
        unsafe { (a as *mut usize).write_volatile(a) };
    }
    if sbrk(-(REGION as i32)).is_err() {
        fail("sbrk() failed");
    }
    for a in (base..base + REGION).step_by(PAGE * PAGE) {
        match fork() {
            Err(_) => fail("error forking"),
            Ok(0) => {
                // SAFETY: a store that must fault: the memory was handed back.
                unsafe { (a as *mut usize).write_volatile(a) };
                exit(0);
            }
            Ok(_) => {
                let mut st = 0;
                let _ = wait(Some(&mut st));
                if st == 0 {
                    fail("memory not unmapped");
                }
            }
        }
    }
    exit(0);
}

fn oom() {
    match fork() {
        Err(_) => fail("error forking"),
        Ok(0) => {
            let mut blocks = 0usize;
            while let Ok(a) = sbrk(16 * 1024 * 1024) {
                // SAFETY: the block was just given to us.
                unsafe { (a as *mut usize).write_volatile(blocks) };
                blocks += 1;
            }
            exit(0);
        }
        Ok(_) => {
            let mut st = 0;
            let _ = wait(Some(&mut st));
            // The child must have been killed, not have run out of address space quietly.
            exit(if st == 0 { 1 } else { 0 });
        }
    }
}

/// Runs `f` in a child; true if it exited with status 0.
fn run(f: fn(), name: &str) -> bool {
    println!("running test {name}");
    match fork() {
        Err(_) => fail("fork failed"),
        Ok(0) => {
            f();
            exit(0)
        }
        Ok(_) => {}
    }
    let mut st = 0;
    let _ = wait(Some(&mut st));
    println!("test {name}: {}", if st == 0 { "OK" } else { "FAILED" });
    st == 0
}

fn main(_: Args) {
    let tests: [(fn(), &str); 3] = [
        (sparse_memory, "lazy alloc"),
        (sparse_memory_unmap, "lazy unmap"),
        (oom, "out of memory"),
    ];
    let mut ok = true;
    for (f, name) in tests {
        ok &= run(f, name);
    }
    if !ok {
        println!("SOME TESTS FAILED");
        exit(1);
    }
    println!("ALL TESTS PASSED");
}
