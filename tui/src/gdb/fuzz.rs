//! Fuzz target for the gdb server (issue 19): arbitrary bytes from a client on a real
//! loopback connection, through gdbstub's packet layer into our target, with the machine
//! running between reads as under `xv6scope run --gdb`. Neither a panic nor a hang is
//! acceptable: every input ends with the client gone and the server still serving.
//!
//! An input whose first byte is even is a list of packet bodies, one a line, each framed
//! (`$body#checksum`) here so that most reach the target; an odd first byte sends the rest
//! raw (framing, escapes, checksums, Ctrl-C as they come). The seeds are in
//! fuzz/corpus/gdb/; `cargo test --release -p xv6scope --bin xv6scope gdb::fuzz` runs them
//! and seeded mutations, `XV6SCOPE_FUZZ_SECONDS=N ... -- --ignored` fuzzes for N seconds.

use super::server::Server;
use session::Session;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// A server over the bundled kernel (symbols and DWARF for `monitor`), or over a hart
/// spinning on `j .` where this build has none; one client connection per input.
pub struct GdbFuzz {
    server: Server,
}

impl GdbFuzz {
    pub fn new() -> GdbFuzz {
        let config = machine::Config {
            harts: 2,
            ram_mib: 128,
            ..Default::default()
        };
        let (kernel, raw) = match crate::bundled::kernel() {
            Ok(k) => (k.to_vec(), false),
            Err(_) => (vec![0x6f, 0, 0, 0], true),
        };
        let disk = crate::bundled::fs_img().ok().map(|d| d.to_vec());
        let session = Session::new(session::Boot {
            kernel,
            raw,
            disk,
            config,
        })
        .expect("the fuzz session boots");
        let mut server = Server::bind("127.0.0.1:0", false, session).expect("bind on loopback");
        server.set_log(Box::new(|_, _| {}));
        GdbFuzz { server }
    }

    /// One client: connects, sends `data`'s packets, reads every reply, hangs up; the server
    /// runs meanwhile. Returns, once the server has seen the client go, what it replied.
    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        let bytes = frame(data);
        let mut client = TcpStream::connect(self.server.local_addr()).expect("connect");
        let mut reader = client.try_clone().expect("clone");
        let drain = std::thread::spawn(move || {
            let mut got = Vec::new();
            let _ = reader.read_to_end(&mut got);
            got
        });
        // The server only reads once it has accepted; writes go in slices between turns.
        let start = Instant::now();
        let mut sent = 0;
        while sent < bytes.len() && start.elapsed() < Duration::from_secs(10) {
            let _ = self.server.run(20_000);
            let end = (sent + 512).min(bytes.len());
            if client.write_all(&bytes[sent..end]).is_err() {
                break;
            }
            sent = end;
        }
        for _ in 0..20 {
            let _ = self.server.run(20_000);
        }
        let _ = client.shutdown(Shutdown::Both);
        drop(client);
        let start = Instant::now();
        while self.server.attached() && start.elapsed() < Duration::from_secs(10) {
            let _ = self.server.run(20_000);
        }
        assert!(
            !self.server.attached(),
            "the server did not notice the client leave"
        );
        drain.join().unwrap()
    }
}

/// The bytes a client sends for `data` (see the module comment).
fn frame(data: &[u8]) -> Vec<u8> {
    let Some((&first, rest)) = data.split_first() else {
        return Vec::new();
    };
    if first & 1 == 1 {
        return rest.to_vec();
    }
    let mut out = Vec::new();
    for body in rest.split(|&b| b == b'\n') {
        if body == b"\x03" {
            out.push(3);
            continue;
        }
        let sum = body.iter().fold(0u8, |s, &b| s.wrapping_add(b));
        out.push(b'$');
        out.extend_from_slice(body);
        out.extend_from_slice(format!("#{sum:02x}").as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn seeds() -> Vec<Vec<u8>> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/gdb");
        let seeds = xv6scope_fuzz::corpus(&dir);
        assert!(!seeds.is_empty(), "no corpus in {}", dir.display());
        seeds
    }

    #[test]
    fn the_corpus_and_seeded_mutations_neither_panic_nor_hang() {
        let seeds = seeds();
        let mut f = GdbFuzz::new();
        for s in &seeds {
            let reply = String::from_utf8_lossy(&f.feed(s)).into_owned();
            if s.starts_with(b"\0qSupported") {
                // The packets got through to the target: features, then registers.
                assert!(reply.contains("PacketSize="), "{reply}");
                assert!(reply.contains("$T05") || reply.contains("$S05"), "{reply}");
            }
        }
        let mut rng = 0x9db;
        for _ in 0..40 {
            f.feed(&xv6scope_fuzz::mutate(&seeds, &mut rng));
        }
    }

    #[test]
    #[ignore = "long: XV6SCOPE_FUZZ_SECONDS of random gdb clients"]
    fn fuzz_gdb_packets() {
        crate::walk::fuzz::drive("gdb", seeds(), {
            let mut f = GdbFuzz::new();
            move |input| {
                f.feed(input);
            }
        });
    }
}
