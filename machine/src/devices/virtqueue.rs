//! The device side of one split virtqueue (virtio 1.x §2.7), over guest RAM.
//!
//! A split virtqueue is three areas in guest memory that the driver lays out and the device
//! only reads (descriptor table, available ring) or only writes (used ring):
//!
//! ```text
//!  desc    num × { addr: u64, len: u32, flags: u16, next: u16 }
//!  avail   { flags: u16, idx: u16, ring: [u16; num], used_event: u16 }
//!  used    { flags: u16, idx: u16, ring: [{ id: u32, len: u32 }; num], avail_event: u16 }
//! ```
//!
//! Interface: [`Virtqueue::pop`] takes the next available chain as a list of [`Segment`]s
//! (following NEXT links and one level of INDIRECT table), [`Virtqueue::push`] returns a
//! chain to the used ring, and [`Virtqueue::should_notify`] says whether the driver wants an
//! interrupt for what was just pushed. The transport (`virtio_blk`) owns the addresses and
//! the size; this module only walks them.
//!
//! Faults: anything that makes a queue unusable — a ring outside RAM, an index out of range,
//! a loop, a zero-length buffer, a readable buffer after a writable one, a malformed indirect
//! table — is a [`QueueError`]; the device then marks itself broken (needs reset) as QEMU's
//! `virtio_error` does. Chains are bounded by the queue size (the indirect table's size inside
//! a table), so a loop is found in at most `num` steps. Buffer addresses are not checked
//! here: the request layer decides what an unreachable buffer means.
//!
//! Invariant: `num` is in 1..=MAX_SIZE whenever `pop` or `push` run (the transport refuses
//! other sizes), so `% num` never divides by zero.

use crate::ram::Ram;

/// Largest queue QEMU's transports offer (VIRTQUEUE_MAX_SIZE).
pub const MAX_SIZE: u16 = 1024;

const DESC_F_NEXT: u16 = 1;
const DESC_F_WRITE: u16 = 2;
const DESC_F_INDIRECT: u16 = 4;
/// avail.flags: the driver asks for no interrupts (ignored under EVENT_IDX).
const AVAIL_F_NO_INTERRUPT: u16 = 1;

/// One buffer of a descriptor chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub addr: u64,
    pub len: u32,
    /// Device-writable (VIRTQ_DESC_F_WRITE); readable segments all come first.
    pub writable: bool,
}

/// A fault in the queue's structure that leaves the device needing a reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueError(pub String);

impl std::fmt::Display for QueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fault(msg: String) -> QueueError {
    QueueError(msg)
}

/// Where the queue lives and how far each side has got.
#[derive(Clone, Debug, Default)]
pub struct Virtqueue {
    /// Queue size (entries in each area).
    pub num: u16,
    /// Guest-physical addresses of the descriptor table, available ring and used ring.
    pub desc: u64,
    pub avail: u64,
    pub used: u64,
    /// Next available-ring slot the device will take (free-running, mod 2^16).
    pub last_avail: u16,
    /// The used ring's idx as the device last wrote it.
    pub used_idx: u16,
    /// EVENT_IDX bookkeeping (QEMU's `signalled_used`): the used idx at the last interrupt.
    signalled_used: Option<u16>,
}

impl Virtqueue {
    /// An empty queue of `num` entries at address 0 (not yet placed by the driver).
    pub fn new(num: u16) -> Self {
        Virtqueue {
            num,
            ..Default::default()
        }
    }

    /// The driver's available idx.
    pub fn avail_idx(&self, ram: &Ram) -> Result<u16, QueueError> {
        read_u16(ram, self.avail + 2, "available ring")
    }

    /// Takes the next available chain: its head index and its buffers in order. `Ok(None)`
    /// when the driver has made nothing new available.
    pub fn pop(&mut self, ram: &Ram) -> Result<Option<(u16, Vec<Segment>)>, QueueError> {
        let avail_idx = self.avail_idx(ram)?;
        let waiting = avail_idx.wrapping_sub(self.last_avail);
        if waiting == 0 {
            return Ok(None);
        }
        if waiting > self.num {
            return Err(fault(format!(
                "driver moved the available idx from {} to {avail_idx}, more than the queue size {}",
                self.last_avail, self.num
            )));
        }
        let slot = self.avail + 4 + 2 * (self.last_avail % self.num) as u64;
        let head = read_u16(ram, slot, "available ring")?;
        if head >= self.num {
            return Err(fault(format!(
                "available ring offers descriptor {head} of {}",
                self.num
            )));
        }
        self.last_avail = self.last_avail.wrapping_add(1);
        self.walk(ram, head).map(|segs| Some((head, segs)))
    }

