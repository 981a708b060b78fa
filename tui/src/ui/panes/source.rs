//! Source at the pc: the file around the current line (marked), or the disassembly when the
//! ELF has no line for the pc. `Ctrl-A d` (`d` in this pane) switches to the disassembly at
//! the pc and back; the bottom border names the function and file:line, and says which key
//! shows the other view.

use super::{ACCENT, block};
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

pub struct SourcePane<'a>(pub &'a App);

impl Widget for SourcePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let Some(s) = &app.snap else {
            return block(app, Pane::Source).render(area, buf);
        };
        let (src, other) = if app.disasm && !s.disasm.lines.is_empty() {
            (&s.disasm, "source")
        } else {
            (&s.source, "disassembly")
        };
        // Without a source line the source view is the disassembly: no other view to offer.
        let title = if s.source == s.disasm {
            format!(" {} ", src.title)
        } else {
            format!(" {} · Ctrl-A d: {other} ", src.title)
        };
        let block = block(app, Pane::Source).title_bottom(Line::raw(title));
        let inner = block.inner(area);
        block.render(area, buf);
        let h = inner.height as usize;
        // Keep the current line a third of the way down (PgUp/PgDn move the view).
        let cur = src.current.unwrap_or(0);
        let first = (cur.saturating_sub(h / 3))
            .saturating_sub(app.scroll[Pane::Source.index()])
            .min(src.lines.len().saturating_sub(1));
        let text: Vec<Line> = src
            .lines
            .iter()
            .enumerate()
            .skip(first)
            .take(h)
            .map(|(i, l)| {
                if Some(i) == src.current {
                    Line::styled(
                        format!("▶{l}"),
                        Style::default()
                            .fg(ACCENT)
                            .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                    )
                } else {
                    Line::raw(format!(" {l}"))
                }
            })
            .collect();
        Paragraph::new(text).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{app, has, lines};

    #[test]
    fn marks_the_current_line_and_names_it() {
        let app = app();
        let rows = lines(SourcePane(&app), 60, 6);
        assert!(has(&rows, "▶  412 pub fn sys_exec() -> u64 {"), "{rows:?}");
        assert!(has(&rows, "   411 }"), "{rows:?}");
        assert!(has(&rows, "sys_exec (kernel/sysfile.rs:412)"), "{rows:?}");
    }

    #[test]
    fn d_shows_the_disassembly_and_back() {
        let mut app = app();
        app.update(crate::ui::keys::Command::Disasm);
        let rows = lines(SourcePane(&app), 80, 6);
        assert!(has(&rows, "▶0x0000000080004a10 <sys_exec>"), "{rows:?}");
        assert!(has(&rows, "Ctrl-A d: source"), "{rows:?}");
        app.update(crate::ui::keys::Command::Disasm);
        let rows = lines(SourcePane(&app), 80, 6);
        assert!(has(&rows, "Ctrl-A d: disassembly"), "{rows:?}");
    }
}
