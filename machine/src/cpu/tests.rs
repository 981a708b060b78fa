//! Tests of the hart: decode tables, then small programs (u32 arrays built by the encoder
//! below) run with `Hart::run` on a one-hart bus, checking registers, CSRs and memory.

use super::csr::{addr as csr, *};
use super::decode::*;
use super::trap::cause;
use super::*;
use crate::board::RAM_BASE;
use crate::ram::Ram;

// ---------------------------------------------------------------------------------------
// Decode tables. Encodings come from riscv64-unknown-elf-as; the text is objdump's with the
// standard mnemonics (addi, not objdump 2.40's "add" for it).

#[test]
fn decode_table() {
    #[rustfmt::skip]
    let rows: &[(u64, u32, &str)] = &[
        (0x0, 0x12345537, "lui a0,0x12345"),          // lui a0, 0x12345
        (0x4, 0xfffff317, "auipc t1,0xfffff"),        // auipc t1, 0xfffff
        (0x8, 0x004000ef, "jal c"),                   // jal ra, 1f
        (0xc, 0x0000006f, "j c"),                     // 1: jal zero, 1b
        (0x10, 0x01058567, "jalr a0,16(a1)"),         // jalr a0, 16(a1)
        (0x14, 0x00008067, "ret"),                    // jalr zero, 0(ra)
        (0x18, 0x00078067, "jr a5"),                  // jalr zero, 0(a5)
        (0x1c, 0x000280e7, "jalr t0"),                // jalr ra, 0(t0)
        (0x20, 0x02b50063, "beq a0,a1,40"),           // beq a0, a1, 2f
        (0x24, 0x00051e63, "bnez a0,40"),             // bne a0, zero, 2f
        (0x28, 0x00d64c63, "blt a2,a3,40"),           // blt a2, a3, 2f
        (0x2c, 0x00f75a63, "bge a4,a5,40"),           // bge a4, a5, 2f
        (0x30, 0x00946863, "bltu s0,s1,40"),          // bltu s0, s1, 2f
        (0x34, 0x01de7663, "bgeu t3,t4,40"),          // bgeu t3, t4, 2f
        (0x38, 0x00a04463, "bgtz a0,40"),             // blt zero, a0, 2f
        (0x3c, 0x00b05263, "blez a1,40"),             // bge zero, a1, 2f
        (0x40, 0xfff10503, "lb a0,-1(sp)"),           // lb a0, -1(sp)
        (0x44, 0x00241583, "lh a1,2(s0)"),            // lh a1, 2(s0)
        (0x48, 0x7ff52603, "lw a2,2047(a0)"),         // lw a2, 2047(a0)
        (0x4c, 0x8005b683, "ld a3,-2048(a1)"),        // ld a3, -2048(a1)
        (0x50, 0x00064703, "lbu a4,0(a2)"),           // lbu a4, 0(a2)
        (0x54, 0x0066d783, "lhu a5,6(a3)"),           // lhu a5, 6(a3)
        (0x58, 0x00c76803, "lwu a6,12(a4)"),          // lwu a6, 12(a4)
        (0x5c, 0x00a100a3, "sb a0,1(sp)"),            // sb a0, 1(sp)
        (0x60, 0xfeb11f23, "sh a1,-2(sp)"),           // sh a1, -2(sp)
        (0x64, 0x00c12223, "sw a2,4(sp)"),            // sw a2, 4(sp)
        (0x68, 0x00113423, "sd ra,8(sp)"),            // sd ra, 8(sp)
        (0x6c, 0x00000013, "nop"),                    // addi zero, zero, 0
        (0x70, 0xffb00513, "li a0,-5"),               // addi a0, zero, -5
        (0x74, 0x00058513, "mv a0,a1"),               // addi a0, a1, 0
        (0x78, 0xfe010113, "addi sp,sp,-32"),         // addi sp, sp, -32
        (0x7c, 0x0075a513, "slti a0,a1,7"),           // slti a0, a1, 7
        (0x80, 0x0015b513, "seqz a0,a1"),             // sltiu a0, a1, 1
        (0x84, 0x0095b513, "sltiu a0,a1,9"),          // sltiu a0, a1, 9
        (0x88, 0xfff5c513, "not a0,a1"),              // xori a0, a1, -1
        (0x8c, 0x0035c513, "xori a0,a1,3"),           // xori a0, a1, 3
        (0x90, 0x07f5e513, "ori a0,a1,127"),          // ori a0, a1, 0x7f
        (0x94, 0x0ff5f513, "andi a0,a1,255"),         // andi a0, a1, 0xff
        (0x98, 0x03f59513, "slli a0,a1,0x3f"),        // slli a0, a1, 63
        (0x9c, 0x0215d513, "srli a0,a1,0x21"),        // srli a0, a1, 33
        (0xa0, 0x4015d513, "srai a0,a1,0x1"),         // srai a0, a1, 1
        (0xa4, 0x00c58533, "add a0,a1,a2"),           // add a0, a1, a2
        (0xa8, 0x40c58533, "sub a0,a1,a2"),           // sub a0, a1, a2
        (0xac, 0x40c00533, "neg a0,a2"),              // sub a0, zero, a2
        (0xb0, 0x00c59533, "sll a0,a1,a2"),           // sll a0, a1, a2
        (0xb4, 0x00c5a533, "slt a0,a1,a2"),           // slt a0, a1, a2
        (0xb8, 0x0005a533, "sltz a0,a1"),             // slt a0, a1, zero
        (0xbc, 0x00c02533, "sgtz a0,a2"),             // slt a0, zero, a2
        (0xc0, 0x00c5b533, "sltu a0,a1,a2"),          // sltu a0, a1, a2
        (0xc4, 0x00c03533, "snez a0,a2"),             // sltu a0, zero, a2
        (0xc8, 0x0149c933, "xor s2,s3,s4"),           // xor s2, s3, s4
        (0xcc, 0x017b5ab3, "srl s5,s6,s7"),           // srl s5, s6, s7
        (0xd0, 0x41acdc33, "sra s8,s9,s10"),          // sra s8, s9, s10
        (0xd4, 0x01de6db3, "or s11,t3,t4"),           // or s11, t3, t4
        (0xd8, 0x005fff33, "and t5,t6,t0"),           // and t5, t6, t0
        (0xdc, 0x0055851b, "addiw a0,a1,5"),          // addiw a0, a1, 5
        (0xe0, 0x0005851b, "sext.w a0,a1"),           // addiw a0, a1, 0
        (0xe4, 0x01f5951b, "slliw a0,a1,0x1f"),       // slliw a0, a1, 31
        (0xe8, 0x0035d51b, "srliw a0,a1,0x3"),        // srliw a0, a1, 3
        (0xec, 0x4045d51b, "sraiw a0,a1,0x4"),        // sraiw a0, a1, 4
        (0xf0, 0x00c5853b, "addw a0,a1,a2"),          // addw a0, a1, a2
        (0xf4, 0x40c5853b, "subw a0,a1,a2"),          // subw a0, a1, a2
        (0xf8, 0x40c0053b, "negw a0,a2"),             // subw a0, zero, a2
        (0xfc, 0x00c5953b, "sllw a0,a1,a2"),          // sllw a0, a1, a2
        (0x100, 0x00c5d53b, "srlw a0,a1,a2"),         // srlw a0, a1, a2
        (0x104, 0x40c5d53b, "sraw a0,a1,a2"),         // sraw a0, a1, a2
        (0x108, 0x02c58533, "mul a0,a1,a2"),          // mul a0, a1, a2
        (0x10c, 0x02c59533, "mulh a0,a1,a2"),         // mulh a0, a1, a2
        (0x110, 0x02c5a533, "mulhsu a0,a1,a2"),       // mulhsu a0, a1, a2
        (0x114, 0x02c5b533, "mulhu a0,a1,a2"),        // mulhu a0, a1, a2
        (0x118, 0x02c5c533, "div a0,a1,a2"),          // div a0, a1, a2
        (0x11c, 0x02c5d533, "divu a0,a1,a2"),         // divu a0, a1, a2
        (0x120, 0x02c5e533, "rem a0,a1,a2"),          // rem a0, a1, a2
        (0x124, 0x02c5f533, "remu a0,a1,a2"),         // remu a0, a1, a2
        (0x128, 0x02c5853b, "mulw a0,a1,a2"),         // mulw a0, a1, a2
        (0x12c, 0x02c5c53b, "divw a0,a1,a2"),         // divw a0, a1, a2
        (0x130, 0x02c5d53b, "divuw a0,a1,a2"),        // divuw a0, a1, a2
        (0x134, 0x02c5e53b, "remw a0,a1,a2"),         // remw a0, a1, a2
        (0x138, 0x02c5f53b, "remuw a0,a1,a2"),        // remuw a0, a1, a2
        (0x13c, 0x1005a52f, "lr.w a0,(a1)"),          // lr.w a0, (a1)
        (0x140, 0x18c5a52f, "sc.w a0,a2,(a1)"),       // sc.w a0, a2, (a1)
        (0x144, 0x1405b52f, "lr.d.aq a0,(a1)"),       // lr.d.aq a0, (a1)
        (0x148, 0x1ac5b52f, "sc.d.rl a0,a2,(a1)"),    // sc.d.rl a0, a2, (a1)
        (0x14c, 0x0eb6252f, "amoswap.w.aqrl a0,a1,(a2)"), // amoswap.w.aqrl a0, a1, (a2)
        (0x150, 0x00b6252f, "amoadd.w a0,a1,(a2)"),   // amoadd.w a0, a1, (a2)
        (0x154, 0x20b6252f, "amoxor.w a0,a1,(a2)"),   // amoxor.w a0, a1, (a2)
        (0x158, 0x60b6252f, "amoand.w a0,a1,(a2)"),   // amoand.w a0, a1, (a2)
        (0x15c, 0x40b6252f, "amoor.w a0,a1,(a2)"),    // amoor.w a0, a1, (a2)
        (0x160, 0x80b6252f, "amomin.w a0,a1,(a2)"),   // amomin.w a0, a1, (a2)
        (0x164, 0xa0b6252f, "amomax.w a0,a1,(a2)"),   // amomax.w a0, a1, (a2)
        (0x168, 0xc0b6252f, "amominu.w a0,a1,(a2)"),  // amominu.w a0, a1, (a2)
        (0x16c, 0xe0b6252f, "amomaxu.w a0,a1,(a2)"),  // amomaxu.w a0, a1, (a2)
        (0x170, 0x08b6352f, "amoswap.d a0,a1,(a2)"),  // amoswap.d a0, a1, (a2)
        (0x174, 0x00b6352f, "amoadd.d a0,a1,(a2)"),   // amoadd.d a0, a1, (a2)
        (0x178, 0x20b6352f, "amoxor.d a0,a1,(a2)"),   // amoxor.d a0, a1, (a2)
        (0x17c, 0x60b6352f, "amoand.d a0,a1,(a2)"),   // amoand.d a0, a1, (a2)
        (0x180, 0x40b6352f, "amoor.d a0,a1,(a2)"),    // amoor.d a0, a1, (a2)
        (0x184, 0x80b6352f, "amomin.d a0,a1,(a2)"),   // amomin.d a0, a1, (a2)
        (0x188, 0xa0b6352f, "amomax.d a0,a1,(a2)"),   // amomax.d a0, a1, (a2)
        (0x18c, 0xc0b6352f, "amominu.d a0,a1,(a2)"),  // amominu.d a0, a1, (a2)
        (0x190, 0xe0b6352f, "amomaxu.d a0,a1,(a2)"),  // amomaxu.d a0, a1, (a2)
        (0x194, 0x0ff0000f, "fence"),                 // fence
        (0x198, 0x0330000f, "fence rw,rw"),           // fence rw, rw
        (0x19c, 0x8330000f, "fence.tso"),             // fence.tso
        (0x1a0, 0x0000100f, "fence.i"),               // fence.i
        (0x1a4, 0x00000073, "ecall"),                 // ecall
        (0x1a8, 0x00100073, "ebreak"),                // ebreak
        (0x1ac, 0x30200073, "mret"),                  // mret
        (0x1b0, 0x10200073, "sret"),                  // sret
        (0x1b4, 0x10500073, "wfi"),                   // wfi
        (0x1b8, 0x12000073, "sfence.vma"),            // sfence.vma
        (0x1bc, 0x12050073, "sfence.vma a0"),         // sfence.vma a0
        (0x1c0, 0x12b50073, "sfence.vma a0,a1"),      // sfence.vma a0, a1
        (0x1c4, 0x30059573, "csrrw a0,mstatus,a1"),   // csrrw a0, mstatus, a1
        (0x1c8, 0x30551073, "csrw mtvec,a0"),         // csrw mtvec, a0
        (0x1cc, 0xf1402573, "csrr a0,mhartid"),       // csrr a0, mhartid
        (0x1d0, 0x1045a073, "csrs sie,a1"),           // csrs sie, a1
        (0x1d4, 0x10063073, "csrc sstatus,a2"),       // csrc sstatus, a2
        (0x1d8, 0x1445a573, "csrrs a0,sip,a1"),       // csrrs a0, sip, a1
        (0x1dc, 0x1805b573, "csrrc a0,satp,a1"),      // csrrc a0, satp, a1
        (0x1e0, 0x3402d073, "csrwi mscratch,5"),      // csrwi mscratch, 5
        (0x1e4, 0x3413d573, "csrrwi a0,mepc,7"),      // csrrwi a0, mepc, 7
        (0x1e8, 0x10016073, "csrsi sstatus,2"),       // csrsi sstatus, 2
        (0x1ec, 0x10017073, "csrci sstatus,2"),       // csrci sstatus, 2
        (0x1f0, 0x30446573, "csrrsi a0,mie,8"),       // csrrsi a0, mie, 8
        (0x1f4, 0x34447573, "csrrci a0,mip,8"),       // csrrci a0, mip, 8
        (0x1f8, 0xc0102573, "csrr a0,time"),          // csrr a0, time
        (0x200, 0x7c002573, "csrr a0,0x7c0"),         // csrr a0, 0x7c0
        // Compressed forms print as the instruction they expand to.
        (0x204, 0x0808, "addi a0,sp,16"),             // c.addi4spn a0, sp, 16
        (0x206, 0x414c, "lw a1,4(a0)"),               // c.lw a1, 4(a0)
        (0x208, 0x6690, "ld a2,8(a3)"),               // c.ld a2, 8(a3)
        (0x20a, 0xc14c, "sw a1,4(a0)"),               // c.sw a1, 4(a0)
        (0x20c, 0xfef0, "sd a2,248(a3)"),             // c.sd a2, 248(a3)
        (0x20e, 0x0001, "nop"),                       // c.nop
        (0x210, 0x157d, "addi a0,a0,-1"),             // c.addi a0, -1
        (0x212, 0x258d, "addiw a1,a1,3"),             // c.addiw a1, 3
        (0x214, 0x5601, "li a2,-32"),                 // c.li a2, -32
        (0x216, 0x7139, "addi sp,sp,-64"),            // c.addi16sp sp, -64
        (0x218, 0x7685, "lui a3,0xfffe1"),            // c.lui a3, 0xfffe1
        (0x21a, 0x6705, "lui a4,0x1"),                // c.lui a4, 1
        (0x21c, 0x800d, "srli s0,s0,0x3"),            // c.srli s0, 3
        (0x21e, 0x94fd, "srai s1,s1,0x3f"),           // c.srai s1, 63
        (0x220, 0x9bf9, "andi a5,a5,-2"),             // c.andi a5, -2
        (0x222, 0x8d0d, "sub a0,a0,a1"),              // c.sub a0, a1
        (0x224, 0x8d2d, "xor a0,a0,a1"),              // c.xor a0, a1
        (0x226, 0x8d4d, "or a0,a0,a1"),               // c.or a0, a1
        (0x228, 0x8d6d, "and a0,a0,a1"),              // c.and a0, a1
        (0x22a, 0x9d0d, "subw a0,a0,a1"),             // c.subw a0, a1
        (0x22c, 0x9d2d, "addw a0,a0,a1"),             // c.addw a0, a1
        (0x22e, 0xa001, "j 22e"),                     // 3: c.j 3b
        (0x230, 0xdd7d, "beqz a0,22e"),               // c.beqz a0, 3b
        (0x232, 0xfdf5, "bnez a1,22e"),               // c.bnez a1, 3b
        (0x234, 0x0532, "slli a0,a0,0xc"),            // c.slli a0, 12
        (0x236, 0x4532, "lw a0,12(sp)"),              // c.lwsp a0, 12(sp)
        (0x238, 0x70fe, "ld ra,504(sp)"),             // c.ldsp ra, 504(sp)
        (0x23a, 0x8502, "jr a0"),                     // c.jr a0
        (0x23c, 0x8082, "ret"),                       // c.jr ra
        (0x23e, 0x852e, "mv a0,a1"),                  // c.mv a0, a1
        (0x240, 0x9002, "ebreak"),                    // c.ebreak
        (0x242, 0x9782, "jalr a5"),                   // c.jalr a5
        (0x244, 0x952e, "add a0,a0,a1"),              // c.add a0, a1
        (0x246, 0xc62a, "sw a0,12(sp)"),              // c.swsp a0, 12(sp)
        (0x248, 0xff86, "sd ra,504(sp)"),             // c.sdsp ra, 504(sp)
        // Not implemented or reserved: illegal, with the bits kept for tval.
        (0, 0x0000, "unimp"),                         // c.unimp (all zeros)
        (0, 0x2000, ".2byte 0x2000"),                 // c.fld fs0, 0(s0): no D
        (0, 0x8002, ".2byte 0x8002"),                 // c.jr zero: reserved
        (0, 0x4002, ".2byte 0x4002"),                 // c.lwsp zero: reserved
        (0, 0x6001, ".2byte 0x6001"),                 // c.lui zero, 0: reserved
        (0, 0x00000007, ".4byte 0x7"),                // flw ft0, 0(zero): no F
        (0, 0x02000053, ".4byte 0x2000053"),          // fadd.d: no D
        (0, 0x00200073, ".4byte 0x200073"),           // unknown SYSTEM word
        (0, 0x0000403f, ".4byte 0x403f"),             // 48-bit-ish prefix: no such opcode
    ];
    for &(pc, bits, text) in rows {
        let inst = decode(bits);
        assert_eq!(inst.disasm(pc), text, "{bits:#010x}");
        let len = if bits & 3 == 3 { 4 } else { 2 };
        assert_eq!(inst.len, len, "{bits:#010x}");
        if text.starts_with('.') || text == "unimp" {
            assert_eq!(inst.op, Op::Illegal, "{bits:#x}");
            assert_eq!(inst.imm as u32, bits, "tval bits of {bits:#x}");
        }
    }
}

