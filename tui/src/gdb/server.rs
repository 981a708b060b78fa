//! The TCP side of the gdb server: one listener, at most one attached client, and the run
//! loop that executes what gdb asked for.
//!
//! [`Server::run`] is called by the host's run loop in place of `Machine::run`. Each call
//! accepts a waiting client, feeds the bytes that arrived to gdbstub's state machine, and
//! then — if gdb has resumed the guest — runs one slice (or steps one instruction) and
//! reports a stop if one happened. While gdb holds the guest the call waits up to a few
//! milliseconds for the next packet instead of spinning.
//!
//! Sessions end four ways, and each leaves the guest as it was, its breakpoints removed:
//! `detach` (the guest runs on, as under QEMU), `kill` (xv6scope exits, as QEMU does), the
//! client closing the connection (mid-packet or mid-run alike: the guest runs on), and a
//! protocol error (a malformed packet: a message, the client is dropped). The
//! listener stays open throughout, so gdb can attach again. A second client while one is
//! attached gets an error reply naming the attached client, and is closed. Messages go to
//! stderr, or wherever [`Server::set_log`] says (the TUI's status bar).

use super::{GdbTarget, Resume, breakpoints, tid};
use anyhow::{Context, Result};
use gdbstub::common::Signal;
use gdbstub::conn::Connection;
use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStub, MultiThreadStopReason};
use machine::Stop;
use session::Session;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// How long a halted session waits for the next packet before giving the host loop a turn
/// (console output, host input).
const IDLE_WAIT: Duration = Duration::from_millis(20);
/// A client that does not take our bytes for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Instructions per call while a hart runs alone (one instruction at a time).
const SLOW_STEPS: u64 = 200_000;
/// Instructions a hart run alone (scheduler locking) executes per turn of the server loop.
const SOLO_SLICE: u64 = 200_000;

/// What a call to [`Server::run`] ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The machine stopped (or paused) as `Machine::run` reports it.
    Stop(Stop),
    /// gdb sent `kill`: the host should exit, as QEMU does.
    Kill,
}

/// The client connection as gdbstub writes to it: responses are gathered and sent on
/// `flush`, in blocking mode with a timeout so a stuck client cannot hang the guest forever.
struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
}

impl Connection for Conn {
    type Error = io::Error;

    fn write(&mut self, byte: u8) -> io::Result<()> {
        self.out.push(byte);
        Ok(())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.set_nonblocking(false)?;
        Write::write_all(&mut self.stream, &self.out)?;
        self.out.clear();
        Write::flush(&mut self.stream)
    }

    fn on_session_start(&mut self) -> io::Result<()> {
        self.stream.set_nodelay(true)?;
        self.stream.set_write_timeout(Some(WRITE_TIMEOUT))
    }
}

type Stub = GdbStubStateMachine<'static, GdbTarget, Conn>;

struct Client {
    /// Always Some between calls; taken while a transition consumes it.
    stub: Option<Stub>,
    /// A second handle on the socket, for reading.
    reader: TcpStream,
    peer: SocketAddr,
    /// The client's legacy `c` packets become `vCont;c` (see `legacy`).
    legacy: super::legacy::LegacyContinue,
}

/// Why a session ended.
enum End {
    Detached,
    Killed,
    Closed,
    Exited,
    Error(String),
}

/// Where the server's messages go (attach, detach, errors): stderr for `xv6scope run`, the
/// TUI's status bar when the TUI owns the terminal (stderr would scramble its screen).
/// The flag says whether the message is an error.
pub type Log = Box<dyn FnMut(String, bool) + Send>;

pub struct Server {
    listener: TcpListener,
    local: SocketAddr,
    /// None: stderr.
    log: Option<Log>,
    target: GdbTarget,
    client: Option<Client>,
    /// `--gdb-wait` and no client has attached yet: the guest does not run.
    hold: bool,
    /// A stop not yet told to gdb: it goes out at the start of the next call, after the host
    /// loop has written the console output that came before it (see [`Server::serve`]).
    pending: Option<MultiThreadStopReason<u64>>,
}

