//! UART 16550. STUB: to be completed by the devices work.

pub struct Uart;

impl Uart {
    pub fn new() -> Self {
        Uart
    }
    pub fn read(&mut self, _offset: u64) -> u8 {
        0
    }
    pub fn write(&mut self, _offset: u64, _val: u8) {}
    pub fn irq(&self) -> bool {
        false
    }
}
