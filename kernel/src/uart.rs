//! Driver for the 16550a UART at `UART0` (QEMU virt; PLIC IRQ 10).
//!
//! Interface: `uartinit()`; `uartputc(c)` queues a byte for output and may sleep while the
//! transmit buffer is full (process context only, for `write` to the console);
//! `uartputc_sync(c)` spins on the transmitter and is safe from any context (kernel printing,
//! input echo); `uartintr()` handles the interrupt: it drains received bytes into the console
//! and refills the transmit holding register.
//!
//! Invariants: the output ring `uart_tx_buf[uart_tx_r % N .. uart_tx_w % N]` holds the bytes
//! queued but not yet sent; `uart_tx_w == uart_tx_r` means empty, `uart_tx_w == uart_tx_r + N`
//! full. Both indices and the buffer are guarded by `uart_tx_lock`. Once the kernel panics,
//! every output path spins forever so the panic message is the last thing printed.
//!
//! Registers (16550 data sheet; each one byte at `UART0 + n`): RHR/THR 0, IER 1, FCR/ISR 2,
//! LCR 3, LSR 5. With LCR bit 7 set, offsets 0 and 1 are the baud divisor latch.

use crate::console::consoleintr;
use crate::printf::panicked;
use crate::proc::{sleep, wakeup};
use crate::spinlock::{Shared, Spinlock, pop_off, push_off};
use abi::memlayout::UART0;

const RHR: u64 = 0; // receive holding register
const THR: u64 = 0; // transmit holding register
const IER: u64 = 1; // interrupt enable
const IER_RX_ENABLE: u8 = 1 << 0;
const IER_TX_ENABLE: u8 = 1 << 1;
const FCR: u64 = 2; // FIFO control
const FCR_FIFO_ENABLE: u8 = 1 << 0;
const FCR_FIFO_CLEAR: u8 = 3 << 1; // clear both FIFOs
const LCR: u64 = 3; // line control
const LCR_EIGHT_BITS: u8 = 3;
const LCR_BAUD_LATCH: u8 = 1 << 7;
const LSR: u64 = 5; // line status
const LSR_RX_READY: u8 = 1 << 0; // a byte waits in RHR
const LSR_TX_IDLE: u8 = 1 << 5; // THR can take a byte

fn reg(r: u64) -> *mut u8 {
    (UART0 + r) as *mut u8
}
fn read_reg(r: u64) -> u8 {
    // SAFETY: UART0 is mapped (identity) in the kernel page table and by M-mode; MMIO needs
    // volatile access.
    unsafe { reg(r).read_volatile() }
}
fn write_reg(r: u64, v: u8) {
    // SAFETY: as read_reg.
    unsafe { reg(r).write_volatile(v) }
}

const UART_TX_BUF_SIZE: usize = 32;

#[unsafe(no_mangle)]
pub static uart_tx_lock: Spinlock = Spinlock::new("uart");
/// Guarded by `uart_tx_lock`.
static UART_TX: Shared<TxRing> = Shared::new(TxRing {
    buf: [0; UART_TX_BUF_SIZE],
    w: 0,
    r: 0,
});

struct TxRing {
    buf: [u8; UART_TX_BUF_SIZE],
    /// Next slot to write: buf[w % N].
    w: u64,
    /// Next slot to send: buf[r % N].
    r: u64,
}

pub fn uartinit() {
    write_reg(IER, 0x00);
    write_reg(LCR, LCR_BAUD_LATCH);
    // Divisor 3 gives 38.4K baud from the 1.8432 MHz clock; QEMU ignores the rate.
    write_reg(0, 0x03);
    write_reg(1, 0x00);
    // Leave latch mode; 8 data bits, no parity, one stop bit.
    write_reg(LCR, LCR_EIGHT_BITS);
    write_reg(FCR, FCR_FIFO_ENABLE | FCR_FIFO_CLEAR);
    write_reg(IER, IER_TX_ENABLE | IER_RX_ENABLE);
}

fn tx_chan() -> usize {
    UART_TX.get() as usize
}

/// Queues `c` for output; sleeps while the buffer is full. Process context only.
pub fn uartputc(c: u8) {
    uart_tx_lock.acquire();
    if panicked() {
        // Frozen after a panic: wait with nothing to wake this hart, so that a host sees
        // every hart halted rather than one spinning forever.
        crate::trap::halt();
    }
    // SAFETY: the ring is guarded by uart_tx_lock, held.
    unsafe {
        let t = UART_TX.get();
        // The ring changes under us while sleep() has released the lock.
        #[allow(clippy::while_immutable_condition)]
        while (*t).w == (*t).r + UART_TX_BUF_SIZE as u64 {
            // Full: uartstart() wakes us when it has sent something.
            sleep(tx_chan(), &uart_tx_lock);
        }
        (*t).buf[((*t).w % UART_TX_BUF_SIZE as u64) as usize] = c;
        (*t).w += 1;
    }
    uartstart();
    uart_tx_lock.release();
}

/// Sends `c` now, spinning until the transmitter is idle. Any context; no sleep.
pub fn uartputc_sync(c: u8) {
    push_off();
    if panicked() {
        // Frozen after a panic: wait with nothing to wake this hart, so that a host sees
        // every hart halted rather than one spinning forever.
        crate::trap::halt();
    }
    while read_reg(LSR) & LSR_TX_IDLE == 0 {}
    write_reg(THR, c);
    pop_off();
}

/// Moves queued bytes into the transmitter while it is idle. Caller holds `uart_tx_lock`.
fn uartstart() {
    // SAFETY: caller holds uart_tx_lock.
    unsafe {
        let t = UART_TX.get();
        loop {
            if (*t).w == (*t).r {
                return;
            }
            if read_reg(LSR) & LSR_TX_IDLE == 0 {
                // THR is busy; the "THR empty" interrupt will call us again.
                return;
            }
            let c = (*t).buf[((*t).r % UART_TX_BUF_SIZE as u64) as usize];
            (*t).r += 1;
            // uartputc() may be waiting for room.
            wakeup(tx_chan());
            write_reg(THR, c);
        }
    }
}

/// The received byte, if any.
fn uartgetc() -> Option<u8> {
    if read_reg(LSR) & LSR_RX_READY != 0 {
        Some(read_reg(RHR))
    } else {
        None
    }
}

/// UART interrupt: input arrived, the transmitter became idle, or both.
pub fn uartintr() {
    while let Some(c) = uartgetc() {
        consoleintr(c);
    }
    uart_tx_lock.acquire();
    uartstart();
    uart_tx_lock.release();
}
