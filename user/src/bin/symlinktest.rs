//! `symlinktest` (fs lab; boot with `--lab symlink`): symbolic links.
//!
//! `test symlinks`: a link to a file opens the file (reads and writes go through); with
//! `O_NOFOLLOW` it opens the link itself (`T_SYMLINK`); a link whose target is gone, or that
//! names a missing file, fails to open; two links naming each other (a cycle) fail to open
//! rather than hang; a chain of links reaches the file at its end.
//!
//! `test concurrent symlinks`: two processes create and remove links of one name and open
//! them, hundreds of times, at once; nothing may fail but the opens of a link just removed.
//!
//! Prints `Start: test symlinks`, `test symlinks: ok`, `Start: test concurrent symlinks`,
//! `test concurrent symlinks: ok`, as the lab's test does; a failure prints `FAILURE: WHY`
//! and exits with status 1.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn fail(why: &str) -> ! {
    println!("FAILURE: {why}");
    exit(1)
}

fn stat_type(path: &str) -> Option<i16> {
    let fd = open(path, O_RDONLY | O_NOFOLLOW).ok()?;
    let st = fstat(fd).ok();
    let _ = close(fd);
    st.map(|s| s.typ)
}

fn cleanup() {
    for name in ["a", "b", "c", "1", "2", "3", "4", "z", "y"] {
        let _ = unlink(format!("/testsymlink/{name}"));
    }
    let _ = unlink("/testsymlink");
}

fn testsymlink() {
    println!("Start: test symlinks");
    if mkdir("/testsymlink").is_err() {
        fail("mkdir /testsymlink");
    }
    let Ok(fd1) = open("/testsymlink/a", O_CREATE | O_RDWR) else {
        fail("failed to open a")
    };
    if symlink("/testsymlink/a", "/testsymlink/b").is_err() {
        fail("symlink b -> a failed");
    }
    if write(fd1, b"a") != Ok(1) {
        fail("failed to write to a");
    }
    if stat_type("/testsymlink/b") != Some(T_SYMLINK) {
        fail("b isn't a symlink");
    }
    let Ok(fd2) = open("/testsymlink/b", O_RDWR) else {
        fail("failed to open b")
    };
    let mut c = [0u8];
    if read(fd2, &mut c) != Ok(1) || c[0] != b'a' {
        fail("failed to read bytes from b");
    }
    // A write through the link lands in a.
    if write(fd2, b"c") != Ok(1) {
        fail("failed to write through b");
    }
    if read(fd1, &mut c) != Ok(1) || c[0] != b'c' {
        fail("the write through b did not reach a");
    }
    let _ = close(fd1);
    let _ = close(fd2);

    let _ = unlink("/testsymlink/a");
    if open("/testsymlink/b", O_RDWR).is_ok() {
        fail("should not be able to open b after deleting a");
    }
    // b -> a -> b: a cycle.
    if symlink("/testsymlink/b", "/testsymlink/a").is_err() {
        fail("symlink a -> b failed");
    }
    if open("/testsymlink/b", O_RDWR).is_ok() {
        fail("should not be able to open b (cycle b->a->b->..)");
    }
    if symlink("/testsymlink/nonexistent", "/testsymlink/c").is_err() {
        fail("symlinking to a nonexistent file should succeed");
    }
    if open("/testsymlink/c", O_RDWR).is_ok() {
        fail("opening a link to a nonexistent file should fail");
    }
    // 1 -> 2 -> 3 -> 4 (a file): opening 1 opens 4.
    for (from, to) in [("1", "2"), ("2", "3"), ("3", "4")] {
        if symlink(format!("/testsymlink/{to}"), format!("/testsymlink/{from}")).is_err() {
            fail("symlink chain");
        }
    }
    let Ok(fd4) = open("/testsymlink/4", O_CREATE | O_RDWR) else {
        fail("failed to create 4")
    };
    let _ = write(fd4, b"4");
    let _ = close(fd4);
    let Ok(fd1) = open("/testsymlink/1", O_RDWR) else {
        fail("failed to open 1")
    };
    if read(fd1, &mut c) != Ok(1) || c[0] != b'4' {
        fail("failed to read bytes from 1 (the chain 1->2->3->4)");
    }
    let _ = close(fd1);
    cleanup();
    println!("test symlinks: ok");
}

fn concur() {
    println!("Start: test concurrent symlinks");
    if mkdir("/testsymlink").is_err() {
        fail("mkdir /testsymlink");
    }
    let Ok(fd) = open("/testsymlink/z", O_CREATE | O_RDWR) else {
        fail("failed to create z")
    };
    let _ = close(fd);
    const N: u32 = 2;
    for i in 0..N {
        match fork() {
            Err(_) => fail("fork failed"),
            Ok(0) => {
                let mut x = getpid() as u32;
                for _ in 0..100 {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    if (x >> 16).is_multiple_of(3) {
                        let _ = symlink("/testsymlink/z", "/testsymlink/y");
                        if stat_type("/testsymlink/y").is_some_and(|t| t != T_SYMLINK) {
                            println!("concurrent symlinks: {i}");
                            fail("y is not a symlink");
                        }
                    } else {
                        let _ = unlink("/testsymlink/y");
                    }
                    if let Ok(fd) = open("/testsymlink/y", O_RDONLY) {
                        let _ = close(fd);
                    }
                }
                exit(0);
            }
            Ok(_) => {}
        }
    }
    for _ in 0..N {
        let mut st = 0;
        let _ = wait(Some(&mut st));
        if st != 0 {
            fail("child failed");
        }
    }
    cleanup();
    println!("test concurrent symlinks: ok");
}

fn main(_: Args) {
    cleanup();
    testsymlink();
    concur();
}
