//! `mkfs [--strip] [--bigfile] OUT FILE...`: writes an xv6 file system image holding FILEs
//! in its root directory.
//!
//! Like MIT's `mkfs/mkfs`, each file is stored under its last path component with one leading
//! `_` removed (`user/_ls` becomes `ls`). `--strip` stores ELF files cut down to their loaded
//! segments (see `mkfs::strip_elf`), which debug builds need to fit. `--bigfile` makes the
//! image of the fs lab's large-file layout (`mkfs::Geometry::big`) that the bundled kernel's
//! `bigfile` lab option mounts.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut flag = |name: &str| match args.iter().position(|a| a == name) {
        Some(i) => {
            args.remove(i);
            true
        }
        None => false,
    };
    let strip = flag("--strip");
    let geometry = if flag("--bigfile") {
        mkfs::Geometry::big()
    } else {
        mkfs::Geometry::default()
    };
    let Some((out, inputs)) = args.split_first() else {
        eprintln!("usage: mkfs [--strip] [--bigfile] OUT FILE...");
        return ExitCode::from(2);
    };
    let mut files = Vec::with_capacity(inputs.len());
    for path in inputs {
        match std::fs::read(path) {
            Ok(data) if strip => files.push((path.clone(), mkfs::strip_elf(&data))),
            Ok(data) => files.push((path.clone(), data)),
            Err(e) => {
                eprintln!("mkfs: {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let img = match mkfs::build_with(geometry, &files) {
        Ok(img) => img,
        Err(e) => {
            eprintln!("mkfs: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(out, &img) {
        eprintln!("mkfs: {out}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
