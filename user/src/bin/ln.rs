//! `ln OLD NEW`: makes NEW a hard link to OLD.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(args: Args) {
    let (Some(old), Some(new), 3) = (args.get(1), args.get(2), args.len()) else {
        eprintln!("Usage: ln old new");
        exit(1);
    };
    if link(old, new).is_err() {
        eprintln!("link {old} {new}: failed");
    }
}
