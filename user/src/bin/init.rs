//! `init`: the first user program. Gives itself the console as fds 0, 1 and 2 (making the
//! console device file if the disk lacks it), then runs `sh` forever: when the shell exits it
//! starts another. Orphans are re-parented to init by the kernel, so init's `wait` also reaps
//! them; those are simply ignored.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(_args: Args) {
    if open("console", O_RDWR).is_err() {
        let _ = mknod("console", CONSOLE, 0);
        let _ = open("console", O_RDWR);
    }
    let _ = dup(0); // stdout
    let _ = dup(0); // stderr

    loop {
        println!("init: starting sh");
        let pid = match fork() {
            Ok(pid) => pid,
            Err(_) => {
                println!("init: fork failed");
                exit(1);
            }
        };
        if pid == 0 {
            exec("sh", &["sh"]);
            println!("init: exec sh failed");
            exit(1);
        }
        // Returns when the shell exits, or when an orphan that init inherited exits.
        loop {
            match wait(None) {
                Ok(w) if w == pid => break,
                Ok(_) => {}
                Err(_) => {
                    println!("init: wait returned an error");
                    exit(1);
                }
            }
        }
    }
}