/// Parses a gdb address as users write it: `:26000` and `26000` mean 127.0.0.1:26000;
/// QEMU's `tcp::26000` is accepted too; anything else is a host:port.
pub fn parse_addr(text: &str) -> Result<SocketAddr> {
    let t = text.strip_prefix("tcp:").unwrap_or(text);
    let full = if t.starts_with(':') {
        format!("127.0.0.1{t}")
    } else if t.chars().all(|c| c.is_ascii_digit()) {
        format!("127.0.0.1:{t}")
    } else {
        t.to_string()
    };
    full.to_socket_addrs()
        .with_context(|| format!("bad gdb address {text:?} (expected HOST:PORT or :PORT)"))?
        .next()
        .with_context(|| format!("gdb address {text:?} resolves to nothing"))
}

impl Server {
    /// Listens on `addr`; with `wait`, holds the guest at its first instruction until a
    /// client attaches (QEMU's `-S`).
    pub fn bind(addr: &str, wait: bool, mut session: Session) -> Result<Server> {
        // gdb's reverse-stepi and reverse-continue go back through the session's timeline.
        session.set_time_travel(true);
        let sock = parse_addr(addr)?;
        let listener =
            TcpListener::bind(sock).with_context(|| format!("cannot listen for gdb on {sock}"))?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let held = if wait {
            "; the guest waits for gdb to attach"
        } else {
            ""
        };
        eprintln!(
            "xv6scope: gdb server on {local} (gdb-multiarch KERNEL -ex 'target remote {local}'){held}"
        );
        Ok(Server {
            listener,
            local,
            target: GdbTarget::new(session),
            client: None,
            hold: wait,
            pending: None,
            log: None,
        })
    }