#[test]
fn decode_fields_and_relative_display() {
    let i = |op, rd, rs1, rs2, imm, len| Inst {
        op,
        rd,
        rs1,
        rs2,
        imm,
        len,
    };
    // beq a0, a1, .+32
    assert_eq!(decode(0x02b50063), i(Op::Beq, 0, 10, 11, 32, 4));
    assert_eq!(decode(0x02b50063).to_string(), "beq a0,a1,.+32");
    // c.j .-0 and jal ra, .-4 (0xffdff0ef)
    assert_eq!(decode(0xffdff0ef), i(Op::Jal, 1, 0, 0, -4, 4));
    assert_eq!(decode(0xffdff0ef).to_string(), "jal .-4");
    // lui a3, 0xfffe1 (compressed): the immediate is the value added, sign-extended.
    assert_eq!(
        decode(0x7685),
        i(Op::Lui, 13, 0, 0, 0xfffe1000u32 as i32, 2)
    );
    // csrrs a0, sip, a1: CSR number in imm
    assert_eq!(decode(0x1445a573), i(Op::Csrrs, 10, 11, 0, 0x144, 4));
    // amoswap.w.aqrl a0, a1, (a2): aq|rl in imm
    assert_eq!(decode(0x0eb6252f), i(Op::AmoswapW, 10, 12, 11, 3, 4));
    // sd ra, 8(sp)
    assert_eq!(decode(0x00113423), i(Op::Sd, 0, 2, 1, 8, 4));
    // ld a3, -2048(a1)
    assert_eq!(decode(0x8005b683), i(Op::Ld, 13, 11, 0, -2048, 4));
}

