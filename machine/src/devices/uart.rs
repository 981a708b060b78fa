//! UART0: a 16550A as QEMU's hw/char/serial.c models it, on the console of the host.
//!
//! Registers (byte-wide, offsets 0..=7; DLAB is LCR bit 7):
//!
//! ```text
//!  off  read                      write
//!  0    RBR receive buffer        THR transmit holding      (DLAB: DLL divisor low)
//!  1    IER interrupt enable      IER                       (DLAB: DLM divisor high)
//!  2    IIR interrupt identity    FCR FIFO control
//!  3    LCR line control          LCR
//!  4    MCR modem control         MCR
//!  5    LSR line status           -
//!  6    MSR modem status          -
//!  7    SCR scratch               SCR
//! ```
//!
//! Interface: the guest reaches [`Uart::read`]/[`Uart::write`] through the bus; the host
//! feeds keyboard input with [`Uart::push_input`] and drains the console with
//! [`Uart::take_output`]. [`Uart::irq`] is the line's level; [`Uart::take_irq_update`]
//! reports that the UART re-evaluated its line, as QEMU's `serial_update_irq` does (see
//! `plic` for why the PLIC wants these signals rather than a polled level).
//!
//! Receive path. The host queue `input` is unbounded and the receiver is a window onto its
//! front: the first 16 bytes when the FIFOs are enabled (FCR bit 0), the first byte when they
//! are not (16450 mode, where RBR holds one byte). A read of RBR pops one byte and the next
//! queued byte moves into view, so input is never lost to an overrun, LSR.OE never sets, and
//! what the guest sees depends only on what the host queued and on the guest's own reads. QEMU
//! reaches the same steady state by letting its character backend hold bytes back while the
//! FIFO is full. One deliberate difference: a receiver FIFO reset (FCR bit 1, which xv6's
//! uartinit issues) does not discard queued input here, so input typed or scripted before the
//! kernel initialises the UART still reaches the shell; QEMU would drop what its FIFO held.
//!
//! Receive interrupts (IER bit 0). QEMU raises "received data available" (IIR 0x4) when the
//! FIFO holds at least the trigger level (FCR bits 7:6 → 1, 4, 8 or 14 bytes), or always
//! when FIFOs are off; below the trigger level it raises "character timeout" (IIR 0xC) once
//! four character times pass without a read. Here that timeout expires at once: any data
//! below the trigger level reports 0xC immediately. The guest sees the same identities and the
//! same eventual interrupt; only the delay, which QEMU takes from the host's wall clock,
//! disappears, and with it a source of non-determinism. (xv6 uses trigger level 1, where the
//! timeout never matters.)
//!
//! Transmit path. A byte written to THR is transmitted at once: it is appended to `output`,
//! and THRE and TEMT in LSR are always set. As in QEMU, the end of each transmission sets
//! `thr_ipending` ("transmitter holding register empty", IIR 0x2 when IER bit 1 is set); so do
//! a transmitter FIFO reset and setting IER bit 1 while THR is empty. It is cleared by writing
//! THR (which, transmitting at once, sets it again) and by reading IIR while IIR reports it.
//!
//! What that means for MIT xv6, whose driver enables the THRE interrupt but never reads IIR:
//! after the first byte the UART's line stays high for good, exactly as under QEMU. The guest
//! still gets one interrupt per signal rather than an endless stream, because the PLIC only
//! re-pends the source when the UART signals again: after every transmitted byte, every read
//! of RBR and every newly received byte. Each of those costs xv6 one (mostly empty) trip
//! through `uartintr`, as it does under QEMU. A PLIC fed with the polled level instead would
//! re-pend the UART as soon as xv6 completes it and the hart would never leave the handler.
//!
//! Not modelled, never needed by xv6: line errors and breaks (LSR bits 1-4 stay 0, so the
//! line-status interrupt never fires), modem-status changes (MSR reads 0xB0 = DCD|DSR|CTS,
//! deltas never set, so the modem-status interrupt never fires), baud-rate timing (the divisor
//! is stored and read back only). In loopback mode (MCR bit 4) transmitted bytes are queued
//! as input instead of output and MSR reflects MCR, as on the chip. Offsets 8 and up (QEMU
//! maps only 8 bytes of the 256-byte slot) read 0 and ignore writes.
//!
//! Locking: none; the bus owns the UART and harts run one at a time.

use std::collections::VecDeque;

/// Depth of the receive FIFO of a 16550A.
const FIFO_DEPTH: usize = 16;

const IER_RDI: u8 = 0x01; // received data available
const IER_THRI: u8 = 0x02; // transmitter holding register empty

