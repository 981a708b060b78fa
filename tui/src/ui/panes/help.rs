//! The help overlay (`Ctrl-A ?`, F1): every key and every command, over the panes.

use crate::ui::command;
use crate::ui::keys;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

pub struct HelpOverlay;

impl HelpOverlay {
    /// The overlay's lines; `roomy` adds spacing when the screen has the rows.
    pub fn lines(roomy: bool) -> Vec<String> {
        let mut l: Vec<String> = keys::BINDINGS.iter().map(|s| s.to_string()).collect();
        if roomy {
            l.push(String::new());
        }
        l.push("Commands (Ctrl-A :, Enter runs, Esc cancels, Up/Down: history):".into());
        l.extend(command::HELP.iter().map(|s| s.to_string()));
        if roomy {
            l.push(String::new());
            l.push("Any key closes this help.".into());
        }
        l
    }
}

impl Widget for HelpOverlay {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = Self::lines(area.height as usize >= Self::lines(true).len() + 2);
        let w = (lines.iter().map(|l| l.chars().count()).max().unwrap_or(40) as u16 + 4)
            .min(area.width);
        let h = (lines.len() as u16 + 2).min(area.height);
        let r = Rect::new(
            area.x + (area.width - w) / 2,
            area.y + (area.height - h) / 2,
            w,
            h,
        );
        Clear.render(r, buf);
        let text: Vec<Line> = lines.into_iter().map(Line::raw).collect();
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" xv6scope help "),
            )
            .render(r, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{has, lines};

    #[test]
    fn lists_keys_and_commands() {
        let rows = lines(HelpOverlay, 110, 40);
        for s in [
            "xv6scope help",
            "Ctrl-A x",
            "Ctrl-A c  F5",
            "b FUNC | FILE:LINE | *ADDR",
            "x/Ngx EXPR",
            "Any key closes",
        ] {
            assert!(has(&rows, s), "missing {s}: {rows:?}");
        }
        // On 80x24 every key and command still shows (without the spacing).
        let rows = lines(HelpOverlay, 80, 24);
        for l in keys::BINDINGS.iter().chain(command::HELP) {
            assert!(has(&rows, l), "missing {l:?} on 80x24: {rows:?}");
        }
    }
}
