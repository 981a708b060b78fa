//! The UI's state and its one entry point for change, [`App::update`].
//!
//! `App` holds what the panes draw: the latest [`Snapshot`], the console scrollback and the
//! syscall trace (snapshots carry only their new bytes and lines), the registers, CSRs and
//! watched memory at the previous stop (to highlight what changed), focus, zoom, the layout
//! settings (layout chosen, pane sizes, hidden panes), the command line and its history, and
//! the status-bar message. [`App::update`] takes a key [`Command`] and returns the
//! [`Request`]s for the machine thread; [`App::on_event`] folds in what the machine sent.
//! Both are plain functions of the state, so tests drive them without a terminal or machine.
//! The one effect beyond requests, saving the layout settings, is left to the UI loop:
//! `update` only raises [`App::settings_dirty`].

use super::command::{self, Expr, Parsed};
use super::event::{Event, MemView, PtView, Request, Snapshot, WalkView};
use super::keys::{self, Command};
use super::layout::{self, Choice, Kind, Settings};
use ratatui::layout::{Direction, Rect};
use std::collections::{HashSet, VecDeque};

/// Console lines kept for scrollback.
pub const SCROLLBACK: usize = 5000;
/// Longest console line kept: a longer one wraps, as on a terminal, so that a guest printing
/// without newlines fills the scrollback (at most SCROLLBACK × MAX_LINE bytes) and no more.
pub const MAX_LINE: usize = 4096;
/// Syscall trace lines kept.
pub const TRACE_KEEP: usize = 2000;

/// Columns a resize key moves a border by (rows: half of it).
const RESIZE_STEP: i32 = 4;

/// The panes, in tab order (`Ctrl-A 1..9`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pane {
    #[default]
    Console,
    Source,
    Registers,
    Processes,
    PageTable,
    Syscalls,
    Breakpoints,
    Output,
    Memory,
}

impl Pane {
    pub const ALL: [Pane; 9] = [
        Pane::Console,
        Pane::Source,
        Pane::Registers,
        Pane::Processes,
        Pane::PageTable,
        Pane::Syscalls,
        Pane::Breakpoints,
        Pane::Output,
        Pane::Memory,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Console => "console",
            Pane::Source => "source",
            Pane::Registers => "registers",
            Pane::Processes => "processes",
            Pane::PageTable => "page table",
            Pane::Syscalls => "syscalls",
            Pane::Breakpoints => "breakpoints",
            Pane::Output => "output",
            Pane::Memory => "memory",
        }
    }

    /// The pane's name in the config file and in `:hide`/`:show`.
    pub fn key(self) -> &'static str {
        match self {
            Pane::PageTable => "pagetable",
            p => p.title(),
        }
    }

    /// The tab bar's label: short enough that eight fit in 80 columns.
    pub fn short(self) -> &'static str {
        match self {
            Pane::Registers => "regs",
            Pane::Processes => "procs",
            Pane::PageTable => "pt",
            Pane::Breakpoints => "breaks",
            Pane::Memory => "mem",
            p => p.title(),
        }
    }

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// The pane a walkthrough step names (`regs`, `pagetable`, `strace`, `fds`...).
    pub fn named(name: &str) -> Option<Pane> {
        let n = name.trim().to_ascii_lowercase();
        match n.as_str() {
            "regs" | "registers" => Some(Pane::Registers),
            "procs" | "processes" | "fds" | "ps" => Some(Pane::Processes),
            "pt" | "pagetable" | "page table" | "page-table" => Some(Pane::PageTable),
            "strace" | "syscalls" | "trace" => Some(Pane::Syscalls),
            "breaks" | "breakpoints" => Some(Pane::Breakpoints),
            "mem" | "memory" | "x" => Some(Pane::Memory),
            _ => Pane::ALL.iter().copied().find(|p| p.title() == n),
        }
    }
}

/// Guest console text: complete lines plus the line being written.
#[derive(Clone, Debug, Default)]
pub struct Console {
    pub lines: VecDeque<String>,
    pub partial: String,
}

