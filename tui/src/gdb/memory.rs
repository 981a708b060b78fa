//! Guest memory as gdb addresses it: virtual through a hart's translation (as QEMU's stub
//! does), or physical after `monitor phys on`; plus the Sv39 walker behind `monitor pt`.
//!
//! Translation for the debugger never changes the guest: no A/D bits, no TLB fills, no traps.
//! An address first goes through the hart's own view ([`Hart::translate`], for a load and
//! then for a fetch, so execute-only text reads too); if that refuses — a U page seen from S
//! without `SUM`, say — the page table of `satp` is walked again ignoring permissions, so
//! that gdb can read user memory while the hart is in the kernel. M-mode (and `satp` Bare)
//! addresses are physical. Only RAM is read or written: device registers have side effects
//! (reading the UART's receive register consumes a byte), so they read as inaccessible.

use machine::Machine;
use machine::cpu::{Access, Hart, Mode};
use std::fmt::Write;

const PAGE: u64 = 4096;
const SATP_SV39: u64 = 8;

/// PTE bits (privileged spec §4.3.1, Sv32 figure, same for Sv39).
const PTE_V: u64 = 1 << 0;
const PTE_R: u64 = 1 << 1;
const PTE_W: u64 = 1 << 2;
const PTE_X: u64 = 1 << 3;

/// Physical address of `vaddr` as hart `hart` would see it, or itself in physical mode.
pub fn to_phys(m: &Machine, hart: usize, vaddr: u64, phys: bool) -> Option<u64> {
    if phys {
        return Some(vaddr);
    }
    let h = m.harts.get(hart)?;
    h.translate(&m.bus, vaddr, Access::Load)
        .or_else(|| h.translate(&m.bus, vaddr, Access::Fetch))
        .or_else(|| {
            if h.mode == Mode::Machine {
                None
            } else {
                walk(m, satp(h)?, vaddr).map(|leaf| leaf.pa)
            }
        })
}

/// The hart's `satp` if it selects Sv39.
fn satp(h: &Hart) -> Option<u64> {
    let satp = h.csr_read(0x180)?;
    (satp >> 60 == SATP_SV39).then_some(satp)
}

/// Reads guest memory at `addr` into `buf`, page by page; returns how many leading bytes
/// could be read (0 if the first byte cannot).
pub fn read(m: &Machine, hart: usize, addr: u64, buf: &mut [u8], phys: bool) -> usize {
    let mut done = 0;
    while done < buf.len() {
        let va = addr.wrapping_add(done as u64);
        let chunk = ((PAGE - va % PAGE) as usize).min(buf.len() - done);
        let ok = to_phys(m, hart, va, phys)
            .is_some_and(|pa| m.read_phys(pa, &mut buf[done..done + chunk]));
        if !ok {
            break;
        }
        done += chunk;
    }
    done
}

/// Writes `data` to guest memory at `addr`; false (and possibly a partial write) if some
/// page is not mapped to RAM.
pub fn write(m: &mut Machine, hart: usize, addr: u64, data: &[u8], phys: bool) -> bool {
    let mut done = 0;
    while done < data.len() {
        let va = addr.wrapping_add(done as u64);
        let chunk = ((PAGE - va % PAGE) as usize).min(data.len() - done);
        match to_phys(m, hart, va, phys) {
            Some(pa) if m.write_phys(pa, &data[done..done + chunk]) => done += chunk,
            _ => return false,
        }
    }
    true
}

/// A leaf of an Sv39 walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub pa: u64,
    pub pte: u64,
    /// 0 for a 4 KiB page, 1 for 2 MiB, 2 for 1 GiB.
    pub level: u32,
}

fn read_u64(m: &Machine, pa: u64) -> Option<u64> {
    let mut b = [0u8; 8];
    m.read_phys(pa, &mut b).then(|| u64::from_le_bytes(b))
}

fn pte_pa(pte: u64) -> u64 {
    (pte >> 10 & ((1 << 44) - 1)) << 12
}

