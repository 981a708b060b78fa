//! What the debugger reads from the disk it boots: inode numbers to path names for
//! `monitor fds`, and the programs in the root directory, so user programs' symbols come
//! straight from the disk (MIT's `_sh` and ours alike).
//!
//! The reading itself is `mkfs::Image`, the one xv6 image reader of the workspace: it checks
//! the superblock once and range-checks every inode and block number taken from the image,
//! so a corrupt disk gives fewer names, never a panic or a loop. The disk is the machine's
//! live copy: a name the guest created after boot is found once its blocks are written.

use abi::stat::T_FILE;
use mkfs::Image;
use std::collections::HashMap;

/// Inode number → path, from the image's directory tree. Inodes with several names keep
/// the first found (breadth first from the root).
#[derive(Clone, Debug, Default)]
pub struct InodeNames {
    names: HashMap<u32, String>,
}

impl InodeNames {
    /// An image without an xv6 file system gives an empty map.
    pub fn from_disk(disk: &[u8]) -> InodeNames {
        let mut names = HashMap::new();
        if let Ok(image) = Image::open(disk) {
            for (path, inum, _) in image.tree() {
                names.entry(inum).or_insert(path);
            }
        }
        InodeNames { names }
    }

    /// The path of inode `inum`, if the walk found it.
    pub fn name(&self, inum: u32) -> Option<&str> {
        self.names.get(&inum).map(String::as_str)
    }
}

/// The regular files of the image's root directory that are ELF files: (file name, bytes).
/// This is where xv6 keeps its programs.
pub fn root_elfs(disk: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Ok(image) = Image::open(disk) else {
        return Vec::new();
    };
    let Ok(root) = image.list_dir(abi::fs::ROOTINO) else {
        return Vec::new();
    };
    root.into_iter()
        .filter(|e| e.name != "." && e.name != "..")
        .filter(|e| matches!(image.inode(e.inum), Ok(d) if d.typ == T_FILE))
        .filter_map(|e| {
            let data = image.read_file(e.inum).ok()?;
            data.starts_with(b"\x7fELF").then_some((e.name, data))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mit_image_files_and_programs() {
        let Some(dir) = crate::inspect::testboot::mit_dir() else {
            return;
        };
        let disk = std::fs::read(dir.join("fs.img")).unwrap();
        let names = InodeNames::from_disk(&disk);
        let image = Image::open(disk.as_slice()).expect("xv6 file system");
        let readme = image.lookup("/README").expect("README");
        assert_eq!(names.name(readme), Some("/README"));
        let elfs = root_elfs(&disk);
        let progs: Vec<&str> = elfs.iter().map(|e| e.0.as_str()).collect();
        assert!(
            progs.contains(&"sh") && progs.contains(&"usertests"),
            "{progs:?}"
        );
        assert!(!progs.contains(&"README"));
        let big = elfs.iter().find(|e| e.0 == "usertests").unwrap();
        assert_eq!(
            big.1,
            std::fs::read(dir.join("user/_usertests")).unwrap(),
            "a file past the direct blocks"
        );
        assert!(root_elfs(b"short").is_empty());
        assert!(root_elfs(&[0u8; 4096]).is_empty());
    }
}
