//! Tests of the virtio block device: queues built by hand in a `Ram`, driven through the
//! registers the way xv6's virtio_disk.c drives them (modern and legacy).

use super::*;
use crate::board::RAM_BASE;

const NUM: u16 = 8;
const DESC: u64 = RAM_BASE + 0x1_0000;
const AVAIL: u64 = RAM_BASE + 0x1_1000;
const USED: u64 = RAM_BASE + 0x1_2000;
const HDR: u64 = RAM_BASE + 0x2_0000;
const BUF: u64 = RAM_BASE + 0x3_0000;
const STATUS: u64 = RAM_BASE + 0x2_0100;
const SECTORS: usize = 16;

const NEXT: u16 = 1;
const WRITE: u16 = 2;
const INDIRECT: u16 = 4;

/// A disk whose byte i of sector s is (s * 7 + i) as u8.
fn disk() -> Vec<u8> {
    (0..SECTORS * 512)
        .map(|i| ((i / 512) * 7 + i % 512) as u8)
        .collect()
}

struct Rig {
    dev: VirtioBlk,
    ram: Ram,
    /// Rings as the device must see them.
    desc: u64,
    avail: u64,
    used: u64,
    /// The driver's next avail idx.
    avail_idx: u16,
}

impl Rig {
    fn r(&mut self, off: u64) -> u32 {
        self.dev.read(off, 4)
    }
    fn w(&mut self, off: u64, val: u32) {
        self.dev.write(off, 4, val, &mut self.ram);
    }

    /// A modern (version 2) device, initialised as current xv6 does it.
    fn modern(features_to_clear: u64) -> Rig {
        let mut rig = Rig {
            dev: VirtioBlk::new(Some(disk()), false),
            ram: Ram::new(1 << 20),
            desc: DESC,
            avail: AVAIL,
            used: USED,
            avail_idx: 0,
        };
        rig.init_modern(features_to_clear);
        rig
    }

    fn init_modern(&mut self, features_to_clear: u64) {
        assert_eq!(self.r(0x000), 0x7472_6976);
        assert_eq!(self.r(0x004), 2);
        assert_eq!(self.r(0x008), 2);
        assert_eq!(self.r(0x00c), 0x554d_4551);
        self.w(0x070, 0);
        self.w(0x070, 1 | 2);
        self.w(0x014, 0);
        let f = self.r(0x010) as u64 & !features_to_clear;
        self.w(0x024, 0);
        self.w(0x020, f as u32);
        self.w(0x024, 1);
        self.w(0x020, 1); // VERSION_1
        self.w(0x070, 1 | 2 | 8);
        assert_eq!(self.r(0x070) & 8, 8);
        self.w(0x030, 0);
        assert_eq!(self.r(0x044), 0);
        assert_eq!(self.r(0x034), 1024);
        self.w(0x038, NUM as u32);
        self.w(0x080, DESC as u32);
        self.w(0x084, (DESC >> 32) as u32);
        self.w(0x090, AVAIL as u32);
        self.w(0x094, 0);
        self.w(0x0a0, USED as u32);
        self.w(0x0a4, 0);
        self.w(0x044, 1);
        assert_eq!(self.r(0x044), 1);
        self.w(0x070, 1 | 2 | 8 | 4);
        self.avail_idx = 0;
        self.put(AVAIL + 2, &[0, 0]);
        self.put(USED + 2, &[0, 0]);
    }

