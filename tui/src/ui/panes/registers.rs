//! Registers by ABI name (those changed since the previous stop in the accent colour), the
//! privilege mode, then the CSRs decoded by `inspect::state`.

use super::{ACCENT, block};
use crate::ui::app::{App, Pane};
use machine::cpu::decode::REG_NAMES;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use session::inspect::state::mode_name;

pub struct RegistersPane<'a>(pub &'a App);

impl Widget for RegistersPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let block = block(app, Pane::Registers);
        let inner = block.inner(area);
        block.render(area, buf);
        let Some(s) = &app.snap else { return };
        let st = &s.state;
        let mut text = vec![Line::raw(format!(
            "hart {}  mode {}  pc {:#x}{}",
            st.id,
            mode_name(st.mode),
            st.pc,
            if st.waiting { "  (wfi)" } else { "" }
        ))];
        // As many registers a row as fit: each cell is `name 0x…` (4 + 1 + 18 + 2 columns).
        let per_row = (inner.width as usize / 25).clamp(1, 4);
        for row in (1..32).collect::<Vec<_>>().chunks(per_row) {
            let spans: Vec<Span> = row
                .iter()
                .map(|&r| {
                    let cell = format!("{:>4} {:#018x}  ", REG_NAMES[r], st.x[r]);
                    if app.changed(r) {
                        Span::styled(
                            cell,
                            Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
                        )
                    } else {
                        Span::raw(cell)
                    }
                })
                .collect();
            text.push(Line::from(spans));
        }
        // The CSR lines of the shared renderer (skip its header and register rows).
        text.extend(st.render().into_iter().skip(9).map(Line::raw));
        Paragraph::new(text).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{app, has};

    #[test]
    fn names_registers_and_marks_changes() {
        let app = app();
        let area = Rect::new(0, 0, 104, 16);
        let mut buf = Buffer::empty(area);
        RegistersPane(&app).render(area, &mut buf);
        let rows = crate::ui::panes::testing::rows(&buf);
        assert!(has(&rows, "hart 1  mode S  pc 0x80004a10"), "{rows:?}");
        assert!(has(&rows, "  sp 0x0000003fffff9f80"), "{rows:?}");
        assert!(has(&rows, "  a0 0x0000000000000007"), "{rows:?}");
        assert!(has(&rows, "satp"), "{rows:?}");
        // a0 changed (5 -> 7) between the two stops; sp did not.
        let (y, x) = rows
            .iter()
            .enumerate()
            .find_map(|(y, r)| r.find("a0 0x").map(|x| (y, x)))
            .unwrap();
        assert_eq!(buf[(x as u16 + 3, y as u16)].fg, ACCENT);
        let (y, x) = rows
            .iter()
            .enumerate()
            .find_map(|(y, r)| r.find("sp 0x").map(|x| (y, x)))
            .unwrap();
        assert_ne!(buf[(x as u16 + 3, y as u16)].fg, ACCENT);
    }
}
