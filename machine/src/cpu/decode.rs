//! Instruction decoding: `decode(u32) -> Inst`, pure, for RV64IMAC + Zicsr + Zifencei and the
//! privileged instructions; `impl Display for Inst` is the disassembler.
//!
//! Every compressed (RVC) instruction expands to the base instruction it stands for (the
//! unprivileged spec's table "RVC instructions and their RVI equivalents"), so the executor
//! knows only one form of each operation; `len` remembers the encoding's size (2 or 4) for
//! the fall-through pc and the disassembler. Encodings this hart does not implement (F, D,
//! reserved RVC forms, unknown SYSTEM words) decode to `Op::Illegal` with the raw bits in
//! `imm`, which the executor reports as `mtval` as QEMU does.
//!
//! Field conventions of [`Inst`]: register numbers are 0..31 in `rd`/`rs1`/`rs2`; `imm` is the
//! sign-extended immediate (for LUI/AUIPC already shifted, i.e. the value added); CSR
//! instructions keep the CSR number in `imm` and the source register or 5-bit immediate in
//! `rs1`; AMOs keep `aq << 1 | rl` in `imm`; FENCE keeps instruction bits 31..20 in `imm`.

use super::encode;
use std::fmt;

/// An operation. `Undecoded` (= 0) never comes out of [`decode`]: it marks an empty slot of
/// the decode cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
#[repr(u8)]
pub enum Op {
    #[default]
    Undecoded = 0,
    Illegal,
    /// An instruction without architectural effect (a base-ISA ALU op with `rd` = x0, hints).
    Nop,
    Lui,
    Auipc,
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Ld,
    Lbu,
    Lhu,
    Lwu,
    Sb,
    Sh,
    Sw,
    Sd,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Addiw,
    Slliw,
    Srliw,
    Sraiw,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Sraw,
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Mulw,
    Divw,
    Divuw,
    Remw,
    Remuw,
    // LR/SC and the AMOs stay one run, `LrW` to `AmomaxuD` (jit.rs tests a range).
    LrW,
    ScW,
    AmoswapW,
    AmoaddW,
    AmoxorW,
    AmoandW,
    AmoorW,
    AmominW,
    AmomaxW,
    AmominuW,
    AmomaxuW,
    LrD,
    ScD,
    AmoswapD,
    AmoaddD,
    AmoxorD,
    AmoandD,
    AmoorD,
    AmominD,
    AmomaxD,
    AmominuD,
    AmomaxuD,
    Fence,
    FenceI,
    Ecall,
    Ebreak,
    Mret,
    Sret,
    Wfi,
    SfenceVma,
    Csrrw,
    Csrrs,
    Csrrc,
    Csrrwi,
    Csrrsi,
    Csrrci,
}

/// A decoded instruction (see the module essay for the meaning of each field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Inst {
    pub op: Op,
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub imm: i32,
    /// Encoding size in bytes: 2 (compressed) or 4.
    pub len: u8,
}

impl Inst {
    const fn new(op: Op, rd: u32, rs1: u32, rs2: u32, imm: i32, len: u8) -> Inst {
        Inst {
            op,
            rd: rd as u8,
            rs1: rs1 as u8,
            rs2: rs2 as u8,
            imm,
            len,
        }
    }

    fn illegal(bits: u32, len: u8) -> Inst {
        Inst::new(Op::Illegal, 0, 0, 0, bits as i32, len)
    }

    /// The form the executor keeps in its decode cache: ALU operations that write x0 have no
    /// effect at all (they are the spec's HINT space), so they become `Nop`, and the executor
    /// may then write `rd` unconditionally for every remaining ALU op.
    pub fn lowered(self) -> Inst {
        use Op::*;
        let pure = matches!(
            self.op,
            Lui | Auipc
                | Addi
                | Slti
                | Sltiu
                | Xori
                | Ori
                | Andi
                | Slli
                | Srli
                | Srai
                | Add
                | Sub
                | Sll
                | Slt
                | Sltu
                | Xor
                | Srl
                | Sra
                | Or
                | And
                | Addiw
                | Slliw
                | Srliw
                | Sraiw
                | Addw
                | Subw
                | Sllw
                | Srlw
                | Sraw
                | Mul
                | Mulh
                | Mulhsu
                | Mulhu
                | Div
                | Divu
                | Rem
                | Remu
                | Mulw
                | Divw
                | Divuw
                | Remw
                | Remuw
                | Fence
        );
        if pure && (self.rd == 0 || self.op == Fence) {
            Inst { op: Nop, ..self }
        } else {
            self
        }
    }

