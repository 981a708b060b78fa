//! The live syscall trace: one line per completed call, newest at the bottom. The view can
//! be paused (Space or `t`, `Ctrl-A t` from the console): it freezes while the trace keeps
//! collecting, and the bottom border says how many lines wait. `/` opens the filter prompt
//! (`:strace FILTER`); PgUp/PgDn, Up/Down and the wheel scroll.

use super::{ACCENT, block};
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

pub struct SyscallsPane<'a>(pub &'a App);

impl Widget for SyscallsPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let (shown, waiting) = app.strace_shown();
        let mut block = block(app, Pane::Syscalls);
        if app.strace_paused.is_some() {
            block = block.title_bottom(Line::styled(
                format!(" paused: {waiting} new lines waiting (Space resumes) "),
                Style::default()
                    .fg(ACCENT)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ));
        }
        let inner = block.inner(area);
        block.render(area, buf);
        let h = inner.height as usize;
        let lines: Vec<&str> = if shown == 0 && app.snap.as_ref().is_some_and(|s| !s.tracing) {
            vec!["(trace off: `:strace` turns it on)"]
        } else {
            let back = app.scroll[Pane::Syscalls.index()].min(shown.saturating_sub(h));
            let end = shown - back;
            app.strace
                .range(end.saturating_sub(h)..end)
                .map(String::as_str)
                .collect()
        };
        Paragraph::new(lines.into_iter().map(Line::raw).collect::<Vec<_>>()).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::event::Event;
    use crate::ui::keys::Command;
    use crate::ui::panes::testing::{app, has, lines, snapshot};

    #[test]
    fn newest_call_last() {
        let app = app();
        let rows = lines(SyscallsPane(&app), 50, 4);
        assert!(rows[0].contains("6 syscalls"), "{rows:?}");
        assert!(rows[1].contains("read(0, 0x3f50, 1) = 1"), "{rows:?}");
        assert!(rows[2].contains("sh: fork() = 3"), "{rows:?}");
    }

    #[test]
    fn pause_freezes_the_view_and_counts_what_waits() {
        let mut app = app();
        app.update(Command::Focus(Pane::Syscalls));
        app.update(Command::Toggle);
        let mut more = snapshot(false, 3, 7);
        more.console.clear();
        more.strace = vec!["[0] 3 echo: write(1, \"hi\\n\", 3) = 3".into()];
        app.on_event(Event::Snapshot(Box::new(more)));
        let rows = lines(SyscallsPane(&app), 70, 5);
        assert!(!has(&rows, "echo: write"), "{rows:#?}");
        assert!(has(&rows, "paused: 1 new lines waiting"), "{rows:#?}");
        assert!(has(&rows, "sh: fork() = 3"), "{rows:#?}");
        app.update(Command::TracePause);
        let rows = lines(SyscallsPane(&app), 70, 5);
        assert!(has(&rows, "echo: write"), "{rows:#?}");
        assert!(!has(&rows, "paused"), "{rows:#?}");
        // Scrolling back one line hides the newest.
        app.update(Command::Scroll(1));
        let rows = lines(SyscallsPane(&app), 70, 4);
        assert!(
            !has(&rows, "echo: write") && has(&rows, "fork() = 3"),
            "{rows:#?}"
        );
    }

    #[test]
    fn slash_opens_the_filter_prompt() {
        let mut app = app();
        app.update(Command::TraceFilter);
        assert_eq!(app.cmdline.as_deref(), Some("strace "));
        assert_eq!(app.detail, Pane::Syscalls);
    }
}
