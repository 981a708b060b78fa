//! Build images, read them back, compare with MIT's, and feed the reader corrupt images.

use super::*;
use abi::fs::{BSIZE, FSMAGIC, MAXFILE, ROOTINO};
use abi::stat::{T_DIR, T_FILE};

type Files = Vec<(String, Vec<u8>)>;

const MIT: &str = "/work/ext/xv6-riscv";

fn files(list: &[(&str, Vec<u8>)]) -> Files {
    list.iter()
        .map(|(n, d)| (n.to_string(), d.clone()))
        .collect()
}

/// Bytes that differ from block to block, so misplaced blocks show.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i / 7) as u8 ^ (i >> 10) as u8 ^ seed)
        .collect()
}

#[test]
fn short_names_drop_directories_and_one_underscore() {
    assert_eq!(short_name("user/_ls"), "ls");
    assert_eq!(short_name("/a/b/README"), "README");
    assert_eq!(short_name("__x"), "_x");
    assert_eq!(short_name("target/riscv/release/sh"), "sh");
}

#[test]
fn built_image_reads_back() {
    let big = pattern(70 * 1024 + 5, 3); // 71 blocks: direct and indirect
    let img = build(&files(&[
        ("README", b"hello xv6\n".to_vec()),
        ("user/_cat", pattern(3000, 1)),
        ("big", big.clone()),
        ("empty", Vec::new()),
    ]))
    .unwrap();
    assert_eq!(img.len(), 2000 * BSIZE);
    let fs = Image::open(img).unwrap();
    let sb = *fs.superblock();
    assert_eq!(
        (sb.magic, sb.size, sb.nblocks, sb.ninodes),
        (FSMAGIC, 2000, 1954, 200)
    );
    assert_eq!(
        (sb.nlog, sb.logstart, sb.inodestart, sb.bmapstart),
        (30, 2, 32, 45)
    );

    let names: Vec<(u32, String)> = fs
        .list_dir(ROOTINO)
        .unwrap()
        .into_iter()
        .map(|e| (e.inum, e.name))
        .collect();
    let want = [
        (1, "."),
        (1, ".."),
        (2, "README"),
        (3, "cat"),
        (4, "big"),
        (5, "empty"),
    ];
    assert_eq!(names, want.map(|(i, n)| (i, n.to_string())));

    assert_eq!(
        fs.read_file(fs.lookup("/README").unwrap()).unwrap(),
        b"hello xv6\n"
    );
    assert_eq!(
        fs.read_file(fs.lookup("cat").unwrap()).unwrap(),
        pattern(3000, 1)
    );
    assert_eq!(fs.read_file(4).unwrap(), big);
    assert_eq!(fs.read_file(5).unwrap(), b"");
    assert_eq!(fs.lookup("/").unwrap(), ROOTINO);
    assert_eq!(fs.lookup("/./big").unwrap(), 4);

    let st = fs.stat(4).unwrap();
    assert_eq!(
        (st.ino, st.typ, st.nlink, st.size),
        (4, T_FILE, 1, big.len() as u64)
    );
    let root = fs.stat(ROOTINO).unwrap();
    assert_eq!((root.typ, root.size), (T_DIR, BSIZE as u64));

    let inums: Vec<u32> = fs.inodes().map(|(i, _)| i).collect();
    assert_eq!(inums, vec![1, 2, 3, 4, 5]);
    assert!(
        fs.pending_log_blocks().is_empty(),
        "a fresh image has an empty log"
    );
    assert_eq!(fs.path_of(4).unwrap(), "/big");
    assert_eq!(fs.path_of(ROOTINO).unwrap(), "/");
    let tree: Vec<(String, u32)> = fs.tree().into_iter().map(|(p, i, _)| (p, i)).collect();
    assert_eq!(tree.len(), 5, "/, README, cat, big and empty: {tree:?}");
    assert!(tree.contains(&("/big".into(), 4)), "{tree:?}");
    assert_eq!(tree[0], ("/".into(), ROOTINO));
    assert_eq!(fs.lookup("/nope"), Err(FsError::NotFound("/nope".into())));
    assert_eq!(
        fs.lookup("/README/x"),
        Err(FsError::NotADirectory("/README".into()))
    );
    assert_eq!(fs.inode(6), Err(FsError::FreeInode(6)));
    assert!(matches!(fs.inode(200), Err(FsError::BadInum { .. })));

    // Blocks: root dir 46, README 47, cat 48..51, big 51.. (12 direct, the indirect, 59 more).
    let used = 46 + 1 + 1 + 3 + 71 + 1;
    assert!((0..used).all(|b| fs.block_in_use(b)));
    assert!((used..2000).all(|b| !fs.block_in_use(b)));
    assert_eq!(fs.block_addrs(2).unwrap(), vec![47]);
    let addrs = fs.block_addrs(4).unwrap();
    assert_eq!(&addrs[..12], &(51..63).collect::<Vec<_>>()[..]);
    assert_eq!(
        addrs[12], 64,
        "the indirect block (63) comes before the 13th data block"
    );
}