    /// Legacy (version 1) initialisation as the 2020 xv6 does it: one page-aligned area,
    /// rings placed by the device from QueuePFN.
    fn legacy() -> Rig {
        let mut rig = Rig {
            dev: VirtioBlk::new(Some(disk()), true),
            ram: Ram::new(1 << 20),
            desc: DESC,
            avail: DESC + 16 * NUM as u64,
            used: DESC + 4096,
            avail_idx: 0,
        };
        assert_eq!(rig.r(0x004), 1);
        rig.w(0x070, 1 | 2);
        let f = rig.r(0x010) & !(1 << 5 | 1 << 7 | 1 << 11 | 1 << 12 | 1 << 27 | 1 << 28 | 1 << 29);
        rig.w(0x020, f);
        rig.w(0x070, 1 | 2 | 8);
        rig.w(0x070, 1 | 2 | 8 | 4);
        rig.w(0x028, 4096);
        rig.w(0x030, 0);
        assert_eq!(rig.r(0x034), 1024);
        rig.w(0x038, NUM as u32);
        rig.w(0x040, (DESC >> 12) as u32);
        assert_eq!(rig.r(0x040), (DESC >> 12) as u32);
        rig
    }

    fn put(&mut self, addr: u64, bytes: &[u8]) {
        self.ram.write_phys(addr, bytes).unwrap();
    }
    fn get(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut b = vec![0; len];
        self.ram.read_phys(addr, &mut b).unwrap();
        b
    }
    fn u16_at(&self, addr: u64) -> u16 {
        u16::from_le_bytes(self.get(addr, 2).try_into().unwrap())
    }
    fn u32_at(&self, addr: u64) -> u32 {
        u32::from_le_bytes(self.get(addr, 4).try_into().unwrap())
    }

    /// Writes descriptor `i` of the table at `table`.
    fn desc_at(&mut self, table: u64, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let mut d = [0u8; 16];
        d[0..8].copy_from_slice(&addr.to_le_bytes());
        d[8..12].copy_from_slice(&len.to_le_bytes());
        d[12..14].copy_from_slice(&flags.to_le_bytes());
        d[14..16].copy_from_slice(&next.to_le_bytes());
        self.put(table + 16 * i as u64, &d);
    }

    /// Lays out `chain` (addr, len, flags) as descriptors `first..`, linked, offers its head
    /// and notifies. Returns the head.
    fn submit(&mut self, first: u16, chain: &[(u64, u32, u16)]) -> u16 {
        for (k, &(addr, len, flags)) in chain.iter().enumerate() {
            let i = first + k as u16;
            let more = if k + 1 < chain.len() { NEXT } else { 0 };
            self.desc_at(self.desc, i, addr, len, flags | more, i + 1);
        }
        self.offer(first);
        first
    }

    fn offer(&mut self, head: u16) {
        let slot = self.avail + 4 + 2 * (self.avail_idx % NUM) as u64;
        self.put(slot, &head.to_le_bytes());
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.put(self.avail + 2, &self.avail_idx.to_le_bytes());
        self.w(0x050, 0);
    }

    fn header(&mut self, ty: u32, sector: u64) {
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&ty.to_le_bytes());
        h[8..16].copy_from_slice(&sector.to_le_bytes());
        self.put(HDR, &h);
        self.put(STATUS, &[0xff]);
    }

    /// A read or write of `len` bytes at `sector` through BUF, xv6's three-descriptor shape.
    fn rw(&mut self, write: bool, sector: u64, len: u32) -> u8 {
        self.header(write as u32, sector);
        let data_flags = if write { 0 } else { WRITE };
        self.submit(
            0,
            &[(HDR, 16, 0), (BUF, len, data_flags), (STATUS, 1, WRITE)],
        );
        self.get(STATUS, 1)[0]
    }

    fn used_idx(&self) -> u16 {
        self.u16_at(self.used + 2)
    }
    /// (id, len) of used element `n`.
    fn used_elem(&self, n: u16) -> (u32, u32) {
        let at = self.used + 4 + 8 * (n % NUM) as u64;
        (self.u32_at(at), self.u32_at(at + 4))
    }
    fn ack(&mut self) {
        let isr = self.r(0x060);
        self.w(0x064, isr & 3);
    }
}

