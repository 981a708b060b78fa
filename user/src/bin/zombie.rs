//! `zombie`: the child exits while its parent sleeps, and the parent exits without waiting,
//! so the kernel must hand the zombie child to init to be reaped.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(_args: Args) {
    if matches!(fork(), Ok(pid) if pid > 0) {
        let _ = sleep(5); // let the child exit first
    }
}