    /// The buffers of the chain starting at descriptor `head`.
    fn walk(&self, ram: &Ram, head: u16) -> Result<Vec<Segment>, QueueError> {
        let mut table = self.desc;
        let mut size = self.num as u64;
        let mut i = head as u64;
        let mut d = read_desc(ram, table, i)?;
        if d.flags & DESC_F_INDIRECT != 0 {
            if d.len == 0 || d.len % 16 != 0 {
                return Err(fault(format!(
                    "indirect table of {} bytes at descriptor {head}",
                    d.len
                )));
            }
            // An indirect head's NEXT flag is meaningless (§2.7.5.3.1 forbids it); the
            // chain continues inside the table only.
            table = d.addr;
            size = d.len as u64 / 16;
            i = 0;
            d = read_desc(ram, table, 0)?;
            if d.flags & DESC_F_INDIRECT != 0 {
                return Err(fault("indirect descriptor inside an indirect table".into()));
            }
        }
        let mut segs = Vec::new();
        let mut seen_writable = false;
        loop {
            if segs.len() as u64 >= size {
                return Err(fault(format!("descriptor chain from {head} loops")));
            }
            if d.flags & DESC_F_INDIRECT != 0 {
                return Err(fault(format!("indirect descriptor {i} inside a chain")));
            }
            if d.len == 0 {
                return Err(fault(format!("descriptor {i} has length 0")));
            }
            let writable = d.flags & DESC_F_WRITE != 0;
            if seen_writable && !writable {
                return Err(fault(format!(
                    "device-readable descriptor {i} follows a device-writable one"
                )));
            }
            seen_writable |= writable;
            segs.push(Segment {
                addr: d.addr,
                len: d.len,
                writable,
            });
            if d.flags & DESC_F_NEXT == 0 {
                return Ok(segs);
            }
            i = d.next as u64;
            if i >= size {
                return Err(fault(format!(
                    "descriptor chain from {head} links to {i} of {size}"
                )));
            }
            d = read_desc(ram, table, i)?;
        }
    }

    /// Returns chain `head` to the driver with `len` bytes written, and publishes the used
    /// idx. Under EVENT_IDX also asks to be notified of every new buffer (avail_event).
    pub fn push(
        &mut self,
        ram: &mut Ram,
        head: u16,
        len: u32,
        event_idx: bool,
    ) -> Result<(), QueueError> {
        let slot = self.used + 4 + 8 * (self.used_idx % self.num) as u64;
        let mut elem = [0u8; 8];
        elem[..4].copy_from_slice(&(head as u32).to_le_bytes());
        elem[4..].copy_from_slice(&len.to_le_bytes());
        write(ram, slot, &elem)?;
        // The element is written before the idx that publishes it.
        self.used_idx = self.used_idx.wrapping_add(1);
        write(ram, self.used + 2, &self.used_idx.to_le_bytes())?;
        if event_idx {
            let avail_idx = self.avail_idx(ram)?;
            write(
                ram,
                self.used + 4 + 8 * self.num as u64,
                &avail_idx.to_le_bytes(),
            )?;
        }
        Ok(())
    }

    /// Whether to interrupt the driver after a push (QEMU's `virtio_split_should_notify`):
    /// always when the queue has just gone empty and NOTIFY_ON_EMPTY was negotiated; else
    /// under EVENT_IDX when the used idx passed the driver's `used_event`, or without it
    /// unless the driver set NO_INTERRUPT.
    pub fn should_notify(
        &mut self,
        ram: &Ram,
        notify_on_empty: bool,
        event_idx: bool,
    ) -> Result<bool, QueueError> {
        if notify_on_empty && self.avail_idx(ram)? == self.last_avail {
            return Ok(true);
        }
        if !event_idx {
            return Ok(read_u16(ram, self.avail, "available ring")? & AVAIL_F_NO_INTERRUPT == 0);
        }
        let event = read_u16(ram, self.avail + 4 + 2 * self.num as u64, "available ring")?;
        let new = self.used_idx;
        let old = self.signalled_used.replace(new);
        Ok(match old {
            None => true,
            // vring_need_event: did [old, new) step over `event`?
            Some(old) => new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old),
        })
    }
}

struct Desc {
    addr: u64,
    len: u32,
    flags: u16,
    next: u16,
}

fn read_desc(ram: &Ram, table: u64, i: u64) -> Result<Desc, QueueError> {
    let mut b = [0u8; 16];
    ram.read_phys(table.wrapping_add(16 * i), &mut b)
        .ok_or_else(|| {
            fault(format!(
                "descriptor {i} at {:#x} is outside RAM",
                table.wrapping_add(16 * i)
            ))
        })?;
    Ok(Desc {
        addr: u64::from_le_bytes(b[0..8].try_into().unwrap_or_default()),
        len: u32::from_le_bytes(b[8..12].try_into().unwrap_or_default()),
        flags: u16::from_le_bytes([b[12], b[13]]),
        next: u16::from_le_bytes([b[14], b[15]]),
    })
}

fn read_u16(ram: &Ram, addr: u64, what: &str) -> Result<u16, QueueError> {
    let mut b = [0u8; 2];
    ram.read_phys(addr, &mut b)
        .ok_or_else(|| fault(format!("{what} at {addr:#x} is outside RAM")))?;
    Ok(u16::from_le_bytes(b))
}

fn write(ram: &mut Ram, addr: u64, bytes: &[u8]) -> Result<(), QueueError> {
    ram.write_phys(addr, bytes)
        .ok_or_else(|| fault(format!("used ring at {addr:#x} is outside RAM")))
}
