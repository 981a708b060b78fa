//! The status bar: running or stopped (and why), hart, privilege mode, instructions retired,
//! MIPS; or the command line while it is open; or the last message (errors in the accent
//! colour, reversed) until the next command. With the timeline on, a third line: the run
//! from its start to the present, each column marked with its most notable event (`B` a
//! breakpoint or watchpoint hit, `i` console input, `f` a fault, `·` system calls, `|` a
//! snapshot) and the current position highlighted.

use super::ACCENT;
use crate::ui::app::App;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use session::inspect::state::mode_name;
use session::landmarks::{Bar, Kind};

pub struct StatusBar<'a>(pub &'a App);

impl StatusBar<'_> {
    /// The state part: `running · hart 0 · U · 1234567 instr · pos 1234600 · 250.1 MIPS`;
    /// behind the present, `pos N (past, present M)`.
    pub fn state_text(app: &App) -> String {
        let Some(s) = &app.snap else {
            return "booting…".into();
        };
        let run = if s.running {
            "running".to_string()
        } else {
            format!("stopped: {}", s.stop_reason)
        };
        let mips = if s.running {
            format!(" · {:.1} MIPS", s.mips)
        } else {
            String::new()
        };
        let position = match s.position {
            Some((at, present)) if at < present => {
                format!(" · pos {at} (past, present {present})")
            }
            Some((at, _)) => format!(" · pos {at}"),
            None => String::new(),
        };
        format!(
            "{run} · hart {}/{} · {} · pc {:#x} · {} instr{position}{mips}",
            s.state.id,
            s.harts,
            mode_name(s.state.mode),
            s.state.pc,
            s.instret
        )
    }
}

/// The mark of a column of the timeline bar.
fn mark(k: Option<Kind>) -> char {
    match k {
        None => '─',
        Some(Kind::Snapshot) => '|',
        Some(Kind::Syscall) => '·',
        Some(Kind::Fault) => 'f',
        Some(Kind::Input) => 'i',
        Some(Kind::Hit) => 'B',
    }
}

impl StatusBar<'_> {
    /// The bar fitted to `width` columns: the marks, and the current position's column.
    pub fn fit(bar: &Bar, width: usize) -> (String, usize) {
        let n = bar.cells.len().max(1);
        let width = width.max(1);
        let marks = (0..width)
            .map(|j| {
                let (from, to) = (j * n / width, ((j + 1) * n / width).max(j * n / width + 1));
                mark(
                    bar.cells[from.min(n - 1)..to.min(n)]
                        .iter()
                        .flatten()
                        .max()
                        .copied(),
                )
            })
            .collect();
        (marks, (bar.current * width / n).min(width - 1))
    }

    /// The timeline line: `timeline ▕──·|·i·B·──▏ 3.1G`.
    fn timeline_line(bar: &Bar, width: usize) -> Line<'static> {
        let present = format!(" {}", short(bar.present));
        let inner = width.saturating_sub(11 + present.len()).max(8);
        let (marks, cur) = Self::fit(bar, inner);
        let chars: Vec<char> = marks.chars().collect();
        let before: String = chars[..cur].iter().collect();
        let at: String = chars[cur..=cur].iter().collect();
        let after: String = chars[cur + 1..].iter().collect();
        Line::from(vec![
            Span::raw("timeline ▕"),
            Span::raw(before),
            Span::styled(
                at,
                Style::default()
                    .fg(ACCENT)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ),
            Span::raw(after),
            Span::raw("▏"),
            Span::raw(present),
        ])
    }
}

/// 3.1G, 52.0M, 9.5k, 712: positions in a few characters.
fn short(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.1}G", n as f64 / 1e9),
    }
}

impl Widget for StatusBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let reverse = Style::default().add_modifier(Modifier::REVERSED);
        let lines = if let Some(cl) = &app.cmdline {
            vec![Line::raw(format!(":{cl}█"))]
        } else {
            let state = Line::styled(Self::state_text(app), reverse);
            let hint = if app.prefix {
                "Ctrl-A …"
            } else {
                "Ctrl-A ? help · Ctrl-A : command · Ctrl-A x quit"
            };
            let msg = match &app.message {
                Some((m, true)) => Line::styled(
                    m.clone(),
                    Style::default()
                        .fg(ACCENT)
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                ),
                Some((m, false)) => Line::raw(m.clone()),
                None => Line::raw(hint),
            };
            let mut lines = vec![state, msg];
            if let Some(bar) = app.snap.as_ref().and_then(|s| s.timeline.as_ref()) {
                lines.push(Self::timeline_line(bar, area.width as usize));
            }
            lines
        };
        Paragraph::new(lines).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keys::Command;
    use crate::ui::panes::testing::{app, has, lines};

    #[test]
    fn state_message_and_command_line() {
        let mut app = app();
        let rows = lines(StatusBar(&app), 120, 2);
        assert!(
            has(
                &rows,
                "stopped: breakpoint sys_exec hit on hart 1 · hart 1/3 · S · pc 0x80004a10 · 123456789 instr"
            ),
            "{rows:?}"
        );
        assert!(has(&rows, "Ctrl-A ? help"), "{rows:?}");
        app.update(Command::OpenCmdline);
        app.update(Command::CmdChar('z'));
        let rows = lines(StatusBar(&app), 120, 2);
        assert_eq!(rows[0], ":z█");
        app.update(Command::CmdSubmit);
        let rows = lines(StatusBar(&app), 120, 2);
        assert!(has(&rows, "unknown command \"z\""), "{rows:?}");
    }

    #[test]
    fn the_timeline_bar_keeps_the_most_notable_event_of_each_column() {
        let mut cells = vec![None; 8];
        cells[0] = Some(Kind::Snapshot);
        cells[1] = Some(Kind::Syscall);
        cells[2] = Some(Kind::Syscall);
        cells[3] = Some(Kind::Hit);
        cells[6] = Some(Kind::Input);
        let bar = Bar {
            cells,
            current: 5,
            present: 3_100_000_000,
        };
        assert_eq!(StatusBar::fit(&bar, 8), ("|··B──i─".to_string(), 5));
        // Two columns into one: a call over a snapshot, the hit over the call, input over nothing.
        assert_eq!(StatusBar::fit(&bar, 4), ("·B─i".to_string(), 2));
        let mut app = app();
        app.snap.as_mut().expect("snapshot").timeline = Some(bar);
        let rows = lines(StatusBar(&app), 40, 3);
        assert!(rows[2].starts_with("timeline ▕|"), "{rows:?}");
        assert!(rows[2].ends_with("▏ 3.1G"), "{rows:?}");
    }
}