#[test]
fn build_errors_are_reported() {
    let dup = build(&files(&[("a/_x", vec![1]), ("b/x", vec![2])]));
    assert_eq!(dup, Err(MkfsError::DuplicateName("x".into())));
    let long = build(&files(&[
        ("abcdefghijklmnop", vec![]),
        ("abcdefghijklmnoq", vec![]),
    ]));
    assert!(
        matches!(long, Err(MkfsError::DuplicateName(_))),
        "equal once truncated to 14"
    );
    assert_eq!(
        build(&files(&[("dir/_", vec![])])),
        Err(MkfsError::EmptyName("dir/_".into()))
    );
    assert_eq!(
        build(&files(&[(".", vec![])])),
        Err(MkfsError::DuplicateName(".".into()))
    );
    let huge = build(&files(&[("huge", vec![0; MAXFILE * BSIZE + 1])]));
    assert!(matches!(huge, Err(MkfsError::FileTooLarge { .. })));
    let many: Vec<(String, Vec<u8>)> = (0..199).map(|i| (format!("f{i}"), vec![])).collect();
    assert_eq!(build(&many), Err(MkfsError::OutOfInodes(200)));
    assert!(build(&many[..198]).is_ok(), "199 inodes after the root fit");
    let full: Vec<(String, Vec<u8>)> = (0..8)
        .map(|i| (format!("f{i}"), vec![7; MAXFILE * BSIZE]))
        .collect();
    assert_eq!(build(&full), Err(MkfsError::DiskFull(2000)));
}

#[test]
fn root_directory_size_is_whole_blocks() {
    // 62 files + . and .. exactly fill one directory block.
    let fill: Vec<(String, Vec<u8>)> = (0..62).map(|i| (format!("f{i}"), vec![i as u8])).collect();
    let fs = Image::open(build(&fill).unwrap()).unwrap();
    assert_eq!(fs.stat(ROOTINO).unwrap().size, BSIZE as u64);
    assert_eq!(fs.list_dir(ROOTINO).unwrap().len(), 64);
    let more: Vec<(String, Vec<u8>)> = (0..63).map(|i| (format!("f{i}"), vec![i as u8])).collect();
    let fs = Image::open(build(&more).unwrap()).unwrap();
    assert_eq!(fs.stat(ROOTINO).unwrap().size, 2 * BSIZE as u64);
    assert_eq!(fs.read_file(fs.lookup("f62").unwrap()).unwrap(), vec![62]);
}

/// MIT's fs.img and the files it was made from, when /work/ext holds a built xv6-riscv.
fn mit_inputs() -> Option<(Vec<u8>, Files)> {
    let img = std::fs::read(format!("{MIT}/fs.img")).ok()?;
    let progs = [
        "cat",
        "echo",
        "forktest",
        "grep",
        "init",
        "kill",
        "ln",
        "ls",
        "mkdir",
        "rm",
        "sh",
        "stressfs",
        "usertests",
        "grind",
        "wc",
        "zombie",
    ];
    let mut files = vec![(
        "README".to_string(),
        std::fs::read(format!("{MIT}/README")).ok()?,
    )];
    for p in progs {
        let path = format!("user/_{p}");
        files.push((path.clone(), std::fs::read(format!("{MIT}/{path}")).ok()?));
    }
    Some((img, files))
}

