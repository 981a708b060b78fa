//! The walkthrough's narrative: the walk's title, `step n/N: name`, the step's text
//! wrapped, its check outcomes (`ok` or `FAIL`), and the keys that move through the walk.
//! Not a focusable pane: it sits beside the panes while a walk is played
//! (`xv6scope walk FILE` on a terminal).

use super::ACCENT;
use crate::ui::app::App;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

pub struct NarrativePane<'a>(pub &'a App);

impl Widget for NarrativePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Some(w) = &self.0.walk else {
            return;
        };
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(format!(" walkthrough: {} ", w.title), bold))
            .title_bottom(" ] next step · [ previous step (replayed) ");
        let mut lines = vec![Line::styled(
            format!("step {}/{}: {}", w.step, w.total, w.name),
            bold,
        )];
        lines.extend(reflow(&w.text).into_iter().map(Line::raw));
        if let Some(e) = &w.error {
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!("not reached: {e}"),
                Style::default()
                    .fg(ACCENT)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ));
            lines.push(Line::raw(
                "(the machine went its own way since the last step? `[` replays the walk up to \
                 the step before this one, `]` then plays this one again)",
            ));
        }
        if !w.outcomes.is_empty() {
            lines.push(Line::raw(""));
        }
        for (ok, text) in &w.outcomes {
            let mark = if *ok {
                Span::styled("ok   ", bold)
            } else {
                Span::styled(
                    "FAIL ",
                    Style::default()
                        .fg(ACCENT)
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                )
            };
            lines.push(Line::from(vec![mark, Span::raw(text.clone())]));
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block)
            .render(area, buf);
    }
}

/// Rows the narrative needs at `width` columns (borders included), about: the text's
/// wrapped lines, the outcomes, the title rows.
pub fn height(app: &App, width: u16) -> u16 {
    let Some(w) = &app.walk else {
        return 0;
    };
    let inner = width.saturating_sub(2).max(1) as usize;
    let text: usize = reflow(&w.text)
        .iter()
        .map(|l| l.chars().count().div_ceil(inner).max(1))
        .sum();
    let checks: usize = w
        .outcomes
        .iter()
        .map(|(_, t)| (t.chars().count() + 5).div_ceil(inner))
        .sum();
    let extra = usize::from(!w.outcomes.is_empty()) + 4 * usize::from(w.error.is_some());
    (3 + text + checks + extra).min(u16::MAX as usize) as u16
}

/// The narrative's lines, for wrapping to the pane's width: the file's line breaks inside a
/// paragraph are undone (they were made for an editor's width), blank lines and lines that
/// start a list item or an indented block are kept.
pub fn reflow(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in text.trim().lines() {
        let t = line.trim_end();
        let keep = t.is_empty() || t.starts_with([' ', '\t', '-', '*', '|']);
        match out.last_mut() {
            Some(last) if open && !keep => {
                last.push(' ');
                last.push_str(t);
            }
            _ => out.push(t.to_string()),
        }
        open = !t.is_empty() && !t.starts_with([' ', '\t', '|']);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::event::{Event, WalkView};
    use crate::ui::panes::testing::{app, has, lines};

    fn view() -> WalkView {
        WalkView {
            title: "fork, exec and wait".into(),
            step: 2,
            total: 5,
            name: "fork enters the kernel".into(),
            text: "The shell calls fork: ecall traps to the trampoline's uservec, which saves \
                   the user registers in the trapframe.\nLook at a7 in the registers."
                .into(),
            outcomes: vec![
                (true, "reg.a7 = 1".into()),
                (false, "mode = \"S\" (expected \"U\")".into()),
            ],
            error: None,
            pane: Some("regs".into()),
            reset: false,
        }
    }

    #[test]
    fn paragraphs_are_joined_lists_and_blank_lines_kept() {
        let text = "The shell\nforks.\n\n- one\n- two\n  code\nafter";
        assert_eq!(
            reflow(text),
            ["The shell forks.", "", "- one", "- two", "  code", "after"]
        );
    }

    #[test]
    fn shows_step_text_wrapped_and_outcomes() {
        let mut app = app();
        app.on_event(Event::Walk(Box::new(view())));
        let rows = lines(NarrativePane(&app), 50, 14);
        for want in [
            "walkthrough: fork, exec and wait",
            "step 2/5: fork enters the kernel",
            "The shell calls fork: ecall traps to the",
            "registers in the trapframe. Look at a7 in the",
            "ok   reg.a7 = 1",
            "FAIL mode = \"S\" (expected \"U\")",
            "] next step",
        ] {
            assert!(has(&rows, want), "missing {want:?}: {rows:#?}");
        }
    }
}
