//! A tiny RISC-V assembler and ELF writer for the guest programs xv6scope generates itself:
//! the benchmark loops, which must run unchanged on xv6scope's machine and on QEMU.
//!
//! Only the handful of instructions those programs use are here, in assembly operand order
//! (`ld rd, off(rs1)`, branch targets as program offsets); the encodings are the machine's
//! (`machine::cpu::encode`, the inverse of its decoder), and so are the register and CSR
//! numbers the programs name.

use machine::cpu::encode as enc;

/// Machine code being assembled, as 32-bit words at increasing addresses.
#[derive(Default)]
pub struct Asm {
    pub words: Vec<u32>,
}

impl Asm {
    /// Byte offset of the next instruction.
    pub fn here(&self) -> i32 {
        (self.words.len() * 4) as i32
    }

    fn emit(&mut self, w: u32) -> &mut Self {
        self.words.push(w);
        self
    }

    pub fn add(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(enc::add(rd, rs1, rs2))
    }
    pub fn sub(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(enc::sub(rd, rs1, rs2))
    }
    pub fn xor(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(enc::xor(rd, rs1, rs2))
    }
    pub fn and(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(enc::and(rd, rs1, rs2))
    }
    pub fn addi(&mut self, rd: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(enc::addi(rd, rs1, imm))
    }
    pub fn addiw(&mut self, rd: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(enc::addiw(rd, rs1, imm))
    }
    pub fn slli(&mut self, rd: u32, rs1: u32, sh: u32) -> &mut Self {
        self.emit(enc::slli(rd, rs1, sh))
    }
    pub fn srli(&mut self, rd: u32, rs1: u32, sh: u32) -> &mut Self {
        self.emit(enc::srli(rd, rs1, sh))
    }
    pub fn lui(&mut self, rd: u32, imm20: u32) -> &mut Self {
        self.emit(enc::lui(rd, imm20))
    }
    pub fn auipc(&mut self, rd: u32, imm20: u32) -> &mut Self {
        self.emit(enc::auipc(rd, imm20))
    }
    pub fn ld(&mut self, rd: u32, off: i32, rs1: u32) -> &mut Self {
        self.emit(enc::ld(rd, rs1, off))
    }
    pub fn lbu(&mut self, rd: u32, off: i32, rs1: u32) -> &mut Self {
        self.emit(enc::lbu(rd, rs1, off))
    }
    pub fn sd(&mut self, rs2: u32, off: i32, rs1: u32) -> &mut Self {
        self.emit(enc::sd(rs2, rs1, off))
    }
    pub fn sw(&mut self, rs2: u32, off: i32, rs1: u32) -> &mut Self {
        self.emit(enc::sw(rs2, rs1, off))
    }
    pub fn sb(&mut self, rs2: u32, off: i32, rs1: u32) -> &mut Self {
        self.emit(enc::sb(rs2, rs1, off))
    }
    /// `bne rs1, rs2, target` with `target` a byte offset from the start of the program.
    pub fn bne(&mut self, rs1: u32, rs2: u32, target: i32) -> &mut Self {
        self.emit(enc::bne(rs1, rs2, target - self.here()))
    }
    /// `jal x0, target` (`j target`).
    pub fn j(&mut self, target: i32) -> &mut Self {
        self.emit(enc::jal(enc::ZERO, target - self.here()))
    }
    pub fn csrw(&mut self, csr: u16, rs1: u32) -> &mut Self {
        self.emit(enc::csrw(csr, rs1))
    }
    pub fn mret(&mut self) -> &mut Self {
        self.emit(enc::MRET)
    }
    pub fn sfence_vma(&mut self) -> &mut Self {
        self.emit(enc::SFENCE_VMA)
    }

    /// Loads any 64-bit constant (the usual lui/addiw, shift and add expansion).
    pub fn li(&mut self, rd: u32, v: i64) -> &mut Self {
        if v == v as i32 as i64 {
            let hi = ((v + 0x800) >> 12) as u32;
            let lo = (v - ((v + 0x800) >> 12 << 12)) as i32;
            if hi & 0xfffff != 0 {
                self.lui(rd, hi);
                if lo != 0 {
                    self.addiw(rd, rd, lo);
                }
            } else {
                self.addi(rd, enc::ZERO, lo);
            }
        } else {
            let lo = ((v << 52) >> 52) as i32;
            self.li(rd, (v - lo as i64) >> 12);
            self.slli(rd, rd, 12);
            if lo != 0 {
                self.addi(rd, rd, lo);
            }
        }
        self
    }

