//! PLIC: routes device interrupt lines to the harts' MEIP and SEIP, as QEMU's `virt` does.
//!
//! Layout (QEMU hw/riscv/virt.c with hw/intc/sifive_plic.c), 32-bit registers only:
//!
//! ```text
//!  offset                       register
//!  0x00_0000 + 4*irq            priority of source irq (0..=7; 0 never interrupts)
//!  0x00_1000 + 4*w              pending bits of sources 32w..32w+31 (read-only)
//!  0x00_2000 + 0x80*ctx + 4*w   enable bits of context ctx
//!  0x20_0000 + 0x1000*ctx       priority threshold of context ctx
//!  0x20_0004 + 0x1000*ctx       claim (read) / complete (write) of context ctx
//! ```
//!
//! There are 96 sources counting source 0, which does not exist (claim returns 0 for "none"),
//! and two contexts per hart: context `2h` is hart `h`'s M-mode (MEIP), `2h+1` its S-mode
//! (SEIP). Priorities and thresholds keep the value modulo 8 (QEMU: 7 priority levels, the
//! bits are write-any-read-legal).
//!
//! Gateways, as QEMU models them: [`Plic::set_level`] is a device signalling its line; it
//! sets the source's pending bit to the line's level (a low level withdraws a request that
//! was not yet claimed). A claim picks the pending, enabled, unclaimed source of highest
//! priority above the context's threshold (ties go to the lowest id), clears its pending bit
//! and marks it claimed; while claimed the source cannot be claimed again, by any context.
//! A complete (a write of the id) ends the claim — QEMU accepts any id below 96, whoever
//! claimed it. The source interrupts again once its device signals a high level again.
//!
//! When the devices signal: QEMU's devices call `qemu_set_irq` each time they re-evaluate
//! their line (the UART after most register accesses, the virtio disk after a completion or
//! an acknowledge), not continuously. A line that stays high without a new signal therefore
//! interrupts only once — which is what keeps MIT xv6 working even though it never clears
//! the UART's transmitter-empty interrupt (see `uart`). A caller that instead calls
//! `set_level` with the current level on every poll gets a true level-triggered gateway: the
//! source re-pends as soon as it is completed while its line is high.
//!
//! Invariant: `pending`, `claimed` and every `enable` row have bit 0 and bits >= 96 clear
//! of meaning: `set_level` ignores source 0 and sources >= 96, and claim never returns them.
//!
//! Locking: none; the bus owns the PLIC and harts run one at a time.

/// Sources, counting the non-existent source 0 (QEMU `VIRT_IRQCHIP_NUM_SOURCES`).
pub const NUM_SOURCES: u32 = 96;
/// Highest priority level (QEMU `VIRT_PLIC_NUM_PRIORITIES`).
pub const MAX_PRIORITY: u32 = 7;
/// 32-bit words of one bit per source.
const WORDS: usize = NUM_SOURCES.div_ceil(32) as usize;

const PRIORITY_BASE: u64 = 0x0;
const PENDING_BASE: u64 = 0x1000;
const ENABLE_BASE: u64 = 0x2000;
const ENABLE_STRIDE: u64 = 0x80;
const CONTEXT_BASE: u64 = 0x20_0000;
const CONTEXT_STRIDE: u64 = 0x1000;

#[derive(Clone)]
pub struct Plic {
    /// Priority of each source.
    priority: [u32; NUM_SOURCES as usize],
    /// Bit per source: its device signalled a high level and no claim has taken it since.
    pending: [u32; WORDS],
    /// Bit per source: claimed by some context and not yet completed.
    claimed: [u32; WORDS],
    /// Per context: the sources it takes.
    enable: Vec<[u32; WORDS]>,
    /// Per context: only priorities above it interrupt.
    threshold: Vec<u32>,
    /// Successful claims per source since reset (statistics for the host).
    claims: [u64; NUM_SOURCES as usize],
}

impl Plic {
    /// A PLIC for `harts` harts (two contexts each), in its reset state: everything zero.
    pub fn new(harts: usize) -> Self {
        let contexts = 2 * harts;
        Plic {
            priority: [0; NUM_SOURCES as usize],
            pending: [0; WORDS],
            claimed: [0; WORDS],
            enable: vec![[0; WORDS]; contexts],
            threshold: vec![0; contexts],
            claims: [0; NUM_SOURCES as usize],
        }
    }

    /// Number of contexts (two per hart).
    pub fn contexts(&self) -> usize {
        self.threshold.len()
    }

