//! `trace MASK CMD [ARGS...]` (syscall lab): turns on tracing of the system calls whose bits
//! are set in MASK (bit N for call N: 32 traces `read`, 2147483647 everything) for this
//! process and its descendants, then runs CMD. Needs the lab's `trace` system call (22).
#![no_std]
#![no_main]

use abi::param::MAXARG;
use user::*;

entry!(main);

fn main(args: Args) {
    let mask = args.get(1).unwrap_or("");
    if args.len() < 3 || !mask.starts_with(|c: char| c.is_ascii_digit()) {
        eprintln!("Usage: {} mask command", args.get(0).unwrap_or("trace"));
        exit(1);
    }
    if trace(atoi(mask)).is_err() {
        eprintln!("{}: trace failed", args.get(0).unwrap_or("trace"));
        exit(1);
    }
    let argv: Vec<&[u8]> = (2..args.len().min(MAXARG))
        .filter_map(|i| args.bytes(i))
        .collect();
    exec(argv[0], &argv);
    eprintln!("trace: exec {} failed", str_prefix(argv[0]));
    exit(1);
}
