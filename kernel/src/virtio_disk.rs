//! Driver for the virtio block device of QEMU's `virt` board (virtio-mmio at `VIRTIO0`, IRQ 1).
//!
//! Interface: `init()` once on hart 0 during boot; `rw(b, write)` reads or writes one
//! `BSIZE`-byte block for the buffer cache and sleeps until the device is done; `intr()` is
//! called by the trap code on every interrupt from the device.
//!
//! Protocol (virtio 1.1 spec, sections 2.6 "split virtqueues", 4.2 "virtio over MMIO", 5.2
//! "block device"): one queue (number 0) of `NUM` descriptors. Each request is a chain of
//! three descriptors: a 16-byte header (`BlkReq`: type, reserved, sector) the device reads,
//! the block's data (device reads it for a write, writes it for a read), and a one-byte
//! status the device writes (0 = OK). The driver puts the head of the chain in the available
//! ring and writes the queue number to `QueueNotify`; the device appends the head to the used
//! ring and raises the interrupt.
//!
//! Both register layouts are supported, chosen by the `Version` register:
//! - version 2 ("modern", what `-global virtio-mmio.force-legacy=false` gives): feature
//!   negotiation with `FEATURES_OK`, and the three ring addresses written separately to
//!   `QueueDesc`/`QueueDriver`/`QueueDevice`, then `QueueReady = 1`;
//! - version 1 ("legacy", QEMU's default for virtio-mmio): `GuestPageSize`, `QueueAlign` and
//!   one page frame number in `QueuePFN`; the rings must then be laid out contiguously as the
//!   legacy spec (2.6.2) fixes them: descriptors, available ring, and the used ring at the
//!   next `QueueAlign` boundary. `Rings` has exactly that layout, so both paths share it.
//!
//! Invariants: a descriptor is either free (`free[i]`) or part of exactly one in-flight chain
//! whose head `h` has `info[h].b` set; `b.disk == 1` while the device owns buffer `b`.
//! The kernel maps RAM one-to-one, so the address of a static or of a `Buf` is the physical
//! address the device uses for DMA.
//!
//! Locking: `disk.lock` guards everything in `disk` (descriptors, rings, `free`, `info`,
//! `used_idx`) and `b.disk` of in-flight buffers. `rw` sleeps on `&disk.free[0]` while no
//! three descriptors are free and on the buffer while its request is in flight; `intr` wakes
//! both. The caller of `rw` holds the buffer's sleep-lock.

use core::ptr::{addr_of, addr_of_mut, null_mut, read_volatile, write_volatile};
use core::sync::atomic::{Ordering, fence};

use abi::fs::BSIZE;
use abi::memlayout::{PGSIZE, VIRTIO0};

use crate::bio::Buf;
use crate::proc::{sleep, wakeup};
use crate::spinlock::{Shared, Spinlock};

// MMIO register offsets (virtio 1.1, 4.2.2 and 4.2.4 for the legacy-only ones).
const MAGIC_VALUE: u64 = 0x000; // "virt" = 0x74726976
const VERSION: u64 = 0x004; // 1 = legacy, 2 = modern
const DEVICE_ID: u64 = 0x008; // 2 = block device
const VENDOR_ID: u64 = 0x00c; // QEMU: 0x554d4551
const DEVICE_FEATURES: u64 = 0x010;
const DEVICE_FEATURES_SEL: u64 = 0x014;
const DRIVER_FEATURES: u64 = 0x020;
const DRIVER_FEATURES_SEL: u64 = 0x024;
const GUEST_PAGE_SIZE: u64 = 0x028; // legacy only
const QUEUE_SEL: u64 = 0x030;
const QUEUE_NUM_MAX: u64 = 0x034;
const QUEUE_NUM: u64 = 0x038;
const QUEUE_ALIGN: u64 = 0x03c; // legacy only
const QUEUE_PFN: u64 = 0x040; // legacy only
const QUEUE_READY: u64 = 0x044; // modern only
const QUEUE_NOTIFY: u64 = 0x050;
const INTERRUPT_STATUS: u64 = 0x060;
const INTERRUPT_ACK: u64 = 0x064;
const STATUS: u64 = 0x070;
const QUEUE_DESC_LOW: u64 = 0x080;
const QUEUE_DESC_HIGH: u64 = 0x084;
const QUEUE_DRIVER_LOW: u64 = 0x090;
const QUEUE_DRIVER_HIGH: u64 = 0x094;
const QUEUE_DEVICE_LOW: u64 = 0x0a0;
const QUEUE_DEVICE_HIGH: u64 = 0x0a4;