/// Each RVC form equals the base instruction it expands to, except for its length.
#[test]
fn compressed_expands_to_base_instructions() {
    let pairs: &[(u32, u32)] = &[
        (0x0808, 0x01010513), // c.addi4spn a0,sp,16 = addi a0,sp,16
        (0x414c, 0x00452583), // c.lw a1,4(a0) = lw a1,4(a0)
        (0x6690, 0x0086b603), // c.ld a2,8(a3) = ld a2,8(a3)
        (0xfef0, 0x0ec6bc23), // c.sd a2,248(a3) = sd a2,248(a3)
        (0x157d, 0xfff50513), // c.addi a0,-1 = addi a0,a0,-1
        (0x7139, 0xfc010113), // c.addi16sp -64 = addi sp,sp,-64
        (0x94fd, 0x43f4d493), // c.srai s1,63 = srai s1,s1,63
        (0x9d2d, 0x00b5053b), // c.addw a0,a1 = addw a0,a0,a1
        (0x8502, 0x00050067), // c.jr a0 = jalr zero,0(a0)
        (0x9782, 0x000780e7), // c.jalr a5 = jalr ra,0(a5)
        (0x852e, 0x00b00533), // c.mv a0,a1 = add a0,zero,a1
        (0x70fe, 0x1f813083), // c.ldsp ra,504(sp) = ld ra,504(sp)
        (0xff86, 0x1e113c23), // c.sdsp ra,504(sp) = sd ra,504(sp)
        (0x9002, 0x00100073), // c.ebreak = ebreak
    ];
    for &(c, full) in pairs {
        let (a, b) = (decode(c), decode(full));
        assert_eq!(a.len, 2);
        assert_eq!(Inst { len: 4, ..a }, b, "{c:#x} vs {full:#x}");
    }
}

use super::encode::*;

// ---------------------------------------------------------------------------------------
// Test machine.

const MIB: u64 = 1 << 20;
/// Where test programs start, and where the default trap handler (a `wfi`) sits.
const CODE: u64 = RAM_BASE;
const HANDLER: u64 = RAM_BASE + 0x8000;
const DATA: u64 = RAM_BASE + 0x10_0000;

struct T {
    h: Hart,
    bus: Bus,
}

impl T {
    /// One hart in M-mode at `CODE` running `prog`; traps go to `HANDLER`, which waits.
    fn new(prog: &[u32]) -> T {
        let ram = Ram::new(4 * MIB);
        let bus = Bus::new(
            ram,
            1,
            crate::devices::virtio_blk::VirtioBlk::new(None, false),
        );
        let mut t = T {
            h: Hart::new(0),
            bus,
        };
        t.put(CODE, prog);
        // Handlers disable interrupts and wait, so that run() stops there.
        t.put(HANDLER, &[csrw(csr::MIE, ZERO), WFI]);
        t.h.pc = CODE;
        t.h.csr.mtvec = HANDLER;
        t.h.csr.stvec = HANDLER + 0x100;
        t.put(HANDLER + 0x100, &[csrw(csr::SIE, ZERO), WFI]);
        t
    }
    fn put(&mut self, at: u64, words: &[u32]) {
        for (k, w) in words.iter().enumerate() {
            self.bus
                .ram
                .write_phys(at + 4 * k as u64, &w.to_le_bytes())
                .unwrap();
        }
    }
    fn put64(&mut self, at: u64, v: u64) {
        self.bus.ram.write_phys(at, &v.to_le_bytes()).unwrap();
    }
    fn get64(&self, at: u64) -> u64 {
        let mut b = [0; 8];
        self.bus.ram.read_phys(at, &mut b).unwrap();
        u64::from_le_bytes(b)
    }
    fn run(&mut self, budget: u64) -> Exit {
        self.h.run(&mut self.bus, budget, &[])
    }
    /// Runs until the hart waits, expecting that within 10k cycles.
    fn run_to_wfi(&mut self) -> Exit {
        let e = self.run(10_000);
        assert_eq!(
            e.reason,
            ExitReason::Wfi,
            "pc {:#x} mcause {:#x}",
            self.h.pc,
            self.h.csr.mcause
        );
        e
    }
    /// Leaves a `wfi` and continues at `pc`.
    fn resume(&mut self, pc: u64) {
        self.h.waiting = false;
        self.h.pc = pc;
    }
    fn x(&self, r: u32) -> u64 {
        self.h.x[r as usize]
    }
    /// Whether the hart stopped in the M (or S) trap handler with this cause.
    fn trapped_m(&self, cause: u64) {
        assert_eq!(
            self.h.pc,
            HANDLER + 8,
            "not in the M handler (pc {:#x})",
            self.h.pc
        );
        assert_eq!(self.h.csr.mcause, cause);
    }
    fn trapped_s(&self, cause: u64) {
        assert_eq!(
            self.h.pc,
            HANDLER + 0x108,
            "not in the S handler (pc {:#x})",
            self.h.pc
        );
        assert_eq!(self.h.csr.scause, cause);
    }
}

/// Loads a 64-bit constant: lui/addi pieces through t2 are overkill here; tests put
/// constants in memory and `ld` them instead.
fn ld_const(t: &mut T, slot: u64, v: u64) -> u64 {
    let a = DATA + 0x8000 + slot * 8;
    t.put64(a, v);
    a
}

// ---------------------------------------------------------------------------------------
// Integer execution.

#[test]
fn alu_and_m_extension_edge_cases() {
    // s0 = DATA+0x8000 (constants), then compute into a0.. registers.
    let mut t = T::new(&[]);
    let min = ld_const(&mut t, 0, i64::MIN as u64);
    let _ = ld_const(&mut t, 1, u64::MAX); // -1
    let _ = ld_const(&mut t, 2, 0xdead_beef_1234_5678);
    assert_eq!(min, DATA + 0x8000);
    let prog = [
        lui(S0, ((DATA + 0x8000) >> 12) as u32 & 0xfffff), // s0 = 0x80108000 sign-extended!
        slli(S0, S0, 32),
        srli(S0, S0, 32),      // zero-extend
        ld(T0, S0, 0),         // t0 = i64::MIN
        ld(T1, S0, 8),         // t1 = -1
        ld(T2, S0, 16),        // t2 = 0xdeadbeef12345678
        mext(4, A0, T0, T1),   // div a0, MIN, -1 = MIN
        mext(6, A1, T0, T1),   // rem a1, MIN, -1 = 0
        mext(4, A2, T2, ZERO), // div by 0 = -1
        mext(7, A3, T2, ZERO), // remu by 0 = dividend
        mext(3, A4, T1, T1),   // mulhu -1,-1 = 0xffff...fffe
        mext(1, A5, T0, T1),   // mulh MIN,-1 = 0 (high half of 2^63)
        mextw(0, S1, T2, T2),  // mulw: low 32 bits of 0x12345678^2, sign-extended
        WFI,
    ];
    t.put(CODE, &prog);
    t.run_to_wfi();
    assert_eq!(t.x(A0), i64::MIN as u64);
    assert_eq!(t.x(A1), 0);
    assert_eq!(t.x(A2), u64::MAX);
    assert_eq!(t.x(A3), 0xdead_beef_1234_5678);
    assert_eq!(t.x(A4), u64::MAX - 1);
    assert_eq!(t.x(A5), 0);
    assert_eq!(
        t.x(S1),
        (0x1234_5678u32.wrapping_mul(0x1234_5678)) as i32 as i64 as u64
    );
    // 13 instructions retired before wfi, which retires too.
    assert_eq!(t.h.instret(), 14);
}

