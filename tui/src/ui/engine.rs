//! The machine thread: runs the guest in slices and reports it to the UI as snapshots.
//!
//! Interface: [`spawn`] moves a booted [`Host`] (a session, bare or under the gdb server)
//! onto a new thread; the thread reads [`Request`]s and sends [`Event`]s. Everything it does
//! to the machine goes through the session (`session::Session`): running, stepping,
//! breakpoints (the user's are owner `User(N)`), the syscall trace, the views whose text
//! renderers fill the process, fd and page-table panes.
//!
//! Pacing: while the guest runs, a snapshot goes out every [`FRAME`] (the costly views —
//! `ps`, `fds`, `pt` — every [`SLOW_FRAME`]); while it is stopped, only after something
//! changed. Between slices the thread only polls the request channel (no allocation, no
//! locking), so an idle UI costs the guest nothing but that poll. When every hart waits
//! for input ([`Stop::Idle`]) the thread sleeps on the request channel, as `xv6scope run`
//! sleeps on stdin.
//!
//! Which process the process, fd and page-table panes show: the one the user selected, else
//! the one on the shown hart, else (the hart idles in the scheduler) the newest living
//! process — after `ls` at the shell prompt that is the shell, not an empty pane.
//!
//! Invariants: a step never leaves the guest running; every stop bumps `stop_seq`; only a
//! stop at one of the user's breakpoints stops the TUI (a gdb client's stops are gdb's).

use super::command::Expr;
use super::event::{Event, MemView, PtView, Request, Snapshot, Source, WalkView};
use crate::gdb::Host;
use crate::walk::format::Walk;
use crate::walk::player::{self, Player, Progress};
use machine::Stop;
use session::inspect::pagetable;
use session::inspect::state::HartState;
use session::inspect::strace::{Filter, Record};
use session::inspect::symbols::Symbols;
use session::{Owner, StepKind};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

/// Cycles per slice between request polls (a few milliseconds of host time).
const SLICE: u64 = 1_000_000;
/// Snapshot period while running (20 Hz).
const FRAME: Duration = Duration::from_millis(50);
/// Instructions between looks at the host clock while running (about 5 ms of guest).
const CLOCK_EVERY: u64 = 1_000_000;
/// System calls a second above which a hidden trace is read late (see
/// `Engine::trace_exactness`); below half of it, exact again.
const LATE_RATE: f64 = 2000.0;
/// Period of the costly views while running.
const SLOW_FRAME: Duration = Duration::from_millis(500);
/// Most host time a step over a call runs the guest.
const OVER_LIMIT: Duration = Duration::from_secs(5);
/// Source lines shown around the current one.
const SOURCE_CONTEXT: usize = 40;

/// What the thread needs besides the session.
pub struct Setup {
    pub host: Host,
    /// Where the disk goes back on exit, if anywhere.
    pub disk_path: Option<PathBuf>,
    /// End (as a power-off would) once the guest retired this many instructions: the speed
    /// measurement of `ui::measure`.
    pub stop_at: Option<u64>,
    /// A walkthrough to play ("back" boots the session's machine again).
    pub walk: Option<Walk>,
    /// Start stopped, saying why, with this console text already shown (a recording
    /// opened at a position).
    pub held: Option<(String, Vec<u8>)>,
    /// The host's sockets of the net lab's network (`--net`).
    pub net: Option<crate::net::HostNet>,
    /// Write the run, up to the present, as a recording to this file on exit (`--record`).
    pub record: Option<PathBuf>,
}

/// The recording being made (`--record`): where it goes, and the console output of the
/// live run while that is the output of the run's history.
struct Recorder {
    path: PathBuf,
    /// None once the console of the live run is no longer that of the history (the
    /// machine went back in time, or it grew too long): it is replayed on exit instead.
    console: Option<Vec<u8>>,
}

/// Console bytes a recorder keeps before it leaves them to the replay on exit.
const RECORDED_CONSOLE_MAX: usize = 64 << 20;

/// A walkthrough being played on the machine thread.
struct WalkState {
    walk: Walk,
    /// Steps played (the one shown is `at`, from 1; 0 before the first).
    at: usize,
    progress: Progress,
    /// How much of `progress.console` and `progress.records` went to the UI already.
    console_sent: usize,
    records_sent: usize,
    outcomes: Vec<(bool, String)>,
    error: Option<String>,
    /// Where each step played so far stopped (a mark on the session's timeline), with the
    /// progress and outcomes then: "back" goes there without booting again.
    stops: Vec<WalkStop>,
}

/// Where a played step stopped: its mark on the timeline, the walk's progress then, and the
/// step's outcomes.
type WalkStop = (session::Mark, Progress, Vec<(bool, String)>);

/// Starts the machine thread; it ends after a [`Request::Quit`] or the guest's power-off
/// (either way an [`Event::Exited`] is its last message).
pub fn spawn(
    setup: Setup,
    requests: Receiver<Request>,
    events: Sender<Event>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut e = Engine::new(setup, events);
        e.main(requests);
    })
}

struct Engine {
    /// `--record`: the run goes to a file on exit.
    recorder: Option<Recorder>,
    host: Host,
    /// The host's sockets of the net lab's network, pumped after each slice.
    net: Option<crate::net::HostNet>,
    events: Sender<Event>,
    /// Writes the disk back while the guest runs and at exit (`crate::disk`).
    persist: Option<crate::disk::Persist>,
    /// SIGTERM, SIGHUP (a closed terminal), SIGINT: end cleanly, the disk written back.
    signals: crate::signals::Stop,
    running: bool,
    /// The guest halted (no wake-up source) and the status bar said so.
    told_halted: bool,
    stop_seq: u64,
    stop_reason: String,
    hart: usize,
    selected: Option<i64>,
    console: Vec<u8>,
    /// Completed system calls not yet sent (the UI formats them, off this thread).
    strace: Vec<Arc<Record>>,
    files: HashMap<String, Option<Vec<String>>>,
    last_sent: Instant,
    last_slow: Instant,
    mips_at: (Instant, u64),
    mips: f64,
    /// instret when the clock was last read (see [`Engine::maybe_send`]).
    clock_checked: u64,
    /// System calls traced since `trace_since`, and the rate of the last period.
    trace_count: u64,
    trace_since: Instant,
    trace_rate: f64,
    dirty: bool,
    /// The page table at the last stop: whose (the views' name of the address space: a
    /// pid, `kernel`, `kpt:PID`), the stop, the tree, and its changes from the stop before.
    pt_last: Option<(String, u64, pagetable::Tree, PtChanges)>,
    /// The page-table pane shows the kernel's table (`pt kernel`).
    pt_kernel: bool,
    /// The page-table pane shows this process's own kernel page table (`pt PID kernel`, the
    /// 2020 pgtbl lab's `kpagetable`).
    pt_kpt: Option<i64>,
    /// What the memory pane follows (`x/Ngx EXPR`): count, expression, physical.
    watch: Option<(usize, Expr, bool)>,
    /// Which costly views are on screen: (processes and fds, page table, syscalls).
    visible: (bool, bool, bool),
    stop_at: Option<u64>,
    walk: Option<WalkState>,
    /// When the guest started, the host-clock reference for idle waits.
    started: Instant,
}

