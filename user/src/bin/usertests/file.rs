//! File system tests: truncation, inode reference counting across chdir/exit/open errors,
//! reading and writing small and large files, directories, links, names of exactly `DIRSIZ`
//! bytes, and several processes creating, linking and deleting in one directory at once.

use super::{BUFSZ, buf, fail, fork_raw, open_raw, read_raw, touch, wait_st, write_raw};
use abi::fs::{BSIZE, Dirent, MAXFILE};
use abi::param::NINODE;
use user::*;

pub fn truncate1(s: &str) {
    let mut b = [0u8; 32];
    let _ = unlink("truncfile");
    let fd1 = open_raw("truncfile", O_CREATE | O_WRONLY | O_TRUNC);
    write_raw(fd1, b"abcd");
    let _ = close(fd1);

    let fd2 = open_raw("truncfile", O_RDONLY);
    let n = read_raw(fd2, &mut b);
    if n != 4 {
        fail!("{s}: read {n} bytes, wanted 4");
    }
    let fd1 = open_raw("truncfile", O_WRONLY | O_TRUNC);
    let fd3 = open_raw("truncfile", O_RDONLY);
    let n = read_raw(fd3, &mut b);
    if n != 0 {
        println!("aaa fd3={fd3}");
        fail!("{s}: read {n} bytes, wanted 0");
    }
    let n = read_raw(fd2, &mut b);
    if n != 0 {
        println!("bbb fd2={fd2}");
        fail!("{s}: read {n} bytes, wanted 0");
    }
    write_raw(fd1, b"abcdef");
    let n = read_raw(fd3, &mut b);
    if n != 6 {
        fail!("{s}: read {n} bytes, wanted 6");
    }
    let n = read_raw(fd2, &mut b);
    if n != 2 {
        fail!("{s}: read {n} bytes, wanted 2");
    }
    let _ = unlink("truncfile");
    let _ = close(fd1);
    let _ = close(fd2);
    let _ = close(fd3);
}

/// A write through an fd whose file was truncated under it starts past the end of the file,
/// which xv6 refuses (POSIX would fill the gap).
pub fn truncate2(s: &str) {
    let _ = unlink("truncfile");
    let fd1 = open_raw("truncfile", O_CREATE | O_TRUNC | O_WRONLY);
    write_raw(fd1, b"abcd");
    let fd2 = open_raw("truncfile", O_TRUNC | O_WRONLY);
    let n = write_raw(fd1, b"x");
    if n != -1 {
        fail!("{s}: write returned {n}, expected -1");
    }
    let _ = unlink("truncfile");
    let _ = close(fd1);
    let _ = close(fd2);
}

pub fn truncate3(s: &str) {
    touch("truncfile", O_CREATE | O_TRUNC | O_WRONLY);
    let pid = fork_raw();
    if pid < 0 {
        fail!("{s}: fork failed");
    }
    if pid == 0 {
        let mut b = [0u8; 32];
        for _ in 0..100 {
            let fd = open_raw("truncfile", O_WRONLY);
            if fd < 0 {
                fail!("{s}: open failed");
            }
            let n = write_raw(fd, b"1234567890");
            if n != 10 {
                fail!("{s}: write got {n}, expected 10");
            }
            let _ = close(fd);
            let fd = open_raw("truncfile", O_RDONLY);
            read_raw(fd, &mut b);
            let _ = close(fd);
        }
        exit(0);
    }
    for _ in 0..150 {
        let fd = open_raw("truncfile", O_CREATE | O_WRONLY | O_TRUNC);
        if fd < 0 {
            fail!("{s}: open failed");
        }
        let n = write_raw(fd, b"xxx");
        if n != 3 {
            fail!("{s}: write got {n}, expected 3");
        }
        let _ = close(fd);
    }
    let (_, st) = wait_st();
    let _ = unlink("truncfile");
    exit(st);
}

/// Does chdir() release the old cwd inode inside a transaction?
pub fn iputtest(s: &str) {
    if mkdir("iputdir").is_err() {
        fail!("{s}: mkdir failed");
    }
    if chdir("iputdir").is_err() {
        fail!("{s}: chdir iputdir failed");
    }
    if unlink("../iputdir").is_err() {
        fail!("{s}: unlink ../iputdir failed");
    }
    if chdir("/").is_err() {
        fail!("{s}: chdir / failed");
    }
}