fn read_write_and_errors(mut rig: Rig) {
    // Read sector 3.
    assert_eq!(rig.rw(false, 3, 512), 0);
    assert_eq!(rig.get(BUF, 512), disk()[3 * 512..4 * 512]);
    assert_eq!(rig.used_idx(), 1);
    assert_eq!(rig.used_elem(0), (0, 513));
    assert!(rig.dev.irq());
    assert_eq!(rig.r(0x060), 1);
    rig.ack();
    assert!(!rig.dev.irq());
    assert!(!rig.dev.disk_dirty());

    // Write two sectors at 14..16 (the last two).
    let data: Vec<u8> = (0..1024).map(|i| (i % 251) as u8).collect();
    rig.put(BUF, &data);
    assert_eq!(rig.rw(true, 14, 1024), 0);
    assert_eq!(&rig.dev.disk()[14 * 512..], &data[..]);
    assert!(rig.dev.disk_dirty());
    assert_eq!(rig.used_idx(), 2);
    assert_eq!(rig.used_elem(1), (0, 1));
    rig.ack();

    // Past the end of the disk: IOERR, nothing written.
    assert_eq!(rig.rw(true, 15, 1024), 1);
    assert_eq!(rig.rw(false, 16, 512), 1);
    assert_eq!(rig.rw(false, u64::MAX, 512), 1);
    // Not a whole sector.
    assert_eq!(rig.rw(false, 0, 100), 1);
    assert_eq!(rig.used_idx(), 6);
    assert_eq!(&rig.dev.disk()[14 * 512..], &data[..]);

    // A flush (header and status only) succeeds and is counted for the host.
    rig.header(4, 0);
    rig.submit(0, &[(HDR, 16, 0), (STATUS, 1, WRITE)]);
    assert_eq!(rig.get(STATUS, 1)[0], 0);
    assert_eq!(rig.used_idx(), 7);

    let stats = rig.dev.stats();
    assert_eq!(stats.requests, 7);
    assert_eq!(stats.errors, 4);
    assert_eq!((stats.bytes_read, stats.bytes_written), (512, 1024));
    assert_eq!(stats.flushes, 1);
    assert!(rig.dev.broken().is_none());
}

#[test]
fn modern_read_write_and_bad_requests() {
    read_write_and_errors(Rig::modern(1 << 27 | 1 << 28 | 1 << 29));
}

#[test]
fn legacy_read_write_and_bad_requests() {
    read_write_and_errors(Rig::legacy());
}

#[test]
fn a_write_sink_sees_each_completed_write_and_nothing_else() {
    use std::sync::{Arc, Mutex};
    let mut rig = Rig::modern(0);
    // (byte offset, bytes) of each write the sink saw.
    type Writes = Vec<(u64, Vec<u8>)>;
    let seen: Arc<Mutex<Writes>> = Arc::default();
    let log = seen.clone();
    rig.dev.set_write_sink(Box::new(move |off, bytes| {
        log.lock().unwrap().push((off, bytes.to_vec()))
    }));
    assert_eq!(rig.rw(false, 3, 512), 0);
    let data: Vec<u8> = (0..1024).map(|i| (i % 13) as u8).collect();
    rig.put(BUF, &data);
    assert_eq!(rig.rw(true, 2, 1024), 0);
    assert_eq!(rig.rw(true, 15, 1024), 1, "past the end: refused, not sunk");
    assert_eq!(*seen.lock().unwrap(), vec![(2 * 512, data)]);
}

