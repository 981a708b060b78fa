//! The PCIe host bridge of QEMU's `virt` board (QEMU's "gpex"), as the net lab's `pci.c` uses
//! it: ECAM configuration space, one 32-bit memory window for BARs, INTx on the PLIC.
//!
//! ECAM (PCIe base spec §7.2.2): the configuration space of bus `b`, device `d`, function `f`
//! is the 4 KiB at `(b << 20) | (d << 15) | (f << 12)` from the base. A function that is not
//! there reads all-ones (the master abort value) and ignores writes; so does every bus but 0,
//! since nothing sits behind a bridge on this board.
//!
//! What is on bus 0, as QEMU puts it for `-device e1000,bus=pcie.0`: the host bridge itself at
//! 00:00.0 (Red Hat's 1b36:0008) and the e1000 at 00:01.0, the first free slot. xv6's
//! `pci_init` scans "devices" 0..32 but indexes a `uint32 *` with `dev << 11`, so its "device"
//! `4k` is ECAM device `k`: it finds the e1000 at its index 4, after reading all-ones from the
//! functions 1..7 of the bridge.
//!
//! A function's header is type 0 (PCI 3.0 §6.1). Only the command register, the BARs and the
//! interrupt line are writable. A BAR answers a write with its address bits only, so writing
//! all-ones and reading back gives `!(size - 1)` plus the BAR's flag bits: that is how drivers
//! (xv6 included) size it.

/// Bytes of configuration space per function (PCIe extended configuration space).
pub const FUNCTION_SIZE: u64 = 0x1000;

/// QEMU's vendor id for its own devices (Red Hat) and the gpex host bridge's device id.
const BRIDGE_ID: u32 = 0x0008_1b36;
/// Class code of a host bridge (class 06, subclass 00), revision 0.
const BRIDGE_CLASS: u32 = 0x0600_0000;

/// Command register bits (PCI 3.0 §6.2.2).
pub mod command {
    pub const IO: u16 = 1 << 0;
    pub const MEMORY: u16 = 1 << 1;
    pub const BUS_MASTER: u16 = 1 << 2;
    /// The bits a function without special features lets software set (QEMU's
    /// `PCI_COMMAND` write mask: I/O, memory, master, SERR, interrupt disable; parity too).
    pub const WRITABLE: u16 = 0x0547;
}

/// One base address register: its size and flag bits (PCI 3.0 §6.2.5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bar {
    /// Bytes decoded; a power of two (16 or more for memory, 4 or more for I/O).
    pub size: u32,
    /// I/O space instead of memory space (bit 0 reads 1).
    pub io: bool,
}

/// What a function reports about itself: the read-only part of its header.
#[derive(Clone, Debug)]
pub struct Identity {
    pub vendor: u16,
    pub device: u16,
    /// Class code (24 bits) and revision, as the dword at offset 8.
    pub class_rev: u32,
    pub subsystem_vendor: u16,
    pub subsystem: u16,
    /// The six BARs; None where the function has none (reads 0, ignores writes).
    pub bars: [Option<Bar>; 6],
    /// INTx pin: 1 for INTA#, 0 for none.
    pub interrupt_pin: u8,
}

/// The configuration header of one function: its identity plus what software wrote.
#[derive(Clone, Debug)]
pub struct Function {
    pub identity: Identity,
    pub command: u16,
    /// The BARs' values as written, address bits only.
    bars: [u32; 6],
    pub interrupt_line: u8,
}

impl Function {
    pub fn new(identity: Identity) -> Self {
        Function {
            identity,
            command: 0,
            bars: [0; 6],
            interrupt_line: 0,
        }
    }

    /// The memory address BAR `i` decodes at, when memory decoding is on and the BAR is a
    /// memory BAR that software placed (a BAR still at 0 or at its sizing value is unplaced,
    /// as QEMU's `pci_bar_address` treats it).
    pub fn memory_bar(&self, i: usize) -> Option<(u64, u64)> {
        let bar = self.identity.bars.get(i).copied().flatten()?;
        if bar.io || self.command & command::MEMORY == 0 {
            return None;
        }
        let base = self.bars[i] & !(bar.size - 1);
        if base == 0 || base == !(bar.size - 1) {
            return None;
        }
        Some((base as u64, bar.size as u64))
    }