/// Does exit() release the cwd inode inside a transaction?
pub fn exitiputtest(s: &str) {
    let pid = fork_raw();
    if pid < 0 {
        fail!("{s}: fork failed");
    }
    if pid == 0 {
        if mkdir("iputdir").is_err() {
            fail!("{s}: mkdir failed");
        }
        if chdir("iputdir").is_err() {
            fail!("{s}: child chdir failed");
        }
        if unlink("../iputdir").is_err() {
            fail!("{s}: unlink ../iputdir failed");
        }
        exit(0);
    }
    let (_, st) = wait_st();
    exit(st);
}

/// Does open()'s error path for writing a directory release the inode in a transaction?
/// (Races best with a kernel that yields right after namei in sys_open.)
pub fn openiputtest(s: &str) {
    if mkdir("oidir").is_err() {
        fail!("{s}: mkdir oidir failed");
    }
    let pid = fork_raw();
    if pid < 0 {
        fail!("{s}: fork failed");
    }
    if pid == 0 {
        if open("oidir", O_RDWR).is_ok() {
            fail!("{s}: open directory for write succeeded");
        }
        exit(0);
    }
    let _ = sleep(1);
    if unlink("oidir").is_err() {
        fail!("{s}: unlink failed");
    }
    let (_, st) = wait_st();
    exit(st);
}

pub fn opentest(s: &str) {
    let Ok(fd) = open("echo", O_RDONLY) else {
        fail!("{s}: open echo failed!")
    };
    let _ = close(fd);
    if open("doesnotexist", O_RDONLY).is_ok() {
        fail!("{s}: open doesnotexist succeeded!");
    }
}

pub fn writetest(s: &str) {
    const N: usize = 100;
    const SZ: usize = 10;
    let Ok(fd) = open("small", O_CREATE | O_RDWR) else {
        fail!("{s}: error: creat small failed!")
    };
    for i in 0..N {
        if write_raw(fd, b"aaaaaaaaaa") != SZ as i32 {
            fail!("{s}: error: write aa {i} new file failed");
        }
        if write_raw(fd, b"bbbbbbbbbb") != SZ as i32 {
            fail!("{s}: error: write bb {i} new file failed");
        }
    }
    let _ = close(fd);
    let Ok(fd) = open("small", O_RDONLY) else {
        fail!("{s}: error: open small failed!")
    };
    if read_raw(fd, &mut buf()[..N * SZ * 2]) != (N * SZ * 2) as i32 {
        fail!("{s}: read failed");
    }
    let _ = close(fd);
    if unlink("small").is_err() {
        fail!("{s}: unlink small failed");
    }
}

pub fn writebig(s: &str) {
    let b = buf();
    let Ok(fd) = open("big", O_CREATE | O_RDWR) else {
        fail!("{s}: error: creat big failed!")
    };
    for i in 0..MAXFILE as i32 {
        b[..4].copy_from_slice(&i.to_le_bytes());
        if write_raw(fd, &b[..BSIZE]) != BSIZE as i32 {
            fail!("{s}: error: write big file failed");
        }
    }
    let _ = close(fd);
    let Ok(fd) = open("big", O_RDONLY) else {
        fail!("{s}: error: open big failed!")
    };
    let mut n = 0;
    loop {
        let i = read_raw(fd, &mut b[..BSIZE]);
        if i == 0 {
            if n == MAXFILE as i32 - 1 {
                fail!("{s}: read only {n} blocks from big");
            }
            break;
        } else if i != BSIZE as i32 {
            fail!("{s}: read failed {i}");
        }
        let got = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if got != n {
            fail!("{s}: read content of block {n} is {got}");
        }
        n += 1;
    }
    let _ = close(fd);
    if unlink("big").is_err() {
        fail!("{s}: unlink big failed");
    }
}

/// Many creates, then unlinks.
pub fn createtest(_s: &str) {
    const N: u8 = 52;
    for i in 0..N {
        touch([b'a', b'0' + i], O_CREATE | O_RDWR);
    }
    for i in 0..N {
        let _ = unlink([b'a', b'0' + i]);
    }
}

