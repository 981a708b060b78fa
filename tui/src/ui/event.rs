//! The one event type the UI thread waits on, and the messages between the UI and the machine.
//!
//! Three producers feed one channel of [`Event`]: the terminal reader thread (keys, resizes),
//! the machine thread ([`Snapshot`]s, command output) and the UI loop's own frame clock
//! (ticks, implied by a receive timeout). The UI answers with [`Request`]s on a second
//! channel. Invariant: a snapshot is self-contained except for `console` and `strace`, which
//! are deltas since the previous snapshot (the UI appends them to its scrollback), so no
//! snapshot may be dropped — the channel is unbounded and the machine thread sends at most
//! ~20 a second while running and only on change while stopped.

use crossterm::event::{KeyEvent, MouseEvent};
use session::inspect::state::HartState;

/// Something the UI thread reacts to.
#[derive(Debug)]
pub enum Event {
    /// A key press from the terminal.
    Key(KeyEvent),
    /// A click or wheel turn (crossterm's mouse capture).
    Mouse(MouseEvent),
    /// The terminal changed size (the next frame redraws everything).
    Resize,
    /// The machine's state.
    Snapshot(Box<Snapshot>),
    /// Lines a command produced (`x/8gx`, `mon ps`...), for the output pane.
    Output(Vec<String>),
    /// A one-line message for the status bar; `error` shows it in the error colour.
    Message { text: String, error: bool },
    /// The machine thread ended (guest powered off, gdb killed it, or a quit was asked).
    Exited { code: i32, why: String },
    /// The walkthrough moved (a step played, or the machine rebooted for "back").
    Walk(Box<WalkView>),
}

/// Where the walkthrough is, for the narrative pane.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalkView {
    pub title: String,
    /// The step shown, from 1; 0 before the first step.
    pub step: usize,
    pub total: usize,
    /// The step's name and narrative (the walk's title and a hint at step 0).
    pub name: String,
    pub text: String,
    /// Check outcomes: (held, `reg.a7 = 7`).
    pub outcomes: Vec<(bool, String)>,
    /// Why the step's target was not reached, if it was not.
    pub error: Option<String>,
    /// The pane the step names (`regs`, `pagetable`, `strace`...), focused when it is shown.
    pub pane: Option<String>,
    /// The machine rebooted: the console and the trace start again with this event.
    pub reset: bool,
}

/// A breakpoint as the user writes it (`b FUNC`, `b FILE:LINE`, `b *ADDR`, `b syscall NAME`,
/// `b pid N`); the session resolves it.
pub use session::Spec as BreakSpec;

/// What the UI asks of the machine thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Keys typed into the guest console.
    Input(Vec<u8>),
    Continue,
    Pause,
    /// One instruction of the current hart.
    StepInst,
    /// Until the source line changes.
    StepLine,
    /// Until the source line changes in this frame or a caller's.
    Next,
    /// Until the current function returns.
    Finish,
    /// Back one instruction, line, over calls or out of the function; back to the last
    /// hit; to a position (the session's timeline).
    Reverse(session::StepKind),
    ReverseContinue,
    Goto(u64),
    /// To the nearest landmark after (`forward`) or before the current position, of one of
    /// these kinds (any when empty): the timeline bar's events.
    Landmark {
        forward: bool,
        kinds: Vec<session::landmarks::Kind>,
    },
    /// Back to the present (the furthest position reached).
    Present,
    /// Back to the last write of what the spec names (`:when`).
    When(session::WhenSpec),
    Break(BreakSpec),
    /// Delete breakpoint number N (1-based, as the breakpoints pane lists them).
    Delete(usize),
    /// `x/Ngx EXPR`: the memory pane shows N doublewords at EXPR, evaluated again at
    /// every refresh, through the current hart's page table (or physical: `phys`).
    Examine {
        count: usize,
        expr: super::command::Expr,
        phys: bool,
    },
    /// Which process the page-table and fd panes show (None: the one on the current hart).
    Select(Option<i64>),
    /// `strace FILTER` (`off` stops the trace).
    Strace(String),
    /// A debugger view command (`ps`, `pt 3 tree`, `sym ADDR`...), output to the output pane.
    Monitor(String),
    /// Show the kernel's page table in the page-table pane (until the next `Select`).
    KernelPageTable,
    /// Which of the costly views are on screen (only those are refreshed).
    Visible {
        procs: bool,
        pagetable: bool,
        syscalls: bool,
    },
    /// Walkthrough: play the next step from wherever the machine is.
    WalkNext,
    /// Walkthrough: reboot and replay up to the step before the current one.
    WalkBack,
    Quit,
}

