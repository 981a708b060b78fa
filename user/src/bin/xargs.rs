//! `xargs CMD [ARGS...]` (util lab): for each line of standard input, runs CMD with ARGS
//! followed by the line's blank-separated words, one command at a time. `-n N` before CMD is
//! accepted and ignored (each command already takes one line).
#![no_std]
#![no_main]

use abi::param::MAXARG;
use user::*;

entry!(main);

fn run(argv: &[&[u8]]) {
    match fork() {
        Ok(0) => {
            exec(argv[0], argv);
            eprintln!("xargs: exec {} failed", str_prefix(argv[0]));
            exit(1);
        }
        Ok(_) => {
            let _ = wait(None);
        }
        Err(_) => {
            eprintln!("xargs: fork failed");
            exit(1);
        }
    }
}

fn main(args: Args) {
    let mut first = 1;
    if args.get(1) == Some("-n") {
        first = 3;
    }
    let fixed: Vec<&[u8]> = (first..args.len()).filter_map(|i| args.bytes(i)).collect();
    if fixed.is_empty() {
        eprintln!("usage: xargs [-n N] command [args...]");
        exit(1);
    }
    let mut line: Vec<u8> = Vec::new();
    let mut c = [0u8];
    loop {
        let got = read(0, &mut c) == Ok(1);
        if got && c[0] != b'\n' {
            line.push(c[0]);
            continue;
        }
        let mut argv = fixed.clone();
        argv.extend(
            line.split(|&b| b == b' ' || b == b'\t')
                .filter(|w| !w.is_empty()),
        );
        if argv.len() > fixed.len() || (got && !line.is_empty()) {
            if argv.len() > MAXARG {
                eprintln!("xargs: too many arguments");
            } else {
                run(&argv);
            }
        }
        line.clear();
        if !got {
            break;
        }
    }
}