#[test]
fn identity_without_a_disk_and_version_registers() {
    let mut ram = Ram::new(4096);
    let mut none = VirtioBlk::new(None, false);
    assert_eq!(none.read(0x000, 4), 0x7472_6976);
    assert_eq!(none.read(0x004, 4), 2);
    assert_eq!(none.read(0x008, 4), 0);
    assert_eq!(none.read(0x00c, 4), 0x554d_4551);
    assert_eq!(none.read(0x010, 4), 0);
    assert_eq!(none.read(0x034, 4), 0);
    none.write(0x070, 4, 0xf, &mut ram);
    assert_eq!(none.read(0x070, 4), 0);
    assert_eq!(VirtioBlk::new(None, true).read(0x004, 4), 1);
    assert!(none.disk().is_empty());

    let mut dev = VirtioBlk::new(Some(disk()), false);
    // Only 32-bit accesses reach registers.
    assert_eq!(dev.read(0x000, 2), 0);
    assert_eq!(dev.read(0x000, 1), 0);
    // Write-only registers read 0; a queue other than 0 does not exist.
    dev.write(0x030, 4, 1, &mut ram);
    assert_eq!(dev.read(0x034, 4), 0);
    dev.write(0x030, 4, 0, &mut ram);
    assert_eq!(dev.read(0x030, 4), 0);
    assert_eq!(dev.read(0x038, 4), 0);
}

#[test]
fn feature_words() {
    let mut ram = Ram::new(4096);
    let mut dev = VirtioBlk::new(Some(disk()), false);
    let lo = dev.read(0x010, 4);
    assert_eq!(lo & (1 << 5), 0, "never read-only");
    assert_ne!(lo & (1 << 24), 0);
    dev.write(0x014, 4, 1, &mut ram);
    assert_eq!(dev.read(0x010, 4), 1, "VERSION_1");
    // QEMU keeps any non-zero selector as 1.
    dev.write(0x014, 4, 2, &mut ram);
    assert_eq!(dev.read(0x010, 4), 1);
    dev.write(0x014, 4, 0, &mut ram);
    // Accepted features take effect at FEATURES_OK, masked by what is offered.
    dev.write(0x020, 4, 0xffff_ffff, &mut ram);
    dev.write(0x024, 4, 1, &mut ram);
    dev.write(0x020, 4, 0xffff_ffff, &mut ram);
    assert_eq!(dev.negotiated_features(), 0);
    dev.write(0x070, 4, 1 | 2 | 8, &mut ram);
    assert_eq!(dev.negotiated_features(), dev.offered_features());
    // Reset clears them.
    dev.write(0x070, 4, 0, &mut ram);
    assert_eq!(dev.negotiated_features(), 0);
    assert_eq!(dev.read(0x070, 4), 0);

    let mut old = VirtioBlk::new(Some(disk()), true);
    assert_ne!(old.read(0x010, 4) & (1 << 7), 0, "legacy offers SCSI");
    assert_eq!(old.read(0x010, 4) & (1 << 27), 0, "but not ANY_LAYOUT");
    old.write(0x014, 4, 1, &mut ram);
    assert_eq!(old.read(0x010, 4), 0);
    // Modern-only registers are absent in legacy mode.
    assert_eq!(old.read(0x0fc, 4), 0);
    assert_eq!(old.read(0x044, 4), 0);
}

#[test]
fn config_space() {
    let mut dev = VirtioBlk::new(Some(disk()), false);
    assert_eq!(dev.read(0x100, 4), SECTORS as u32);
    assert_eq!(dev.read(0x104, 4), 0);
    assert_eq!(dev.read(0x100, 1), SECTORS as u32);
    assert_eq!(dev.read(0x100, 2), SECTORS as u32);
    assert_eq!(dev.read(0x10c, 4), 254);
    assert_eq!(dev.read(0x114, 4), 512);
    assert_eq!(dev.read(0x122, 2), 1);
    // Past the config space: all ones.
    assert_eq!(dev.read(0x124, 4), u32::MAX);
    assert_eq!(dev.read(0x123, 1), 0);
    assert_eq!(dev.read(0x124, 1), 0xff);
    // Capacities beyond 32 bits.
    assert_eq!(config_read(0x1_0000_0002, 0, 4), 2);
    assert_eq!(config_read(0x1_0000_0002, 4, 4), 1);
}