impl Engine {
    fn new(setup: Setup, events: Sender<Event>) -> Engine {
        let mut host = setup.host;
        if let Host::Gdb(server) = &mut host {
            // The TUI owns the terminal: the server's messages go to the status bar.
            let tx = events.clone();
            let addr = server.local_addr();
            server.set_log(Box::new(move |text, error| {
                let _ = tx.send(Event::Message { text, error });
            }));
            let _ = events.send(Event::Message {
                text: format!("gdb server on {addr} (target remote {addr})"),
                error: false,
            });
        }
        // Idle harts stop the run so that the thread can wait for keys and keep guest time
        // from running ahead of the host clock; a measurement (`stop_at`) has all its input
        // from the start, and runs through idle time as `xv6scope run --input` does.
        host.session().set_idle_stops(setup.stop_at.is_none());
        // The timeline (reverse step, reverse continue, goto) is on, but for a measurement.
        host.session().set_time_travel(setup.stop_at.is_none());
        let mut e = Engine {
            recorder: setup.record.map(|path| Recorder {
                path,
                console: Some(Vec::new()),
            }),
            host,
            net: setup.net,
            events,
            persist: setup.disk_path.map(crate::disk::Persist::new),
            signals: crate::signals::Stop::install(),
            running: true,
            told_halted: false,
            stop_seq: 0,
            stop_reason: "running".into(),
            hart: 0,
            selected: None,
            console: Vec::new(),
            strace: Vec::new(),
            files: HashMap::new(),
            last_sent: Instant::now(),
            last_slow: Instant::now(),
            mips_at: (Instant::now(), 0),
            mips: 0.0,
            clock_checked: 0,
            trace_count: 0,
            trace_since: Instant::now(),
            trace_rate: 0.0,
            dirty: true,
            started: Instant::now(),
            pt_last: None,
            pt_kernel: false,
            pt_kpt: None,
            watch: None,
            visible: (true, true, true),
            stop_at: setup.stop_at,
            walk: None,
        };
        // The syscall trace is on from the start: the tracer watches trap events the hart
        // records anyway, so it costs the guest little.
        if let Err(err) = e.host.session().strace_on(Filter::default()) {
            e.message(format!("syscall trace unavailable: {err}"), true);
        }
        if let Some((why, console)) = setup.held {
            e.console = console;
            e.hart = e.host.session().busy_hart();
            e.running = false;
            e.stop_reason = why;
        }
        if let Some(walk) = setup.walk {
            // A walk starts from the reset state, held, so that its steps (and "back")
            // replay the same run; step 1 comes with the first "next".
            player::prepare(e.host.session());
            e.host.session().set_idle_stops(true);
            e.walk = Some(WalkState {
                walk,
                at: 0,
                progress: Progress::default(),
                console_sent: 0,
                records_sent: 0,
                outcomes: Vec::new(),
                error: None,
                stops: Vec::new(),
            });
            e.running = false;
            e.stop_reason = "walkthrough: ] plays step 1".into();
            e.send_walk(false);
        }
        e
    }

    fn message(&self, text: String, error: bool) {
        let _ = self.events.send(Event::Message { text, error });
    }