const IIR_NO_INT: u8 = 0x01;
const IIR_ID: u8 = 0x06; // the bits that tell THRI from the others
const IIR_THRI: u8 = 0x02;
const IIR_RDI: u8 = 0x04;
const IIR_CTI: u8 = 0x0c; // character timeout
const IIR_FIFO: u8 = 0xc0; // FIFOs enabled

const FCR_FE: u8 = 0x01; // FIFO enable
const FCR_RFR: u8 = 0x02; // receiver FIFO reset
const FCR_XFR: u8 = 0x04; // transmitter FIFO reset
const FCR_STICKY: u8 = 0xc9; // trigger level, DMA mode, enable: the bits FCR keeps

const LCR_DLAB: u8 = 0x80;

const MCR_LOOP: u8 = 0x10;
const MCR_OUT2: u8 = 0x08;

const LSR_DR: u8 = 0x01;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;

const MSR_DCD: u8 = 0x80;
const MSR_DSR: u8 = 0x20;
const MSR_CTS: u8 = 0x10;

#[derive(Clone)]
pub struct Uart {
    /// Bytes from the host not yet read by the guest; the receiver shows a window onto the
    /// front (see the module essay).
    input: VecDeque<u8>,
    /// Bytes the guest transmitted, not yet taken by the host.
    output: Vec<u8>,
    /// RBR in 16450 mode keeps the last byte read (QEMU returns it when nothing is queued).
    rbr: u8,
    ier: u8,
    /// FCR's sticky bits (FCR_STICKY); FCR itself is write-only.
    fcr: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    divider: u16,
    /// "Transmitter holding register empty" interrupt condition.
    thr_ipending: bool,
    /// The line level at the last re-evaluation not yet reported by `take_irq_update`.
    irq_update: Option<bool>,
    /// Counters for the host's statistics.
    received: u64,
    transmitted: u64,
}

impl Default for Uart {
    fn default() -> Self {
        Self::new()
    }
}

impl Uart {
    /// A UART in QEMU's reset state: 9600 baud divisor, OUT2 set, interrupts off, FIFOs off.
    pub fn new() -> Self {
        Uart {
            input: VecDeque::new(),
            output: Vec::new(),
            rbr: 0,
            ier: 0,
            fcr: 0,
            lcr: 0,
            mcr: MCR_OUT2,
            scr: 0,
            divider: 0x0c,
            thr_ipending: false,
            irq_update: None,
            received: 0,
            transmitted: 0,
        }
    }

    /// Guest load of the register at `offset`. Reading RBR takes a byte and reading IIR can
    /// acknowledge the THRE interrupt; [`Uart::peek`] reads without those effects.
    pub fn read(&mut self, offset: u64) -> u8 {
        let value = self.peek(offset);
        match offset {
            0 if !self.dlab() => {
                if self.rx_count() > 0 {
                    self.received += 1;
                    self.input.pop_front();
                }
                self.rbr = value;
                self.signal();
            }
            2 if value & IIR_ID == IIR_THRI => {
                self.thr_ipending = false;
                self.signal();
            }
            _ => {}
        }
        value
    }

    /// The value a guest load at `offset` would return, without its side effects (for
    /// debuggers: a look at RBR must not eat input, nor one at IIR acknowledge anything).
    pub fn peek(&self, offset: u64) -> u8 {
        match offset {
            0 if self.dlab() => self.divider as u8,
            0 if self.rx_count() > 0 => self.input.front().copied().unwrap_or(0),
            0 if self.fifo_enabled() => 0,
            0 => self.rbr,
            1 if self.dlab() => (self.divider >> 8) as u8,
            1 => self.ier,
            2 => self.iir(),
            3 => self.lcr,
            4 => self.mcr,
            5 => self.lsr(),
            6 => self.msr(),
            7 => self.scr,
            _ => 0,
        }
    }

