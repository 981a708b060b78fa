//! Trimming ELF files for the disk image.
//!
//! The user programs are built with full debug information, which the debugger reads from the
//! build directory; on the xv6 disk that information is dead weight (a few hundred KiB per
//! program, past xv6's 268 KiB file limit). xv6's exec reads only the ELF header, the program
//! headers and the bytes of each `PT_LOAD` segment, so [`strip_elf`] keeps exactly the prefix
//! of the file that covers those and drops the section headers (and with them every
//! non-loaded section: symbols, DWARF, comments).

/// ELF64 little-endian header fields used here (offsets from the ELF specification).
const E_PHOFF: usize = 0x20;
const E_SHOFF: usize = 0x28;
const E_PHENTSIZE: usize = 0x36;
const E_PHNUM: usize = 0x38;
const E_SHENTSIZE: usize = 0x3a;
const E_SHNUM: usize = 0x3c;
const E_SHSTRNDX: usize = 0x3e;
const PT_LOAD: u32 = 1;

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// `elf` cut down to what xv6's exec loads. Anything that is not a well-formed 64-bit
/// little-endian ELF (or whose program headers point outside the file) is returned unchanged.
pub fn strip_elf(elf: &[u8]) -> Vec<u8> {
    stripped_len(elf)
        .map(|len| {
            let mut out = elf[..len].to_vec();
            for field in [E_SHOFF, E_SHOFF + 4] {
                out[field..field + 4].fill(0);
            }
            for field in [E_SHENTSIZE, E_SHNUM, E_SHSTRNDX] {
                out[field..field + 2].fill(0);
            }
            out
        })
        .unwrap_or_else(|| elf.to_vec())
}

/// Length of the prefix holding the headers and every loaded segment's file bytes.
fn stripped_len(elf: &[u8]) -> Option<usize> {
    // Magic, ELFCLASS64, ELFDATA2LSB.
    if elf.len() < 64 || elf[..4] != *b"\x7fELF" || elf[4] != 2 || elf[5] != 1 {
        return None;
    }
    let phoff = usize::try_from(u64_at(elf, E_PHOFF)?).ok()?;
    let (phentsize, phnum) = (u16_at(elf, E_PHENTSIZE)?, u16_at(elf, E_PHNUM)?);
    if phentsize < 56 {
        return None;
    }
    let mut end = phoff.checked_add(phentsize.checked_mul(phnum)?)?.max(64);
    for i in 0..phnum {
        let ph = elf.get(phoff + i * phentsize..phoff + (i + 1) * phentsize)?;
        if u32::from_le_bytes(ph[0..4].try_into().ok()?) != PT_LOAD {
            continue;
        }
        let (off, filesz) = (u64_at(ph, 8)?, u64_at(ph, 32)?);
        end = end.max(usize::try_from(off.checked_add(filesz)?).ok()?);
    }
    (end <= elf.len()).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_elf_and_truncated_input_is_returned_unchanged() {
        assert_eq!(strip_elf(b"hello"), b"hello");
        let mut fake = vec![0u8; 64];
        fake[..6].copy_from_slice(b"\x7fELF\x02\x01");
        fake[E_PHOFF] = 200; // program headers beyond the end
        fake[E_PHENTSIZE] = 56;
        fake[E_PHNUM] = 1;
        assert_eq!(strip_elf(&fake), fake);
    }

    #[test]
    fn mit_binary_keeps_its_segments_and_loses_its_sections() {
        let Ok(elf) = std::fs::read("/work/ext/xv6-riscv/user/_ls") else {
            eprintln!("skipped: no MIT xv6-riscv build");
            return;
        };
        let out = strip_elf(&elf);
        assert!(out.len() < elf.len(), "symbols and debug info dropped");
        assert_eq!(
            out[..E_SHOFF],
            elf[..E_SHOFF],
            "ELF and program headers unchanged"
        );
        assert_eq!(u64_at(&out, E_SHOFF), Some(0));
        let phoff = u64_at(&elf, E_PHOFF).unwrap() as usize;
        for i in 0..u16_at(&elf, E_PHNUM).unwrap() {
            let ph = &elf[phoff + i * 56..][..56];
            let (off, sz) = (
                u64_at(ph, 8).unwrap() as usize,
                u64_at(ph, 32).unwrap() as usize,
            );
            if u32::from_le_bytes(ph[..4].try_into().unwrap()) == PT_LOAD {
                assert_eq!(out[off..off + sz], elf[off..off + sz]);
            }
        }
    }
}