    fn main(&mut self, requests: Receiver<Request>) {
        loop {
            // Requests first: they are few, and a pause must win over the next slice.
            loop {
                match requests.try_recv() {
                    Ok(r) => {
                        if !self.handle(r) {
                            return self.exit(0, "quit".into());
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        return self.exit(0, "the UI went away".into());
                    }
                }
            }
            if let Some(sig) = self.signals.received() {
                return self.exit(
                    128 + sig,
                    format!("stopped by {}", crate::signals::name(sig)),
                );
            }
            if let Some(end) = self.stop_at
                && self.host.session().machine().instret() >= end
            {
                return self.exit(0, format!("{end} instructions retired"));
            }
            if self.running {
                let Some(stop) = self.host.run(SLICE) else {
                    return self.exit(0, "gdb killed the guest".into());
                };
                self.take_console();
                let mut net_moved = false;
                if let Some(net) = self.net.as_mut() {
                    match net.pump(self.host.session()) {
                        Ok(moved) => net_moved = moved,
                        Err(e) => {
                            self.message(format!("network: {e:#}"), true);
                            self.net = None;
                        }
                    }
                    for note in self
                        .net
                        .as_mut()
                        .map(|n| n.take_notes())
                        .unwrap_or_default()
                    {
                        self.message(note, false);
                    }
                }
                if let Some(p) = self.persist.as_mut() {
                    p.tick(self.host.session().machine());
                }
                match stop {
                    Stop::Budget => {}
                    Stop::Breakpoint { hart } => {
                        // Only the user's own breakpoints stop the TUI (a gdb client's stop
                        // is reported to gdb, which holds the machine until it resumes).
                        let hit = self
                            .host
                            .session()
                            .hits()
                            .iter()
                            .find_map(|b| match b.owner {
                                Owner::User(n) => Some(format!("{n} ({})", b.label)),
                                _ => None,
                            });
                        if let Some(label) = hit {
                            self.hart = hart;
                            self.stopped(format!("breakpoint {label} hit on hart {hart}"));
                        }
                    }
                    Stop::Watchpoint { hart, addr, .. } => {
                        self.hart = hart;
                        self.stopped(format!("watchpoint at {addr:#x} hit on hart {hart}"));
                    }
                    Stop::Idle => {
                        self.maybe_send(true);
                        let halted =
                            self.host.session().machine().wake() == machine::machine::Wake::Never;
                        if halted && !self.told_halted {
                            self.message(
                                "all harts wait with no wake-up source (the guest halted)".into(),
                                true,
                            );
                        }
                        self.told_halted = halted;
                        // Every hart waits: keep guest time from running ahead of the host
                        // clock (as `xv6scope run` does), and wait for keys meanwhile.
                        let mut wait = self.host.session().idle_pace(self.started);
                        if net_moved {
                            wait = Duration::ZERO;
                        } else if self.net.is_some() {
                            wait = wait.min(crate::net::POLL);
                        }
                        match requests.recv_timeout(wait) {
                            Ok(r) => {
                                if !self.handle(r) {
                                    return self.exit(0, "quit".into());
                                }
                            }
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Disconnected) => {
                                return self.exit(0, "the UI went away".into());
                            }
                        }
                    }
                    Stop::PowerOff { code } => {
                        return self.exit(
                            code.min(255) as i32,
                            format!("the guest powered off (code {code})"),
                        );
                    }
                    Stop::Reset => return self.exit(0, "the guest asked for a reset".into()),
                    Stop::Htif { value } => {
                        return self.exit(
                            i32::from(value != 1),
                            format!("the guest wrote tohost = {value}"),
                        );
                    }
                }
                self.maybe_send(false);
            } else {
                if self.dirty {
                    self.send(true);
                }
                match requests.recv_timeout(Duration::from_millis(100)) {
                    Ok(r) => {
                        if !self.handle(r) {
                            return self.exit(0, "quit".into());
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        // gdb may resume or change the guest while the UI holds it.
                        if matches!(self.host, Host::Gdb(_)) {
                            self.take_console();
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        return self.exit(0, "the UI went away".into());
                    }
                }
            }
        }
    }

    /// Console output and completed system calls since the last look.
    fn take_console(&mut self) {
        let session = self.host.session();
        let out = session.take_output();
        let records = session.take_records();
        if !out.is_empty() {
            if let Some(Recorder {
                console: kept @ Some(_),
                ..
            }) = &mut self.recorder
            {
                let c = kept.as_mut().expect("matched Some");
                c.extend_from_slice(&out);
                if c.len() > RECORDED_CONSOLE_MAX {
                    *kept = None;
                }
            }
            self.console.extend_from_slice(&out);
            self.dirty = true;
        }
        self.trace_count += records.len() as u64;
        self.strace.extend(records);
    }

    fn stopped(&mut self, reason: String) {
        self.running = false;
        self.stop_seq += 1;
        self.stop_reason = reason;
        self.dirty = true;
        self.send(true);
    }

    /// Handles one request; false to quit.
    fn handle(&mut self, r: Request) -> bool {
        self.dirty = true;
        let travels = matches!(
            r,
            Request::Reverse(_)
                | Request::ReverseContinue
                | Request::When(_)
                | Request::Goto(_)
                | Request::Landmark { .. }
                | Request::Present
                | Request::WalkBack
        );
        if travels && let Some(rec) = &mut self.recorder {
            // Running on from the past prints the history's output again.
            rec.console = None;
        }
        match r {
            Request::Quit => return false,
            Request::Input(bytes) => self.host.session().type_input(&bytes),
            Request::Continue => {
                self.running = true;
                self.stop_reason = "running".into();
            }
            Request::Pause => {
                if self.running {
                    self.hart = self.host.session().busy_hart();
                    self.stopped("paused".into());
                }
            }
            Request::StepInst => self.step(StepKind::Instruction),
            Request::StepLine => self.step(StepKind::Line),
            Request::Next => self.step(StepKind::Over),
            Request::Finish => self.step(StepKind::Finish),
            Request::Reverse(kind) => {
                let h = self.hart;
                let r = self.host.session().reverse(h, kind);
                let what = match kind {
                    StepKind::Instruction => "went back one instruction",
                    StepKind::Line => "went back one line",
                    StepKind::Over => "went back over one line",
                    StepKind::Finish => "went back to the call",
                };
                self.reversed(r, what);
            }
            Request::ReverseContinue => {
                let r = self.host.session().reverse_continue();
                self.reversed(r, "went back to the last hit");
            }
            Request::When(spec) => match self.host.session().when_written(&spec) {
                Ok((r, addr)) => {
                    self.reversed(Ok(r), &format!("back to the last write of {addr:#x}"))
                }
                Err(e) => self.message(format!("cannot go back: {e}"), true),
            },
            Request::Goto(n) => match self.host.session().goto(n) {
                Ok(()) => {
                    self.hart = self.host.session().busy_hart();
                    self.stopped(format!("at position {n}"));
                }
                Err(e) => self.message(e, true),
            },
            Request::Landmark { forward, kinds } => self.go_to_landmark(forward, &kinds),
            Request::Present => {
                let present = self.host.session().timeline().present();
                match self.host.session().goto_present() {
                    Ok(()) => {
                        self.hart = self.host.session().busy_hart();
                        self.stopped(format!("at the present (position {present})"));
                    }
                    Err(e) => self.message(e, true),
                }
            }
            Request::Break(spec) => match self.host.session().add_user_breakpoint(&spec) {
                Ok((n, label)) => self.message(format!("breakpoint {n} at {label}"), false),
                Err(e) => self.message(e, true),
            },
            Request::Delete(n) => {
                let deleted = u32::try_from(n)
                    .map_err(|_| format!("no breakpoint {n}"))
                    .and_then(|n| self.host.session().delete_user_breakpoint(n));
                match deleted {
                    Ok(label) => self.message(format!("deleted breakpoint {n} ({label})"), false),
                    Err(e) => self.message(e, true),
                }
            }
            Request::Examine { count, expr, phys } => {
                self.watch = Some((count, expr, phys));
                self.refresh_slow();
            }
            Request::Select(pid) => {
                self.selected = pid;
                self.pt_kernel = false;
                self.pt_kpt = None;
                self.refresh_slow();
            }
            Request::KernelPageTable => {
                self.pt_kernel = true;
                self.pt_kpt = None;
                self.refresh_slow();
            }
            Request::ProcKernelPageTable(pid) => {
                self.selected = Some(pid);
                self.pt_kernel = false;
                self.pt_kpt = Some(pid);
                self.refresh_slow();
            }
            Request::Visible {
                procs,
                pagetable,
                syscalls,
            } => {
                let newly = (procs && !self.visible.0) || (pagetable && !self.visible.1);
                self.visible = (procs, pagetable, syscalls);
                if newly {
                    self.refresh_slow();
                }
                self.trace_exactness();
            }
            Request::WalkNext => self.walk_next(),
            Request::WalkBack => self.walk_back(),
            Request::Strace(spec) => {
                let session = self.host.session();
                if spec.trim() == "off" {
                    session.strace_off();
                    self.message("syscall trace off".into(), false);
                } else {
                    let spec = spec.split_whitespace().collect::<Vec<_>>().join(",");
                    match Filter::parse(&spec).and_then(|f| session.strace_on(f)) {
                        Ok(()) => self.message(
                            format!(
                                "syscall trace on ({})",
                                if spec.is_empty() { "all" } else { &spec }
                            ),
                            false,
                        ),
                        Err(e) => self.message(e, true),
                    }
                }
                self.trace_exactness();
            }
            Request::Monitor(line) => {
                let mut out = vec![format!("> {line}")];
                out.extend(self.host.session().command(&line));
                let _ = self.events.send(Event::Output(out));
            }
        }
        true
    }

    /// Shows where a reverse operation ended (the machine is stopped there).
    fn reversed(&mut self, r: Result<session::Reversed, String>, what: &str) {
        self.running = false;
        match r {
            Ok(session::Reversed::At { hart, .. }) => {
                self.hart = hart;
                let pos = self.host.session().position();
                self.stopped(format!("{what} on hart {hart} (position {pos})"));
            }
            Ok(session::Reversed::Start) => {
                self.stopped("at the start of the recording".into());
            }
            Err(e) => self.message(format!("cannot go back: {e}"), true),
        }
    }

    /// To the nearest landmark of `kinds` (any when empty) after or before here.
    fn go_to_landmark(&mut self, forward: bool, kinds: &[session::landmarks::Kind]) {
        let session = self.host.session();
        let Some(l) = session.landmark_near(forward, kinds) else {
            let what = match kinds {
                [] => "landmark".to_string(),
                k => k.iter().map(|k| k.name()).collect::<Vec<_>>().join(" or "),
            };
            let side = if forward { "after" } else { "before" };
            let pos = session.position();
            return self.message(format!("no {what} {side} position {pos}"), false);
        };
        match session.goto(l.pos) {
            Ok(()) => {
                self.hart = if l.has_hart() {
                    l.hart
                } else {
                    self.host.session().busy_hart()
                };
                self.take_console();
                self.stopped(format!("at {} (position {})", l.describe(), l.pos));
            }
            Err(e) => self.message(format!("cannot go there: {e}"), true),
        }
    }

    /// Steps the hart of the last stop (or the busy one, when running) and stops there.
    fn step(&mut self, kind: StepKind) {
        let h = if self.running {
            self.host.session().busy_hart()
        } else {
            self.hart
        };
        let stepped = self.host.session().step(h, kind, OVER_LIMIT);
        self.hart = stepped.hart;
        self.take_console();
        self.stopped(format!("{} on hart {}", stepped.why, stepped.hart));
    }

    /// The memory pane: the watched expression evaluated on hart `h` and `count` words
    /// read there, through the hart's `satp` or physically.
    fn memory(&mut self, h: usize, state: &HartState) -> Option<MemView> {
        let (count, expr, phys) = self.watch.as_ref()?;
        let head = format!("{}/{count}gx {}", if *phys { "xp" } else { "x" }, expr.text);
        let addr = match expr.eval(state) {
            Ok(a) => a,
            Err(e) => {
                return Some(MemView {
                    title: format!("{head}: {e}"),
                    words: Vec::new(),
                });
            }
        };
        let m = self.host.session().machine();
        let satp = m.harts[h].csr.satp;
        let how = if *phys {
            "physical".to_string()
        } else if session::inspect::state::Satp::new(satp).mode == 0 {
            format!("virtual; hart {h} has paging off")
        } else {
            match session::xv6::translate(m, satp, addr) {
                Some(pa) => format!("virtual, pa {pa:#x}"),
                None => "virtual, not mapped".to_string(),
            }
        };
        let mut words = Vec::new();
        for i in 0..*count {
            let a = addr.wrapping_add(8 * i as u64);
            let mut b = [0u8; 8];
            let ok = if *phys {
                m.read_phys(a, &mut b)
            } else {
                session::xv6::read_virt(m, satp, a, &mut b)
            };
            words.push((a, ok.then(|| u64::from_le_bytes(b))));
            if !ok {
                break;
            }
        }
        Some(MemView {
            title: format!("{head} = {addr:#x} ({how})"),
            words,
        })
    }

    /// The disassembly around hart `h`'s pc: from its function's start when that is a few
    /// instructions before (instructions have two lengths, so decoding can only start at
    /// a known boundary), else from the pc.
    fn disasm(&mut self, h: usize) -> Source {
        let session = self.host.session();
        let (pc, user, name) = session.pc_context(h);
        let syms: Option<&Symbols> = session.views.syms.for_pc(pc, user, name.as_deref());
        let title = session.views.syms.describe(pc, user, name.as_deref());
        let m = session.machine();
        // A pc moved to the trampoline's link address reads the kernel's identity-mapped
        // text physically (the user page table does not map it).
        let satp = if pc == m.harts[h].pc {
            m.harts[h].csr.satp
        } else {
            0
        };
        let read = |a: u64, buf: &mut [u8]| session::xv6::read_virt(m, satp, a, buf);
        let start = match syms.and_then(|s| s.symbol_at(pc)) {
            Some((_, off)) if off <= 2 * SOURCE_CONTEXT as u64 => pc - off,
            _ => pc,
        };
        let mut lines = disasm_lines(&read, start, 2 * SOURCE_CONTEXT, syms);
        let mut current = lines.iter().position(|(a, _)| *a == pc);
        if current.is_none() {
            // The function's start did not lead to the pc (data in the text?): from the pc.
            lines = disasm_lines(&read, pc, SOURCE_CONTEXT, syms);
            current = Some(0);
        }
        // Keep the pc's line near the middle of what is sent.
        let first = current.unwrap_or(0).saturating_sub(SOURCE_CONTEXT / 2);
        let lines: Vec<String> = lines
            .into_iter()
            .skip(first)
            .take(SOURCE_CONTEXT)
            .map(|(_, l)| l)
            .collect();
        Source {
            title,
            lines,
            current: current.map(|c| c - first),
        }
    }

    /// Sends a snapshot if one is due. The host clock is read only after [`CLOCK_EVERY`]
    /// instructions (a stop at the tracer's breakpoint on every system call comes back here
    /// many thousand times a second), except when the guest idles (`idle`).
    fn maybe_send(&mut self, idle: bool) {
        let instret = self.host.session().machine().instret();
        if !idle && instret.wrapping_sub(self.clock_checked) < CLOCK_EVERY {
            return;
        }
        self.clock_checked = instret;
        let dt = self.trace_since.elapsed().as_secs_f64();
        if dt >= 0.5 {
            self.trace_rate = self.trace_count as f64 / dt;
            self.trace_count = 0;
            self.trace_since = Instant::now();
            self.trace_exactness();
        }
        if self.last_sent.elapsed() >= FRAME {
            let slow = self.last_slow.elapsed() >= SLOW_FRAME;
            self.send(slow);
        }
    }

    fn send(&mut self, slow: bool) {
        let now = Instant::now();
        let instret = self.host.session().machine().instret();
        let dt = now.duration_since(self.mips_at.0).as_secs_f64();
        if dt >= 0.25 {
            self.mips = if self.running {
                (instret - self.mips_at.1) as f64 / dt / 1e6
            } else {
                0.0
            };
            self.mips_at = (now, instret);
        }
        let h = self.hart;
        let disasm = self.disasm(h);
        let source = self.source(h).unwrap_or_else(|| disasm.clone());
        let state = HartState::of(&self.host.session().machine().harts[h]);
        let memory = if slow || !self.running {
            self.memory(h, &state)
        } else {
            None
        };
        // The costly views: while running only those on screen, every SLOW_FRAME; at a
        // stop all of them (a stop is rare, and the page-table diff needs every stop's tree).
        let (procs, fds, pt) = if slow {
            self.last_slow = now;
            let (want_procs, want_pt) = if self.running {
                (self.visible.0, self.visible.1)
            } else {
                (true, true)
            };
            let pid = if want_procs || (want_pt && !self.pt_kernel) {
                self.selected.or_else(|| self.default_pid(h))
            } else {
                None
            };
            let (procs, fds) = if want_procs {
                let session = self.host.session();
                let procs = session.command("ps");
                let fds = match pid {
                    Some(p) => crate::ui::panes::processes::details(
                        session.command(&format!("fds {p}")),
                        session.command(&format!("ps -l {p}")),
                    ),
                    None => vec!["no process on this hart".into()],
                };
                (Some(procs), Some(fds))
            } else {
                (None, None)
            };
            let pt = want_pt.then(|| self.pt_view(pid));
            (procs, fds, pt)
        } else {
            (None, None, None)
        };
        let session = self.host.session();
        let m = session.machine();
        let snap = Snapshot {
            running: self.running,
            stop_seq: self.stop_seq,
            stop_reason: self.stop_reason.clone(),
            state,
            harts: m.harts.len(),
            instret,
            position: session
                .timeline()
                .on()
                .then(|| (session.position(), session.timeline().present())),
            timeline: session
                .timeline()
                .on()
                .then(|| session.timeline_bar(super::event::BAR_COLUMNS)),
            mips: self.mips,
            console: std::mem::take(&mut self.console),
            strace: Vec::new(),
            records: std::mem::take(&mut self.strace),
            tracing: session.views.tracing(),
            source,
            disasm,
            memory,
            procs,
            fds,
            pagetable: pt,
            breakpoints: session
                .breakpoints()
                .iter()
                .filter_map(|b| match b.owner {
                    Owner::User(n) => Some(format!("{n:>2}  {:#x}  {}", b.addr, b.label)),
                    _ => None,
                })
                .collect(),
        };
        let _ = self.events.send(Event::Snapshot(Box::new(snap)));
        self.last_sent = now;
        self.dirty = false;
    }

    /// The process shown when the user selected none: the one on hart `h`, else the newest
    /// living process (the highest pid in use).
    fn default_pid(&mut self, h: usize) -> Option<i64> {
        let session = self.host.session();
        if let Some(pid) = session.current_proc(h).and_then(|p| p.pid) {
            return Some(pid);
        }
        let k = session.views.kernel.as_ref()?;
        k.procs(session.machine())
            .into_iter()
            .filter(|p| p.in_use() && p.pagetable.is_some_and(|r| r != 0))
            .filter_map(|p| p.pid)
            .max()
    }

    /// Tells the UI where the walkthrough is (`reset`: the machine was booted again).
    fn send_walk(&self, reset: bool) {
        let Some(w) = &self.walk else {
            return;
        };
        let total = w.walk.steps.len();
        let mut view = WalkView {
            title: w.walk.title.clone(),
            step: w.at,
            total,
            reset,
            ..WalkView::default()
        };
        match w.at.checked_sub(1).and_then(|i| w.walk.steps.get(i)) {
            Some(step) => {
                view.name = step.name.clone();
                view.text = step.text.clone();
                view.outcomes = w.outcomes.clone();
                view.error = w.error.clone();
                view.pane = step.pane.clone();
            }
            None => {
                view.name = "the start".into();
                view.text = format!(
                    "{total} steps. `]` plays the next step from wherever the machine is, `[` boots \
                     again and replays up to the step before. Between steps every debugger key \
                     works (continue, step, `:` commands)."
                );
            }
        }
        let _ = self.events.send(Event::Walk(Box::new(view)));
    }

    /// Plays step `i` (from 0) of the walk, then hands the console output and the system
    /// calls it produced to the UI. The player runs the machine with idle stops off (it
    /// waits for the console or a breakpoint, never for a key); free running wants them on.
    fn walk_play(&mut self, i: usize) -> Result<Vec<(bool, String)>, String> {
        let Some(w) = self.walk.as_mut() else {
            return Err("no walkthrough".into());
        };
        let session = self.host.session();
        session.set_idle_stops(false);
        let step = &w.walk.steps[i];
        let result = Player::new(session, &mut w.progress).play_step(step);
        session.set_idle_stops(true);
        self.console
            .extend_from_slice(&w.progress.console[w.console_sent..]);
        w.console_sent = w.progress.console.len();
        self.strace
            .extend(w.progress.records[w.records_sent..].iter().cloned());
        w.records_sent = w.progress.records.len();
        self.hart = w.progress.hart;
        let shown = result.map(|outcomes| {
            outcomes
                .iter()
                .zip(&step.checks)
                .map(|(o, c)| {
                    let text = if o.ok {
                        format!("{} = {}", o.key, o.found)
                    } else {
                        format!("{} = {} (expected {})", o.key, o.found, c.want)
                    };
                    (o.ok, text)
                })
                .collect::<Vec<_>>()
        });
        if let Ok(outcomes) = &shown {
            let mark = self.host.session().mark();
            w.stops.truncate(i);
            w.stops.push((mark, w.progress.clone(), outcomes.clone()));
        }
        shown
    }

    /// Shows step `i` (from 0) as played: its outcome to the narrative, the stop to the panes.
    fn walk_shown(&mut self, i: usize, result: Result<Vec<(bool, String)>, String>, reset: bool) {
        let Some(w) = self.walk.as_mut() else {
            return;
        };
        w.at = i + 1;
        match result {
            Ok(o) => {
                w.outcomes = o;
                w.error = None;
            }
            Err(e) => {
                w.outcomes.clear();
                w.error = Some(e);
            }
        }
        let why = format!(
            "walk step {}/{}: {}",
            i + 1,
            w.walk.steps.len(),
            w.walk.steps[i].name
        );
        self.send_walk(reset);
        self.stopped(why);
    }

    /// `]`: the next step, from wherever the machine is.
    fn walk_next(&mut self) {
        let Some(w) = &self.walk else {
            self.message(
                "no walkthrough: `xv6scope walk FILE` plays one".into(),
                true,
            );
            return;
        };
        let i = w.at;
        if i >= w.walk.steps.len() {
            self.message("that was the last step (`[` goes back)".into(), false);
            return;
        }
        self.message(format!("playing step {}…", i + 1), false);
        let r = self.walk_play(i);
        self.walk_shown(i, r, false);
    }

    /// `[`: the step before, replayed from a fresh boot (the machine is deterministic, so the
    /// replay reaches the same state as the first time, the user's detours aside).
    fn walk_back(&mut self) {
        let Some(w) = &self.walk else {
            self.message(
                "no walkthrough: `xv6scope walk FILE` plays one".into(),
                true,
            );
            return;
        };
        if w.at == 0 {
            self.message("at the start already".into(), false);
            return;
        }
        let target = w.at - 1;
        if self.walk_back_in_time(target) {
            return;
        }
        self.message(
            format!("booting again and replaying up to step {target}…"),
            false,
        );
        // The same kernel and disk from reset; every breakpoint (the user's, gdb's) stays.
        if let Err(e) = self.host.session().reboot() {
            self.message(format!("cannot boot again: {e}"), true);
            return;
        }
        player::prepare(self.host.session());
        self.host.session().set_idle_stops(true);
        if let Some(w) = self.walk.as_mut() {
            w.at = 0;
            w.progress = Progress::default();
            w.console_sent = 0;
            w.records_sent = 0;
            w.outcomes.clear();
            w.error = None;
        }
        self.console.clear();
        self.strace.clear();
        self.pt_last = None;
        self.running = false;
        self.started = Instant::now();
        self.mips_at = (Instant::now(), 0);
        self.hart = 0;
        if target == 0 {
            self.send_walk(true);
            self.stopped("booted again: the walkthrough's start".into());
            return;
        }
        for i in 0..target - 1 {
            if let Err(e) = self.walk_play(i) {
                return self.walk_shown(i, Err(e), true);
            }
        }
        let r = self.walk_play(target - 1);
        self.walk_shown(target - 1, r, true);
    }

    /// "Back" through the timeline: to where step `target` stopped (the start for 0), with
    /// its progress; false (the caller boots again) when the timeline cannot get there.
    fn walk_back_in_time(&mut self, target: usize) -> bool {
        let Some(w) = self.walk.as_ref() else {
            return false;
        };
        let (mark, progress, outcomes) = match target {
            0 => (
                session::Mark { pos: 0, elapsed: 0 },
                Progress::default(),
                Vec::new(),
            ),
            t => match w.stops.get(t - 1) {
                Some(s) => s.clone(),
                None => return false,
            },
        };
        if let Err(e) = self.host.session().goto_mark(mark) {
            self.message(
                format!("cannot go back in time ({e}); booting again"),
                false,
            );
            return false;
        }
        let Some(w) = self.walk.as_mut() else {
            return false;
        };
        self.console = progress.console.clone();
        self.strace = progress.records.clone();
        w.console_sent = progress.console.len();
        w.records_sent = progress.records.len();
        self.hart = progress.hart;
        w.progress = progress;
        w.stops.truncate(target);
        self.pt_last = None;
        self.running = false;
        if target == 0 {
            w.at = 0;
            w.outcomes.clear();
            w.error = None;
            self.send_walk(true);
            self.stopped("back at the walkthrough's start".into());
        } else {
            self.walk_shown(target - 1, Ok(outcomes), true);
        }
        true
    }

    /// The trace is exact (buffers read at the `ecall` and at the `sret`, through the
    /// tracer's two trampoline breakpoints) unless the guest makes many system calls a second
    /// ([`LATE_RATE`]) while the syscalls pane is hidden and no walk plays. Then it is read
    /// from the harts' event logs after each slice, which costs the guest about half as much
    /// (usertests runs ~15% slower with the exact trace, ~7% with the late one) and may show
    /// a buffer's later contents; results, numbers and pids are exact either way. A person
    /// typing at the shell makes a few calls a second: their trace stays exact.
    fn trace_exactness(&mut self) {
        let session = self.host.session();
        if !session.views.tracing() {
            return;
        }
        let exact = session.views.tracer.exact();
        let busy = self.trace_rate > if exact { LATE_RATE } else { LATE_RATE / 2.0 };
        let want = self.visible.2 || self.walk.is_some() || !busy;
        session.set_trace_exact(want);
    }

    /// Makes the next snapshot carry the costly views.
    fn refresh_slow(&mut self) {
        self.last_slow = Instant::now() - SLOW_FRAME;
        self.last_sent = Instant::now() - FRAME;
    }

    /// The page-table pane's tree: the kernel's (`pt kernel`) or process `pid`'s, with the
    /// leaves changed since the previous stop marked. The tree of each stop is kept for the
    /// next; while running nothing is marked.
    fn pt_view(&mut self, pid: Option<i64>) -> PtView {
        if !self.pt_kernel && pid.is_none() {
            return PtView {
                title: "no process on this hart (`pt PID`, `pt kernel`)".into(),
                ..PtView::default()
            };
        }
        let session = self.host.session();
        let m = session.machine();
        // The views' own address spaces: the same roots and names as `pt` and `vmprint`.
        let who = match (self.pt_kernel, self.pt_kpt, pid) {
            (true, _, _) | (_, _, None) => "kernel".to_string(),
            (false, Some(k), _) => format!("kpt:{k}"),
            (false, None, Some(p)) => p.to_string(),
        };
        let who_text = who.clone();
        let space = session.views.space(m, Some(&who_text));
        let (root, names, title) = match space {
            Ok(s) => s,
            Err(e) => {
                return PtView {
                    title: e,
                    ..PtView::default()
                };
            }
        };
        let tree = pagetable::walk(m, root);
        let changes = if self.running {
            PtChanges::new()
        } else {
            match &self.pt_last {
                Some((w, seq, _, ch)) if *w == who && *seq == self.stop_seq => ch.clone(),
                last => {
                    let ch = match last {
                        Some((w, _, old, _)) if *w == who => pagetable::diff(old, &tree),
                        _ => PtChanges::new(),
                    };
                    let view = super::ptree::build(title, &tree, &names, &ch);
                    self.pt_last = Some((who, self.stop_seq, tree, ch));
                    return view;
                }
            }
        };
        super::ptree::build(title, &tree, &names, &changes)
    }

    /// The source around hart `h`'s pc, if its ELF has a line for it and the file reads.
    fn source(&mut self, h: usize) -> Option<Source> {
        let session = self.host.session();
        let (pc, user, name) = session.pc_context(h);
        let syms: Option<&Symbols> = session.views.syms.for_pc(pc, user, name.as_deref());
        let title = session.views.syms.describe(pc, user, name.as_deref());
        if let Some((file, line)) = syms.and_then(|s| s.line(pc)) {
            let text = self.files.entry(file.clone()).or_insert_with(|| {
                std::fs::read_to_string(&file)
                    .ok()
                    .map(|t| t.lines().map(str::to_string).collect())
            });
            if let Some(text) = text {
                let at = (line as usize).saturating_sub(1);
                let first = at.saturating_sub(SOURCE_CONTEXT / 2);
                let last = (at + SOURCE_CONTEXT / 2).min(text.len());
                let lines = (first..last)
                    .map(|i| format!("{:5} {}", i + 1, text[i]))
                    .collect();
                return Some(Source {
                    title,
                    lines,
                    current: Some(at - first),
                });
            }
        }
        None
    }

    fn exit(&mut self, code: i32, why: String) {
        self.take_console();
        let (code, why) = match self.write_recording() {
            Ok(None) => (code, why),
            Ok(Some(note)) => (code, format!("{why}; {note}")),
            Err(e) => (if code == 0 { 2 } else { code }, format!("{why}; {e}")),
        };
        self.send(false);
        let m = self.host.session().machine();
        if let Some(p) = self.persist.as_mut()
            && let Err(e) = p.finish(m)
        {
            self.message(format!("{e:#}"), true);
        }
        let _ = self.events.send(Event::Exited { code, why });
    }
}

impl Engine {
    /// `--record`: the run up to the present, written to its file; what to say.
    fn write_recording(&mut self) -> Result<Option<String>, String> {
        let Some(rec) = self.recorder.take() else {
            return Ok(None);
        };
        let session = self.host.session();
        let recording = session
            .recording_to_present(rec.console.as_deref())
            .map_err(|e| format!("cannot record: {e}"))?;
        crate::disk::write_atomically(&rec.path, &recording.encode())
            .map_err(|e| format!("cannot write the recording {}: {e}", rec.path.display()))?;
        Ok(Some(format!(
            "recorded {} positions to {} (xv6scope replay {})",
            recording.end,
            rec.path.display(),
            rec.path.display()
        )))
    }
}

/// Disassembles `count` instructions from `at` for the source pane, narrower than
/// `symbols::disasm` (which `monitor dis` prints): the address without leading zeros,
/// `<function+offset>`, the instruction; no raw bits. Stops at unreadable memory.
fn disasm_lines(
    read: &dyn Fn(u64, &mut [u8]) -> bool,
    mut at: u64,
    count: usize,
    syms: Option<&Symbols>,
) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for _ in 0..count {
        let mut lo = [0u8; 2];
        if !read(at, &mut lo) {
            out.push((at, format!("{at:#x}  <unreadable>")));
            break;
        }
        let half = u32::from(u16::from_le_bytes(lo));
        // Bits 1..0 = 11 mark a 32-bit instruction (ISA spec §1.5).
        let raw = if half & 3 == 3 {
            let mut hi = [0u8; 2];
            if !read(at + 2, &mut hi) {
                out.push((at, format!("{at:#x}  <unreadable>")));
                break;
            }
            half | u32::from(u16::from_le_bytes(hi)) << 16
        } else {
            half
        };
        let inst = machine::cpu::decode::decode(raw);
        let label = match syms.and_then(|s| s.symbol_at(at)) {
            Some((s, 0)) => format!("<{}>", s.name),
            Some((s, off)) => format!("<{}+{off:#x}>", s.name),
            None => String::new(),
        };
        out.push((at, format!("{at:#x} {label:<20} {}", inst.disasm(at))));
        at += u64::from(inst.len);
    }
    out
}

/// Leaf changes of a page table between two stops, by virtual address.
type PtChanges = std::collections::BTreeMap<u64, pagetable::Change>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::event::WalkView;