pub fn dirtest(s: &str) {
    if mkdir("dir0").is_err() {
        fail!("{s}: mkdir failed");
    }
    if chdir("dir0").is_err() {
        fail!("{s}: chdir dir0 failed");
    }
    if chdir("..").is_err() {
        fail!("{s}: chdir .. failed");
    }
    if unlink("dir0").is_err() {
        fail!("{s}: unlink dir0 failed");
    }
}

/// Two processes write through one shared fd: is the offset shared, and the inode locked?
pub fn sharedfd(s: &str) {
    const N: usize = 1000;
    const SZ: usize = 10;
    let _ = unlink("sharedfd");
    let Ok(fd) = open("sharedfd", O_CREATE | O_RDWR) else {
        fail!("{s}: cannot open sharedfd for writing")
    };
    let pid = fork_raw();
    let mut b = [if pid == 0 { b'c' } else { b'p' }; SZ];
    for _ in 0..N {
        if write_raw(fd, &b) != SZ as i32 {
            fail!("{s}: write sharedfd failed");
        }
    }
    if pid == 0 {
        exit(0);
    }
    let (_, st) = wait_st();
    if st != 0 {
        exit(st);
    }
    let _ = close(fd);
    let Ok(fd) = open("sharedfd", O_RDONLY) else {
        fail!("{s}: cannot open sharedfd for reading")
    };
    let (mut nc, mut np) = (0, 0);
    while read_raw(fd, &mut b) > 0 {
        nc += b.iter().filter(|&&c| c == b'c').count();
        np += b.iter().filter(|&&c| c == b'p').count();
    }
    let _ = close(fd);
    let _ = unlink("sharedfd");
    if nc != N * SZ || np != N * SZ {
        fail!("{s}: nc/np test fails");
    }
}

/// Four processes write four files at once (block allocation).
pub fn fourfiles(_s: &str) {
    const N: usize = 12;
    const NCHILD: u8 = 4;
    const SZ: usize = 500;
    let names = ["f0", "f1", "f2", "f3"];
    for pi in 0..NCHILD {
        let fname = names[pi as usize];
        let _ = unlink(fname);
        let pid = fork_raw();
        if pid < 0 {
            fail!("fork failed");
        }
        if pid == 0 {
            let Ok(fd) = open(fname, O_CREATE | O_RDWR) else {
                fail!("create failed")
            };
            let b = buf();
            b[..SZ].fill(b'0' + pi);
            for _ in 0..N {
                let n = write_raw(fd, &b[..SZ]);
                if n != SZ as i32 {
                    fail!("write failed {n}");
                }
            }
            exit(0);
        }
    }
    for _ in 0..NCHILD {
        let (_, st) = wait_st();
        if st != 0 {
            exit(st);
        }
    }
    let b = buf();
    for (i, fname) in names.iter().enumerate() {
        let fd = open_raw(fname, O_RDONLY);
        let mut total = 0;
        loop {
            let n = read_raw(fd, &mut b[..]);
            if n <= 0 {
                break;
            }
            if b[..n as usize].iter().any(|&c| c != b'0' + i as u8) {
                fail!("wrong char");
            }
            total += n as usize;
        }
        let _ = close(fd);
        if total != N * SZ {
            fail!("wrong length {total}");
        }
        let _ = unlink(fname);
    }
}

/// Four processes create and delete different files in the same directory.
pub fn createdelete(s: &str) {
    const N: u8 = 20;
    const NCHILD: u8 = 4;
    for pi in 0..NCHILD {
        let pid = fork_raw();
        if pid < 0 {
            fail!("fork failed");
        }
        if pid == 0 {
            for i in 0..N {
                let Ok(fd) = open([b'p' + pi, b'0' + i], O_CREATE | O_RDWR) else {
                    fail!("{s}: create failed")
                };
                let _ = close(fd);
                if i > 0 && i % 2 == 0 && unlink([b'p' + pi, b'0' + i / 2]).is_err() {
                    fail!("{s}: unlink failed");
                }
            }
            exit(0);
        }
    }
    for _ in 0..NCHILD {
        let (_, st) = wait_st();
        if st != 0 {
            exit(1);
        }
    }
    for i in 0..N {
        for pi in 0..NCHILD {
            let name = [b'p' + pi, b'0' + i];
            let fd = open(name, O_RDONLY);
            let shown = str_prefix(&name);
            if (i == 0 || i >= N / 2) && fd.is_err() {
                fail!("{s}: oops createdelete {shown} didn't exist");
            } else if (1..N / 2).contains(&i) && fd.is_ok() {
                fail!("{s}: oops createdelete {shown} did exist");
            }
            if let Ok(fd) = fd {
                let _ = close(fd);
            }
        }
    }
    for i in 0..N {
        for pi in 0..NCHILD {
            let _ = unlink([b'p' + pi, b'0' + i]);
        }
    }
}