/// Walks the Sv39 table of `satp` for `vaddr`, checking only validity and form (§4.3.2 steps
/// 2–6 without the permission checks); None if the address is not mapped.
pub fn walk(m: &Machine, satp: u64, vaddr: u64) -> Option<Leaf> {
    // Bits 63..39 must all equal bit 38.
    let top = (vaddr as i64) >> 38;
    if top != 0 && top != -1 {
        return None;
    }
    let mut table = (satp & ((1 << 44) - 1)) << 12;
    for level in (0..3u32).rev() {
        let vpn = vaddr >> (12 + 9 * level) & 0x1ff;
        let pte = read_u64(m, table + vpn * 8)?;
        if pte & PTE_V == 0 || (pte & PTE_R == 0 && pte & PTE_W != 0) {
            return None;
        }
        if pte & (PTE_R | PTE_X) != 0 {
            let size = 1u64 << (12 + 9 * level);
            let base = pte_pa(pte);
            if !base.is_multiple_of(size) {
                return None; // misaligned superpage
            }
            return Some(Leaf {
                pa: base | (vaddr & (size - 1)),
                pte,
                level,
            });
        }
        table = pte_pa(pte);
    }
    None
}

/// `rwxug` with `-` for clear bits.
pub fn flags(pte: u64) -> String {
    "rwxug"
        .chars()
        .enumerate()
        .map(|(i, c)| if pte >> (i + 1) & 1 == 1 { c } else { '-' })
        .collect()
}

/// A run of leaves that map consecutive virtual pages to consecutive physical pages with
/// the same permissions (R W X U G; the A and D bits, which the hardware sets as pages are
/// touched, would split runs without telling much).
struct Run {
    va: u64,
    pa: u64,
    len: u64,
    flags: u64,
}

/// The mappings of the Sv39 table of `satp`, one line per run of like leaves, at most
/// `max_lines` lines.
pub fn dump(m: &Machine, satp: u64, max_lines: usize) -> String {
    let root = (satp & ((1 << 44) - 1)) << 12;
    let mut out = String::new();
    if satp >> 60 != SATP_SV39 {
        let _ = writeln!(
            out,
            "satp {satp:#x}: translation is off (Bare), addresses are physical"
        );
        return out;
    }
    let _ = writeln!(out, "satp {satp:#x}: Sv39, root page table at {root:#x}");
    let _ = writeln!(out, "{:<39} {:<35} flags  pages", "virtual", "physical");
    let mut runs: Vec<Run> = Vec::new();
    let mut bad = Vec::new();
    collect(m, root, 2, 0, &mut runs, &mut bad);
    for (lines, r) in runs.iter().enumerate() {
        if lines == max_lines {
            let _ = writeln!(out, "... ({} more runs)", runs.len() - lines);
            break;
        }
        let _ = writeln!(
            out,
            "{:#018x}-{:#018x} {:#014x}-{:#014x}   {}  {}",
            r.va,
            r.va + r.len - 1,
            r.pa,
            r.pa + r.len - 1,
            flags(r.flags),
            r.len / PAGE
        );
    }
    for b in bad.iter().take(16) {
        let _ = writeln!(out, "{b}");
    }
    let _ = writeln!(
        out,
        "{} runs, {} pages mapped",
        runs.len(),
        runs.iter().map(|r| r.len / PAGE).sum::<u64>()
    );
    out
}

