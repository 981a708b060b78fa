//! What a kernel's own code says about the board it was written for, read before it boots.
//!
//! Two facts decide whether an xv6 kernel can boot on a given `virt` board, and neither is
//! written anywhere but in the kernel's machine code (C macros leave no DWARF):
//!
//! - **The virtio-mmio transport.** MIT's `virtio_disk_init` checks the device's Version
//!   register and panics "could not find virtio disk" on a mismatch: trees before 2022 want
//!   1 (legacy, QEMU's default), later ones 2 (modern, their Makefiles add
//!   `-global virtio-mmio.force-legacy=false`). [`virtio_transport`] finds out which, in two
//!   ways. First, the comparison itself: a value loaded from `VIRTIO0 + 0x004` compared with
//!   a constant (`lw a4,4(a5); li a5,1; bne a4,a5,...`, or `addiw a4,a4,-2; bnez a4,...`).
//!   Failing that, the registers the driver writes: only a legacy driver writes GuestPageSize
//!   (0x028), QueueAlign (0x03c) or QueuePFN (0x040); only a modern one QueueReady (0x044)
//!   or the 64-bit queue addresses (0x080-0x0a4). A driver that compares with both 1 and 2,
//!   or writes registers of both kinds (this project's Rust kernel), speaks either
//!   transport and gives no answer.
//! - **The end of RAM the kernel assumes.** `kinit` frees pages up to PHYSTOP; a kernel whose
//!   PHYSTOP lies past the machine's RAM faults at boot. [`phystop`] reads the largest
//!   RAM-range constant `kinit` builds (MIT: `freerange(end, (void*)PHYSTOP)`).
//!
//! Both scan instructions linearly, function by function (ELF symbols of kind Text), with
//! a tiny constant propagation: `lui`, `auipc`, `addi(w)` and `slli` on known values; any
//! other write to a register forgets it, and so does a call for the caller-saved registers.
//! Branches are not followed, which is enough for the straight-line code these functions
//! are. Nothing here runs the kernel; a kernel whose code says nothing gives `None`.

use machine::board::{RAM_BASE, VIRTIO_BASE, VIRTIO_SIZE};
use machine::cpu::{Op, decode};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

/// The virtio-mmio transport a kernel's disk driver is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VirtioTransport {
    /// Version 1 (QEMU's `force-legacy=true`, its default).
    Legacy,
    /// Version 2 (QEMU's `force-legacy=false`).
    Modern,
}

impl VirtioTransport {
    /// The Version register's value (xv6scope's `--virtio-version`).
    pub fn version(self) -> u8 {
        match self {
            VirtioTransport::Legacy => 1,
            VirtioTransport::Modern => 2,
        }
    }
}

/// A transport and the code that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportEvidence {
    pub transport: VirtioTransport,
    /// The function where it was seen.
    pub function: String,
    /// What was seen, in words (`compares Version with 1`, `writes QueuePFN`).
    pub why: String,
}

/// Registers only a legacy (version 1) driver writes, by offset.
const LEGACY_ONLY: [(u64, &str); 3] = [
    (0x028, "GuestPageSize"),
    (0x03c, "QueueAlign"),
    (0x040, "QueuePFN"),
];
/// Registers only a modern (version 2) driver writes, by offset.
const MODERN_ONLY: [(u64, &str); 7] = [
    (0x044, "QueueReady"),
    (0x080, "QueueDescLow"),
    (0x084, "QueueDescHigh"),
    (0x090, "QueueDriverLow"),
    (0x094, "QueueDriverHigh"),
    (0x0a0, "QueueDeviceLow"),
    (0x0a4, "QueueDeviceHigh"),
];
/// The Version register's offset.
const VERSION: u64 = 0x004;

/// Which transport the kernel ELF `elf` expects, if its code says.
pub fn virtio_transport(elf: &[u8]) -> Option<TransportEvidence> {
    let mut compared: Vec<(u64, String)> = Vec::new();
    let mut legacy = None;
    let mut modern = None;
    for (name, facts) in scan(elf) {
        for &v in &facts.versions_compared {
            if (v == 1 || v == 2) && !compared.iter().any(|(c, _)| *c == v) {
                compared.push((v, name.clone()));
            }
        }
        for off in &facts.virtio_writes {
            if let Some((_, reg)) = LEGACY_ONLY.iter().find(|(o, _)| o == off) {
                legacy.get_or_insert((name.clone(), *reg));
            }
            if let Some((_, reg)) = MODERN_ONLY.iter().find(|(o, _)| o == off) {
                modern.get_or_insert((name.clone(), *reg));
            }
        }
    }
    if legacy.is_some() && modern.is_some() {
        // A driver that programs both register sets speaks both transports.
        return None;
    }
    match compared.as_slice() {
        [(v, function)] => {
            return Some(TransportEvidence {
                transport: if *v == 1 {
                    VirtioTransport::Legacy
                } else {
                    VirtioTransport::Modern
                },
                function: function.clone(),
                why: format!("compares the virtio Version register with {v}"),
            });
        }
        // A driver that accepts either version has no preference.
        [_, _] => return None,
        _ => {}
    }
    let written = |transport, (function, reg): (String, &str)| TransportEvidence {
        transport,
        function,
        why: format!("writes the virtio {reg} register"),
    };
    match (legacy, modern) {
        (Some(l), None) => Some(written(VirtioTransport::Legacy, l)),
        (None, Some(m)) => Some(written(VirtioTransport::Modern, m)),
        _ => None,
    }
}