    /// Guest store of `val` to the register at `offset`.
    pub fn write(&mut self, offset: u64, val: u8) {
        match offset {
            0 if self.dlab() => self.divider = (self.divider & 0xff00) | val as u16,
            0 => {
                if self.mcr & MCR_LOOP != 0 {
                    self.input.push_back(val);
                } else {
                    self.output.push(val);
                }
                self.transmitted += 1;
                // THR empties at once: QEMU's transmit completion sets the interrupt again.
                self.thr_ipending = true;
                self.signal();
            }
            1 if self.dlab() => self.divider = (self.divider & 0x00ff) | (val as u16) << 8,
            1 => {
                let changed = (self.ier ^ val) & 0x0f;
                self.ier = val & 0x0f;
                // QEMU samples THRE on a change of IER bit 1 (rising: THR is always empty).
                if changed & IER_THRI != 0 {
                    self.thr_ipending = self.ier & IER_THRI != 0;
                }
                if changed != 0 {
                    self.signal();
                }
            }
            2 => {
                let mut val = val;
                // Switching the FIFOs on or off flushes both.
                if (val ^ self.fcr) & FCR_FE != 0 {
                    val |= FCR_RFR | FCR_XFR;
                }
                // FCR_RFR: queued input is kept (see the module essay).
                if val & FCR_XFR != 0 {
                    self.thr_ipending = true;
                }
                self.fcr = val & FCR_STICKY;
                self.signal();
            }
            3 => self.lcr = val,
            4 => self.mcr = val & 0x1f,
            7 => self.scr = val,
            _ => {}
        }
    }

    /// Queues host keyboard input; it enters the RX FIFO as the guest drains it, never lost.
    pub fn push_input(&mut self, bytes: &[u8]) {
        let before = self.rx_count();
        self.input.extend(bytes);
        // QEMU's backend delivers only while the receiver has room, and each delivery
        // re-evaluates the line.
        if self.rx_count() != before {
            self.signal();
        }
    }

    /// The level at which the line would be signalled if the host queued one more byte now,
    /// or None when that byte would not re-evaluate the line (the receiver window is full).
    pub fn input_would_signal(&self) -> Option<bool> {
        let depth = if self.fifo_enabled() { FIFO_DEPTH } else { 1 };
        (self.input.len() < depth).then(|| self.ier & IER_RDI != 0 || self.irq())
    }

    /// Whether queued input has not yet been read by the guest.
    pub fn input_pending(&self) -> bool {
        !self.input.is_empty()
    }

    /// Bytes queued by the host and not yet read by the guest.
    pub fn input_len(&self) -> usize {
        self.input.len()
    }

    /// Takes the bytes the guest transmitted since the last call.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// The interrupt line's level: some enabled condition is pending (IIR bit 0 clear).
    pub fn irq(&self) -> bool {
        self.iir() & IIR_NO_INT == 0
    }

    /// The line's level if the UART re-evaluated it since the last call (QEMU's
    /// `serial_update_irq`): the moment to pass it on to the PLIC.
    pub fn take_irq_update(&mut self) -> Option<bool> {
        self.irq_update.take()
    }

    /// Bytes the guest has read from RBR.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// Bytes the guest has written to THR.
    pub fn bytes_transmitted(&self) -> u64 {
        self.transmitted
    }

    fn dlab(&self) -> bool {
        self.lcr & LCR_DLAB != 0
    }

    fn fifo_enabled(&self) -> bool {
        self.fcr & FCR_FE != 0
    }

    /// Bytes the receiver holds: the visible window onto the host queue.
    fn rx_count(&self) -> usize {
        let depth = if self.fifo_enabled() { FIFO_DEPTH } else { 1 };
        self.input.len().min(depth)
    }

    /// The receive FIFO's interrupt trigger level, from FCR bits 7:6.
    fn trigger_level(&self) -> usize {
        [1, 4, 8, 14][(self.fcr >> 6) as usize]
    }

    fn lsr(&self) -> u8 {
        let dr = if self.rx_count() > 0 { LSR_DR } else { 0 };
        dr | LSR_THRE | LSR_TEMT
    }

    fn msr(&self) -> u8 {
        if self.mcr & MCR_LOOP != 0 {
            // Loopback wires OUT2/OUT1 to DCD/RI, RTS to CTS and DTR to DSR.
            (self.mcr & 0x0c) << 4 | (self.mcr & 0x02) << 3 | (self.mcr & 0x01) << 5
        } else {
            MSR_DCD | MSR_DSR | MSR_CTS
        }
    }

    /// IIR as QEMU's `serial_update_irq` ranks the conditions: receive (timeout, then data
    /// available), then transmitter empty. Line-status and modem-status conditions never arise.
    fn iir(&self) -> u8 {
        let count = self.rx_count();
        let id = if self.ier & IER_RDI != 0 && count > 0 {
            if !self.fifo_enabled() || count >= self.trigger_level() {
                IIR_RDI
            } else {
                IIR_CTI
            }
        } else if self.ier & IER_THRI != 0 && self.thr_ipending {
            IIR_THRI
        } else {
            IIR_NO_INT
        };
        id | if self.fifo_enabled() { IIR_FIFO } else { 0 }
    }