    #[test]
    fn trampoline_code_breaks_where_it_runs() {
        if crate::bundled::kernel().is_err() {
            println!("no bundled kernel in this build: skipping");
            return;
        }
        let session = crate::cmd_run::boot(&crate::ui::TuiArgs::bundled().machine)
            .expect("boots")
            .session;
        let k = session.views.syms.kernel.as_ref().expect("symbols");
        let base = k.lookup("trampoline").expect("trampoline").addr;
        let userret = k.lookup("userret").expect("userret").addr;
        let at = |spec: &str| {
            session
                .resolve(&session::Spec::parse(spec).expect("parses"))
                .expect("resolves")
                .addr
        };
        use abi::memlayout::TRAMPOLINE;
        assert_eq!(at("userret"), TRAMPOLINE + (userret - base));
        assert_eq!(at("trampoline"), TRAMPOLINE);
        let exec = k.lookup("sys_exec").expect("sys_exec").addr;
        assert_eq!(at("sys_exec"), exec, "other code runs where it is linked");
        assert_eq!(
            at("syscall exec"),
            TRAMPOLINE + (k.lookup("uservec").unwrap().addr - base)
        );
    }

    #[test]
    fn line_address_finds_code_of_a_source_line() {
        let Ok(elf) = crate::bundled::kernel() else {
            println!("no bundled kernel in this build: skipping");
            return;
        };
        let k = Symbols::parse("kernel", elf).expect("the bundled kernel parses");
        let f = k.lookup("sys_exec").expect("sys_exec");
        let (file, line) = k.line(f.addr).expect("sys_exec has a line");
        let short = file.rsplit('/').next().unwrap_or(&file).to_string();
        let a = k
            .line_address(&short, line)
            .expect("an address for the line");
        assert!(a <= f.addr, "{a:#x} > {:#x}", f.addr);
        assert_eq!(k.line(a), Some((file, line)));
        assert_eq!(k.line_address(&short, 999_999), None);
        assert_eq!(k.line_address("no_such_file.rs", line), None);
    }

