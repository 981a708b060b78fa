//! One widget per pane, each drawing from [`App`] alone (never from the machine).
//!
//! Every pane is `impl Widget for XPane<'_>` over a borrowed `App`, so a test renders it
//! into a `TestBackend` buffer from a recorded state and reads the lines back. Colours:
//! only the terminal's default foreground/background plus bold, reverse and one accent
//! colour, so the panes read on dark and light terminals alike.

pub mod breakpoints;
pub mod console;
pub mod help;
pub mod memory;
pub mod output;
pub mod pagetable;
pub mod processes;
pub mod registers;
pub mod source;
pub mod status;
pub mod syscalls;
pub mod walk;

use super::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

/// The accent for marks (changed registers, the stop, the current line).
pub const ACCENT: ratatui::style::Color = ratatui::style::Color::Magenta;

/// A bordered block titled `n title`, bold when focused.
pub fn block(app: &App, pane: Pane) -> Block<'static> {
    let n = Pane::ALL.iter().position(|p| *p == pane).unwrap_or(0) + 1;
    let focused = app.focus == pane;
    let style = if focused {
        Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
    } else {
        Style::default()
    };
    Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(format!(" {n} {} ", pane.title()), style))
}

/// Draws `lines` in a block: the last ones that fit, moved back by the pane's scroll.
pub fn tail(app: &App, pane: Pane, lines: &[String], area: Rect, buf: &mut Buffer) {
    let block = block(app, pane);
    let inner = block.inner(area);
    block.render(area, buf);
    let h = inner.height as usize;
    let back = app.scroll[Pane::ALL.iter().position(|p| *p == pane).unwrap_or(0)]
        .min(lines.len().saturating_sub(h));
    let end = lines.len() - back;
    let start = end.saturating_sub(h);
    let text: Vec<Line> = lines[start..end]
        .iter()
        .map(|l| Line::raw(l.as_str()))
        .collect();
    Paragraph::new(text).render(inner, buf);
}

/// Draws `lines` in a block from the top, moved down by the pane's scroll.
pub fn head(app: &App, pane: Pane, lines: &[String], area: Rect, buf: &mut Buffer) {
    let block = block(app, pane);
    let inner = block.inner(area);
    block.render(area, buf);
    let skip = app.scroll[Pane::ALL.iter().position(|p| *p == pane).unwrap_or(0)]
        .min(lines.len().saturating_sub(1));
    let text: Vec<Line> = lines
        .iter()
        .skip(skip)
        .take(inner.height as usize)
        .map(|l| Line::raw(l.as_str()))
        .collect();
    Paragraph::new(text).render(inner, buf);
}

/// Draws the pane `p`.
pub fn render(app: &App, p: Pane, area: Rect, buf: &mut Buffer) {
    match p {
        Pane::Console => console::ConsolePane(app).render(area, buf),
        Pane::Source => source::SourcePane(app).render(area, buf),
        Pane::Registers => registers::RegistersPane(app).render(area, buf),
        Pane::Processes => processes::ProcessesPane(app).render(area, buf),
        Pane::PageTable => pagetable::PageTablePane(app).render(area, buf),
        Pane::Syscalls => syscalls::SyscallsPane(app).render(area, buf),
        Pane::Breakpoints => breakpoints::BreakpointsPane(app).render(area, buf),
        Pane::Output => output::OutputPane(app).render(area, buf),
        Pane::Memory => memory::MemoryPane(app).render(area, buf),
    }
}

#[cfg(test)]
pub mod testing {
    //! A recorded machine state and a buffer-to-lines helper for the pane tests.
    use crate::ui::app::App;
    use crate::ui::event::{Event, Snapshot, Source};
    use machine::cpu::Mode;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::widgets::Widget;
    use session::inspect::state::HartState;

