//! virtio-mmio block device: the disk of QEMU's `virt` board at 0x1000_1000, IRQ 1.
//!
//! Two layers, as in QEMU (hw/virtio/virtio-mmio.c over hw/block/virtio-blk.c):
//!
//! The transport: virtio-mmio registers (virtio 1.x §4.2.2), version 2 (modern, the default)
//! or version 1 (legacy, `legacy = true`, §4.2.4). 32-bit accesses only below 0x100; other
//! sizes read 0 and write nothing, as QEMU does.
//!
//! ```text
//!  0x000 MagicValue 'virt'   0x030 QueueSel            0x070 Status
//!  0x004 Version 2 | 1       0x034 QueueNumMax 1024    0x080 QueueDescLow/High      (v2)
//!  0x008 DeviceID 2          0x038 QueueNum            0x090 QueueDriverLow/High    (v2)
//!  0x00c VendorID 'QEMU'     0x03c QueueAlign     (v1) 0x0a0 QueueDeviceLow/High    (v2)
//!  0x010 DeviceFeatures      0x040 QueuePFN       (v1) 0x0b0 SHMLenLow/High: all ones
//!  0x014 DeviceFeaturesSel   0x044 QueueReady     (v2) 0x0fc ConfigGeneration      (v2)
//!  0x020 DriverFeatures      0x050 QueueNotify         0x100 config space
//!  0x024 DriverFeaturesSel   0x060 InterruptStatus
//!  0x028 GuestPageSize  (v1) 0x064 InterruptACK
//! ```
//!
//! Write-only registers read 0. With no disk attached the slot answers as QEMU's empty
//! virtio-mmio slots do: magic, version and vendor, DeviceID 0, everything else 0, writes
//! ignored. One queue (0) exists; QueueNum defaults to 256 (QEMU's virtio-blk queue-size) and
//! accepts 1..=1024. Legacy rings follow QEMU's layout from QueuePFN × GuestPageSize: the
//! available ring right after the descriptors, the used ring at the next QueueAlign boundary
//! (default 4096) after `ring[num]` of the available ring — QEMU does not count the
//! `used_event` word there, which the legacy spec does; the two differ only when that word
//! would straddle the boundary. Writing 0 to Status (or, legacy, to QueuePFN) resets the
//! device. Modern QueueNum and queue addresses are staged as written and installed when the
//! driver sets QueueReady, as QEMU's transport does; the selectors keep 0 or 1 (any non-zero
//! value selects the high word); QueueNotify takes the queue index from its low 16 bits.
//!
//! The block device (virtio 1.x §5.2). Features offered are the ones implemented, a subset of
//! what QEMU offers: SEG_MAX, BLK_SIZE, FLUSH, NOTIFY_ON_EMPTY, INDIRECT_DESC, EVENT_IDX, and
//! VERSION_1 + ANY_LAYOUT (modern) or SCSI (legacy, answered UNSUPP like QEMU with scsi=off).
//! Not offered: RO (the disk is writable), GEOMETRY, TOPOLOGY, CONFIG_WCE, MQ, DISCARD,
//! WRITE_ZEROES. Config space (little-endian, 36 bytes as QEMU sizes it for these features;
//! reads beyond read all ones): capacity in 512-byte sectors (u64 at 0), seg_max 254 (12),
//! blk_size 512 (20), writeback 1 (32), num_queues 1 (34); other fields 0; writes ignored.
//!
//! Requests run synchronously when the driver writes QueueNotify: every new available chain
//! is parsed as { type: u32, reserved: u32, sector: u64 } in the device-readable bytes (in
//! any split across buffers), data, and a status byte in the last device-writable byte.
//! Types: IN (0, read), OUT (1, write), FLUSH (4, counted in the statistics for the host, which
//! writes its image file back after one),
//! GET_ID (8, an empty serial number as QEMU gives without `serial=`); others UNSUPP. Status
//! IOERR when a read's data buffers are not all device-writable or a write's not all
//! device-readable (QEMU silently moves nothing then; an error here points at the driver bug),
//! when the data is not a whole number of sectors, when it runs past the end of the disk,
//! when the device-readable bytes are fewer than the 16 of a header, or when a header or data
//! buffer lies outside RAM (QEMU gives up on the whole device for the last two; an error
//! status lets the guest see which request was wrong). Each chain goes to the used ring with
//! `len` = all its device-writable bytes (QEMU's `in_len`), then InterruptStatus bit 0 is set
//! if the driver wants notifying, raising the interrupt until InterruptACK clears it.
//!
//! A chain whose status byte cannot be written, and any structural fault of the queue (see
//! `virtqueue`), makes the device broken as QEMU's `virtio_error` does: it stops processing,
//! and if VERSION_1 was negotiated sets DEVICE_NEEDS_RESET (0x40) in Status and, once the
//! driver is up, InterruptStatus bit 1 (configuration change) with a new ConfigGeneration.
//! [`VirtioBlk::broken`] tells the debugger why. The guest can never panic the host.
//!
//! The image lives in memory. A host that wants QEMU's write-through (every write reaches
//! the image file as it happens, so a run killed by a signal loses nothing) installs a
//! [`WriteSink`] with [`VirtioBlk::set_write_sink`]: it sees each completed write as (byte
//! offset, bytes). The sink only observes; the guest sees the same device either way.
//!
//! Interrupt signalling follows QEMU: [`VirtioBlk::take_irq_update`] reports each
//! re-evaluation of the line (a completion, an acknowledge, a reset); see `plic`.
//!
//! Locking: none; the bus owns the device and harts run one at a time.

