//! The SiFive test finisher: how a guest powers the board off or resets it.
//!
//! QEMU's `virt` maps a `sifive_test` device at 0x10_0000. A 32-bit store to its offset 0 is
//! a command: the low 16 bits select it, the high 16 bits carry an exit code.
//!
//! ```text
//!  value               effect (QEMU)                       here
//!  0x5555              power off, exit status 0            Halt::PowerOff { code: 0 }
//!  (code<<16)|0x3333   power off, exit status `code`       Halt::PowerOff { code }
//!  0x7777              system reset                        Halt::Reset
//!  anything else       ignored (logged as a guest error)   None
//! ```
//!
//! The pass command ignores the code bits, as QEMU does. Reads return 0; stores at other
//! offsets are ignored. The device holds no state.

use crate::bus::Halt;

/// Low 16 bits of the command word.
const FINISHER_FAIL: u32 = 0x3333;
const FINISHER_PASS: u32 = 0x5555;
const FINISHER_RESET: u32 = 0x7777;

#[derive(Clone)]
pub struct Finisher;

impl Default for Finisher {
    fn default() -> Self {
        Self::new()
    }
}

impl Finisher {
    pub fn new() -> Self {
        Finisher
    }

    /// A store of `val` at `offset`; returns the halt it requests, if any.
    pub fn write(&mut self, offset: u64, val: u32) -> Option<Halt> {
        if offset != 0 {
            return None;
        }
        match val & 0xffff {
            FINISHER_PASS => Some(Halt::PowerOff { code: 0 }),
            FINISHER_FAIL => Some(Halt::PowerOff { code: val >> 16 }),
            FINISHER_RESET => Some(Halt::Reset),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_map_to_halts() {
        let mut f = Finisher::new();
        assert_eq!(f.write(0, 0x5555), Some(Halt::PowerOff { code: 0 }));
        // Pass ignores the code field.
        assert_eq!(f.write(0, 0x0007_5555), Some(Halt::PowerOff { code: 0 }));
        assert_eq!(f.write(0, 0x0001_3333), Some(Halt::PowerOff { code: 1 }));
        assert_eq!(
            f.write(0, 0xffff_3333),
            Some(Halt::PowerOff { code: 0xffff })
        );
        assert_eq!(f.write(0, 0x3333), Some(Halt::PowerOff { code: 0 }));
        assert_eq!(f.write(0, 0x7777), Some(Halt::Reset));
    }

    #[test]
    fn other_values_and_offsets_are_ignored() {
        let mut f = Finisher::new();
        assert_eq!(f.write(0, 0), None);
        assert_eq!(f.write(0, 0x1234), None);
        assert_eq!(f.write(0, 0x5556), None);
        assert_eq!(f.write(4, 0x5555), None);
    }
}
