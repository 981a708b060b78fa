//! `grind`: runs random system calls in two processes at once, forever, to shake out races
//! and leaks in the kernel. Every 500 operations a child prints `A` or `B`. Each round forks a
//! fresh pair (after `sleep(20)`); a round fails loudly only when a call that must succeed
//! does not (creating a file, fork, an `echo hi | cat` pipeline).
//!
//! The operations mirror MIT's grind one for one, with the same pseudo-random sequence (Park
//! and Miller's minimal standard generator, as FreeBSD's `rand`).
#![no_std]
#![no_main]

use user::*;

entry!(main);

/// Park–Miller: x = 16807 * x mod (2^31 - 1), computed without overflow (Schrage's method).
fn do_rand(ctx: &mut u64) -> i32 {
    let mut x = (*ctx % 0x7fff_fffe) as i64 + 1;
    let (hi, lo) = (x / 127_773, x % 127_773);
    x = 16_807 * lo - 2_836 * hi;
    if x < 0 {
        x += 0x7fff_ffff;
    }
    x -= 1;
    *ctx = x as u64;
    x as i32
}

fn die(msg: &str) -> ! {
    println!("grind: {msg}");
    exit(1)
}

fn fork_or_die() -> i32 {
    fork().unwrap_or_else(|_| die("fork failed"))
}

fn close_open(path: &str) {
    if let Ok(fd) = open(path, O_CREATE | O_RDWR) {
        let _ = close(fd);
    }
}

/// One child's endless loop of random operations.
fn go(which: u8, mut rand_next: u64) -> ! {
    let mut buf = vec![0u8; 999];
    let mut fd: Fd = -1;
    let break0 = sbrk(0).unwrap_or(0);
    let mut iters: u64 = 0;

    let _ = mkdir("grindir");
    if chdir("grindir").is_err() {
        die("chdir grindir failed");
    }
    let _ = chdir("/");

    loop {
        iters += 1;
        if iters.is_multiple_of(500) {
            let _ = write(1, if which == 0 { b"A" } else { b"B" });
        }
        match do_rand(&mut rand_next) % 23 {
            1 => close_open("grindir/../a"),
            2 => close_open("grindir/../grindir/../b"),
            3 => {
                let _ = unlink("grindir/../a");
            }
            4 => {
                if chdir("grindir").is_err() {
                    die("chdir grindir failed");
                }
                let _ = unlink("../b");
                let _ = chdir("/");
            }
            5 => {
                let _ = close(fd);
                fd = open("/grindir/../a", O_CREATE | O_RDWR).unwrap_or(-1);
            }
            6 => {
                let _ = close(fd);
                fd = open("/./grindir/./../b", O_CREATE | O_RDWR).unwrap_or(-1);
            }
            7 => {
                let _ = write(fd, &buf);
            }
            8 => {
                let _ = read(fd, &mut buf);
            }
            9 => {
                let _ = mkdir("grindir/../a");
                close_open("a/../a/./a");
                let _ = unlink("a/a");
            }
            10 => {
                let _ = mkdir("/../b");
                close_open("grindir/../b/b");
                let _ = unlink("b/b");
            }
            11 => {
                let _ = unlink("b");
                let _ = link("../grindir/./../a", "../b");
            }
            12 => {
                let _ = unlink("../grindir/../a");
                let _ = link(".././b", "/grindir/../a");
            }
            13 => {
                if fork_or_die() == 0 {
                    exit(0);
                }
                let _ = wait(None);
            }
            14 => {
                if fork_or_die() == 0 {
                    let _ = fork();
                    let _ = fork();
                    exit(0);
                }
                let _ = wait(None);
            }
            15 => {
                let _ = sbrk(6011);
            }
            16 => {
                let now = sbrk(0).unwrap_or(break0);
                if now > break0 {
                    let _ = sbrk(-((now - break0) as i32));
                }
            }
            17 => {
                let pid = fork_or_die();
                if pid == 0 {
                    close_open("a");
                    exit(0);
                }
                if chdir("../grindir/..").is_err() {
                    die("chdir failed");
                }
                let _ = kill(pid);
                let _ = wait(None);
            }
            18 => {
                if fork_or_die() == 0 {
                    let _ = kill(getpid());
                    exit(0);
                }
                let _ = wait(None);
            }
            19 => {
                let fds = pipe().unwrap_or_else(|_| die("pipe failed"));
                if fork_or_die() == 0 {
                    let _ = fork();
                    let _ = fork();
                    if write(fds[1], b"x") != Ok(1) {
                        println!("grind: pipe write failed");
                    }
                    let mut c = [0u8];
                    if read(fds[0], &mut c) != Ok(1) {
                        println!("grind: pipe read failed");
                    }
                    exit(0);
                }
                let _ = close(fds[0]);
                let _ = close(fds[1]);
                let _ = wait(None);
            }
            20 => {
                if fork_or_die() == 0 {
                    let _ = unlink("a");
                    let _ = mkdir("a");
                    let _ = chdir("a");
                    let _ = unlink("../a");
                    let _ = open("x", O_CREATE | O_RDWR);
                    let _ = unlink("x");
                    exit(0);
                }
                let _ = wait(None);
            }
            21 => {
                // Must always work: checks that inodes, fds and blocks are not leaking.
                let _ = unlink("c");
                let fd1 = open("c", O_CREATE | O_RDWR).unwrap_or_else(|_| die("create c failed"));
                if write(fd1, b"x") != Ok(1) {
                    die("write c failed");
                }
                let st = fstat(fd1).unwrap_or_else(|_| die("fstat failed"));
                if st.size != 1 {
                    println!("grind: fstat reports wrong size {}", st.size);
                    exit(1);
                }
                if st.ino > 200 {
                    println!("grind: fstat reports crazy i-number {}", st.ino);
                    exit(1);
                }
                let _ = close(fd1);
                let _ = unlink("c");
            }
            22 => echo_hi_pipeline(),
            _ => {}
        }
    }
}