use crate::devices::virtqueue::{MAX_SIZE, Segment, Virtqueue};
use crate::ram::Ram;

const MAGIC: u32 = 0x7472_6976; // "virt"
const VENDOR: u32 = 0x554d_4551; // "QEMU"
const DEVICE_BLOCK: u32 = 2;
/// QEMU's virtio-blk default queue-size, the queue size until the driver sets one.
const DEFAULT_QUEUE_SIZE: u16 = 256;
const SECTOR: u64 = 512;

// Feature bits (virtio 1.x §5.2.3 and §6).
pub const BLK_F_SEG_MAX: u64 = 1 << 2;
pub const BLK_F_BLK_SIZE: u64 = 1 << 6;
pub const BLK_F_SCSI: u64 = 1 << 7;
pub const BLK_F_FLUSH: u64 = 1 << 9;
pub const F_NOTIFY_ON_EMPTY: u64 = 1 << 24;
pub const F_ANY_LAYOUT: u64 = 1 << 27;
pub const RING_F_INDIRECT_DESC: u64 = 1 << 28;
pub const RING_F_EVENT_IDX: u64 = 1 << 29;
pub const F_VERSION_1: u64 = 1 << 32;

const COMMON_FEATURES: u64 = BLK_F_SEG_MAX
    | BLK_F_BLK_SIZE
    | BLK_F_FLUSH
    | F_NOTIFY_ON_EMPTY
    | RING_F_INDIRECT_DESC
    | RING_F_EVENT_IDX;

// Device status bits (§2.1).
const STATUS_DRIVER_OK: u32 = 4;
const STATUS_FEATURES_OK: u32 = 8;
const STATUS_NEEDS_RESET: u32 = 0x40;

// Request types and status values (§5.2.6).
const T_IN: u32 = 0;
const T_OUT: u32 = 1;
const T_FLUSH: u32 = 4;
const T_GET_ID: u32 = 8;
/// Legacy barrier flag, ignored as QEMU does.
const T_BARRIER: u32 = 0x8000_0000;
const S_OK: u8 = 0;
const S_IOERR: u8 = 1;
const S_UNSUPP: u8 = 2;

/// Bytes of config space (QEMU's size for the features offered: up to num_queues).
const CONFIG_LEN: u64 = 36;

