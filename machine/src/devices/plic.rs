//! PLIC. STUB: to be completed by the devices work.

pub struct Plic;

impl Plic {
    pub fn new(_harts: usize) -> Self {
        Plic
    }
    pub fn read(&mut self, _offset: u64) -> u32 {
        0
    }
    pub fn write(&mut self, _offset: u64, _val: u32) {}
    pub fn set_level(&mut self, _irq: u32, _level: bool) {}
    pub fn interrupting(&self, _context: usize) -> bool {
        false
    }
}
