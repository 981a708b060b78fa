//! `sleep TICKS`: pauses for TICKS timer ticks (util lab).
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(args: Args) {
    let Some(n) = args.get(1) else {
        eprintln!("usage: sleep ticks");
        exit(1);
    };
    if sleep(atoi(n)).is_err() {
        eprintln!("sleep: interrupted");
        exit(1);
    }
}
