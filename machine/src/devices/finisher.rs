//! SiFive test finisher. STUB: to be completed by the devices work.
use crate::bus::Halt;

pub struct Finisher;

impl Finisher {
    pub fn new() -> Self {
        Finisher
    }
    pub fn write(&mut self, _offset: u64, _val: u32) -> Option<Halt> {
        None
    }
}
