//! `forktest`: forks until the process table is full, checks that fork then fails cleanly,
//! and that exactly as many children can be waited for as were created.
#![no_std]
#![no_main]

use user::*;

entry!(main);

const N: usize = 1000;

fn say(s: &str) {
    let _ = write(1, s.as_bytes());
}

fn main(_args: Args) {
    say("fork test\n");
    let mut n = 0;
    while n < N {
        match fork() {
            Err(_) => break,
            Ok(0) => exit(0),
            Ok(_) => n += 1,
        }
    }
    if n == N {
        say("fork claimed to work N times!\n");
        exit(1);
    }
    for _ in 0..n {
        if wait(None).is_err() {
            say("wait stopped early\n");
            exit(1);
        }
    }
    if wait(None).is_ok() {
        say("wait got too many\n");
        exit(1);
    }
    say("fork test OK\n");
}
