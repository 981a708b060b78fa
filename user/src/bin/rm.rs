//! `rm FILE...`: removes directory entries, stopping at the first failure.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(args: Args) {
    if args.len() < 2 {
        eprintln!("Usage: rm files...");
        exit(1);
    }
    for name in args.iter().skip(1) {
        if unlink(name).is_err() {
            eprintln!("rm: {name} failed to delete");
            break;
        }
    }
}