    /// Records a re-evaluation of the line (see [`Uart::take_irq_update`]).
    fn signal(&mut self) {
        self.irq_update = Some(self.irq());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UART initialised as MIT xv6's uartinit does.
    fn xv6_uart() -> Uart {
        let mut u = Uart::new();
        u.write(1, 0x00);
        u.write(3, 0x80);
        u.write(0, 0x03);
        u.write(1, 0x00);
        u.write(3, 0x03);
        u.write(2, 0x07);
        u.write(1, 0x03);
        u
    }

    #[test]
    fn input_would_signal_predicts_push_input() {
        // Interrupts off: a byte would signal a low line.
        let u = Uart::new();
        assert_eq!(u.input_would_signal(), Some(false));
        // xv6's setup: receive interrupts on, FIFO of 16.
        let mut u = xv6_uart();
        let _ = u.take_irq_update();
        assert_eq!(u.input_would_signal(), Some(true));
        u.push_input(&[b'a'; 15]);
        assert_eq!(u.take_irq_update(), Some(true));
        assert_eq!(u.input_would_signal(), Some(true), "room for one more");
        u.push_input(b"b");
        assert_eq!(u.input_would_signal(), None, "the receiver window is full");
        u.push_input(b"c");
        assert_eq!(
            u.take_irq_update(),
            Some(true),
            "only the 16th byte signalled"
        );
        assert_eq!(u.take_irq_update(), None);
    }

    #[test]
    fn reset_values_are_qemus() {
        let mut u = Uart::new();
        assert_eq!(u.read(1), 0);
        assert_eq!(u.read(2), 0x01);
        assert_eq!(u.read(3), 0);
        assert_eq!(u.read(4), 0x08);
        assert_eq!(u.read(5), 0x60);
        assert_eq!(u.read(6), 0xb0);
        assert_eq!(u.read(7), 0);
        assert!(!u.irq());
    }

    #[test]
    fn dlab_switches_offsets_zero_and_one_to_the_divisor() {
        let mut u = Uart::new();
        u.write(1, 0x05);
        u.write(3, 0x83);
        assert_eq!((u.read(0), u.read(1)), (0x0c, 0x00));
        u.write(0, 0x03);
        u.write(1, 0x01);
        assert_eq!((u.read(0), u.read(1)), (0x03, 0x01));
        // Nothing was transmitted and IER kept its value.
        assert!(u.take_output().is_empty());
        u.write(3, 0x03);
        assert_eq!(u.read(1), 0x05);
        assert_eq!(u.read(3), 0x03);
        u.write(7, 0x5a);
        assert_eq!(u.read(7), 0x5a);
    }

    #[test]
    fn transmit_is_instant_and_thre_interrupt_follows_qemu() {
        let mut u = xv6_uart();
        // Enabling IER.THRI with THR empty raised the THRE interrupt; FIFOs are on.
        assert!(u.irq());
        assert_eq!(u.take_irq_update(), Some(true));
        assert_eq!(u.read(2), 0xc2);
        // Reading IIR while it reports THRE clears it.
        assert!(!u.irq());
        assert_eq!(u.read(2), 0xc1);
        u.write(0, b'h');
        u.write(0, b'i');
        assert_eq!(u.read(5) & 0x60, 0x60);
        assert_eq!(u.take_output(), b"hi");
        assert!(u.take_output().is_empty());
        // Each transmission sets it again, and it stays until IIR is read (xv6 never does).
        assert!(u.irq());
        assert_eq!(u.read(5) & 0x60, 0x60);
        assert!(u.irq());
        assert_eq!(u.bytes_transmitted(), 2);
    }

    #[test]
    fn receive_with_fifo_at_trigger_level_one() {
        let mut u = xv6_uart();
        u.read(2); // clear THRE
        assert_eq!(u.read(5) & 1, 0);
        u.push_input(b"ls\n");
        assert_eq!(u.take_irq_update(), Some(true));
        assert_eq!(u.read(5) & 1, 1);
        assert_eq!(u.read(2), 0xc4);
        assert_eq!(u.read(0), b'l');
        assert_eq!(u.read(0), b's');
        assert_eq!(u.read(0), b'\n');
        assert_eq!(u.read(5) & 1, 0);
        assert!(!u.irq());
        assert_eq!(u.take_irq_update(), Some(false));
        assert_eq!(u.read(0), 0);
        assert_eq!(u.bytes_received(), 3);
    }

    #[test]
    fn a_thousand_queued_bytes_all_arrive_in_order() {
        let mut u = xv6_uart();
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        u.push_input(&data[..600]);
        let mut got = Vec::new();
        while u.read(5) & 1 != 0 {
            got.push(u.read(0));
            if got.len() == 300 {
                u.push_input(&data[600..]);
            }
        }
        assert_eq!(got, data);
        assert!(!u.input_pending());
        // Never an overrun.
        assert_eq!(u.read(5), 0x60);
    }

    #[test]
    fn trigger_levels_and_the_character_timeout() {
        let mut u = Uart::new();
        u.write(2, 0x81); // FIFOs on, trigger level 8
        u.write(1, 0x01);
        u.push_input(b"abc");
        // Below the trigger level: the timeout identity, at once.
        assert_eq!(u.read(2), 0xcc);
        u.push_input(b"defgh");
        assert_eq!(u.read(2), 0xc4);
        u.read(0);
        assert_eq!(u.read(2), 0xcc);
        // The window is 16 bytes deep: a full trigger level of 14 is reachable.
        u.write(2, 0xc1);
        u.push_input(&[0; 20]);
        assert_eq!(u.read(2), 0xc4);
    }

    #[test]
    fn without_fifos_rbr_holds_one_byte() {
        let mut u = Uart::new();
        u.write(1, 0x01);
        u.push_input(b"xy");
        assert_eq!(u.read(2), 0x04);
        assert_eq!(u.read(0), b'x');
        assert_eq!(u.read(2), 0x04);
        assert_eq!(u.read(0), b'y');
        assert_eq!(u.read(2), 0x01);
        // An empty RBR reads its last byte again.
        assert_eq!(u.read(0), b'y');
    }

    #[test]
    fn fifo_reset_keeps_queued_input() {
        let mut u = Uart::new();
        u.push_input(b"early");
        u.write(2, 0x07);
        let got: Vec<u8> = (0..5).map(|_| u.read(0)).collect();
        assert_eq!(got, b"early");
    }

    #[test]
    fn ier_thri_edge_and_interrupt_priority() {
        let mut u = Uart::new();
        u.write(1, 0x02);
        assert_eq!(u.read(2), 0x02);
        assert_eq!(u.read(2), 0x01);
        // Writing the same IER again is no change: no new THRE interrupt.
        u.write(1, 0x02);
        assert_eq!(u.read(2), 0x01);
        u.write(1, 0x00);
        u.write(1, 0x03);
        // Received data outranks THRE.
        u.push_input(b"k");
        assert_eq!(u.read(2), 0x04);
        u.read(0);
        assert_eq!(u.read(2), 0x02);
        // Masking the condition lowers the line but keeps the condition.
        u.write(1, 0x01);
        assert!(!u.irq());
    }

    #[test]
    fn peek_has_no_side_effects() {
        let mut u = xv6_uart();
        u.push_input(b"ab");
        u.take_irq_update();
        assert_eq!(u.peek(0), b'a');
        assert_eq!(u.peek(0), b'a');
        assert_eq!(u.peek(2), 0xc4);
        assert_eq!(u.take_irq_update(), None);
        assert_eq!(u.read(0), b'a');
        assert_eq!(u.read(0), b'b');
        assert_eq!(u.peek(2), 0xc2);
        assert_eq!(u.peek(2), 0xc2);
        assert!(u.irq());
        assert_eq!(u.read(2), 0xc2);
        assert!(!u.irq());
    }

    #[test]
    fn loopback_returns_transmitted_bytes() {
        let mut u = Uart::new();
        u.write(4, 0x10 | 0x0b);
        assert_eq!(u.read(6), 0x80 | 0x10 | 0x20);
        u.write(0, b'q');
        assert!(u.take_output().is_empty());
        assert_eq!(u.read(0), b'q');
    }

    #[test]
    fn updates_report_each_re_evaluation() {
        let mut u = xv6_uart();
        u.take_irq_update();
        // LSR reads do not re-evaluate the line (no errors to clear).
        u.read(5);
        assert_eq!(u.take_irq_update(), None);
        u.write(0, b'x');
        assert_eq!(u.take_irq_update(), Some(true));
        u.read(0);
        assert_eq!(u.take_irq_update(), Some(true));
        u.read(2);
        assert_eq!(u.take_irq_update(), Some(false));
        // Input beyond a full receiver changes nothing the guest can see.
        u.push_input(&[1; 16]);
        assert_eq!(u.take_irq_update(), Some(true));
        u.push_input(&[2; 4]);
        assert_eq!(u.take_irq_update(), None);
        // Offsets beyond the eight registers are holes.
        assert_eq!(u.read(8), 0);
    }
}
