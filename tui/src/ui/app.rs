//! The UI's state and its one entry point for change, [`App::update`].
//!
//! `App` holds what the panes draw: the latest [`Snapshot`], the console scrollback and the
//! syscall trace (snapshots carry only their new bytes and lines), the registers at the
//! previous stop (to highlight what changed), focus, zoom, the command line and its history,
//! and the status-bar message. [`App::update`] takes a key [`Command`] and returns the
//! [`Request`]s for the machine thread; [`App::on_event`] folds in what the machine sent.
//! Both are plain functions of the state, so tests drive them without a terminal or machine.

use super::command::{self, Parsed};
use super::event::{Event, Request, Snapshot};
use super::keys::{self, Command};
use std::collections::VecDeque;

/// Console lines kept for scrollback.
pub const SCROLLBACK: usize = 5000;
/// Syscall trace lines kept.
pub const TRACE_KEEP: usize = 2000;

/// The panes, in tab order (`Ctrl-A 1..8`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
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
}

impl Pane {
    pub const ALL: [Pane; 8] = [
        Pane::Console,
        Pane::Source,
        Pane::Registers,
        Pane::Processes,
        Pane::PageTable,
        Pane::Syscalls,
        Pane::Breakpoints,
        Pane::Output,
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
        }
    }

    /// The tab bar's label: short enough that eight fit in 80 columns.
    pub fn short(self) -> &'static str {
        match self {
            Pane::Registers => "regs",
            Pane::Processes => "procs",
            Pane::PageTable => "pt",
            Pane::Breakpoints => "breaks",
            p => p.title(),
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
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
            match b {
                b'\n' => {
                    self.lines.push_back(std::mem::take(&mut self.partial));
                    if self.lines.len() > SCROLLBACK {
                        self.lines.pop_front();
                    }
                }
                0x08 => {
                    self.partial.pop();
                }
                b'\t' => self.partial.push_str("    "),
                0x20..=0x7e => self.partial.push(b as char),
                _ => {}
            }
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
    pub procs: Vec<String>,
    pub fds: Vec<String>,
    pub pagetable: Vec<String>,
    pub output: Vec<String>,
    /// x1..x31 at the stop before the current one (None before the second stop).
    pub prev_regs: Option<[u64; 32]>,
    stop_regs: Option<(u64, [u64; 32])>,
    pub focus: Pane,
    /// The detail pane shown at the bottom right of the wide layout.
    pub detail: Pane,
    pub zoom: bool,
    pub help: bool,
    pub prefix: bool,
    pub cmdline: Option<String>,
    pub history: Vec<String>,
    history_pos: usize,
    pub message: Option<(String, bool)>,
    /// Lines scrolled back, per pane index.
    pub scroll: [usize; 8],
    /// Selected row of the processes pane (0 = first process).
    pub proc_row: usize,
    pub quit: bool,
    pub exited: Option<String>,
}

impl App {
    pub fn new() -> App {
        App {
            detail: Pane::Processes,
            ..App::default()
        }
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
            Event::Key(_) | Event::Resize => {}
        }
    }

    fn snapshot(&mut self, mut s: Snapshot) {
        self.console.feed(&s.console);
        for l in s.strace.drain(..) {
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
        }
        if !s.running && self.stop_regs.is_none_or(|(seq, _)| seq != s.stop_seq) {
            self.prev_regs = self.stop_regs.map(|(_, r)| r);
            self.stop_regs = Some((s.stop_seq, s.state.x));
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

    /// Makes `p` visible: the focus on narrow screens, the detail pane on wide ones.
    fn show(&mut self, p: Pane) {
        if !matches!(p, Pane::Console | Pane::Source | Pane::Registers) {
            self.detail = p;
        }
    }

    fn focus(&mut self, p: Pane) {
        self.focus = p;
        self.show(p);
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
            Command::NextPane => self.focus(Pane::ALL[(self.focus.index() + 1) % Pane::ALL.len()]),
            Command::Zoom => self.zoom = !self.zoom,
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
            Command::Select(d) => {
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
            Parsed::Examine { count, addr } => vec![Request::Examine { count, addr }],
            Parsed::PageTable(pid) => {
                self.show(Pane::PageTable);
                vec![Request::Select(pid)]
            }
            Parsed::KernelPageTable => vec![Request::Monitor("pt kernel".into())],
            Parsed::Fds(pid) => {
                self.show(Pane::Processes);
                vec![Request::Select(Some(pid))]
            }
            Parsed::Strace(f) => {
                self.show(Pane::Syscalls);
                vec![Request::Strace(f)]
            }
            Parsed::Monitor(m) => vec![Request::Monitor(m)],
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
}