/// Can an unlinked file still be read and written through an open fd?
pub fn unlinkread(s: &str) {
    let Ok(fd) = open("unlinkread", O_CREATE | O_RDWR) else {
        fail!("{s}: create unlinkread failed")
    };
    write_raw(fd, b"hello");
    let _ = close(fd);
    let Ok(fd) = open("unlinkread", O_RDWR) else {
        fail!("{s}: open unlinkread failed")
    };
    if unlink("unlinkread").is_err() {
        fail!("{s}: unlink unlinkread failed");
    }
    let fd1 = open_raw("unlinkread", O_CREATE | O_RDWR);
    write_raw(fd1, b"yyy");
    let _ = close(fd1);
    let b = buf();
    if read_raw(fd, &mut b[..]) != 5 {
        fail!("{s}: unlinkread read failed");
    }
    if b[0] != b'h' {
        fail!("{s}: unlinkread wrong data");
    }
    if write_raw(fd, &b[..10]) != 10 {
        fail!("{s}: unlinkread write failed");
    }
    let _ = close(fd);
    let _ = unlink("unlinkread");
}

pub fn linktest(s: &str) {
    let _ = unlink("lf1");
    let _ = unlink("lf2");
    let Ok(fd) = open("lf1", O_CREATE | O_RDWR) else {
        fail!("{s}: create lf1 failed")
    };
    if write_raw(fd, b"hello") != 5 {
        fail!("{s}: write lf1 failed");
    }
    let _ = close(fd);
    if link("lf1", "lf2").is_err() {
        fail!("{s}: link lf1 lf2 failed");
    }
    let _ = unlink("lf1");
    if open("lf1", O_RDONLY).is_ok() {
        fail!("{s}: unlinked lf1 but it is still there!");
    }
    let Ok(fd) = open("lf2", O_RDONLY) else {
        fail!("{s}: open lf2 failed")
    };
    if read_raw(fd, &mut buf()[..]) != 5 {
        fail!("{s}: read lf2 failed");
    }
    let _ = close(fd);
    if link("lf2", "lf2").is_ok() {
        fail!("{s}: link lf2 lf2 succeeded! oops");
    }
    let _ = unlink("lf2");
    if link("lf2", "lf1").is_ok() {
        fail!("{s}: link non-existent succeeded! oops");
    }
    if link(".", "lf1").is_ok() {
        fail!("{s}: link . lf1 succeeded! oops");
    }
}

/// Concurrent create, link and unlink of the same names.
pub fn concreate(s: &str) {
    const N: u8 = 40;
    for i in 0..N {
        let file = [b'C', b'0' + i];
        let _ = unlink(file);
        let pid = fork_raw();
        if (pid != 0 && i % 3 == 1) || (pid == 0 && i % 5 == 1) {
            let _ = link("C0", file);
        } else {
            let Ok(fd) = open(file, O_CREATE | O_RDWR) else {
                fail!("concreate create {} failed", str_prefix(&file))
            };
            let _ = close(fd);
        }
        if pid == 0 {
            exit(0);
        }
        let (_, st) = wait_st();
        if st != 0 {
            exit(1);
        }
    }

    let mut fa = [false; N as usize];
    let fd = open_raw(".", O_RDONLY);
    let mut n = 0;
    let mut raw = [0u8; 16];
    while read_raw(fd, &mut raw) > 0 {
        let de = Dirent::decode(&raw);
        if de.inum == 0 {
            continue;
        }
        if de.name[0] == b'C' && de.name[2] == 0 {
            let i = de.name[1].wrapping_sub(b'0') as usize;
            let shown = str_prefix(de.name_bytes());
            if i >= fa.len() {
                fail!("{s}: concreate weird file {shown}");
            }
            if fa[i] {
                fail!("{s}: concreate duplicate file {shown}");
            }
            fa[i] = true;
            n += 1;
        }
    }
    let _ = close(fd);
    if n != N {
        fail!("{s}: concreate not enough files in directory listing");
    }

    for i in 0..N {
        let file = [b'C', b'0' + i];
        let pid = fork_raw();
        if pid < 0 {
            fail!("{s}: fork failed");
        }
        if (i % 3 == 0 && pid == 0) || (i % 3 == 1 && pid != 0) {
            for _ in 0..6 {
                touch(file, O_RDONLY);
            }
        } else {
            for _ in 0..6 {
                let _ = unlink(file);
            }
        }
        if pid == 0 {
            exit(0);
        }
        let _ = wait(None);
    }
}

