//! The slow tests: a directory big enough to need an indirect block, concurrent writers,
//! leaked blocks from failed writes, exec with almost no memory, a full disk and running out
//! of inodes. Each must end with the file system as it found it.

use super::mem::{exec_raw, poke};
use super::{buf, fail, fork_raw, open_raw, sbrk_raw, wait_st, write_raw};
use abi::fs::{BSIZE, MAXFILE};
use user::*;

/// `zz` and two characters counting from '0' in base 32, as the C tests name their files.
fn zz(i: usize) -> [u8; 4] {
    [b'z', b'z', b'0' + (i / 32) as u8, b'0' + (i % 32) as u8]
}

/// A directory that needs its indirect block: 500 links to one file.
pub fn bigdir(s: &str) {
    const N: usize = 500;
    let _ = unlink("bd");
    let Ok(fd) = open("bd", O_CREATE) else {
        fail!("{s}: bigdir create failed")
    };
    let _ = close(fd);
    let name = |i: usize| [b'x', b'0' + (i / 64) as u8, b'0' + (i % 64) as u8];
    for i in 0..N {
        if link("bd", name(i)).is_err() {
            fail!("{s}: bigdir link(bd, {}) failed", str_prefix(&name(i)));
        }
    }
    let _ = unlink("bd");
    for i in 0..N {
        if unlink(name(i)).is_err() {
            print!("{s}: bigdir unlink failed");
            exit(1);
        }
    }
}

/// Concurrent writes, to provoke deadlock in the disk driver.
pub fn manywrites(s: &str) {
    let nchildren = 4;
    let howmany = 30;
    for ci in 0..nchildren {
        let pid = fork_raw();
        if pid < 0 {
            fail!("fork failed");
        }
        if pid == 0 {
            let name = [b'b', b'a' + ci as u8];
            let shown = str_prefix(&name);
            let _ = unlink(name);
            let b = buf();
            for _ in 0..howmany {
                for _ in 0..ci + 1 {
                    let Ok(fd) = open(name, O_CREATE | O_RDWR) else {
                        fail!("{s}: cannot create {shown}")
                    };
                    let cc = write_raw(fd, &b[..]);
                    if cc != b.len() as i32 {
                        fail!("{s}: write({}) ret {cc}", b.len());
                    }
                    let _ = close(fd);
                }
                let _ = unlink(name);
            }
            let _ = unlink(name);
            exit(0);
        }
    }
    for _ in 0..nchildren {
        let (_, st) = wait_st();
        if st != 0 {
            exit(st);
        }
    }
    exit(0);
}

/// Regression: a write from an invalid buffer must not leave an allocated block behind
/// (if it does, the disk fills up and balloc panics).
pub fn badwrite(_s: &str) {
    let assumed_free = 600;
    let _ = unlink("junk");
    for _ in 0..assumed_free {
        let Ok(fd) = open("junk", O_CREATE | O_WRONLY) else {
            fail!("open junk failed")
        };
        // SAFETY: the kernel must reject the address; nothing of ours is read.
        unsafe { usys::write(fd, 0xff_ffff_ffffusize as *const u8, 1) };
        let _ = close(fd);
        let _ = unlink("junk");
    }
    let Ok(fd) = open("junk", O_CREATE | O_WRONLY) else {
        fail!("open junk failed")
    };
    if write(fd, b"x") != Ok(1) {
        fail!("write failed");
    }
    let _ = close(fd);
    let _ = unlink("junk");
    exit(0);
}

/// exec's cleanup when it runs out of memory part way: must not panic.
pub fn execout(_s: &str) {
    for avail in 0..15 {
        let pid = fork_raw();
        if pid < 0 {
            fail!("fork failed");
        } else if pid == 0 {
            // Take all of memory, then give back a few pages so exec gets some way.
            loop {
                let a = sbrk_raw(4096);
                if a == usize::MAX {
                    break;
                }
                poke(a + 4096 - 1, 1);
            }
            for _ in 0..avail {
                sbrk_raw(-4096);
            }
            let _ = close(1);
            let argv = [
                c"echo".as_ptr().cast(),
                c"x".as_ptr().cast(),
                core::ptr::null(),
            ];
            exec_raw(c"echo", &argv);
            exit(0);
        } else {
            let _ = wait(None);
        }
    }
    exit(0);
}

/// Fill the disk, then check that directory growth and mkdir merely fail.
pub fn diskfull(s: &str) {
    let _ = unlink("diskfulldir");
    let big = |fi: usize| [b'b', b'i', b'g', b'0'.wrapping_add(fi as u8)];
    let mut fi = 0;
    let mut done = false;
    let block = [0u8; BSIZE];
    while !done {
        let name = big(fi);
        fi += 1;
        let _ = unlink(name);
        let fd = open_raw(name, O_CREATE | O_RDWR | O_TRUNC);
        if fd < 0 {
            // Out of inodes before out of blocks.
            println!("{s}: could not create file {}", str_prefix(&name));
            break;
        }
        for _ in 0..MAXFILE {
            if write_raw(fd, &block) != BSIZE as i32 {
                done = true;
                break;
            }
        }
        let _ = close(fd);
    }
    // No free blocks now: dirlink must fail cleanly when it cannot extend a directory. One
    // of these creations is expected to fail.
    let nzz = 128;
    for i in 0..nzz {
        let _ = unlink(zz(i));
        match open(zz(i), O_CREATE | O_RDWR | O_TRUNC) {
            Ok(fd) => {
                let _ = close(fd);
            }
            Err(_) => break,
        }
    }
    // Expected to fail.
    if mkdir("diskfulldir").is_ok() {
        println!("{s}: mkdir(diskfulldir) unexpectedly succeeded!");
    }
    let _ = unlink("diskfulldir");
    for i in 0..nzz {
        let _ = unlink(zz(i));
    }
    for i in 0..fi {
        let _ = unlink(big(i));
    }
}

/// Create files until the inodes run out, then delete them all.
pub fn outofinodes(_s: &str) {
    let nzz = 32 * 32;
    for i in 0..nzz {
        let _ = unlink(zz(i));
        match open(zz(i), O_CREATE | O_RDWR | O_TRUNC) {
            Ok(fd) => {
                let _ = close(fd);
            }
            Err(_) => break, // eventually expected
        }
    }
    for i in 0..nzz {
        let _ = unlink(zz(i));
    }
}
