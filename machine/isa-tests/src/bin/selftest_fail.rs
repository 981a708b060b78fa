//! Expected to FAIL with code 7: proves that a harness running these tests notices failures
//! (tohost = (7 << 1) | 1 = 15; QEMU exits with status 7).
#![no_std]
#![no_main]

isa::entry!(main);

fn main() {
    isa::report_fail(7);
}