/// Another concurrent link/unlink/create mix, looking for deadlocks.
pub fn linkunlink(s: &str) {
    let _ = unlink("x");
    let pid = fork_raw();
    if pid < 0 {
        fail!("{s}: fork failed");
    }
    let mut x: u32 = if pid != 0 { 1 } else { 97 };
    for _ in 0..100 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        match x % 3 {
            0 => touch("x", O_RDWR | O_CREATE),
            1 => {
                let _ = link("cat", "x");
            }
            _ => {
                let _ = unlink("x");
            }
        }
    }
    if pid != 0 {
        let _ = wait(None);
    } else {
        exit(0);
    }
}

/// Paths through subdirectories, `..`, and every call that must fail on a path through a
/// file or a missing directory.
pub fn subdir(s: &str) {
    let _ = unlink("ff");
    if mkdir("dd").is_err() {
        fail!("{s}: mkdir dd failed");
    }
    let Ok(fd) = open("dd/ff", O_CREATE | O_RDWR) else {
        fail!("{s}: create dd/ff failed")
    };
    write_raw(fd, b"ff");
    let _ = close(fd);
    if unlink("dd").is_ok() {
        fail!("{s}: unlink dd (non-empty dir) succeeded!");
    }
    if mkdir("/dd/dd").is_err() {
        fail!("subdir mkdir dd/dd failed");
    }
    let Ok(fd) = open("dd/dd/ff", O_CREATE | O_RDWR) else {
        fail!("{s}: create dd/dd/ff failed")
    };
    write_raw(fd, b"FF");
    let _ = close(fd);
    let Ok(fd) = open("dd/dd/../ff", O_RDONLY) else {
        fail!("{s}: open dd/dd/../ff failed")
    };
    let b = buf();
    let cc = read_raw(fd, &mut b[..]);
    if cc != 2 || b[0] != b'f' {
        fail!("{s}: dd/dd/../ff wrong content");
    }
    let _ = close(fd);
    if link("dd/dd/ff", "dd/dd/ffff").is_err() {
        fail!("link dd/dd/ff dd/dd/ffff failed");
    }
    if unlink("dd/dd/ff").is_err() {
        fail!("{s}: unlink dd/dd/ff failed");
    }
    if open("dd/dd/ff", O_RDONLY).is_ok() {
        fail!("{s}: open (unlinked) dd/dd/ff succeeded");
    }
    if chdir("dd").is_err() {
        fail!("{s}: chdir dd failed");
    }
    if chdir("dd/../../dd").is_err() {
        fail!("{s}: chdir dd/../../dd failed");
    }
    if chdir("dd/../../../dd").is_err() {
        fail!("chdir dd/../../dd failed");
    }
    if chdir("./..").is_err() {
        fail!("{s}: chdir ./.. failed");
    }
    let Ok(fd) = open("dd/dd/ffff", O_RDONLY) else {
        fail!("{s}: open dd/dd/ffff failed")
    };
    if read_raw(fd, &mut b[..]) != 2 {
        fail!("{s}: read dd/dd/ffff wrong len");
    }
    let _ = close(fd);
    if open("dd/dd/ff", O_RDONLY).is_ok() {
        fail!("{s}: open (unlinked) dd/dd/ff succeeded!");
    }

    let must_fail_open: [(&str, i32, &str); 5] = [
        ("dd/ff/ff", O_CREATE | O_RDWR, "create dd/ff/ff"),
        ("dd/xx/ff", O_CREATE | O_RDWR, "create dd/xx/ff"),
        ("dd", O_CREATE, "create dd"),
        ("dd", O_RDWR, "open dd rdwr"),
        ("dd", O_WRONLY, "open dd wronly"),
    ];
    for (path, flags, what) in must_fail_open {
        if open(path, flags).is_ok() {
            fail!("{s}: {what} succeeded!");
        }
    }
    for (old, new) in [
        ("dd/ff/ff", "dd/dd/xx"),
        ("dd/xx/ff", "dd/dd/xx"),
        ("dd/ff", "dd/dd/ffff"),
    ] {
        if link(old, new).is_ok() {
            fail!("{s}: link {old} {new} succeeded!");
        }
    }
    for path in ["dd/ff/ff", "dd/xx/ff", "dd/dd/ffff"] {
        if mkdir(path).is_ok() {
            fail!("{s}: mkdir {path} succeeded!");
        }
    }
    for path in ["dd/xx/ff", "dd/ff/ff"] {
        if unlink(path).is_ok() {
            fail!("{s}: unlink {path} succeeded!");
        }
    }
    for path in ["dd/ff", "dd/xx"] {
        if chdir(path).is_ok() {
            fail!("{s}: chdir {path} succeeded!");
        }
    }

    if unlink("dd/dd/ffff").is_err() {
        fail!("{s}: unlink dd/dd/ff failed");
    }
    if unlink("dd/ff").is_err() {
        fail!("{s}: unlink dd/ff failed");
    }
    if unlink("dd").is_ok() {
        fail!("{s}: unlink non-empty dd succeeded!");
    }
    if unlink("dd/dd").is_err() {
        fail!("{s}: unlink dd/dd failed");
    }
    if unlink("dd").is_err() {
        fail!("{s}: unlink dd failed");
    }
}

