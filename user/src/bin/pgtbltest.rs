//! `pgtbltest` (2021+ pgtbl lab; boot with `--lab usyscall,pgaccess`).
//!
//! - `ugetpid`: 64 children, one after the other, each compare the pid the usyscall page
//!   shows (`ugetpid`, no system call) with `getpid`'s.
//! - `pgaccess`: of 32 fresh pages, after the accessed bits are cleared by a first call,
//!   only the three touched (1, 2 and 30) must read as accessed.
//!
//! Prints `ugetpid_test: OK`, `pgaccess_test: OK` and `pgtbltest: all tests succeeded`, as
//! the lab's test does; a failure prints why and exits with status 1.
#![no_std]
#![no_main]

use abi::memlayout::PGSIZE;
use user::*;

entry!(main);

const PAGE: usize = PGSIZE as usize;

fn err(why: &str) -> ! {
    println!("pgtbltest: {why} (pid {})", getpid());
    exit(1)
}

fn ugetpid_test() {
    println!("ugetpid_test starting");
    for _ in 0..64 {
        match fork() {
            Err(_) => err("fork failed"),
            Ok(0) => {
                if getpid() != ugetpid() {
                    err("missmatched PID");
                }
                exit(0);
            }
            Ok(_) => {
                let mut st = 0;
                let _ = wait(Some(&mut st));
                if st != 0 {
                    exit(1);
                }
            }
        }
    }
    println!("ugetpid_test: OK");
}

fn pgaccess_test() {
    println!("pgaccess_test starting");
    let Ok(buf) = sbrk(32 * PAGE as i32) else {
        err("sbrk failed")
    };
    let buf = buf as *mut u8;
    if pgaccess(buf, 32).is_err() {
        err("pgaccess failed");
    }
    for page in [1, 2, 30] {
        // SAFETY: the 32 pages are our fresh heap.
        unsafe {
            let b = buf.add(page * PAGE);
            b.write_volatile(b.read_volatile().wrapping_add(1));
        }
    }
    match pgaccess(buf, 32) {
        Err(_) => err("pgaccess failed"),
        Ok(bits) if bits != (1 << 1) | (1 << 2) | (1 << 30) => {
            println!("pgaccess_test: bits {bits:#x}");
            err("incorrect access bits set")
        }
        Ok(_) => {}
    }
    let _ = sbrk(-(32 * PAGE as i32));
    println!("pgaccess_test: OK");
}

fn main(_: Args) {
    ugetpid_test();
    pgaccess_test();
    println!("pgtbltest: all tests succeeded");
}