    /// Target of a branch or `jal` at `pc`.
    pub fn target(&self, pc: u64) -> Option<u64> {
        use Op::*;
        match self.op {
            Jal | Beq | Bne | Blt | Bge | Bltu | Bgeu => {
                Some(pc.wrapping_add(self.imm as i64 as u64))
            }
            _ => None,
        }
    }

    /// Disassembly as objdump prints it for an instruction at `pc` (absolute branch targets).
    pub fn disasm(&self, pc: u64) -> String {
        let mut s = String::new();
        let _ = fmt_inst(self, Some(pc), &mut s);
        s
    }
}

#[inline(always)]
fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// Sign-extends the low `n` bits of `x`.
#[inline(always)]
fn sext(x: u32, n: u32) -> i32 {
    ((x << (32 - n)) as i32) >> (32 - n)
}

/// Decodes one instruction. The low 16 bits alone decide a compressed instruction (the upper
/// half of `raw` is then ignored); otherwise all 32 bits are one instruction.
pub fn decode(raw: u32) -> Inst {
    if raw & 3 != 3 {
        decode_compressed(raw as u16)
    } else {
        decode_full(raw)
    }
}

fn decode_full(w: u32) -> Inst {
    use Op::*;
    let rd = bits(w, 11, 7);
    let rs1 = bits(w, 19, 15);
    let rs2 = bits(w, 24, 20);
    let f3 = bits(w, 14, 12);
    let f7 = bits(w, 31, 25);
    let i_imm = (w as i32) >> 20;
    let s_imm = sext(bits(w, 31, 25) << 5 | bits(w, 11, 7), 12);
    let b_imm = sext(
        bits(w, 31, 31) << 12 | bits(w, 7, 7) << 11 | bits(w, 30, 25) << 5 | bits(w, 11, 8) << 1,
        13,
    );
    let u_imm = (w & 0xffff_f000) as i32;
    let j_imm = sext(
        bits(w, 31, 31) << 20
            | bits(w, 19, 12) << 12
            | bits(w, 20, 20) << 11
            | bits(w, 30, 21) << 1,
        21,
    );
    let r = |op| Inst::new(op, rd, rs1, rs2, 0, 4);
    let i = |op| Inst::new(op, rd, rs1, 0, i_imm, 4);
    let bad = Inst::illegal(w, 4);
    match w & 0x7f {
        0x37 => Inst::new(Lui, rd, 0, 0, u_imm, 4),
        0x17 => Inst::new(Auipc, rd, 0, 0, u_imm, 4),
        0x6f => Inst::new(Jal, rd, 0, 0, j_imm, 4),
        0x67 if f3 == 0 => i(Jalr),
        0x63 => {
            let op = match f3 {
                0 => Beq,
                1 => Bne,
                4 => Blt,
                5 => Bge,
                6 => Bltu,
                7 => Bgeu,
                _ => return bad,
            };
            Inst::new(op, 0, rs1, rs2, b_imm, 4)
        }
        0x03 => {
            let op = match f3 {
                0 => Lb,
                1 => Lh,
                2 => Lw,
                3 => Ld,
                4 => Lbu,
                5 => Lhu,
                6 => Lwu,
                _ => return bad,
            };
            i(op)
        }
        0x23 => {
            let op = match f3 {
                0 => Sb,
                1 => Sh,
                2 => Sw,
                3 => Sd,
                _ => return bad,
            };
            Inst::new(op, 0, rs1, rs2, s_imm, 4)
        }
        0x13 => {
            let shamt = bits(w, 25, 20) as i32;
            let f6 = bits(w, 31, 26);
            match f3 {
                0 => i(Addi),
                2 => i(Slti),
                3 => i(Sltiu),
                4 => i(Xori),
                6 => i(Ori),
                7 => i(Andi),
                1 if f6 == 0 => Inst::new(Slli, rd, rs1, 0, shamt, 4),
                5 if f6 == 0 => Inst::new(Srli, rd, rs1, 0, shamt, 4),
                5 if f6 == 0x10 => Inst::new(Srai, rd, rs1, 0, shamt, 4),
                _ => bad,
            }
        }
        0x1b => {
            let shamt = rs2 as i32;
            match (f3, f7) {
                (0, _) => i(Addiw),
                (1, 0) => Inst::new(Slliw, rd, rs1, 0, shamt, 4),
                (5, 0) => Inst::new(Srliw, rd, rs1, 0, shamt, 4),
                (5, 0x20) => Inst::new(Sraiw, rd, rs1, 0, shamt, 4),
                _ => bad,
            }
        }
        0x33 => r(match (f7, f3) {
            (0, 0) => Add,
            (0x20, 0) => Sub,
            (0, 1) => Sll,
            (0, 2) => Slt,
            (0, 3) => Sltu,
            (0, 4) => Xor,
            (0, 5) => Srl,
            (0x20, 5) => Sra,
            (0, 6) => Or,
            (0, 7) => And,
            (1, 0) => Mul,
            (1, 1) => Mulh,
            (1, 2) => Mulhsu,
            (1, 3) => Mulhu,
            (1, 4) => Div,
            (1, 5) => Divu,
            (1, 6) => Rem,
            (1, 7) => Remu,
            _ => return bad,
        }),
        0x3b => r(match (f7, f3) {
            (0, 0) => Addw,
            (0x20, 0) => Subw,
            (0, 1) => Sllw,
            (0, 5) => Srlw,
            (0x20, 5) => Sraw,
            (1, 0) => Mulw,
            (1, 4) => Divw,
            (1, 5) => Divuw,
            (1, 6) => Remw,
            (1, 7) => Remuw,
            _ => return bad,
        }),
        0x2f => {
            let f5 = bits(w, 31, 27);
            let aqrl = bits(w, 26, 25) as i32;
            let op = match (f3, f5) {
                (2, 0b00010) if rs2 == 0 => LrW,
                (2, 0b00011) => ScW,
                (2, 0b00001) => AmoswapW,
                (2, 0b00000) => AmoaddW,
                (2, 0b00100) => AmoxorW,
                (2, 0b01100) => AmoandW,
                (2, 0b01000) => AmoorW,
                (2, 0b10000) => AmominW,
                (2, 0b10100) => AmomaxW,
                (2, 0b11000) => AmominuW,
                (2, 0b11100) => AmomaxuW,
                (3, 0b00010) if rs2 == 0 => LrD,
                (3, 0b00011) => ScD,
                (3, 0b00001) => AmoswapD,
                (3, 0b00000) => AmoaddD,
                (3, 0b00100) => AmoxorD,
                (3, 0b01100) => AmoandD,
                (3, 0b01000) => AmoorD,
                (3, 0b10000) => AmominD,
                (3, 0b10100) => AmomaxD,
                (3, 0b11000) => AmominuD,
                (3, 0b11100) => AmomaxuD,
                _ => return bad,
            };
            Inst::new(op, rd, rs1, rs2, aqrl, 4)
        }
        // FENCE ignores its reserved fields (the spec asks implementations to), FENCE.I too.
        0x0f if f3 == 0 => Inst::new(Fence, rd, rs1, 0, (w >> 20) as i32, 4),
        0x0f if f3 == 1 => Inst::new(FenceI, rd, rs1, 0, i_imm, 4),
        0x73 => match f3 {
            0 => match w {
                0x0000_0073 => Inst::new(Ecall, 0, 0, 0, 0, 4),
                0x0010_0073 => Inst::new(Ebreak, 0, 0, 0, 0, 4),
                encode::SRET => Inst::new(Sret, 0, 0, 0, 0, 4),
                encode::MRET => Inst::new(Mret, 0, 0, 0, 0, 4),
                encode::WFI => Inst::new(Wfi, 0, 0, 0, 0, 4),
                _ if f7 == 0b0001001 && rd == 0 => Inst::new(SfenceVma, 0, rs1, rs2, 0, 4),
                _ => bad,
            },
            4 => bad,
            _ => {
                let op = [
                    Illegal, Csrrw, Csrrs, Csrrc, Illegal, Csrrwi, Csrrsi, Csrrci,
                ][f3 as usize];
                Inst::new(op, rd, rs1, 0, bits(w, 31, 20) as i32, 4)
            }
        },
        _ => bad,
    }
}