    /// 32-bit load at `offset`. Reading a claim register claims (see the module essay);
    /// [`Plic::peek`] reads without claiming.
    pub fn read(&mut self, offset: u64) -> u32 {
        match self.context_register(offset) {
            Some((ctx, 4)) => self.claim(ctx),
            _ => self.peek(offset),
        }
    }

    /// The value a guest load at `offset` would return, without claiming (for debuggers: the
    /// claim register shows the source a claim would take).
    pub fn peek(&self, offset: u64) -> u32 {
        if let Some(irq) = in_range(offset, PRIORITY_BASE, 4 * NUM_SOURCES as u64) {
            return self.priority[irq as usize / 4];
        }
        // QEMU sizes this window (NUM_SOURCES + 31) / 8 bytes, one word more than it has;
        // that word reads 0 here.
        if let Some(rel) = in_range(offset, PENDING_BASE, (NUM_SOURCES as u64 + 31) / 8) {
            return self.pending.get(rel as usize / 4).copied().unwrap_or(0);
        }
        if let Some(rel) = in_range(offset, ENABLE_BASE, ENABLE_STRIDE * self.contexts() as u64) {
            let (ctx, word) = (
                (rel / ENABLE_STRIDE) as usize,
                (rel % ENABLE_STRIDE) as usize / 4,
            );
            return self.enable[ctx].get(word).copied().unwrap_or(0);
        }
        if let Some(rel) = in_range(
            offset,
            CONTEXT_BASE,
            CONTEXT_STRIDE * self.contexts() as u64,
        ) {
            let ctx = (rel / CONTEXT_STRIDE) as usize;
            return match rel % CONTEXT_STRIDE {
                0 => self.threshold[ctx],
                4 => self.best(ctx, &self.pending).unwrap_or(0),
                _ => 0,
            };
        }
        0
    }

    /// 32-bit store of `val` at `offset`. Writing a claim register completes.
    pub fn write(&mut self, offset: u64, val: u32) {
        if let Some(rel) = in_range(offset, PRIORITY_BASE, 4 * NUM_SOURCES as u64) {
            self.priority[rel as usize / 4] = val % (MAX_PRIORITY + 1);
        } else if let Some(rel) =
            in_range(offset, ENABLE_BASE, ENABLE_STRIDE * self.contexts() as u64)
        {
            let (ctx, word) = (
                (rel / ENABLE_STRIDE) as usize,
                (rel % ENABLE_STRIDE) as usize / 4,
            );
            if let Some(w) = self.enable[ctx].get_mut(word) {
                *w = val;
            }
        } else if let Some(rel) = in_range(
            offset,
            CONTEXT_BASE,
            CONTEXT_STRIDE * self.contexts() as u64,
        ) {
            let ctx = (rel / CONTEXT_STRIDE) as usize;
            match rel % CONTEXT_STRIDE {
                0 => self.threshold[ctx] = val % (MAX_PRIORITY + 1),
                4 => self.complete(val),
                _ => {}
            }
        }
        // The pending bits are read-only; other offsets are holes.
    }

    /// Context and register offset of `offset` inside the per-context threshold/claim area.
    fn context_register(&self, offset: u64) -> Option<(usize, u64)> {
        let rel = in_range(
            offset,
            CONTEXT_BASE,
            CONTEXT_STRIDE * self.contexts() as u64,
        )?;
        Some(((rel / CONTEXT_STRIDE) as usize, rel % CONTEXT_STRIDE))
    }

    /// A device signals its line `irq` at `level` (see the module essay for when to call it).
    pub fn set_level(&mut self, irq: u32, level: bool) {
        if irq == 0 || irq >= NUM_SOURCES {
            return;
        }
        let (w, bit) = (irq as usize / 32, 1u32 << (irq % 32));
        if level {
            self.pending[w] |= bit;
        } else {
            self.pending[w] &= !bit;
        }
    }

    /// Whether context `context` has a claimable source above its threshold: the level of the
    /// hart's MEIP (even context) or SEIP (odd context).
    pub fn interrupting(&self, context: usize) -> bool {
        self.best(context, &self.pending).is_some()
    }

    /// Whether `context` would interrupt if source `irq` signalled a high level now (the
    /// machine asks this to tell whether host input could still wake a waiting hart).
    pub fn interrupting_if_signalled(&self, context: usize, irq: u32) -> bool {
        let mut pending = self.pending;
        if irq != 0 && irq < NUM_SOURCES {
            pending[irq as usize / 32] |= 1 << (irq % 32);
        }
        self.best(context, &pending).is_some()
    }