/// Counters for the host's statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// Requests completed (any status).
    pub requests: u64,
    /// Requests answered with IOERR or UNSUPP.
    pub errors: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    /// FLUSH requests: the guest asks for its writes to be durable (the host writes the
    /// image back soon after; see xv6scope's `disk` module).
    pub flushes: u64,
}

/// Observer of the guest's disk writes: (byte offset in the image, the bytes written).
pub type WriteSink = Box<dyn FnMut(u64, &[u8]) + Send>;

/// The write sink. A copy of the device (a machine snapshot) does not carry it: it is the
/// host's file, not the device's state (`Machine::restore` keeps the current one).
#[derive(Default)]
struct Sink(Option<WriteSink>);

impl Clone for Sink {
    fn clone(&self) -> Self {
        Sink(None)
    }
}

#[derive(Clone)]
pub struct VirtioBlk {
    disk: Option<Vec<u8>>,
    sink: Sink,
    legacy: bool,
    dirty: bool,
    device_features_sel: u32,
    driver_features_sel: u32,
    /// Modern: DriverFeatures words as written, taken when the driver sets FEATURES_OK.
    driver_features: [u32; 2],
    /// Negotiated features (what the device acts on).
    features: u64,
    queue_sel: u32,
    status: u32,
    isr: u32,
    generation: u32,
    /// Legacy: log2 of GuestPageSize, QueueAlign, and QueuePFN as written.
    page_shift: u32,
    align: u64,
    pfn: u32,
    /// Modern: QueueReady, and QueueNum and the three addresses as written; they take effect
    /// when the driver sets QueueReady (QEMU keeps them in the transport until then).
    ready: bool,
    staged_num: u32,
    staged: [u64; 3],
    /// The queue the device works on.
    queue: Virtqueue,
    /// Why the device needs a reset, once it does.
    broken: Option<String>,
    irq_update: Option<bool>,
    stats: DiskStats,
}

impl VirtioBlk {
    /// A block device over `disk` (None: the transport answers with device id 0, as QEMU's
    /// virtio-mmio slots do when no drive is attached). `legacy` selects virtio-mmio version 1.
    pub fn new(disk: Option<Vec<u8>>, legacy: bool) -> Self {
        VirtioBlk {
            disk,
            sink: Sink(None),
            legacy,
            dirty: false,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: [0; 2],
            features: 0,
            queue_sel: 0,
            status: 0,
            isr: 0,
            generation: 0,
            page_shift: 0,
            align: 4096,
            pfn: 0,
            ready: false,
            staged_num: 0,
            staged: [0; 3],
            queue: Virtqueue::new(DEFAULT_QUEUE_SIZE),
            broken: None,
            irq_update: None,
            stats: DiskStats::default(),
        }
    }

    /// The disk image as the guest has left it (empty when there is no disk).
    pub fn disk(&self) -> &[u8] {
        self.disk.as_deref().unwrap_or(&[])
    }

    /// Takes the write sink away (to keep it across a snapshot restore).
    pub fn take_write_sink(&mut self) -> Option<WriteSink> {
        self.sink.0.take()
    }

    /// Sends every completed disk write to `sink` too (see the module essay).
    pub fn set_write_sink(&mut self, sink: WriteSink) {
        self.sink = Sink(Some(sink));
    }

    /// Whether the guest has written the disk since the machine started.
    pub fn disk_dirty(&self) -> bool {
        self.dirty
    }

    /// Request counters.
    pub fn stats(&self) -> DiskStats {
        self.stats
    }

    /// Why the device stopped (it needs a reset by the driver), if it did.
    pub fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// The queue as the device sees it: size, ring addresses, progress (for debuggers).
    pub fn queue(&self) -> &Virtqueue {
        &self.queue
    }

    /// The Status register (§2.1: ACKNOWLEDGE 1, DRIVER 2, DRIVER_OK 4, FEATURES_OK 8,
    /// DEVICE_NEEDS_RESET 0x40, FAILED 0x80).
    pub fn device_status(&self) -> u32 {
        self.status
    }