    /// The program as little-endian bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

/// Wraps `code` in a minimal ELF64 RISC-V executable: one PT_LOAD segment at `addr`, which is
/// also the entry point.
pub fn elf(code: &[u8], addr: u64) -> Vec<u8> {
    const EHSIZE: u64 = 64;
    const PHSIZE: u64 = 56;
    let off = 0x1000u64; // segment file offset, page aligned
    let mut f = Vec::with_capacity(off as usize + code.len());
    f.extend_from_slice(b"\x7fELF");
    f.extend_from_slice(&[2, 1, 1, 0]); // 64-bit, little-endian, version 1, System V
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes()); // e_entry
    f.extend_from_slice(&EHSIZE.to_le_bytes()); // e_phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    f.extend_from_slice(&0x5u32.to_le_bytes()); // e_flags: RVC | double-float ABI
    f.extend_from_slice(&(EHSIZE as u16).to_le_bytes());
    f.extend_from_slice(&(PHSIZE as u16).to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    f.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    f.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    f.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
    f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f.extend_from_slice(&7u32.to_le_bytes()); // RWX
    f.extend_from_slice(&off.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes()); // p_vaddr
    f.extend_from_slice(&addr.to_le_bytes()); // p_paddr
    f.extend_from_slice(&(code.len() as u64).to_le_bytes());
    f.extend_from_slice(&(code.len() as u64).to_le_bytes());
    f.extend_from_slice(&0x1000u64.to_le_bytes());
    f.resize(off as usize, 0);
    f.extend_from_slice(code);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use machine::cpu::csr::addr as csr;
    use machine::cpu::encode as reg;

    #[test]
    fn encodings_match_the_gnu_assembler() {
        let mut a = Asm::default();
        a.add(reg::A1, reg::A1, reg::A2) // add a1,a1,a2
            .addi(reg::A0, reg::A0, -1) // addi a0,a0,-1
            .sd(reg::T1, 16, reg::T0) // sd t1,16(t0)
            .lbu(reg::T2, 3, reg::T0) // lbu t2,3(t0)
            .csrw(csr::SATP, reg::T1) // csrw satp,t1
            .lui(reg::T0, 0x100); // lui t0,0x100
        assert_eq!(
            a.words,
            [
                0x00c585b3, 0xfff50513, 0x0062b823, 0x0032c383, 0x18031073, 0x001002b7
            ]
        );
        let mut b = Asm::default();
        b.addi(reg::A0, reg::A0, -1).bne(reg::A0, reg::ZERO, 0); // bne a0,zero,-4
        assert_eq!(b.words[1], 0xfe051ee3);
        let mut c = Asm::default();
        c.j(0); // j . (jal zero,0)
        assert_eq!(c.words[0], 0x0000006f);
    }

    /// `li` must produce the exact value for awkward constants; checked by evaluating the
    /// emitted lui/addi(w)/slli sequence.
    #[test]
    fn li_builds_exact_constants() {
        for v in [
            0i64,
            1,
            -1,
            0x7ff,
            0x800,
            0x8000_0000,
            0x8010_0000,
            0x3f_ffff_ffff_ffff,
            8 << 60 | 0x80100,
            -0x8000_0000,
            0x7fff_ffff,
        ] {
            let mut a = Asm::default();
            a.li(reg::T0, v);
            let mut x: i64 = 0;
            for w in &a.words {
                let imm_i = (*w as i32) >> 20;
                match w & 0x7f {
                    0x37 => x = ((w & 0xffff_f000) as i32) as i64,
                    0x13 if (w >> 12) & 7 == 0 => {
                        x = if (w >> 15) & 31 == 0 {
                            imm_i as i64
                        } else {
                            x.wrapping_add(imm_i as i64)
                        }
                    }
                    0x13 => x <<= (w >> 20) & 0x3f,
                    0x1b => x = (x.wrapping_add(imm_i as i64) as i32) as i64,
                    _ => panic!("unexpected instruction {w:#x}"),
                }
            }
            assert_eq!(x, v, "li {v:#x} gave {x:#x} via {:x?}", a.words);
        }
    }
}
