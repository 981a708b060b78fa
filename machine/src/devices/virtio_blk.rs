//! virtio-mmio block device. STUB: to be completed by the devices work.
use crate::ram::Ram;

pub struct VirtioBlk;

impl VirtioBlk {
    pub fn read(&mut self, _offset: u64, _size: u64) -> u32 {
        0
    }
    pub fn write(&mut self, _offset: u64, _size: u64, _val: u32, _ram: &mut Ram) {}
    pub fn irq(&self) -> bool {
        false
    }
}