#[test]
fn mit_image_reads_back() {
    let Some((img, files)) = mit_inputs() else {
        eprintln!("skipped: no MIT xv6-riscv build at {MIT}");
        return;
    };
    let fs = Image::open(img).unwrap();
    let ls = fs.lookup("/ls").unwrap();
    assert_eq!(fs.stat(ls).unwrap().typ, T_FILE);
    assert_eq!(fs.path_of(ls).unwrap(), "/ls");
    let readme = fs.read_file(fs.lookup("README").unwrap()).unwrap();
    assert_eq!(readme, files[0].1);
    let names: Vec<String> = fs
        .list_dir(ROOTINO)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names.len(), 2 + files.len());
    assert!(names.contains(&"usertests".to_string()));
}

#[test]
fn same_files_give_mit_identical_image() {
    let Some((img, files)) = mit_inputs() else {
        eprintln!("skipped: no MIT xv6-riscv build at {MIT}");
        return;
    };
    let ours = build(&files).unwrap();
    // File by file first (clearer failures), then every byte. MIT's kernel leaves the image
    // as it found it unless a program writes files, and the reference image is never booted.
    let theirs = Image::open(img.clone()).unwrap();
    let mine = Image::open(ours.clone()).unwrap();
    assert_eq!(mine.superblock(), theirs.superblock());
    for (path, data) in &files {
        let name = short_name(path);
        let (a, b) = (mine.lookup(name).unwrap(), theirs.lookup(name).unwrap());
        assert_eq!(a, b, "{name}: same inode number");
        assert_eq!(
            mine.block_addrs(a).unwrap(),
            theirs.block_addrs(b).unwrap(),
            "{name}"
        );
        assert_eq!(&mine.read_file(a).unwrap(), data);
    }
    let differing = (0..2000).filter(|&b| ours[b * BSIZE..][..BSIZE] != img[b * BSIZE..][..BSIZE]);
    let differing: Vec<usize> = differing.collect();
    assert!(
        differing.is_empty(),
        "blocks that differ from MIT's fs.img: {differing:?}"
    );
}

/// Runs every query the reader offers over every inode; the point is that none panics.
fn exercise(fs: &Image) {
    for inum in 0..fs.superblock().ninodes.min(300) + 2 {
        let _ = fs.stat(inum);
        let _ = fs.read_file(inum);
        let _ = fs.list_dir(inum);
        let _ = fs.path_of(inum);
    }
    let _ = fs.tree();
    let _ = fs.inodes().count();
    let _ = fs.pending_log_blocks();
    for p in ["/", "/README", "/a/b/c", "x", "/big"] {
        let _ = fs.lookup(p);
    }
    for b in 0..2100 {
        let _ = fs.block_in_use(b);
    }
}

#[test]
fn corrupt_images_give_errors_not_panics() {
    let good = build(&files(&[
        ("README", b"hi".to_vec()),
        ("big", pattern(40_000, 9)),
    ]))
    .unwrap();

    assert_eq!(
        Image::open(vec![0; 100]).err(),
        Some(FsError::TooShort { len: 100 })
    );
    let mut bad = good.clone();
    bad[BSIZE] = 0;
    assert!(matches!(Image::open(bad), Err(FsError::BadMagic(_))));
    assert!(matches!(
        Image::open(good[..1000 * BSIZE].to_vec()),
        Err(FsError::Truncated { .. })
    ));
    let mut bad = good.clone();
    bad[BSIZE + 24..BSIZE + 28].copy_from_slice(&10u32.to_le_bytes()); // inodestart in the log
    assert!(matches!(Image::open(bad), Err(FsError::BadGeometry(_))));

    // An inode pointing outside the data area: inode 3 ("big") lives in block 32 at 3 * 64.
    let mut bad = good.clone();
    let at = 32 * BSIZE + 3 * 64 + 12;
    bad[at..at + 4].copy_from_slice(&5u32.to_le_bytes());
    let fs = Image::open(bad).unwrap();
    assert!(matches!(
        fs.read_file(3),
        Err(FsError::BadBlock {
            inum: 3,
            addr: 5,
            ..
        })
    ));
    let mut bad = good.clone();
    bad[32 * BSIZE + 3 * 64 + 8..][..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        Image::open(bad).unwrap().read_file(3),
        Err(FsError::BadSize { .. })
    ));
    let mut bad = good.clone();
    bad[2 * BSIZE..2 * BSIZE + 12].copy_from_slice(&[2, 0, 0, 0, 50, 0, 0, 0, 51, 0, 0, 0]);
    assert_eq!(Image::open(bad).unwrap().pending_log_blocks(), vec![50, 51]);
    let mut bad = good.clone();
    bad[2 * BSIZE..2 * BSIZE + 4].copy_from_slice(&i32::MAX.to_le_bytes());
    assert_eq!(
        Image::open(bad).unwrap().pending_log_blocks().len(),
        29,
        "clamped to the log"
    );
    let mut bad = good.clone();
    bad[32 * BSIZE + 2 * 64] = 9;
    assert_eq!(
        Image::open(bad).unwrap().stat(2),
        Err(FsError::BadType { inum: 2, typ: 9 })
    );

    // Random damage to the superblock, the inodes and the root directory.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..400 {
        let mut bad = good.clone();
        for _ in 0..1 + round % 8 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let region = [1usize, 32, 32, 46, 47][(seed % 5) as usize];
            let off = region * BSIZE + (seed >> 8) as usize % 128;
            bad[off] = (seed >> 32) as u8;
        }
        if let Ok(fs) = Image::open(bad) {
            exercise(&fs);
        }
    }
}

