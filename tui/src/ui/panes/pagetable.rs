//! The page table of the selected process (`pt PID` of the debugger views: runs of like
//! pages folded, known pages named); the process on the current hart by default.

use super::head;
use crate::ui::app::{App, Pane};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

pub struct PageTablePane<'a>(pub &'a App);

impl Widget for PageTablePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        head(self.0, Pane::PageTable, &self.0.pagetable, area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{app, has, lines};

    #[test]
    fn shows_the_address_space() {
        let mut app = app();
        let rows = lines(PageTablePane(&app), 70, 6);
        assert!(has(&rows, "5 page table"), "{rows:?}");
        assert!(has(&rows, "address space of pid 3 (sh)"), "{rows:?}");
        assert!(has(&rows, "trampoline"), "{rows:?}");
        app.scroll[4] = 1;
        let rows = lines(PageTablePane(&app), 70, 6);
        assert!(!has(&rows, "address space"), "{rows:?}");
    }
}
