//! The system bus: routes physical addresses to RAM and to the devices of the `virt` board.
//!
//! Harts reach RAM directly through [`Ram`] on their fast path and come here for everything
//! else. Devices are plain fields; each sees only the offset inside its own region, and the
//! virtio disk gets RAM (not a hart) for its DMA. Interrupt lines are levels computed on demand
//! by [`Bus::irq_lines`], so no device has to remember to raise or lower anything.

use crate::board::*;
use crate::devices::{
    clint::Clint, finisher::Finisher, plic::Plic, uart::Uart, virtio_blk::VirtioBlk,
};
use crate::ram::Ram;

/// Why the machine must stop running harts, raised by a device in the middle of a quantum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// The guest wrote the test finisher: pass (exit code 0), fail (code), or reset.
    PowerOff { code: u32 },
    /// The guest asked for a reset through the finisher.
    Reset,
    /// A bare-metal test reported through HTIF `tohost`: 1 is pass, `(code << 1) | 1` fails.
    Htif { value: u64 },
}

/// A physical access that nothing answers: the hart turns it into an access fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusError;

/// Interrupt-pending bits for one hart, in `mip` bit positions.
pub mod irq {
    pub const MSIP: u64 = 1 << 3;
    pub const MTIP: u64 = 1 << 7;
    pub const SEIP: u64 = 1 << 9;
    pub const MEIP: u64 = 1 << 11;
}

pub struct Bus {
    pub ram: Ram,
    pub clint: Clint,
    pub plic: Plic,
    pub uart: Uart,
    pub virtio: VirtioBlk,
    pub finisher: Finisher,
    /// The net lab's PCIe host, e1000 and user network, when the board has them (see `net`).
    pub net: Option<Box<crate::net::Net>>,
    /// Physical address of the HTIF `tohost` word, when the loaded ELF has one. Harts keep its
    /// page on the slow store path (see `cpu::mmu`), so every store to it comes through here.
    pub tohost: Option<u64>,
    /// The machine's cycle counter as of the access being made (see `board`); a hart updates
    /// it before every device access so that `mtime` reads are exact.
    pub now: u64,
    /// Set by a device when the machine must stop; cleared by the machine.
    pub halt: Option<Halt>,
    /// Pre-decoded instructions of RAM pages, shared by all harts (see `cpu::icache`).
    pub icache: crate::cpu::icache::DecodeCache,
    /// The translating tier, shared by all harts; None runs the interpreter alone.
    pub jit: Option<Box<crate::cpu::jit::Jit>>,
    /// The first physical address a load or store found nothing at (an access fault), kept
    /// for the host's diagnostics (a kernel that assumes more RAM than the board has). The
    /// host may clear it.
    pub unmapped: Option<u64>,
}

impl Bus {
    pub fn new(ram: Ram, harts: usize, virtio: VirtioBlk) -> Self {
        Bus {
            icache: crate::cpu::icache::DecodeCache::new(ram.size()),
            jit: None,
            ram,
            clint: Clint::new(harts),
            plic: Plic::new(harts),
            uart: Uart::new(),
            virtio,
            finisher: Finisher::new(),
            net: None,
            tohost: None,
            now: 0,
            halt: None,
            unmapped: None,
        }
    }

    /// `mtime` at the current cycle.
    #[inline]
    pub fn mtime(&self) -> u64 {
        self.now / CYCLES_PER_TICK
    }

    /// Physical load of `size` bytes (1, 2, 4 or 8), RAM or device.
    pub fn load(&mut self, paddr: u64, size: u64) -> Result<u64, BusError> {
        if let Some(off) = self.ram.offset(paddr, size) {
            return Ok(self.ram.load(off, size as usize));
        }
        let mtime = self.mtime();
        match paddr {
            a if in_region(a, size, CLINT_BASE, CLINT_SIZE) => {
                Ok(self.clint.read(a - CLINT_BASE, size, mtime))
            }
            a if in_region(a, size, PLIC_BASE, PLIC_SIZE) && size == 4 => {
                Ok(self.plic.read(a - PLIC_BASE) as u64)
            }
            a if in_region(a, size, UART_BASE, UART_SIZE) => {
                Ok(self.uart.read(a - UART_BASE) as u64)
            }
            a if in_region(a, size, VIRTIO_BASE, VIRTIO_SIZE) && size <= 4 => {
                Ok(self.virtio.read(a - VIRTIO_BASE, size) as u64)
            }
            a if in_region(a, size, FINISHER_BASE, FINISHER_SIZE) => Ok(0),
            a => {
                if let Some(net) = self.net.as_deref_mut()
                    && let Some(v) = net.load(a, size)
                {
                    return Ok(v);
                }
                self.unmapped.get_or_insert(a);
                Err(BusError)
            }
        }
    }