#[test]
fn direction_and_type_checks() {
    let mut rig = Rig::modern(0);
    // A read whose data buffer is device-readable (the classic driver bug).
    rig.header(0, 0);
    rig.submit(0, &[(HDR, 16, 0), (BUF, 512, 0), (STATUS, 1, WRITE)]);
    assert_eq!(rig.get(STATUS, 1)[0], 1);
    // A write whose data buffer is device-writable.
    rig.header(1, 0);
    rig.submit(0, &[(HDR, 16, 0), (BUF, 512, WRITE), (STATUS, 1, WRITE)]);
    assert_eq!(rig.get(STATUS, 1)[0], 1);
    assert_eq!(rig.dev.disk(), &disk()[..]);
    // Unsupported type.
    rig.header(2, 0);
    rig.submit(0, &[(HDR, 16, 0), (STATUS, 1, WRITE)]);
    assert_eq!(rig.get(STATUS, 1)[0], 2);
    // Flush, and GET_ID (an empty serial number).
    rig.header(4, 0);
    rig.submit(0, &[(HDR, 16, 0), (STATUS, 1, WRITE)]);
    assert_eq!(rig.get(STATUS, 1)[0], 0);
    rig.put(BUF, &[0x55; 20]);
    rig.header(8, 0);
    rig.submit(0, &[(HDR, 16, 0), (BUF, 20, WRITE), (STATUS, 1, WRITE)]);
    assert_eq!(rig.get(STATUS, 1)[0], 0);
    assert_eq!(rig.get(BUF, 2), [0, 0x55]);
    // Data outside RAM: IOERR, the device carries on.
    rig.header(0, 0);
    rig.submit(0, &[(HDR, 16, 0), (0x1000, 512, WRITE), (STATUS, 1, WRITE)]);
    assert_eq!(rig.get(STATUS, 1)[0], 1);
    rig.header(1, 0);
    rig.submit(
        0,
        &[
            (HDR, 16, 0),
            (RAM_BASE + (1 << 20) - 256, 512, 0),
            (STATUS, 1, WRITE),
        ],
    );
    assert_eq!(rig.get(STATUS, 1)[0], 1);
    assert!(!rig.dev.disk_dirty());
    assert_eq!(rig.used_idx(), 7);
    assert!(rig.dev.broken().is_none());
}

#[test]
fn any_layout_splits_header_data_and_status() {
    let mut rig = Rig::modern(0);
    rig.header(0, 5);
    // Header in two pieces, data in three, status sharing the last writable buffer.
    rig.submit(
        0,
        &[
            (HDR, 8, 0),
            (HDR + 8, 8, 0),
            (BUF, 100, WRITE),
            (BUF + 0x1000, 412, WRITE),
            (BUF + 0x2000, 1, WRITE),
        ],
    );
    let mut got = rig.get(BUF, 100);
    got.extend(rig.get(BUF + 0x1000, 412));
    assert_eq!(got, disk()[5 * 512..6 * 512]);
    assert_eq!(rig.get(BUF + 0x2000, 1)[0], 0);
    assert_eq!(rig.used_elem(0), (0, 513));
    // The data and the status byte in one buffer.
    rig.header(0, 6);
    rig.submit(0, &[(HDR, 16, 0), (BUF, 513, WRITE)]);
    assert_eq!(rig.get(BUF, 512), disk()[6 * 512..7 * 512]);
    assert_eq!(rig.get(BUF + 512, 1)[0], 0);
}

#[test]
fn indirect_descriptors() {
    let mut rig = Rig::modern(0);
    let table = RAM_BASE + 0x4_0000;
    rig.header(0, 1);
    rig.desc_at(table, 0, HDR, 16, NEXT, 1);
    rig.desc_at(table, 1, BUF, 512, WRITE | NEXT, 2);
    rig.desc_at(table, 2, STATUS, 1, WRITE, 0);
    rig.desc_at(DESC, 3, table, 48, INDIRECT, 0);
    rig.offer(3);
    assert_eq!(rig.get(STATUS, 1)[0], 0);
    assert_eq!(rig.get(BUF, 512), disk()[512..1024]);
    assert_eq!(rig.used_elem(0), (3, 513));
    // A table whose size is not a whole number of descriptors breaks the device.
    rig.desc_at(DESC, 3, table, 40, INDIRECT, 0);
    rig.offer(3);
    assert!(rig.dev.broken().is_some());
}

