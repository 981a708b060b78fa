//! Lab options at boot: `--lab cow,lazy` sets the kernel's option word before it runs.
//!
//! The bundled kernel reads a `u32` named `LAB_OPTIONS` (see `abi::lab`) at boot; each bit
//! turns on one lab's feature. [`set_options`] writes the word into the ELF image itself, in
//! the file bytes of the section that holds the symbol, so the machine loads it with the
//! rest of `.data` and every reboot or replay of the session boots with the same options.
//! A kernel without the symbol (MIT's C kernel, an older build) has no options to set: that
//! is an error, as is a name that is not an option.
//!
//! The `bigfile` option changes the on-disk format; [`bigfile_image`] makes a disk of its
//! layout from the bundled one.

use abi::lab;
use object::{Object, ObjectSection, ObjectSymbol};

/// Why the options could not be set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LabError {
    #[error("unknown lab option `{name}` (known: {known}, or all)")]
    Unknown { name: String, known: String },
    #[error(
        "this kernel has no `{}` symbol, so it takes no --lab options (the bundled kernel does)",
        lab::SYMBOL
    )]
    NoSymbol,
    #[error(
        "the kernel's `{}` is not a 4-byte word with contents in the ELF file",
        lab::SYMBOL
    )]
    NotInFile,
    #[error("--lab needs an ELF kernel: {0}")]
    Elf(String),
    #[error("cannot make the bigfile option's disk: {0}")]
    Image(String),
}

/// The option word for `list` (`"cow,lazy"`, `"all"`).
pub fn parse(list: &str) -> Result<u32, LabError> {
    lab::parse_list(list).map_err(|name| LabError::Unknown {
        name: name.to_string(),
        known: lab::OPTIONS
            .iter()
            .map(|o| o.name)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Where the option word lives in the ELF file `elf`: a byte offset.
pub fn word_offset(elf: &[u8]) -> Result<usize, LabError> {
    let file = object::File::parse(elf).map_err(|e| LabError::Elf(e.to_string()))?;
    let sym = file
        .symbols()
        .find(|s| s.name() == Ok(lab::SYMBOL))
        .ok_or(LabError::NoSymbol)?;
    if sym.size() != 0 && sym.size() != 4 {
        return Err(LabError::NotInFile);
    }
    let section = sym
        .section_index()
        .and_then(|i| file.section_by_index(i).ok())
        .ok_or(LabError::NotInFile)?;
    let (start, size) = section.file_range().ok_or(LabError::NotInFile)?;
    let into = sym.address().wrapping_sub(section.address());
    if into.checked_add(4).is_none_or(|end| end > size) {
        return Err(LabError::NotInFile);
    }
    usize::try_from(start + into).map_err(|_| LabError::NotInFile)
}

/// Sets the kernel's option word to `word` in the ELF image `elf` (little-endian, as RV64).
pub fn set_word(elf: &mut [u8], word: u32) -> Result<(), LabError> {
    let off = word_offset(elf)?;
    elf[off..off + 4].copy_from_slice(&word.to_le_bytes());
    Ok(())
}

/// `--lab LIST`: parses the list and writes its word into the kernel image.
pub fn set_options(elf: &mut [u8], list: &str) -> Result<u32, LabError> {
    let word = parse(list)?;
    set_word(elf, word)?;
    Ok(word)
}

/// The disk the `bigfile` option needs (`abi::fs::Layout::Big`), holding the files of the
/// root directory of the xv6 image `classic` (the bundled fs.img, a flat directory), in its
/// order. The kernel refuses to mount an image of the other layout.
pub fn bigfile_image(classic: &[u8]) -> Result<Vec<u8>, LabError> {
    let err = |e: &dyn std::fmt::Display| LabError::Image(e.to_string());
    let img = mkfs::Image::open(classic).map_err(|e| err(&e))?;
    let mut files = Vec::new();
    for e in img.list_dir(abi::fs::ROOTINO).map_err(|e| err(&e))? {
        if e.name == "." || e.name == ".." {
            continue;
        }
        if img.inode(e.inum).map_err(|e| err(&e))?.typ != abi::T_FILE {
            return Err(LabError::Image(format!("{} is not a plain file", e.name)));
        }
        files.push((e.name, img.read_file(e.inum).map_err(|e| err(&e))?));
    }
    mkfs::build_with(mkfs::Geometry::big(), &files).map_err(|e| err(&e))
}

/// The option word an ELF image carries (0 for a kernel without the symbol).
pub fn options_of(elf: &[u8]) -> u32 {
    word_offset(elf)
        .ok()
        .and_then(|off| elf.get(off..off + 4))
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The names of the options set in `word`, in bit order.
pub fn names(word: u32) -> Vec<&'static str> {
    lab::OPTIONS
        .iter()
        .filter(|o| word & o.bit != 0)
        .map(|o| o.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_refused_with_the_list() {
        let e = parse("cow,cwo").unwrap_err();
        assert!(matches!(&e, LabError::Unknown { name, .. } if name == "cwo"));
        assert!(e.to_string().contains("cow, lazy"), "{e}");
        assert_eq!(parse("cow, lazy"), Ok(lab::COW | lab::LAZY));
    }

    #[test]
    fn a_file_that_is_not_elf_is_refused() {
        assert!(matches!(
            set_options(&mut [0u8; 64], "cow"),
            Err(LabError::Elf(_))
        ));
    }

    #[test]
    fn the_bigfile_disk_holds_the_same_files_in_the_big_layout() {
        let files = vec![
            ("README".to_string(), b"hello".to_vec()),
            (
                "prog".to_string(),
                (0..40_000u32).map(|i| i as u8).collect(),
            ),
        ];
        let classic = mkfs::build(&files).unwrap();
        let big = mkfs::Image::open(bigfile_image(&classic).unwrap()).unwrap();
        assert_eq!(big.layout(), abi::fs::Layout::Big);
        for (name, data) in &files {
            let inum = big.lookup(name).unwrap();
            assert_eq!(&big.read_file(inum).unwrap(), data, "{name}");
        }
        assert!(matches!(bigfile_image(&[0; 4096]), Err(LabError::Image(_))));
    }

    #[test]
    fn names_follow_bits() {
        assert_eq!(names(lab::COW | lab::ALARM), ["cow", "alarm"]);
        assert!(names(0).is_empty());
    }
}
