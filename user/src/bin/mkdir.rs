//! `mkdir DIR...`: creates directories, stopping at the first failure.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(args: Args) {
    if args.len() < 2 {
        eprintln!("Usage: mkdir files...");
        exit(1);
    }
    for name in args.iter().skip(1) {
        if mkdir(name).is_err() {
            eprintln!("mkdir: {name} failed to create");
            break;
        }
    }
}
