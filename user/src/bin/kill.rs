//! `kill PID...`: asks the kernel to kill each process.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(args: Args) {
    if args.len() < 2 {
        eprintln!("usage: kill pid...");
        exit(1);
    }
    for pid in args.iter().skip(1) {
        let _ = kill(atoi(pid));
    }
}
