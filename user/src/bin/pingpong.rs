//! `pingpong` (util lab): the parent sends one byte to its child over a pipe; the child prints
//! `<pid>: received ping` and sends the byte back over a second pipe; the parent then prints
//! `<pid>: received pong`.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn fail(what: &str) -> ! {
    eprintln!("pingpong: {what} failed");
    exit(1)
}

fn main(_args: Args) {
    let to_child = pipe().unwrap_or_else(|_| fail("pipe"));
    let to_parent = pipe().unwrap_or_else(|_| fail("pipe"));
    let mut b = [0u8];
    match fork() {
        Err(_) => fail("fork"),
        Ok(0) => {
            let _ = close(to_child[1]);
            let _ = close(to_parent[0]);
            if read(to_child[0], &mut b) != Ok(1) {
                fail("read");
            }
            println!("{}: received ping", getpid());
            if write(to_parent[1], &b) != Ok(1) {
                fail("write");
            }
        }
        Ok(_) => {
            let _ = close(to_child[0]);
            let _ = close(to_parent[1]);
            if write(to_child[1], b"x") != Ok(1) {
                fail("write");
            }
            if read(to_parent[0], &mut b) != Ok(1) {
                fail("read");
            }
            println!("{}: received pong", getpid());
            let _ = wait(None);
        }
    }
}
