//! Read-only access to an xv6 file system image (the disk as the machine holds it): inode
//! numbers to path names for `monitor fds`, and the files themselves, so the debugger can
//! load user programs' symbols straight from the disk it boots (MIT's `_sh` and ours alike).
//!
//! Layout facts (abi::fs, as xv6's mkfs writes them): block 1 is the superblock; inode `i`
//! sits in block `inodestart + i / IPB`; an inode has NDIRECT direct block numbers and one
//! indirect block of NINDIRECT more; a directory is an array of 16-byte `Dirent`s.
//!
//! Invariant: a corrupt image cannot make a read loop or panic: block numbers outside the
//! image read as absent, sizes are capped at MAXFILE blocks, each directory is visited once.

use abi::fs::{
    BSIZE, DInode, Dirent, FSMAGIC, IPB, MAXFILE, NDIRECT, NINDIRECT, ROOTINO, SuperBlock,
};
use std::collections::{HashMap, HashSet};

/// An xv6 file system in a disk image.
pub struct FsImage<'a> {
    disk: &'a [u8],
    sb: SuperBlock,
}

impl<'a> FsImage<'a> {
    /// None when the image has no xv6 superblock.
    pub fn new(disk: &'a [u8]) -> Option<FsImage<'a>> {
        let sb = SuperBlock::decode(disk.get(BSIZE..2 * BSIZE)?);
        (sb.magic == FSMAGIC).then_some(FsImage { disk, sb })
    }

    fn block(&self, b: u32) -> Option<&'a [u8]> {
        self.disk.get(b as usize * BSIZE..(b as usize + 1) * BSIZE)
    }

    /// The on-disk inode `inum`.
    pub fn dinode(&self, inum: u32) -> Option<DInode> {
        if inum >= self.sb.ninodes {
            return None;
        }
        let b = self.block(abi::fs::iblock(inum, &self.sb))?;
        let size = BSIZE / IPB;
        let off = (inum as usize % IPB) * size;
        Some(DInode::decode(b.get(off..off + size)?))
    }

    /// The contents of inode `inum` (`size` bytes; holes read as zeros).
    pub fn read(&self, inum: u32) -> Option<Vec<u8>> {
        let d = self.dinode(inum)?;
        let size = (d.size as usize).min(MAXFILE * BSIZE);
        let indirect: Vec<u32> = match d.addrs[NDIRECT] {
            0 => Vec::new(),
            b => self
                .block(b)?
                .chunks_exact(4)
                .take(NINDIRECT)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        };
        let mut out = Vec::with_capacity(size);
        for bn in d.addrs[..NDIRECT].iter().chain(indirect.iter()) {
            if out.len() >= size {
                break;
            }
            let n = (size - out.len()).min(BSIZE);
            match (*bn, self.block(*bn)) {
                (0, _) | (_, None) => out.extend(std::iter::repeat_n(0, n)),
                (_, Some(data)) => out.extend_from_slice(&data[..n]),
            }
        }
        Some(out)
    }

    /// Every (path, inode number, type) reachable from the root, directories first-found.
    pub fn walk(&self) -> Vec<(String, u32, i16)> {
        let mut out = vec![("/".to_string(), ROOTINO, abi::T_DIR)];
        let mut todo = vec![(ROOTINO, String::new())];
        let mut seen = HashSet::new();
        while let Some((dir, path)) = todo.pop() {
            if !seen.insert(dir) || seen.len() > 100_000 {
                continue;
            }
            let Some(data) = self.read(dir) else { continue };
            for ent in data.chunks_exact(core::mem::size_of::<Dirent>()) {
                let de = Dirent::decode(ent);
                let name = String::from_utf8_lossy(de.name_bytes()).into_owned();
                if de.inum == 0 || name == "." || name == ".." {
                    continue;
                }
                let inum = de.inum as u32;
                let typ = self.dinode(inum).map(|d| d.typ).unwrap_or(0);
                let full = format!("{path}/{name}");
                if typ == abi::T_DIR {
                    todo.push((inum, full.clone()));
                }
                out.push((full, inum, typ));
            }
        }
        out
    }
}

/// Inode number → path, from the image's directory tree. Inodes with several names keep
/// the first found.
#[derive(Clone, Debug, Default)]
pub struct InodeNames {
    names: HashMap<u32, String>,
}

impl InodeNames {
    /// An image without an xv6 file system gives an empty map.
    pub fn from_disk(disk: &[u8]) -> InodeNames {
        let mut names = HashMap::new();
        if let Some(fs) = FsImage::new(disk) {
            for (path, inum, _) in fs.walk() {
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
    let Some(fs) = FsImage::new(disk) else {
        return Vec::new();
    };
    fs.walk()
        .into_iter()
        .filter(|(path, _, typ)| *typ == abi::T_FILE && path.matches('/').count() == 1)
        .filter_map(|(path, inum, _)| {
            let data = fs.read(inum)?;
            data.starts_with(b"\x7fELF")
                .then(|| (path.trim_start_matches('/').to_string(), data))
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
        let fs = FsImage::new(&disk).expect("xv6 file system");
        let all = fs.walk();
        let readme = all.iter().find(|e| e.0 == "/README").expect("README");
        let text = fs.read(readme.1).unwrap();
        let on_host = std::fs::read(dir.join("README")).unwrap();
        assert_eq!(text, on_host, "README read back from the image");
        let elfs = root_elfs(&disk);
        let names: Vec<&str> = elfs.iter().map(|e| e.0.as_str()).collect();
        assert!(
            names.contains(&"sh") && names.contains(&"usertests"),
            "{names:?}"
        );
        assert!(!names.contains(&"README"));
        let big = elfs.iter().find(|e| e.0 == "usertests").unwrap();
        assert_eq!(
            big.1,
            std::fs::read(dir.join("user/_usertests")).unwrap(),
            "a file past the direct blocks"
        );
        assert!(FsImage::new(b"short").is_none());
        assert!(FsImage::new(&[0u8; 4096]).is_none());
    }
}
