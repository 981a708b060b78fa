//! The devices of the `virt` board. Each sees offsets inside its own region (see `board`).
//!
//! Every model follows the QEMU device the board's guests were written against; where one
//! deliberately differs (for determinism, or to never lose host input), its module essay
//! says so. None can panic on guest behaviour: a guest's misuse is answered the way the
//! hardware answers it, or with an error status, or by the device stopping.
//!
//! Interrupts: the UART and the virtio disk expose both their line level (`irq`) and the
//! moments they re-evaluate it (`take_irq_update`), which is what QEMU's PLIC reacts to;
//! see `plic` for why the difference matters to xv6.

pub mod clint;
pub mod e1000;
pub mod finisher;
pub mod pci;
pub mod plic;
pub mod uart;
pub mod virtio_blk;
pub mod virtqueue;

#[cfg(test)]
mod tests {
    use super::plic::Plic;
    use super::uart::Uart;

    const UART_IRQ: u32 = 10;
    /// Hart 0's S-mode context.
    const CTX: usize = 1;

    /// The UART wired to the PLIC as the bus does it: each re-evaluation is passed on.
    struct Wire {
        uart: Uart,
        plic: Plic,
        claims: u32,
        /// Feed the PLIC the polled level instead of the re-evaluations.
        polled: bool,
    }

    impl Wire {
        fn new(polled: bool) -> Wire {
            let mut x = Wire {
                uart: Uart::new(),
                plic: Plic::new(1),
                claims: 0,
                polled,
            };
            x.plic.write(4 * UART_IRQ as u64, 1);
            x.plic.write(0x2000 + 0x80 * CTX as u64, 1 << UART_IRQ);
            for (off, v) in [(1, 0), (3, 0x80), (0, 3), (1, 0), (3, 3), (2, 7), (1, 3)] {
                x.w(off, v);
            }
            x
        }
        fn forward(&mut self) {
            if self.polled {
                self.plic.set_level(UART_IRQ, self.uart.irq());
            } else if let Some(level) = self.uart.take_irq_update() {
                self.plic.set_level(UART_IRQ, level);
            }
        }
        fn r(&mut self, off: u64) -> u8 {
            let v = self.uart.read(off);
            self.forward();
            v
        }
        fn w(&mut self, off: u64, v: u8) {
            self.uart.write(off, v);
            self.forward();
        }
        /// Takes every pending interrupt as MIT xv6's devintr + uartintr do (it never reads
        /// IIR); returns the bytes received. Gives up after 100 interrupts.
        fn service(&mut self) -> Vec<u8> {
            let mut got = Vec::new();
            for _ in 0..100 {
                if self.polled {
                    self.forward();
                }
                if !self.plic.interrupting(CTX) {
                    break;
                }
                let irq = self.plic.claim(CTX);
                assert_eq!(irq, UART_IRQ);
                self.claims += 1;
                while self.r(5) & 1 != 0 {
                    got.push(self.r(0));
                }
                self.plic.complete(irq);
            }
            got
        }
    }

    /// MIT xv6 leaves the transmitter-empty condition pending for good; as under QEMU it
    /// must cost one interrupt per event, not an endless stream, and must not hide input.
    #[test]
    fn xv6_uart_interrupts_stay_finite_and_input_gets_through() {
        let mut x = Wire::new(false);
        assert!(x.uart.irq());
        x.service();
        assert_eq!(x.claims, 1);
        // The line stays high (THRE), yet nothing more is delivered while nothing happens.
        assert!(x.uart.irq());
        x.service();
        assert_eq!(x.claims, 1);
        // Input arrives while the line is already high: it is still signalled.
        x.uart.push_input(b"ls\n");
        x.forward();
        assert_eq!(x.service(), b"ls\n");
        // Reading RBR re-signalled the (still high) line during service, so QEMU delivers one
        // more, empty, interrupt: two in all.
        assert_eq!(x.claims, 3);
        // Transmitting: one interrupt per byte at most.
        for &b in b"$ " {
            x.w(0, b);
            x.service();
        }
        assert_eq!(x.claims, 5);
        assert_eq!(x.uart.take_output(), b"$ ");
    }

    /// Why the bus passes re-evaluations: a gateway fed the polled level re-pends the UART as
    /// soon as xv6 completes it, and the hart never leaves the handler.
    #[test]
    fn a_polled_level_would_storm() {
        let mut x = Wire::new(true);
        x.service();
        assert_eq!(x.claims, 100);
    }
}
