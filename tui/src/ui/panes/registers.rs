//! The registers pane leads with what a kernel student reads first, decoded: the privilege
//! mode, the pc with its symbol, `sstatus` (SIE, SPIE, SPP, SUM, MXR), `satp` (mode, ASID,
//! root), `scause` by name with `sepc` and `stval`, and the supervisor interrupts pending
//! (`sip`) and enabled (`sie`). Then x1–x31 by ABI name, as many a row as fit, then every
//! CSR the state captured with its decoding (mstatus, mcause, mepc, medeleg...).
//!
//! What changed since the previous stop is in the accent colour (bold): registers, and the
//! decoded CSR lines whose register changed. A cause register that holds 0 reads "no trap
//! yet" (see `session::inspect::state::cause_or_none` for why 0 can only mean that on this
//! hart), never cause 0's name.
//!
//! The decoders are `session::inspect::state`'s, so `monitor regs` and this pane agree on
//! every field's name.

use super::{ACCENT, block};
use crate::ui::app::{App, Pane};
use machine::cpu::decode::REG_NAMES;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use session::inspect::state::{
    HartState, Satp, cause_or_none, decode_csr, irq_bits, mode_long, sstatus_brief,
};

pub struct RegistersPane<'a>(pub &'a App);

fn marked() -> Style {
    Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)
}

impl RegistersPane<'_> {
    /// A decoded line: `label` then `text`, marked when any of `csrs` changed.
    fn decoded(&self, label: &str, text: String, csrs: &[&str]) -> Line<'static> {
        let changed = csrs.iter().any(|c| self.0.csr_changed(c));
        Line::from(vec![
            Span::styled(
                format!("{label:<8}"),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            if changed {
                Span::styled(text, marked())
            } else {
                Span::raw(text)
            },
        ])
    }

    /// The lines drawn in `width` columns.
    pub fn lines(&self, width: u16) -> Vec<Line<'static>> {
        let app = self.0;
        let Some(s) = &app.snap else {
            return Vec::new();
        };
        let st = &s.state;
        let csr = |n: &str| st.csr(n);
        let hex = |n: &str| csr(n).map_or("-".to_string(), |v| format!("{v:#x}"));
        // The symbol is the source title's function (`sys_exec (file:line)`).
        let sym = s.source.title.split(" (").next().unwrap_or("");
        let sym = if sym.starts_with("0x") { "" } else { sym };
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut text = vec![
            Line::from(vec![
                Span::styled(format!("mode {}", mode_long(st.mode)), bold),
                Span::raw(format!("  hart {}/{}", st.id, s.harts)),
            ]),
            Line::from(vec![
                Span::styled(format!("{:<8}", "pc"), bold),
                Span::raw(format!(
                    "{:#x} {sym}{}",
                    st.pc,
                    if st.waiting { " (wfi)" } else { "" }
                )),
            ]),
        ];
        if let Some(v) = csr("sstatus") {
            text.push(self.decoded("sstatus", sstatus_brief(v), &["sstatus"]));
        }
        if let Some(v) = csr("satp") {
            text.push(self.decoded("satp", Satp::new(v).to_string(), &["satp"]));
        }
        if let Some(v) = csr("scause") {
            text.push(self.decoded("scause", cause_or_none(v), &["scause"]));
            text.push(self.decoded(
                "sepc",
                format!("{}  stval {}", hex("sepc"), hex("stval")),
                &["sepc", "stval"],
            ));
        }
        if let (Some(p), Some(e)) = (csr("sip"), csr("sie")) {
            text.push(self.decoded(
                "irq",
                format!("pending {}  enabled {}", irq_bits(p), irq_bits(e)),
                &["sip", "sie"],
            ));
        }
        // As many registers a row as fit: each cell is `name 0x…` (4 + 1 + 18 + 2 columns).
        let per_row = (width as usize / 25).clamp(1, 4);
        for row in (1..32).collect::<Vec<_>>().chunks(per_row) {
            let spans: Vec<Span> = row
                .iter()
                .map(|&r| {
                    let cell = format!("{:>4} {:#018x}  ", REG_NAMES[r], st.x[r]);
                    if app.changed(r) {
                        Span::styled(cell, marked())
                    } else {
                        Span::raw(cell)
                    }
                })
                .collect();
            text.push(Line::from(spans));
        }
        text.extend(csr_lines(st).into_iter().map(|(name, line)| {
            if app.csr_changed(name) {
                Line::styled(line, marked())
            } else {
                Line::raw(line)
            }
        }));
        text
    }
}

