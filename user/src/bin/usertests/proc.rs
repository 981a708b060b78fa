//! Process tests: exec with redirected output, pipes, kill and its exit status, preemption,
//! the races between exit, wait and reparenting, and running out of process slots.

use super::{buf, fail, fork_raw, open_raw, read_raw, touch, wait_st, write_raw};
use user::*;

pub fn exectest(s: &str) {
    let _ = unlink("echo-ok");
    let pid = fork_raw();
    if pid < 0 {
        fail!("{s}: fork failed");
    }
    if pid == 0 {
        let _ = close(1);
        let fd = open_raw("echo-ok", O_CREATE | O_WRONLY);
        if fd < 0 {
            fail!("{s}: create failed");
        }
        if fd != 1 {
            fail!("{s}: wrong fd");
        }
        exec("echo", &["echo", "OK"]);
        fail!("{s}: exec echo failed");
    }
    let (wpid, st) = wait_st();
    if wpid != pid {
        println!("{s}: wait failed!");
    }
    if st != 0 {
        exit(st);
    }
    let Ok(fd) = open("echo-ok", O_RDONLY) else {
        fail!("{s}: open failed")
    };
    let mut b = [0u8; 3];
    if read_raw(fd, &mut b[..2]) != 2 {
        fail!("{s}: read failed");
    }
    let _ = unlink("echo-ok");
    if &b[..2] != b"OK" {
        fail!("{s}: wrong output");
    }
    exit(0);
}

/// A child writes a numbered byte stream into a pipe; the parent reads it back in growing
/// chunks and checks every byte.
pub fn pipe1(s: &str) {
    const N: usize = 5;
    const SZ: usize = 1033;
    let Ok(fds) = pipe() else {
        fail!("{s}: pipe() failed")
    };
    let b = buf();
    let mut seq: u32 = 0;
    let pid = fork_raw();
    if pid == 0 {
        let _ = close(fds[0]);
        for _ in 0..N {
            for x in b[..SZ].iter_mut() {
                *x = seq as u8;
                seq += 1;
            }
            if write_raw(fds[1], &b[..SZ]) != SZ as i32 {
                fail!("{s}: pipe1 oops 1");
            }
        }
        exit(0);
    } else if pid > 0 {
        let _ = close(fds[1]);
        let mut total = 0;
        let mut cc = 1;
        loop {
            let n = read_raw(fds[0], &mut b[..cc]);
            if n <= 0 {
                break;
            }
            for &x in &b[..n as usize] {
                if x != seq as u8 {
                    println!("{s}: pipe1 oops 2");
                    return;
                }
                seq += 1;
            }
            total += n as usize;
            cc = (cc * 2).min(b.len());
        }
        if total != N * SZ {
            fail!("{s}: pipe1 oops 3 total {total}");
        }
        let _ = close(fds[0]);
        let (_, st) = wait_st();
        exit(st);
    } else {
        fail!("{s}: fork() failed");
    }
}

/// A killed process's exit status is -1.
pub fn killstatus(s: &str) {
    for _ in 0..100 {
        let pid1 = fork_raw();
        if pid1 < 0 {
            fail!("{s}: fork failed");
        }
        if pid1 == 0 {
            loop {
                getpid();
            }
        }
        let _ = sleep(1);
        let _ = kill(pid1);
        let (_, st) = wait_st();
        if st != -1 {
            fail!("{s}: status should be -1");
        }
    }
    exit(0);
}

/// Two spinning children must not keep a third (and the parent) from running. Meant for at
/// most two CPUs.
pub fn preempt(s: &str) {
    let spin = || -> ! {
        loop {
            core::hint::spin_loop();
        }
    };
    let pid1 = fork_raw();
    if pid1 < 0 {
        fail!("{s}: fork failed");
    }
    if pid1 == 0 {
        spin();
    }
    let pid2 = fork_raw();
    if pid2 < 0 {
        fail!("{s}: fork failed");
    }
    if pid2 == 0 {
        spin();
    }
    let pfds = pipe().unwrap_or([-1, -1]);
    let pid3 = fork_raw();
    if pid3 < 0 {
        fail!("{s}: fork failed");
    }
    if pid3 == 0 {
        let _ = close(pfds[0]);
        if write_raw(pfds[1], b"x") != 1 {
            print!("{s}: preempt write error");
        }
        let _ = close(pfds[1]);
        spin();
    }
    let _ = close(pfds[1]);
    if read_raw(pfds[0], &mut buf()[..]) != 1 {
        print!("{s}: preempt read error");
        return;
    }
    let _ = close(pfds[0]);
    print!("kill... ");
    let _ = kill(pid1);
    let _ = kill(pid2);
    let _ = kill(pid3);
    print!("wait... ");
    let _ = wait(None);
    let _ = wait(None);
    let _ = wait(None);
}