#[test]
fn x0_stays_zero_and_loops_count_exactly() {
    // for (a0 = 0, a1 = 1000; a0 != a1; a0++) a2 ^= a0 << 1; with writes to x0 sprinkled in.
    let prog = [
        li(A0, 0),
        li(A1, 1000),
        li(A2, 0),
        addi(ZERO, A1, 5), // loop: (hint) must not change x0
        slli(T0, A0, 1),
        xor(A2, A2, T0),
        lw(ZERO, SP, 0), // load into x0 (sp = 0 → unmapped!) — replaced below
        addi(A0, A0, 1),
        bne(A0, A1, -20),
        WFI,
    ];
    let mut t = T::new(&prog);
    // Make the x0 load valid: point sp at data.
    t.put(CODE + 6 * 4, &[jal(ZERO, 4)]); // replace the load with a jump to the next insn
    t.h.x[SP as usize] = DATA;
    let e = t.run_to_wfi();
    let expect = (0..1000u64).fold(0, |acc, i| acc ^ (i << 1));
    assert_eq!(t.x(A2), expect);
    assert_eq!(t.x(ZERO), 0);
    assert_eq!(e.executed, 3 + 1000 * 6 + 1);
    assert_eq!(t.h.instret(), e.executed);
}

#[test]
fn jal_jalr_link_and_x0() {
    let prog = [
        jal(RA, 12),       // 0: call 12
        li(A1, 7),         // 4: after return
        WFI,               // 8
        li(A0, 42),        // 12
        jalr(ZERO, RA, 0), // 16: ret
    ];
    let mut t = T::new(&prog);
    t.run_to_wfi();
    assert_eq!(t.x(A0), 42);
    assert_eq!(t.x(A1), 7);
    assert_eq!(t.x(RA), CODE + 4);
}

#[test]
fn jalr_with_rd_equal_to_rs1_jumps_to_the_old_value() {
    let auipc_t0 = T0 << 7 | 0x17; // auipc t0, 0
    let mut t = T::new(&[auipc_t0, jalr(T0, T0, 12), li(A0, 1), WFI]);
    t.run_to_wfi();
    assert_eq!(t.x(T0), CODE + 8);
    assert_eq!(t.x(A0), 0);
    assert_eq!(t.h.pc, CODE + 16);
}

#[test]
fn budget_and_breakpoints() {
    let prog = [li(A0, 1), li(A0, 2), li(A0, 3), li(A0, 4), WFI];
    let mut t = T::new(&prog);
    let e = t.run(2);
    assert_eq!(
        e,
        Exit {
            executed: 2,
            reason: ExitReason::Budget
        }
    );
    assert_eq!(t.bus.now, 2);
    assert_eq!(t.x(A0), 2);
    // A breakpoint at the current pc fires before anything executes; the caller steps past
    // it with no breakpoints, and the next one fires after that.
    let bp = [CODE + 8, CODE + 12];
    let e = t.h.run(&mut t.bus, 100, &bp);
    assert_eq!(
        e,
        Exit {
            executed: 0,
            reason: ExitReason::Breakpoint
        }
    );
    assert_eq!(t.h.pc, CODE + 8);
    t.h.run(&mut t.bus, 1, &[]);
    let e = t.h.run(&mut t.bus, 100, &bp);
    assert_eq!(
        e,
        Exit {
            executed: 0,
            reason: ExitReason::Breakpoint
        }
    );
    assert_eq!(t.h.pc, CODE + 12);
    assert_eq!(t.x(A0), 3);
    assert_eq!(t.bus.now, 3);
}

// ---------------------------------------------------------------------------------------
// Traps, delegation, xRET.

/// Drops to `mode` at `CODE + 0x100` through mret.
fn enter(t: &mut T, mode: Mode, code: &[u32]) {
    t.put(CODE + 0x100, code);
    t.h.csr.mepc = CODE + 0x100;
    t.h.csr.mstatus = (t.h.csr.mstatus & !MSTATUS_MPP) | (mode as u64) << 11;
    t.put(CODE, &[MRET]);
}

#[test]
fn ecall_from_u_goes_to_m_or_to_s_when_delegated() {
    let mut t = T::new(&[]);
    enter(&mut t, Mode::User, &[ECALL]);
    t.run_to_wfi();
    t.trapped_m(8);
    assert_eq!(t.h.csr.mepc, CODE + 0x100);
    assert_eq!(t.h.csr.mstatus & MSTATUS_MPP, 0, "MPP = U");
    assert_eq!(t.h.mode, Mode::Machine);
    // ecall does not retire: mret + the handler's csrw and wfi only.
    assert_eq!(t.h.instret(), 3);

    let mut t = T::new(&[]);
    enter(&mut t, Mode::User, &[ECALL]);
    t.h.csr.medeleg = 1 << 8;
    t.h.csr.mstatus |= MSTATUS_SIE;
    t.run_to_wfi();
    t.trapped_s(8);
    assert_eq!(t.h.mode, Mode::Supervisor);
    assert_eq!(t.h.csr.sepc, CODE + 0x100);
    let s = t.h.csr.mstatus;
    assert_eq!(s & MSTATUS_SPP, 0, "SPP = U");
    assert_ne!(s & MSTATUS_SPIE, 0, "SPIE = old SIE");
    assert_eq!(s & MSTATUS_SIE, 0);

    // The event log shows the mret to U and the ecall from U with its arguments.
    let mut t = T::new(&[]);
    enter(&mut t, Mode::User, &[ECALL]);
    t.h.events = Some(Vec::new());
    t.h.x[17] = 7;
    t.run_to_wfi();
    let ev = t.h.events.take().unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (ev[0].cause, ev[0].from, ev[0].to, ev[0].target),
        (None, Mode::Machine, Mode::User, CODE + 0x100)
    );
    assert_eq!(
        (ev[1].cause, ev[1].pc, ev[1].from, ev[1].a[7]),
        (Some(8), CODE + 0x100, Mode::User, 7)
    );
    assert_eq!(ev[1].cycle, 1, "the ecall was the second instruction");

    // Delegation never applies to traps taken in M.
    let mut t = T::new(&[ECALL]);
    t.h.csr.medeleg = 1 << 11;
    t.run_to_wfi();
    t.trapped_m(11);
}

#[test]
fn illegal_instruction_and_ebreak_tval() {
    let mut t = T::new(&[0x0200_0053]); // fadd.d: no D extension
    t.run_to_wfi();
    t.trapped_m(2);
    assert_eq!(t.h.csr.mtval, 0x0200_0053);
    assert_eq!(t.h.csr.mepc, CODE);

    let mut t = T::new(&[NOP, EBREAK]);
    t.run_to_wfi();
    t.trapped_m(3);
    assert_eq!(t.h.csr.mtval, CODE + 4);

    // S-mode access to an M CSR: illegal, tval = the instruction.
    let mut t = T::new(&[]);
    let bad = csrr(A0, csr::MSTATUS);
    enter(&mut t, Mode::Supervisor, &[bad]);
    t.run_to_wfi();
    t.trapped_m(2);
    assert_eq!(t.h.csr.mtval, bad as u64);
    // Writing a read-only CSR is illegal even in M.
    let mut t = T::new(&[csrw(csr::MHARTID, A0)]);
    t.run_to_wfi();
    t.trapped_m(2);
    // Unknown CSR.
    let mut t = T::new(&[csrr(A0, 0x7c0)]);
    t.run_to_wfi();
    t.trapped_m(2);
}