/// Every CSR captured, with its decoding: `state::HartState::render`'s lines, except that a
/// zero cause reads "no trap yet".
fn csr_lines(st: &HartState) -> Vec<(&'static str, String)> {
    st.csrs
        .iter()
        .map(|&(name, v)| {
            let decoded = decode_csr(name, v);
            (
                name,
                format!("{name:>9} {v:#018x}  {decoded}")
                    .trim_end()
                    .to_string(),
            )
        })
        .collect()
}

impl Widget for RegistersPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let block = block(app, Pane::Registers);
        let inner = block.inner(area);
        block.render(area, buf);
        let lines = self.lines(inner.width);
        let skip = app.scroll[Pane::Registers.index()].min(lines.len().saturating_sub(1));
        Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::event::Event;
    use crate::ui::panes::testing::{app, has, rows, snapshot};

    fn draw(app: &App, w: u16, h: u16) -> (Vec<String>, Buffer) {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        RegistersPane(app).render(area, &mut buf);
        (rows(&buf), buf)
    }

    fn at(rows: &[String], s: &str) -> (u16, u16) {
        rows.iter()
            .enumerate()
            .find_map(|(y, r)| r.find(s).map(|x| (r[..x].chars().count() as u16, y as u16)))
            .unwrap_or_else(|| panic!("no {s:?} in {rows:#?}"))
    }

    #[test]
    fn leads_with_the_mode_bits_decoded() {
        let app = app();
        let (rows, _) = draw(&app, 64, 40);
        for want in [
            "mode S (supervisor)  hart 1/3",
            "pc      0x80004a10 sys_exec",
            "sstatus SIE=0 SPIE=1 SPP=U SUM=0 MXR=0",
            "satp    Sv39 asid=0 root=0x87fff000",
            "scause  ecall from U-mode",
            "sepc    0x1634  stval 0x0",
            "irq     pending STI  enabled SSI STI SEI",
        ] {
            assert!(has(&rows, want), "missing {want:?}: {rows:#?}");
        }
        // The decoded lines come first, the general registers after them.
        assert!(at(&rows, "satp    Sv39").1 < at(&rows, "  sp 0x").1);
        // A zero mcause is "no trap yet", not cause 0's name.
        assert!(
            has(&rows, "mcause 0x0000000000000000  no trap yet"),
            "{rows:#?}"
        );
        assert!(!has(&rows, "misaligned"), "{rows:#?}");
    }

    #[test]
    fn marks_registers_and_csrs_changed_since_the_previous_stop() {
        let mut app = app();
        // A third stop: scause becomes a timer interrupt; satp stays.
        let mut s = snapshot(false, 3, 7);
        s.state.csrs.iter_mut().for_each(|(n, v)| {
            if *n == "scause" {
                *v = 0x8000_0000_0000_0005;
            }
        });
        app.on_event(Event::Snapshot(Box::new(s)));
        let (rows, buf) = draw(&app, 104, 40);
        assert!(has(&rows, "  sp 0x0000003fffff9f80"), "{rows:?}");
        let (x, y) = at(&rows, "supervisor timer interrupt");
        assert_eq!(buf[(x, y)].fg, ACCENT);
        let (x, y) = at(&rows, "Sv39 asid=0");
        assert_ne!(buf[(x, y)].fg, ACCENT);
        // a0 changed (5 -> 7) at the second stop and stayed 7 at the third: not marked now.
        let (x, y) = at(&rows, "a0 0x");
        assert_ne!(buf[(x + 3, y)].fg, ACCENT);
        // At the second stop it was marked and sp was not.
        let app = crate::ui::panes::testing::app();
        let (rows, buf) = draw(&app, 104, 40);
        let (x, y) = at(&rows, "a0 0x");
        assert_eq!(buf[(x + 3, y)].fg, ACCENT);
        let (x, y) = at(&rows, "sp 0x");
        assert_ne!(buf[(x + 3, y)].fg, ACCENT);
    }
}
