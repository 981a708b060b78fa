//! Errors in what the host hands the machine: kernel images and disk images.
//!
//! Guest behaviour is never an error here: a guest fault is a trap inside the guest.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("not a valid ELF file: {0}")]
    BadElf(String),
    #[error("ELF is for {0}, not 64-bit RISC-V")]
    WrongArchitecture(String),
    #[error("ELF segment at {addr:#x}..{end:#x} lies outside RAM ({ram_start:#x}..{ram_end:#x})")]
    SegmentOutsideRam {
        addr: u64,
        end: u64,
        ram_start: u64,
        ram_end: u64,
    },
    #[error("ELF has no loadable segments")]
    NoSegments,
    #[error("raw image of {size} bytes does not fit in {ram} bytes of RAM")]
    RawTooLarge { size: u64, ram: u64 },
    #[error("disk image is empty or not a whole number of 512-byte sectors ({0} bytes)")]
    DiskSize(u64),
    #[error("bad machine configuration: {0}")]
    Config(String),
}