#[test]
fn mret_and_sret_restore_the_stack_of_modes() {
    let mut t = T::new(&[]);
    // M → S with MPIE=1: after mret MIE=1, MPIE=1, MPP=U.
    enter(&mut t, Mode::Supervisor, &[csrr(A0, csr::SSTATUS), WFI]);
    t.h.csr.mstatus |= MSTATUS_MPIE;
    t.run_to_wfi();
    assert_eq!(t.h.mode, Mode::Supervisor);
    let s = t.h.csr.mstatus;
    assert_ne!(s & MSTATUS_MIE, 0);
    assert_ne!(s & MSTATUS_MPIE, 0);
    assert_eq!(s & MSTATUS_MPP, 0);

    // S → U with sret: SIE = SPIE, SPIE = 1, SPP = U; U then traps on sret (illegal).
    let mut t = T::new(&[]);
    enter(&mut t, Mode::Supervisor, &[SRET]);
    t.h.csr.sepc = CODE + 0x200;
    t.h.csr.mstatus |= MSTATUS_SPIE; // SPP = 0 (U)
    t.put(CODE + 0x200, &[SRET]);
    t.run_to_wfi();
    t.trapped_m(2);
    assert_eq!(t.h.csr.mepc, CODE + 0x200);
    assert_eq!(t.h.csr.mstatus & MSTATUS_MPP, 0, "trapped from U");
    assert_ne!(t.h.csr.mstatus & MSTATUS_SIE, 0);

    // TSR makes sret illegal in S; mret is illegal in S.
    let mut t = T::new(&[]);
    enter(&mut t, Mode::Supervisor, &[SRET]);
    t.h.csr.mstatus |= MSTATUS_TSR;
    t.run_to_wfi();
    t.trapped_m(2);
    let mut t = T::new(&[]);
    enter(&mut t, Mode::Supervisor, &[MRET]);
    t.run_to_wfi();
    t.trapped_m(2);
    assert_eq!(t.h.csr.mtval, MRET as u64);
}

#[test]
fn vectored_interrupts_and_priority() {
    // M-mode with MIE: software sets SSIP and STIP through mip, both delegated to S; S runs
    // with SIE=1 and takes SSI before STI (priority), at stvec + 4*1 when vectored.
    let mut t = T::new(&[]);
    enter(&mut t, Mode::Supervisor, &[NOP, NOP, WFI]);
    t.h.csr.mideleg = MIP_SSIP | MIP_STIP;
    t.h.csr.mie = MIP_SSIP | MIP_STIP;
    t.h.csr.mip = MIP_SSIP | MIP_STIP;
    t.h.csr.stvec = (HANDLER + 0x200) | 1;
    t.put(HANDLER + 0x204, &[csrw(csr::SIE, ZERO), WFI]);
    t.h.csr.mstatus |= MSTATUS_SPIE; // irrelevant: SIE set below in S view
    t.put(CODE + 0x100, &[csrrs(ZERO, csr::SSTATUS, A0), NOP, WFI]);
    t.h.x[A0 as usize] = MSTATUS_SIE;
    let e = t.run(100);
    assert_eq!(e.reason, ExitReason::Wfi);
    assert_eq!(t.h.pc, HANDLER + 0x20c);
    assert_eq!(t.h.csr.scause, cause::INTERRUPT | 1);
    // The interrupt came right after the csrs that enabled it.
    assert_eq!(t.h.csr.sepc, CODE + 0x104);
}

#[test]
fn m_interrupts_are_not_taken_in_m_without_mie_and_s_ones_never_in_m() {
    let mut t = T::new(&[NOP, NOP, NOP, WFI]);
    t.h.csr.mie = MIP_SSIP;
    t.h.csr.mip = MIP_SSIP;
    t.h.csr.mideleg = MIP_SSIP;
    t.h.csr.mstatus |= MSTATUS_MIE;
    // SSI delegated: never taken in M; wfi still sees it pending and does not wait.
    let e = t.run(4);
    assert_eq!(e.executed, 4);
    assert_eq!(t.h.pc, CODE + 16);
    assert!(!t.h.is_waiting());
    // Not delegated: taken in M since MIE = 1.
    let mut t = T::new(&[NOP, NOP, WFI]);
    t.h.csr.mie = MIP_SSIP;
    t.h.csr.mip = MIP_SSIP;
    t.h.csr.mstatus |= MSTATUS_MIE;
    t.run(1);
    assert_eq!(t.h.csr.mcause, cause::INTERRUPT | 1);
    assert_eq!(t.h.csr.mepc, CODE);
}

#[test]
fn sstc_timer_interrupt_fires_at_stimecmp() {
    let mut t = T::new(&[]);
    // S-mode loop; STCE on, stimecmp = 50 ticks = 500 cycles.
    enter(&mut t, Mode::Supervisor, &[addi(A0, A0, 1), jal(ZERO, -4)]);
    t.h.csr.menvcfg = MENVCFG_STCE;
    t.h.csr.mcounteren = 2;
    t.h.csr.stimecmp = 50;
    t.h.csr.mideleg = MIP_STIP;
    t.h.csr.mie = MIP_STIP;
    t.h.csr.mstatus |= MSTATUS_SIE;
    assert_eq!(t.h.timer_deadline(), Some(50));
    let e = t.run(2000);
    assert_eq!(e.reason, ExitReason::Wfi);
    t.trapped_s(cause::INTERRUPT | 5);
    // Polled at least every 256 cycles: taken between cycle 500 and 756.
    assert!((500..760).contains(&e.executed), "{}", e.executed);
    assert_eq!(t.h.csr_read(csr::SIP).unwrap() & MIP_STIP, MIP_STIP);
    // Writing stimecmp into the future clears STIP; writing mip.STIP has no effect with Sstc.
    assert!(t.h.csr_write(csr::STIMECMP, u64::MAX));
    assert!(t.h.csr_write(csr::MIP, MIP_STIP));
    assert_eq!(t.h.csr_read(csr::MIP).unwrap() & MIP_STIP, 0);
}

#[test]
fn wfi_waits_until_an_enabled_interrupt_is_pending() {
    let mut t = T::new(&[WFI, li(A0, 1), WFI]);
    t.h.csr.mie = MIP_SSIP;
    let e = t.run(100);
    assert_eq!(
        e,
        Exit {
            executed: 1,
            reason: ExitReason::Wfi
        }
    );
    assert!(t.h.is_waiting());
    assert_eq!(t.h.pc, CODE + 4);
    assert!(!t.h.wakeable(&mut t.bus));
    assert_eq!(
        t.run(100),
        Exit {
            executed: 0,
            reason: ExitReason::Wfi
        }
    );
    // Pending but globally disabled (MIE = 0 in M): wfi resumes without taking it.
    t.h.csr.mip = MIP_SSIP;
    assert!(t.h.wakeable(&mut t.bus));
    let e = t.run(2);
    assert_eq!(e.executed, 2);
    assert_eq!(t.x(A0), 1);
    assert_eq!(
        t.h.pc,
        CODE + 12,
        "second wfi did not wait: interrupt pending"
    );

    // U-mode wfi is illegal; S-mode under TW too.
    let mut t = T::new(&[]);
    enter(&mut t, Mode::User, &[WFI]);
    t.run_to_wfi();
    t.trapped_m(2);
}

#[test]
fn counters_are_gated_by_counteren() {
    let mut t = T::new(&[]);
    enter(&mut t, Mode::User, &[csrr(A0, csr::TIME)]);
    t.h.csr.mcounteren = 2;
    t.run_to_wfi();
    t.trapped_m(2); // scounteren.TM clear

    let mut t = T::new(&[]);
    enter(
        &mut t,
        Mode::User,
        &[NOP, NOP, csrr(A0, csr::TIME), csrr(A1, csr::INSTRET), WFI],
    );
    t.h.csr.mcounteren = 7;
    t.h.csr.scounteren = 7;
    t.bus.now = 1000;
    t.h.csr.mtvec = HANDLER;
    let e = t.run(100);
    assert_eq!(e.reason, ExitReason::Wfi);
    // time at the instruction's cycle: start 1000 + 3 instructions before it.
    assert_eq!(t.x(A0), (1000 + 3) / 10);
    assert_eq!(t.x(A1), 4, "mret, nop, nop, csrr retired before");
}

// ---------------------------------------------------------------------------------------
// Memory: misaligned and access faults, LR/SC, AMOs, self-modifying code.

#[test]
fn misaligned_and_unmapped_accesses_trap() {
    let cases: &[(u32, u64, u64)] = &[
        (lw(A0, A1, 2), 4, DATA + 2),              // misaligned load
        (sd(A0, A1, 4), 6, DATA + 4),              // misaligned store
        (amo(0, false, A0, A2, A0), 6, DATA + 4),  // amoadd.d at DATA+4
        (amo(2, true, A0, A2, ZERO), 4, DATA + 4), // lr.w at DATA+4 is aligned: no trap
        (ld(A0, ZERO, 0x10), 5, 0x10),             // nothing at 0x10
        (sb(A0, ZERO, 0x10), 7, 0x10),
    ];
    for &(inst, cause, tval) in cases {
        let mut t = T::new(&[inst, WFI]);
        t.h.misaligned_ok = false; // the other choice the spec allows
        t.h.x[A1 as usize] = DATA;
        t.h.x[A2 as usize] = DATA + 4;
        t.run_to_wfi();
        if inst == amo(2, true, A0, A2, ZERO) {
            assert_eq!(t.h.pc, CODE + 8, "lr.w at an aligned address runs");
            continue;
        }
        t.trapped_m(cause);
        assert_eq!(t.h.csr.mtval, tval, "{inst:#x}");
    }
    // By default (QEMU's behaviour) misaligned loads and stores work, even across pages;
    // AMOs still trap.
    let mut t = T::new(&[sd(A2, A1, -3), ld(A0, A1, -3), lw(A3, A1, -1), WFI]);
    assert!(t.h.misaligned_ok);
    t.h.x[A1 as usize] = DATA + 0x1000;
    t.h.x[A2 as usize] = 0x1122_3344_5566_7788;
    t.run_to_wfi();
    assert_eq!(t.x(A0), 0x1122_3344_5566_7788);
    assert_eq!(t.x(A3), 0x3344_5566);
    assert_eq!(t.get64(DATA + 0x1000 - 3), 0x1122_3344_5566_7788);
    let mut t = T::new(&[amo(0, false, A0, A1, A0), WFI]);
    t.h.x[A1 as usize] = DATA + 4;
    t.run_to_wfi();
    t.trapped_m(6);
    assert_eq!(t.h.csr.mtval, DATA + 4);
    // Fetch from a hole: instruction access fault with tval = pc.
    let mut t = T::new(&[jalr(ZERO, ZERO, 0x40)]);
    t.run_to_wfi();
    t.trapped_m(1);
    assert_eq!(t.h.csr.mtval, 0x40);
}