fn decode_compressed(h: u16) -> Inst {
    use Op::*;
    let w = h as u32;
    let bad = Inst::illegal(w, 2);
    // The 3-bit register fields of the CIW/CL/CS/CA/CB formats name x8..x15.
    let rd_p = bits(w, 4, 2) + 8;
    let rs1_p = bits(w, 9, 7) + 8;
    let rd = bits(w, 11, 7);
    let rs2 = bits(w, 6, 2);
    let ci_imm = sext(bits(w, 12, 12) << 5 | bits(w, 6, 2), 6);
    let c = |op, rd, rs1, rs2, imm| Inst::new(op, rd, rs1, rs2, imm, 2);
    // Offsets of C.LW/C.SW and C.LD/C.SD.
    let lw_off = (bits(w, 12, 10) << 3 | bits(w, 6, 6) << 2 | bits(w, 5, 5) << 6) as i32;
    let ld_off = (bits(w, 12, 10) << 3 | bits(w, 6, 5) << 6) as i32;
    match (w & 3, bits(w, 15, 13)) {
        (0, 0) => {
            let nzuimm = bits(w, 12, 11) << 4
                | bits(w, 10, 7) << 6
                | bits(w, 6, 6) << 2
                | bits(w, 5, 5) << 3;
            if nzuimm == 0 {
                return bad; // includes the all-zero halfword, defined illegal
            }
            c(Addi, rd_p, 2, 0, nzuimm as i32)
        }
        (0, 2) => c(Lw, rd_p, rs1_p, 0, lw_off),
        (0, 3) => c(Ld, rd_p, rs1_p, 0, ld_off),
        (0, 6) => c(Sw, 0, rs1_p, rd_p, lw_off),
        (0, 7) => c(Sd, 0, rs1_p, rd_p, ld_off),
        (1, 0) => c(Addi, rd, rd, 0, ci_imm),
        (1, 1) if rd != 0 => c(Addiw, rd, rd, 0, ci_imm),
        (1, 2) => c(Addi, rd, 0, 0, ci_imm),
        (1, 3) if rd == 2 => {
            let imm = sext(
                bits(w, 12, 12) << 9
                    | bits(w, 6, 6) << 4
                    | bits(w, 5, 5) << 6
                    | bits(w, 4, 3) << 7
                    | bits(w, 2, 2) << 5,
                10,
            );
            if imm == 0 {
                return bad;
            }
            c(Addi, 2, 2, 0, imm)
        }
        (1, 3) => {
            if ci_imm == 0 {
                return bad;
            }
            c(Lui, rd, 0, 0, ci_imm << 12)
        }
        (1, 4) => {
            let shamt = (bits(w, 12, 12) << 5 | bits(w, 6, 2)) as i32;
            match bits(w, 11, 10) {
                0 => c(Srli, rs1_p, rs1_p, 0, shamt),
                1 => c(Srai, rs1_p, rs1_p, 0, shamt),
                2 => c(Andi, rs1_p, rs1_p, 0, ci_imm),
                _ => {
                    let op = match (bits(w, 12, 12), bits(w, 6, 5)) {
                        (0, 0) => Sub,
                        (0, 1) => Xor,
                        (0, 2) => Or,
                        (0, 3) => And,
                        (1, 0) => Subw,
                        (1, 1) => Addw,
                        _ => return bad,
                    };
                    c(op, rs1_p, rs1_p, rd_p, 0)
                }
            }
        }
        (1, 5) => {
            let imm = sext(
                bits(w, 12, 12) << 11
                    | bits(w, 11, 11) << 4
                    | bits(w, 10, 9) << 8
                    | bits(w, 8, 8) << 10
                    | bits(w, 7, 7) << 6
                    | bits(w, 6, 6) << 7
                    | bits(w, 5, 3) << 1
                    | bits(w, 2, 2) << 5,
                12,
            );
            c(Jal, 0, 0, 0, imm)
        }
        (1, f @ 6..=7) => {
            let imm = sext(
                bits(w, 12, 12) << 8
                    | bits(w, 11, 10) << 3
                    | bits(w, 6, 5) << 6
                    | bits(w, 4, 3) << 1
                    | bits(w, 2, 2) << 5,
                9,
            );
            c(if f == 6 { Beq } else { Bne }, 0, rs1_p, 0, imm)
        }
        (2, 0) => c(
            Slli,
            rd,
            rd,
            0,
            (bits(w, 12, 12) << 5 | bits(w, 6, 2)) as i32,
        ),
        (2, 2) if rd != 0 => {
            let off = bits(w, 12, 12) << 5 | bits(w, 6, 4) << 2 | bits(w, 3, 2) << 6;
            c(Lw, rd, 2, 0, off as i32)
        }
        (2, 3) if rd != 0 => {
            let off = bits(w, 12, 12) << 5 | bits(w, 6, 5) << 3 | bits(w, 4, 2) << 6;
            c(Ld, rd, 2, 0, off as i32)
        }
        (2, 4) => match (bits(w, 12, 12), rd, rs2) {
            (0, 0, 0) => bad,
            (0, _, 0) => c(Jalr, 0, rd, 0, 0),
            (0, _, _) => c(Add, rd, 0, rs2, 0),
            (1, 0, 0) => c(Ebreak, 0, 0, 0, 0),
            (1, _, 0) => c(Jalr, 1, rd, 0, 0),
            _ => c(Add, rd, rd, rs2, 0),
        },
        (2, 6) => c(
            Sw,
            0,
            2,
            rs2,
            (bits(w, 12, 9) << 2 | bits(w, 8, 7) << 6) as i32,
        ),
        (2, 7) => c(
            Sd,
            0,
            2,
            rs2,
            (bits(w, 12, 10) << 3 | bits(w, 9, 7) << 6) as i32,
        ),
        _ => bad,
    }
}