    /// The dword at configuration offset `reg` (4-byte aligned).
    fn read_dword(&self, reg: u64) -> u32 {
        let id = &self.identity;
        match reg {
            0x00 => (id.device as u32) << 16 | id.vendor as u32,
            // Status reads 0: no capabilities list, no errors latched.
            0x04 => self.command as u32,
            0x08 => id.class_rev,
            // Cache line size, latency timer, header type 0 (single function), BIST: 0.
            0x0c => 0,
            0x10..=0x24 => {
                let i = ((reg - 0x10) / 4) as usize;
                match id.bars[i] {
                    Some(bar) => self.bars[i] | bar.io as u32,
                    None => 0,
                }
            }
            0x2c => (id.subsystem as u32) << 16 | id.subsystem_vendor as u32,
            0x3c => (id.interrupt_pin as u32) << 8 | self.interrupt_line as u32,
            _ => 0,
        }
    }

    /// Stores `val` into the dword at `reg`, only the bytes in `mask`.
    fn write_dword(&mut self, reg: u64, val: u32, mask: u32) {
        let merged = (self.read_dword(reg) & !mask) | (val & mask);
        match reg {
            0x04 => self.command = merged as u16 & command::WRITABLE,
            0x10..=0x24 => {
                let i = ((reg - 0x10) / 4) as usize;
                if let Some(bar) = self.identity.bars[i] {
                    // Bits below the size are hard-wired (the flags, and zeros).
                    self.bars[i] = merged & !(bar.size - 1);
                }
            }
            0x3c => self.interrupt_line = merged as u8,
            _ => {}
        }
    }
}

/// The host bridge and the functions on bus 0.
#[derive(Clone, Debug)]
pub struct PciHost {
    bridge: Function,
    /// Functions by device number on bus 0 (function 0 each; no multi-function devices).
    devices: Vec<(u8, Function)>,
}

impl PciHost {
    pub fn new() -> Self {
        PciHost {
            bridge: Function::new(Identity {
                vendor: BRIDGE_ID as u16,
                device: (BRIDGE_ID >> 16) as u16,
                class_rev: BRIDGE_CLASS,
                subsystem_vendor: 0x1af4,
                subsystem: 0x1100,
                bars: [None; 6],
                interrupt_pin: 0,
            }),
            devices: Vec::new(),
        }
    }

    /// Plugs `function` in at device `slot` of bus 0 (1..32; slot 0 is the bridge).
    pub fn plug(&mut self, slot: u8, function: Function) {
        debug_assert!((1..32).contains(&slot));
        self.devices.retain(|(s, _)| *s != slot);
        self.devices.push((slot, function));
    }

    /// The function at device `slot` of bus 0.
    pub fn device(&self, slot: u8) -> Option<&Function> {
        self.devices
            .iter()
            .find(|(s, _)| *s == slot)
            .map(|(_, f)| f)
    }

    fn function_mut(&mut self, offset: u64) -> Option<&mut Function> {
        let (bus, dev, func) = (offset >> 20, (offset >> 15) & 31, (offset >> 12) & 7);
        if bus != 0 || func != 0 {
            return None;
        }
        if dev == 0 {
            return Some(&mut self.bridge);
        }
        self.devices
            .iter_mut()
            .find(|(s, _)| *s as u64 == dev)
            .map(|(_, f)| f)
    }

    /// A configuration read of `size` bytes (1, 2, 4, or 8 as two dwords) at ECAM `offset`.
    pub fn read(&mut self, offset: u64, size: u64) -> u64 {
        if size == 8 {
            return self.read(offset, 4) | self.read(offset + 4, 4) << 32;
        }
        let ones = (1u64 << (8 * size)) - 1;
        let Some(f) = self.function_mut(offset) else {
            return ones; // master abort
        };
        let reg = offset & (FUNCTION_SIZE - 1);
        let shift = 8 * (reg & 3);
        (f.read_dword(reg & !3) as u64 >> shift) & ones
    }

    /// A configuration write of the low `size` bytes of `val` at ECAM `offset`.
    pub fn write(&mut self, offset: u64, size: u64, val: u64) {
        if size == 8 {
            self.write(offset, 4, val & 0xffff_ffff);
            self.write(offset + 4, 4, val >> 32);
            return;
        }
        let Some(f) = self.function_mut(offset) else {
            return;
        };
        let reg = offset & (FUNCTION_SIZE - 1);
        let shift = 8 * (reg & 3);
        let mask = (((1u64 << (8 * size)) - 1) << shift) as u32;
        f.write_dword(reg & !3, ((val << shift) & 0xffff_ffff) as u32, mask);
    }
}

impl Default for PciHost {
    fn default() -> Self {
        Self::new()
    }
}

