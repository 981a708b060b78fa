//! The differential test's program generator: a bare-metal ELF for QEMU's `virt` board (and
//! ours) that runs a batch of random instruction sequences, each in a fresh, seeded state, and
//! prints one line per sequence: a hash of everything the sequence could change.
//!
//! One sequence, driven by the M-mode harness at 0x8000_0000:
//! 1. set-up from its descriptor: the 16 KiB scratch area filled from a seed (xorshift64),
//!    the four scratch PTEs, S and M trap CSRs, `medeleg`, `mideleg`, `mie`, `mip` (S-level
//!    interrupts pending), `satp` (bare, or Sv39 with a root whose code pages are S- or
//!    U-only), `mstatus` (MPP = the sequence's mode, random SUM, MXR, MPRV, TVM, TW, TSR,
//!    SPP...), and x1..x31; then `mret` into the body in M, S or U mode;
//! 2. the body: random instructions ending in `ecall`. Every trap not delegated goes to the
//!    M-mode handler, which saves the registers, logs (mcause, mepc, mtval, mstatus) and
//!    skips the trapping instruction (2 or 4 bytes, read at mepc) while mepc is inside the
//!    body, or masks an interrupt (`mie` = 0) and resumes; a trap at or past the end (the
//!    final `ecall`) or outside the body, or the 64th trap, ends it. A delegated trap goes
//!    to the S handler, whose `ecall` ends it;
//! 3. the dump: x1..x31, the CSRs of `DUMP_CSRS`, the trap count and log, then the scratch
//!    area and its PTEs (A/D bits set by the walks), hashed (FNV-1a over 64-bit words) and
//!    printed as 16 hex digits and a newline on the UART. In full mode every word is printed.
//!
//! Termination is structural: every control transfer the generator emits goes forward to
//! an instruction boundary of the body (branches, `jal`, `auipc`+`jalr`, `xepc`+`xret`), and
//! random raw words that could jump (branches, jumps, `mret`/`sret`), wait (`wfi`), store
//! through an uncontrolled base or write a CSR are redrawn. Stores and AMOs go through a base
//! register the template sets to a scratch address just before. A trap only skips forward.
//! So a sequence ends after at most its length plus 64 trap round trips, on any machine.

use machine::cpu::encode::{self as enc, ZERO};

pub const RAM: u64 = 0x8000_0000;
/// The scratch area the memory templates address: 4 pages mapped by the L0 table's first
/// four entries, identity, with per-sequence random permissions.
pub const SCRATCH: u64 = 0x8100_0000;
pub const SCRATCH_BYTES: u64 = 4 * 4096;
/// At most this many traps are logged (and hashed); the sequence ends at `TRAP_LIMIT`.
pub const LOG_MAX: u64 = 8;
pub const TRAP_LIMIT: u64 = 64;

/// CSRs read into the dump after a sequence (all deterministic on both machines).
pub const DUMP_CSRS: &[(u16, &str)] = &[
    (0x300, "mstatus"),
    (0x341, "mepc"),
    (0x342, "mcause"),
    (0x343, "mtval"),
    (0x140, "sscratch"),
    (0x141, "sepc"),
    (0x142, "scause"),
    (0x143, "stval"),
    (0x105, "stvec"),
    (0x180, "satp"),
    (0x306, "mcounteren"),
    (0x106, "scounteren"),
    (0x30a, "menvcfg"),
    (0x10a, "senvcfg"),
    (0x320, "mcountinhibit"),
    (0x100, "sstatus"),
    (0x304, "mie"),
    (0x344, "mip"),
];

/// CSRs the descriptor initialises, in this order, before `satp` and `mstatus`.
const INIT_CSRS: &[u16] = &[
    0x140, 0x141, 0x142, 0x143, 0x105, 0x342, 0x343, 0x306, 0x106, 0x30a, 0x10a, 0x320, 0x302,
    0x303, 0x344, 0x304,
];
/// Where `stvec` sits in [`INIT_CSRS`].
const STVEC_SLOT: usize = 4;
/// The S-level interrupts (SSI, STI, SEI): software-writable in `mip` (STIP while
/// `menvcfg.STCE` is 0, which the generator keeps), so a sequence can raise them with no
/// timer involved; `mideleg` may send them to S.
const S_INTERRUPTS: &[u64] = &[1, 5, 9];
const S_PENDING: &[u64] = &[1, 5];
/// Exceptions a sequence may delegate to S: all QEMU lets M delegate but the fetch faults
/// (1, 12) and ecall from S (9), which would trap at the S handler forever.
const DELEGABLE: &[u64] = &[0, 2, 3, 4, 5, 6, 7, 8, 13, 15];

/// CSRs a body may read and write with any value: their writes are WARL-checked on both
/// machines and nothing of the harness depends on them.
/// (mcounteren, scounteren and mcountinhibit are 32-bit registers: QEMU 7.2 keeps 64 bits,
/// and lets mcountinhibit.TM be set; they are only read.)
/// (`stvec` is only read: it points at the S handler while exceptions are delegated.)
/// (`mie`/`sie`/`mip`/`sip` are written only with values `Item::CsrLi` controls: QEMU 7.2
/// lets the H extension's VS bits and Sscofpmf's LCOFIP be set there.)
const RW_CSRS: &[u16] = &[0x140, 0x142, 0x143, 0x342, 0x343];
/// Interrupt enables and pendings, and the bits a body may write into them. `mtimecmp` is
/// in the far future (the harness sets it), so no line is up on either machine and what is
/// pending is what software wrote. Not SEIP: QEMU 7.2 ranks a software-set SEIP below STI,
/// the spec above (MEI, MSI, MTI, SEI, SSI, STI).
const IRQ_CSRS: &[(u16, u64)] = &[(0x304, 0xaaa), (0x104, 0x222), (0x344, 0x22), (0x144, 0x22)];
/// menvcfg and senvcfg: QEMU 7.2 implements Zicbom's CBIE/CBCFE/CBZE bits there, which we
/// do not; written only through immediates 0 and 1 (FIOM).
const ENVCFG_CSRS: &[u16] = &[0x30a, 0x10a];
/// CSRs a body may only read (rs1 = x0 / uimm = 0), or write where the write must trap
/// (read-only numbers), or change through the 5-bit immediates (status registers: bits
/// 0..4 are SIE and MIE, harmless with `mie` = 0). Not `mideleg`: QEMU 7.2's default CPU
/// has the H extension, whose VS and SGEI bits read as 1 there; nor `misa`, `mip`, counters.
const RO_CSRS: &[u16] = &[
    0x300, 0x100, 0x341, 0x141, 0xf14, 0x302, 0x105, 0x304, 0x104, 0x344, 0x144, 0x104, 0x305,
    0x180, 0x3a0, 0x3b0, 0x320, 0x306, 0x106,
];
const STATUS_CSRS: &[u16] = &[0x300, 0x100];
const READ_ONLY_NUMBERS: &[u16] = &[0xf14, 0xf11];

