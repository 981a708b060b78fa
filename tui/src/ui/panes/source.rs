//! Source at the pc: the file around the current line (marked), or the disassembly when the
//! ELF has no line for the pc. The title names the function and file:line.

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
        let src = &s.source;
        let block = block(app, Pane::Source).title_bottom(Line::raw(format!(" {} ", src.title)));
        let inner = block.inner(area);
        block.render(area, buf);
        let h = inner.height as usize;
        // Keep the current line a third of the way down.
        let cur = src.current.unwrap_or(0);
        let first = cur.saturating_sub(h / 3);
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
}