#[test]
fn a_hart_whose_trap_vector_cannot_be_fetched_yields() {
    // xv6 with PHYSTOP past RAM: a store faults before the kernel sets its trap vector (0),
    // and the fetch at 0 faults into 0 for ever. Each turn ends after one cycle.
    let mut t = T::new(&[sb(A0, A1, 0), WFI]);
    t.h.csr.mtvec = 0;
    t.h.x[A1 as usize] = RAM_BASE + 4 * MIB;
    let e = t.run(10_000);
    assert_eq!(e.reason, ExitReason::Yield);
    assert_eq!((t.h.pc, t.h.csr.mcause, t.h.csr.mtval), (0, 1, 0));
    assert_eq!(
        t.bus.unmapped,
        Some(RAM_BASE + 4 * MIB),
        "the store's address is kept"
    );
    let e = t.run(10_000);
    assert_eq!((e.reason, e.executed), (ExitReason::Yield, 1));
    assert_eq!(t.h.instret(), 0);
}

#[test]
fn lr_sc_and_amos() {
    let prog = [
        amo(2, false, A0, S0, ZERO), // lr.d a0, (s0)
        addi(A0, A0, 5),
        amo(3, false, A1, S0, A0),  // sc.d a1, a0, (s0): succeeds → 0
        amo(3, false, A2, S0, A0),  // sc.d again without reservation → 1
        amo(2, true, A3, S0, ZERO), // lr.w a3, (s0)
        sw(ZERO, S0, 0),            // the value changes
        amo(3, true, A4, S0, A0),   // sc.w fails: 1
        WFI,
    ];
    let mut t = T::new(&prog);
    t.h.x[S0 as usize] = DATA;
    t.put64(DATA, 37);
    t.run_to_wfi();
    assert_eq!(t.x(A0), 42);
    assert_eq!((t.x(A1), t.x(A2), t.x(A4)), (0, 1, 1));
    assert_eq!(t.x(A3), 42);
    assert_eq!(t.get64(DATA), 0);

    // AMOs: (funct5, word?, initial, operand, expected memory after); rd gets the old value.
    let cases: &[(u32, bool, u64, u64, u64)] = &[
        (0b00001, false, 1, 2, 2),                        // swap.d
        (0b00000, true, 0x1_ffff_ffff, 1, 0x1_0000_0000), // add.w wraps in 32 bits
        (0b00100, false, 0xf0, 0xff, 0x0f),               // xor.d
        (0b01100, false, 0xf0, 0x3c, 0x30),               // and.d
        (0b01000, false, 0xf0, 0x0f, 0xff),               // or.d
        (0b10000, true, 0xffff_fffe, 3, 0xffff_fffe),     // min.w: -2 < 3
        (0b10100, true, 0xffff_fffe, 3, 3),               // max.w
        (0b11000, true, 0xffff_fffe, 3, 3),               // minu.w
        (0b11100, false, 5, u64::MAX, u64::MAX),          // maxu.d
        (0b10000, false, 5, u64::MAX, u64::MAX),          // min.d: -1 < 5
    ];
    for &(f5, w, init, op, after) in cases {
        let mut t = T::new(&[amo(f5, w, A0, S0, A1), WFI]);
        t.h.x[S0 as usize] = DATA;
        t.h.x[A1 as usize] = op;
        t.put64(DATA, init);
        t.run_to_wfi();
        assert_eq!(t.get64(DATA), after, "amo {f5:#b} w={w}");
        let old = if w {
            init as u32 as i32 as i64 as u64
        } else {
            init
        };
        assert_eq!(t.x(A0), old, "amo {f5:#b} old value");
    }
}

#[test]
fn stores_into_code_are_seen_by_the_next_fetch() {
    let prog = [
        jal(RA, 28),       // 0: call X
        addi(S1, A0, 0),   // 4
        lw(T0, S0, 0),     // 8: the new instruction
        sw(T0, A3, 28),    // 12: overwrite X
        FENCE_I,           // 16 (not needed by this hart, but what software does)
        jal(RA, 8),        // 20: call X again
        WFI,               // 24
        li(A0, 1),         // 28: X
        jalr(ZERO, RA, 0), // 32
    ];
    let mut t = T::new(&prog);
    t.h.x[A3 as usize] = CODE;
    t.h.x[S0 as usize] = DATA;
    t.put(DATA, &[li(A0, 2)]);
    t.run_to_wfi();
    assert_eq!(t.x(S1), 1);
    assert_eq!(t.x(A0), 2);
    assert_eq!(t.h.pc, CODE + 28);
    // A debugger/DMA write between runs is seen too.
    t.put(CODE + 28, &[li(A0, 3), WFI]);
    t.resume(CODE + 28);
    t.run_to_wfi();
    assert_eq!(t.x(A0), 3);
    assert_eq!(t.h.pc, CODE + 36);
}

// ---------------------------------------------------------------------------------------
// Sv39.

const PT: u64 = RAM_BASE + 0x30_0000;
const V: u64 = 1;
const R: u64 = 2;
const W: u64 = 4;
const X: u64 = 8;
const U: u64 = 16;
const A: u64 = 64;
const D: u64 = 128;

fn pte(pa: u64, flags: u64) -> u64 {
    (pa >> 12) << 10 | flags
}

/// Root table at PT with RAM mapped by one RWX gigapage (identity), satp pointing at it.
fn sv39(t: &mut T) {
    t.put64(PT + 2 * 8, pte(RAM_BASE, V | R | W | X | A | D));
    t.h.csr.satp = 8 << 60 | PT >> 12;
}

/// Maps a 4 KiB page (level 0) or a superpage (level 1), creating tables after PT.
fn map(t: &mut T, va: u64, pa: u64, flags: u64, level: u32) {
    let mut table = PT;
    for l in (level + 1..3).rev() {
        let slot = table + ((va >> (12 + 9 * l)) & 0x1ff) * 8;
        let e = t.get64(slot);
        table = if e & V == 0 {
            let next = PT + 0x1000 * (1 + (t.get64(PT + 0xff8) + 1));
            t.put64(PT + 0xff8, t.get64(PT + 0xff8) + 1); // table counter in the root's last slot
            t.put64(slot, pte(next, V));
            next
        } else {
            (e >> 10) << 12
        };
    }
    t.put64(
        table + ((va >> (12 + 9 * level)) & 0x1ff) * 8,
        pte(pa, flags),
    );
}

fn s_mode_paged() -> T {
    let mut t = T::new(&[]);
    sv39(&mut t);
    t.h.mode = Mode::Supervisor;
    t.h.update_keys();
    map(&mut t, 0x1000, DATA, V | R | W | U, 0); // user data
    map(&mut t, 0x2000, DATA + 0x1000, V | R | A, 0); // kernel read-only
    map(&mut t, 0x3000, DATA + 0x2000, V | X | A, 0); // execute-only
    map(&mut t, 0x4000, DATA + 0x3000, V | W | A | D, 0); // W without R: reserved
    map(&mut t, 0x20_0000, DATA + 0x1000, V | R | A, 1); // misaligned megapage
    map(
        &mut t,
        0x40_0000,
        RAM_BASE + 0x20_0000,
        V | R | W | A | D,
        1,
    ); // good megapage
    t
}

