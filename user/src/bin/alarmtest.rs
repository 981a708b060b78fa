//! `alarmtest` (traps lab; boot with `--lab alarm`): `sigalarm` and `sigreturn`.
//!
//! - `test0`: the handler gets called at all.
//! - `test1`: it gets called many times, and the interrupted code resumes exactly where it
//!   was with every register intact (a loop counter kept in registers would drift).
//! - `test2`: the handler is not called again while it runs (it runs for several ticks).
//! - `test3`: a0 comes back too: the value the interrupted code had in a0, not sigreturn's
//!   own result.
//!
//! Prints `testN passed` for each (or `testN failed: WHY`), as the lab's test does.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicI32, Ordering};
use user::*;

entry!(main);

static COUNT: AtomicI32 = AtomicI32::new(0);

/// Spins for about `n` loop iterations, doing nothing the compiler may remove.
fn spin(n: u64) {
    for i in 0..n {
        core::hint::black_box(i);
    }
}

extern "C" fn periodic() {
    COUNT.fetch_add(1, Ordering::SeqCst);
    println!("alarm!");
    let _ = sigreturn();
    println!("sigreturn returned");
    exit(1);
}

fn test0() {
    println!("test0 start");
    COUNT.store(0, Ordering::SeqCst);
    let _ = sigalarm(2, Some(periodic));
    let mut i = 0u64;
    while i < 1_000_000_000 && COUNT.load(Ordering::SeqCst) == 0 {
        if i.is_multiple_of(1_000_000) {
            let _ = write(2, b".");
        }
        i += 1;
    }
    let _ = sigalarm(0, None);
    if COUNT.load(Ordering::SeqCst) > 0 {
        println!("test0 passed");
    } else {
        println!("\ntest0 failed: the kernel never called the alarm handler");
    }
}

#[inline(never)]
fn foo(i: u64, j: &mut u64) {
    if i.is_multiple_of(2_500_000) {
        let _ = write(2, b".");
    }
    *j = core::hint::black_box(*j + 1);
}

fn test1() {
    println!("test1 start");
    COUNT.store(0, Ordering::SeqCst);
    let mut j = 0u64;
    let _ = sigalarm(2, Some(periodic));
    let mut i = 0u64;
    while i < 500_000_000 {
        if COUNT.load(Ordering::SeqCst) >= 10 {
            break;
        }
        foo(i, &mut j);
        i += 1;
    }
    let _ = sigalarm(0, None);
    if COUNT.load(Ordering::SeqCst) < 10 {
        println!("\ntest1 failed: too few calls to the handler");
    } else if i != j {
        // The loop counter and foo's count must agree: the handler returned to the exact
        // instruction with the registers it had.
        println!("\ntest1 failed: foo() executed fewer times than it was called");
    } else {
        println!("test1 passed");
    }
}

extern "C" fn slow_handler() {
    let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    println!("alarm!");
    if n > 1 {
        println!("test2 failed: alarm handler called more than once");
        exit(1);
    }
    // Longer than several alarm intervals.
    spin(50_000_000);
    let _ = sigalarm(0, None);
    let _ = sigreturn();
    exit(1);
}

fn test2() {
    println!("test2 start");
    match fork() {
        Err(_) => {
            println!("test2: fork failed");
            return;
        }
        Ok(0) => {
            COUNT.store(0, Ordering::SeqCst);
            let _ = sigalarm(2, Some(slow_handler));
            let mut i = 0u64;
            while i < 1_000_000_000 && COUNT.load(Ordering::SeqCst) == 0 {
                if i.is_multiple_of(1_000_000) {
                    let _ = write(2, b".");
                }
                i += 1;
            }
            if COUNT.load(Ordering::SeqCst) == 0 {
                println!("\ntest2 failed: alarm not called");
                exit(1);
            }
            exit(0);
        }
        Ok(_) => {}
    }
    let mut st = 0;
    let _ = wait(Some(&mut st));
    if st == 0 {
        println!("test2 passed");
    }
}

extern "C" fn dummy_handler() {
    let _ = sigalarm(0, None);
    let _ = sigreturn();
    exit(1);
}

fn test3() {
    let _ = sigalarm(1, Some(dummy_handler));
    println!("test3 start");
    let a0: u64;
    // SAFETY: registers only: a0 is set, a long loop runs (the alarm fires during it), and
    // a0 is read back.
    unsafe {
        core::arch::asm!(
            "li a0, 0xac",
            "li t0, 30000000",
            "1: addi t0, t0, -1",
            "bnez t0, 1b",
            out("a0") a0,
            out("t0") _,
            options(nomem, nostack),
        );
    }
    if a0 != 0xac {
        println!("test3 failed: register a0 changed");
    } else {
        println!("test3 passed");
    }
}

fn main(_: Args) {
    if sigalarm(0, None).is_err() {
        println!("alarmtest: no sigalarm in this kernel (boot it with --lab alarm)");
        exit(1);
    }
    test0();
    test1();
    test2();
    test3();
}