/// Runs `echo hi | cat` by hand and checks that "hi\n" comes out.
fn echo_hi_pipeline() {
    let bad = |msg: &str, code: i32| -> ! {
        eprintln!("grind: {msg}");
        exit(code)
    };
    let aa = pipe().unwrap_or_else(|_| bad("pipe failed", 1));
    let bb = pipe().unwrap_or_else(|_| bad("pipe failed", 1));
    match fork() {
        Ok(0) => {
            let _ = close(bb[0]);
            let _ = close(bb[1]);
            let _ = close(aa[0]);
            let _ = close(1);
            if dup(aa[1]) != Ok(1) {
                bad("dup failed", 1);
            }
            let _ = close(aa[1]);
            exec("grindir/../echo", &["echo", "hi"]);
            bad("echo: not found", 2);
        }
        Ok(_) => {}
        Err(_) => bad("fork failed", 3),
    }
    match fork() {
        Ok(0) => {
            let _ = close(aa[1]);
            let _ = close(bb[0]);
            let _ = close(0);
            if dup(aa[0]) != Ok(0) {
                bad("dup failed", 4);
            }
            let _ = close(aa[0]);
            let _ = close(1);
            if dup(bb[1]) != Ok(1) {
                bad("dup failed", 5);
            }
            let _ = close(bb[1]);
            exec("/cat", &["cat"]);
            bad("cat: not found", 6);
        }
        Ok(_) => {}
        Err(_) => bad("fork failed", 7),
    }
    let _ = close(aa[0]);
    let _ = close(aa[1]);
    let _ = close(bb[1]);
    let mut got = [0u8; 3];
    for b in got.iter_mut() {
        let mut c = [0u8];
        if read(bb[0], &mut c) == Ok(1) {
            *b = c[0];
        }
    }
    let _ = close(bb[0]);
    let (mut st1, mut st2) = (0, 0);
    let _ = wait(Some(&mut st1));
    let _ = wait(Some(&mut st2));
    if st1 != 0 || st2 != 0 || &got != b"hi\n" {
        println!(
            "grind: exec pipeline failed {st1} {st2} \"{}\"",
            str_prefix(&got)
        );
        exit(1);
    }
}

/// One round: two children grinding side by side; if one fails, the other is killed.
fn iter(rand_next: u64) -> ! {
    let _ = unlink("a");
    let _ = unlink("b");
    let pid1 = fork_or_die();
    if pid1 == 0 {
        go(0, rand_next ^ 31);
    }
    let pid2 = fork_or_die();
    if pid2 == 0 {
        go(1, rand_next ^ 7177);
    }
    let mut st1 = -1;
    let _ = wait(Some(&mut st1));
    if st1 != 0 {
        let _ = kill(pid1);
        let _ = kill(pid2);
    }
    let mut st2 = -1;
    let _ = wait(Some(&mut st2));
    exit(0)
}

fn main(_args: Args) {
    let mut rand_next: u64 = 1;
    loop {
        match fork() {
            Ok(0) => iter(rand_next),
            Ok(_) => {
                let _ = wait(None);
            }
            Err(_) => {}
        }
        let _ = sleep(20);
        rand_next += 1;
    }
}