/// The end of RAM the kernel's `kinit` frees pages up to (its PHYSTOP), if its code says:
/// the largest address above RAM_BASE, on a 1 MiB boundary, that `kinit` builds.
pub fn phystop(elf: &[u8]) -> Option<u64> {
    scan(elf)
        .into_iter()
        .filter(|(name, _)| name == "kinit")
        .flat_map(|(_, f)| f.constants)
        .filter(|&c| c > RAM_BASE && c <= RAM_BASE + (64 << 30) && c % (1 << 20) == 0)
        .max()
}

/// What one function's code shows.
#[derive(Debug, Default)]
struct Facts {
    /// The constants the Version register was compared with.
    versions_compared: Vec<u64>,
    /// Offsets of virtio registers stored to.
    virtio_writes: Vec<u64>,
    /// Every constant a register was given.
    constants: Vec<u64>,
}

/// Caller-saved registers (ra, t0-t2, a0-a7, t3-t6): unknown after a call.
const CALLER_SAVED: [usize; 16] = [1, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 28, 29, 30, 31];

/// Scans every function of `elf`; an unreadable ELF has none.
fn scan(elf: &[u8]) -> Vec<(String, Facts)> {
    let Ok(file) = object::File::parse(elf) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for sym in file.symbols() {
        if sym.kind() != SymbolKind::Text || sym.size() == 0 {
            continue;
        }
        let (Ok(name), Some(index)) = (sym.name(), sym.section_index()) else {
            continue;
        };
        let Ok(section) = file.section_by_index(index) else {
            continue;
        };
        let Ok(Some(code)) = section.data_range(sym.address(), sym.size()) else {
            continue;
        };
        out.push((name.to_string(), scan_function(sym.address(), code)));
    }
    out
}

/// A register's abstract value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Unknown,
    /// A known constant.
    Const(u64),
    /// The Version register's value plus this.
    Version(i64),
}