    /// The InterruptStatus register (bit 0 used buffer, bit 1 configuration change).
    pub fn interrupt_status(&self) -> u32 {
        self.isr
    }

    /// Whether the transport is virtio-mmio version 1.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// Features the device offers.
    pub fn offered_features(&self) -> u64 {
        if self.legacy {
            COMMON_FEATURES | BLK_F_SCSI
        } else {
            COMMON_FEATURES | F_ANY_LAYOUT | F_VERSION_1
        }
    }

    /// Features the driver accepted.
    pub fn negotiated_features(&self) -> u64 {
        self.features
    }

    /// The interrupt line's level: InterruptStatus is not zero.
    pub fn irq(&self) -> bool {
        self.isr != 0
    }

    /// The line's level if the device re-evaluated it since the last call: the moment to
    /// pass it on to the PLIC (see `plic`).
    pub fn take_irq_update(&mut self) -> Option<bool> {
        self.irq_update.take()
    }

    /// Guest load of `size` bytes at `offset` (reads have no side effects on this device).
    pub fn read(&mut self, offset: u64, size: u64) -> u32 {
        self.peek(offset, size)
    }

    /// The value a guest load would return (for debuggers; the same as [`VirtioBlk::read`]).
    pub fn peek(&self, offset: u64, size: u64) -> u32 {
        let Some(disk) = &self.disk else {
            return match offset {
                0x000 => MAGIC,
                0x004 => self.version(),
                0x00c => VENDOR,
                _ => 0,
            };
        };
        if offset >= 0x100 {
            return config_read(disk.len() as u64 / SECTOR, offset - 0x100, size);
        }
        if size != 4 {
            return 0;
        }
        let q0 = self.queue_sel == 0;
        match offset {
            0x000 => MAGIC,
            0x004 => self.version(),
            0x008 => DEVICE_BLOCK,
            0x00c => VENDOR,
            0x010 => match (self.device_features_sel, self.legacy) {
                (0, _) => self.offered_features() as u32,
                (1, false) => (self.offered_features() >> 32) as u32,
                _ => 0,
            },
            0x034 if q0 => MAX_SIZE as u32,
            0x040 if q0 && self.legacy => self.pfn,
            0x044 if q0 && !self.legacy => self.ready as u32,
            0x060 => self.isr,
            0x070 => self.status,
            // SHMLenLow/High: no shared memory regions (QEMU answers in both versions).
            0x0b0 | 0x0b4 => u32::MAX,
            0x0fc if !self.legacy => self.generation,
            _ => 0,
        }
    }