    /// Claims for `context`: the id of the best claimable source (0 if none), which becomes
    /// claimed and no longer pending.
    pub fn claim(&mut self, context: usize) -> u32 {
        match self.best(context, &self.pending) {
            Some(irq) => {
                let (w, bit) = (irq as usize / 32, 1u32 << (irq % 32));
                self.pending[w] &= !bit;
                self.claimed[w] |= bit;
                self.claims[irq as usize] += 1;
                irq
            }
            None => 0,
        }
    }

    /// Ends the claim on source `irq` (ids of no source are ignored).
    pub fn complete(&mut self, irq: u32) {
        if irq < NUM_SOURCES {
            self.claimed[irq as usize / 32] &= !(1 << (irq % 32));
        }
    }

    /// Whether source `irq` is pending (for debuggers).
    pub fn is_pending(&self, irq: u32) -> bool {
        irq < NUM_SOURCES && self.pending[irq as usize / 32] & (1 << (irq % 32)) != 0
    }

    /// Whether source `irq` is claimed and not yet completed (for debuggers).
    pub fn is_claimed(&self, irq: u32) -> bool {
        irq < NUM_SOURCES && self.claimed[irq as usize / 32] & (1 << (irq % 32)) != 0
    }

    /// Whether `context` has source `irq` enabled (for debuggers).
    pub fn is_enabled(&self, context: usize, irq: u32) -> bool {
        irq < NUM_SOURCES
            && self
                .enable
                .get(context)
                .is_some_and(|e| e[irq as usize / 32] & (1 << (irq % 32)) != 0)
    }

    /// Priority of source `irq` (for debuggers).
    pub fn priority(&self, irq: u32) -> u32 {
        self.priority.get(irq as usize).copied().unwrap_or(0)
    }

    /// How many times source `irq` has been claimed (interrupts delivered).
    pub fn claim_count(&self, irq: u32) -> u64 {
        self.claims.get(irq as usize).copied().unwrap_or(0)
    }

    /// Threshold of `context` (for debuggers).
    pub fn threshold(&self, context: usize) -> u32 {
        self.threshold.get(context).copied().unwrap_or(0)
    }

    /// The source `context` would claim now: pending, not claimed, enabled, priority above the
    /// threshold, highest priority first and then lowest id; `pending` as given.
    fn best(&self, context: usize, pending: &[u32; WORDS]) -> Option<u32> {
        let enable = self.enable.get(context)?;
        let mut best: Option<(u32, u32)> = None;
        let mut max_prio = self.threshold[context];
        for (w, &enabled) in enable.iter().enumerate() {
            let mut bits = pending[w] & !self.claimed[w] & enabled;
            while bits != 0 {
                let irq = w as u32 * 32 + bits.trailing_zeros();
                bits &= bits - 1;
                // Bits of sources >= NUM_SOURCES cannot be set: see the module invariant.
                let prio = self.priority[irq as usize];
                if prio > max_prio {
                    max_prio = prio;
                    best = Some((irq, prio));
                }
            }
        }
        best.map(|(irq, _)| irq)
    }
}