#[test]
fn directory_cycles_do_not_hang_path_of() {
    // Make the root list itself under another name; path_of must still finish.
    let mut img = build(&files(&[("a", vec![1])])).unwrap();
    let mut d = [0u8; 16];
    abi::fs::Dirent::new(1, b"loop").encode(&mut d);
    img[46 * BSIZE + 48..46 * BSIZE + 64].copy_from_slice(&d);
    let fs = Image::open(img).unwrap();
    assert_eq!(fs.lookup("/loop/loop/a").unwrap(), 2);
    assert_eq!(fs.path_of(2).unwrap(), "/a");
    assert_eq!(fs.path_of(3), Err(FsError::FreeInode(3)));
    let paths: Vec<String> = fs.tree().into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(paths, ["/", "/a", "/loop"], "the root is listed once");
}

/// The Rust user programs, when built, fit on a default image once stripped, and each reads
/// back as a loadable ELF (what tui's build script does to make the bundled fs.img).
#[test]
fn built_user_programs_fit_when_stripped() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/riscv64gc-unknown-none-elf/release"
    );
    let bins = concat!(env!("CARGO_MANIFEST_DIR"), "/../src/bin");
    let Ok(entries) = std::fs::read_dir(bins) else {
        eprintln!("skipped: no user/src/bin");
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    let mut files = Vec::new();
    for name in &names {
        let Ok(elf) = std::fs::read(format!("{dir}/{name}")) else {
            eprintln!("skipped: user programs not built (cd user && cargo build --release)");
            return;
        };
        files.push((name.clone(), strip_elf(&elf)));
    }
    let fs = Image::open(build(&files).unwrap()).unwrap();
    for (name, data) in &files {
        let got = fs.read_file(fs.lookup(name).unwrap()).unwrap();
        assert_eq!(&got, data, "{name}");
        assert_eq!(&got[..4], b"\x7fELF", "{name}");
    }
    assert!(names.iter().any(|n| n == "init") && names.iter().any(|n| n == "sh"));
}

#[test]
fn the_big_layout_holds_a_file_past_the_classic_limit() {
    let big: Vec<u8> = (0..(MAXFILE + 300) * BSIZE)
        .map(|i| (i / BSIZE) as u8)
        .collect();
    let files = vec![
        ("big".to_string(), big.clone()),
        ("small".to_string(), vec![1, 2, 3]),
    ];
    assert!(matches!(build(&files), Err(MkfsError::FileTooLarge { .. })));
    let img = Image::open(build_with(Geometry::big(), &files).unwrap()).unwrap();
    assert_eq!(img.superblock().magic, abi::fs::FSMAGIC_BIG);
    assert_eq!(img.layout(), abi::fs::Layout::Big);
    assert_eq!(img.read_file(img.lookup("big").unwrap()).unwrap(), big);
    assert_eq!(
        img.read_file(img.lookup("small").unwrap()).unwrap(),
        [1, 2, 3]
    );
    // Block 11 sits in the indirect block, in the big layout: addrs[11] is that block.
    let din = img.inode(img.lookup("big").unwrap()).unwrap();
    assert_eq!(img.block_addrs(2).unwrap()[11], {
        let ind = img.bytes()[din.addrs[11] as usize * BSIZE..][..4].to_vec();
        u32::from_le_bytes(ind.try_into().unwrap())
    });
    assert!(din.addrs[12] != 0, "the doubly-indirect block is in use");
}