/// Depth-first over one table; `va` is the address its first entry maps.
fn collect(
    m: &Machine,
    table: u64,
    level: u32,
    va: u64,
    runs: &mut Vec<Run>,
    bad: &mut Vec<String>,
) {
    let size = 1u64 << (12 + 9 * level);
    for i in 0..512u64 {
        let Some(pte) = read_u64(m, table + i * 8) else {
            bad.push(format!("page table at {table:#x} is outside RAM"));
            return;
        };
        if pte & PTE_V == 0 {
            continue;
        }
        let mut eva = va + i * size;
        if eva >> 38 & 1 == 1 {
            eva |= !((1u64 << 39) - 1); // the upper half of the Sv39 space is sign-extended
        }
        if pte & (PTE_R | PTE_X) == 0 {
            if level == 0 {
                bad.push(format!("{eva:#x}: level-0 PTE {pte:#x} is not a leaf"));
            } else {
                collect(m, pte_pa(pte), level - 1, eva, runs, bad);
            }
            continue;
        }
        let pa = pte_pa(pte);
        let fl = pte & 0x3e;
        match runs.last_mut() {
            Some(r) if r.va + r.len == eva && r.pa + r.len == pa && r.flags == fl => r.len += size,
            _ => runs.push(Run {
                va: eva,
                pa,
                len: size,
                flags: fl,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use machine::{Config, Image};

    /// A machine whose RAM holds a small Sv39 table built by hand:
    /// root at 0x8010_0000 → level 1 at 0x8010_1000 → level 0 at 0x8010_2000;
    /// VA 0x0 and 0x1000 → PA 0x8020_0000 and 0x8020_1000 (r-x-u), VA 0x4000_0000 → a 2 MiB
    /// superpage at 0x8040_0000 (rw-), VA 0x3f_ffff_f000 → 0x8030_0000.
    fn machine_with_table() -> (Machine, u64) {
        let mut m = Machine::new(
            Config {
                harts: 1,
                ram_mib: 16,
                ..Config::default()
            },
            Image::Raw(&[0x73, 0, 0x50, 0x10]),
            None,
        )
        .expect("machine");
        let pte = |pa: u64, fl: u64| ((pa >> 12) << 10) | fl | PTE_V;
        let put = |m: &mut Machine, at: u64, v: u64| assert!(m.write_phys(at, &v.to_le_bytes()));
        let (root, l1, l0, l1b, l0b) = (
            0x8010_0000u64,
            0x8010_1000u64,
            0x8010_2000u64,
            0x8010_3000u64,
            0x8010_4000u64,
        );
        put(&mut m, root, pte(l1, 0));
        put(&mut m, l1, pte(l0, 0));
        put(&mut m, l0, pte(0x8020_0000, PTE_R | PTE_X | 1 << 4));
        put(&mut m, l0 + 8, pte(0x8020_1000, PTE_R | PTE_X | 1 << 4));
        put(&mut m, root + 8, pte(l1b, 0));
        put(&mut m, l1b, pte(0x8040_0000, PTE_R | PTE_W));
        put(&mut m, root + 255 * 8, pte(0x8010_5000, 0));
        put(&mut m, 0x8010_5000 + 511 * 8, pte(l0b, 0));
        put(&mut m, l0b + 511 * 8, pte(0x8030_0000, PTE_R | PTE_X));
        (m, SATP_SV39 << 60 | root >> 12)
    }

    #[test]
    fn walk_finds_pages_superpages_and_holes() {
        let (m, satp) = machine_with_table();
        assert_eq!(walk(&m, satp, 0x1234).map(|l| l.pa), Some(0x8020_1234));
        let big = walk(&m, satp, 0x4012_3456).expect("superpage");
        assert_eq!((big.pa, big.level), (0x8052_3456, 1));
        assert_eq!(
            walk(&m, satp, 0x3f_ffff_f008).map(|l| l.pa),
            Some(0x8030_0008)
        );
        assert_eq!(walk(&m, satp, 0x2000), None);
        assert_eq!(walk(&m, satp, 0x80_0000_0000), None, "non-canonical");
    }

    #[test]
    fn reads_go_through_satp_in_s_mode_and_are_physical_in_m_mode() {
        let (mut m, satp) = machine_with_table();
        assert!(m.write_phys(0x8020_1000, b"hello"));
        let mut buf = [0u8; 5];
        // M-mode: physical.
        assert_eq!(read(&m, 0, 0x8020_1000, &mut buf, false), 5);
        assert_eq!(&buf, b"hello");
        assert_eq!(read(&m, 0, 0x1000, &mut buf, false), 0);
        // S-mode with Sv39: the U page is readable for the debugger even without SUM.
        assert!(m.harts[0].csr_write(0x180, satp));
        m.harts[0].mode = Mode::Supervisor;
        assert_eq!(read(&m, 0, 0x1000, &mut buf, false), 5);
        assert_eq!(&buf, b"hello");
        assert_eq!(
            read(&m, 0, 0x1000, &mut buf, true),
            0,
            "physical 0x1000 is not RAM"
        );
        // A read that runs off the mapping stops at the hole.
        let mut two = [0u8; 0x1010];
        assert_eq!(read(&m, 0, 0x1000 - 0x10 + 0x1000, &mut two, false), 0x10);
        assert!(write(&mut m, 0, 0x1001, b"ELL", false));
        assert_eq!(read(&m, 0, 0x8020_1000, &mut buf, true), 5);
        assert_eq!(&buf, b"hELLo");
        assert!(!write(&mut m, 0, 0x2000, b"x", false));
    }

    #[test]
    fn dump_folds_runs() {
        let (m, satp) = machine_with_table();
        let text = dump(&m, satp, 100);
        assert!(
            text.contains(
                "0x0000000000000000-0x0000000000001fff 0x000080200000-0x000080201fff   r-xu-  2"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "0x0000000040000000-0x00000000401fffff 0x000080400000-0x0000805fffff   rw---  512"
            ),
            "{text}"
        );
        assert!(
            text.contains("0x0000003ffffff000-0x0000003fffffffff"),
            "{text}"
        );
        assert!(text.contains("3 runs, 515 pages mapped"), "{text}");
        assert!(dump(&m, 0, 10).contains("Bare"));
    }
}
