//! `sysinfotest` (syscall lab): checks the `sysinfo` system call (23). Free memory must equal
//! what `sbrk` can actually take, and move by exactly a page when the heap grows or shrinks
//! by one; the process count must rise by one in a forked child; a bad pointer must fail.
#![no_std]
#![no_main]

use abi::memlayout::PGSIZE;
use user::*;

entry!(main);

const PAGE: usize = PGSIZE as usize;

fn info() -> Sysinfo {
    sysinfo().unwrap_or_else(|_| {
        println!("FAIL: sysinfo failed");
        exit(1)
    })
}

/// Bytes of free memory, found by growing the heap a page at a time until sbrk fails; the
/// heap is put back afterwards. sbrk may fail with one page still free: a heap page that
/// starts a new 2 MiB of address space needs a page-table page as well. That page counts
/// too (the kernel's free list holds it), so the result is all the free memory.
fn countfree() -> u64 {
    let Ok(start) = sbrk(0) else { return 0 };
    let mut n = 0u64;
    while sbrk(PAGE as i32).is_ok() {
        n += PAGE as u64;
    }
    let si = info();
    let now = sbrk(0).unwrap_or(start);
    let needs_table = now.is_multiple_of(512 * PAGE);
    if si.freemem != 0 && !(needs_table && si.freemem == PAGE as u64) {
        println!(
            "FAIL: there is no free mem, but sysinfo.freemem={}",
            si.freemem
        );
        exit(1);
    }
    let _ = sbrk(-((now - start) as i32));
    n + si.freemem
}

fn testmem() {
    let n = countfree();
    let check = |want: u64| {
        let got = info().freemem;
        if got != want {
            println!("FAIL: free mem {got} (bytes) instead of {want}");
            exit(1);
        }
    };
    check(n);
    if sbrk(PAGE as i32).is_err() {
        println!("sbrk failed");
        exit(1);
    }
    check(n - PAGE as u64);
    if sbrk(-(PAGE as i32)).is_err() {
        println!("sbrk failed");
        exit(1);
    }
    check(n);
}

fn testcall() {
    info();
    // An address far outside the process: the kernel's copyout must refuse it.
    // SAFETY: the kernel validates the pointer; nothing of ours lives there.
    let r = unsafe { usys::sysinfo(0xeaeb_0b5b_0000_2f5e as *mut Sysinfo) };
    if r >= 0 {
        println!("FAIL: sysinfo succeeded with bad argument");
        exit(1);
    }
}

fn testproc() {
    let nproc = info().nproc;
    match fork() {
        Err(_) => {
            println!("sysinfotest: fork failed");
            exit(1);
        }
        Ok(0) => {
            let got = info().nproc;
            if got != nproc + 1 {
                println!("sysinfotest: FAIL nproc is {got} instead of {}", nproc + 1);
                exit(1);
            }
            exit(0);
        }
        Ok(_) => {
            let mut status = 0;
            let _ = wait(Some(&mut status));
            if status != 0 {
                exit(1);
            }
        }
    }
}

fn main(_args: Args) {
    println!("sysinfotest: start");
    testcall();
    testmem();
    testproc();
    println!("sysinfotest: OK");
}