    /// Whether a client is attached.
    #[cfg(test)]
    pub fn attached(&self) -> bool {
        self.client.is_some()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends the server's messages to `log` instead of stderr.
    pub fn set_log(&mut self, log: Log) {
        self.log = Some(log);
    }

    /// One message: to the log if there is one, else a line on stderr.
    fn say(&mut self, msg: String, error: bool) {
        match &mut self.log {
            Some(f) => f(msg, error),
            None => eprintln!("xv6scope: {msg}"),
        }
    }

    pub fn session(&mut self) -> &mut Session {
        &mut self.target.session
    }

    pub fn into_session(self) -> Session {
        self.target.session
    }

    /// Serves gdb and runs the machine for at most about `budget` cycles.
    pub fn run(&mut self, budget: u64) -> Event {
        self.accept();
        if self.client.is_none() {
            if self.hold {
                std::thread::sleep(IDLE_WAIT);
                return Event::Stop(Stop::Budget);
            }
            return Event::Stop(self.target.session.run(budget));
        }
        match self.serve(budget) {
            Ok(event) => event,
            Err(end) => self.end_session(end),
        }
    }

    /// Takes a new client, or turns away a second one.
    fn accept(&mut self) {
        loop {
            let (stream, peer) = match self.listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    self.say(format!("gdb: accept failed: {e}"), true);
                    return;
                }
            };
            if let Some(s) = &self.client {
                let msg = format!(
                    "xv6scope: another gdb ({}) is attached; detach it first",
                    s.peer
                );
                let said = format!("gdb: refused {peer}: {} is attached", s.peer);
                refuse(stream, &msg);
                self.say(said, true);
                continue;
            }
            match self.start_session(stream, peer) {
                Ok(()) => self.say(format!("gdb attached from {peer}"), false),
                Err(e) => self.say(
                    format!("gdb: cannot start a session with {peer}: {e}"),
                    true,
                ),
            }
        }
    }

    fn start_session(&mut self, stream: TcpStream, peer: SocketAddr) -> Result<()> {
        stream.set_nonblocking(false)?;
        let reader = stream.try_clone()?;
        let conn = Conn {
            stream,
            out: Vec::new(),
        };
        let t = &mut self.target;
        t.resume = Resume::Continue;
        t.stopped = 0;
        t.phys = false;
        t.xml = Some(super::target_xml::build(&t.session.machine().harts[0]));
        t.attached = Some((Instant::now(), t.session.machine().instret()));
        let stub = GdbStub::new(conn)
            .run_state_machine(t)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        self.client = Some(Client {
            stub: Some(stub),
            reader,
            peer,
            legacy: Default::default(),
        });
        self.hold = false;
        Ok(())
    }

    /// One turn of an attached session.
    fn serve(&mut self, budget: u64) -> Result<Event, End> {
        if let Some(reason) = self.pending.take() {
            self.report(reason)?;
        }
        let halted = matches!(self.stub_ref(), Some(GdbStubStateMachine::Idle(_)));
        let bytes = self.read_client(halted.then_some(IDLE_WAIT))?;
        let bytes = match self.client.as_mut() {
            Some(c) => c.legacy.rewrite(&bytes),
            None => bytes,
        };
        for b in bytes {
            self.feed(b)?;
        }
        let t = &mut self.target;
        let Some(GdbStubStateMachine::Running(_)) =
            self.client.as_ref().and_then(|s| s.stub.as_ref())
        else {
            return Ok(Event::Stop(Stop::Budget));
        };
        let (stop, reason) = match t.resume {
            Resume::Step(h) if t.session.machine().harts[h].is_waiting() => step_waiting(t, h),
            Resume::Step(h) => {
                let stop = t.session.step_instruction(h);
                t.stopped = h;
                (
                    stop,
                    Some(MultiThreadStopReason::SignalWithThread {
                        tid: tid(h),
                        signal: Signal::SIGTRAP,
                    }),
                )
            }
            Resume::Continue => {
                // The tracer's own stops are consumed by the session: run on.
                let stop = t.session.run(budget);
                (stop, stop_reason(t, stop))
            }
            Resume::Solo(h) => solo_run(t, h),
            Resume::ReverseStep(h) => {
                let r = t.session.reverse_step(h);
                reversed(t, r, Some(h))
            }
            Resume::ReverseCont => {
                let r = t.session.reverse_continue();
                reversed(t, r, None)
            }
        };
        let reason = match stop {
            Stop::PowerOff { code } => Some(MultiThreadStopReason::Exited(code.min(255) as u8)),
            Stop::Htif { value } => Some(MultiThreadStopReason::Exited(if value == 1 {
                0
            } else {
                (value >> 1).clamp(1, 255) as u8
            })),
            Stop::Reset => Some(MultiThreadStopReason::Exited(0)),
            _ => reason,
        };
        self.send_traced();
        if let Some(e) = self.target.reverse_error.take() {
            self.say(format!("gdb: cannot go back: {e}"), true);
        }
        // A breakpoint, watchpoint or step is told to gdb on the next call, once the host has
        // written out the console output of this slice: a client that reads the console and
        // stops at the breakpoint (the grade scripts) sees what the guest printed before it,
        // as QEMU, whose console output is synchronous, shows it.
        let exited = matches!(
            stop,
            Stop::PowerOff { .. } | Stop::Htif { .. } | Stop::Reset
        );
        let reason = match reason {
            Some(r) if !exited => {
                self.pending = Some(r);
                None
            }
            other => other,
        };
        if let Some(reason) = reason
            && let Err(end) = self.report(reason)
        {
            // The session ends (the guest exited, or the client went away), but the
            // host loop must still see why the machine stopped: a power-off ends it.
            let event = self.end_session(end);
            return Ok(if event == Event::Kill {
                event
            } else {
                Event::Stop(stop)
            });
        }
        Ok(Event::Stop(stop))
    }

    /// Prints the system calls the tracer completed in gdb's console (`O` packets, which a
    /// stub may send while the target runs).
    fn send_traced(&mut self) {
        let lines: Vec<String> = self
            .target
            .session
            .take_records()
            .iter()
            .map(|r| r.to_string())
            .collect();
        let Some(s) = &self.client else { return };
        if lines.is_empty() || !matches!(s.stub, Some(GdbStubStateMachine::Running(_))) {
            return;
        }
        let mut w = &s.reader;
        for line in lines {
            let hex: String = format!("strace: {line}\n")
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect();
            let _ = Write::write_all(&mut w, packet(&format!("O{hex}")).as_bytes());
        }
    }

    fn stub_ref(&self) -> Option<&Stub> {
        self.client.as_ref().and_then(|s| s.stub.as_ref())
    }

    /// Reads what the client sent: waits up to `wait` for the first byte, or not at all.
    fn read_client(&mut self, wait: Option<Duration>) -> Result<Vec<u8>, End> {
        let Some(s) = self.client.as_mut() else {
            return Ok(Vec::new());
        };
        let r = &mut s.reader;
        let setup = match wait {
            Some(d) => r
                .set_nonblocking(false)
                .and_then(|_| r.set_read_timeout(Some(d))),
            None => r.set_nonblocking(true),
        };
        setup.map_err(|e| End::Error(format!("socket: {e}")))?;
        let mut buf = [0u8; 4096];
        let got = r.read(&mut buf);
        // Writes go through the same socket: give them blocking mode back.
        let _ = r.set_nonblocking(false);
        match got {
            Ok(0) => Err(End::Closed),
            Ok(n) => Ok(buf[..n].to_vec()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(Vec::new())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) =>
            {
                Err(End::Closed)
            }
            Err(e) => Err(End::Error(format!("read: {e}"))),
        }
    }

    /// Feeds one byte to the protocol state machine and settles the state it leads to.
    fn feed(&mut self, byte: u8) -> Result<(), End> {
        let Some(client) = self.client.as_mut() else {
            return Ok(());
        };
        let Some(stub) = client.stub.take() else {
            return Err(End::Error("lost protocol state".into()));
        };
        let t = &mut self.target;
        let next = match stub {
            GdbStubStateMachine::Idle(s) => s.incoming_data(t, byte),
            GdbStubStateMachine::Running(s) => s.incoming_data(t, byte),
            // Settled below right after it appears; nothing else can be pending here.
            other => Ok(other),
        };
        let next = next.map_err(|e| End::Error(format!("protocol error: {e}")))?;
        self.settle(next)
    }

    /// Answers an interrupt at once, and turns a disconnect into the end of the session.
    fn settle(&mut self, stub: Stub) -> Result<(), End> {
        let t = &mut self.target;
        let stub = match stub {
            GdbStubStateMachine::CtrlCInterrupt(s) => {
                // Report the hart that would execute next (the one "running" now), as QEMU
                // reports the CPU it interrupted; the hart of the last stop if all wait.
                if let Some(h) = t.session.machine_mut().scheduled_hart() {
                    t.stopped = h;
                }
                let reason = MultiThreadStopReason::SignalWithThread {
                    tid: tid(t.stopped),
                    signal: Signal::SIGINT,
                };
                s.interrupt_handled(t, Some(reason))
                    .map_err(|e| End::Error(format!("protocol error: {e}")))?
            }
            GdbStubStateMachine::Disconnected(s) => {
                return Err(match s.get_reason() {
                    DisconnectReason::Kill => End::Killed,
                    DisconnectReason::Disconnect => End::Detached,
                    DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_) => {
                        End::Exited
                    }
                });
            }
            other => other,
        };
        if let Some(client) = self.client.as_mut() {
            client.stub = Some(stub);
        }
        Ok(())
    }

    /// Reports a stop to gdb (the session must be running).
    fn report(&mut self, reason: MultiThreadStopReason<u64>) -> Result<(), End> {
        let Some(client) = self.client.as_mut() else {
            return Ok(());
        };
        let Some(stub) = client.stub.take() else {
            return Err(End::Error("lost protocol state".into()));
        };
        let next = match stub {
            GdbStubStateMachine::Running(s) => s
                .report_stop(&mut self.target, reason)
                .map_err(|e| End::Error(format!("protocol error: {e}")))?,
            other => other,
        };
        self.settle(next)
    }

    /// Closes the session: the guest keeps its state, the session's breakpoints go.
    fn end_session(&mut self, end: End) -> Event {
        let client = self.client.take();
        self.pending = None;
        if let (End::Error(e), Some(s)) = (&end, &client) {
            // Tell the client why, as an error reply it may print; it may be gone already.
            let mut w = &s.reader;
            let _ = Write::write_all(
                &mut w,
                packet(&format!("E.xv6scope: {e}; disconnecting")).as_bytes(),
            );
        }
        let peer = client.map(|s| s.peer.to_string()).unwrap_or_default();
        self.target.drop_breakpoints();
        // The client's trace goes with it (its records went to its console).
        self.target.session.strace_off();
        self.target.session.take_records();
        self.target.attached = None;
        self.target.phys = false;
        let local = self.local;
        match end {
            End::Detached => self.say(format!("gdb {peer} detached; the guest runs on"), false),
            End::Closed => self.say(
                format!("gdb {peer} closed the connection; the guest runs on"),
                false,
            ),
            End::Exited => self.say(format!("gdb {peer}: the guest exited"), false),
            End::Error(e) => self.say(
                format!(
                    "gdb {peer}: {e}; client dropped, the guest runs on, still listening on {local}"
                ),
                true,
            ),
            End::Killed => {
                self.say(format!("gdb {peer} killed the guest"), false);
                return Event::Kill;
            }
        }
        Event::Stop(Stop::Budget)
    }
}