// The harness's variables (at VARS) and a descriptor's fields: byte offsets.
const V_IDX: i32 = 0;
const V_COUNT: i32 = 8;
const V_CUR: i32 = 16;
const V_FULL: i32 = 24;
const V_DUMMY: i32 = 32;
const V_K: i32 = 40;
const V_H0: i32 = 48;
/// The dumped words, contiguous: x0..x31, the CSRs, the trap count, the log.
pub const V_REGS: i32 = 128;
const V_CSRS: i32 = V_REGS + 32 * 8;
const V_NTRAPS: i32 = V_CSRS + DUMP_CSRS.len() as i32 * 8;
const V_LOG: i32 = V_NTRAPS + 8;
const V_END: i32 = V_LOG + LOG_MAX as i32 * 32;
/// Words of the dump before the scratch area.
pub const DUMP_HEAD_WORDS: usize = (V_END - V_REGS) as usize / 8;

const D_BODY: i32 = 0;
const D_END: i32 = 8;
const D_MSTATUS: i32 = 16;
const D_SATP: i32 = 24;
const D_SEED: i32 = 32;
const D_PTE: i32 = 40;
const D_CSRS: i32 = D_PTE + 4 * 8;
const D_REGS: i32 = D_CSRS + INIT_CSRS.len() as i32 * 8;
const D_SIZE: i32 = D_REGS + 31 * 8;

/// splitmix64: small, seedable, good enough to draw programs.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    fn reg(&mut self) -> u32 {
        self.below(32) as u32
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
    /// A register value: mostly edge cases and small numbers, sometimes anything.
    fn value(&mut self) -> u64 {
        const EDGES: &[u64] = &[
            0,
            1,
            2,
            u64::MAX,
            u64::MAX - 1,
            i64::MIN as u64,
            i64::MAX as u64,
            0x8000_0000,
            0xffff_ffff,
            0x7fff_ffff,
            0xffff_ffff_8000_0000,
            0x1_0000_0000,
            63,
            64,
            32,
            31,
        ];
        match self.below(4) {
            0 => self.pick(EDGES),
            1 => self.below(64) + 3,
            2 => (self.below(0x1000) as i64 - 0x800) as u64,
            _ => self.next(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    M,
    S,
    U,
}

/// One element of a body. Control transfers name their target as a count of items to skip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Raw32(u32),
    Raw16(u16),
    /// A CSR instruction from the curated lists.
    Csr(u32),
    /// `lui rx; addiw rx` = value, then CSR instruction `inst` (its rs1 is rx).
    CsrLi {
        rx: u32,
        value: u32,
        inst: u32,
    },
    /// A conditional branch (funct3) to `skip` items ahead.
    Branch {
        f3: u32,
        rs1: u32,
        rs2: u32,
        skip: usize,
    },
    Jal {
        rd: u32,
        skip: usize,
    },
    /// `auipc rx, 0; jalr rd, imm(rx)` to `skip` items ahead (`odd`: imm has bit 0 set).
    Jalr {
        rd: u32,
        rx: u32,
        skip: usize,
        odd: bool,
    },
    /// `auipc rb; addi rb` = a scratch address, then `inst`, whose base register is rb.
    Mem {
        rb: u32,
        addr: u64,
        inst: MemInst,
    },
    /// `addi rb, x0, k; slli rb, rb, sh`: an address where neither board has anything.
    MemFar {
        rb: u32,
        k: i32,
        sh: u32,
        inst: MemInst,
    },
    /// `auipc rx; addi rx` = the target, `csrw mepc|sepc, rx`, `mret|sret`.
    Xret {
        mret: bool,
        rx: u32,
        skip: usize,
    },
}

/// A memory instruction whose base register and offset the template fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemInst {
    Load {
        f3: u32,
        rd: u32,
        imm: i32,
    },
    Store {
        f3: u32,
        rs2: u32,
        imm: i32,
    },
    /// LR (f5 2), SC (3) or an AMO, `w` 32-bit, aq/rl bits.
    Amo {
        f5: u32,
        w: bool,
        rd: u32,
        rs2: u32,
        aqrl: u32,
    },
    /// c.lw/c.ld/c.sw/c.sd (f3 2, 3, 6, 7); base and rd/rs2 in x8..x15.
    Compressed {
        f3: u32,
        r: u32,
        uimm: u32,
    },
}

impl Item {
    /// Bytes this item takes in the body.
    fn size(&self) -> u64 {
        match self {
            Item::Raw32(_) | Item::Csr(_) | Item::Branch { .. } | Item::Jal { .. } => 4,
            Item::CsrLi { .. } => 12,
            Item::Raw16(_) => 2,
            Item::Jalr { .. } => 8,
            Item::Mem { inst, .. } | Item::MemFar { inst, .. } => {
                8 + if matches!(inst, MemInst::Compressed { .. }) {
                    2
                } else {
                    4
                }
            }
            Item::Xret { .. } => 16,
        }
    }
}

/// One random sequence with the state it starts in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    pub mode: Mode,
    /// 0 bare, 1 Sv39 with S code pages, 2 Sv39 with U code pages.
    pub paging: u8,
    pub asid: u64,
    pub mstatus: u64,
    pub seed: u64,
    pub ptes: [u64; 4],
    pub csrs: [u64; INIT_CSRS.len()],
    pub regs: [u64; 31],
    pub items: Vec<Item>,
}

const MSTATUS_RANDOM: &[u64] = &[
    1 << 1,  // SIE
    1 << 3,  // MIE
    1 << 5,  // SPIE
    1 << 7,  // MPIE
    1 << 8,  // SPP
    1 << 17, // MPRV
    1 << 18, // SUM
    1 << 19, // MXR
    1 << 20, // TVM
    1 << 21, // TW
    1 << 22, // TSR
];

const MSTATUS_MPRV: u64 = 1 << 17;
const PTE_V: u64 = 1;
const PTE_R: u64 = 2;
const PTE_W: u64 = 4;
const PTE_X: u64 = 8;
const PTE_U: u64 = 16;
const PTE_A: u64 = 64;
const PTE_D: u64 = 128;

