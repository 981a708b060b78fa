//! `bigfile` (fs lab, large files; boot with `--lab bigfile`): one file as large as the
//! layout allows.
//!
//! Writes 1 KiB blocks, each opening with its own number, until a write fails: with the
//! doubly-indirect block that is after 65803 blocks (11 direct, 256 through the indirect
//! block, 65536 through the doubly-indirect one), where xv6's layout stops at 268. Then reads
//! the file back and checks every block's number. Prints `wrote N blocks` and `bigfile done;
//! ok`, as the lab's test does; takes a while (64 MiB through the log).
//!
//! `bigfile N` writes N blocks only (each write must succeed) and checks them the same way:
//! `bigfile 600` reaches into the doubly-indirect block in a few seconds.
#![no_std]
#![no_main]

use abi::fs::{BSIZE, Layout};
use user::*;

entry!(main);

const FILE: &str = "big.file";

fn fail(why: &str) -> ! {
    println!("bigfile: {why}");
    exit(1)
}

fn main(args: Args) {
    let limit = args.get(1).map(|n| atoi(n).max(0) as usize);
    let want = limit.unwrap_or(Layout::Big.maxfile());
    let _ = unlink(FILE);
    let Ok(fd) = open(FILE, O_CREATE | O_WRONLY) else {
        fail("cannot open big.file for writing")
    };
    let mut buf = vec![0u8; BSIZE];
    let mut blocks = 0usize;
    while limit.is_none_or(|n| blocks < n) {
        buf[..4].copy_from_slice(&(blocks as u32).to_le_bytes());
        if write(fd, &buf) != Ok(BSIZE) {
            break;
        }
        blocks += 1;
        if blocks.is_multiple_of(1000) {
            print!(".");
        }
    }
    println!("\nwrote {blocks} blocks");
    if blocks != want {
        fail("file is too small");
    }
    let _ = close(fd);
    let Ok(fd) = open(FILE, O_RDONLY) else {
        fail("cannot re-open big.file for reading")
    };
    for i in 0..blocks {
        if read(fd, &mut buf) != Ok(BSIZE) {
            fail("read error");
        }
        if u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) != i as u32 {
            println!("bigfile: read the wrong data ({i})");
            exit(1);
        }
    }
    let _ = close(fd);
    let _ = unlink(FILE);
    println!("bigfile done; ok");
}
