//! Memory that stays on screen: `:x/16gx $sp` makes this pane follow an expression (registers
//! and numbers, `$a0+16`, `0x80000000`), read again at every stop and, while the guest runs,
//! with the other costly views. Virtual addresses go through the shown hart's page table
//! (its `satp`, as the hart itself would translate); `:xp/16gx ADDR`, or Enter/Space in this
//! pane, reads physical memory instead. Words changed since the previous stop are in the
//! accent colour. One or two words a row, as the width allows, each row led by its address.

use super::{ACCENT, block};
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub struct MemoryPane<'a>(pub &'a App);

/// Columns of one row with `n` words: the address, then `  0x` + 16 digits per word.
fn row_width(n: usize) -> usize {
    18 + 1 + n * 20
}

impl MemoryPane<'_> {
    /// The lines the pane draws in `width` columns.
    pub fn lines(&self, width: u16) -> Vec<Line<'static>> {
        let app = self.0;
        let Some(view) = app.snap.as_ref().and_then(|s| s.memory.as_ref()) else {
            return [
                "(empty: `:x/16gx $sp` shows 16 words at sp",
                "here, read again at every stop. Registers",
                "($a0+16, $pc, $sepc) and numbers work;",
                "`:xp/16gx ADDR` reads physical memory.)",
            ]
            .into_iter()
            .map(Line::raw)
            .collect();
        };
        // A title wider than the pane breaks before its parenthesis (the translation).
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut out = match view.title.split_once(" (") {
            Some((a, b)) if view.title.chars().count() > width as usize => vec![
                Line::styled(a.to_string(), bold),
                Line::styled(format!("  ({b}"), bold),
            ],
            _ => vec![Line::styled(view.title.clone(), bold)],
        };
        let per_row = if width as usize >= row_width(2) { 2 } else { 1 };
        for row in view.words.chunks(per_row) {
            let mut spans = vec![Span::raw(format!("{:#018x}:", row[0].0))];
            for &(addr, v) in row {
                let text = match v {
                    Some(v) => format!("  {v:#018x}"),
                    None => "  <cannot read>".to_string(),
                };
                spans.push(if app.mem_changed(addr, v) {
                    Span::styled(
                        text,
                        Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
                    )
                } else {
                    Span::raw(text)
                });
            }
            out.push(Line::from(spans));
        }
        out
    }
}

impl Widget for MemoryPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let mut block = block(app, Pane::Memory);
        if let Some((_, _, phys)) = &app.mem_watch {
            let other = if *phys { "virtual" } else { "physical" };
            block = block.title_bottom(Line::raw(format!(" Enter: {other} ")));
        }
        let inner = block.inner(area);
        block.render(area, buf);
        let lines = self.lines(inner.width);
        let skip = app.scroll[Pane::Memory.index()].min(lines.len().saturating_sub(1));
        let shown: Vec<Line> = lines
            .into_iter()
            .skip(skip)
            .take(inner.height as usize)
            .collect();
        Paragraph::new(shown).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::event::{Event, MemView};
    use crate::ui::keys::Command;
    use crate::ui::panes::testing::{app, has, lines, snapshot};

    fn view(words: &[(u64, Option<u64>)]) -> MemView {
        MemView {
            title: "x/4gx $sp = 0x3fffff9f80 (virtual)".into(),
            words: words.to_vec(),
        }
    }

    #[test]
    fn a_hint_until_the_first_x() {
        let rows = lines(MemoryPane(&app()), 80, 6);
        assert!(has(&rows, "9 memory"), "{rows:?}");
        assert!(has(&rows, "`:x/16gx $sp`"), "{rows:?}");
    }

    #[test]
    fn words_two_a_row_and_changes_marked() {
        let mut app = app();
        let mut s = snapshot(false, 3, 7);
        s.memory = Some(view(&[
            (0x3fffff9f80, Some(1)),
            (0x3fffff9f88, Some(2)),
            (0x3fffff9f90, Some(3)),
            (0x3fffff9f98, None),
        ]));
        app.on_event(Event::Snapshot(Box::new(s)));
        let mut s = snapshot(false, 4, 7);
        s.memory = Some(view(&[
            (0x3fffff9f80, Some(1)),
            (0x3fffff9f88, Some(9)),
            (0x3fffff9f90, Some(3)),
            (0x3fffff9f98, None),
        ]));
        app.on_event(Event::Snapshot(Box::new(s)));
        let area = Rect::new(0, 0, 70, 6);
        let mut buf = Buffer::empty(area);
        MemoryPane(&app).render(area, &mut buf);
        let rows = crate::ui::panes::testing::rows(&buf);
        assert!(
            has(&rows, "x/4gx $sp = 0x3fffff9f80 (virtual)"),
            "{rows:#?}"
        );
        assert!(
            has(
                &rows,
                "0x0000003fffff9f80:  0x0000000000000001  0x0000000000000009"
            ),
            "{rows:#?}"
        );
        assert!(
            has(
                &rows,
                "0x0000003fffff9f90:  0x0000000000000003  <cannot read>"
            ),
            "{rows:#?}"
        );
        // The word that changed (2 -> 9) is marked; the one that did not is not.
        let y = rows.iter().position(|r| r.contains("9f80:")).unwrap() as u16;
        let x9 = rows[y as usize].find("0x0000000000000009").unwrap() as u16;
        let x1 = rows[y as usize].find("0x0000000000000001").unwrap() as u16;
        assert_eq!(buf[(x9 + 2, y)].fg, ACCENT);
        assert_ne!(buf[(x1 + 2, y)].fg, ACCENT);
        // Narrow: one word a row.
        let rows = lines(MemoryPane(&app), 44, 8);
        assert!(
            has(&rows, "0x0000003fffff9f88:  0x0000000000000009"),
            "{rows:#?}"
        );
    }

    #[test]
    fn x_follows_an_expression_and_enter_flips_to_physical() {
        use crate::ui::command::Expr;
        use crate::ui::event::Request;
        let mut app = app();
        app.update(Command::OpenCmdline);
        "x/16gx $sp".chars().for_each(|c| {
            app.update(Command::CmdChar(c));
        });
        let sp = Expr::parse("$sp").unwrap();
        assert_eq!(
            app.update(Command::CmdSubmit),
            vec![Request::Examine {
                count: 16,
                expr: sp.clone(),
                phys: false
            }]
        );
        assert_eq!(app.extra, Pane::Memory);
        app.update(Command::Focus(Pane::Memory));
        assert_eq!(
            app.update(Command::Toggle),
            vec![Request::Examine {
                count: 16,
                expr: sp,
                phys: true
            }]
        );
        let rows = lines(MemoryPane(&app), 60, 4);
        assert!(has(&rows, "Enter: virtual"), "{rows:?}");
    }
}