impl Sequence {
    /// The sequence drawn from `seed`, `len` items long.
    pub fn random(seed: u64, len: usize) -> Sequence {
        let mut r = Rng::new(seed);
        let mode = r.pick(&[Mode::M, Mode::S, Mode::U]);
        // S runs on S code pages; now and then on U ones, where every fetch faults.
        let paging = match mode {
            _ if r.one_in(3) => 0,
            Mode::U => 2,
            Mode::S if r.one_in(8) => 2,
            Mode::S => 1,
            Mode::M => r.pick(&[1, 2]),
        };
        let mut mstatus = match mode {
            Mode::M => 3 << 11,
            Mode::S => 1 << 11,
            Mode::U => 0,
        };
        for &b in MSTATUS_RANDOM {
            if r.one_in(4) {
                mstatus |= b;
            }
        }
        // QEMU 7.2 keeps MPRV through an xRET to a lower mode (priv 1.11); priv 1.12 and we
        // clear it. MPRV is set only where no xRET leaves M (see `items` below).
        if mode != Mode::M {
            mstatus &= !MSTATUS_MPRV;
        }
        // The entry `mret` sets MIE from MPIE: MIE itself stays 0 until then, so that no
        // interrupt is taken inside the harness.
        mstatus &= !(1 << 3);
        let mut ptes = [0; 4];
        for (k, p) in ptes.iter_mut().enumerate() {
            let page = (SCRATCH >> 12) + k as u64;
            let flags = if r.one_in(2) {
                PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
            } else {
                // Anything: reserved W-without-R, no permission (a pointer), missing A/D.
                PTE_V | (r.next() & (PTE_R | PTE_W | PTE_X | PTE_A | PTE_D))
            };
            let u = if paging == 2 || r.one_in(3) { PTE_U } else { 0 };
            *p = page << 10 | flags | u;
            if r.one_in(16) {
                *p &= !PTE_V;
            }
        }
        let mut csrs = [0u64; INIT_CSRS.len()];
        for (i, c) in INIT_CSRS.iter().enumerate() {
            csrs[i] = match c {
                0x141 => r.value() & !1, // sepc: bit 0 is always 0
                0x105 => r.below(2),     // stvec's mode; `build` adds the S handler's address
                0x303 | 0x344 | 0x304 if r.one_in(2) => 0,
                0x344 => S_PENDING
                    .iter()
                    .filter(|_| r.one_in(2))
                    .fold(0, |m, b| m | 1 << b),
                0x303 | 0x304 => S_INTERRUPTS
                    .iter()
                    .filter(|_| r.one_in(2))
                    .fold(0, |m, b| m | 1 << b),
                0x302 if r.one_in(2) => 0,
                // An AMO's fault is a load's on QEMU (`normalise`): whether it is delegated
                // must not depend on which, so the load and store causes go together.
                0x302 => {
                    let mut m = DELEGABLE
                        .iter()
                        .filter(|_| r.one_in(3))
                        .fold(0u64, |m, b| m | 1 << b);
                    for (load, store) in [(4, 6), (5, 7), (13, 15)] {
                        if m & (1 << load | 1 << store) != 0 {
                            m |= 1 << load | 1 << store;
                        }
                    }
                    m
                }
                0x30a | 0x10a | 0x320 => r.value() & 1, // envcfg FIOM, CY inhibit: keep small
                0x306 | 0x106 => r.value() & 0xffff_fff8, // counters stay gated: never read
                _ => r.value(),
            };
        }
        let mut regs = [0u64; 31];
        for v in regs.iter_mut() {
            *v = r.value();
        }
        let mut items: Vec<Item> = (0..len).map(|_| random_item(&mut r, len)).collect();
        if mstatus & MSTATUS_MPRV != 0 {
            items.retain(|it| !matches!(it, Item::Xret { .. }));
        }
        // QEMU 7.2 translates an AMO as a load first, so one that then faults for want of W
        // has already set A in the PTE; the spec's walk sets nothing on a fault. A scratch
        // page an AMO targets without W keeps A set from the start.
        for it in &items {
            if let Item::Mem {
                addr,
                inst: MemInst::Amo { f5, .. },
                ..
            } = it
                && *f5 != 2
            {
                for a in [*addr, addr + 7] {
                    let k = a.wrapping_sub(SCRATCH) >> 12;
                    if k < 4 && ptes[k as usize] & PTE_W == 0 {
                        ptes[k as usize] |= PTE_A;
                    }
                }
            }
        }
        Sequence {
            mode,
            paging,
            asid: r.below(1 << 16),
            mstatus,
            seed: r.next() | 1,
            ptes,
            csrs,
            regs,
            items,
        }
    }
}

fn random_item(r: &mut Rng, len: usize) -> Item {
    let skip = |r: &mut Rng| r.below(len.min(12) as u64) as usize;
    match r.below(100) {
        0..=24 => Item::Raw32(alu(r)),
        25..=32 => Item::Raw32(filtered32(r)),
        33..=42 => Item::Raw16(filtered16(r)),
        43..=60 => {
            let size = 1u64 << r.below(4);
            let inst = mem_inst(r);
            let mut addr = SCRATCH + r.below(SCRATCH_BYTES / size) * size;
            // QEMU 7.2 fails a misaligned SC without the spec's trap: SCs stay aligned.
            let sc = matches!(inst, MemInst::Amo { f5: 3, .. });
            if r.one_in(8) && !sc {
                addr = addr.wrapping_add(r.below(8)); // misaligned
            }
            if r.one_in(16) {
                addr = addr.wrapping_add(SCRATCH_BYTES).wrapping_sub(r.below(16)); // page 4
            }
            if sc {
                addr &= !7;
            }
            let rb = match inst {
                MemInst::Compressed { .. } => 8 + r.below(8) as u32,
                _ => 1 + r.below(31) as u32,
            };
            if r.one_in(6) {
                // 0, 0x800, 0x2800_0000 (between QEMU's flash and PCIe), 0x8800_0000 (past
                // 128 MiB of RAM), 4 GiB, 256 GiB (not canonical in Sv39), -4096.
                let (k, sh) = r.pick(&[
                    (0, 0),
                    (1, 11),
                    (5, 27),
                    (17, 27),
                    (1, 32),
                    (1, 38),
                    (-1, 12),
                ]);
                return Item::MemFar { rb, k, sh, inst };
            }
            Item::Mem { rb, addr, inst }
        }
        61..=66 => Item::Csr(csr_inst(r)),
        67..=72 => {
            let (csr, bits) = r.pick(IRQ_CSRS);
            let rx = 1 + r.below(31) as u32;
            let value = (r.next() & bits) as u32;
            let f3 = r.pick(&[1, 2, 3]);
            let inst = (csr as u32) << 20 | rx << 15 | f3 << 12 | r.reg() << 7 | 0x73;
            Item::CsrLi { rx, value, inst }
        }
        73..=78 => Item::Branch {
            f3: r.pick(&[0, 1, 4, 5, 6, 7, 2, 3]),
            rs1: r.reg(),
            rs2: r.reg(),
            skip: skip(r),
        },
        79..=80 => Item::Jal {
            rd: r.reg(),
            skip: skip(r),
        },
        81..=82 => Item::Jalr {
            rd: r.reg(),
            rx: 1 + r.below(31) as u32,
            skip: skip(r),
            odd: r.one_in(2),
        },
        83..=85 => Item::Xret {
            mret: r.one_in(2),
            rx: 1 + r.below(31) as u32,
            skip: skip(r),
        },
        86..=89 => {
            let sfence = enc::SFENCE_VMA | r.reg() << 15 | r.reg() << 20;
            Item::Raw32(r.pick(&[
                enc::ECALL,
                enc::EBREAK,
                enc::FENCE_I,
                0x0ff0_000f, // fence iorw, iorw
                sfence,
            ]))
        }
        90..=91 => Item::Raw16(0x9002), // c.ebreak
        _ => Item::Raw32(enc::lui(r.reg(), r.below(1 << 20) as u32)),
    }
}

