//! A bounded byte buffer for what the guest prints: the newest bytes, at most about `cap`.
//!
//! A guest can print forever, with or without newlines; whatever holds its output for the
//! UI must not grow with it. [`Scrollback`] keeps at most `cap` bytes. When a push takes it
//! past `cap`, the oldest whole lines go — down to three quarters of `cap`, so that a
//! steady stream trims once per `cap / 4` bytes rather than on every push (amortised O(1)
//! per byte). A single line longer than that (a flood without newlines) loses its oldest
//! bytes instead. [`Scrollback::dropped`] counts what went, so a view can say "N bytes
//! dropped".
// Until the engine's console buffer uses it (the lead wires it in engine.rs).
#![allow(dead_code)]

/// Default capacity: 1 MiB, some 15,000 lines of an 80-column console.
pub const DEFAULT_CAP: usize = 1 << 20;

#[derive(Clone, Debug)]
pub struct Scrollback {
    buf: Vec<u8>,
    cap: usize,
    dropped: u64,
}

impl Default for Scrollback {
    fn default() -> Self {
        Scrollback::new(DEFAULT_CAP)
    }
}

impl Scrollback {
    /// An empty buffer that keeps at most `cap` bytes (at least 1).
    pub fn new(cap: usize) -> Self {
        Scrollback {
            buf: Vec::new(),
            cap: cap.max(1),
            dropped: 0,
        }
    }

    /// Appends `bytes`, dropping the oldest lines if the buffer would exceed its capacity.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.len() >= self.cap {
            // Nothing already held survives: keep the newest `cap` bytes of this push.
            self.dropped += (self.buf.len() + bytes.len() - self.cap) as u64;
            self.buf.clear();
            self.buf.extend_from_slice(&bytes[bytes.len() - self.cap..]);
            self.trim_to_line_start();
            return;
        }
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > self.cap {
            let target = self.cap - self.cap / 4;
            let excess = self.buf.len() - target;
            // Cut after the first newline at or past the excess: whole lines go.
            let cut = match self.buf[excess - 1..].iter().position(|&b| b == b'\n') {
                // ...unless that line is so long that half of what should stay would go too.
                Some(i) if excess + i <= self.buf.len() - target / 2 => excess + i,
                _ => excess,
            };
            self.buf.drain(..cut);
            self.dropped += cut as u64;
        }
    }

    /// After keeping the tail of one huge push: start at a line if one starts in the tail's
    /// first quarter, so that the view does not open in the middle of a line.
    fn trim_to_line_start(&mut self) {
        let window = (self.buf.len() / 4).max(1);
        if let Some(i) = self.buf[..window.min(self.buf.len())]
            .iter()
            .position(|&b| b == b'\n')
        {
            self.buf.drain(..=i);
            self.dropped += i as u64 + 1;
        }
    }

    /// The bytes held, oldest first.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the bytes held, leaving the buffer empty (the dropped count stays).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The capacity given to [`Scrollback::new`].
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes dropped since the buffer was made (or last cleared).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Empties the buffer and the dropped count (a new boot).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.dropped = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_the_cap_everything_is_kept() {
        let mut s = Scrollback::new(64);
        s.push(b"init: starting sh\n");
        s.push(b"$ ");
        assert_eq!(s.as_bytes(), b"init: starting sh\n$ ");
        assert_eq!(s.dropped(), 0);
        assert_eq!(s.take(), b"init: starting sh\n$ ");
        assert!(s.is_empty());
    }

    #[test]
    fn past_the_cap_the_oldest_whole_lines_go() {
        let mut s = Scrollback::new(40);
        for i in 0..10 {
            s.push(format!("line {i}\n").as_bytes()); // 7 bytes each
        }
        assert!(s.len() <= 40, "{}", s.len());
        let text = String::from_utf8(s.as_bytes().to_vec()).unwrap();
        assert!(text.starts_with("line "), "starts at a line: {text:?}");
        assert!(text.ends_with("line 9\n"), "{text:?}");
        assert_eq!(s.dropped() as usize + s.len(), 70);
    }

    #[test]
    fn a_flood_without_newlines_stays_bounded() {
        let mut s = Scrollback::new(1000);
        for _ in 0..100_000 {
            s.push(b"xxxxxxx");
            assert!(s.len() <= 1000);
        }
        assert_eq!(s.dropped() + s.len() as u64, 700_000);
        // One push larger than the whole buffer keeps its newest bytes.
        let mut big = vec![b'a'; 5000];
        big.extend_from_slice(b"\nthe end");
        s.push(&big);
        assert_eq!(s.len(), 1000);
        assert!(s.as_bytes().ends_with(b"\nthe end"));
        // A line starting early in that tail: the view starts there.
        let mut s = Scrollback::new(100);
        let mut big = vec![b'a'; 110];
        big.extend_from_slice(b"\n");
        big.extend_from_slice(&[b'b'; 89]);
        s.push(&big);
        assert_eq!(s.as_bytes(), [b'b'; 89]);
        assert_eq!(s.dropped(), 111);
        s.clear();
        assert_eq!((s.len(), s.dropped()), (0, 0));
    }

    #[test]
    fn the_default_cap_is_a_mebibyte() {
        let mut s = Scrollback::default();
        assert_eq!(s.cap(), 1 << 20);
        let chunk = vec![b'y'; 4096];
        for _ in 0..1024 {
            s.push(&chunk);
        }
        s.push(b"\n");
        assert!(s.len() <= 1 << 20);
    }
}
