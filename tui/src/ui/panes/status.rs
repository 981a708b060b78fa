//! The status bar: running or stopped (and why), hart, privilege mode, instructions retired,
//! MIPS; or the command line while it is open; or the last message (errors in the accent
//! colour, reversed) until the next command.

use super::ACCENT;
use crate::ui::app::App;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};
use session::inspect::state::mode_name;

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
            vec![state, msg]
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
}