#[test]
fn a_descriptor_loop_breaks_the_device_until_reset() {
    let mut rig = Rig::modern(0);
    rig.header(0, 0);
    rig.desc_at(DESC, 0, HDR, 16, NEXT, 1);
    rig.desc_at(DESC, 1, BUF, 512, WRITE | NEXT, 2);
    rig.desc_at(DESC, 2, STATUS, 1, WRITE | NEXT, 1);
    rig.offer(0);
    assert!(rig.dev.broken().unwrap().contains("loops"));
    assert_eq!(rig.r(0x070) & 0x40, 0x40);
    // Configuration-change interrupt, new generation.
    assert_eq!(rig.r(0x060), 2);
    assert!(rig.dev.irq());
    assert_eq!(rig.r(0x0fc), 1);
    assert_eq!(rig.used_idx(), 0);
    // Further notifications are ignored.
    rig.rw(false, 0, 512);
    assert_eq!(rig.used_idx(), 0);
    // A reset and a fresh initialisation bring it back.
    rig.init_modern(0);
    assert!(rig.dev.broken().is_none());
    assert_eq!(rig.rw(false, 2, 512), 0);
    assert_eq!(rig.get(BUF, 512), disk()[1024..1536]);
}

#[test]
fn reset_by_status_zero_clears_the_queue() {
    let mut rig = Rig::modern(0);
    assert_eq!(rig.rw(false, 0, 512), 0);
    rig.w(0x070, 0);
    assert_eq!(rig.r(0x070), 0);
    assert_eq!(rig.r(0x044), 0);
    assert_eq!(rig.r(0x060), 0);
    assert!(!rig.dev.irq());
    assert_eq!(rig.dev.take_irq_update(), Some(false));
    // Not ready: a notify does nothing.
    rig.rw(false, 1, 512);
    assert_eq!(rig.used_idx(), 1);
}

#[test]
fn status_byte_outside_ram_breaks_the_device() {
    let mut rig = Rig::modern(0);
    rig.header(0, 0);
    rig.submit(0, &[(HDR, 16, 0), (BUF, 512, WRITE), (0x10, 1, WRITE)]);
    assert!(rig.dev.broken().is_some());
    assert_eq!(rig.used_idx(), 0);
    // No writable buffer at all.
    let mut rig = Rig::modern(0);
    rig.header(0, 0);
    rig.submit(0, &[(HDR, 16, 0)]);
    assert!(rig.dev.broken().unwrap().contains("status"));
}

#[test]
fn ring_faults_break_the_device() {
    // The driver claims more new buffers than the queue holds.
    let mut rig = Rig::modern(0);
    rig.put(AVAIL + 2, &(NUM + 1).to_le_bytes());
    rig.w(0x050, 0);
    assert!(rig.dev.broken().is_some());
    // A head index beyond the queue.
    let mut rig = Rig::modern(0);
    rig.offer(NUM);
    assert!(rig.dev.broken().is_some());
    // A zero-length buffer.
    let mut rig = Rig::modern(0);
    rig.header(0, 0);
    rig.submit(0, &[(HDR, 16, 0), (BUF, 0, WRITE), (STATUS, 1, WRITE)]);
    assert!(rig.dev.broken().is_some());
    // A readable buffer after a writable one.
    let mut rig = Rig::modern(0);
    rig.header(0, 0);
    rig.submit(
        0,
        &[
            (HDR, 16, 0),
            (BUF, 512, WRITE),
            (BUF, 512, 0),
            (STATUS, 1, WRITE),
        ],
    );
    assert!(rig.dev.broken().is_some());
    // Legacy devices break without NEEDS_RESET (QEMU sets it only under VERSION_1).
    let mut rig = Rig::legacy();
    rig.offer(NUM);
    assert!(rig.dev.broken().is_some());
    assert_eq!(rig.r(0x070) & 0x40, 0);
}