/// ABI names of the integer registers, as the disassembler prints them.
pub const REG_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

fn reg(r: u8) -> &'static str {
    REG_NAMES[(r & 31) as usize]
}

impl fmt::Display for Inst {
    /// objdump's syntax, with branch targets relative to the instruction (`.+8`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        fmt_inst(self, None, &mut s)?;
        f.write_str(&s)
    }
}

fn fmt_target(imm: i32, pc: Option<u64>) -> String {
    match pc {
        Some(pc) => format!("{:x}", pc.wrapping_add(imm as i64 as u64)),
        None if imm < 0 => format!(".-{}", -(imm as i64)),
        None => format!(".+{imm}"),
    }
}

fn fence_set(b: i32) -> String {
    let mut s = String::new();
    for (bit, c) in [(8, 'i'), (4, 'o'), (2, 'r'), (1, 'w')] {
        if b & bit != 0 {
            s.push(c);
        }
    }
    s
}

fn fmt_inst(i: &Inst, pc: Option<u64>, out: &mut String) -> fmt::Result {
    use Op::*;
    use fmt::Write;
    let (rd, rs1, rs2, imm) = (reg(i.rd), reg(i.rs1), reg(i.rs2), i.imm);
    let name = op_name(i.op);
    match i.op {
        Undecoded => write!(out, "(undecoded)"),
        Illegal if imm == 0 => write!(out, "unimp"),
        Illegal if i.len == 2 => write!(out, ".2byte 0x{:x}", imm as u32 & 0xffff),
        Illegal => write!(out, ".4byte 0x{:x}", imm as u32),
        Nop => write!(out, "nop"),
        Lui | Auipc => write!(out, "{name} {rd},0x{:x}", (imm as u32) >> 12),
        Jal if i.rd == 0 => write!(out, "j {}", fmt_target(imm, pc)),
        Jal if i.rd == 1 => write!(out, "jal {}", fmt_target(imm, pc)),
        Jal => write!(out, "jal {rd},{}", fmt_target(imm, pc)),
        Jalr if i.rd == 0 && i.rs1 == 1 && imm == 0 => write!(out, "ret"),
        Jalr if i.rd == 0 && imm == 0 => write!(out, "jr {rs1}"),
        Jalr if i.rd == 1 && imm == 0 => write!(out, "jalr {rs1}"),
        Jalr => write!(out, "jalr {rd},{imm}({rs1})"),
        Beq | Bne | Blt | Bge | Bltu | Bgeu => {
            let t = fmt_target(imm, pc);
            match (i.op, i.rs1, i.rs2) {
                (Beq, _, 0) => write!(out, "beqz {rs1},{t}"),
                (Bne, _, 0) => write!(out, "bnez {rs1},{t}"),
                (Blt, _, 0) => write!(out, "bltz {rs1},{t}"),
                (Bge, _, 0) => write!(out, "bgez {rs1},{t}"),
                (Blt, 0, _) => write!(out, "bgtz {rs2},{t}"),
                (Bge, 0, _) => write!(out, "blez {rs2},{t}"),
                _ => write!(out, "{name} {rs1},{rs2},{t}"),
            }
        }
        Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu => write!(out, "{name} {rd},{imm}({rs1})"),
        Sb | Sh | Sw | Sd => write!(out, "{name} {rs2},{imm}({rs1})"),
        Addi if i.rd == 0 && i.rs1 == 0 && imm == 0 => write!(out, "nop"),
        Addi if i.rs1 == 0 => write!(out, "li {rd},{imm}"),
        Addi if imm == 0 => write!(out, "mv {rd},{rs1}"),
        Addiw if imm == 0 => write!(out, "sext.w {rd},{rs1}"),
        Xori if imm == -1 => write!(out, "not {rd},{rs1}"),
        Sltiu if imm == 1 => write!(out, "seqz {rd},{rs1}"),
        Slli | Srli | Srai | Slliw | Srliw | Sraiw => write!(out, "{name} {rd},{rs1},0x{imm:x}"),
        Addi | Slti | Sltiu | Xori | Ori | Andi | Addiw => write!(out, "{name} {rd},{rs1},{imm}"),
        Add if i.rs1 == 0 => write!(out, "mv {rd},{rs2}"),
        Sub if i.rs1 == 0 => write!(out, "neg {rd},{rs2}"),
        Subw if i.rs1 == 0 => write!(out, "negw {rd},{rs2}"),
        Sltu if i.rs1 == 0 => write!(out, "snez {rd},{rs2}"),
        Slt if i.rs2 == 0 => write!(out, "sltz {rd},{rs1}"),
        Slt if i.rs1 == 0 => write!(out, "sgtz {rd},{rs2}"),
        Add | Sub | Sll | Slt | Sltu | Xor | Srl | Sra | Or | And | Addw | Subw | Sllw | Srlw
        | Sraw | Mul | Mulh | Mulhsu | Mulhu | Div | Divu | Rem | Remu | Mulw | Divw | Divuw
        | Remw | Remuw => write!(out, "{name} {rd},{rs1},{rs2}"),
        LrW | LrD => write!(out, "{name}{} {rd},({rs1})", aqrl(imm)),
        ScW | ScD | AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW
        | AmominuW | AmomaxuW | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD
        | AmomaxD | AmominuD | AmomaxuD => {
            write!(out, "{name}{} {rd},{rs2},({rs1})", aqrl(imm))
        }
        Fence => {
            let (fm, pred, succ) = (imm >> 8 & 0xf, imm >> 4 & 0xf, imm & 0xf);
            if fm == 8 && pred == 3 && succ == 3 {
                write!(out, "fence.tso")
            } else if pred == 0xf && succ == 0xf {
                write!(out, "fence")
            } else if pred == 1 && succ == 0 {
                write!(out, "pause")
            } else {
                write!(out, "fence {},{}", fence_set(pred), fence_set(succ))
            }
        }
        FenceI | Ecall | Ebreak | Mret | Sret | Wfi => write!(out, "{name}"),
        SfenceVma if i.rs1 == 0 && i.rs2 == 0 => write!(out, "sfence.vma"),
        SfenceVma if i.rs2 == 0 => write!(out, "sfence.vma {rs1}"),
        SfenceVma => write!(out, "sfence.vma {rs1},{rs2}"),
        Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => {
            let csr = match super::csr::csr_name(imm as u16) {
                Some(n) => n.to_string(),
                None => format!("0x{imm:x}"),
            };
            let uimm = i.rs1;
            match (i.op, i.rd, i.rs1) {
                (Csrrs, _, 0) => write!(out, "csrr {rd},{csr}"),
                (Csrrw, 0, _) => write!(out, "csrw {csr},{rs1}"),
                (Csrrs, 0, _) => write!(out, "csrs {csr},{rs1}"),
                (Csrrc, 0, _) => write!(out, "csrc {csr},{rs1}"),
                (Csrrwi, 0, _) => write!(out, "csrwi {csr},{uimm}"),
                (Csrrsi, 0, _) => write!(out, "csrsi {csr},{uimm}"),
                (Csrrci, 0, _) => write!(out, "csrci {csr},{uimm}"),
                (Csrrw | Csrrs | Csrrc, _, _) => write!(out, "{name} {rd},{csr},{rs1}"),
                _ => write!(out, "{name} {rd},{csr},{uimm}"),
            }
        }
    }
}

