//! The page table of the selected process (the processes pane's choice, `pt PID`), of the
//! process on the current hart by default, or the kernel's (`pt kernel`), as a tree: one row
//! per table pointer (▾ expanded, ▸ collapsed) and per run of like leaves, indented by
//! level, known pages named. Rows added (`+`) or changed (`~`) since the previous stop are
//! marked in the accent colour, and the whole diff (removals too) follows the tree.
//! Up/Down select a row; Enter, Space or Right/Left expand and collapse.

use super::{ACCENT, block};
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub struct PageTablePane<'a>(pub &'a App);

impl PageTablePane<'_> {
    /// The lines drawn, and the index of the selected one.
    fn lines(&self) -> (Vec<Line<'static>>, usize) {
        let app = self.0;
        let pt = &app.pagetable;
        let focused = app.focus == Pane::PageTable;
        let mut out = vec![Line::styled(
            pt.title.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        )];
        let vis = app.pt_visible();
        for (n, &i) in vis.iter().enumerate() {
            let r = &pt.rows[i];
            let fold = match (r.branch, app.pt_collapsed.contains(&r.key)) {
                (true, true) => "▸ ",
                (true, false) => "▾ ",
                _ => "  ",
            };
            let indent = "  ".repeat(r.depth as usize);
            let mark = Span::styled(
                format!("{} ", r.mark),
                Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
            );
            let mut style = Style::default();
            if r.mark != ' ' {
                style = style.fg(ACCENT);
            }
            if focused && n == app.pt_row {
                style = style.add_modifier(Modifier::REVERSED);
            }
            out.push(Line::from(vec![
                mark,
                Span::styled(format!("{indent}{fold}{}", r.text), style),
            ]));
        }
        if !pt.changes.is_empty() {
            out.push(Line::raw(""));
            out.push(Line::styled(
                "changes since the previous stop:",
                Style::default().add_modifier(Modifier::BOLD),
            ));
            out.extend(pt.changes.iter().map(|l| Line::raw(l.clone())));
        }
        (out, app.pt_row + 1)
    }
}

/// Lines scrolled off the top: enough to keep the selected line `sel` on screen, plus what
/// PgUp/PgDn added.
fn skip(app: &App, height: u16, sel: usize, lines: usize) -> usize {
    let base = (sel + 1).saturating_sub(height as usize);
    (base + app.scroll[Pane::PageTable.index()]).min(lines.saturating_sub(1))
}

/// The visible tree row (an index for `App::pt_row`) drawn at screen row `y` of the pane
/// drawn in `area`, if any (for mouse clicks).
pub fn row_at(app: &App, area: Rect, y: u16) -> Option<usize> {
    let inner = Rect::new(
        area.x + 1,
        area.y + 1,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    if y < inner.y || y >= inner.y + inner.height {
        return None;
    }
    let rows = app.pt_visible().len();
    let changes = &app.pagetable.changes;
    let lines = 1
        + rows
        + if changes.is_empty() {
            0
        } else {
            2 + changes.len()
        };
    let line = skip(app, inner.height, app.pt_row + 1, lines) + (y - inner.y) as usize;
    // Line 0 is the title; the tree rows follow.
    line.checked_sub(1).filter(|r| *r < rows)
}

impl Widget for PageTablePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let block = block(app, Pane::PageTable);
        let inner = block.inner(area);
        block.render(area, buf);
        let (lines, sel) = self.lines();
        let skip = skip(app, inner.height, sel, lines.len());
        let h = inner.height as usize;
        let shown: Vec<Line> = lines.into_iter().skip(skip).take(h).collect();
        Paragraph::new(shown).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keys::Command;
    use crate::ui::panes::testing::{app, has, lines};

    #[test]
    fn tree_rows_expand_and_collapse() {
        let mut app = app();
        app.update(Command::Focus(Pane::PageTable));
        let rows = lines(PageTablePane(&app), 90, 14);
        assert!(has(&rows, "5 page table"), "{rows:#?}");
        assert!(has(&rows, "pid 3 (sh), root 0x87000000"), "{rows:#?}");
        assert!(
            has(&rows, "▾ L2[  0] 0x0-0x40000000 table 0x87001000"),
            "{rows:#?}"
        );
        assert!(has(&rows, "      L0[0..1] 0x0-0x2000"), "{rows:#?}");
        assert!(has(&rows, "guard page"), "{rows:#?}");
        assert!(has(&rows, "trampoline"), "{rows:#?}");
        // Enter on the first row collapses it: its leaves go, the trampoline stays.
        app.update(Command::Toggle);
        let rows = lines(PageTablePane(&app), 90, 14);
        assert!(has(&rows, "▸ L2[  0]"), "{rows:#?}");
        assert!(!has(&rows, "guard page"), "{rows:#?}");
        assert!(has(&rows, "trampoline"), "{rows:#?}");
        // Down to the next branch, Left collapses it too; Up and Right expand the first.
        app.update(Command::Select(1));
        app.update(Command::Expand(false));
        let rows = lines(PageTablePane(&app), 90, 14);
        assert!(!has(&rows, "trampoline"), "{rows:#?}");
        app.update(Command::Select(-1));
        app.update(Command::Expand(true));
        let rows = lines(PageTablePane(&app), 90, 14);
        assert!(has(&rows, "guard page"), "{rows:#?}");
    }

    #[test]
    fn rows_under_the_pointer() {
        let mut app = app();
        app.update(Command::Focus(Pane::PageTable));
        let area = Rect::new(10, 5, 90, 14);
        // The border, then the title, then the first tree row.
        assert_eq!(row_at(&app, area, 5), None);
        assert_eq!(row_at(&app, area, 6), None);
        assert_eq!(row_at(&app, area, 7), Some(0));
        assert_eq!(row_at(&app, area, 9), Some(2));
        assert_eq!(row_at(&app, area, 17), None);
    }

    #[test]
    fn changes_are_marked_and_listed() {
        let mut app = app();
        let t = crate::ui::ptree::tests::user_tree();
        let mut changes = std::collections::BTreeMap::new();
        changes.insert(
            0x3000,
            session::inspect::pagetable::Change::Added(0, t.entries[5].pte),
        );
        app.pagetable = crate::ui::ptree::build(
            "pid 3 (sh)".into(),
            &t,
            &session::inspect::pagetable::Names::user(0x4000),
            &changes,
        );
        let rows = lines(PageTablePane(&app), 100, 16);
        let stack = rows
            .iter()
            .find(|r| r.contains("user stack"))
            .expect("stack row");
        assert!(stack.trim_start().starts_with("│+ "), "{rows:#?}");
        assert!(has(&rows, "changes since the previous stop:"), "{rows:#?}");
        assert!(has(&rows, "+ pa 0x87103000"), "{rows:#?}");
    }
}