    /// A stop at a breakpoint in `sys_exec`, as the bundled kernel shows it.
    pub fn snapshot(running: bool, seq: u64, a0: u64) -> Snapshot {
        let mut x = [0u64; 32];
        x[2] = 0x003f_ffff_9f80;
        x[10] = a0;
        Snapshot {
            running,
            stop_seq: seq,
            stop_reason: "breakpoint sys_exec hit on hart 1".into(),
            state: HartState {
                id: 1,
                mode: Mode::Supervisor,
                pc: 0x8000_4a10,
                x,
                waiting: false,
                csrs: vec![
                    ("sstatus", 0x2_0000_0020),
                    ("satp", 0x8000_0000_0008_7fff),
                    ("scause", 8),
                    ("sepc", 0x1634),
                    ("stval", 0),
                    ("mcause", 0),
                    ("sie", 0x222),
                    ("sip", 0x20),
                ],
            },
            harts: 3,
            instret: 123_456_789,
            position: None,
            timeline: None,
            mips: 0.0,
            console: b"init: starting sh\n$ echo hi\n".to_vec(),
            strace: vec![
                "[1] 2 sh: read(0, 0x3f50, 1) = 1".into(),
                "[1] 2 sh: fork() = 3".into(),
            ],
            records: Vec::new(),
            tracing: true,
            source: Source {
                title: "sys_exec (kernel/sysfile.rs:412)".into(),
                lines: vec![
                    "  411 }".into(),
                    "  412 pub fn sys_exec() -> u64 {".into(),
                    "  413     let path = argstr(0);".into(),
                ],
                current: Some(1),
            },
            disasm: Source {
                title: "sys_exec (kernel/sysfile.rs:412)".into(),
                lines: vec![
                    "0x0000000080004a10 <sys_exec>         7119      addi sp, sp, -208".into(),
                    "0x0000000080004a12 <sys_exec+0x2>     e586      sd ra, 200(sp)".into(),
                ],
                current: Some(0),
            },
            memory: None,
            procs: Some(vec![
                format!(
                    "{:>4} {:>5} {:>5} {:<9} {}",
                    "slot", "pid", "ppid", "state", "name"
                ),
                format!("{:>4} {:>5} {:>5} {:<9} {}", 0, 1, "", "sleeping", "init"),
                format!("{:>4} {:>5} {:>5} {:<9} {}", 1, 2, 1, "sleeping", "sh"),
            ]),
            fds: Some(vec![
                "fds of pid 3 (sh)".into(),
                "  0  device console  readable writable".into(),
            ]),
            pagetable: Some(crate::ui::ptree::build(
                "pid 3 (sh)".into(),
                &crate::ui::ptree::tests::user_tree(),
                &session::inspect::pagetable::Names::user(0x4000),
                &std::collections::BTreeMap::new(),
            )),
            breakpoints: vec![
                " 1  0x80004a10  kernel::sysfile::sys_exec (kernel/sysfile.rs:412)".into(),
            ],
        }
    }

    /// An app that has seen two stops (so registers can differ) of the recorded state.
    pub fn app() -> App {
        let mut app = App::new();
        app.on_event(Event::Snapshot(Box::new(snapshot(false, 1, 5))));
        let mut second = snapshot(false, 2, 7);
        second.console = b"hi\n$ ".to_vec();
        second.strace.clear();
        app.on_event(Event::Snapshot(Box::new(second)));
        app
    }

    /// Renders `w` into a `width`x`height` buffer and returns its rows, right-trimmed.
    pub fn lines(w: impl Widget, width: u16, height: u16) -> Vec<String> {
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        w.render(area, &mut buf);
        rows(&buf)
    }

    pub fn rows(buf: &Buffer) -> Vec<String> {
        let a = buf.area;
        (0..a.height)
            .map(|y| {
                (0..a.width)
                    .map(|x| buf[(a.x + x, a.y + y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    /// Whether some row contains `s`.
    pub fn has(rows: &[String], s: &str) -> bool {
        rows.iter().any(|r| r.contains(s))
    }
}
