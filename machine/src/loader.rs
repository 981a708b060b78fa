//! Loading guest images into RAM: ELF kernels (by their physical segment addresses) and raw
//! binaries (at the start of RAM), plus the HTIF `tohost` symbol of bare-metal test programs.

use crate::board::RAM_BASE;
use crate::error::Error;
use crate::ram::Ram;
use object::{Object, ObjectSymbol};

/// What a loaded image tells the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// Where every hart starts (in M-mode).
    pub entry: u64,
    /// Physical address of the HTIF `tohost` word, if the ELF defines one.
    pub tohost: Option<u64>,
}

/// True when `bytes` starts with the ELF magic.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// Loads a 64-bit RISC-V ELF's `PT_LOAD` segments at their physical addresses (`p_paddr`,
/// which xv6 kernels set equal to `p_vaddr`).
pub fn load_elf(ram: &mut Ram, bytes: &[u8]) -> Result<Loaded, Error> {
    use object::elf::{EM_RISCV, PT_LOAD};
    use object::read::elf::{ElfFile64, FileHeader, ProgramHeader};
    let bad = |e: object::Error| Error::BadElf(e.to_string());
    let elf = ElfFile64::<object::Endianness>::parse(bytes).map_err(bad)?;
    let endian = elf.endian();
    let machine = elf.elf_header().e_machine(endian);
    if machine != EM_RISCV {
        return Err(Error::WrongArchitecture(format!("ELF machine {machine}")));
    }
    let mut loaded_any = false;
    for ph in elf.elf_program_headers() {
        if ph.p_type(endian) != PT_LOAD || ph.p_memsz(endian) == 0 {
            continue;
        }
        let data = ph
            .data(endian, bytes)
            .map_err(|()| Error::BadElf("segment data out of file".into()))?;
        let (addr, memsz) = (ph.p_paddr(endian), ph.p_memsz(endian));
        let end = addr
            .checked_add(memsz)
            .ok_or(Error::BadElf("segment wraps around".into()))?;
        if (data.len() as u64) > memsz || ram.offset(addr, memsz).is_none() {
            return Err(Error::SegmentOutsideRam {
                addr,
                end,
                ram_start: RAM_BASE,
                ram_end: ram.end(),
            });
        }
        ram.write_phys(addr, data).expect("range checked above");
        // The rest of the segment (.bss) is zero; RAM starts zeroed but a reload must clear it.
        let zeros = vec![0u8; (memsz - data.len() as u64) as usize];
        ram.write_phys(addr + data.len() as u64, &zeros)
            .expect("range checked above");
        loaded_any = true;
    }
    if !loaded_any {
        return Err(Error::NoSegments);
    }
    let tohost = elf
        .symbols()
        .find(|s| s.name() == Ok("tohost"))
        .map(|s| s.address());
    Ok(Loaded {
        entry: elf.elf_header().e_entry(endian),
        tohost,
    })
}

/// Loads a raw binary at the start of RAM; execution starts at its first byte.
pub fn load_raw(ram: &mut Ram, bytes: &[u8]) -> Result<Loaded, Error> {
    ram.write_phys(RAM_BASE, bytes).ok_or(Error::RawTooLarge {
        size: bytes.len() as u64,
        ram: ram.size(),
    })?;
    Ok(Loaded {
        entry: RAM_BASE,
        tohost: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_clear_error() {
        let mut ram = Ram::new(1 << 20);
        let err = load_elf(&mut ram, b"\x7fELF this is not really an elf").unwrap_err();
        assert!(matches!(err, Error::BadElf(_)), "{err}");
        assert!(!is_elf(b"MZ\x90\x00"));
    }

    #[test]
    fn raw_binaries_load_at_ram_base() {
        let mut ram = Ram::new(1 << 20);
        let l = load_raw(&mut ram, &[0x13, 0, 0, 0]).unwrap();
        assert_eq!(l.entry, RAM_BASE);
        assert_eq!(ram.load(0, 4), 0x13);
        let big = vec![0u8; 2 << 20];
        assert!(matches!(
            load_raw(&mut ram, &big),
            Err(Error::RawTooLarge { .. })
        ));
    }
}