// Device status bits (virtio 1.1, 2.1).
const S_ACKNOWLEDGE: u32 = 1;
const S_DRIVER: u32 = 2;
const S_DRIVER_OK: u32 = 4;
const S_FEATURES_OK: u32 = 8;

// Feature bits the driver refuses (block device, 5.2.3; ring, 6).
const BLK_F_RO: u32 = 5;
const BLK_F_SCSI: u32 = 7;
const BLK_F_CONFIG_WCE: u32 = 11;
const BLK_F_MQ: u32 = 12;
const F_ANY_LAYOUT: u32 = 27;
const RING_F_INDIRECT_DESC: u32 = 28;
const RING_F_EVENT_IDX: u32 = 29;
/// VIRTIO_F_VERSION_1 is feature bit 32, i.e. bit 0 of the second feature word; a modern
/// driver must accept it when offered (6.1).
const F_VERSION_1_HI: u32 = 1 << 0;

/// Number of descriptors; a power of two, at most the device's `QueueNumMax`.
const NUM: usize = 8;

const DESC_F_NEXT: u16 = 1; // chained with the descriptor in `next`
const DESC_F_WRITE: u16 = 2; // device writes this buffer (else reads it)

const BLK_T_IN: u32 = 0; // read from the disk
const BLK_T_OUT: u32 = 1; // write to the disk

/// A descriptor of the split virtqueue (2.6.5).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct VirtqDesc {
    pub addr: u64,
    pub len: u32,
    pub flags: u16,
    pub next: u16,
}

/// The available ring (2.6.6): the driver's list of chain heads for the device.
#[repr(C)]
pub struct VirtqAvail {
    pub flags: u16,
    /// Where the driver puts the next entry, modulo `NUM`; only ever incremented.
    pub idx: u16,
    pub ring: [u16; NUM],
    pub used_event: u16,
}

/// One entry of the used ring: head of a finished chain and bytes written.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct VirtqUsedElem {
    pub id: u32,
    pub len: u32,
}

/// The used ring (2.6.8): the device's list of finished chains.
#[repr(C)]
pub struct VirtqUsed {
    pub flags: u16,
    /// Incremented by the device after it adds an entry.
    pub idx: u16,
    pub ring: [VirtqUsedElem; NUM],
    pub avail_event: u16,
}

const DESC_BYTES: usize = core::mem::size_of::<[VirtqDesc; NUM]>();
const AVAIL_BYTES: usize = core::mem::size_of::<VirtqAvail>();

/// The queue memory, in the legacy layout: the used ring starts one page in.
#[repr(C, align(4096))]
pub struct Rings {
    pub desc: [VirtqDesc; NUM],
    pub avail: VirtqAvail,
    _pad: [u8; PGSIZE as usize - DESC_BYTES - AVAIL_BYTES],
    pub used: VirtqUsed,
}

const _: () = assert!(core::mem::offset_of!(Rings, used) == PGSIZE as usize);

/// The header of a block request (5.2.6).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BlkReq {
    pub typ: u32,
    pub reserved: u32,
    pub sector: u64,
}

/// What the driver remembers about an in-flight request, indexed by its head descriptor.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Info {
    pub b: *mut Buf,
    /// Written by the device: 0 on success.
    pub status: u8,
}

#[repr(C)]
pub struct Disk {
    pub rings: Rings,
    /// Is descriptor i free?
    pub free: [bool; NUM],
    /// How far `intr` has consumed the used ring (wraps like `used.idx`).
    pub used_idx: u16,
    pub info: [Info; NUM],
    /// Request headers, one per descriptor so a head's header never moves.
    pub ops: [BlkReq; NUM],
    pub lock: Spinlock,
    /// The device speaks the legacy (version 1) interface.
    pub legacy: bool,
}

