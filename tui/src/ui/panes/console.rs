//! The guest console: the scrollback, newest line at the bottom (PgUp/PgDn scroll back).
//! Typing reaches the guest while this pane has focus.

use super::tail;
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

pub struct ConsolePane<'a>(pub &'a App);

impl Widget for ConsolePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        // Only the lines that can show: the pane height plus the scroll, not the scrollback.
        let want = area.height as usize + app.scroll[0];
        let n = app.console.lines.len() + 1;
        let lines: Vec<String> = app
            .console
            .all()
            .skip(n.saturating_sub(want))
            .map(str::to_string)
            .collect();
        tail(app, Pane::Console, &lines, area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{app, has, lines};

    #[test]
    fn shows_the_newest_lines() {
        let mut app = app();
        let rows = lines(ConsolePane(&app), 40, 6);
        assert!(rows[0].contains("1 console"), "{rows:?}");
        assert_eq!(
            rows[1..5]
                .iter()
                .map(|r| r.trim_matches('│').trim_end())
                .collect::<Vec<_>>(),
            ["init: starting sh", "$ echo hi", "hi", "$"]
        );
        // Scrolled back one line, the prompt is gone and the first line stays.
        app.scroll[0] = 1;
        let rows = lines(ConsolePane(&app), 40, 5);
        assert!(
            has(&rows, "init: starting sh") && rows[3].starts_with("│hi "),
            "{rows:?}"
        );
    }
}