#[test]
fn sv39_walks_check_permissions() {
    let mut t = s_mode_paged();
    let tr = |t: &T, va, acc| t.h.translate(&t.bus, va, acc);
    assert_eq!(tr(&t, CODE + 0x1234, Access::Fetch), Some(CODE + 0x1234)); // gigapage
    assert_eq!(tr(&t, 0x40_1234, Access::Store), Some(RAM_BASE + 0x20_1234)); // megapage
    assert_eq!(
        tr(&t, 0x20_0000, Access::Load),
        None,
        "misaligned superpage"
    );
    assert_eq!(tr(&t, 0x4000, Access::Load), None, "W without R");
    assert_eq!(tr(&t, 0x2000, Access::Load), Some(DATA + 0x1000));
    assert_eq!(tr(&t, 0x2000, Access::Store), None, "read-only");
    assert_eq!(tr(&t, 0x3000, Access::Load), None, "X-only without MXR");
    assert_eq!(tr(&t, 0x3000, Access::Fetch), Some(DATA + 0x2000));
    assert_eq!(
        tr(&t, 0x1000, Access::Load),
        None,
        "U page from S without SUM"
    );
    assert_eq!(tr(&t, 0x5000, Access::Load), None, "unmapped");
    assert_eq!(tr(&t, 1 << 38, Access::Load), None, "non-canonical");
    t.h.csr.mstatus |= MSTATUS_SUM | MSTATUS_MXR;
    assert_eq!(tr(&t, 0x1000, Access::Store), Some(DATA), "SUM");
    assert_eq!(
        tr(&t, 0x1000, Access::Fetch),
        None,
        "S never executes U pages"
    );
    assert_eq!(tr(&t, 0x3000, Access::Load), Some(DATA + 0x2000), "MXR");
    t.h.mode = Mode::User;
    assert_eq!(tr(&t, 0x1000, Access::Store), Some(DATA));
    assert_eq!(tr(&t, 0x2000, Access::Load), None, "S page from U");
    // M-mode with MPRV and MPP = U translates loads as U; fetches stay untranslated.
    t.h.mode = Mode::Machine;
    t.h.csr.mstatus |= MSTATUS_MPRV; // MPP = 0
    assert_eq!(tr(&t, 0x1000, Access::Load), Some(DATA));
    assert_eq!(tr(&t, 0x1000, Access::Fetch), Some(0x1000));
    // A PTE outside RAM: access fault, no translation.
    t.h.csr.mstatus = 0;
    t.h.mode = Mode::Supervisor;
    t.h.csr.satp = 8 << 60 | 0x1000 >> 12;
    assert_eq!(tr(&t, 0x1000, Access::Load), None);
}

#[test]
fn sv39_faults_and_accessed_dirty_bits() {
    // Load from the U page without SUM: load page fault, tval = va.
    let mut t = s_mode_paged();
    t.put(CODE, &[ld(A0, A1, 0), WFI]);
    t.h.x[A1 as usize] = 0x1008;
    t.run_to_wfi();
    t.trapped_m(13);
    assert_eq!(t.h.csr.mtval, 0x1008);
    // Store to the read-only page: store page fault; delegated to S here.
    let mut t = s_mode_paged();
    t.put(CODE, &[sd(A0, A1, 0), WFI]);
    t.h.x[A1 as usize] = 0x2010;
    t.h.csr.medeleg = 1 << 15;
    t.run_to_wfi();
    t.trapped_s(15);
    assert_eq!(t.h.csr.stval, 0x2010);
    // Non-canonical.
    let mut t = s_mode_paged();
    t.put(CODE, &[ld(A0, A1, 0), WFI]);
    t.h.x[A1 as usize] = 0x0000_0040_0000_0000;
    t.run_to_wfi();
    t.trapped_m(13);

    // With SUM: a load sets A only, a store then sets D.
    let mut t = s_mode_paged();
    t.h.csr.mstatus |= MSTATUS_SUM;
    t.h.update_keys();
    t.put(CODE, &[ld(A0, A1, 0), WFI, sd(A2, A1, 8), WFI]);
    t.h.x[A1 as usize] = 0x1000;
    t.h.x[A2 as usize] = 99;
    t.put64(DATA, 1234);
    let leaf = |t: &T| {
        let l1 = (t.get64(PT) >> 10) << 12;
        let l0 = (t.get64(l1) >> 10) << 12;
        t.get64(l0 + 8)
    };
    assert_eq!(leaf(&t) & (A | D), 0);
    t.h.csr.mie = 0;
    t.run_to_wfi();
    assert_eq!(t.x(A0), 1234);
    assert_eq!(leaf(&t) & (A | D), A);
    t.resume(CODE + 8);
    t.run_to_wfi();
    assert_eq!(leaf(&t) & (A | D), A | D);
    assert_eq!(t.get64(DATA + 8), 99);
    // Execute-only page: fetch works, a load faults (no MXR).
    let mut t = s_mode_paged();
    t.put(DATA + 0x2000, &[li(A0, 5), ld(A1, A2, 0), WFI]);
    t.h.x[A2 as usize] = 0x3000;
    t.h.pc = 0x3000;
    t.run_to_wfi();
    assert_eq!(t.x(A0), 5);
    t.trapped_m(13);
    assert_eq!(t.h.csr.mepc, 0x3004);
}

#[test]
fn fetch_straddling_into_a_bad_page_faults_with_the_second_page() {
    let mut t = s_mode_paged();
    // Code page at VA 0x10000 → PA DATA+0x4000; VA 0x11000 unmapped.
    map(&mut t, 0x10000, DATA + 0x4000, V | R | X | A, 0);
    let word = li(A0, 7);
    // A 32-bit instruction at the last halfword of the page.
    t.bus
        .ram
        .write_phys(DATA + 0x4ffe, &(word as u16).to_le_bytes())
        .unwrap();
    t.h.pc = 0x10ffe;
    t.run_to_wfi();
    t.trapped_m(12);
    assert_eq!(t.h.csr.mtval, 0x11000);
    assert_eq!(t.h.csr.mepc, 0x10ffe);
    // Map the next page: now it executes, and the next one follows.
    let mut t = s_mode_paged();
    map(&mut t, 0x10000, DATA + 0x4000, V | R | X | A, 0);
    map(&mut t, 0x11000, DATA + 0x6000, V | R | X | A, 0);
    t.bus
        .ram
        .write_phys(DATA + 0x4ffe, &(word as u16).to_le_bytes())
        .unwrap();
    t.bus
        .ram
        .write_phys(DATA + 0x6000, &((word >> 16) as u16).to_le_bytes())
        .unwrap();
    t.put(DATA + 0x6002, &[addi(A0, A0, 1), WFI]);
    t.h.pc = 0x10ffe;
    t.run_to_wfi();
    assert_eq!(t.x(A0), 8);
    assert_eq!(t.h.pc, 0x1100a);
}

#[test]
fn csr_views_sstatus_sip_sie() {
    let mut h = Hart::new(3);
    assert_eq!(h.csr_read(csr::MHARTID), Some(3));
    assert_eq!(h.csr_read(csr::MISA), Some(0x8000_0000_0014_1105));
    // mstatus reads UXL = SXL = 2; sstatus shows UXL only.
    assert_eq!(h.csr_read(csr::MSTATUS), Some(0xa_0000_0000));
    assert_eq!(h.csr_read(csr::SSTATUS), Some(0x2_0000_0000));
    // sstatus writes reach only S fields.
    assert!(h.csr_write(csr::SSTATUS, u64::MAX));
    let m = h.csr_read(csr::MSTATUS).unwrap();
    assert_eq!(m & (MSTATUS_MIE | MSTATUS_MPP | MSTATUS_TVM), 0);
    assert_eq!(
        m & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR),
        MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR
    );
    // MPP = 2 is reserved: the field keeps its value.
    assert!(h.csr_write(csr::MSTATUS, 1 << 11));
    assert!(h.csr_write(csr::MSTATUS, 2 << 11));
    assert_eq!(h.csr_read(csr::MSTATUS).unwrap() & MSTATUS_MPP, 1 << 11);
    // sie/sip: only bits delegated in mideleg.
    assert!(h.csr_write(csr::MIE, 0xaaa));
    assert!(h.csr_write(csr::MIDELEG, MIP_STIP | 0x800));
    assert_eq!(h.csr_read(csr::MIDELEG), Some(MIP_STIP));
    assert_eq!(h.csr_read(csr::SIE), Some(MIP_STIP));
    assert!(h.csr_write(csr::SIE, 0));
    assert_eq!(h.csr_read(csr::MIE), Some(0xaaa & !MIP_STIP));
    assert!(h.csr_write(csr::MIP, MIP_SSIP | MIP_STIP | MIP_MTIP));
    assert_eq!(
        h.csr_read(csr::MIP),
        Some(MIP_SSIP | MIP_STIP),
        "MTIP is a line"
    );
    assert_eq!(h.csr_read(csr::SIP), Some(MIP_STIP));
    assert!(
        h.csr_write(csr::SIP, 0),
        "SSIP not delegated: write ignored"
    );
    assert_eq!(h.csr_read(csr::MIP), Some(MIP_SSIP | MIP_STIP));
    // satp: Sv48 is not supported, the write is ignored; mepc drops bit 0; read-only.
    assert!(h.csr_write(csr::SATP, 8 << 60 | 0x1234));
    assert!(h.csr_write(csr::SATP, 9 << 60 | 0x1));
    assert_eq!(h.csr_read(csr::SATP), Some(8 << 60 | 0x1234));
    assert!(h.csr_write(csr::MEPC, 0x8000_0001));
    assert_eq!(h.csr_read(csr::MEPC), Some(0x8000_0000));
    assert!(!h.csr_write(0x7c0, 1));
    assert_eq!(h.csr_read(0x3a1), None, "odd pmpcfg does not exist on RV64");
    assert!(h.csr_write(0x3b5, 0x1234));
    assert_eq!(h.csr_read(0x3b5), Some(0x1234));
}

// ---------------------------------------------------------------------------------------
// Speed. Run with:
//   cargo test -p machine --release -- --ignored --nocapture bench_mips