impl Console {
    /// Appends guest output as a terminal would show it: `\n` ends a line, backspace moves
    /// back one column (xv6 erases with `\b \b`), `\r` and other control bytes are dropped.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.partial.len() >= MAX_LINE && b != b'\n' && b != 0x08 {
                self.end_line();
            }
            match b {
                b'\n' => self.end_line(),
                0x08 => {
                    self.partial.pop();
                }
                b'\t' => self.partial.push_str("    "),
                0x20..=0x7e => self.partial.push(b as char),
                _ => {}
            }
        }
    }

    fn end_line(&mut self) {
        self.lines.push_back(std::mem::take(&mut self.partial));
        if self.lines.len() > SCROLLBACK {
            self.lines.pop_front();
        }
    }

    /// All lines, the partial one last.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(self.partial.as_str()))
    }
}

/// Everything the UI shows.
#[derive(Default)]
pub struct App {
    pub snap: Option<Snapshot>,
    pub console: Console,
    pub strace: VecDeque<String>,
    /// Trace lines received since the start (the deque keeps the last [`TRACE_KEEP`]).
    pub strace_total: u64,
    /// The trace view is paused: `strace_total` when it was (lines keep arriving).
    pub strace_paused: Option<u64>,
    pub procs: Vec<String>,
    pub fds: Vec<String>,
    pub pagetable: PtView,
    /// Branches of the page-table tree the user collapsed (by [`super::event::PtRow::key`]).
    pub pt_collapsed: HashSet<u64>,
    /// Selected row of the page-table pane, among the visible rows.
    pub pt_row: usize,
    /// The walkthrough being played, if any.
    pub walk: Option<WalkView>,
    pub output: Vec<String>,
    /// x1..x31 at the stop before the current one (None before the second stop).
    pub prev_regs: Option<[u64; 32]>,
    /// The CSRs at the stop before the current one.
    pub prev_csrs: Option<Vec<(&'static str, u64)>>,
    /// The memory pane's words at the stop before the current one.
    pub prev_mem: Option<MemView>,
    /// The current stop: its number, registers, CSRs and memory words (they become the
    /// `prev_*` at the next stop).
    stop_regs: Option<(u64, [u64; 32])>,
    stop_csrs: Option<Vec<(&'static str, u64)>>,
    stop_mem: Option<MemView>,
    /// What the memory pane follows: `x/COUNTgx EXPR`, physical or not.
    pub mem_watch: Option<(usize, Expr, bool)>,
    pub focus: Pane,
    /// The detail pane shown at the bottom right of the split layout.
    pub detail: Pane,
    /// The full layout's extra pane: memory, breakpoints or output (the one used last).
    pub extra: Pane,
    /// The layout chosen, pane sizes and hidden panes (saved in the config file).
    pub settings: Settings,
    /// `settings` changed since the UI loop last saved them.
    pub settings_dirty: bool,
    /// The terminal's area as of the last frame (the resize keys need the layout).
    pub area: Rect,
    /// A border being dragged with the mouse: the split's id and the boundary's index.
    pub drag: Option<(&'static str, usize)>,
    /// The source pane shows the disassembly (`Ctrl-A d`).
    pub disasm: bool,
    pub zoom: bool,
    pub help: bool,
    pub prefix: bool,
    pub cmdline: Option<String>,
    pub history: Vec<String>,
    history_pos: usize,
    pub message: Option<(String, bool)>,
    /// Lines scrolled back, per pane index.
    pub scroll: [usize; 9],
    /// Selected row of the processes pane (0 = first process).
    pub proc_row: usize,
    pub quit: bool,
    pub exited: Option<String>,
}

impl App {
    pub fn new() -> App {
        App {
            detail: Pane::Processes,
            extra: Pane::Memory,
            ..App::default()
        }
    }

    /// An app with the settings read from the config file, and the warning its reading
    /// gave (shown on the status bar).
    pub fn with_settings(settings: Settings, warning: Option<String>) -> App {
        App {
            settings,
            message: warning.map(|w| (w, true)),
            ..App::new()
        }
    }

    /// The layout in use on the terminal as of the last frame.
    pub fn kind(&self) -> Kind {
        self.settings.choice.kind(self.area)
    }

    /// Whether pane `p` is left out of the multi-pane layouts.
    pub fn hidden(&self, p: Pane) -> bool {
        self.settings.hidden.contains(&p)
    }

    /// The key mode [`keys::map`] needs.
    pub fn key_mode(&self) -> keys::Mode {
        keys::Mode {
            console: self.focus == Pane::Console,
            prefix: self.prefix,
            cmdline: self.cmdline.is_some(),
            help: self.help,
        }
    }

    /// Folds in an event from the machine thread (keys go through [`keys::map`] and
    /// [`App::update`] instead).
    pub fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Snapshot(s) => self.snapshot(*s),
            Event::Output(lines) => {
                self.output.extend(lines);
                let excess = self.output.len().saturating_sub(SCROLLBACK);
                self.output.drain(..excess);
                self.scroll[Pane::Output.index()] = 0;
                self.show(Pane::Output);
            }
            Event::Message { text, error } => self.message = Some((text, error)),
            Event::Exited { why, .. } => {
                self.message = Some((format!("machine stopped: {why}"), false));
                self.exited = Some(why);
            }
            Event::Walk(w) => {
                if w.reset {
                    self.console = Console::default();
                    self.strace.clear();
                    self.strace_paused = None;
                    self.prev_regs = None;
                    self.stop_regs = None;
                    self.prev_csrs = None;
                    self.stop_csrs = None;
                    self.prev_mem = None;
                    self.stop_mem = None;
                }
                if let Some(p) = w.pane.as_deref().and_then(Pane::named) {
                    self.focus(p);
                }
                // "playing step n…" is over.
                if matches!(&self.message, Some((_, false))) {
                    self.message = None;
                }
                self.walk = Some(*w);
            }
            Event::Key(_) | Event::Mouse(_) | Event::Resize => {}
        }
    }

    /// The trace lines the syscalls pane shows: all of them, or those that had arrived
    /// when the view was paused; and how many are waiting behind the pause.
    pub fn strace_shown(&self) -> (usize, u64) {
        match self.strace_paused {
            Some(at) => {
                let waiting = self.strace_total - at;
                let shown = (self.strace.len() as u64).saturating_sub(waiting) as usize;
                (shown, waiting)
            }
            None => (self.strace.len(), 0),
        }
    }

    /// Indexes of the page-table rows shown (collapsed branches hide their children).
    pub fn pt_visible(&self) -> Vec<usize> {
        super::ptree::visible(&self.pagetable.rows, &self.pt_collapsed)
    }

    /// Expands (`Some(true)`), collapses (`Some(false)`) or toggles the selected branch.
    fn pt_expand(&mut self, how: Option<bool>) {
        let vis = self.pt_visible();
        let Some(row) = vis.get(self.pt_row).map(|&i| &self.pagetable.rows[i]) else {
            return;
        };
        if !row.branch {
            return;
        }
        let collapsed = self.pt_collapsed.contains(&row.key);
        let key = row.key;
        match how.unwrap_or(collapsed) {
            true => self.pt_collapsed.remove(&key),
            false => self.pt_collapsed.insert(key),
        };
    }

    fn snapshot(&mut self, mut s: Snapshot) {
        self.console.feed(&s.console);
        let formatted = s.records.drain(..).map(|r| r.to_string());
        for l in s.strace.drain(..).chain(formatted) {
            self.strace_total += 1;
            self.strace.push_back(l);
            if self.strace.len() > TRACE_KEEP {
                self.strace.pop_front();
            }
        }
        if let Some(p) = s.procs.take() {
            self.procs = p;
        }
        if let Some(f) = s.fds.take() {
            self.fds = f;
        }
        if let Some(p) = s.pagetable.take() {
            self.pagetable = p;
            let n = self.pt_visible().len();
            self.pt_row = self.pt_row.min(n.saturating_sub(1));
        }
        if !s.running && self.stop_regs.is_none_or(|(seq, _)| seq != s.stop_seq) {
            self.prev_regs = self.stop_regs.map(|(_, r)| r);
            self.stop_regs = Some((s.stop_seq, s.state.x));
            self.prev_csrs = self.stop_csrs.replace(s.state.csrs.clone());
            self.prev_mem = std::mem::replace(&mut self.stop_mem, s.memory.clone());
            self.scroll[Pane::Source.index()] = 0;
        } else if !s.running && s.memory.is_some() {
            // The watch changed during the stop: compare with the same stop's words.
            self.stop_mem = s.memory.clone();
        }
        s.console.clear();
        self.snap = Some(s);
    }

    /// Registers that differ from the previous stop (only while stopped).
    pub fn changed(&self, r: usize) -> bool {
        match (&self.snap, &self.prev_regs) {
            (Some(s), Some(prev)) if !s.running => prev[r] != s.state.x[r],
            _ => false,
        }
    }

    /// CSR `name` differs from the previous stop (only while stopped).
    pub fn csr_changed(&self, name: &str) -> bool {
        let (Some(s), Some(prev)) = (&self.snap, &self.prev_csrs) else {
            return false;
        };
        let old = prev.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        !s.running && old.is_some() && old != s.state.csr(name)
    }

    /// The word at `addr` differs from the previous stop's memory pane (only while stopped).
    pub fn mem_changed(&self, addr: u64, now: Option<u64>) -> bool {
        let (Some(s), Some(prev)) = (&self.snap, &self.prev_mem) else {
            return false;
        };
        !s.running
            && prev
                .words
                .iter()
                .find(|(a, _)| *a == addr)
                .is_some_and(|(_, v)| *v != now)
    }

    /// Makes `p` visible: the detail pane of the split layout (where a walkthrough's
    /// narrative takes the registers' place, they become a detail pane), the extra pane of
    /// the full layout, and not hidden. On the tab layout the caller focuses it.
    fn show(&mut self, p: Pane) {
        let fixed = match self.walk {
            Some(_) => matches!(p, Pane::Console | Pane::Source),
            None => matches!(p, Pane::Console | Pane::Source | Pane::Registers),
        };
        if !fixed {
            self.detail = p;
        }
        if !layout::FULL_FIXED.contains(&p) {
            self.extra = p;
        }
        if self.settings.hidden.remove(&p) {
            self.settings_dirty = true;
        }
    }

    pub fn focus(&mut self, p: Pane) {
        self.focus = p;
        self.show(p);
    }

    /// Leaves the focused pane out of the multi-pane layouts; the focus goes to the first
    /// pane still shown.
    fn hide(&mut self, p: Pane) {
        if self.kind() == Kind::Tabs {
            self.message = Some((
                "the tab layout shows every pane (hiding is for the split and full layouts)".into(),
                false,
            ));
            return;
        }
        self.settings.hidden.insert(p);
        self.settings_dirty = true;
        self.zoom = false;
        self.message = Some((
            format!(
                "{} hidden (Ctrl-A {} or `:show {}` brings it back)",
                p.title(),
                p.index() + 1,
                p.key()
            ),
            false,
        ));
        if self.focus == p {
            let shown = super::layout_of(self, self.area).shown();
            self.focus = shown.first().copied().unwrap_or(Pane::Console);
        }
    }

    /// The resize keys: the focused pane wider or narrower (`horizontal`), taller or
    /// shorter.
    fn resize(&mut self, horizontal: bool, grow: bool) {
        let screen = super::layout_of(self, self.area);
        let (dir, step) = if horizontal {
            (Direction::Horizontal, RESIZE_STEP)
        } else {
            (Direction::Vertical, RESIZE_STEP / 2)
        };
        let step = if grow { step } else { -step };
        if layout::grow(&screen.splits, &mut self.settings, self.focus, dir, step) {
            self.settings_dirty = true;
        } else {
            self.message = Some((
                format!(
                    "the {} pane cannot get {} here",
                    self.focus.title(),
                    match (horizontal, grow) {
                        (true, true) => "wider",
                        (true, false) => "narrower",
                        (false, true) => "taller",
                        (false, false) => "shorter",
                    }
                ),
                false,
            ));
        }
    }

    /// `:layout [NAME]`.
    fn set_layout(&mut self, name: Option<&str>) {
        let Some(name) = name else {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            self.message = Some((
                format!(
                    "layout {} ({} on this terminal); choices: auto {} reset",
                    self.settings.choice.name(),
                    self.kind().name(),
                    names.join(" ")
                ),
                false,
            ));
            return;
        };
        if name == "reset" {
            self.settings = Settings::default();
            self.settings_dirty = true;
            self.message = Some((
                "layout auto, default pane sizes, no pane hidden".into(),
                false,
            ));
            return;
        }
        match Choice::named(name) {
            Some(c) => {
                self.settings.choice = c;
                self.settings_dirty = true;
                self.zoom = false;
                self.message = Some((
                    format!(
                        "layout {} ({} on this terminal)",
                        c.name(),
                        self.kind().name()
                    ),
                    false,
                ));
            }
            None => {
                self.message = Some((
                    format!("no layout {name:?}: auto, tabs, split, full or reset"),
                    true,
                ));
            }
        }
    }

    /// Applies one key command; returns what the machine thread must do.
    pub fn update(&mut self, cmd: Command) -> Vec<Request> {
        let was_prefix = std::mem::take(&mut self.prefix);
        match cmd {
            Command::None => {}
            Command::Guest(bytes) => {
                self.scroll[0] = 0;
                return vec![Request::Input(bytes)];
            }
            Command::Prefix => self.prefix = !was_prefix,
            Command::Quit => {
                self.quit = true;
                return vec![Request::Quit];
            }
            Command::Continue => return vec![Request::Continue],
            Command::Pause => return vec![Request::Pause],
            Command::StepInst => return vec![Request::StepInst],
            Command::StepLine => return vec![Request::StepLine],
            Command::Next => return vec![Request::Next],
            Command::Finish => return vec![Request::Finish],
            Command::Focus(p) => self.focus(p),
            Command::NextPane => {
                // Hidden panes are skipped (the tab layout has them all).
                let tabs = self.kind() == Kind::Tabs;
                let next = (1..=Pane::ALL.len())
                    .map(|d| Pane::ALL[(self.focus.index() + d) % Pane::ALL.len()])
                    .find(|p| tabs || !self.hidden(*p))
                    .unwrap_or(Pane::Console);
                self.focus(next);
            }
            Command::Zoom => self.zoom = !self.zoom,
            Command::Disasm => {
                self.disasm = !self.disasm;
                self.scroll[Pane::Source.index()] = 0;
            }
            Command::Hide => self.hide(self.focus),
            Command::Resize { horizontal, grow } => self.resize(horizontal, grow),
            Command::Help => self.help = true,
            Command::CloseHelp => self.help = false,
            Command::OpenCmdline => {
                self.cmdline = Some(String::new());
                self.history_pos = self.history.len();
            }
            Command::CmdChar(c) => self.cmdline.get_or_insert_default().push(c),
            Command::CmdBackspace => {
                if let Some(l) = &mut self.cmdline {
                    l.pop();
                }
            }
            Command::CmdCancel => self.cmdline = None,
            Command::HistoryPrev | Command::HistoryNext => {
                let up = cmd == Command::HistoryPrev;
                if up && self.history_pos > 0 {
                    self.history_pos -= 1;
                } else if !up && self.history_pos < self.history.len() {
                    self.history_pos += 1;
                }
                self.cmdline = Some(
                    self.history
                        .get(self.history_pos)
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            Command::CmdSubmit => {
                let line = self.cmdline.take().unwrap_or_default();
                if line.trim().is_empty() {
                    return Vec::new();
                }
                if self.history.last() != Some(&line) {
                    self.history.push(line.clone());
                }
                return self.run_line(&line);
            }
            Command::Scroll(n) => {
                let s = &mut self.scroll[self.focus.index()];
                *s = s.saturating_add_signed(n as isize);
            }
            Command::Toggle => match self.focus {
                Pane::PageTable => self.pt_expand(None),
                Pane::Syscalls => return self.update(Command::TracePause),
                Pane::Memory => {
                    // Virtual <-> physical, the same expression.
                    if let Some((count, expr, phys)) = self.mem_watch.clone() {
                        return self.examine(count, expr, !phys);
                    }
                }
                _ => {}
            },
            Command::Expand(open) => {
                if self.focus == Pane::PageTable {
                    self.pt_expand(Some(open));
                }
            }
            Command::TracePause => {
                self.strace_paused = match self.strace_paused {
                    Some(_) => None,
                    None => Some(self.strace_total),
                };
                self.scroll[Pane::Syscalls.index()] = 0;
                self.show(Pane::Syscalls);
            }
            Command::TraceFilter => {
                self.show(Pane::Syscalls);
                self.cmdline = Some("strace ".into());
                self.history_pos = self.history.len();
            }
            Command::WalkNext => return vec![Request::WalkNext],
            Command::WalkBack => return vec![Request::WalkBack],
            Command::Reverse(kind) => return vec![Request::Reverse(kind)],
            Command::ReverseContinue => return vec![Request::ReverseContinue],
            Command::Event(forward) => {
                return vec![Request::Landmark {
                    forward,
                    kinds: Vec::new(),
                }];
            }
            Command::Present => return vec![Request::Present],
            Command::Select(d) => {
                if self.focus == Pane::PageTable {
                    let n = self.pt_visible().len();
                    self.pt_row = self
                        .pt_row
                        .saturating_add_signed(d as isize)
                        .min(n.saturating_sub(1));
                    return Vec::new();
                }
                if self.focus == Pane::Processes {
                    let rows = self.procs.len().saturating_sub(1).max(1);
                    self.proc_row = self
                        .proc_row
                        .saturating_add_signed(d as isize)
                        .min(rows - 1);
                    let pid = self
                        .procs
                        .get(self.proc_row + 1)
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|p| p.parse().ok());
                    return vec![Request::Select(pid)];
                }
                let s = &mut self.scroll[self.focus.index()];
                *s = s.saturating_add_signed(-d as isize);
            }
        }
        Vec::new()
    }

    /// The memory pane follows `x/COUNTgx EXPR` from now on.
    fn examine(&mut self, count: usize, expr: Expr, phys: bool) -> Vec<Request> {
        let count = count.clamp(1, 512);
        self.mem_watch = Some((count, expr.clone(), phys));
        self.scroll[Pane::Memory.index()] = 0;
        self.show(Pane::Memory);
        vec![Request::Examine { count, expr, phys }]
    }

    /// Runs a `:` command line.
    fn run_line(&mut self, line: &str) -> Vec<Request> {
        let parsed = match command::parse(line) {
            Ok(l) => l,
            Err(e) => {
                self.message = Some((e, true));
                return Vec::new();
            }
        };
        self.message = None;
        match parsed {
            Parsed::Break(spec) => {
                self.show(Pane::Breakpoints);
                vec![Request::Break(spec)]
            }
            Parsed::Delete(n) => vec![Request::Delete(n)],
            Parsed::Continue => vec![Request::Continue],
            Parsed::Pause => vec![Request::Pause],
            Parsed::StepLine => vec![Request::StepLine],
            Parsed::StepInst => vec![Request::StepInst],
            Parsed::Next => vec![Request::Next],
            Parsed::Finish => vec![Request::Finish],
            Parsed::Reverse(k) => vec![Request::Reverse(k)],
            Parsed::ReverseContinue => vec![Request::ReverseContinue],
            Parsed::Goto(n) => vec![Request::Goto(n)],
            Parsed::Landmark { forward, kinds } => vec![Request::Landmark { forward, kinds }],
            Parsed::Present => vec![Request::Present],
            Parsed::When(w) => vec![Request::When(w)],
            Parsed::Examine { count, expr, phys } => self.examine(count, expr, phys),
            Parsed::PageTable(pid) => {
                self.show(Pane::PageTable);
                vec![Request::Select(pid)]
            }
            Parsed::KernelPageTable => {
                self.show(Pane::PageTable);
                vec![Request::KernelPageTable]
            }
            Parsed::Fds(pid) => {
                self.show(Pane::Processes);
                vec![Request::Select(Some(pid))]
            }
            Parsed::Strace(f) => {
                self.show(Pane::Syscalls);
                vec![Request::Strace(f)]
            }
            Parsed::Monitor(m) => vec![Request::Monitor(m)],
            Parsed::Layout(name) => {
                self.set_layout(name.as_deref());
                Vec::new()
            }
            Parsed::Hide(p) => {
                self.hide(p);
                Vec::new()
            }
            Parsed::Show(Some(p)) => {
                self.show(p);
                Vec::new()
            }
            Parsed::Show(None) => {
                if !self.settings.hidden.is_empty() {
                    self.settings.hidden.clear();
                    self.settings_dirty = true;
                }
                Vec::new()
            }
            Parsed::Help => {
                self.help = true;
                Vec::new()
            }
            Parsed::Quit => {
                self.quit = true;
                vec![Request::Quit]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::event::BreakSpec;

    #[test]
    fn console_keeps_lines_and_erases() {
        let mut c = Console::default();
        c.feed(b"init: starting sh\n$ lx\x08 \x08s\r\n");
        c.feed(b"$ ");
        let all: Vec<&str> = c.all().collect();
        assert_eq!(all, ["init: starting sh", "$ ls", "$ "]);
    }

    #[test]
    fn a_console_flood_without_newlines_wraps_and_stays_bounded() {
        let mut c = Console::default();
        let chunk = [b'x'; 10_000];
        for _ in 0..(SCROLLBACK * MAX_LINE / chunk.len() + 100) {
            c.feed(&chunk);
        }
        assert_eq!(c.lines.len(), SCROLLBACK);
        assert!(c.all().all(|l| l.len() <= MAX_LINE));
        c.feed(b"\nend\n");
        assert_eq!(c.lines.back().map(String::as_str), Some("end"));
    }

    #[test]
    fn command_line_runs_and_keeps_history() {
        let mut app = App::new();
        app.update(Command::OpenCmdline);
        for ch in "b sys_exec".chars() {
            app.update(Command::CmdChar(ch));
        }
        assert_eq!(
            app.update(Command::CmdSubmit),
            vec![Request::Break(BreakSpec::Func("sys_exec".into()))]
        );
        assert_eq!(app.cmdline, None);
        assert_eq!(app.detail, Pane::Breakpoints);
        // An unknown command: an error in the status bar, the line kept in the history.
        app.update(Command::OpenCmdline);
        "bogus".chars().for_each(|ch| {
            app.update(Command::CmdChar(ch));
        });
        assert_eq!(app.update(Command::CmdSubmit), vec![]);
        assert!(matches!(&app.message, Some((m, true)) if m.contains("bogus")));
        app.update(Command::OpenCmdline);
        app.update(Command::HistoryPrev);
        assert_eq!(app.cmdline.as_deref(), Some("bogus"));
        app.update(Command::HistoryPrev);
        assert_eq!(app.cmdline.as_deref(), Some("b sys_exec"));
    }

    #[test]
    fn prefix_lasts_one_key() {
        let mut app = App::new();
        app.update(Command::Prefix);
        assert!(app.key_mode().prefix);
        app.update(Command::Focus(Pane::Syscalls));
        assert!(!app.key_mode().prefix);
        assert!(!app.key_mode().console);
        assert_eq!(app.detail, Pane::Syscalls);
        assert_eq!(app.update(Command::Quit), vec![Request::Quit]);
        assert!(app.quit);
    }

    #[test]
    fn walk_keys_ask_the_machine_and_steps_focus_their_pane() {
        use crate::ui::event::WalkView;
        let mut app = App::new();
        assert_eq!(app.update(Command::WalkNext), vec![Request::WalkNext]);
        assert_eq!(app.update(Command::WalkBack), vec![Request::WalkBack]);
        // From the console the keys need the prefix; the pure map gives the same commands.
        let pre = keys::Mode {
            prefix: true,
            ..app.key_mode()
        };
        let bracket = |c| crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
        assert_eq!(keys::map(pre, bracket(']')), Command::WalkNext);
        assert_eq!(
            keys::map(app.key_mode(), bracket(']')),
            Command::Guest(b"]".to_vec())
        );
        // A step naming the page table focuses it (and, the walk showing, registers become
        // a detail pane).
        app.console.feed(b"$ echo hi\n");
        app.strace.push_back("[0] 1 init: fork() = 2".into());
        app.on_event(Event::Walk(Box::new(WalkView {
            step: 2,
            total: 3,
            pane: Some("pagetable".into()),
            ..WalkView::default()
        })));
        assert_eq!((app.focus, app.detail), (Pane::PageTable, Pane::PageTable));
        app.on_event(Event::Walk(Box::new(WalkView {
            step: 1,
            total: 3,
            pane: Some("regs".into()),
            reset: true,
            ..WalkView::default()
        })));
        assert_eq!((app.focus, app.detail), (Pane::Registers, Pane::Registers));
        // "back" booted again: the console and the trace start over.
        assert_eq!(app.console.all().collect::<Vec<_>>(), [""]);
        assert!(app.strace.is_empty());
        assert_eq!(app.walk.as_ref().map(|w| w.step), Some(1));
    }

    #[test]
    fn pt_kernel_shows_in_the_pane() {
        let mut app = App::new();
        app.update(Command::OpenCmdline);
        "pt kernel".chars().for_each(|c| {
            app.update(Command::CmdChar(c));
        });
        assert_eq!(
            app.update(Command::CmdSubmit),
            vec![Request::KernelPageTable]
        );
        assert_eq!(app.detail, Pane::PageTable);
    }
}