/// The one disk. Guarded by `disk.lock` after `init`.
#[unsafe(no_mangle)]
pub static disk: Shared<Disk> = Shared::new(Disk {
    rings: Rings {
        desc: [VirtqDesc {
            addr: 0,
            len: 0,
            flags: 0,
            next: 0,
        }; NUM],
        avail: VirtqAvail {
            flags: 0,
            idx: 0,
            ring: [0; NUM],
            used_event: 0,
        },
        _pad: [0; PGSIZE as usize - DESC_BYTES - AVAIL_BYTES],
        used: VirtqUsed {
            flags: 0,
            idx: 0,
            ring: [VirtqUsedElem { id: 0, len: 0 }; NUM],
            avail_event: 0,
        },
    },
    free: [false; NUM],
    used_idx: 0,
    info: [Info {
        b: null_mut(),
        status: 0,
    }; NUM],
    ops: [BlkReq {
        typ: 0,
        reserved: 0,
        sector: 0,
    }; NUM],
    lock: Spinlock::new("virtio_disk"),
    legacy: false,
});

fn d() -> *mut Disk {
    disk.get()
}

/// Sleep channel of "waiting for free descriptors".
fn free_chan() -> usize {
    // SAFETY: only the address is taken.
    unsafe { addr_of!((*d()).free) as usize }
}

fn read_reg(off: u64) -> u32 {
    // SAFETY: VIRTIO0 is the device's MMIO window, mapped in the kernel page table; every
    // offset used here is a 32-bit register of it.
    unsafe { read_volatile((VIRTIO0 + off) as *const u32) }
}

fn write_reg(off: u64, v: u32) {
    // SAFETY: as in read_reg.
    unsafe { write_volatile((VIRTIO0 + off) as *mut u32, v) }
}

/// Finds and initialises the disk; panics if there is none.
pub fn init() {
    if read_reg(MAGIC_VALUE) != 0x7472_6976
        || !(1..=2).contains(&read_reg(VERSION))
        || read_reg(DEVICE_ID) != 2
        || read_reg(VENDOR_ID) != 0x554d_4551
    {
        panic!("virtio_disk_init: could not find virtio disk");
    }
    let legacy = read_reg(VERSION) == 1;

    // 3.1.1: reset, acknowledge, driver, negotiate features, (FEATURES_OK), set up the
    // queue, DRIVER_OK.
    let mut status = 0;
    write_reg(STATUS, status);
    status |= S_ACKNOWLEDGE;
    write_reg(STATUS, status);
    status |= S_DRIVER;
    write_reg(STATUS, status);

    write_reg(DEVICE_FEATURES_SEL, 0);
    let mut features = read_reg(DEVICE_FEATURES);
    for bit in [
        BLK_F_RO,
        BLK_F_SCSI,
        BLK_F_CONFIG_WCE,
        BLK_F_MQ,
        F_ANY_LAYOUT,
        RING_F_EVENT_IDX,
        RING_F_INDIRECT_DESC,
    ] {
        features &= !(1 << bit);
    }
    write_reg(DRIVER_FEATURES_SEL, 0);
    write_reg(DRIVER_FEATURES, features);
    if !legacy {
        write_reg(DEVICE_FEATURES_SEL, 1);
        let hi = read_reg(DEVICE_FEATURES) & F_VERSION_1_HI;
        write_reg(DRIVER_FEATURES_SEL, 1);
        write_reg(DRIVER_FEATURES, hi);
        write_reg(DRIVER_FEATURES_SEL, 0);

        status |= S_FEATURES_OK;
        write_reg(STATUS, status);
        if read_reg(STATUS) & S_FEATURES_OK == 0 {
            panic!("virtio_disk_init: FEATURES_OK unset");
        }
    } else {
        write_reg(GUEST_PAGE_SIZE, PGSIZE as u32);
    }

    write_reg(QUEUE_SEL, 0);
    let busy = if legacy {
        read_reg(QUEUE_PFN) != 0
    } else {
        read_reg(QUEUE_READY) != 0
    };
    if busy {
        panic!("virtio_disk_init: queue 0 already in use");
    }
    let max = read_reg(QUEUE_NUM_MAX);
    if max == 0 {
        panic!("virtio_disk_init: no queue 0");
    }
    if (max as usize) < NUM {
        panic!("virtio_disk_init: queue 0 too short");
    }
    write_reg(QUEUE_NUM, NUM as u32);

    // SAFETY: boot runs on one hart before any other user of `disk`; the rings are static
    // and page-aligned, and RAM is mapped one-to-one, so these are physical addresses.
    unsafe {
        let dk = d();
        (*dk).legacy = legacy;
        (*dk).free = [true; NUM];
        let desc = addr_of!((*dk).rings.desc) as u64;
        if legacy {
            write_reg(QUEUE_ALIGN, PGSIZE as u32);
            write_reg(QUEUE_PFN, (desc / PGSIZE) as u32);
        } else {
            let avail = addr_of!((*dk).rings.avail) as u64;
            let used = addr_of!((*dk).rings.used) as u64;
            write_reg(QUEUE_DESC_LOW, desc as u32);
            write_reg(QUEUE_DESC_HIGH, (desc >> 32) as u32);
            write_reg(QUEUE_DRIVER_LOW, avail as u32);
            write_reg(QUEUE_DRIVER_HIGH, (avail >> 32) as u32);
            write_reg(QUEUE_DEVICE_LOW, used as u32);
            write_reg(QUEUE_DEVICE_HIGH, (used >> 32) as u32);
            write_reg(QUEUE_READY, 1);
        }
    }

    status |= S_DRIVER_OK;
    write_reg(STATUS, status);
    // plic.rs enables VIRTIO0_IRQ and trap.rs routes it to intr().
}

