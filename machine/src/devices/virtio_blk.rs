//! virtio-mmio block device. STUB: to be completed by the devices work.
use crate::ram::Ram;

pub struct VirtioBlk;

impl VirtioBlk {
    /// A block device over `disk` (None: the transport answers with device id 0, as QEMU's
    /// virtio-mmio slots do when no drive is attached). `legacy` selects virtio-mmio version 1.
    pub fn new(_disk: Option<Vec<u8>>, _legacy: bool) -> Self {
        VirtioBlk
    }
    pub fn read(&mut self, _offset: u64, _size: u64) -> u32 {
        0
    }
    pub fn write(&mut self, _offset: u64, _size: u64, _val: u32, _ram: &mut Ram) {}
    pub fn irq(&self) -> bool {
        false
    }
}