/// Races between exit and wait; statuses must arrive intact.
pub fn exitwait(s: &str) {
    for i in 0..100 {
        let pid = fork_raw();
        if pid < 0 {
            fail!("{s}: fork failed");
        }
        if pid == 0 {
            exit(i);
        }
        let (wpid, st) = wait_st();
        if wpid != pid {
            fail!("{s}: wait wrong pid");
        }
        if st != i {
            fail!("{s}: wait wrong exit status");
        }
    }
}

/// Races in reparenting: a parent exits while its child lives.
pub fn reparent(s: &str) {
    let master_pid = getpid();
    for _ in 0..200 {
        let pid = fork_raw();
        if pid < 0 {
            fail!("{s}: fork failed");
        }
        if pid != 0 {
            if wait(None) != Ok(pid) {
                fail!("{s}: wait wrong pid");
            }
        } else {
            if fork_raw() < 0 {
                let _ = kill(master_pid);
                exit(1);
            }
            exit(0);
        }
    }
    exit(0);
}

/// Two children exiting at the same time.
pub fn twochildren(s: &str) {
    for _ in 0..1000 {
        let pid1 = fork_raw();
        if pid1 < 0 {
            fail!("{s}: fork failed");
        }
        if pid1 == 0 {
            exit(0);
        }
        let pid2 = fork_raw();
        if pid2 < 0 {
            fail!("{s}: fork failed");
        }
        if pid2 == 0 {
            exit(0);
        }
        let _ = wait(None);
        let _ = wait(None);
    }
}

/// Concurrent forks, to expose locking bugs.
pub fn forkfork(s: &str) {
    const N: usize = 2;
    for _ in 0..N {
        let pid = fork_raw();
        if pid < 0 {
            print!("{s}: fork failed");
            exit(1);
        }
        if pid == 0 {
            for _ in 0..200 {
                let pid1 = fork_raw();
                if pid1 < 0 {
                    exit(1);
                }
                if pid1 == 0 {
                    exit(0);
                }
                let _ = wait(None);
            }
            exit(0);
        }
    }
    for _ in 0..N {
        let (_, st) = wait_st();
        if st != 0 {
            print!("{s}: fork in child failed");
            exit(1);
        }
    }
}

/// A fork bomb that stops when a file appears (or when fork fails, creating the file).
pub fn forkforkfork(s: &str) {
    let _ = unlink("stopforking");
    let pid = fork_raw();
    if pid < 0 {
        print!("{s}: fork failed");
        exit(1);
    }
    if pid == 0 {
        loop {
            if let Ok(_fd) = open("stopforking", O_RDONLY) {
                exit(0);
            }
            if fork_raw() < 0 {
                touch("stopforking", O_CREATE | O_RDWR);
            }
        }
    }
    let _ = sleep(20); // two seconds
    touch("stopforking", O_CREATE | O_RDWR);
    let _ = wait(None);
    let _ = sleep(10); // one second
}

/// Regression: exit() giving children to init must not deadlock against init's wait().
pub fn reparent2(_s: &str) {
    for _ in 0..800 {
        let pid1 = fork_raw();
        if pid1 < 0 {
            fail!("fork failed");
        }
        if pid1 == 0 {
            let _ = fork();
            let _ = fork();
            exit(0);
        }
        let _ = wait(None);
    }
    exit(0);
}

/// fork() fails gracefully when memory or process slots run out.
pub fn forktest(s: &str) {
    const N: usize = 1000;
    let mut n = 0;
    while n < N {
        let pid = fork_raw();
        if pid < 0 {
            break;
        }
        if pid == 0 {
            exit(0);
        }
        n += 1;
    }
    if n == 0 {
        fail!("{s}: no fork at all!");
    }
    if n == N {
        fail!("{s}: fork claimed to work 1000 times!");
    }
    for _ in 0..n {
        if wait(None).is_err() {
            fail!("{s}: wait stopped early");
        }
    }
    if wait(None).is_ok() {
        fail!("{s}: wait got too many");
    }
}