/// `offset - base` if `offset` lies in `[base, base + len)`.
fn in_range(offset: u64, base: u64, len: u64) -> Option<u64> {
    offset.checked_sub(base).filter(|rel| *rel < len)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UART: u32 = 10;
    const DISK: u32 = 1;

    /// Hart 0's S-mode context, set up as xv6's plicinit/plicinithart do.
    fn xv6_plic() -> Plic {
        let mut p = Plic::new(2);
        p.write(4 * UART as u64, 1);
        p.write(4 * DISK as u64, 1);
        p.write(0x2000 + 0x80, (1 << UART) | (1 << DISK));
        p.write(0x20_1000, 0);
        p
    }

    #[test]
    fn claim_complete_and_re_pend() {
        let mut p = xv6_plic();
        assert!(!p.interrupting(1));
        assert_eq!(p.read(0x20_1004), 0);
        p.set_level(UART, true);
        assert!(p.interrupting(1));
        // Context 0 (hart 0 M-mode) has nothing enabled.
        assert!(!p.interrupting(0));
        assert_eq!(p.read(0x1000), 1 << UART);
        assert_eq!(p.read(0x20_1004), UART);
        assert!(!p.interrupting(1));
        assert!(p.is_claimed(UART) && !p.is_pending(UART));
        // Signalled again while claimed: pending, but not claimable until completed.
        p.set_level(UART, true);
        assert!(p.is_pending(UART));
        assert!(!p.interrupting(1));
        assert_eq!(p.read(0x20_1004), 0);
        p.write(0x20_1004, UART);
        assert!(p.interrupting(1));
        assert_eq!(p.read(0x20_1004), UART);
        assert_eq!(p.claim_count(UART), 2);
        p.write(0x20_1004, UART);
        // Not signalled again: no further interrupt, though nobody lowered the line.
        assert!(!p.interrupting(1));
        // A signal would interrupt the context that enables the source, and nothing changes.
        assert!(p.interrupting_if_signalled(1, UART));
        assert!(!p.interrupting_if_signalled(0, UART));
        assert!(!p.interrupting(1) && !p.is_pending(UART));
        // Claimed, a signal would not interrupt.
        p.set_level(UART, true);
        assert_eq!(p.read(0x20_1004), UART);
        assert!(!p.interrupting_if_signalled(1, UART));
    }

    #[test]
    fn peek_does_not_claim() {
        let mut p = xv6_plic();
        p.set_level(UART, true);
        assert_eq!(p.peek(0x20_1004), UART);
        assert_eq!(p.peek(0x20_1004), UART);
        assert!(p.interrupting(1));
        assert_eq!(p.read(0x20_1004), UART);
        assert_eq!(p.peek(0x20_1004), 0);
        assert_eq!(p.peek(4 * UART as u64), 1);
    }

    #[test]
    fn a_low_level_withdraws_an_unclaimed_request() {
        let mut p = xv6_plic();
        p.set_level(DISK, true);
        assert!(p.interrupting(1));
        p.set_level(DISK, false);
        assert!(!p.interrupting(1));
        assert_eq!(p.read(0x20_1004), 0);
    }

    #[test]
    fn priority_threshold_and_ties() {
        let mut p = xv6_plic();
        p.set_level(UART, true);
        p.set_level(DISK, true);
        // Equal priorities: the lowest id wins.
        assert_eq!(p.claim(1), DISK);
        p.complete(DISK);
        p.set_level(DISK, true);
        p.write(4 * UART as u64, 3);
        assert_eq!(p.claim(1), UART);
        assert_eq!(p.claim(1), DISK);
        p.complete(UART);
        p.complete(DISK);
        // Threshold: only priorities strictly above it interrupt.
        p.set_level(UART, true);
        p.write(0x20_1000, 3);
        assert!(!p.interrupting(1));
        p.write(0x20_1000, 2);
        assert!(p.interrupting(1));
        // Priority 0 never interrupts.
        p.write(4 * UART as u64, 0);
        p.write(0x20_1000, 0);
        assert!(!p.interrupting(1));
    }

    #[test]
    fn registers_are_warl_and_bounded() {
        let mut p = Plic::new(1);
        p.write(4 * 5, 0xffff_ffff);
        assert_eq!(p.read(4 * 5), 7);
        p.write(0x20_0000, 9);
        assert_eq!(p.read(0x20_0000), 1);
        p.write(0x2000 + 8, 0xdead_beef);
        assert_eq!(p.read(0x2000 + 8), 0xdead_beef);
        // Beyond the three enable words of a context, and beyond the last context.
        p.write(0x2000 + 12, 1);
        assert_eq!(p.read(0x2000 + 12), 0);
        p.write(0x2000 + 0x100, 1);
        assert_eq!(p.read(0x2000 + 0x100), 0);
        assert_eq!(p.read(0x20_2004), 0);
        assert!(!p.interrupting(2));
        // The pending bits are read-only.
        p.write(0x1000, 0xffff_ffff);
        assert_eq!(p.read(0x1000), 0);
        // Sources that do not exist.
        p.set_level(0, true);
        p.set_level(96, true);
        assert_eq!(p.read(0x1000), 0);
        assert_eq!(p.read(0x100c), 0);
    }

    #[test]
    fn contexts_are_independent_but_claims_are_global() {
        let mut p = Plic::new(2);
        p.write(4 * UART as u64, 1);
        for ctx in 0..4u64 {
            p.write(0x2000 + 0x80 * ctx, 1 << UART);
        }
        p.set_level(UART, true);
        assert!((0..4).all(|c| p.interrupting(c)));
        assert_eq!(p.read(0x20_3004), UART);
        // One claim serves every context: the others now see nothing.
        assert!((0..4).all(|c| !p.interrupting(c)));
        assert_eq!(p.read(0x20_1004), 0);
    }
}
