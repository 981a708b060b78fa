//! `ls [PATH...]`: lists directories (or describes files) as `name type inode size`, the name
//! blank-padded to `DIRSIZ` columns as MIT's `fmtname` does.
#![no_std]
#![no_main]

use abi::fs::{DIRSIZ, Dirent};
use user::*;

entry!(main);

/// The last component of `path`, padded with blanks to `DIRSIZ` bytes (longer names as is).
fn fmtname(path: &[u8]) -> String {
    let start = path.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    let name = str_prefix(&path[start..]);
    format!("{name:<width$}", width = DIRSIZ)
}

fn ls(path: &str) {
    let Ok(fd) = open(path, O_RDONLY) else {
        eprintln!("ls: cannot open {path}");
        return;
    };
    let Ok(st) = fstat(fd) else {
        eprintln!("ls: cannot stat {path}");
        let _ = close(fd);
        return;
    };
    match st.typ {
        T_DIR => {
            if path.len() + 1 + DIRSIZ + 1 > 512 {
                println!("ls: path too long");
            } else {
                let mut full: Vec<u8> = Vec::with_capacity(path.len() + 1 + DIRSIZ);
                let mut raw = [0u8; 16];
                while read(fd, &mut raw) == Ok(raw.len()) {
                    let de = Dirent::decode(&raw);
                    if de.inum == 0 {
                        continue;
                    }
                    full.clear();
                    full.extend_from_slice(path.as_bytes());
                    full.push(b'/');
                    full.extend_from_slice(de.name_bytes());
                    match stat(&full) {
                        Ok(st) => {
                            println!("{} {} {} {}", fmtname(&full), st.typ, st.ino, st.size)
                        }
                        Err(_) => println!("ls: cannot stat {}", str_prefix(&full)),
                    }
                }
            }
        }
        _ => println!(
            "{} {} {} {}",
            fmtname(path.as_bytes()),
            st.typ,
            st.ino,
            st.size
        ),
    }
    let _ = close(fd);
}

fn main(args: Args) {
    if args.len() < 2 {
        ls(".");
        return;
    }
    for path in args.iter().skip(1) {
        ls(path);
    }
}
