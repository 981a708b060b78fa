//! An Intel 82540EM gigabit Ethernet controller ("e1000"), as QEMU's `e1000` device models it
//! and the net lab's `kernel/e1000.c` drives it: legacy descriptor rings in guest RAM, one
//! receive and one transmit queue, interrupt causes with a mask.
//!
//! Registers (82540EM developer's manual §13; byte offsets into BAR 0, 32-bit accesses):
//! CTRL, STATUS, ICR/ICS/IMS/IMC, RCTL, TCTL, TIPG, the receive ring (RDBAL/RDBAH/RDLEN/
//! RDH/RDT, RDTR, RADV), the transmit ring (TDBAL/TDBAH/TDLEN/TDH/TDT, TIDV, TADV), the
//! multicast table MTA[128] and the receive addresses RA[16]. Any other register reads 0 and
//! ignores writes (QEMU keeps a few statistics there that xv6 never reads).
//!
//! Transmit (§3.3): a write to TDT hands the descriptors from TDH up to TDT to the device,
//! which sends them at once (and so does a write to TCTL), as QEMU does: the buffers of a packet (descriptors up to one
//! with EOP) are read from RAM and become one frame; a descriptor with RS gets DD written
//! back; TDH follows. ICR then has TXDW and TXQE (QEMU's `start_xmit`).
//!
//! Receive (§3.2): a frame for this station (its RA with the AV bit, broadcast with RCTL.BAM,
//! a multicast hash bit set in MTA, or anything with UPE/MPE) is written into the buffers of
//! the descriptors from RDH, 2048 bytes each by default (RCTL.BSIZE/BSEX), the last with EOP;
//! each gets its length and DD; RDH follows; ICR gets RXT0. As QEMU, a frame shorter than 60
//! bytes is padded to 60 and, without RCTL.SECRC, 4 bytes of CRC are counted in. The ring is
//! full when RDH equals RDT; a frame that does not fit waits in the device (QEMU's net queue
//! holds it likewise) until the driver moves RDT or re-enables the receiver.
//!
//! The interrupt line is `ICR & IMS != 0`. Reading ICR clears it (§13.4.17; QEMU clears it
//! too, whatever IMS), writing ICR clears the bits written. Like the other devices, each
//! re-evaluation of the line is reported through [`E1000::take_irq_update`].
//!
//! CTRL.RST (bit 26) resets the device. xv6's `e1000_dev.h` names bit 22 `E1000_CTL_RST`,
//! which is reserved on the 82540EM; QEMU ignores it, and so does this model.
//!
//! DMA goes to RAM only, and only with bus mastering enabled in the PCI command register
//! (the caller passes that): a descriptor or buffer outside RAM stops that ring's work,
//! which the guest sees as a device that does not make progress.

use crate::ram::Ram;
use std::collections::VecDeque;

/// QEMU's default MAC address for the first NIC (52:54:00:12:34:56), which its EEPROM and
/// RA[0] hold at reset.
pub const DEFAULT_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
/// Bytes of register space (BAR 0).
pub const MMIO_SIZE: u64 = 0x2_0000;
/// Frames waiting for receive buffers at most; older ones are dropped past it.
pub const MAX_PENDING_RX: usize = 256;
/// The shortest frame on the wire without its CRC (QEMU pads received frames to it).
const MIN_FRAME: usize = 60;
/// The longest frame sent (a jumbo frame's 16 KiB); longer descriptor chains are cut.
const MAX_FRAME: usize = 16384;

/// Register byte offsets (82540EM manual table 13-2).
pub mod reg {
    pub const CTRL: u64 = 0x0000;
    pub const STATUS: u64 = 0x0008;
    pub const ICR: u64 = 0x00c0;
    pub const ICS: u64 = 0x00c8;
    pub const IMS: u64 = 0x00d0;
    pub const IMC: u64 = 0x00d8;
    pub const RCTL: u64 = 0x0100;
    pub const TCTL: u64 = 0x0400;
    pub const TIPG: u64 = 0x0410;
    pub const RDBAL: u64 = 0x2800;
    pub const RDBAH: u64 = 0x2804;
    pub const RDLEN: u64 = 0x2808;
    pub const RDH: u64 = 0x2810;
    pub const RDT: u64 = 0x2818;
    pub const RDTR: u64 = 0x2820;
    pub const RADV: u64 = 0x282c;
    pub const TDBAL: u64 = 0x3800;
    pub const TDBAH: u64 = 0x3804;
    pub const TDLEN: u64 = 0x3808;
    pub const TDH: u64 = 0x3810;
    pub const TDT: u64 = 0x3818;
    pub const TIDV: u64 = 0x3820;
    pub const TADV: u64 = 0x382c;
    pub const MTA: u64 = 0x5200;
    pub const RA: u64 = 0x5400;
}

