//! Address translation: Sv39 (privileged spec §4.3, §4.4) and the hart's software TLB.
//!
//! `walk` is the spec's algorithm (§4.3.2) over the page table in RAM, pure: it returns the
//! physical address and, for the caller that may update it, the PTE's address and value.
//! [`Hart::translate_mut`] runs it for the executing hart, sets A (and D on stores) in the PTE
//! as QEMU does, and fills the TLB; [`Hart::translate`] runs it for debuggers with no effects.
//!
//! The TLB is three direct-mapped arrays (fetch, load, store) of `TLB_SIZE` entries mapping a
//! virtual page to the RAM offset of its physical page; only pages wholly in RAM are cached,
//! so MMIO always takes the slow path through the bus, and never the page of the HTIF
//! `tohost` word, whose stores the bus must see, nor a data page with a watched byte
//! (watch.rs). Store entries exist only for pages whose PTE has D set (the walk sets it). A tag is `vaddr >> 12` OR-ed with a *key* in bits 52..63:
//! the effective privilege mode, SUM, MXR and an 8-bit generation. Changing mode, SUM, MXR
//! or MPRV just changes the key, so traps and returns keep their entries; a flush (satp write,
//! `sfence.vma`) bumps the generation and clears the arrays only when it wraps. No valid key
//! has mode 2, so `INVALID` never matches.

use super::csr::*;
use super::trap::{Trap, cause};
use super::{Access, Hart, Mode};
use crate::bus::Bus;
use crate::ram::Ram;

pub const TLB_SIZE: usize = 256;
pub const TLB_MASK: u64 = TLB_SIZE as u64 - 1;
pub const INVALID: u64 = 2 << 52;

#[derive(Clone, Copy, Debug)]
pub struct TlbEntry {
    pub tag: u64,
    /// RAM offset of the physical page.
    pub base: usize,
}

pub const EMPTY: TlbEntry = TlbEntry {
    tag: INVALID,
    base: 0,
};

const PTE_V: u64 = 1 << 0;
const PTE_R: u64 = 1 << 1;
const PTE_W: u64 = 1 << 2;
const PTE_X: u64 = 1 << 3;
const PTE_U: u64 = 1 << 4;
const PTE_A: u64 = 1 << 6;
const PTE_D: u64 = 1 << 7;
/// Bits 63..54: reserved, PBMT and N, none of which this hart implements.
const PTE_RESERVED: u64 = 0x3ff << 54;

/// Why a walk failed; the access kind turns it into a cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fault {
    Page,
    Access,
}

pub(super) struct Walk {
    pub pa: u64,
    /// RAM offset and value of the leaf PTE (None: no translation took place).
    pub pte: Option<(usize, u64)>,
}

/// Everything a walk depends on besides the page table itself.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ctx {
    pub satp: u64,
    /// The privilege the access is checked against (MPRV applied).
    pub mode: Mode,
    pub sum: bool,
    pub mxr: bool,
}

pub(super) fn fault_cause(access: Access, f: Fault) -> u64 {
    match (access, f) {
        (Access::Fetch, Fault::Page) => cause::INST_PAGE,
        (Access::Fetch, Fault::Access) => cause::INST_ACCESS,
        (Access::Load, Fault::Page) => cause::LOAD_PAGE,
        (Access::Load, Fault::Access) => cause::LOAD_ACCESS,
        (Access::Store, Fault::Page) => cause::STORE_PAGE,
        (Access::Store, Fault::Access) => cause::STORE_ACCESS,
    }
}

/// The Sv39 walk of §4.3.2 (no A/D update), or identity when translation is off.
pub(super) fn walk(ram: &Ram, ctx: Ctx, va: u64, access: Access) -> Result<Walk, Fault> {
    if ctx.mode == Mode::Machine || !satp_paging(ctx.satp) {
        return Ok(Walk { pa: va, pte: None });
    }
    // Bits 63..39 must all equal bit 38.
    if ((va as i64) << 25 >> 25) as u64 != va {
        return Err(Fault::Page);
    }
    let mut table = (ctx.satp & ((1 << 44) - 1)) << 12;
    for level in (0..3).rev() {
        let vpn = (va >> (12 + 9 * level)) & 0x1ff;
        let Some(off) = ram.offset(table + vpn * 8, 8) else {
            return Err(Fault::Access);
        };
        let pte = ram.load(off, 8);
        if pte & PTE_V == 0 || (pte & PTE_R == 0 && pte & PTE_W != 0) || pte & PTE_RESERVED != 0 {
            return Err(Fault::Page);
        }
        let ppn = (pte >> 10) & ((1 << 44) - 1);
        if pte & (PTE_R | PTE_X) == 0 {
            // A pointer to the next level; at level 0 there is none.
            if level == 0 || pte & (PTE_A | PTE_D | PTE_U) != 0 {
                return Err(Fault::Page);
            }
            table = ppn << 12;
            continue;
        }
        let user = pte & PTE_U != 0;
        let priv_ok = match (ctx.mode, access) {
            (Mode::User, _) => user,
            // S never executes U pages; it reads and writes them only with SUM.
            (_, Access::Fetch) => !user,
            _ => !user || ctx.sum,
        };
        let perm_ok = match access {
            Access::Fetch => pte & PTE_X != 0,
            Access::Load => pte & PTE_R != 0 || (ctx.mxr && pte & PTE_X != 0),
            Access::Store => pte & PTE_W != 0,
        };
        // A superpage's PPN must be aligned to its size.
        let low = (1u64 << (9 * level)) - 1;
        if !priv_ok || !perm_ok || ppn & low != 0 {
            return Err(Fault::Page);
        }
        let pa = ((ppn & !low) << 12) | (va & ((1 << (12 + 9 * level)) - 1));
        return Ok(Walk {
            pa,
            pte: Some((off, pte)),
        });
    }
    Err(Fault::Page)
}

