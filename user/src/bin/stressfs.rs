//! `stressfs`: five processes each write and read back their own 10 KiB file
//! (`stressfs0`..`stressfs4`) at the same time, to exercise the disk driver and the log under
//! concurrency.
#![no_std]
#![no_main]

use user::*;

entry!(main);

fn main(_args: Args) {
    println!("stressfs starting");
    let mut data = [b'a'; 512];
    let mut i = 0u8;
    while i < 4 {
        if matches!(fork(), Ok(pid) if pid > 0) {
            break;
        }
        i += 1;
    }
    println!("write {i}");
    let path = [b's', b't', b'r', b'e', b's', b's', b'f', b's', b'0' + i];
    if let Ok(fd) = open(path, O_CREATE | O_RDWR) {
        for _ in 0..20 {
            let _ = write(fd, &data);
        }
        let _ = close(fd);
    }
    println!("read");
    if let Ok(fd) = open(path, O_RDONLY) {
        for _ in 0..20 {
            let _ = read(fd, &mut data);
        }
        let _ = close(fd);
    }
    let _ = wait(None);
}
