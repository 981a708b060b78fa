//! Recordings: a run that replays exactly, in another process, at any position.
//!
//! A recording holds what the machine cannot reproduce by itself — the kernel image, the disk
//! image as it was at boot, the board's configuration, and the timeline's events (console
//! input and a debugger's steps, each at its position) — plus the position the run ended at
//! and the console output it printed, so that a replay can be checked against the run.
//!
//! Format (little-endian): the magic `XV6SCOPE-REC`, a version (u32), then sections of
//! `tag (4 bytes) · length (u64) · bytes`: `CONF` (harts, MiB of RAM, legacy virtio, quantum,
//! raw image, and the contention mode's seed when there is one), `KERN`, `DISK` (absent for none), `NETW` (empty; present when the run had the
//! net lab's network attached at boot), `EVNT` (count, then per event its position,
//! a kind byte and its data), `ENDP` (the end position), `CONS` (console output), and last
//! `SUM ` (FNV-1a 64 of every byte before it). Reading checks every length against what is
//! left, so a truncated or corrupt file is a one-line error, never a panic.

use crate::session::{Boot, Session};
use crate::timeline::{Event, Mark, Reg};
use machine::Config;

const MAGIC: &[u8; 12] = b"XV6SCOPE-REC";
const VERSION: u32 = 2;
/// Largest section accepted (a kernel, a disk image, the console): 1 GiB.
const MAX_SECTION: u64 = 1 << 30;

/// A recorded run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    pub boot: Boot,
    pub events: Vec<(Mark, Event)>,
    /// The position the run ended at.
    pub end: u64,
    /// The console output of the run, from boot to `end`.
    pub console: Vec<u8>,
    /// The run had the network (PCIe, e1000, user-mode network) attached at boot; the
    /// host's datagrams are among the events.
    pub net: bool,
}

/// Why a file is not a recording this version can replay.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordingError {
    #[error("not an xv6scope recording")]
    NotARecording,
    #[error("recording version {0} (this xv6scope reads version {VERSION})")]
    Version(u32),
    #[error("the recording is truncated")]
    Truncated,
    #[error("the recording is corrupt (checksum mismatch)")]
    Checksum,
    #[error("the recording is malformed: {0}")]
    Malformed(String),
}

impl PartialEq for Boot {
    fn eq(&self, o: &Boot) -> bool {
        let (a, b) = (&self.config, &o.config);
        self.kernel == o.kernel
            && self.raw == o.raw
            && self.disk == o.disk
            && (a.harts, a.ram_mib, a.virtio_legacy, a.quantum)
                == (b.harts, b.ram_mib, b.virtio_legacy, b.quantum)
    }
}

impl Eq for Boot {}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn section(out: &mut Vec<u8>, tag: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(tag);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
}