fn aqrl(imm: i32) -> &'static str {
    ["", ".rl", ".aq", ".aqrl"][(imm & 3) as usize]
}

/// Mnemonic of an operation (the base instruction's, lower case).
pub fn op_name(op: Op) -> &'static str {
    use Op::*;
    match op {
        Undecoded => "(undecoded)",
        Illegal => "illegal",
        Nop => "nop",
        Lui => "lui",
        Auipc => "auipc",
        Jal => "jal",
        Jalr => "jalr",
        Beq => "beq",
        Bne => "bne",
        Blt => "blt",
        Bge => "bge",
        Bltu => "bltu",
        Bgeu => "bgeu",
        Lb => "lb",
        Lh => "lh",
        Lw => "lw",
        Ld => "ld",
        Lbu => "lbu",
        Lhu => "lhu",
        Lwu => "lwu",
        Sb => "sb",
        Sh => "sh",
        Sw => "sw",
        Sd => "sd",
        Addi => "addi",
        Slti => "slti",
        Sltiu => "sltiu",
        Xori => "xori",
        Ori => "ori",
        Andi => "andi",
        Slli => "slli",
        Srli => "srli",
        Srai => "srai",
        Add => "add",
        Sub => "sub",
        Sll => "sll",
        Slt => "slt",
        Sltu => "sltu",
        Xor => "xor",
        Srl => "srl",
        Sra => "sra",
        Or => "or",
        And => "and",
        Addiw => "addiw",
        Slliw => "slliw",
        Srliw => "srliw",
        Sraiw => "sraiw",
        Addw => "addw",
        Subw => "subw",
        Sllw => "sllw",
        Srlw => "srlw",
        Sraw => "sraw",
        Mul => "mul",
        Mulh => "mulh",
        Mulhsu => "mulhsu",
        Mulhu => "mulhu",
        Div => "div",
        Divu => "divu",
        Rem => "rem",
        Remu => "remu",
        Mulw => "mulw",
        Divw => "divw",
        Divuw => "divuw",
        Remw => "remw",
        Remuw => "remuw",
        LrW => "lr.w",
        ScW => "sc.w",
        AmoswapW => "amoswap.w",
        AmoaddW => "amoadd.w",
        AmoxorW => "amoxor.w",
        AmoandW => "amoand.w",
        AmoorW => "amoor.w",
        AmominW => "amomin.w",
        AmomaxW => "amomax.w",
        AmominuW => "amominu.w",
        AmomaxuW => "amomaxu.w",
        LrD => "lr.d",
        ScD => "sc.d",
        AmoswapD => "amoswap.d",
        AmoaddD => "amoadd.d",
        AmoxorD => "amoxor.d",
        AmoandD => "amoand.d",
        AmoorD => "amoor.d",
        AmominD => "amomin.d",
        AmomaxD => "amomax.d",
        AmominuD => "amominu.d",
        AmomaxuD => "amomaxu.d",
        Fence => "fence",
        FenceI => "fence.i",
        Ecall => "ecall",
        Ebreak => "ebreak",
        Mret => "mret",
        Sret => "sret",
        Wfi => "wfi",
        SfenceVma => "sfence.vma",
        Csrrw => "csrrw",
        Csrrs => "csrrs",
        Csrrc => "csrrc",
        Csrrwi => "csrrwi",
        Csrrsi => "csrrsi",
        Csrrci => "csrrci",
    }
}
