//! Output of command-line commands (`x/8gx`, `mon ps`, `pt kernel`...), newest at the bottom.

use super::tail;
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

pub struct OutputPane<'a>(pub &'a App);

impl Widget for OutputPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        tail(self.0, Pane::Output, &self.0.output, area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::event::Event;
    use crate::ui::panes::testing::{app, has, lines};

    #[test]
    fn shows_command_output() {
        let mut app = app();
        app.on_event(Event::Output(vec![
            "x/1gx 0x80000000".into(),
            "0x0000000080000000: 0x0000000000000297".into(),
        ]));
        assert_eq!(app.detail, Pane::Output);
        let rows = lines(OutputPane(&app), 60, 4);
        assert!(
            has(&rows, "0x0000000080000000: 0x0000000000000297"),
            "{rows:?}"
        );
    }
}
