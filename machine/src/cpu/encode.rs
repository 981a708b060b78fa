//! RISC-V instruction encoders: the inverse of `decode`, for the programs the project
//! generates itself (the CPU's unit tests, the machine's, and `xv6scope bench`'s loops, which
//! must run unchanged on QEMU). Only the base formats (unprivileged spec §2.2–2.3: R, I, S,
//! B, U, J) and the instructions those programs use. Operands come in encoding order
//! (`rd, rs1, imm`); offsets of branches and jumps are in bytes from the instruction.

/// Integer registers by ABI name (those the generated programs use).
pub const ZERO: u32 = 0;
pub const RA: u32 = 1;
pub const SP: u32 = 2;
pub const T0: u32 = 5;
pub const T1: u32 = 6;
pub const T2: u32 = 7;
pub const S0: u32 = 8;
pub const S1: u32 = 9;
pub const A0: u32 = 10;
pub const A1: u32 = 11;
pub const A2: u32 = 12;
pub const A3: u32 = 13;
pub const A4: u32 = 14;
pub const A5: u32 = 15;
pub const T3: u32 = 28;

pub fn r(f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
/// Panics (as do `s` and the helpers on them) if `imm` does not fit in 12 signed bits: the
/// programs are the project's own, and a wrong one must not assemble.
pub fn i(imm: i32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
    assert!((-2048..2048).contains(&imm), "immediate {imm} does not fit");
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
pub fn s(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    assert!((-2048..2048).contains(&imm), "immediate {imm} does not fit");
    let imm = imm as u32;
    (imm >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | 0x23
}
pub fn b(off: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let o = off as u32;
    (o >> 12 & 1) << 31
        | (o >> 5 & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | f3 << 12
        | (o >> 1 & 0xf) << 8
        | (o >> 11 & 1) << 7
        | 0x63
}
pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x13)
}
pub fn li(rd: u32, imm: i32) -> u32 {
    addi(rd, ZERO, imm)
}
pub fn lui(rd: u32, imm20: u32) -> u32 {
    imm20 << 12 | rd << 7 | 0x37
}
pub fn slli(rd: u32, rs1: u32, sh: u32) -> u32 {
    i(sh as i32, rs1, 1, rd, 0x13)
}
pub fn add(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0, rs2, rs1, 0, rd, 0x33)
}
pub fn xor(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0, rs2, rs1, 4, rd, 0x33)
}
pub fn srli(rd: u32, rs1: u32, sh: u32) -> u32 {
    i(sh as i32, rs1, 5, rd, 0x13)
}
pub fn mext(f3: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(1, rs2, rs1, f3, rd, 0x33)
}
pub fn mextw(f3: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(1, rs2, rs1, f3, rd, 0x3b)
}
pub fn ld(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 3, rd, 0x03)
}
pub fn lw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 2, rd, 0x03)
}
pub fn lbu(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 4, rd, 0x03)
}
pub fn sd(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 3)
}
pub fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 2)
}
pub fn sb(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 0)
}
pub fn bne(rs1: u32, rs2: u32, off: i32) -> u32 {
    b(off, rs2, rs1, 1)
}
pub fn jal(rd: u32, off: i32) -> u32 {
    let o = off as u32;
    (o >> 20 & 1) << 31
        | (o >> 1 & 0x3ff) << 21
        | (o >> 11 & 1) << 20
        | (o >> 12 & 0xff) << 12
        | rd << 7
        | 0x6f
}
pub fn jalr(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x67)
}
pub fn csrrw(rd: u32, csr: u16, rs1: u32) -> u32 {
    (csr as u32) << 20 | rs1 << 15 | 1 << 12 | rd << 7 | 0x73
}
pub fn csrrs(rd: u32, csr: u16, rs1: u32) -> u32 {
    (csr as u32) << 20 | rs1 << 15 | 2 << 12 | rd << 7 | 0x73
}
pub fn csrr(rd: u32, csr: u16) -> u32 {
    csrrs(rd, csr, ZERO)
}
pub fn csrw(csr: u16, rs1: u32) -> u32 {
    csrrw(ZERO, csr, rs1)
}
/// f5: 2 = LR, 3 = SC, else the AMO's funct5; w: 32-bit.
pub fn amo(f5: u32, w: bool, rd: u32, rs1: u32, rs2: u32) -> u32 {
    f5 << 27 | rs2 << 20 | rs1 << 15 | (if w { 2 } else { 3 }) << 12 | rd << 7 | 0x2f
}
pub const ECALL: u32 = 0x0000_0073;
pub const EBREAK: u32 = 0x0010_0073;
pub const MRET: u32 = 0x3020_0073;
pub const SRET: u32 = 0x1020_0073;
pub const WFI: u32 = 0x1050_0073;
pub const FENCE_I: u32 = 0x0000_100f;
pub const SFENCE_VMA: u32 = 0x1200_0073;
pub const NOP: u32 = 0x0000_0013;

pub fn sub(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x20, rs2, rs1, 0, rd, 0x33)
}
pub fn and(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0, rs2, rs1, 7, rd, 0x33)
}
pub fn addiw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x1b)
}
pub fn auipc(rd: u32, imm20: u32) -> u32 {
    (imm20 & 0xfffff) << 12 | rd << 7 | 0x17
}