    /// Guest store of the low `size` bytes of `val` at `offset`; a QueueNotify runs the
    /// requests against `ram` before it returns.
    pub fn write(&mut self, offset: u64, size: u64, val: u32, ram: &mut Ram) {
        if self.disk.is_none() || offset >= 0x100 || size != 4 {
            return;
        }
        let q0 = self.queue_sel == 0;
        let modern = !self.legacy;
        // QEMU keeps the selectors as 0 or 1.
        let sel = (val != 0) as u32;
        match offset {
            0x014 => self.device_features_sel = sel,
            0x020 => self.write_driver_features(val),
            0x024 => self.driver_features_sel = sel,
            0x028 if self.legacy => {
                // QEMU keeps the position of the lowest set bit, 0 for a value of 0.
                self.page_shift = if val == 0 { 0 } else { val.trailing_zeros() };
                self.place_legacy_rings();
            }
            0x030 if val < MAX_SIZE as u32 => self.queue_sel = val,
            0x038 if q0 => {
                self.set_num(val);
                self.staged_num = val;
                self.place_legacy_rings();
            }
            0x03c if q0 && self.legacy => {
                self.align = val as u64;
                self.place_legacy_rings();
            }
            0x040 if q0 && self.legacy => {
                if val == 0 {
                    self.reset();
                } else {
                    self.pfn = val;
                    self.place_legacy_rings();
                }
            }
            0x044 if q0 && modern => {
                self.ready = val != 0;
                if self.ready {
                    self.set_num(self.staged_num);
                    [self.queue.desc, self.queue.avail, self.queue.used] = self.staged;
                }
            }
            // The queue index is the low 16 bits.
            0x050 if val as u16 == 0 => self.process(ram),
            0x064 => {
                self.isr &= !val;
                self.signal();
            }
            0x070 => {
                if modern && val & STATUS_FEATURES_OK != 0 && self.status & STATUS_FEATURES_OK == 0
                {
                    let wanted =
                        (self.driver_features[1] as u64) << 32 | self.driver_features[0] as u64;
                    self.features = wanted & self.offered_features();
                }
                self.status = val & 0xff;
                if self.status == 0 {
                    self.reset();
                }
            }
            0x080..=0x0a4 if q0 && modern && offset & 0xf < 8 && offset & 3 == 0 => {
                // Desc at 0x80, driver (avail) at 0x90, device (used) at 0xa0; low word first.
                let area = &mut self.staged[(offset as usize - 0x80) >> 4];
                *area = if offset & 4 == 0 {
                    (*area & !0xffff_ffff) | val as u64
                } else {
                    (*area & 0xffff_ffff) | (val as u64) << 32
                };
            }
            _ => {}
        }
    }

    /// DriverFeatures. Legacy has no FEATURES_OK step: the write itself negotiates, masked by
    /// what is offered, and is refused once FEATURES_OK is set (QEMU `virtio_set_features`).
    /// Modern stages the word until FEATURES_OK.
    fn write_driver_features(&mut self, val: u32) {
        let sel = self.driver_features_sel as usize;
        if !self.legacy {
            self.driver_features[sel] = val;
        } else if sel == 0 && self.status & STATUS_FEATURES_OK == 0 {
            self.features = val as u64 & self.offered_features();
        }
    }

    /// QueueNum: sizes outside 1..=1024 are refused, as QEMU's `virtio_queue_set_num` does.
    fn set_num(&mut self, num: u32) {
        if (1..=MAX_SIZE as u32).contains(&num) {
            self.queue.num = num as u16;
        }
    }

    fn version(&self) -> u32 {
        if self.legacy { 1 } else { 2 }
    }

    /// Legacy: derives the three areas from QueuePFN, QueueNum and QueueAlign (see the essay).
    fn place_legacy_rings(&mut self) {
        if !self.legacy || self.pfn == 0 || self.align == 0 {
            return;
        }
        let q = &mut self.queue;
        q.desc = (self.pfn as u64) << self.page_shift;
        q.avail = q.desc + 16 * q.num as u64;
        q.used = (q.avail + 4 + 2 * q.num as u64).next_multiple_of(self.align);
    }

    /// Device reset (§2.1.2 / QEMU `virtio_reset`): status, features, interrupt and queue
    /// state go back to their initial values; the selectors, page size and the modern queue
    /// registers as written stay (QEMU keeps them in the transport).
    fn reset(&mut self) {
        self.status = 0;
        self.features = 0;
        self.driver_features = [0; 2];
        self.isr = 0;
        self.pfn = 0;
        self.ready = false;
        self.queue = Virtqueue::new(DEFAULT_QUEUE_SIZE);
        self.broken = None;
        self.signal();
    }

    fn signal(&mut self) {
        self.irq_update = Some(self.irq());
    }

    /// The device gives up until reset (QEMU `virtio_error`).
    fn fail(&mut self, why: String) {
        self.broken = Some(why);
        if self.features & F_VERSION_1 != 0 {
            self.status |= STATUS_NEEDS_RESET;
            if self.status & STATUS_DRIVER_OK != 0 {
                self.isr |= 2;
                self.generation = self.generation.wrapping_add(1);
                self.signal();
            }
        }
    }