/// Interrupt cause bits (ICR, §13.4.17).
pub mod icr {
    pub const TXDW: u32 = 1 << 0;
    pub const TXQE: u32 = 1 << 1;
    pub const LSC: u32 = 1 << 2;
    pub const RXT0: u32 = 1 << 7;
}

const CTRL_RST: u32 = 1 << 26;
/// STATUS at reset: full duplex, link up, 1000 Mb/s (QEMU's link is always up).
const STATUS_RESET: u32 = 0x0000_0083;
const RCTL_EN: u32 = 1 << 1;
const RCTL_UPE: u32 = 1 << 3;
const RCTL_MPE: u32 = 1 << 4;
const RCTL_BAM: u32 = 1 << 15;
const RCTL_BSEX: u32 = 1 << 25;
const RCTL_SECRC: u32 = 1 << 26;
const TCTL_EN: u32 = 1 << 1;
/// RAH's address-valid bit.
const RAH_AV: u32 = 1 << 31;

/// Legacy descriptor layout: 16 bytes; status at byte 12 (both kinds).
const DESC_SIZE: u64 = 16;
const TXD_CMD_EOP: u8 = 1 << 0;
const TXD_CMD_RS: u8 = 1 << 3;
/// DEXT: an extended (context or data) descriptor, which xv6 never uses.
const TXD_CMD_DEXT: u8 = 1 << 5;
const TXD_STAT_DD: u8 = 1 << 0;
const RXD_STAT_DD: u8 = 1 << 0;
const RXD_STAT_EOP: u8 = 1 << 1;

/// The device state (registers, the frame being gathered, frames waiting for buffers).
#[derive(Clone, Debug)]
pub struct E1000 {
    ctrl: u32,
    icr: u32,
    ims: u32,
    rctl: u32,
    tctl: u32,
    tipg: u32,
    rdba: u64,
    rdlen: u32,
    rdh: u32,
    rdt: u32,
    rdtr: u32,
    radv: u32,
    tdba: u64,
    tdlen: u32,
    tdh: u32,
    tdt: u32,
    tidv: u32,
    tadv: u32,
    mta: [u32; 128],
    ra: [u32; 32],
    /// Bytes of a packet whose descriptors so far had no EOP.
    tx_partial: Vec<u8>,
    /// Frames the guest sent, for the network behind the device to take.
    sent: Vec<Vec<u8>>,
    /// Frames for the guest that found no free receive descriptor yet, oldest first.
    pending_rx: VecDeque<Vec<u8>>,
    /// Frames dropped: filtered out, or overflowing `pending_rx`.
    pub dropped: u64,
    irq_update: Option<bool>,
}

/// What the device is doing, for a debugger's view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rings {
    pub rx_base: u64,
    pub rx_len: u32,
    pub rdh: u32,
    pub rdt: u32,
    pub tx_base: u64,
    pub tx_len: u32,
    pub tdh: u32,
    pub tdt: u32,
    pub icr: u32,
    pub ims: u32,
    pub rctl: u32,
    pub tctl: u32,
    /// Frames waiting for a free receive descriptor.
    pub pending_rx: usize,
}

impl Default for E1000 {
    fn default() -> Self {
        Self::new()
    }
}

impl E1000 {
    pub fn new() -> Self {
        let mut ra = [0u32; 32];
        let m = DEFAULT_MAC;
        ra[0] = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
        ra[1] = u32::from_le_bytes([m[4], m[5], 0, 0]) | RAH_AV;
        E1000 {
            ctrl: 0,
            icr: 0,
            ims: 0,
            rctl: 0,
            tctl: 0,
            tipg: 0,
            rdba: 0,
            rdlen: 0,
            rdh: 0,
            rdt: 0,
            rdtr: 0,
            radv: 0,
            tdba: 0,
            tdlen: 0,
            tdh: 0,
            tdt: 0,
            tidv: 0,
            tadv: 0,
            mta: [0; 128],
            ra,
            tx_partial: Vec::new(),
            sent: Vec::new(),
            pending_rx: VecDeque::new(),
            dropped: 0,
            irq_update: None,
        }
    }