impl Recording {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        let c = &self.boot.config;
        let mut conf = Vec::new();
        for v in [
            c.harts as u64,
            c.ram_mib,
            c.virtio_legacy as u64,
            c.quantum,
            self.boot.raw as u64,
        ] {
            conf.extend_from_slice(&v.to_le_bytes());
        }
        // Contention mode's seed, after the fields every version has.
        if let Some(seed) = c.interleave {
            conf.extend_from_slice(&seed.to_le_bytes());
        }
        section(&mut out, b"CONF", &conf);
        section(&mut out, b"KERN", &self.boot.kernel);
        if let Some(d) = &self.boot.disk {
            section(&mut out, b"DISK", d);
        }
        if self.net {
            section(&mut out, b"NETW", &[]);
        }
        let mut ev = (self.events.len() as u64).to_le_bytes().to_vec();
        for (at, e) in &self.events {
            ev.extend_from_slice(&at.pos.to_le_bytes());
            ev.extend_from_slice(&at.elapsed.to_le_bytes());
            match e {
                Event::Input(bytes) => {
                    ev.push(0);
                    ev.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                    ev.extend_from_slice(bytes);
                }
                Event::Step(h) => {
                    ev.push(1);
                    ev.extend_from_slice(&(*h as u64).to_le_bytes());
                }
                Event::RunHart(h, n) => {
                    ev.push(2);
                    ev.extend_from_slice(&(*h as u64).to_le_bytes());
                    ev.extend_from_slice(&n.to_le_bytes());
                }
                Event::WriteReg { hart, reg, value } => {
                    ev.push(3);
                    ev.extend_from_slice(&(*hart as u64).to_le_bytes());
                    let (kind, n) = match reg {
                        Reg::X(n) => (0u8, u64::from(*n)),
                        Reg::Pc => (1, 0),
                        Reg::Csr(n) => (2, u64::from(*n)),
                        Reg::Priv => (3, 0),
                    };
                    ev.push(kind);
                    ev.extend_from_slice(&n.to_le_bytes());
                    ev.extend_from_slice(&value.to_le_bytes());
                }
                Event::WritePhys { addr, bytes } => {
                    ev.push(4);
                    ev.extend_from_slice(&addr.to_le_bytes());
                    ev.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                    ev.extend_from_slice(bytes);
                }
                Event::Datagram(d) => {
                    ev.push(5);
                    ev.extend_from_slice(&u64::from(d.guest_port).to_le_bytes());
                    ev.extend_from_slice(&u64::from(u32::from(*d.remote.ip())).to_le_bytes());
                    ev.extend_from_slice(&u64::from(d.remote.port()).to_le_bytes());
                    ev.extend_from_slice(&(d.payload.len() as u64).to_le_bytes());
                    ev.extend_from_slice(&d.payload);
                }
            }
        }
        section(&mut out, b"EVNT", &ev);
        section(&mut out, b"ENDP", &self.end.to_le_bytes());
        section(&mut out, b"CONS", &self.console);
        let sum = fnv1a(&out);
        section(&mut out, b"SUM ", &sum.to_le_bytes());
        out
    }

    /// Reads a file's bytes.
    pub fn decode(bytes: &[u8]) -> Result<Recording, RecordingError> {
        use RecordingError::*;
        if bytes.len() < 16 || &bytes[..12] != MAGIC {
            return Err(NotARecording);
        }
        let version = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
        // Version 1 is version 2 without debugger writes among its events.
        if version != VERSION && version != 1 {
            return Err(Version(version));
        }
        let mut at = 16;
        let (mut conf, mut kern, mut disk, mut evnt, mut endp, mut cons, mut netw) =
            (None, None, None, None, None, None, None);
        loop {
            if bytes.len() - at < 12 {
                return Err(Truncated);
            }
            let tag: [u8; 4] = bytes[at..at + 4].try_into().expect("4 bytes");
            let len = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().expect("8 bytes"));
            if len > MAX_SECTION {
                return Err(Malformed(format!("a section of {len} bytes")));
            }
            let start = at + 12;
            let end = start.checked_add(len as usize).ok_or(Truncated)?;
            if end > bytes.len() {
                return Err(Truncated);
            }
            let body = &bytes[start..end];
            if &tag == b"SUM " {
                let want = fnv1a(&bytes[..at]);
                if body.len() != 8 || u64::from_le_bytes(body.try_into().expect("8")) != want {
                    return Err(Checksum);
                }
                if end != bytes.len() {
                    return Err(Malformed("bytes after the checksum".into()));
                }
                break;
            }
            let slot = match &tag {
                b"CONF" => &mut conf,
                b"KERN" => &mut kern,
                b"DISK" => &mut disk,
                b"EVNT" => &mut evnt,
                b"ENDP" => &mut endp,
                b"CONS" => &mut cons,
                b"NETW" => &mut netw,
                other => {
                    return Err(Malformed(format!(
                        "unknown section {:?}",
                        String::from_utf8_lossy(other)
                    )));
                }
            };
            if slot.replace(body).is_some() {
                return Err(Malformed("a section twice".into()));
            }
            at = end;
        }
        fn need<'a>(s: Option<&'a [u8]>, what: &str) -> Result<&'a [u8], RecordingError> {
            s.ok_or_else(|| RecordingError::Malformed(format!("no {what}")))
        }
        let mut r = Reader(need(conf, "configuration")?);
        let config = Config {
            harts: r.u64()? as usize,
            ram_mib: r.u64()?,
            virtio_legacy: r.u64()? != 0,
            quantum: r.u64()?,
            interleave: None,
            // Not recorded: both tiers give the same run.
            tier: Default::default(),
        };
        let raw = r.u64()? != 0;
        let config = Config {
            interleave: if r.0.is_empty() { None } else { Some(r.u64()?) },
            ..config
        };
        let mut r = Reader(need(evnt, "events")?);
        let count = r.u64()?;
        let mut events = Vec::new();
        for _ in 0..count {
            let pos = Mark {
                pos: r.u64()?,
                elapsed: r.u64()?,
            };
            let e = match r.byte()? {
                0 => {
                    let n = r.u64()?;
                    Event::Input(r.bytes(n)?.to_vec())
                }
                1 => Event::Step(r.u64()? as usize),
                2 => Event::RunHart(r.u64()? as usize, r.u64()?),
                3 => {
                    let hart = r.u64()? as usize;
                    let kind = r.byte()?;
                    let n = r.u64()?;
                    let reg = match (kind, u8::try_from(n), u16::try_from(n)) {
                        (0, Ok(x), _) if x < 32 => Reg::X(x),
                        (1, ..) => Reg::Pc,
                        (2, _, Ok(c)) => Reg::Csr(c),
                        (3, ..) => Reg::Priv,
                        _ => return Err(Malformed(format!("register kind {kind} number {n}"))),
                    };
                    Event::WriteReg {
                        hart,
                        reg,
                        value: r.u64()?,
                    }
                }
                4 => {
                    let addr = r.u64()?;
                    let n = r.u64()?;
                    Event::WritePhys {
                        addr,
                        bytes: r.bytes(n)?.to_vec(),
                    }
                }
                5 => {
                    let port =
                        |n: u64| u16::try_from(n).map_err(|_| Malformed(format!("port {n}")));
                    let guest_port = port(r.u64()?)?;
                    let ip = u32::try_from(r.u64()?)
                        .map_err(|_| Malformed("datagram address".into()))?;
                    let remote_port = port(r.u64()?)?;
                    let n = r.u64()?;
                    Event::Datagram(machine::net::slirp::Datagram {
                        guest_port,
                        remote: std::net::SocketAddrV4::new(ip.into(), remote_port),
                        payload: r.bytes(n)?.to_vec(),
                    })
                }
                k => return Err(Malformed(format!("event kind {k}"))),
            };
            if events
                .last()
                .is_some_and(|(p, _): &(Mark, Event)| p.pos > pos.pos)
            {
                return Err(Malformed("events out of order".into()));
            }
            events.push((pos, e));
        }
        let end = Reader(need(endp, "end position")?).u64()?;
        Ok(Recording {
            boot: Boot {
                kernel: need(kern, "kernel")?.to_vec(),
                raw,
                disk: disk.map(<[u8]>::to_vec),
                config,
            },
            events,
            end,
            console: need(cons, "console")?.to_vec(),
            net: netw.is_some(),
        })
    }
}