/// A step of a hart that sits in `wfi`: nothing happens on that hart until an interrupt
/// wakes it, so the machine runs on, one instruction at a time in its normal order (other
/// harts stop at breakpoints as usual), until the hart has executed an instruction again —
/// the first of its trap handler. Stepping it in place would never make progress and would
/// leave gdb's `next` spinning.
fn step_waiting(t: &mut GdbTarget, h: usize) -> (Stop, Option<MultiThreadStopReason<u64>>) {
    let start = t.session.machine().harts[h].cycles();
    for _ in 0..SLOW_STEPS {
        if t.session.machine_mut().scheduled_hart().is_none() {
            return (Stop::Idle, None);
        }
        match t.session.run(1) {
            Stop::Budget => {}
            Stop::Breakpoint { hart } => {
                t.stopped = hart;
                return (
                    Stop::Breakpoint { hart },
                    Some(MultiThreadStopReason::SwBreak(tid(hart))),
                );
            }
            other => return (other, None),
        }
        if t.session.machine().harts[h].cycles() != start {
            t.stopped = h;
            return (
                Stop::Budget,
                Some(MultiThreadStopReason::SignalWithThread {
                    tid: tid(h),
                    signal: Signal::SIGTRAP,
                }),
            );
        }
    }
    (Stop::Budget, None)
}