#[test]
fn several_requests_per_notify_and_ring_wrap() {
    let mut rig = Rig::modern(1 << 24 | 1 << 29);
    for round in 0..3u16 {
        // Three requests offered at once, one notify; data and status share a buffer.
        for k in 0..3u16 {
            let d = 2 * k;
            let hdr = HDR + 32 * k as u64;
            let buf = BUF + 0x1000 * k as u64;
            let mut h = [0u8; 16];
            h[8..16].copy_from_slice(&((round * 3 + k) as u64 % 16).to_le_bytes());
            rig.put(hdr, &h);
            rig.desc_at(DESC, d, hdr, 16, NEXT, d + 1);
            rig.desc_at(DESC, d + 1, buf, 513, WRITE, 0);
            let slot = AVAIL + 4 + 2 * ((rig.avail_idx + k) % NUM) as u64;
            rig.put(slot, &d.to_le_bytes());
        }
        rig.avail_idx = rig.avail_idx.wrapping_add(3);
        rig.put(AVAIL + 2, &rig.avail_idx.to_le_bytes());
        rig.w(0x050, 0);
        assert_eq!(rig.used_idx(), 3 * (round + 1));
        for k in 0..3u16 {
            let sector = (round * 3 + k) as usize % 16;
            assert_eq!(
                rig.get(BUF + 0x1000 * k as u64, 512),
                disk()[sector * 512..(sector + 1) * 512]
            );
            assert_eq!(rig.used_elem(3 * round + k), ((2 * k) as u32, 513));
            assert_eq!(rig.get(BUF + 0x1000 * k as u64 + 512, 1)[0], 0);
        }
        rig.ack();
    }
}

#[test]
fn interrupt_suppression() {
    // Without EVENT_IDX and NOTIFY_ON_EMPTY, NO_INTERRUPT in avail.flags is obeyed.
    let mut rig = Rig::modern(1 << 24 | 1 << 29);
    rig.put(AVAIL, &1u16.to_le_bytes());
    assert_eq!(rig.rw(false, 0, 512), 0);
    assert_eq!(rig.r(0x060), 0);
    // NOTIFY_ON_EMPTY overrides it once the queue is drained.
    let mut rig = Rig::modern(1 << 29);
    rig.put(AVAIL, &1u16.to_le_bytes());
    assert_eq!(rig.rw(false, 0, 512), 0);
    assert_eq!(rig.r(0x060), 1);
    // EVENT_IDX: interrupt when the used idx passes used_event; the device asks to hear of
    // every new buffer through avail_event.
    let mut rig = Rig::modern(1 << 24);
    let used_event = AVAIL + 4 + 2 * NUM as u64;
    rig.put(used_event, &5u16.to_le_bytes());
    assert_eq!(rig.rw(false, 0, 512), 0);
    assert_eq!(rig.r(0x060), 1, "first completion always signals");
    rig.ack();
    assert_eq!(rig.u16_at(USED + 4 + 8 * NUM as u64), 1);
    for n in 2..=5 {
        rig.rw(false, 0, 512);
        assert_eq!(rig.r(0x060), 0, "used idx {n} has not passed 5");
    }
    rig.rw(false, 0, 512);
    assert_eq!(rig.r(0x060), 1, "used idx 6 passed used_event 5");
}

#[test]
fn irq_updates_follow_completions_and_acks() {
    let mut rig = Rig::modern(0);
    rig.dev.take_irq_update();
    rig.rw(false, 0, 512);
    assert_eq!(rig.dev.take_irq_update(), Some(true));
    assert_eq!(rig.dev.take_irq_update(), None);
    rig.ack();
    assert_eq!(rig.dev.take_irq_update(), Some(false));
}