    /// Waits for the next walk event and the snapshot of the stop that follows it.
    fn next_step(events: &Receiver<Event>) -> (WalkView, Snapshot) {
        let mut walk = None;
        loop {
            match events.recv_timeout(Duration::from_secs(120)) {
                Ok(Event::Walk(w)) => walk = Some(*w),
                Ok(Event::Snapshot(s)) if walk.is_some() && !s.running => {
                    return (walk.unwrap_or_default(), *s);
                }
                Ok(Event::Exited { why, .. }) => panic!("the machine thread ended: {why}"),
                Ok(_) => {}
                Err(e) => panic!("no walk step: {e}"),
            }
        }
    }

    #[test]
    fn walk_next_next_back_next_replays_the_same_run() {
        if crate::bundled::kernel().is_err() {
            println!("no bundled kernel in this build: skipping");
            return;
        }
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/walkthroughs/fork-exec-wait.toml"
        );
        let text = std::fs::read_to_string(file).expect("the walkthrough");
        let walk = Walk::parse(&text).expect("it parses");
        let mut args = crate::ui::TuiArgs::bundled();
        args.machine.snapshot = true;
        let setup = crate::ui::setup(&args, None, Some(walk)).expect("boots");
        let (ev_tx, ev_rx) = std::sync::mpsc::channel();
        let (req_tx, req_rx) = std::sync::mpsc::channel();
        let thread = spawn(setup, req_rx, ev_tx);
        let (w, _) = next_step(&ev_rx);
        assert_eq!((w.step, w.reset), (0, false));
        req_tx.send(Request::WalkNext).unwrap();
        let (w, _) = next_step(&ev_rx);
        assert_eq!((w.step, w.name.as_str()), (1, "boot"));
        assert!(w.outcomes.iter().all(|(ok, _)| *ok), "{:?}", w.outcomes);
        req_tx.send(Request::WalkNext).unwrap();
        let (w, first) = next_step(&ev_rx);
        assert_eq!((w.step, w.pane.as_deref()), (2, Some("regs")));
        assert!(w.outcomes.iter().all(|(ok, _)| *ok), "{:?}", w.outcomes);
        assert_eq!(first.state.x[17], 1, "a7 = SYS_fork at step 2");
        assert!(
            first.stop_reason.contains("walk step 2/"),
            "{}",
            first.stop_reason
        );
        // Back: a fresh boot replays step 1, and the console starts again.
        req_tx.send(Request::WalkBack).unwrap();
        let (w, back) = next_step(&ev_rx);
        assert_eq!((w.step, w.reset), (1, true));
        assert!(
            String::from_utf8_lossy(&back.console).contains("init: starting sh"),
            "the replayed console comes with the stop"
        );
        // Next again: the same stop as the first time (the machine is deterministic).
        req_tx.send(Request::WalkNext).unwrap();
        let (w, again) = next_step(&ev_rx);
        assert_eq!(w.step, 2);
        assert_eq!(
            (again.instret, again.state.pc, again.state.id),
            (first.instret, first.state.pc, first.state.id)
        );
        req_tx.send(Request::Quit).unwrap();
        let _ = thread.join();
    }

    /// `pt PID kernel` on the bundled kernel with the 2020 pgtbl lab's option: the page-table
    /// pane shows the shell's own kernel page table, and the processes pane's lines for the
    /// shell name it.
    #[test]
    fn pt_pid_kernel_and_the_lab_lines_of_the_process_pane() {
        if crate::bundled::kernel().is_err() {
            println!("no bundled kernel in this build: skipping");
            return;
        }
        let mut args = crate::ui::TuiArgs::bundled();
        args.machine.snapshot = true;
        args.machine.lab = Some("kpgtbl".into());
        let setup = crate::ui::setup(&args, None, None).expect("boots");
        let (ev_tx, ev_rx) = std::sync::mpsc::channel();
        let (req_tx, req_rx) = std::sync::mpsc::channel();
        let thread = spawn(setup, req_rx, ev_tx);
        let mut console = Vec::new();
        let mut asked = false;
        let (mut pt, mut fds) = (None, None);
        let end = Instant::now() + Duration::from_secs(120);
        while Instant::now() < end {
            let Ok(ev) = ev_rx.recv_timeout(Duration::from_secs(120)) else {
                break;
            };
            let Event::Snapshot(s) = ev else { continue };
            console.extend_from_slice(&s.console);
            if !asked && String::from_utf8_lossy(&console).contains("$ ") {
                req_tx.send(Request::Pause).unwrap();
                req_tx.send(Request::ProcKernelPageTable(2)).unwrap();
                asked = true;
                continue;
            }
            if asked && !s.running {
                if let Some(p) = s.pagetable {
                    pt = Some(p);
                }
                if let Some(f) = s.fds {
                    fds = Some(f);
                }
                let kpt = |t: &PtView| t.title.contains("pid 2's kernel page table (kpagetable)");
                if pt.as_ref().is_some_and(kpt) && fds.is_some() {
                    break;
                }
            }
        }
        req_tx.send(Request::Quit).unwrap();
        let _ = thread.join();
        let pt = pt.expect("a page-table view");
        assert!(
            pt.title.contains("pid 2's kernel page table (kpagetable)"),
            "{}",
            pt.title
        );
        let fds = fds.expect("the processes pane's details");
        assert_eq!(fds[0], "pid 2 (sh)", "{fds:?}");
        assert!(
            fds[1].starts_with(" kernel page table (kpagetable) 0x"),
            "{fds:?}"
        );
        let root = fds[1].rsplit(' ').next().unwrap_or_default();
        assert!(pt.title.contains(root), "{} vs {root}", pt.title);
    }
}
