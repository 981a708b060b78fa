//! `wc [FILE...]`: prints `lines words bytes name` for each FILE (or standard input, with an
//! empty name). Words are runs of bytes other than space, tab, CR, LF and VT.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn wc(fd: Fd, name: &str) {
    let mut buf = [0u8; 512];
    let (mut l, mut w, mut c, mut inword) = (0u32, 0u32, 0u32, false);
    loop {
        let n = match read(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(_) => {
                println!("wc: read error");
                exit(1);
            }
        };
        for &b in &buf[..n] {
            c += 1;
            if b == b'\n' {
                l += 1;
            }
            if b" \r\t\n\x0b".contains(&b) {
                inword = false;
            } else if !inword {
                w += 1;
                inword = true;
            }
        }
    }
    println!("{l} {w} {c} {name}");
}

fn main(args: Args) {
    if args.len() <= 1 {
        wc(0, "");
        return;
    }
    for name in args.iter().skip(1) {
        let Ok(fd) = open(name, O_RDONLY) else {
            println!("wc: cannot open {name}");
            exit(1);
        };
        wc(fd, name);
        let _ = close(fd);
    }
}