/// Writes larger than the log must be split into several transactions.
pub fn bigwrite(s: &str) {
    let _ = unlink("bigwrite");
    let b = buf();
    let mut sz = 499;
    while sz < BUFSZ {
        let Ok(fd) = open("bigwrite", O_CREATE | O_RDWR) else {
            fail!("{s}: cannot create bigwrite")
        };
        for _ in 0..2 {
            let cc = write_raw(fd, &b[..sz]);
            if cc != sz as i32 {
                fail!("{s}: write({sz}) ret {cc}");
            }
        }
        let _ = close(fd);
        let _ = unlink("bigwrite");
        sz += 471;
    }
}

pub fn bigfile(s: &str) {
    const N: usize = 20;
    const SZ: usize = 600;
    let _ = unlink("bigfile.dat");
    let Ok(fd) = open("bigfile.dat", O_CREATE | O_RDWR) else {
        fail!("{s}: cannot create bigfile")
    };
    let b = buf();
    for i in 0..N {
        b[..SZ].fill(i as u8);
        if write_raw(fd, &b[..SZ]) != SZ as i32 {
            fail!("{s}: write bigfile failed");
        }
    }
    let _ = close(fd);
    let Ok(fd) = open("bigfile.dat", O_RDONLY) else {
        fail!("{s}: cannot open bigfile")
    };
    let mut total = 0;
    let mut i = 0;
    loop {
        let cc = read_raw(fd, &mut b[..SZ / 2]);
        if cc < 0 {
            fail!("{s}: read bigfile failed");
        }
        if cc == 0 {
            break;
        }
        if cc != (SZ / 2) as i32 {
            fail!("{s}: short read bigfile");
        }
        if b[0] as usize != i / 2 || b[SZ / 2 - 1] as usize != i / 2 {
            fail!("{s}: read bigfile wrong data");
        }
        total += cc as usize;
        i += 1;
    }
    let _ = close(fd);
    if total != N * SZ {
        fail!("{s}: read bigfile wrong total");
    }
    let _ = unlink("bigfile.dat");
}