/// Reads a section's fields in order; running out is a malformed file.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes(&mut self, n: u64) -> Result<&[u8], RecordingError> {
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.0.len())
            .ok_or_else(|| RecordingError::Malformed("a field runs past its section".into()))?;
        let (head, rest) = self.0.split_at(n);
        let head: &[u8] = head;
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, RecordingError> {
        Ok(u64::from_le_bytes(
            self.bytes(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn byte(&mut self) -> Result<u8, RecordingError> {
        Ok(self.bytes(1)?[0])
    }
}

impl Session {
    /// The run so far as a recording: boot inputs, the events of the current history up to
    /// the machine's position, that position, and `console` (what the front end showed).
    /// Err when the timeline was not on from boot (the history would be incomplete).
    pub fn recording(&self, console: &[u8]) -> Result<Recording, String> {
        let t = &self.timeline;
        if !t.on || t.snapshot_positions().first() != Some(&0) {
            return Err("recording needs the timeline on from boot".into());
        }
        Ok(Recording {
            boot: self.boot().clone(),
            events: t.history().to_vec(),
            end: self.position(),
            console: console.to_vec(),
            net: self.machine().net().is_some(),
        })
    }

    /// A session at the start of a recorded run, its history loaded: running forward follows
    /// it, and `goto` reaches any position up to its end.
    pub fn from_recording(rec: &Recording) -> Result<Session, crate::Error> {
        let mut s = Session::new(rec.boot.clone())?;
        if rec.net {
            s.attach_net();
        }
        s.set_time_travel(true);
        s.timeline.load_history(rec.events.clone(), rec.end);
        Ok(s)
    }

    /// The whole run up to the present as a recording (the machine goes to the present
    /// first). `console` is the live run's console output when it is exactly the output of
    /// this history (nothing was replayed or changed in the past); None replays the run in
    /// a fresh session to get it.
    pub fn recording_to_present(&mut self, console: Option<&[u8]>) -> Result<Recording, String> {
        self.goto_present()?;
        let mut rec = self.recording(&[])?;
        let t = &self.timeline;
        rec.events = t
            .history()
            .iter()
            .chain(t.events_ahead())
            .filter(|(at, _)| at.pos <= rec.end)
            .cloned()
            .collect();
        rec.console = match console {
            Some(c) => c.to_vec(),
            None => Session::replayed_console(&rec)?,
        };
        Ok(rec)
    }

    /// Replays a recording to its end in a fresh session: its console output.
    fn replayed_console(rec: &Recording) -> Result<Vec<u8>, String> {
        let mut s = Session::from_recording(rec).map_err(|e| e.to_string())?;
        let mut console = Vec::new();
        let mut stalled = 0;
        while s.position() < rec.end {
            let before = s.position();
            let stop = s.run(rec.end - before);
            console.extend(s.take_output());
            if let machine::Stop::PowerOff { .. }
            | machine::Stop::Reset
            | machine::Stop::Htif { .. } = stop
            {
                break;
            }
            stalled = if s.position() == before {
                stalled + 1
            } else {
                0
            };
            if stalled > 1000 {
                return Err(format!(
                    "the replay stalled at position {before} (next event {:?}, stop {stop:?})",
                    s.timeline.events_ahead().first()
                ));
            }
        }
        if s.position() != rec.end {
            return Err(format!(
                "the replay ended at position {}, the run at {}",
                s.position(),
                rec.end
            ));
        }
        Ok(console)
    }

    /// Replays a recording to its end and compares: the console output and the position.
    /// Err names the first difference.
    pub fn check_recording(rec: &Recording) -> Result<(), String> {
        let console = Session::replayed_console(rec)?;
        if console != rec.console {
            let at = console
                .iter()
                .zip(&rec.console)
                .position(|(a, b)| a != b)
                .unwrap_or(console.len().min(rec.console.len()));
            return Err(format!(
                "the console differs from byte {at} on ({} bytes replayed, {} recorded)",
                console.len(),
                rec.console.len()
            ));
        }
        Ok(())
    }
}
