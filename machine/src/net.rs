//! The net lab's hardware, as `qemu -netdev user,... -device e1000,bus=pcie.0` gives it: the
//! PCIe host bridge ([`pci`](crate::devices::pci)), an e1000 at 00:01.0
//! ([`e1000`](crate::devices::e1000)) and the user-mode network behind it ([`slirp`]).
//!
//! Off by default ([`Machine::attach_net`](crate::Machine::attach_net)): without it the board
//! has nothing at the PCIe addresses and runs exactly as before. With it, frames move
//! between the e1000 and the network synchronously, inside the guest's register write that
//! sends them, so the machine stays deterministic; the only way in from the host is
//! [`Net::deliver`], a datagram the host received, which the session logs like console
//! input. The machine does no host I/O: datagrams for the host wait in an outbox
//! ([`Net::take_datagrams`]).

pub mod slirp;

use crate::board::{E1000_IRQ, PCIE_ECAM_BASE, PCIE_ECAM_SIZE, PCIE_MMIO_BASE, PCIE_MMIO_SIZE};
use crate::devices::e1000::{self, E1000};
use crate::devices::pci::{self, Bar, Function, Identity, PciHost};
use crate::ram::Ram;
use slirp::{Datagram, FromGuest, Slirp};
use std::collections::VecDeque;

/// The e1000's device number on bus 0 (QEMU's first free slot).
pub const E1000_SLOT: u8 = 1;
/// Frames kept for a debugger's view.
const RECENT: usize = 16;
/// Datagrams for the host kept at most while the host does not take them.
const MAX_OUTBOX: usize = 1024;

/// One frame on the wire, and when: the machine cycle and the direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub cycle: u64,
    /// Sent by the network to the guest (else by the guest).
    pub to_guest: bool,
    pub bytes: Vec<u8>,
}

/// The PCIe host, the e1000 and the user network (see the module essay).
#[derive(Clone, Debug)]
pub struct Net {
    pub pci: PciHost,
    pub e1000: E1000,
    pub slirp: Slirp,
    outbox: VecDeque<Datagram>,
    recent: VecDeque<Frame>,
    /// Every frame since capture was turned on, for a packet capture file.
    capture: Option<Vec<Frame>>,
    /// Frames the guest sent that the network dropped, with the last reason.
    pub not_carried: u64,
    pub last_not_carried: Option<&'static str>,
}

impl Default for Net {
    fn default() -> Self {
        Self::new()
    }
}

/// The e1000's PCI identity, as QEMU's `e1000` (82540EM) reports it.
fn e1000_function() -> Function {
    let mut bars = [None; 6];
    bars[0] = Some(Bar {
        size: e1000::MMIO_SIZE as u32,
        io: false,
    });
    bars[1] = Some(Bar {
        size: 0x40,
        io: true,
    });
    Function::new(Identity {
        vendor: 0x8086,
        device: 0x100e,
        // Class 02 (network), subclass 00 (Ethernet), revision 3.
        class_rev: 0x0200_0003,
        subsystem_vendor: 0x1af4,
        subsystem: 0x1100,
        bars,
        interrupt_pin: 1,
    })
}

impl Net {
    pub fn new() -> Self {
        let mut pci = PciHost::new();
        pci.plug(E1000_SLOT, e1000_function());
        debug_assert_eq!(pci::intx_irq(E1000_SLOT, 1), E1000_IRQ);
        Net {
            pci,
            e1000: E1000::new(),
            slirp: Slirp::new(),
            outbox: VecDeque::new(),
            recent: VecDeque::new(),
            capture: None,
            not_carried: 0,
            last_not_carried: None,
        }
    }

    /// Where the e1000's registers decode now: BAR 0 inside the PCIe memory window.
    fn e1000_window(&self) -> Option<(u64, u64)> {
        let (base, size) = self.pci.device(E1000_SLOT)?.memory_bar(0)?;
        (base >= PCIE_MMIO_BASE && base + size <= PCIE_MMIO_BASE + PCIE_MMIO_SIZE)
            .then_some((base, size))
    }

    /// Whether the e1000 may master the bus (PCI command register).
    fn dma(&self) -> bool {
        self.pci
            .device(E1000_SLOT)
            .is_some_and(|f| f.command & pci::command::BUS_MASTER != 0)
    }

    /// A load from physical `paddr`; None when nothing of the net hardware is there.
    pub fn load(&mut self, paddr: u64, size: u64) -> Option<u64> {
        if in_region(paddr, size, PCIE_ECAM_BASE, PCIE_ECAM_SIZE) {
            return Some(self.pci.read(paddr - PCIE_ECAM_BASE, size));
        }
        let (base, len) = self.e1000_window()?;
        if !in_region(paddr, size, base, len) {
            return None;
        }
        // Registers are 32 bits wide; narrower loads see their bytes of one, a 64-bit load
        // two in a row.
        let off = paddr - base;
        let word = |e: &mut E1000, o: u64| e.read(o) as u64;
        Some(if size == 8 {
            word(&mut self.e1000, off & !3) | word(&mut self.e1000, (off & !3) + 4) << 32
        } else {
            let shift = 8 * (off & 3);
            (word(&mut self.e1000, off & !3) >> shift) & ((1u64 << (8 * size)) - 1)
        })
    }