/// A page-table tree as the page-table pane shows it (built by `ui::ptree`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PtView {
    /// `pid 3 (sh)` or `the kernel`, and the root.
    pub title: String,
    /// Rows in walk order; children follow their table row at a greater depth.
    pub rows: Vec<PtRow>,
    /// Leaf changes since the previous stop, as lines (`+`, `-`, `~`); empty when none.
    pub changes: Vec<String>,
}

/// One row: a table pointer (a branch that expands) or a run of like leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PtRow {
    /// 0 for level-2 entries, 1 and 2 below.
    pub depth: u8,
    pub text: String,
    /// A table pointer: its children follow.
    pub branch: bool,
    /// Stable identity across snapshots (va and level), for the expanded/collapsed state.
    pub key: u64,
    /// `+` added, `~` changed since the previous stop, ' ' otherwise.
    pub mark: char,
}

/// The memory pane: an expression's words as of one snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemView {
    /// `x/16gx $sp = 0x3fffff9f80 (virtual, satp 0x8000…)` or why it could not be evaluated.
    pub title: String,
    /// The words read, from the lowest address: (address, value; None when it cannot be
    /// read — not mapped, or outside RAM). Reading stops at the first unreadable word.
    pub words: Vec<(u64, Option<u64>)>,
}

/// Where the source pane's text came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// `sys_exec (kernel/sysfile.rs:412)` or `0x80001234`.
    pub title: String,
    pub lines: Vec<String>,
    /// Index in `lines` of the current line.
    pub current: Option<usize>,
}

/// Columns of the timeline bar the engine sends; the status bar fits them to its width.
pub const BAR_COLUMNS: usize = 512;

/// What the UI draws from: the machine as of one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub running: bool,
    /// Bumped at every stop (breakpoint, pause, step), so the UI knows "since the last stop".
    pub stop_seq: u64,
    /// Why the machine last stopped, in words.
    pub stop_reason: String,
    /// The hart shown (the one that stopped, or hart 0).
    pub state: HartState,
    pub harts: usize,
    pub instret: u64,
    /// The position on the session's timeline and the present (the furthest reached), when
    /// the timeline is on.
    pub position: Option<(u64, u64)>,
    /// The timeline bar (landmarks from the start to the present in [`BAR_COLUMNS`]
    /// columns), when the timeline is on.
    pub timeline: Option<session::landmarks::Bar>,
    pub mips: f64,
    /// Console bytes since the previous snapshot.
    pub console: Vec<u8>,
    /// Syscall trace lines since the previous snapshot, as text.
    pub strace: Vec<String>,
    /// System calls completed since the previous snapshot; the UI thread formats them
    /// (after `strace`), which keeps the formatting off the machine thread.
    pub records: Vec<std::sync::Arc<session::inspect::strace::Record>>,
    pub tracing: bool,
    pub source: Source,
    /// The disassembly around the pc (the source pane shows it on `Ctrl-A d`, and when
    /// there is no source).
    pub disasm: Source,
    /// The memory pane (None: no `x` command yet).
    pub memory: Option<MemView>,
    /// `ps` output; None when not refreshed in this snapshot (keep the previous one).
    pub procs: Option<Vec<String>>,
    /// `fds PID` of the selected process.
    pub fds: Option<Vec<String>>,
    /// The page table of the selected process (or the kernel's).
    pub pagetable: Option<PtView>,
    /// Breakpoints, numbered from 1 in this order.
    pub breakpoints: Vec<String>,
}