    /// QueueNotify: completes every chain the driver has made available.
    fn process(&mut self, ram: &mut Ram) {
        // As QEMU's `virtio_queue_notify`: nothing to do until the driver has placed the
        // queue (QueuePFN, or QueueReady which installs the addresses).
        if self.queue.desc == 0 || self.broken.is_some() {
            return;
        }
        let event_idx = self.features & RING_F_EVENT_IDX != 0;
        let on_empty = self.features & F_NOTIFY_ON_EMPTY != 0;
        loop {
            let (head, segs) = match self.queue.pop(ram) {
                Ok(Some(chain)) => chain,
                Ok(None) => return,
                Err(e) => return self.fail(e.0),
            };
            let Some(status_seg) = segs.last().filter(|s| s.writable) else {
                return self.fail(format!("request at descriptor {head} has no status byte"));
            };
            let status_addr = status_seg.addr.wrapping_add(status_seg.len as u64 - 1);
            if ram.offset(status_addr, 1).is_none() {
                return self.fail(format!(
                    "status byte of request {head} at {status_addr:#x} is outside RAM"
                ));
            }
            let status = self.request(ram, &segs);
            self.stats.requests += 1;
            if status != S_OK {
                self.stats.errors += 1;
            }
            // Reachability was checked just above.
            let _ = ram.write_phys(status_addr, &[status]);
            let in_len: u32 = segs
                .iter()
                .filter(|s| s.writable)
                .map(|s| s.len)
                .fold(0, u32::wrapping_add);
            let pushed = self
                .queue
                .push(ram, head, in_len, event_idx)
                .and_then(|()| self.queue.should_notify(ram, on_empty, event_idx));
            match pushed {
                Ok(true) => {
                    self.isr |= 1;
                    self.signal();
                }
                Ok(false) => {}
                Err(e) => return self.fail(e.0),
            }
        }
    }

    /// Carries out one request whose status byte is known to be writable; returns its status.
    fn request(&mut self, ram: &mut Ram, segs: &[Segment]) -> u8 {
        let split = segs.iter().position(|s| s.writable).unwrap_or(segs.len());
        let (readable, writable) = segs.split_at(split);
        let mut header = [0u8; 16];
        if gather(ram, readable, 0, &mut header).is_none() {
            return S_IOERR;
        }
        let ty = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let sector = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
        let out_data = Bytes {
            segs: readable,
            skip: 16,
            trim: 0,
        };
        let in_data = Bytes {
            segs: writable,
            skip: 0,
            trim: 1,
        };
        match ty & !(T_OUT | T_BARRIER) {
            T_IN => {
                let write = ty & T_OUT != 0;
                let (data, other) = if write {
                    (out_data, in_data)
                } else {
                    (in_data, out_data)
                };
                if other.len() != 0 || data.len() % SECTOR != 0 {
                    return S_IOERR;
                }
                let Some(disk) = self.disk.as_mut() else {
                    return S_IOERR;
                };
                let start = sector
                    .checked_mul(SECTOR)
                    .filter(|s| *s <= disk.len() as u64);
                let Some(start) = start.filter(|s| data.len() <= disk.len() as u64 - s) else {
                    return S_IOERR;
                };
                let span = &mut disk[start as usize..(start + data.len()) as usize];
                if write {
                    if !data.in_ram(ram) {
                        return S_IOERR;
                    }
                    data.read_into(ram, span);
                    if let Some(sink) = &mut self.sink.0 {
                        sink(start, span);
                    }
                    self.dirty |= !span.is_empty();
                    self.stats.bytes_written += span.len() as u64;
                } else {
                    if !data.in_ram(ram) {
                        return S_IOERR;
                    }
                    data.write_from(ram, span);
                    self.stats.bytes_read += span.len() as u64;
                }
                S_OK
            }
            T_FLUSH => {
                self.stats.flushes += 1;
                S_OK
            }
            T_GET_ID => {
                // An empty, NUL-terminated serial: at most one zero byte, as QEMU writes.
                if in_data.len() > 0 {
                    if !in_data.in_ram(ram) {
                        return S_IOERR;
                    }
                    in_data.write_from(ram, &[0]);
                }
                S_OK
            }
            _ => S_UNSUPP,
        }
    }
}