/// Names of DIRSIZ (14) bytes, and longer ones that xv6 truncates to 14.
pub fn fourteen(s: &str) {
    if mkdir("12345678901234").is_err() {
        fail!("{s}: mkdir 12345678901234 failed");
    }
    if mkdir("12345678901234/123456789012345").is_err() {
        fail!("{s}: mkdir 12345678901234/123456789012345 failed");
    }
    let Ok(fd) = open("123456789012345/123456789012345/123456789012345", O_CREATE) else {
        fail!("{s}: create 123456789012345/123456789012345/123456789012345 failed")
    };
    let _ = close(fd);
    let Ok(fd) = open("12345678901234/12345678901234/12345678901234", O_RDONLY) else {
        fail!("{s}: open 12345678901234/12345678901234/12345678901234 failed")
    };
    let _ = close(fd);
    if mkdir("12345678901234/12345678901234").is_ok() {
        fail!("{s}: mkdir 12345678901234/12345678901234 succeeded!");
    }
    if mkdir("123456789012345/12345678901234").is_ok() {
        fail!("{s}: mkdir 12345678901234/123456789012345 succeeded!");
    }
    let _ = unlink("123456789012345/12345678901234");
    let _ = unlink("12345678901234/12345678901234");
    let _ = unlink("12345678901234/12345678901234/12345678901234");
    let _ = unlink("123456789012345/123456789012345/123456789012345");
    let _ = unlink("12345678901234/123456789012345");
    let _ = unlink("12345678901234");
}

pub fn rmdot(s: &str) {
    if mkdir("dots").is_err() {
        fail!("{s}: mkdir dots failed");
    }
    if chdir("dots").is_err() {
        fail!("{s}: chdir dots failed");
    }
    if unlink(".").is_ok() {
        fail!("{s}: rm . worked!");
    }
    if unlink("..").is_ok() {
        fail!("{s}: rm .. worked!");
    }
    if chdir("/").is_err() {
        fail!("{s}: chdir / failed");
    }
    if unlink("dots/.").is_ok() {
        fail!("{s}: unlink dots/. worked!");
    }
    if unlink("dots/..").is_ok() {
        fail!("{s}: unlink dots/.. worked!");
    }
    if unlink("dots").is_err() {
        fail!("{s}: unlink dots failed!");
    }
}

/// A file used as a directory in every call that walks a path.
pub fn dirfile(s: &str) {
    let Ok(fd) = open("dirfile", O_CREATE) else {
        fail!("{s}: create dirfile failed")
    };
    let _ = close(fd);
    if chdir("dirfile").is_ok() {
        fail!("{s}: chdir dirfile succeeded!");
    }
    if open("dirfile/xx", O_RDONLY).is_ok() {
        fail!("{s}: create dirfile/xx succeeded!");
    }
    if open("dirfile/xx", O_CREATE).is_ok() {
        fail!("{s}: create dirfile/xx succeeded!");
    }
    if mkdir("dirfile/xx").is_ok() {
        fail!("{s}: mkdir dirfile/xx succeeded!");
    }
    if unlink("dirfile/xx").is_ok() {
        fail!("{s}: unlink dirfile/xx succeeded!");
    }
    if link("README", "dirfile/xx").is_ok() {
        fail!("{s}: link to dirfile/xx succeeded!");
    }
    if unlink("dirfile").is_err() {
        fail!("{s}: unlink dirfile failed!");
    }
    if open(".", O_RDWR).is_ok() {
        fail!("{s}: open . for writing succeeded!");
    }
    let fd = open_raw(".", O_RDONLY);
    if write_raw(fd, b"x") > 0 {
        fail!("{s}: write . succeeded!");
    }
    let _ = close(fd);
}

/// Does path lookup release every inode it takes? More nested directories than the inode
/// cache holds, and empty names.
pub fn iref(s: &str) {
    for _ in 0..NINODE + 1 {
        if mkdir("irefd").is_err() {
            fail!("{s}: mkdir irefd failed");
        }
        if chdir("irefd").is_err() {
            fail!("{s}: chdir irefd failed");
        }
        let _ = mkdir("");
        let _ = link("README", "");
        touch("", O_CREATE);
        touch("xx", O_CREATE);
        let _ = unlink("xx");
    }
    for _ in 0..NINODE + 1 {
        let _ = chdir("..");
        let _ = unlink("irefd");
    }
    let _ = chdir("/");
}