    /// A store to physical `paddr` at machine cycle `now`; false when nothing of the net
    /// hardware is there.
    pub fn store(&mut self, paddr: u64, size: u64, val: u64, ram: &mut Ram, now: u64) -> bool {
        if in_region(paddr, size, PCIE_ECAM_BASE, PCIE_ECAM_SIZE) {
            self.pci.write(paddr - PCIE_ECAM_BASE, size, val);
            return true;
        }
        let Some((base, len)) = self.e1000_window() else {
            return false;
        };
        if !in_region(paddr, size, base, len) {
            return false;
        }
        let off = paddr - base;
        let dma = self.dma();
        if size == 8 {
            self.e1000.write(off & !3, val as u32, ram, dma);
            self.e1000
                .write((off & !3) + 4, (val >> 32) as u32, ram, dma);
        } else {
            // A narrower store merges into the register's other bytes.
            let shift = 8 * (off & 3);
            let mask = ((1u64 << (8 * size)) - 1) << shift;
            let old = self.e1000.read_quiet(off & !3) as u64;
            let merged = (old & !mask) | ((val << shift) & mask);
            self.e1000.write(off & !3, merged as u32, ram, dma);
        }
        self.pump(ram, now);
        true
    }

    /// Carries the frames the guest sent: answers from the network go straight back into
    /// the e1000, datagrams for the host into the outbox.
    fn pump(&mut self, ram: &mut Ram, now: u64) {
        for frame in self.e1000.take_sent() {
            self.log(now, false, &frame);
            match self.slirp.from_guest(&frame) {
                FromGuest::ToGuest(frames) => {
                    for f in frames {
                        self.send_to_guest(f, ram, now);
                    }
                }
                FromGuest::Datagram(d) => {
                    if self.outbox.len() >= MAX_OUTBOX {
                        self.outbox.pop_front();
                    }
                    self.outbox.push_back(d);
                }
                FromGuest::Dropped(why) => {
                    self.not_carried += 1;
                    self.last_not_carried = Some(why);
                }
            }
        }
    }

    fn send_to_guest(&mut self, frame: Vec<u8>, ram: &mut Ram, now: u64) {
        self.log(now, true, &frame);
        let dma = self.dma();
        self.e1000.receive(frame, ram, dma);
    }

    fn log(&mut self, cycle: u64, to_guest: bool, bytes: &[u8]) {
        let frame = Frame {
            cycle,
            to_guest,
            bytes: bytes.to_vec(),
        };
        if let Some(c) = self.capture.as_mut() {
            c.push(frame.clone());
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(frame);
    }

    /// A datagram from the host arrives for the guest at machine cycle `now` (host input:
    /// the caller logs it). One that does not fit Ethernet's 1500-byte MTU is not carried:
    /// libslirp would send it in IPv4 fragments, which the labs' kernels drop.
    pub fn deliver(&mut self, d: &Datagram, ram: &mut Ram, now: u64) {
        if d.payload.len() > slirp::MAX_UDP_PAYLOAD {
            self.not_carried += 1;
            self.last_not_carried = Some("a datagram from the host over the MTU");
            return;
        }
        for frame in self.slirp.to_guest(d) {
            self.send_to_guest(frame, ram, now);
        }
    }

    /// Datagrams the guest sent to the world outside, oldest first, since the last call.
    pub fn take_datagrams(&mut self) -> Vec<Datagram> {
        self.outbox.drain(..).collect()
    }

    /// Drops what waits for the host — datagrams to send, frames to capture — when the
    /// machine re-ran a stretch the host has already seen (a time-travel replay).
    pub fn forget_replayed(&mut self) {
        self.outbox.clear();
        if let Some(c) = self.capture.as_mut() {
            c.clear();
        }
    }

    /// Turns keeping every frame for a capture file on or off.
    pub fn set_capture(&mut self, on: bool) {
        self.capture = on.then(Vec::new);
    }

    /// Whether frames are kept for a capture file.
    pub fn capturing(&self) -> bool {
        self.capture.is_some()
    }

    /// The frames since the last call (capture on), oldest first.
    pub fn take_captured(&mut self) -> Vec<Frame> {
        self.capture
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The last frames on the wire, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &Frame> {
        self.recent.iter()
    }

    /// A few lines for a debugger's view: the e1000's rings and interrupt state, what the
    /// network dropped, and the last frames (`<` to the guest, `>` from it) with the guest
    /// time in ms.
    pub fn describe(&self) -> Vec<String> {
        let r = self.e1000.rings();
        let mut lines = vec![
            format!(
                "e1000 rx ring {:#x} ({} descriptors): RDH {} RDT {}, {} frame(s) waiting",
                r.rx_base,
                r.rx_len / 16,
                r.rdh,
                r.rdt,
                r.pending_rx
            ),
            format!(
                "e1000 tx ring {:#x} ({} descriptors): TDH {} TDT {}",
                r.tx_base,
                r.tx_len / 16,
                r.tdh,
                r.tdt
            ),
            format!(
                "ICR {:#x} IMS {:#x} RCTL {:#x} TCTL {:#x}; frames dropped by the e1000: {}",
                r.icr, r.ims, r.rctl, r.tctl, self.e1000.dropped
            ),
        ];
        if self.not_carried > 0 {
            lines.push(format!(
                "frames the network did not carry: {} (last: {})",
                self.not_carried,
                self.last_not_carried.unwrap_or("")
            ));
        }
        let ms = |cycle: u64| cycle / crate::board::CYCLES_PER_TICK / 10_000;
        for f in &self.recent {
            let dir = if f.to_guest { '<' } else { '>' };
            lines.push(format!(
                "{:>8} ms {dir} {}",
                ms(f.cycle),
                slirp::summarize(&f.bytes)
            ));
        }
        lines
    }
}

#[inline(always)]
fn in_region(addr: u64, size: u64, base: u64, len: u64) -> bool {
    addr >= base && addr + size <= base + len
}