/// Takes a free descriptor. Caller holds `disk.lock`.
unsafe fn alloc_desc(dk: *mut Disk) -> Option<usize> {
    // SAFETY: caller holds disk.lock.
    unsafe {
        let i = (*dk).free.iter().position(|&f| f)?;
        (*dk).free[i] = false;
        Some(i)
    }
}

/// Returns descriptor `i` to the free set. Caller holds `disk.lock`.
unsafe fn free_desc(dk: *mut Disk, i: usize) {
    // SAFETY: caller holds disk.lock.
    unsafe {
        if i >= NUM || (*dk).free[i] {
            panic!("virtio_disk free_desc: {}", i);
        }
        (*dk).rings.desc[i] = VirtqDesc {
            addr: 0,
            len: 0,
            flags: 0,
            next: 0,
        };
        (*dk).free[i] = true;
    }
    wakeup(free_chan());
}

/// Frees the chain that starts at descriptor `i`. Caller holds `disk.lock`.
unsafe fn free_chain(dk: *mut Disk, mut i: usize) {
    loop {
        // SAFETY: caller holds disk.lock.
        let (flags, next) = unsafe { ((*dk).rings.desc[i].flags, (*dk).rings.desc[i].next) };
        // SAFETY: caller holds disk.lock.
        unsafe { free_desc(dk, i) };
        if flags & DESC_F_NEXT == 0 {
            break;
        }
        i = next as usize;
    }
}

/// Takes three descriptors (not necessarily adjacent), or none if fewer are free.
unsafe fn alloc3_desc(dk: *mut Disk) -> Option<[usize; 3]> {
    let mut idx = [0; 3];
    for k in 0..3 {
        // SAFETY: caller holds disk.lock.
        match unsafe { alloc_desc(dk) } {
            Some(i) => idx[k] = i,
            None => {
                for &j in &idx[..k] {
                    // SAFETY: caller holds disk.lock; j was just taken.
                    unsafe { free_desc(dk, j) };
                }
                return None;
            }
        }
    }
    Some(idx)
}