/// Runs hart `h` alone (gdb's scheduler locking), its breakpoints and watchpoints armed as
/// in a normal run (`Session::run_hart`).
fn solo_run(t: &mut GdbTarget, h: usize) -> (Stop, Option<MultiThreadStopReason<u64>>) {
    let stop = t.session.run_hart(h, SOLO_SLICE);
    (stop, stop_reason(t, stop))
}

/// What gdb is told after a reverse operation: the stop it reached, or the beginning of the
/// replay log. A failure (time travel off, no snapshot that early) is said in the log and
/// reported as the beginning, where gdb stops reversing.
fn reversed(
    t: &mut GdbTarget,
    r: Result<session::Reversed, String>,
    hart: Option<usize>,
) -> (Stop, Option<MultiThreadStopReason<u64>>) {
    use gdbstub::target::ext::base::reverse_exec::ReplayLogPosition;
    let begin = |h: Option<usize>| {
        Some(MultiThreadStopReason::ReplayLog {
            tid: h.map(tid),
            pos: ReplayLogPosition::Begin,
        })
    };
    match r {
        Ok(session::Reversed::At { hart: h, stop }) => {
            t.stopped = h;
            let reason = stop_reason(t, stop).or(Some(MultiThreadStopReason::SignalWithThread {
                tid: tid(h),
                signal: Signal::SIGTRAP,
            }));
            (Stop::Budget, reason)
        }
        Ok(session::Reversed::Start) => (Stop::Budget, begin(hart)),
        Err(e) => {
            t.reverse_error = Some(e);
            (Stop::Budget, begin(hart))
        }
    }
}