#[test]
fn modern_queue_registers_take_effect_at_queue_ready() {
    let mut rig = Rig::modern(0);
    // Moving the rings while the queue is ready changes nothing until QueueReady is written.
    let elsewhere = RAM_BASE + 0x8_0000;
    rig.w(0x080, elsewhere as u32);
    rig.w(0x090, (elsewhere + 0x1000) as u32);
    rig.w(0x0a0, (elsewhere + 0x2000) as u32);
    assert_eq!(rig.rw(false, 1, 512), 0);
    assert_eq!(rig.used_idx(), 1);
    rig.w(0x044, 1);
    rig.desc = elsewhere;
    rig.avail = elsewhere + 0x1000;
    rig.used = elsewhere + 0x2000;
    rig.avail_idx = 0;
    // The queue kept its own progress: the device expects avail slot 1 next.
    rig.avail_idx = 1;
    rig.put(rig.avail + 2, &1u16.to_le_bytes());
    assert_eq!(rig.rw(false, 2, 512), 0);
    assert_eq!(rig.u16_at(elsewhere + 0x2000 + 2), 2);
    assert_eq!(rig.get(BUF, 512), disk()[1024..1536]);
    // A queue size the device cannot have is refused.
    rig.w(0x038, 2048);
    rig.w(0x038, 0);
    assert_eq!(rig.dev.queue.num, NUM);
    // Selecting queue 1024 or beyond is ignored; queue 1 has no registers.
    rig.w(0x030, 5000);
    assert_eq!(rig.r(0x034), 1024);
    rig.w(0x030, 1);
    assert_eq!(rig.r(0x034), 0);
    rig.w(0x044, 0);
    rig.w(0x030, 0);
    assert_eq!(rig.r(0x044), 1);
}

#[test]
fn notify_uses_the_low_16_bits_and_shm_is_absent() {
    let mut rig = Rig::modern(0);
    rig.header(0, 4);
    rig.desc_at(DESC, 0, HDR, 16, NEXT, 1);
    rig.desc_at(DESC, 1, BUF, 513, WRITE, 0);
    rig.put(AVAIL + 4, &0u16.to_le_bytes());
    rig.put(AVAIL + 2, &1u16.to_le_bytes());
    rig.w(0x050, 1);
    assert_eq!(rig.used_idx(), 0, "queue 1 does not exist");
    rig.w(0x050, 0x1_0000);
    assert_eq!(rig.used_idx(), 1);
    assert_eq!(rig.get(BUF, 512), disk()[2048..2560]);
    assert_eq!(rig.r(0x0b0), u32::MAX);
    assert_eq!(rig.r(0x0b4), u32::MAX);
    assert_eq!(rig.r(0x0b8), 0);
    assert_eq!(Rig::legacy().r(0x0b0), u32::MAX);
}

#[test]
fn legacy_queue_align_and_pfn_zero_reset() {
    let mut rig = Rig::legacy();
    assert_eq!(rig.rw(false, 0, 512), 0);
    // A smaller alignment moves the used ring right after the available ring (QEMU does not
    // count used_event): avail at +128, its ring ends at +128 + 4 + 16 = +148.
    rig.w(0x03c, 4);
    rig.used = DESC + 148;
    rig.put(rig.used + 2, &1u16.to_le_bytes());
    assert_eq!(rig.rw(false, 1, 512), 0);
    assert_eq!(rig.u16_at(DESC + 148 + 2), 2);
    // QueuePFN 0 resets the device.
    rig.w(0x040, 0);
    assert_eq!(rig.r(0x070), 0);
    assert_eq!(rig.r(0x040), 0);
    rig.rw(false, 2, 512);
    assert_eq!(rig.u16_at(DESC + 148 + 2), 2);
    // Legacy features cannot change once FEATURES_OK is set.
    rig.w(0x070, 1 | 2);
    rig.w(0x020, 1 << 9);
    rig.w(0x070, 1 | 2 | 8);
    rig.w(0x020, 1 << 6);
    assert_eq!(rig.dev.negotiated_features(), 1 << 9);
}
