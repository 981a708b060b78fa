//! Breakpoints, numbered as `d N` deletes them (numbers are never reused, as in gdb; the
//! machine thread sends each line with its number).

use super::head;
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

pub struct BreakpointsPane<'a>(pub &'a App);

impl Widget for BreakpointsPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let list = app
            .snap
            .as_ref()
            .map(|s| s.breakpoints.as_slice())
            .unwrap_or_default();
        let lines: Vec<String> = if list.is_empty() {
            vec!["(none: `:b FUNC`, `:b FILE:LINE`, `:b *ADDR`)".into()]
        } else {
            list.to_vec()
        };
        head(app, Pane::Breakpoints, &lines, area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{app, has, lines};

    #[test]
    fn numbered_as_sent() {
        let rows = lines(BreakpointsPane(&app()), 80, 3);
        assert!(
            has(&rows, " 1  0x80004a10  kernel::sysfile::sys_exec"),
            "{rows:?}"
        );
        let rows = lines(BreakpointsPane(&crate::ui::app::App::new()), 80, 3);
        assert!(has(&rows, "(none"), "{rows:?}");
    }
}
