//! Processes (`ps` of the debugger views) with the selected row marked, and below them the
//! selected process's details: what the labs add to it (`ps -l PID`: its kernel page table,
//! its mmap VMAs, its pages shared by copy-on-write, alarm and other fields) and its open
//! files (`fds PID`). Up/Down pick the process; the page-table pane follows the same choice.

use super::{ACCENT, block};
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

pub struct ProcessesPane<'a>(pub &'a App);

/// The lines under the process table: `fds PID`'s title line, then the lines `ps -l PID`
/// adds under the process's row (none on a stock kernel), then the descriptors.
pub fn details(fds: Vec<String>, ps_long: Vec<String>) -> Vec<String> {
    let lab = ps_long
        .into_iter()
        .skip(2)
        .filter(|l| l.starts_with("   "))
        .map(|l| format!(" {}", l.trim_start()));
    let mut fds = fds.into_iter();
    let mut out: Vec<String> = fds.next().into_iter().collect();
    out.extend(lab);
    out.extend(fds);
    out
}

/// The process (an index for `App::proc_row`) drawn at screen row `y` of the pane drawn in
/// `area`, if any (for mouse clicks): the header is the first line inside the border.
pub fn row_at(app: &App, area: Rect, y: u16) -> Option<usize> {
    let first = area.y + 2;
    let procs = app.procs.len().saturating_sub(1);
    let inner_h = area.height.saturating_sub(2);
    let shown = (app.procs.len() as u16)
        .min(inner_h / 2 + 1)
        .saturating_sub(1) as usize;
    (y >= first)
        .then(|| (y - first) as usize)
        .filter(|r| *r < procs.min(shown))
}

impl Widget for ProcessesPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let block = block(app, Pane::Processes);
        let inner = block.inner(area);
        block.render(area, buf);
        let rows = app.procs.len() as u16;
        let [top, bottom] = Layout::vertical([
            Constraint::Length(rows.min(inner.height / 2 + 1)),
            Constraint::Fill(1),
        ])
        .areas(inner);
        let focused = app.focus == Pane::Processes;
        let text: Vec<Line> = app
            .procs
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    Line::styled(l.as_str(), Style::default().add_modifier(Modifier::BOLD))
                } else if focused && i == app.proc_row + 1 {
                    Line::styled(
                        l.as_str(),
                        Style::default().fg(ACCENT).add_modifier(Modifier::REVERSED),
                    )
                } else {
                    Line::raw(l.as_str())
                }
            })
            .collect();
        Paragraph::new(text).render(top, buf);
        let fds: Vec<Line> = app.fds.iter().map(|l| Line::raw(l.as_str())).collect();
        Paragraph::new(fds).render(bottom, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{app, has, lines};

    #[test]
    fn rows_under_the_pointer() {
        let app = app();
        let area = Rect::new(0, 0, 60, 12);
        // Border, header, then init and sh.
        assert_eq!(row_at(&app, area, 1), None);
        assert_eq!(row_at(&app, area, 2), Some(0));
        assert_eq!(row_at(&app, area, 3), Some(1));
        assert_eq!(row_at(&app, area, 4), None);
    }

    #[test]
    fn lab_lines_go_between_the_title_and_the_descriptors() {
        let fds = vec!["pid 3 (mmaptest)".to_string(), " fd type".into()];
        let ps = vec![
            "slot   pid ...".to_string(),
            "   2     3     2 running ...".into(),
            "           kernel page table (kpagetable) 0x87e9f000".into(),
            "           vma[0] 0x3fffffb000-0x3fffffd000 r-- private".into(),
        ];
        assert_eq!(
            details(fds.clone(), ps),
            [
                "pid 3 (mmaptest)",
                " kernel page table (kpagetable) 0x87e9f000",
                " vma[0] 0x3fffffb000-0x3fffffd000 r-- private",
                " fd type"
            ]
        );
        let stock = vec!["slot".to_string(), "   2     3 ...".into()];
        assert_eq!(details(fds.clone(), stock), fds);
        let gone = vec!["slot".to_string(), "no process 3".into()];
        assert_eq!(details(fds.clone(), gone), fds);
    }

    #[test]
    fn lists_processes_and_fds() {
        let app = app();
        let rows = lines(ProcessesPane(&app), 60, 10);
        assert!(has(&rows, "4 processes"), "{rows:?}");
        assert!(has(&rows, "sleeping  sh"), "{rows:?}");
        assert!(has(&rows, "fds of pid 3 (sh)"), "{rows:?}");
        assert!(has(&rows, "0  device console"), "{rows:?}");
    }
}