fn scan_function(base: u64, code: &[u8]) -> Facts {
    let mut facts = Facts::default();
    let mut regs = [Val::Unknown; 32];
    let mut at = 0usize;
    while at + 2 <= code.len() {
        let lo = u16::from_le_bytes([code[at], code[at + 1]]) as u32;
        let raw = if lo & 3 == 3 {
            if at + 4 > code.len() {
                break;
            }
            lo | (u16::from_le_bytes([code[at + 2], code[at + 3]]) as u32) << 16
        } else {
            lo
        };
        let pc = base + at as u64;
        let i = decode(raw);
        at += i.len.max(2) as usize;
        regs[0] = Val::Const(0);
        let rs1 = regs[i.rs1 as usize & 31];
        let rs2 = regs[i.rs2 as usize & 31];
        let imm = i.imm as i64;
        let virtio = |v: Val| match v {
            Val::Const(b) => {
                let a = b.wrapping_add(imm as u64);
                (VIRTIO_BASE..VIRTIO_BASE + VIRTIO_SIZE)
                    .contains(&a)
                    .then(|| a - VIRTIO_BASE)
            }
            _ => None,
        };
        let result = match i.op {
            Op::Lui => Val::Const(imm as u64),
            Op::Auipc => Val::Const(pc.wrapping_add(imm as u64)),
            Op::Addi | Op::Addiw => {
                let w = i.op == Op::Addiw;
                match rs1 {
                    Val::Const(v) => {
                        let s = v.wrapping_add(imm as u64);
                        Val::Const(if w { s as i32 as i64 as u64 } else { s })
                    }
                    Val::Version(k) => Val::Version(k + imm),
                    Val::Unknown => Val::Unknown,
                }
            }
            Op::Add => match (rs1, rs2) {
                (Val::Const(a), Val::Const(b)) => Val::Const(a.wrapping_add(b)),
                (Val::Const(0), v) | (v, Val::Const(0)) => v,
                _ => Val::Unknown,
            },
            Op::Slli => match rs1 {
                Val::Const(v) => Val::Const(v << (imm & 63)),
                _ => Val::Unknown,
            },
            Op::Lw | Op::Lwu => match virtio(rs1) {
                Some(VERSION) => Val::Version(0),
                _ => Val::Unknown,
            },
            Op::Sw => {
                if let Some(off) = virtio(rs1) {
                    facts.virtio_writes.push(off);
                }
                continue;
            }
            Op::Beq | Op::Bne => {
                let c = match (rs1, rs2) {
                    (Val::Version(k), Val::Const(c)) | (Val::Const(c), Val::Version(k)) => {
                        Some((c as i64).wrapping_sub(k) as u64)
                    }
                    _ => None,
                };
                facts.versions_compared.extend(c);
                continue;
            }
            Op::Jal | Op::Jalr => {
                if i.rd != 0 {
                    CALLER_SAVED.iter().for_each(|&r| regs[r] = Val::Unknown);
                }
                continue;
            }
            Op::Sb
            | Op::Sh
            | Op::Sd
            | Op::Blt
            | Op::Bge
            | Op::Bltu
            | Op::Bgeu
            | Op::Fence
            | Op::FenceI
            | Op::Ecall
            | Op::Ebreak
            | Op::Mret
            | Op::Sret
            | Op::Wfi
            | Op::SfenceVma
            | Op::Nop
            | Op::Illegal
            | Op::Undecoded => continue,
            _ => Val::Unknown,
        };
        if let Val::Const(c) = result {
            facts.constants.push(c);
        }
        if i.rd != 0 {
            regs[i.rd as usize & 31] = result;
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Little-endian bytes of 32-bit instruction words.
    fn code(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    // Encoders for the few instructions the tests need.
    fn lui(rd: u32, imm: u32) -> u32 {
        (imm & 0xfffff000) | rd << 7 | 0x37
    }
    fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
        ((imm as u32) & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13
    }
    fn addiw(rd: u32, rs1: u32, imm: i32) -> u32 {
        ((imm as u32) & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x1b
    }
    fn slli(rd: u32, rs1: u32, sh: u32) -> u32 {
        sh << 20 | rs1 << 15 | 1 << 12 | rd << 7 | 0x13
    }
    fn lw(rd: u32, rs1: u32, imm: i32) -> u32 {
        ((imm as u32) & 0xfff) << 20 | rs1 << 15 | 2 << 12 | rd << 7 | 0x03
    }
    fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
        let imm = imm as u32;
        (imm >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | 2 << 12 | (imm & 0x1f) << 7 | 0x23
    }
    /// `bne rs1, rs2, +8`.
    fn bne(rs1: u32, rs2: u32) -> u32 {
        rs2 << 20 | rs1 << 15 | 1 << 12 | 8 << 7 | 0x63
    }
    const A4: u32 = 14;
    const A5: u32 = 15;
    const A1: u32 = 11;

    #[test]
    fn the_version_comparison_names_the_transport() {
        // lui a5,0x10001; lw a4,4(a5); li a5,1; bne a4,a5
        let legacy = code(&[
            lui(A5, 0x1000_1000),
            lw(A4, A5, 4),
            addi(A5, 0, 1),
            bne(A4, A5),
        ]);
        let f = scan_function(0x8000_0000, &legacy);
        assert_eq!(f.versions_compared, vec![1]);
        // lui a5,0x10001; lw a4,4(a5); addiw a4,a4,-2; bnez a4
        let modern = code(&[
            lui(A5, 0x1000_1000),
            lw(A4, A5, 4),
            addiw(A4, A4, -2),
            bne(A4, 0),
        ]);
        assert_eq!(scan_function(0, &modern).versions_compared, vec![2]);
    }

    #[test]
    fn registers_written_name_the_transport() {
        // sw a4,0x40(a5) is QueuePFN; sw a4,0x44(a5) QueueReady.
        let f = scan_function(0, &code(&[lui(A5, 0x1000_1000), sw(A4, A5, 0x40)]));
        assert_eq!(f.virtio_writes, vec![0x40]);
        let f = scan_function(0, &code(&[lui(A5, 0x1000_1000), sw(A4, A5, 0x44)]));
        assert_eq!(f.virtio_writes, vec![0x44]);
        // A store through a register of unknown value is not a virtio write.
        assert!(
            scan_function(0, &code(&[sw(A4, A5, 0x40)]))
                .virtio_writes
                .is_empty()
        );
    }

    #[test]
    fn constants_built_with_shifts_are_seen() {
        // li a1,17; slli a1,a1,27 builds 0x8800_0000 (MIT's PHYSTOP).
        let f = scan_function(0, &code(&[addi(A1, 0, 17), slli(A1, A1, 27)]));
        assert!(f.constants.contains(&0x8800_0000));
    }

    #[test]
    fn not_an_elf_says_nothing() {
        assert_eq!(virtio_transport(b"not an elf"), None);
        assert_eq!(phystop(b"not an elf"), None);
    }
}