/// What gdb is told of a breakpoint or watchpoint stop (None for other stops); the hart
/// becomes the one of the last stop.
fn stop_reason(t: &mut GdbTarget, stop: Stop) -> Option<MultiThreadStopReason<u64>> {
    match stop {
        Stop::Watchpoint { hart, addr, kind } => {
            t.stopped = hart;
            Some(MultiThreadStopReason::Watch {
                tid: tid(hart),
                kind: breakpoints::gdb_watch_kind(kind),
                addr,
            })
        }
        Stop::Breakpoint { hart } => {
            t.stopped = hart;
            let pc = t.session.machine().harts[hart].pc;
            Some(if t.hw.contains(&pc) && !t.sw.contains(&pc) {
                MultiThreadStopReason::HwBreak(tid(hart))
            } else {
                MultiThreadStopReason::SwBreak(tid(hart))
            })
        }
        _ => None,
    }
}

/// Tells a second client why it cannot attach: an error reply to its first packet.
fn refuse(mut stream: TcpStream, msg: &str) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 1024];
    let _ = stream.read(&mut buf);
    let _ = Write::write_all(
        &mut stream,
        format!("+{}", packet(&format!("E.{msg}"))).as_bytes(),
    );
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// `body` framed as a remote-protocol packet. `$`, `#`, `}` and `*` would need escaping; the
/// texts sent here are plain words, so those characters are replaced.
fn packet(body: &str) -> String {
    let body: String = body
        .chars()
        .map(|c| {
            if matches!(c, '$' | '#' | '}' | '*') {
                '?'
            } else {
                c
            }
        })
        .collect();
    let sum = body.bytes().fold(0u8, |a, b| a.wrapping_add(b));
    format!("${body}#{sum:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_users_write_them() {
        assert_eq!(
            parse_addr(":26000").ok(),
            Some("127.0.0.1:26000".parse().expect("addr"))
        );
        assert_eq!(
            parse_addr("26001").ok(),
            Some("127.0.0.1:26001".parse().expect("addr"))
        );
        assert_eq!(
            parse_addr("tcp::1234").ok(),
            Some("127.0.0.1:1234".parse().expect("addr"))
        );
        assert_eq!(
            parse_addr("0.0.0.0:9").ok(),
            Some("0.0.0.0:9".parse().expect("addr"))
        );
        assert!(parse_addr("nonsense").is_err());
    }

    #[test]
    fn packets_carry_their_checksum() {
        assert_eq!(packet("OK"), "$OK#9a");
        assert_eq!(packet("E.a#b"), "$E.a?b#75");
    }

    #[test]
    fn messages_go_to_the_log_when_one_is_set() {
        // One hart spinning on `j .` (jal x0, 0).
        let config = machine::Config {
            harts: 1,
            ram_mib: 16,
            ..Default::default()
        };
        let s = Session::new(session::Boot {
            kernel: vec![0x6f, 0, 0, 0],
            raw: true,
            disk: None,
            config,
        })
        .expect("a machine");
        let mut server = Server::bind("127.0.0.1:0", false, s).expect("bind");
        let (tx, rx) = std::sync::mpsc::channel();
        server.set_log(Box::new(move |text, error| {
            let _ = tx.send((text, error));
        }));
        let wait_for = |server: &mut Server, want: &str| {
            for _ in 0..500 {
                let _ = server.run(1000);
                if let Ok((text, error)) = rx.try_recv() {
                    assert!(text.contains(want) && !error, "{text:?}");
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            panic!("no message {want:?}");
        };
        let client = TcpStream::connect(server.local_addr()).expect("connect");
        wait_for(&mut server, "gdb attached from 127.0.0.1:");
        drop(client);
        wait_for(&mut server, "closed the connection; the guest runs on");
    }
}
