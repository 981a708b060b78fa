//! `grep PATTERN [FILE...]`: prints the lines that match PATTERN, a regular expression with
//! xv6's operators only: `^` (start), `$` (end), `.` (any byte), `c*` (zero or more of c).
//!
//! The matcher is Kernighan and Pike's (The Practice of Programming, chapter 9). Lines are
//! collected in a 1 KiB buffer; a longer line is matched in 1 KiB pieces.
#![no_std]
#![no_main]

use user::*;

entry!(main);

const BUF: usize = 1024;

/// Whether `re` matches anywhere in `text`.
fn matches(re: &[u8], text: &[u8]) -> bool {
    if let Some(rest) = re.strip_prefix(b"^") {
        return match_here(rest, text);
    }
    // Try every start, the empty suffix included.
    (0..=text.len()).any(|i| match_here(re, &text[i..]))
}

/// Whether `re` matches at the start of `text`.
fn match_here(re: &[u8], text: &[u8]) -> bool {
    match re {
        [] => true,
        [c, b'*', rest @ ..] => match_star(*c, rest, text),
        [b'$'] => text.is_empty(),
        [c, rest @ ..] => match text {
            [t, trest @ ..] if *c == b'.' || c == t => match_here(rest, trest),
            _ => false,
        },
    }
}

/// Whether `c*` followed by `re` matches at the start of `text`.
fn match_star(c: u8, re: &[u8], mut text: &[u8]) -> bool {
    loop {
        if match_here(re, text) {
            return true;
        }
        match text {
            [t, rest @ ..] if *t == c || c == b'.' => text = rest,
            _ => return false,
        }
    }
}

fn grep(re: &[u8], fd: Fd) {
    // On the heap: the stack is one page.
    let mut buf = vec![0u8; BUF];
    let mut m = 0;
    loop {
        let n = match read(fd, &mut buf[m..]) {
            Ok(n) if n > 0 => n,
            _ => break,
        };
        m += n;
        let mut start = 0;
        while let Some(nl) = buf[start..m].iter().position(|&c| c == b'\n') {
            let line = &buf[start..start + nl];
            if matches(re, line) {
                let _ = write(1, &buf[start..start + nl + 1]);
            }
            start += nl + 1;
        }
        if start == 0 && m == BUF {
            // A line longer than the buffer: match what we have as a line of its own.
            if matches(re, &buf[..m]) {
                let _ = write(1, &buf[..m]);
                let _ = write(1, b"\n");
            }
            start = m;
        }
        buf.copy_within(start..m, 0);
        m -= start;
    }
}

fn main(args: Args) {
    let Some(re) = args.bytes(1) else {
        eprintln!("usage: grep pattern [file ...]");
        exit(1);
    };
    if args.len() <= 2 {
        grep(re, 0);
        return;
    }
    for name in args.iter().skip(2) {
        let Ok(fd) = open(name, O_RDONLY) else {
            println!("grep: cannot open {name}");
            exit(1);
        };
        grep(re, fd);
        let _ = close(fd);
    }
}
