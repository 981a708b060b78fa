//! The live syscall trace: one line per completed call, newest at the bottom.

use super::tail;
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

pub struct SyscallsPane<'a>(pub &'a App);

impl Widget for SyscallsPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let want = area.height as usize + app.scroll[5];
        let lines: Vec<String> = app
            .strace
            .iter()
            .skip(app.strace.len().saturating_sub(want))
            .cloned()
            .collect();
        let lines = if lines.is_empty() && app.snap.as_ref().is_some_and(|s| !s.tracing) {
            vec!["(trace off: `:strace` turns it on)".to_string()]
        } else {
            lines
        };
        tail(app, Pane::Syscalls, &lines, area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{app, lines};

    #[test]
    fn newest_call_last() {
        let app = app();
        let rows = lines(SyscallsPane(&app), 50, 4);
        assert!(rows[0].contains("6 syscalls"), "{rows:?}");
        assert!(rows[1].contains("read(0, 0x3f50, 1) = 1"), "{rows:?}");
        assert!(rows[2].contains("sh: fork() = 3"), "{rows:?}");
    }
}
