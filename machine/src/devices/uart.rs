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
    /// Queues host keyboard input; it enters the RX FIFO as the guest drains it, never lost.
    pub fn push_input(&mut self, _bytes: &[u8]) {}
    /// Whether queued input has not yet been read by the guest.
    pub fn input_pending(&self) -> bool {
        false
    }
    /// Takes the bytes the guest transmitted since the last call.
    pub fn take_output(&mut self) -> Vec<u8> {
        Vec::new()
    }
    pub fn irq(&self) -> bool {
        false
    }
}
