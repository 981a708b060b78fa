//! `echo ARGS...`: prints its arguments separated by spaces, then a newline.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(args: Args) {
    let mut out = printf::FdWriter::new(1);
    for (i, a) in args.iter().skip(1).enumerate() {
        let sep = if i == 0 { "" } else { " " };
        let _ = core::fmt::Write::write_fmt(&mut out, format_args!("{sep}{a}"));
    }
    let _ = core::fmt::Write::write_str(&mut out, "\n");
}