#[test]
#[ignore = "benchmark: run in release mode with --nocapture"]
fn bench_mips() {
    fn mips(t: &mut T, label: &str) {
        let start = std::time::Instant::now();
        let mut total = 0;
        loop {
            let e = t.run(1_000_000);
            total += e.executed;
            if e.reason != ExitReason::Budget {
                break;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(
            t.h.mode,
            Mode::Supervisor,
            "{label}: trapped, mcause {:#x} mepc {:#x} mtval {:#x}",
            t.h.csr.mcause,
            t.h.csr.mepc,
            t.h.csr.mtval
        );
        println!(
            "{label}: {total} instructions in {secs:.3} s = {:.0} MIPS",
            total as f64 / secs / 1e6
        );
    }
    // Integer loop, 100 M iterations of 6 instructions, S-mode with Sv39 on.
    let mut t = s_mode_paged();
    t.put(
        CODE,
        &[
            addi(A0, A0, 1),
            xor(A1, A1, A0),
            slli(A2, A0, 3),
            add(A3, A3, A2),
            srli(A4, A3, 5),
            bne(A0, A5, -20),
            WFI,
        ],
    );
    t.h.x[A5 as usize] = 100_000_000;
    mips(&mut t, "integer loop");
    assert_eq!(t.x(A0), 100_000_000);

    // Memory loop: bytes and words over a 64 KiB buffer mapped by 16 4-KiB pages, 200 passes.
    let mut t = s_mode_paged();
    for p in 0..16 {
        map(
            &mut t,
            0x100_0000 + p * 4096,
            RAM_BASE + 0x10_0000 + p * 4096,
            V | R | W | A | D,
            0,
        );
    }
    t.put(
        CODE,
        &[
            lui(T0, 0x1000), // 0: t0 = 0x100_0000
            lui(T1, 0x1010), // 4: t1 = end
            lbu(A0, T0, 0),  // 8: inner
            addi(A0, A0, 1),
            sb(A0, T0, 0),
            lw(A1, T0, 4),
            add(A1, A1, A0),
            sw(A1, T0, 4),
            addi(T0, T0, 8),
            bne(T0, T1, -28),
            addi(A5, A5, -1), // 40
            bne(A5, ZERO, -44),
            WFI,
        ],
    );
    t.h.x[A5 as usize] = 1600;
    mips(&mut t, "memory loop");

    // Trap loop: U-mode ecall delegated to an S handler that skips it and returns with sret;
    // 8 instructions per round trip, 5 M round trips.
    let mut t = s_mode_paged();
    map(&mut t, 0x7000, DATA + 0x5000, V | R | X | U | A, 0);
    t.put(
        DATA + 0x5000,
        &[ECALL, addi(A0, A0, 1), bne(A0, A5, -8), li(17, 1), ECALL],
    );
    let h = RAM_BASE + 0x9000;
    t.put(
        h,
        &[
            bne(17, ZERO, 20),
            csrr(T0, csr::SEPC),
            addi(T0, T0, 4),
            csrw(csr::SEPC, T0),
            SRET,
            WFI,
        ],
    );
    t.h.csr.stvec = h;
    t.h.csr.medeleg = 1 << 8;
    t.h.mode = Mode::User;
    t.h.update_keys();
    t.h.pc = 0x7000;
    t.h.x[A5 as usize] = 5_000_000;
    mips(&mut t, "ecall/sret loop");
    assert_eq!(t.x(A0), 5_000_000);
}

#[test]
fn sfence_vma_is_privileged_and_tvm_traps_satp() {
    // U: illegal. S under TVM: sfence.vma and satp access illegal. S: allowed.
    let mut t = T::new(&[]);
    enter(&mut t, Mode::User, &[SFENCE_VMA]);
    t.run_to_wfi();
    t.trapped_m(2);
    assert_eq!(t.h.csr.mtval, SFENCE_VMA as u64);
    for inst in [SFENCE_VMA, csrr(A0, csr::SATP)] {
        let mut t = T::new(&[]);
        enter(&mut t, Mode::Supervisor, &[inst, WFI]);
        t.h.csr.mstatus |= MSTATUS_TVM;
        t.run_to_wfi();
        t.trapped_m(2);
        let mut t = T::new(&[]);
        enter(&mut t, Mode::Supervisor, &[inst, WFI]);
        t.run_to_wfi();
        assert_eq!(t.h.pc, CODE + 0x108, "allowed without TVM");
    }
}

/// Runs riscv-tests binaries (built from github.com/riscv-software-src/riscv-tests, suites
/// rv64ui/um/ua/uc/si/mi, `-p-` and `-v-` environments) found in `$RISCV_TESTS`:
///   RISCV_TESTS=/path/to/isa cargo test -p machine --release -- --ignored riscv_tests
#[test]
#[ignore = "needs riscv-tests binaries in $RISCV_TESTS"]
fn riscv_tests() {
    use crate::machine::{Config, Image, Machine, Stop};
    let dir = std::env::var("RISCV_TESTS").expect("set RISCV_TESTS to the built isa/ directory");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("readable RISCV_TESTS")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| (n.contains("-p-") || n.contains("-v-")) && !n.contains('.'))
        .collect();
    names.sort();
    let mut failed = Vec::new();
    for name in &names {
        let bytes = std::fs::read(format!("{dir}/{name}")).expect("readable test");
        let config = Config {
            harts: 1,
            ..Config::default()
        };
        let mut m = Machine::new(config, Image::Elf(&bytes), None).expect("loadable test");
        let stop = m.run(50_000_000);
        if stop != (Stop::Htif { value: 1 }) {
            let h = &m.harts[0];
            failed.push(format!(
                "{name}: {stop:?} pc {:#x} mcause {:#x} mepc {:#x} mtval {:#x}",
                h.pc, h.csr.mcause, h.csr.mepc, h.csr.mtval
            ));
        }
    }
    println!(
        "{} of {} riscv-tests pass",
        names.len() - failed.len(),
        names.len()
    );
    assert!(failed.is_empty(), "failures:\n{}", failed.join("\n"));
}

#[test]
fn clint_timer_and_software_interrupts_reach_m_mode() {
    use crate::board::CLINT_BASE;
    // mtimecmp = 30 ticks (300 cycles), MTIE and MIE on, then spin.
    let mut t = T::new(&[
        sd(A1, A0, 0),
        csrw(csr::MIE, A2),
        csrrs(ZERO, csr::MSTATUS, A3),
        jal(ZERO, 0),
    ]);
    t.h.x[A0 as usize] = CLINT_BASE + 0x4000; // mtimecmp[0]
    t.h.x[A1 as usize] = 30;
    t.h.x[A2 as usize] = MIP_MTIP;
    t.h.x[A3 as usize] = MSTATUS_MIE;
    let e = t.run(2000);
    assert_eq!(e.reason, ExitReason::Wfi);
    t.trapped_m(cause::INTERRUPT | 7);
    assert_eq!(t.h.csr.mepc, CODE + 12);
    assert!((300..300 + 256 + 8).contains(&e.executed), "{}", e.executed);

    // msip: the store to the CLINT makes MSI pending; it is taken right after the store.
    let mut t = T::new(&[
        csrw(csr::MIE, A2),
        csrrs(ZERO, csr::MSTATUS, A3),
        sw(A1, A0, 0),
        NOP,
        WFI,
    ]);
    t.h.x[A0 as usize] = CLINT_BASE;
    t.h.x[A1 as usize] = 1;
    t.h.x[A2 as usize] = MIP_MSIP;
    t.h.x[A3 as usize] = MSTATUS_MIE;
    t.run_to_wfi();
    t.trapped_m(cause::INTERRUPT | 3);
    assert_eq!(t.h.csr.mepc, CODE + 12);
}

#[test]
fn debugger_changes_to_satp_and_mode_take_effect_on_the_next_run() {
    let mut t = s_mode_paged();
    t.h.csr.mstatus |= MSTATUS_SUM;
    t.put(CODE, &[ld(A0, A1, 0), WFI]);
    t.h.x[A1 as usize] = 0x1000; // user page → DATA
    t.put64(DATA, 11);
    t.run_to_wfi();
    assert_eq!(t.x(A0), 11);
    // A second root: the same gigapage for code, VA 0x1000 → DATA + 0x7000.
    let root2 = PT + 0x80000;
    t.put64(root2 + 2 * 8, pte(RAM_BASE, V | R | W | X | A | D));
    let l1 = root2 + 0x1000;
    let l0 = root2 + 0x2000;
    t.put64(root2, pte(l1, V));
    t.put64(l1, pte(l0, V));
    t.put64(l0 + 8, pte(DATA + 0x7000, V | R | W | U | A | D));
    t.put64(DATA + 0x7000, 22);
    t.h.csr.satp = 8 << 60 | root2 >> 12; // poked, not written by an instruction
    t.resume(CODE);
    t.run_to_wfi();
    assert_eq!(t.x(A0), 22);
    // Mode poked to U: the S-only code page now faults on fetch.
    t.h.mode = Mode::User;
    t.resume(CODE);
    t.run_to_wfi();
    t.trapped_m(12);
}