/// A register-register or register-immediate ALU instruction (RV64I, M), W forms included,
/// with reserved funct7s now and then.
fn alu(r: &mut Rng) -> u32 {
    loop {
        let w = alu_any(r);
        if !qemu_extension_space(w) {
            return w;
        }
    }
}

fn alu_any(r: &mut Rng) -> u32 {
    let (rd, rs1, rs2) = (r.reg(), r.reg(), r.reg());
    let f3 = r.below(8) as u32;
    match r.below(5) {
        0 => enc::r(r.pick(&[0, 0x20, 1, 0, 1]), rs2, rs1, f3, rd, 0x33),
        1 => enc::r(r.pick(&[0, 0x20, 1, 0, 1]), rs2, rs1, f3, rd, 0x3b),
        2 => {
            let imm = if f3 == 1 || f3 == 5 {
                // Shifts: shamt plus, sometimes, arithmetic or reserved upper bits.
                r.below(64) as u32 | r.pick(&[0, 0, 0x400, 0x20, 0x800])
            } else {
                r.below(4096) as u32
            };
            imm << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x13
        }
        3 => {
            let imm = if f3 == 1 || f3 == 5 {
                r.below(32) as u32 | r.pick(&[0, 0, 0x400, 0x20])
            } else {
                r.below(4096) as u32
            };
            imm << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x1b
        }
        _ => enc::auipc(rd, r.below(1 << 20) as u32),
    }
}

/// Whether `w` lies in an encoding space QEMU 7.2's default CPU gives to an extension we do
/// not implement: Zba/Zbb/Zbc/Zbs (OP and OP-32 funct7s other than 0, 1, 0x20, ANDN/ORN/XNOR,
/// the shift-immediate spaces with upper bits beyond SRAI's), Zicbom/Zicboz (MISC-MEM
/// funct3 2). Both machines' answers there differ by design.
pub fn qemu_extension_space(w: u32) -> bool {
    let (op, f3, f7, imm) = (w & 0x7f, (w >> 12) & 7, w >> 25, w >> 20);
    match op {
        0x33 => !matches!(f7, 0 | 1 | 0x20) || (f7 == 0x20 && matches!(f3, 4 | 6 | 7)),
        0x3b => !matches!(f7, 0 | 1 | 0x20),
        0x13 => (f3 == 1 && imm >> 6 != 0) || (f3 == 5 && !matches!(imm >> 6, 0 | 0x10)),
        0x1b => (f3 == 1 && imm >> 5 != 0) || (f3 == 5 && !matches!(imm >> 5, 0 | 0x20)),
        0x0f => f3 == 2,
        _ => false,
    }
}

/// Whether a 32-bit word may appear raw in a body (see the module comment).
pub fn raw32_ok(w: u32) -> bool {
    if w & 3 != 3 || qemu_extension_space(w) {
        return false;
    }
    match w & 0x7f {
        // Loads too: through an uncontrolled base they reach QEMU's PCIe windows, flash and
        // ROM, which this board does not have (the Mem templates address faults instead).
        0x63 | 0x67 | 0x6f | 0x23 | 0x2f | 0x03 => false,
        0x73 => {
            let f3 = (w >> 12) & 7;
            // CSR instructions only from the curated lists; no xRET, no wfi, in any form.
            // f3 4 and hfence/sinval (funct7 0x11, 0x31, 0x0b, 0x0c): the H extension's
            // loads and fences and Svinval, which QEMU 7.2's default CPU has.
            f3 == 0
                && !matches!(w >> 20, 0x102 | 0x302 | 0x105)
                && !matches!(w >> 25, 0x11 | 0x31 | 0x0b | 0x0c)
        }
        _ => true,
    }
}

/// Whether a 16-bit word may appear raw in a body: no jumps, branches or stores.
pub fn raw16_ok(h: u16) -> bool {
    let (op, f3) = (h & 3, h >> 13);
    match (op, f3) {
        (3, _) => false,
        (0, 2 | 3 | 5..=7) => false,
        (2, 2 | 3) => false,
        (1, 5..=7) => false,
        (2, 5..=7) => false,
        // c.jr and c.jalr: funct4 100x with rs2 = 0 and rs1 != 0.
        (2, 4) => !((h >> 2) & 0x1f == 0 && (h >> 7) & 0x1f != 0),
        _ => true,
    }
}

fn filtered32(r: &mut Rng) -> u32 {
    loop {
        let w = r.next() as u32 | 3;
        if raw32_ok(w) {
            return w;
        }
    }
}

fn filtered16(r: &mut Rng) -> u16 {
    loop {
        let h = r.next() as u16;
        if raw16_ok(h) {
            return h;
        }
    }
}

fn mem_inst(r: &mut Rng) -> MemInst {
    match r.below(8) {
        0..=2 => MemInst::Load {
            f3: r.pick(&[0, 1, 2, 3, 4, 5, 6, 7]),
            rd: r.reg(),
            imm: 0,
        },
        3..=4 => MemInst::Store {
            f3: r.pick(&[0, 1, 2, 3, 4]),
            rs2: r.reg(),
            imm: 0,
        },
        5..=6 => MemInst::Amo {
            f5: r.pick(&[2, 3, 1, 0, 4, 0xc, 8, 0x10, 0x14, 0x18, 0x1c, 2, 3, 5]),
            w: r.one_in(2),
            rd: r.reg(),
            rs2: r.reg(),
            aqrl: r.below(4) as u32,
        },
        _ => MemInst::Compressed {
            f3: r.pick(&[2, 3, 6, 7]),
            r: 8 + r.below(8) as u32,
            uimm: 0,
        },
    }
}

fn csr_inst(r: &mut Rng) -> u32 {
    let rd = r.reg();
    let op =
        |csr: u16, f3: u32, src: u32| (csr as u32) << 20 | src << 15 | f3 << 12 | rd << 7 | 0x73;
    // funct3: 1..3 csrrw/s/c with a register, 5..7 the same with a 5-bit immediate.
    match r.below(6) {
        0..=2 => op(r.pick(RW_CSRS), r.pick(&[1, 2, 3, 5, 6, 7]), r.reg()),
        3 => op(r.pick(RO_CSRS), r.pick(&[2, 3, 6, 7]), 0),
        4 => op(r.pick(STATUS_CSRS), r.pick(&[5, 6, 7]), r.reg()),
        5 if r.one_in(2) => op(r.pick(ENVCFG_CSRS), r.pick(&[5, 6, 7]), r.below(2) as u32),
        // QEMU 7.2 decides "writes a read-only CSR" on csrrs/csrrc's register *value*, the
        // spec on rs1 != x0: register forms only with rs1 = x0 (or csrrw, always a write).
        _ => {
            let f3 = r.pick(&[1, 2, 3, 5, 6, 7]);
            op(
                r.pick(READ_ONLY_NUMBERS),
                f3,
                if f3 == 2 || f3 == 3 { 0 } else { r.reg() },
            )
        }
    }
}

