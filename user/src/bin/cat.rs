//! `cat [FILE...]`: copies each FILE (or standard input) to standard output.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn cat(fd: Fd) {
    let mut buf = [0u8; 512];
    loop {
        match read(fd, &mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if write(1, &buf[..n]) != Ok(n) {
                    eprintln!("cat: write error");
                    exit(1);
                }
            }
            Err(_) => {
                eprintln!("cat: read error");
                exit(1);
            }
        }
    }
}

fn main(args: Args) {
    if args.len() <= 1 {
        cat(0);
        return;
    }
    for name in args.iter().skip(1) {
        let Ok(fd) = open(name, O_RDONLY) else {
            eprintln!("cat: cannot open {name}");
            exit(1);
        };
        cat(fd);
        let _ = close(fd);
    }
}
