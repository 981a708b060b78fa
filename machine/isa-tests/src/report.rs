//! How a test tells the outside world it passed or failed.
//!
//! Two channels, written in this order, so that both machines stop at the first one they watch:
//! 1. `tohost` (an HTIF-style u64 in section `.tohost`, exported under that name): 1 is pass,
//!    `(code << 1) | 1` is failure `code`. Our machine stops when it sees the write.
//! 2. The SiFive test finisher at 0x10_0000 (`abi::memlayout::FINISHER`): 0x5555 is pass,
//!    `(code << 16) | 0x3333` is failure `code`. QEMU exits there with status 0 on pass and
//!    `code` (modulo 256, as any process exit status) on failure.
//!
//! Before both, a verdict line goes to the 16550 UART (`<test>: PASS` or `<test>: FAIL code N`)
//! so a person reading the console sees which check failed even when the exit status wrapped.
//!
//! Failure codes: a [`check!`](crate::check) uses its line number (files stay under 1000
//! lines). Codes from the runtime itself start at [`UNEXPECTED_EXC`], [`UNEXPECTED_IRQ`] and
//! [`PANIC_BASE`].
use abi::memlayout::{FINISHER, UART0};
use core::sync::atomic::{AtomicUsize, Ordering};

/// An M-mode exception that no test expected: code is this plus `mcause`.
pub const UNEXPECTED_EXC: u64 = 1000;
/// An interrupt with no hook installed: code is this plus the interrupt number.
pub const UNEXPECTED_IRQ: u64 = 1100;
/// An S-mode interrupt with no hook installed: code is this plus the interrupt number.
pub const UNEXPECTED_S_IRQ: u64 = 1200;
/// A trap taken while a trap handler was running.
pub const NESTED_TRAP: u64 = 1300;
/// A Rust panic: code is this plus the line of the panic.
pub const PANIC_BASE: u64 = 2000;

const FINISHER_PASS: u32 = 0x5555;
const FINISHER_FAIL: u32 = 0x3333;

/// HTIF mailbox watched by our machine. `fromhost` is its customary partner; nothing uses it.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".tohost")]
static mut tohost: u64 = 0;
#[unsafe(no_mangle)]
#[unsafe(link_section = ".tohost")]
static mut fromhost: u64 = 0;

static NAME_PTR: AtomicUsize = AtomicUsize::new(0);
static NAME_LEN: AtomicUsize = AtomicUsize::new(0);

/// Records the test's name for the verdict line (called by [`entry!`](crate::entry)).
pub fn set_name(name: &'static str) {
    NAME_PTR.store(name.as_ptr() as usize, Ordering::Relaxed);
    NAME_LEN.store(name.len(), Ordering::Relaxed);
}

fn name() -> &'static str {
    let (p, n) = (
        NAME_PTR.load(Ordering::Relaxed),
        NAME_LEN.load(Ordering::Relaxed),
    );
    if p == 0 {
        return "test";
    }
    // SAFETY: set_name stored the parts of a &'static str.
    unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(p as *const u8, n)) }
}

/// Writes one byte to the UART, waiting for the transmit holding register to empty
/// (16550: line status register at offset 5, bit 5 THRE).
pub fn putc(c: u8) {
    let thr = UART0 as *mut u8;
    let lsr = (UART0 + 5) as *const u8;
    // SAFETY: UART0 is the 16550's MMIO base on both machines; byte accesses are its width.
    unsafe {
        let mut spins = 0u32;
        while core::ptr::read_volatile(lsr) & 0x20 == 0 && spins < 100_000 {
            spins += 1;
        }
        core::ptr::write_volatile(thr, c);
    }
}

pub fn puts(s: &str) {
    for b in s.bytes() {
        putc(b);
    }
}

pub fn put_dec(mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        putc(b);
    }
}

pub fn put_hex(v: u64) {
    puts("0x");
    for i in (0..16).rev() {
        putc(b"0123456789abcdef"[((v >> (i * 4)) & 0xf) as usize]);
    }
}

/// Prints the two sides of a failed [`check_eq!`](crate::check_eq).
pub fn mismatch(got: u64, want: u64) {
    puts("got ");
    put_hex(got);
    puts(" want ");
    put_hex(want);
    puts("\n");
}

fn finish(tohost_val: u64, finisher_val: u32) -> ! {
    // SAFETY: tohost is ours; FINISHER is the test device's MMIO register on both machines.
    unsafe {
        core::ptr::write_volatile(&raw mut tohost, tohost_val);
        core::ptr::write_volatile(FINISHER as *mut u32, finisher_val);
    }
    loop {
        core::hint::spin_loop();
    }
}

/// Reports success and stops.
pub fn report_pass() -> ! {
    puts(name());
    puts(": PASS\n");
    finish(1, FINISHER_PASS)
}

/// Reports failure `code` (nonzero, below 65536) and stops.
pub fn report_fail(code: u64) -> ! {
    let code = (code & 0xffff).max(1);
    puts(name());
    puts(": FAIL code ");
    put_dec(code);
    puts("\n");
    finish((code << 1) | 1, ((code as u32) << 16) | FINISHER_FAIL)
}