/// A tiny assembler: words and halfwords at increasing addresses, labels, and fix-ups for
/// PC-relative references resolved once everything is placed.
struct Asm {
    base: u64,
    bytes: Vec<u8>,
    labels: Vec<(&'static str, u64)>,
    fixups: Vec<(usize, Fix, &'static str)>,
}

#[derive(Clone, Copy)]
enum Fix {
    /// B-type branch.
    Branch,
    /// `jal`.
    Jal,
    /// `auipc rd; addi rd, rd` pair.
    La,
}

impl Asm {
    fn here(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }
    fn w(&mut self, w: u32) {
        self.bytes.extend_from_slice(&w.to_le_bytes());
    }
    fn h(&mut self, h: u16) {
        self.bytes.extend_from_slice(&h.to_le_bytes());
    }
    fn label(&mut self, name: &'static str) {
        let at = self.here();
        self.labels.push((name, at));
    }
    fn at(&self, name: &str) -> u64 {
        self.labels
            .iter()
            .find(|l| l.0 == name)
            .unwrap_or_else(|| panic!("no label {name}"))
            .1
    }
    fn branch(&mut self, f3: u32, rs1: u32, rs2: u32, to: &'static str) {
        self.fixups.push((self.bytes.len(), Fix::Branch, to));
        self.w(enc::b(0, rs2, rs1, f3));
    }
    fn j(&mut self, to: &'static str) {
        self.fixups.push((self.bytes.len(), Fix::Jal, to));
        self.w(enc::jal(ZERO, 0));
    }
    fn call(&mut self, to: &'static str) {
        self.fixups.push((self.bytes.len(), Fix::Jal, to));
        self.w(enc::jal(1, 0));
    }
    fn la(&mut self, rd: u32, to: &'static str) {
        self.fixups.push((self.bytes.len(), Fix::La, to));
        self.w(enc::auipc(rd, 0));
        self.w(enc::addi(rd, rd, 0));
    }
    /// `auipc rd; addi rd` to an absolute address (PC-relative, so any address within ±2 GiB).
    fn la_abs(&mut self, rd: u32, addr: u64) {
        let (hi, lo) = split(addr.wrapping_sub(self.here()) as i64);
        self.w(enc::auipc(rd, hi));
        self.w(enc::addi(rd, rd, lo));
    }
    fn li(&mut self, rd: u32, v: i32) {
        let (hi, lo) = split(v as i64);
        if hi != 0 {
            self.w(enc::lui(rd, hi));
            self.w(enc::addiw(rd, rd, lo));
        } else {
            self.w(enc::addi(rd, ZERO, lo));
        }
    }
    fn resolve(&mut self) {
        for (off, fix, to) in std::mem::take(&mut self.fixups) {
            let target = self.at(to);
            let pc = self.base + off as u64;
            let rel = target.wrapping_sub(pc) as i64;
            let old = u32::from_le_bytes(self.bytes[off..off + 4].try_into().unwrap());
            match fix {
                Fix::Branch => {
                    assert!((-4096..4096).contains(&rel), "branch to {to} too far");
                    let w = enc::b(
                        rel as i32,
                        (old >> 20) & 31,
                        (old >> 15) & 31,
                        (old >> 12) & 7,
                    );
                    self.bytes[off..off + 4].copy_from_slice(&w.to_le_bytes());
                }
                Fix::Jal => {
                    let w = enc::jal((old >> 7) & 31, rel as i32);
                    self.bytes[off..off + 4].copy_from_slice(&w.to_le_bytes());
                }
                Fix::La => {
                    let rd = (old >> 7) & 31;
                    let (hi, lo) = split(rel);
                    self.bytes[off..off + 4].copy_from_slice(&enc::auipc(rd, hi).to_le_bytes());
                    self.bytes[off + 4..off + 8]
                        .copy_from_slice(&enc::addi(rd, rd, lo).to_le_bytes());
                }
            }
        }
    }
}

/// Splits a 32-bit signed offset into `auipc`/`lui`'s upper 20 bits and `addi`'s 12.
fn split(v: i64) -> (u32, i32) {
    assert!(
        (-(1 << 31)..(1 << 31) - 2048).contains(&v),
        "offset {v:#x} out of reach"
    );
    let lo = ((v << 52) >> 52) as i32;
    let hi = ((v - lo as i64) >> 12) as u32 & 0x000f_ffff;
    (hi, lo)
}

// Registers by number, for the harness.
const RA: u32 = 1;
const SP: u32 = 2;
const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const S1: u32 = 9;
const T3: u32 = 28;
const T4: u32 = 29;
const T5: u32 = 30;

fn csrw(csr: u16, rs: u32) -> u32 {
    enc::csrrw(ZERO, csr, rs)
}
fn csrr(rd: u32, csr: u16) -> u32 {
    enc::csrrs(rd, csr, ZERO)
}

/// An assembled batch.
pub struct Program {
    pub elf: Vec<u8>,
}

/// Builds the program running `seqs`; `full` prints every dumped word instead of the hash.
pub fn build(seqs: &[Sequence], full: bool) -> Program {
    let mut a = Asm {
        base: RAM,
        bytes: Vec::new(),
        labels: Vec::new(),
        fixups: Vec::new(),
    };
    harness(&mut a);
    // Bodies.
    let mut bodies = Vec::new();
    for s in seqs {
        a.bytes.resize(a.bytes.len().next_multiple_of(4), 0);
        bodies.push(body(&mut a, &s.items));
    }
    // Data: the variables, then the descriptors, then the page tables; all 4 KiB aligned.
    let page = |a: &mut Asm| a.bytes.resize(a.bytes.len().next_multiple_of(4096), 0);
    page(&mut a);
    a.label("vars");
    let vars = a.bytes.len();
    a.bytes.resize(vars + 4096, 0);
    let put =
        |a: &mut Asm, off: usize, v: u64| a.bytes[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put(&mut a, vars + V_COUNT as usize, seqs.len() as u64);
    put(&mut a, vars + V_FULL as usize, full as u64);
    put(&mut a, vars + V_K as usize, 0x0000_0100_0000_01b3);
    put(&mut a, vars + V_H0 as usize, 0xcbf2_9ce4_8422_2325);
    a.label("desc");
    let desc = a.bytes.len();
    a.bytes.resize(desc + seqs.len() * D_SIZE as usize, 0);
    page(&mut a);
    let tables = a.bytes.len();
    let table_addr = |k: usize| RAM + (tables + k * 4096) as u64;
    let (root_s, root_u, l1_s, l1_u, l0) = (0, 1, 2, 3, 4);
    a.bytes.resize(tables + 5 * 4096, 0);
    let image_end = RAM + a.bytes.len() as u64;
    assert!(image_end <= SCRATCH, "batch too large for the layout");
    let pte_at = |a: &mut Asm, table: usize, i: u64, v: u64| {
        let off = tables + table * 4096 + i as usize * 8;
        a.bytes[off..off + 8].copy_from_slice(&v.to_le_bytes());
    };
    let ptr = |addr: u64| (addr >> 12) << 10 | PTE_V;
    for (root, l1, u) in [(root_s, l1_s, 0), (root_u, l1_u, PTE_U)] {
        // 0..1 GiB (the devices) as one gigapage for S; RAM through L1.
        pte_at(&mut a, root, 0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
        pte_at(&mut a, root, 2, ptr(table_addr(l1)));
        let megs = (image_end - RAM).div_ceil(2 << 20);
        for i in 0..megs {
            let pa = RAM + i * (2 << 20);
            pte_at(
                &mut a,
                l1,
                i,
                (pa >> 12) << 10 | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | u,
            );
        }
        pte_at(&mut a, l1, (SCRATCH - RAM) >> 21, ptr(table_addr(l0)));
    }
    a.labels.push(("l0", table_addr(l0)));
    // Descriptors.
    for (n, (s, &(start, end))) in seqs.iter().zip(&bodies).enumerate() {
        let d = desc + n * D_SIZE as usize;
        let satp = match s.paging {
            0 => 0,
            1 => 8 << 60 | s.asid << 44 | table_addr(root_s) >> 12,
            _ => 8 << 60 | s.asid << 44 | table_addr(root_u) >> 12,
        };
        let mut csrs = s.csrs;
        csrs[STVEC_SLOT] = a.at("s_handler") | (csrs[STVEC_SLOT] & 1);
        put(&mut a, d + D_BODY as usize, start);
        put(&mut a, d + D_END as usize, end);
        put(&mut a, d + D_MSTATUS as usize, s.mstatus);
        put(&mut a, d + D_SATP as usize, satp);
        put(&mut a, d + D_SEED as usize, s.seed);
        for k in 0..4 {
            put(&mut a, d + D_PTE as usize + 8 * k, s.ptes[k]);
        }
        for (k, &v) in csrs.iter().enumerate() {
            put(&mut a, d + D_CSRS as usize + 8 * k, v);
        }
        for (k, &v) in s.regs.iter().enumerate() {
            put(&mut a, d + D_REGS as usize + 8 * k, v);
        }
    }
    a.resolve();
    Program {
        elf: elf(RAM, &a.bytes),
    }
}

/// Emits a body; returns (first byte, address of the final `ecall`).
fn body(a: &mut Asm, items: &[Item]) -> (u64, u64) {
    let start = a.here();
    let mut at = Vec::with_capacity(items.len() + 1);
    let mut pc = start;
    for it in items {
        at.push(pc);
        pc += it.size();
    }
    let end = pc;
    at.push(end);
    let target = |i: usize, skip: usize| at[(i + 1 + skip).min(items.len())];
    for (i, it) in items.iter().enumerate() {
        let pc = at[i];
        debug_assert_eq!(pc, a.here());
        match *it {
            Item::Raw32(w) | Item::Csr(w) => a.w(w),
            Item::CsrLi { rx, value, inst } => {
                let (hi, lo) = split(value as i64);
                a.w(enc::lui(rx, hi));
                a.w(enc::addiw(rx, rx, lo));
                a.w(inst);
            }
            Item::Raw16(h) => a.h(h),
            Item::Branch { f3, rs1, rs2, skip } => {
                // funct3 2 and 3 are reserved branch encodings: illegal, no target.
                a.w(enc::b((target(i, skip) - pc) as i32, rs2, rs1, f3))
            }
            Item::Jal { rd, skip } => a.w(enc::jal(rd, (target(i, skip) - pc) as i32)),
            Item::Jalr { rd, rx, skip, odd } => {
                a.w(enc::auipc(rx, 0));
                a.w(enc::jalr(
                    rd,
                    rx,
                    (target(i, skip) - pc) as i32 + odd as i32,
                ));
            }
            Item::Mem { rb, addr, inst } => {
                a.la_abs(rb, addr);
                mem_inst_emit(a, rb, inst);
            }
            Item::MemFar { rb, k, sh, inst } => {
                a.w(enc::addi(rb, ZERO, k));
                a.w(enc::slli(rb, rb, sh));
                mem_inst_emit(a, rb, inst);
            }
            Item::Xret { mret, rx, skip } => {
                let t = target(i, skip);
                a.la_abs(rx, t);
                a.w(csrw(if mret { 0x341 } else { 0x141 }, rx));
                a.w(if mret { enc::MRET } else { enc::SRET });
            }
        }
    }
    a.w(enc::ECALL);
    (start, end)
}

fn mem_inst_emit(a: &mut Asm, rb: u32, inst: MemInst) {
    match inst {
        MemInst::Load { f3, rd, imm } => a.w(enc::i(imm, rb, f3, rd, 0x03)),
        MemInst::Store { f3, rs2, imm } => a.w(enc::s(imm, rs2, rb, f3)),
        MemInst::Amo {
            f5,
            w,
            rd,
            rs2,
            aqrl,
        } => a.w(enc::amo(f5, w, rd, rb, if f5 == 2 { 0 } else { rs2 }) | aqrl << 25),
        MemInst::Compressed { f3, r, uimm } => {
            let (rs1p, rp) = (((rb - 8) as u16) << 7, ((r - 8) as u16) << 2);
            let _ = uimm;
            a.h((f3 as u16) << 13 | rs1p | rp);
        }
    }
}

/// The M-mode harness (see the module comment).
fn harness(a: &mut Asm) {
    a.la(T0, "handler");
    a.w(csrw(0x305, T0)); // mtvec
    for csr in [0x302, 0x303, 0x304] {
        a.w(csrw(csr, ZERO)); // medeleg, mideleg, mie
    }
    // PMP entry 0: TOR up to 2^56, RWX, so S and U reach everything (as xv6's start.c).
    a.w(enc::addi(T0, ZERO, -1));
    a.w(enc::srli(T0, T0, 10));
    a.w(csrw(0x3b0, T0));
    a.w(enc::addi(T0, ZERO, 0xf));
    a.w(csrw(0x3a0, T0));
    // mtimecmp of hart 0 at the far future: no machine timer interrupt is ever pending.
    a.w(enc::addi(T0, ZERO, -1));
    a.w(enc::lui(T1, 0x2004));
    a.w(enc::sd(T0, T1, 0));

    a.label("next");
    a.w(csrw(0x300, ZERO));
    a.la(SP, "vars");
    // Drop any reservation a previous sequence left (SC clears it, whatever it does).
    a.w(enc::addi(T0, SP, V_DUMMY));
    a.w(enc::amo(3, false, ZERO, T0, ZERO));
    a.w(enc::ld(T0, SP, V_IDX));
    a.w(enc::ld(T1, SP, V_COUNT));
    a.branch(7, T0, T1, "done"); // bgeu
    a.li(T2, D_SIZE);
    a.w(enc::mext(0, T2, T0, T2)); // mul
    a.la(S1, "desc");
    a.w(enc::add(S1, S1, T2));
    a.w(enc::sd(S1, SP, V_CUR));
    a.w(enc::sd(ZERO, SP, V_NTRAPS));
    for k in 0..LOG_MAX as i32 * 4 {
        a.w(enc::sd(ZERO, SP, V_LOG + 8 * k));
    }
    // The scratch area from the seed.
    a.w(enc::ld(T0, S1, D_SEED));
    a.la_abs(T1, SCRATCH);
    a.li(T2, (SCRATCH_BYTES / 8) as i32);
    a.label("fill");
    for (sh, left) in [(13, true), (7, false), (17, true)] {
        a.w(if left {
            enc::slli(T3, T0, sh)
        } else {
            enc::srli(T3, T0, sh)
        });
        a.w(enc::xor(T0, T0, T3));
    }
    a.w(enc::sd(T0, T1, 0));
    a.w(enc::addi(T1, T1, 8));
    a.w(enc::addi(T2, T2, -1));
    a.branch(1, T2, ZERO, "fill");
    a.la(T1, "l0");
    for k in 0..4 {
        a.w(enc::ld(T0, S1, D_PTE + 8 * k));
        a.w(enc::sd(T0, T1, 8 * k));
    }
    for (k, &csr) in INIT_CSRS.iter().enumerate() {
        a.w(enc::ld(T0, S1, D_CSRS + 8 * k as i32));
        a.w(csrw(csr, T0));
    }
    a.w(enc::ld(T0, S1, D_SATP));
    a.w(csrw(0x180, T0));
    a.w(enc::SFENCE_VMA);
    a.w(enc::ld(T0, S1, D_MSTATUS));
    a.w(csrw(0x300, T0));
    a.w(enc::ld(T0, S1, D_BODY));
    a.w(csrw(0x341, T0));
    a.w(csrw(0x340, SP)); // mscratch: the handler's variables
    a.w(enc::addi(31, S1, D_REGS));
    for r in 1..=30 {
        a.w(enc::ld(r, 31, 8 * (r as i32 - 1)));
    }
    a.w(enc::ld(31, 31, 8 * 30));
    a.w(enc::MRET);

    // The S handler of delegated exceptions: its `ecall` (or, where S cannot fetch it, the
    // fetch fault) ends the sequence in the M handler, with scause, sepc, stval and
    // sstatus as the delegation left them.
    a.bytes.resize(a.bytes.len().next_multiple_of(4), 0);
    a.label("s_handler");
    // In vectored mode an interrupt enters at BASE + 4 × cause: one `ecall` per entry.
    for _ in 0..16 {
        a.w(enc::ECALL);
    }

    a.label("handler");
    a.w(enc::csrrw(SP, 0x340, SP));
    for r in (1..=31).filter(|&r| r != SP) {
        a.w(enc::sd(r, SP, V_REGS + 8 * r as i32));
    }
    a.w(csrr(T0, 0x340));
    a.w(enc::sd(T0, SP, V_REGS + 16));
    a.w(csrw(0x340, SP));
    normalise(
        a,
        M_TRAP,
        [
            "amo_done",
            "amo_fix",
            "not_ebreak",
            "access_fault",
            "tval_done",
        ],
    );
    a.w(enc::ld(T0, SP, V_NTRAPS));
    a.w(enc::addi(T1, T0, 1));
    a.w(enc::sd(T1, SP, V_NTRAPS));
    a.w(enc::addi(T2, ZERO, LOG_MAX as i32));
    a.branch(7, T0, T2, "nolog");
    a.w(enc::slli(T0, T0, 5));
    a.w(enc::add(T0, T0, SP));
    for (k, csr) in [0x342u16, 0x341, 0x343, 0x300].into_iter().enumerate() {
        a.w(csrr(T1, csr));
        a.w(enc::sd(T1, T0, V_LOG + 8 * k as i32));
    }
    a.label("nolog");
    a.w(enc::ld(T0, SP, V_NTRAPS));
    a.w(enc::addi(T1, ZERO, TRAP_LIMIT as i32));
    a.branch(7, T0, T1, "finish");
    a.w(enc::ld(T1, SP, V_CUR));
    a.w(enc::ld(T2, T1, D_BODY));
    a.w(enc::ld(T3, T1, D_END));
    a.w(csrr(T0, 0x341));
    a.branch(6, T0, T2, "finish"); // bltu: before the body
    // An interrupt (mcause < 0) in the body: masked from now on (`mie` = 0, what was
    // pending stays visible in `mip`), and the interrupted instruction runs on return.
    a.w(csrr(T1, 0x342));
    a.branch(5, T1, ZERO, "exception"); // bge t1, zero
    a.branch(7, T0, T3, "finish");
    a.w(csrw(0x304, ZERO));
    a.j("resume");
    a.label("exception");
    a.branch(7, T0, T3, "finish"); // bgeu: the final ecall or past it
    // Skip the trapping instruction: 4 bytes if its low bits are 11, else 2.
    a.w(enc::i(0, T0, 5, T1, 0x03)); // lhu
    a.w(enc::i(3, T1, 7, T1, 0x13)); // andi 3
    a.w(enc::addi(T2, ZERO, 3));
    a.w(enc::addi(T0, T0, 2));
    a.branch(1, T1, T2, "short");
    a.w(enc::addi(T0, T0, 2));
    a.label("short");
    a.w(csrw(0x341, T0));
    a.label("resume");
    for r in (1..=31).filter(|&r| r != SP) {
        a.w(enc::ld(r, SP, V_REGS + 8 * r as i32));
    }
    a.w(enc::ld(SP, SP, V_REGS + 16));
    a.w(enc::MRET);

    a.label("finish");
    // A delegated trap went through the S handler straight here: its scause and stval.
    normalise(
        a,
        S_TRAP,
        [
            "s_amo_done",
            "s_amo_fix",
            "s_not_ebreak",
            "s_access_fault",
            "s_tval_done",
        ],
    );
    for (k, &(csr, _)) in DUMP_CSRS.iter().enumerate() {
        a.w(csrr(T0, csr));
        a.w(enc::sd(T0, SP, V_CSRS + 8 * k as i32));
    }
    a.w(enc::sd(ZERO, SP, V_REGS)); // x0
    // Hash (or print) [V_REGS, V_END), the scratch area, its four PTEs.
    a.w(enc::ld(T0, SP, V_H0));
    a.w(enc::ld(T4, SP, V_FULL));
    a.w(enc::addi(S1, SP, V_REGS));
    a.w(enc::addi(T5, SP, V_END));
    a.call("hash");
    a.la_abs(S1, SCRATCH);
    a.li(T5, SCRATCH_BYTES as i32);
    a.w(enc::add(T5, T5, S1));
    a.call("hash");
    a.la(S1, "l0");
    a.w(enc::addi(T5, S1, 32));
    a.call("hash");
    a.w(enc::addi(T1, T0, 0));
    a.call("puthex");
    a.w(enc::ld(T0, SP, V_IDX));
    a.w(enc::addi(T0, T0, 1));
    a.w(enc::sd(T0, SP, V_IDX));
    a.j("next");

    a.label("done");
    a.w(enc::lui(T0, 0x100));
    a.li(T1, 0x5555);
    a.w(enc::sw(T1, T0, 0));
    a.j("done");

    // hash: for words [s1, t5): t0 = (t0 ^ w) * K; in full mode also print each word.
    // Clobbers t1..t3, s1, and ra's return goes through t4... ra is kept in a0 meanwhile.
    a.label("hash");
    a.w(enc::addi(10, RA, 0)); // a0 = ra
    a.label("hash_loop");
    a.w(enc::ld(T1, S1, 0));
    a.w(enc::xor(T0, T0, T1));
    a.w(enc::ld(T2, SP, V_K));
    a.w(enc::mext(0, T0, T0, T2));
    a.branch(0, T4, ZERO, "hash_next"); // beq t4, zero: hash only
    a.call("puthex");
    a.label("hash_next");
    a.w(enc::addi(S1, S1, 8));
    a.branch(6, S1, T5, "hash_loop");
    a.w(enc::jalr(ZERO, 10, 0));

    // puthex: t1 as 16 hex digits and '\n' on the UART. Clobbers t2, t3, a1, a2.
    a.label("puthex");
    a.w(enc::lui(12, 0x10000)); // a2 = UART
    a.w(enc::addi(T2, ZERO, 60));
    a.label("puthex_loop");
    a.w(enc::r(0, T2, T1, 5, 11, 0x33)); // srl a1, t1, t2
    a.w(enc::i(15, 11, 7, 11, 0x13)); // andi a1, 15
    a.w(enc::addi(T3, 11, -10));
    a.w(enc::addi(11, 11, b'0' as i32));
    a.branch(4, T3, ZERO, "puthex_digit"); // blt t3, zero
    a.w(enc::addi(11, 11, (b'a' - b'0' - 10) as i32));
    a.label("puthex_digit");
    a.w(enc::sb(11, 12, 0));
    a.w(enc::addi(T2, T2, -4));
    a.branch(5, T2, ZERO, "puthex_loop"); // bge t2, zero
    a.w(enc::addi(11, ZERO, b'\n' as i32));
    a.w(enc::sb(11, 12, 0));
    a.w(enc::jalr(ZERO, RA, 0));
}

/// The trap CSRs (cause, epc, tval) of M and of S.
const M_TRAP: (u16, u16, u16) = (0x342, 0x341, 0x343);
const S_TRAP: (u16, u16, u16) = (0x142, 0x141, 0x143);

/// Rewrites a trap's cause and tval where QEMU 7.2 and the spec (or the spec's freedom)
/// part, so that both machines are compared in the same terms. Uses t0..t3; sp = VARS.
fn normalise(a: &mut Asm, csrs: (u16, u16, u16), labels: [&'static str; 5]) {
    // QEMU 7.2 reports an AMO's faults as a load's (cause 4/5/13 for 6/7/15); the spec says
    // store/AMO. Both are compared in QEMU's terms: an AMO at xepc (in the body, where the
    // harness may read) with a store cause has it lowered by 2 here.
    a.w(csrr(T0, csrs.1));
    a.w(enc::ld(T1, SP, V_CUR));
    a.w(enc::ld(T2, T1, D_BODY));
    a.w(enc::ld(T3, T1, D_END));
    a.branch(6, T0, T2, labels[0]); // bltu
    a.branch(6, T3, T0, labels[0]); // bltu: past the final ecall
    a.w(enc::lbu(T1, T0, 0));
    a.w(enc::i(0x7f, T1, 7, T1, 0x13)); // andi
    a.w(enc::addi(T2, ZERO, 0x2f));
    a.branch(1, T1, T2, labels[0]);
    a.w(csrr(T1, csrs.0));
    for cause in [6, 7, 15] {
        a.w(enc::addi(T2, ZERO, cause));
        a.branch(0, T1, T2, labels[1]);
    }
    a.j(labels[0]);
    a.label(labels[1]);
    a.w(enc::addi(T1, T1, -2));
    a.w(csrw(csrs.0, T1));
    a.label(labels[0]);
    // Where the spec leaves tval to the implementation: `ebreak` may write the pc (we) or 0
    // (QEMU), so it is compared as 0; an access fault of a misaligned access gives the
    // address of "the portion that faulted", which QEMU takes as the aligned 8-byte word it
    // split the access at: compared without the low 3 bits.
    a.w(csrr(T1, csrs.0));
    a.w(enc::addi(T2, ZERO, 3));
    a.branch(1, T1, T2, labels[2]);
    a.w(csrw(csrs.2, ZERO));
    a.label(labels[2]);
    a.w(enc::addi(T2, ZERO, 5));
    a.branch(0, T1, T2, labels[3]);
    a.w(enc::addi(T2, ZERO, 7));
    a.branch(1, T1, T2, labels[4]);
    a.label(labels[3]);
    a.w(csrr(T1, csrs.2));
    a.w(enc::i(-8, T1, 7, T1, 0x13)); // andi -8
    a.w(csrw(csrs.2, T1));
    a.label(labels[4]);
}

/// A minimal ELF64 executable for RISC-V: `image` loaded at (and entered at) `base`.
pub fn elf(base: u64, image: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(image.len() + 0x1000);
    e.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    e.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    e.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&base.to_le_bytes()); // e_entry
    e.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    e.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    e.extend_from_slice(&5u32.to_le_bytes()); // e_flags: RVC, double-float ABI
    for v in [64u16, 56, 1, 64, 0, 0] {
        e.extend_from_slice(&v.to_le_bytes());
    }
    // PT_LOAD, RWX, file offset 0x1000.
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&7u32.to_le_bytes());
    for v in [
        0x1000u64,
        base,
        base,
        image.len() as u64,
        image.len() as u64,
        0x1000,
    ] {
        e.extend_from_slice(&v.to_le_bytes());
    }
    e.resize(0x1000, 0);
    e.extend_from_slice(image);
    e
}

/// Names the dumped word at `index` of the head (registers, CSRs, trap log).
pub fn word_name(index: usize) -> String {
    let csrs = DUMP_CSRS.len();
    match index {
        0..32 => format!("x{index}"),
        i if i < 32 + csrs => DUMP_CSRS[i - 32].1.to_string(),
        i if i == 32 + csrs => "trap count".into(),
        i => {
            let k = i - 33 - csrs;
            let f = ["mcause", "mepc", "mtval", "mstatus"][k % 4];
            format!("trap {} {f}", k / 4)
        }
    }
}

/// A body in a readable form: one line per item, with our disassembler's text.
pub fn listing(items: &[Item]) -> String {
    use machine::cpu::decode::decode;
    let mut out = String::new();
    for it in items {
        let text = match it {
            Item::Raw32(w) | Item::Csr(w) => format!("{w:08x}  {}", decode(*w).disasm(0)),
            Item::Raw16(h) => format!("{h:04x}      {}", decode(*h as u32).disasm(0)),
            other => format!("{other:?}"),
        };
        out.push_str(&text);
        out.push('\n');
    }
    out
}