    /// The interrupt line: some unmasked cause is pending.
    pub fn irq(&self) -> bool {
        self.icr & self.ims != 0
    }

    /// The line's level each time the device re-evaluated it since the last call (see
    /// `devices`): the bus passes it on to the PLIC.
    pub fn take_irq_update(&mut self) -> Option<bool> {
        self.irq_update.take()
    }

    fn update_irq(&mut self) {
        self.irq_update = Some(self.irq());
    }

    fn raise(&mut self, cause: u32) {
        self.icr |= cause;
        self.update_irq();
    }

    /// Whether a frame arriving now would raise the line: the receiver is on and its
    /// interrupt unmasked (a frame waiting for buffers raises it later, when it lands).
    pub fn receive_would_signal(&self) -> bool {
        self.rctl & RCTL_EN != 0 && self.ims & icr::RXT0 != 0
    }

    /// The station address in RA[0] (what the driver programmed, QEMU's default at reset).
    pub fn mac(&self) -> [u8; 6] {
        let lo = self.ra[0].to_le_bytes();
        let hi = self.ra[1].to_le_bytes();
        [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1]]
    }

    pub fn rings(&self) -> Rings {
        Rings {
            rx_base: self.rdba,
            rx_len: self.rdlen,
            rdh: self.rdh,
            rdt: self.rdt,
            tx_base: self.tdba,
            tx_len: self.tdlen,
            tdh: self.tdh,
            tdt: self.tdt,
            icr: self.icr,
            ims: self.ims,
            rctl: self.rctl,
            tctl: self.tctl,
            pending_rx: self.pending_rx.len(),
        }
    }

    /// Frames the guest sent since the last call, in order.
    pub fn take_sent(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.sent)
    }

    /// Reads the 32-bit register at byte `offset`; reading ICR clears it.
    pub fn read(&mut self, offset: u64) -> u32 {
        let v = self.read_quiet(offset);
        if offset == reg::ICR && v != 0 {
            self.icr = 0;
            self.update_irq();
        }
        v
    }

    /// The 32-bit register at byte `offset`, without a read's side effect.
    pub fn read_quiet(&self, offset: u64) -> u32 {
        match offset {
            reg::CTRL => self.ctrl,
            reg::STATUS => STATUS_RESET,
            reg::ICR => self.icr,
            reg::IMS => self.ims,
            reg::RCTL => self.rctl,
            reg::TCTL => self.tctl,
            reg::TIPG => self.tipg,
            reg::RDBAL => self.rdba as u32,
            reg::RDBAH => (self.rdba >> 32) as u32,
            reg::RDLEN => self.rdlen,
            reg::RDH => self.rdh,
            reg::RDT => self.rdt,
            reg::RDTR => self.rdtr,
            reg::RADV => self.radv,
            reg::TDBAL => self.tdba as u32,
            reg::TDBAH => (self.tdba >> 32) as u32,
            reg::TDLEN => self.tdlen,
            reg::TDH => self.tdh,
            reg::TDT => self.tdt,
            reg::TIDV => self.tidv,
            reg::TADV => self.tadv,
            o if (reg::MTA..reg::MTA + 512).contains(&o) => self.mta[((o - reg::MTA) / 4) as usize],
            o if (reg::RA..reg::RA + 128).contains(&o) => self.ra[((o - reg::RA) / 4) as usize],
            _ => 0,
        }
    }

    /// Writes the 32-bit register at byte `offset`. `dma`: bus mastering is on (PCI
    /// command register), so the device may reach `ram`.
    pub fn write(&mut self, offset: u64, val: u32, ram: &mut Ram, dma: bool) {
        match offset {
            reg::CTRL => {
                if val & CTRL_RST != 0 {
                    *self = E1000 {
                        sent: std::mem::take(&mut self.sent),
                        dropped: self.dropped,
                        ..E1000::new()
                    };
                    self.update_irq();
                } else {
                    self.ctrl = val;
                }
            }
            reg::ICR => {
                self.icr &= !val;
                self.update_irq();
            }
            reg::ICS => self.raise(val),
            reg::IMS => {
                self.ims |= val;
                self.update_irq();
            }
            reg::IMC => {
                self.ims &= !val;
                self.update_irq();
            }
            reg::RCTL => {
                self.rctl = val;
                self.receive_pending(ram, dma);
            }
            // As QEMU's `set_tctl`: enabling the transmitter sends what TDT already handed over.
            reg::TCTL => {
                self.tctl = val;
                self.transmit(ram, dma);
            }
            reg::TIPG => self.tipg = val,
            reg::RDBAL => self.rdba = (self.rdba & !0xffff_ffff) | (val & !0xf) as u64,
            reg::RDBAH => self.rdba = (self.rdba & 0xffff_ffff) | (val as u64) << 32,
            // Multiples of 128 bytes (§13.4.27); at most 64 K descriptors' worth.
            reg::RDLEN => self.rdlen = val & 0xf_ff80,
            reg::RDH => self.rdh = val & 0xffff,
            reg::RDT => {
                self.rdt = val & 0xffff;
                self.receive_pending(ram, dma);
            }
            reg::RDTR => self.rdtr = val & 0xffff,
            reg::RADV => self.radv = val & 0xffff,
            reg::TDBAL => self.tdba = (self.tdba & !0xffff_ffff) | (val & !0xf) as u64,
            reg::TDBAH => self.tdba = (self.tdba & 0xffff_ffff) | (val as u64) << 32,
            reg::TDLEN => self.tdlen = val & 0xf_ff80,
            reg::TDH => self.tdh = val & 0xffff,
            reg::TDT => {
                self.tdt = val & 0xffff;
                self.transmit(ram, dma);
            }
            reg::TIDV => self.tidv = val & 0xffff,
            reg::TADV => self.tadv = val & 0xffff,
            o if (reg::MTA..reg::MTA + 512).contains(&o) => {
                self.mta[((o - reg::MTA) / 4) as usize] = val
            }
            o if (reg::RA..reg::RA + 128).contains(&o) => {
                self.ra[((o - reg::RA) / 4) as usize] = val
            }
            _ => {}
        }
    }

    /// Sends the descriptors from TDH up to TDT.
    fn transmit(&mut self, ram: &mut Ram, dma: bool) {
        let count = self.tdlen / DESC_SIZE as u32;
        if self.tctl & TCTL_EN == 0 || !dma || count == 0 {
            return;
        }
        let mut cause = 0;
        // Each descriptor is visited at most once per doorbell, whatever TDH and TDT say.
        for _ in 0..count {
            if self.tdh == self.tdt {
                break;
            }
            if self.tdh >= count {
                // The driver placed TDH past the ring: the hardware would wrap; QEMU too.
                self.tdh = 0;
                continue;
            }
            let at = self.tdba + self.tdh as u64 * DESC_SIZE;
            let mut desc = [0u8; DESC_SIZE as usize];
            if ram.read_phys(at, &mut desc).is_none() {
                return;
            }
            let addr = u64::from_le_bytes(desc[0..8].try_into().unwrap());
            let len = u16::from_le_bytes([desc[8], desc[9]]) as usize;
            let cmd = desc[11];
            if cmd & TXD_CMD_DEXT == 0 {
                let room = MAX_FRAME.saturating_sub(self.tx_partial.len());
                let mut buf = vec![0u8; len.min(room)];
                if ram.read_phys(addr, &mut buf).is_none() {
                    return;
                }
                self.tx_partial.extend_from_slice(&buf);
                if cmd & TXD_CMD_EOP != 0 {
                    self.sent.push(std::mem::take(&mut self.tx_partial));
                }
            }
            if cmd & TXD_CMD_RS != 0 {
                // DD in the status byte; the rest of the byte (EC, LC) stays 0.
                let _ = ram.write_phys(at + 12, &[desc[12] | TXD_STAT_DD]);
                cause |= icr::TXDW;
            }
            self.tdh = (self.tdh + 1) % count;
        }
        self.raise(cause | icr::TXQE);
    }

    /// Receive buffer size from RCTL.BSIZE and BSEX (§13.4.22).
    fn buffer_size(&self) -> usize {
        let bsize = (self.rctl >> 16) & 3;
        if self.rctl & RCTL_BSEX != 0 {
            // BSIZE 0 with BSEX is reserved: taken as 2048.
            [2048, 16384, 8192, 4096][bsize as usize]
        } else {
            [2048, 1024, 512, 256][bsize as usize]
        }
    }

    /// Whether the station accepts a frame sent to `dst` (QEMU's `receive_filter`).
    fn accepts(&self, dst: &[u8]) -> bool {
        if self.rctl & RCTL_UPE != 0 {
            return true;
        }
        if dst == [0xff; 6] {
            return self.rctl & RCTL_BAM != 0;
        }
        if dst[0] & 1 != 0 {
            if self.rctl & RCTL_MPE != 0 {
                return true;
            }
            // The hash is 12 bits of the address, chosen by RCTL.MO (§13.4.22).
            let mo = (self.rctl >> 12) & 3;
            let word = u16::from_le_bytes([dst[4], dst[5]]) as u32;
            let hash = (word >> (4 - mo)) & 0xfff;
            return self.mta[(hash >> 5) as usize] & (1 << (hash & 31)) != 0;
        }
        (0..16).any(|i| {
            let lo = self.ra[2 * i].to_le_bytes();
            let hi = self.ra[2 * i + 1];
            hi & RAH_AV != 0 && dst[..4] == lo && dst[4..] == hi.to_le_bytes()[..2]
        })
    }

    /// A frame arrives from the network: it is written into the receive ring now if it fits,
    /// or waits in the device until buffers are free.
    pub fn receive(&mut self, frame: Vec<u8>, ram: &mut Ram, dma: bool) {
        if frame.len() < 14 || !self.accepts(&frame[..6]) {
            self.dropped += 1;
            return;
        }
        if self.pending_rx.len() >= MAX_PENDING_RX {
            self.pending_rx.pop_front();
            self.dropped += 1;
        }
        self.pending_rx.push_back(frame);
        self.receive_pending(ram, dma);
    }

    /// Free descriptors between RDH and RDT (the ring is full when they are equal).
    fn free_descriptors(&self) -> u32 {
        let count = self.rdlen / DESC_SIZE as u32;
        if count == 0 || self.rdh >= count || self.rdt >= count {
            return 0;
        }
        (self.rdt + count - self.rdh) % count
    }

    /// Moves waiting frames into the ring while they fit.
    fn receive_pending(&mut self, ram: &mut Ram, dma: bool) {
        if self.rctl & RCTL_EN == 0 || !dma {
            return;
        }
        let count = self.rdlen / DESC_SIZE as u32;
        let bufsize = self.buffer_size();
        let mut cause = 0;
        while let Some(frame) = self.pending_rx.front() {
            let mut bytes = frame.clone();
            if bytes.len() < MIN_FRAME {
                bytes.resize(MIN_FRAME, 0);
            }
            if self.rctl & RCTL_SECRC == 0 {
                // The CRC the wire would carry; QEMU leaves these bytes unset, zeros here.
                bytes.extend_from_slice(&[0; 4]);
            }
            let needed = bytes.len().div_ceil(bufsize) as u32;
            if self.free_descriptors() < needed {
                break;
            }
            self.pending_rx.pop_front();
            for (i, chunk) in bytes.chunks(bufsize).enumerate() {
                let at = self.rdba + self.rdh as u64 * DESC_SIZE;
                let mut addr = [0u8; 8];
                if ram.read_phys(at, &mut addr).is_none() {
                    return;
                }
                let addr = u64::from_le_bytes(addr);
                // A descriptor with a null buffer address is skipped by the hardware (§3.2.3).
                if addr != 0 && ram.write_phys(addr, chunk).is_none() {
                    return;
                }
                let last = i as u32 + 1 == needed;
                let status = RXD_STAT_DD | if last { RXD_STAT_EOP } else { 0 };
                let mut tail = [0u8; 8];
                tail[0..2].copy_from_slice(&(chunk.len() as u16).to_le_bytes());
                tail[4] = status;
                if ram.write_phys(at + 8, &tail).is_none() {
                    return;
                }
                self.rdh = (self.rdh + 1) % count;
            }
            cause |= icr::RXT0;
        }
        if cause != 0 {
            self.raise(cause);
        }
    }
}
