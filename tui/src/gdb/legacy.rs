//! The legacy `c` packet as QEMU reads it: continue every hart.
//!
//! gdb itself resumes with `vCont` (`vCont;c` is "all threads continue"), but minimal
//! clients send the bare `c` of the oldest protocol — the lab grade scripts' gradelib.py does,
//! with no handshake at all. gdbstub turns `c` into "continue the current thread" with the
//! other threads held (scheduler locking), which xv6scope runs as one hart alone, an
//! instruction at a time: xv6 then boots slowly, and a kernel that waits for a console
//! interrupt on another hart never sees it. QEMU resumes every CPU on `c`. So the server
//! rewrites each complete `c` packet (with or without an address, which QEMU ignores too) into
//! `vCont;c` before gdbstub reads it. Bytes outside packets (`+`, `-`, Ctrl-C) pass at once;
//! the bytes of a packet are held until its checksum arrives, as the protocol state machine
//! would hold them anyway.

/// Rewrites the client's byte stream (see the module essay).
#[derive(Default)]
pub struct LegacyContinue {
    /// The packet being received, from its `$`; empty outside packets.
    packet: Vec<u8>,
}

/// `vCont;c` as a packet.
fn vcont_continue() -> Vec<u8> {
    let body = b"vCont;c";
    let sum = body.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    let mut p = vec![b'$'];
    p.extend_from_slice(body);
    p.extend_from_slice(format!("#{sum:02x}").as_bytes());
    p
}

impl LegacyContinue {
    /// The bytes to feed the protocol state machine for `bytes` received.
    pub fn rewrite(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for &b in bytes {
            if self.packet.is_empty() {
                if b == b'$' {
                    self.packet.push(b);
                } else {
                    out.push(b);
                }
                continue;
            }
            self.packet.push(b);
            // A packet ends two bytes after its `#`.
            let n = self.packet.len();
            if n >= 4 && self.packet[n - 3] == b'#' {
                let body = &self.packet[1..n - 3];
                let legacy_c =
                    body.first() == Some(&b'c') && body[1..].iter().all(|c| c.is_ascii_hexdigit());
                if legacy_c {
                    out.extend_from_slice(&vcont_continue());
                } else {
                    out.extend_from_slice(&self.packet);
                }
                self.packet.clear();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_becomes_vcont_c_and_everything_else_passes() {
        let mut r = LegacyContinue::default();
        // gradelib: a hardware breakpoint, then `c`, arriving in pieces.
        assert_eq!(r.rewrite(b"$Z1,80000ea4,1#b"), b"");
        assert_eq!(r.rewrite(b"a$c"), b"$Z1,80000ea4,1#ba");
        assert_eq!(r.rewrite(b"#63"), b"$vCont;c#a8");
        assert_eq!(r.rewrite(b"$c80001000#ff"), b"$vCont;c#a8");
        // gdb's own packets and the bytes between packets are untouched.
        assert_eq!(r.rewrite(b"+$vCont;c:1#0e\x03"), b"+$vCont;c:1#0e\x03");
        assert_eq!(r.rewrite(b"$qC#b4"), b"$qC#b4");
        assert_eq!(r.rewrite(b"$cont#00"), b"$cont#00", "not hex: not `c ADDR`");
    }
}