/// Reads (`write == false`) or writes block `b.blockno` from/to `b.data`, sleeping until
/// the device is done. The caller holds `b`'s sleep-lock.
pub fn rw(b: *mut Buf, write: bool) {
    let dk = d();
    // SAFETY: the caller holds b's sleep-lock, so blockno is stable.
    let sector = unsafe { (*b).blockno } as u64 * (BSIZE / 512) as u64;

    // SAFETY: `disk` is only touched with its lock held; `lock` itself is a Sync spinlock.
    let lock: &Spinlock = unsafe { &(*dk).lock };
    lock.acquire();

    let idx = loop {
        // SAFETY: disk.lock is held.
        if let Some(idx) = unsafe { alloc3_desc(dk) } {
            break idx;
        }
        sleep(free_chan(), lock);
    };

    // SAFETY: disk.lock is held, the three descriptors are ours, and b stays locked (so it
    // is neither recycled nor moved) until the device finishes.
    unsafe {
        let op = addr_of_mut!((*dk).ops[idx[0]]);
        *op = BlkReq {
            typ: if write { BLK_T_OUT } else { BLK_T_IN },
            reserved: 0,
            sector,
        };
        let desc = &mut (*dk).rings.desc;
        desc[idx[0]] = VirtqDesc {
            addr: op as u64,
            len: core::mem::size_of::<BlkReq>() as u32,
            flags: DESC_F_NEXT,
            next: idx[1] as u16,
        };
        desc[idx[1]] = VirtqDesc {
            addr: addr_of!((*b).data) as u64,
            len: BSIZE as u32,
            flags: if write { 0 } else { DESC_F_WRITE } | DESC_F_NEXT,
            next: idx[2] as u16,
        };
        // The device overwrites the status with 0 on success.
        (*dk).info[idx[0]].status = 0xff;
        desc[idx[2]] = VirtqDesc {
            addr: addr_of!((*dk).info[idx[0]].status) as u64,
            len: 1,
            flags: DESC_F_WRITE,
            next: 0,
        };

        (*b).disk = 1;
        (*dk).info[idx[0]].b = b;

        let avail = addr_of_mut!((*dk).rings.avail);
        let slot = (*avail).idx as usize % NUM;
        write_volatile(addr_of_mut!((*avail).ring[slot]), idx[0] as u16);
        // The ring entry must be visible before the index that publishes it (2.7.13).
        fence(Ordering::SeqCst);
        write_volatile(addr_of_mut!((*avail).idx), (*avail).idx.wrapping_add(1));
        fence(Ordering::SeqCst);
    }
    write_reg(QUEUE_NOTIFY, 0); // the value is the queue number

    // SAFETY: b.disk is written by intr() under disk.lock, which we hold between sleeps.
    while unsafe { read_volatile(addr_of!((*b).disk)) } == 1 {
        sleep(b as usize, lock);
    }

    // SAFETY: disk.lock is held; the chain is finished and ours to free.
    unsafe {
        (*dk).info[idx[0]].b = null_mut();
        free_chain(dk, idx[0]);
    }
    lock.release();
}

/// Handles a disk interrupt: acknowledges it and completes every finished request.
pub fn intr() {
    let dk = d();
    // SAFETY: see rw.
    let lock: &Spinlock = unsafe { &(*dk).lock };
    lock.acquire();

    // The device raises no new interrupt until this one is acknowledged. Completions that
    // race with the acknowledgement are handled by the loop below (now or next time).
    write_reg(INTERRUPT_ACK, read_reg(INTERRUPT_STATUS) & 0x3);
    fence(Ordering::SeqCst);

    // SAFETY: disk.lock is held; used ring and status bytes are written by the device, so
    // they are read with volatile loads after a fence.
    unsafe {
        while (*dk).used_idx != read_volatile(addr_of!((*dk).rings.used.idx)) {
            fence(Ordering::SeqCst);
            let slot = (*dk).used_idx as usize % NUM;
            let id = read_volatile(addr_of!((*dk).rings.used.ring[slot].id)) as usize;
            if id >= NUM || read_volatile(addr_of!((*dk).info[id].status)) != 0 {
                panic!("virtio_disk_intr: status");
            }
            let b = (*dk).info[id].b;
            if b.is_null() {
                panic!("virtio_disk_intr: no buffer");
            }
            write_volatile(addr_of_mut!((*b).disk), 0);
            wakeup(b as usize);
            (*dk).used_idx = (*dk).used_idx.wrapping_add(1);
        }
    }
    lock.release();
}