/// A byte range spread over buffers: all of `segs` but the first `skip` and last `trim` bytes.
#[derive(Clone, Copy)]
struct Bytes<'a> {
    segs: &'a [Segment],
    skip: u64,
    trim: u64,
}

impl Bytes<'_> {
    fn len(&self) -> u64 {
        let total: u64 = self.segs.iter().map(|s| s.len as u64).sum();
        total.saturating_sub(self.skip + self.trim)
    }

    /// The (address, length) pieces of the range, in order.
    fn pieces(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let end = self.skip + self.len();
        let mut pos = 0u64;
        self.segs.iter().filter_map(move |s| {
            let (a, b) = (pos, pos + s.len as u64);
            pos = b;
            let (from, to) = (a.max(self.skip), b.min(end));
            (from < to).then(|| (s.addr.wrapping_add(from - a), to - from))
        })
    }

    fn in_ram(&self, ram: &Ram) -> bool {
        self.pieces()
            .all(|(addr, len)| ram.offset(addr, len).is_some())
    }

    /// Copies guest memory into `out` (which is `len()` bytes); the range must be in RAM.
    fn read_into(&self, ram: &Ram, out: &mut [u8]) {
        let mut at = 0usize;
        for (addr, len) in self.pieces() {
            let n = (len as usize).min(out.len() - at);
            let _ = ram.read_phys(addr, &mut out[at..at + n]);
            at += n;
        }
    }

    /// Copies `src` into guest memory from the start of the range, as far as either goes; the
    /// range must be in RAM.
    fn write_from(&self, ram: &mut Ram, src: &[u8]) {
        let mut at = 0usize;
        for (addr, len) in self.pieces() {
            if at == src.len() {
                break;
            }
            let n = (len as usize).min(src.len() - at);
            let _ = ram.write_phys(addr, &src[at..at + n]);
            at += n;
        }
    }
}

/// Copies `out.len()` bytes starting `skip` bytes into `segs`; None if they are not all there
/// or not all in RAM.
fn gather(ram: &Ram, segs: &[Segment], skip: u64, out: &mut [u8]) -> Option<()> {
    let bytes = Bytes {
        segs,
        skip,
        trim: 0,
    };
    if bytes.len() < out.len() as u64 {
        return None;
    }
    let head = Bytes {
        segs,
        skip,
        trim: bytes.len() - out.len() as u64,
    };
    head.in_ram(ram).then(|| head.read_into(ram, out))
}

/// Config space read (§5.2.4); bytes past `CONFIG_LEN` read as all ones, as in QEMU.
fn config_read(capacity: u64, offset: u64, size: u64) -> u32 {
    if !matches!(size, 1 | 2 | 4) || offset + size > CONFIG_LEN {
        return (u64::MAX >> (64 - 8 * size.clamp(1, 4))) as u32;
    }
    let mut cfg = [0u8; CONFIG_LEN as usize];
    cfg[0..8].copy_from_slice(&capacity.to_le_bytes());
    cfg[12..16].copy_from_slice(&(DEFAULT_QUEUE_SIZE as u32 - 2).to_le_bytes()); // seg_max
    cfg[20..24].copy_from_slice(&(SECTOR as u32).to_le_bytes()); // blk_size
    cfg[32] = 1; // writeback: the host keeps writes in memory until it saves the image
    cfg[34..36].copy_from_slice(&1u16.to_le_bytes()); // num_queues
    let mut v = [0u8; 4];
    v[..size as usize].copy_from_slice(&cfg[offset as usize..(offset + size) as usize]);
    u32::from_le_bytes(v)
}

#[cfg(test)]
#[path = "virtio_blk_tests.rs"]
mod tests;