/// QEMU virt's INTx routing (`virt.c`, `create_pcie_irq_map`): pin `pin` (1 = INTA) of device
/// `slot` raises PLIC source `32 + (slot + pin - 1) % 4`.
pub fn intx_irq(slot: u8, pin: u8) -> u32 {
    32 + (slot as u32 + pin.saturating_sub(1) as u32) % 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nic() -> Function {
        Function::new(Identity {
            vendor: 0x8086,
            device: 0x100e,
            class_rev: 0x0200_0003,
            subsystem_vendor: 0x1af4,
            subsystem: 0x1100,
            bars: [
                Some(Bar {
                    size: 0x2_0000,
                    io: false,
                }),
                Some(Bar {
                    size: 0x40,
                    io: true,
                }),
                None,
                None,
                None,
                None,
            ],
            interrupt_pin: 1,
        })
    }

    fn ecam(dev: u64, reg: u64) -> u64 {
        dev << 15 | reg
    }

    /// xv6's `pci_init`, register by register: scan, enable, size the BARs, place BAR 0.
    #[test]
    fn xv6_pci_init_finds_sizes_and_places_the_e1000() {
        let mut pci = PciHost::new();
        pci.plug(1, nic());
        // xv6 indexes a uint32 pointer with dev << 11: byte offset dev << 13.
        let found: Vec<u64> = (0..32u64)
            .filter(|dev| pci.read(dev << 13, 4) == 0x100e_8086)
            .collect();
        assert_eq!(found, [4], "ECAM device 1 is xv6's index 4");
        assert_eq!(pci.read(0, 4), 0x0008_1b36, "the host bridge");
        assert_eq!(
            pci.read(1 << 12, 4),
            0xffff_ffff,
            "function 1 of the bridge is absent"
        );
        assert_eq!(pci.read(ecam(2, 0), 2), 0xffff, "an empty slot");
        assert_eq!(pci.read(1 << 20, 4), 0xffff_ffff, "bus 1 has nothing");

        let base = ecam(1, 0);
        pci.write(base + 4, 4, 7);
        assert_eq!(pci.read(base + 4, 2), 7);
        let mut sizes = Vec::new();
        for i in 0..6 {
            let reg = base + 0x10 + 4 * i;
            let old = pci.read(reg, 4);
            pci.write(reg, 4, 0xffff_ffff);
            sizes.push(pci.read(reg, 4));
            pci.write(reg, 4, old);
        }
        assert_eq!(sizes, [0xfffe_0000, 0xffff_ffc1, 0, 0, 0, 0]);
        assert_eq!(pci.device(1).unwrap().memory_bar(0), None, "unplaced");
        pci.write(base + 0x10, 4, 0x4000_0000);
        assert_eq!(pci.read(base + 0x10, 4), 0x4000_0000);
        assert_eq!(
            pci.device(1).unwrap().memory_bar(0),
            Some((0x4000_0000, 0x2_0000))
        );
        // Memory decoding off: the BAR no longer decodes.
        pci.write(base + 4, 2, command::BUS_MASTER as u64);
        assert_eq!(pci.device(1).unwrap().memory_bar(0), None);
    }

    #[test]
    fn sub_word_accesses_and_read_only_registers() {
        let mut pci = PciHost::new();
        pci.plug(1, nic());
        let base = ecam(1, 0);
        assert_eq!(pci.read(base, 2), 0x8086);
        assert_eq!(pci.read(base + 2, 2), 0x100e);
        assert_eq!(pci.read(base + 0xb, 1), 0x02, "class: network controller");
        assert_eq!(pci.read(base + 0x3d, 1), 1, "INTA#");
        pci.write(base, 4, 0);
        assert_eq!(pci.read(base, 4), 0x100e_8086, "ids are read-only");
        pci.write(base + 0x3c, 1, 33);
        assert_eq!(pci.read(base + 0x3c, 4), 0x0000_0121);
        // Bits outside the writable mask of the command register stay 0.
        pci.write(base + 4, 2, 0xffff);
        assert_eq!(pci.read(base + 4, 2), command::WRITABLE as u64);
        assert_eq!(pci.read(base, 8), 0x0000_0547_100e_8086);
    }

    #[test]
    fn intx_routing_is_qemu_virts() {
        // xv6's E1000_IRQ: the e1000 at slot 1 on INTA#.
        assert_eq!(intx_irq(1, 1), 33);
        assert_eq!(intx_irq(0, 1), 32);
        assert_eq!(intx_irq(3, 2), 32);
    }
}