impl Hart {
    /// The translation context of an access of kind `access` now.
    pub(super) fn ctx(&self, access: Access) -> Ctx {
        let s = self.csr.mstatus;
        let mode = if access != Access::Fetch && self.mode == Mode::Machine && s & MSTATUS_MPRV != 0
        {
            Mode::from_bits((s & MSTATUS_MPP) >> 11)
        } else {
            self.mode
        };
        Ctx {
            satp: self.csr.satp,
            mode,
            sum: s & MSTATUS_SUM != 0,
            mxr: s & MSTATUS_MXR != 0,
        }
    }

    /// Recomputes the TLB keys after a change of mode, mstatus or generation.
    pub(super) fn update_keys(&mut self) {
        let ls = self.ctx(Access::Load);
        let g = (self.tlb_gen as u64) << 4;
        self.key_ls = (ls.mode as u64 | (ls.sum as u64) << 2 | (ls.mxr as u64) << 3 | g) << 52;
        self.key_fetch = (self.mode as u64 | g) << 52;
    }

    /// Forgets every cached translation (satp write, `sfence.vma`).
    #[inline(never)]
    pub(super) fn flush_tlb(&mut self) {
        self.tlb_satp = self.csr.satp;
        self.tlb_gen = self.tlb_gen.wrapping_add(1);
        if self.tlb_gen == 0 {
            self.tlb_fetch.fill(EMPTY);
            self.tlb_load.fill(EMPTY);
            self.tlb_store.fill(EMPTY);
        }
        self.update_keys();
    }

    /// Translates `va` for the executing hart: walk, A/D update, TLB fill. Errors are the
    /// trap to take (tval = `va`).
    #[inline(never)]
    pub(super) fn translate_mut(
        &mut self,
        bus: &mut Bus,
        va: u64,
        access: Access,
    ) -> Result<u64, Trap> {
        let w = walk(&bus.ram, self.ctx(access), va, access)
            .map_err(|f| Trap::new(fault_cause(access, f), va))?;
        if let Some((off, pte)) = w.pte {
            let mut new = pte | PTE_A;
            if access == Access::Store {
                new |= PTE_D;
            }
            if new != pte {
                bus.ram.store(off, 8, new);
            }
        }
        let page = w.pa & !0xfff;
        // A page with a watched byte stays out of the data TLBs (watch.rs).
        let watched =
            access != Access::Fetch && !self.watchpoints.is_empty() && self.page_watched(va);
        if let Some(base) = bus.ram.offset(page, 4096).filter(|_| !watched) {
            let vpn = va >> 12;
            let i = (vpn & TLB_MASK) as usize;
            match access {
                Access::Fetch => {
                    self.tlb_fetch[i] = TlbEntry {
                        tag: vpn | self.key_fetch,
                        base,
                    }
                }
                Access::Load => {
                    self.tlb_load[i] = TlbEntry {
                        tag: vpn | self.key_ls,
                        base,
                    }
                }
                Access::Store => {
                    if bus.tohost.is_none_or(|t| t & !0xfff != page) {
                        self.tlb_store[i] = TlbEntry {
                            tag: vpn | self.key_ls,
                            base,
                        };
                    }
                }
            }
        }
        Ok(w.pa)
    }

    /// Physical address of `vaddr` for an access of kind `access` in the hart's current mode
    /// and address space, or None if that access would fault. For debuggers: no A/D updates,
    /// no TLB fill, no trap.
    pub fn translate(&self, bus: &Bus, vaddr: u64, access: Access) -> Option<u64> {
        walk(&bus.ram, self.ctx(access), vaddr, access)
            .ok()
            .map(|w| w.pa)
    }
}
