//! `find DIR NAME` (util lab): prints the path of every file or directory under DIR whose name
//! is NAME, descending into subdirectories (never into `.` and `..`).
#![no_std]
#![no_main]

use abi::fs::Dirent;
use user::*;

entry!(main);

/// Walks `path` (its bytes, no NUL). The path buffer is shared and restored on return, so the
/// recursion uses little stack per level.
fn find(path: &mut Vec<u8>, name: &[u8]) {
    let Ok(fd) = open(&path[..], O_RDONLY) else {
        eprintln!("find: cannot open {}", str_prefix(path));
        return;
    };
    let Ok(st) = fstat(fd) else {
        eprintln!("find: cannot stat {}", str_prefix(path));
        let _ = close(fd);
        return;
    };
    if st.typ != T_DIR {
        let _ = close(fd);
        return;
    }
    let base = path.len();
    let mut raw = [0u8; 16];
    while read(fd, &mut raw) == Ok(16) {
        let de = Dirent::decode(&raw);
        let entry = de.name_bytes();
        if de.inum == 0 || entry == b"." || entry == b".." {
            continue;
        }
        path.truncate(base);
        path.push(b'/');
        path.extend_from_slice(entry);
        if entry == name {
            println!("{}", str_prefix(path));
        }
        if matches!(stat(&path[..]), Ok(s) if s.typ == T_DIR) {
            find(path, name);
        }
    }
    path.truncate(base);
    let _ = close(fd);
}

fn main(args: Args) {
    let (Some(dir), Some(name), 3) = (args.bytes(1), args.bytes(2), args.len()) else {
        eprintln!("usage: find dir name");
        exit(1);
    };
    let mut path = Vec::from(dir);
    while path.len() > 1 && path.ends_with(b"/") {
        path.pop();
    }
    find(&mut path, name);
}
