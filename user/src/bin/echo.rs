//! `echo ARGS...`: prints its arguments separated by spaces, then a newline, in one write
//! when they fit the output buffer.
#![no_std]
#![no_main]

use core::fmt::Write;
use user::*;

entry!(main);

fn main(args: Args) {
    let mut out = printf::FdWriter::new(1);
    for i in 1..args.len() {
        if i > 1 {
            let _ = out.write_str(" ");
        }
        out.write_bytes(args.bytes(i).unwrap_or_default());
    }
    let _ = out.write_str("\n");
}
