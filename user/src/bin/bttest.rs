//! `bttest` (traps lab; boot with `--lab backtrace`): one `sleep`, in which the kernel prints
//! the backtrace of its own stack (`sys_sleep` calls `backtrace`).
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(_: Args) {
    let _ = sleep(1);
}
