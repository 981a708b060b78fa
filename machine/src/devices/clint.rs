//! CLINT: per-hart software interrupt (`msip`) and timer compare (`mtimecmp`), and `mtime`.
//! STUB: to be completed by the devices work.

pub struct Clint {
    msip: Vec<bool>,
    mtimecmp: Vec<u64>,
}

impl Clint {
    pub fn new(harts: usize) -> Self {
        Clint { msip: vec![false; harts], mtimecmp: vec![u64::MAX; harts] }
    }
    pub fn read(&mut self, _offset: u64, _size: u64, _mtime: u64) -> u64 {
        0
    }
    pub fn write(&mut self, _offset: u64, _size: u64, _val: u64, _mtime: u64) {}
    pub fn msip(&self, hart: usize) -> bool {
        self.msip[hart]
    }
    pub fn mtimecmp(&self, hart: usize) -> u64 {
        self.mtimecmp[hart]
    }
}