    /// Physical store of the low `size` bytes (1, 2, 4 or 8) of `val`, RAM or device.
    pub fn store(&mut self, paddr: u64, size: u64, val: u64) -> Result<(), BusError> {
        if let Some(off) = self.ram.offset(paddr, size) {
            self.ram.store(off, size as usize, val);
            if self.tohost == Some(paddr) && val != 0 {
                self.halt = Some(Halt::Htif { value: val });
            }
            return Ok(());
        }
        let mtime = self.mtime();
        match paddr {
            a if in_region(a, size, CLINT_BASE, CLINT_SIZE) => {
                self.clint.write(a - CLINT_BASE, size, val, mtime)
            }
            a if in_region(a, size, PLIC_BASE, PLIC_SIZE) && size == 4 => {
                self.plic.write(a - PLIC_BASE, val as u32)
            }
            a if in_region(a, size, UART_BASE, UART_SIZE) => {
                self.uart.write(a - UART_BASE, val as u8)
            }
            a if in_region(a, size, VIRTIO_BASE, VIRTIO_SIZE) && size <= 4 => {
                self.virtio
                    .write(a - VIRTIO_BASE, size, val as u32, &mut self.ram)
            }
            a if in_region(a, size, FINISHER_BASE, FINISHER_SIZE) => {
                if let Some(h) = self.finisher.write(a - FINISHER_BASE, val as u32) {
                    self.halt = Some(h);
                }
            }
            a => {
                let now = self.now;
                if let Some(net) = self.net.as_deref_mut()
                    && net.store(a, size, val, &mut self.ram, now)
                {
                    return Ok(());
                }
                self.unmapped.get_or_insert(a);
                return Err(BusError);
            }
        }
        Ok(())
    }

    /// The interrupt levels that hart `hart` sees in `mip` (MSIP, MTIP, MEIP, SEIP) now.
    ///
    /// Devices signal the PLIC only when they re-evaluate their line, as QEMU's devices do
    /// (`qemu_set_irq`), not on every poll: a line that stays high interrupts once per signal.
    /// MIT xv6 relies on this — it never clears the UART's transmitter-empty condition, and a
    /// gateway fed the polled level would re-pend the UART forever (see `devices::plic`).
    pub fn irq_lines(&mut self, hart: usize) -> u64 {
        if let Some(level) = self.uart.take_irq_update() {
            self.plic.set_level(UART_IRQ, level);
        }
        if let Some(level) = self.virtio.take_irq_update() {
            self.plic.set_level(VIRTIO_IRQ, level);
        }
        if let Some(net) = self.net.as_deref_mut()
            && let Some(level) = net.e1000.take_irq_update()
        {
            self.plic.set_level(E1000_IRQ, level);
        }
        let mut mip = 0;
        if self.clint.msip(hart) {
            mip |= irq::MSIP;
        }
        if self.clint.mtimecmp(hart) <= self.mtime() {
            mip |= irq::MTIP;
        }
        // QEMU virt: PLIC context 2*hart is the hart's M-mode, 2*hart+1 its S-mode.
        if self.plic.interrupting(2 * hart) {
            mip |= irq::MEIP;
        }
        if self.plic.interrupting(2 * hart + 1) {
            mip |= irq::SEIP;
        }
        mip
    }
}

#[inline(always)]
fn in_region(addr: u64, size: u64, base: u64, len: u64) -> bool {
    addr >= base && addr + size <= base + len
}
