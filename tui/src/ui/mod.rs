//! `xv6scope` (no subcommand) and `xv6scope tui`: the terminal debugger.
//!
//! Two threads (STYLE.md habit 11). The machine thread ([`engine`]) owns the machine and the
//! debugger views, runs the guest in slices and sends [`event::Snapshot`]s; this thread owns
//! the terminal, draws from the latest snapshot at most [`FRAME`] apart, and turns keys into
//! commands ([`keys::map`], pure) that [`app::App::update`] turns into requests for the
//! machine thread. A third thread only reads the terminal and forwards keys. So drawing never
//! holds the guest, and an idle UI costs the guest one channel poll per slice.
//!
//! Layout ([`layout`]): on a big terminal (about 200x50) every view at once — console,
//! source, registers with the mode bits decoded, processes with the selected one's fds, page
//! table, syscall trace, and memory (or breakpoints, or output); on a medium one (from
//! 110x32) the console and the source on the left, registers and one detail pane on the
//! right; smaller terminals show one pane at a time under a tab bar. `:layout NAME` fixes
//! one; borders drag with the mouse, `Ctrl-A arrows` resize, `Ctrl-A -` hides a pane, and
//! those choices are kept in a config file ([`config`]). `Ctrl-A z` zooms the focused pane
//! to the full screen. The terminal is restored on exit and on panic (ratatui's `init`
//! installs the hook).

pub mod app;
pub mod command;
pub mod config;
mod engine;
pub mod event;
pub mod keys;
pub mod layout;
pub mod panes;
pub mod ptree;

use crate::MachineArgs;
use anyhow::Result;
use app::{App, Pane};
use clap::Args;
use event::{Event, Request};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// Time between frames (the UI redraws at most this often, and only after a change).
const FRAME: Duration = Duration::from_millis(50);

/// `xv6scope tui` options.
#[derive(Args, Clone, Debug)]
pub struct TuiArgs {
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Also serve gdb's remote protocol on ADDR. `:26000` or `26000` listens on 127.0.0.1 only
    /// (loopback); give HOST:PORT (e.g. 0.0.0.0:26000) to listen elsewhere.
    #[arg(long, value_name = "ADDR")]
    pub gdb: Option<String>,
    /// Give the board the net lab's hardware and QEMU's user network, as `run --net` does.
    #[arg(long, value_name = "SPEC", num_args = 0..=1, default_missing_value = "", require_equals = true)]
    pub net: Option<String>,
    /// With --net: write every Ethernet frame to FILE in pcap format.
    #[arg(long, value_name = "FILE", requires = "net")]
    pub net_dump: Option<std::path::PathBuf>,
    /// Record the run: on exit, write it up to the present to FILE (`xv6scope replay FILE`
    /// opens it; `replay --check FILE` verifies it replays exactly).
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// Measure instead: run the TUI off-screen until the guest retired N instructions and
    /// print the guest speed (see [`measure`]).
    #[arg(long, value_name = "N", hide = true)]
    pub measure: Option<u64>,
    /// With --measure: console input typed at the start (`\n` is Enter).
    #[arg(long, value_name = "TEXT", hide = true, default_value = "")]
    pub measure_input: String,
}

impl TuiArgs {
    /// The bundled kernel with the defaults of `run`.
    pub fn bundled() -> TuiArgs {
        TuiArgs {
            machine: crate::cmd_run::RunArgs::interactive_default().machine,
            gdb: None,
            net: None,
            net_dump: None,
            record: None,
            measure: None,
            measure_input: String::new(),
        }
    }
}

/// Boots the machine and runs the TUI until the user quits; the exit status.
pub fn run(args: TuiArgs) -> Result<i32> {
    if let Some(n) = args.measure {
        let input = args.measure_input.replace("\\n", "\n").into_bytes();
        let m = measure(args, &input, n)?;
        println!(
            "tui: {} instructions in {:.2} s = {:.1} MIPS ({} frames)",
            m.instructions,
            m.wall.as_secs_f64(),
            m.instructions as f64 / m.wall.as_secs_f64() / 1e6,
            m.frames
        );
        return Ok(0);
    }
    run_with(args, None)
}

/// Plays walkthrough `walk` in the TUI: its narrative beside the panes, `]` and `[` to move.
/// The disk stays in memory (`--snapshot`), so "back" can boot the same image again.
pub fn walk(machine: MachineArgs, walk: crate::walk::format::Walk) -> Result<i32> {
    let mut machine = machine;
    machine.snapshot = true;
    run_with(
        TuiArgs {
            machine,
            gdb: None,
            net: None,
            net_dump: None,
            record: None,
            measure: None,
            measure_input: String::new(),
        },
        Some(walk),
    )
}

/// The machine thread's setup for `args` (booted, not yet started).
pub(crate) fn setup(
    args: &TuiArgs,
    stop_at: Option<u64>,
    walk: Option<crate::walk::format::Walk>,
) -> Result<engine::Setup> {
    let crate::cmd_run::Booted {
        mut session,
        disk_path,
    } = crate::cmd_run::boot(&args.machine)?;
    let net = match &args.net {
        Some(list) => Some(crate::net::attach(
            &mut session,
            list,
            args.net_dump.clone(),
        )?),
        None => None,
    };
    let host = crate::gdb::Host::new(session, args.gdb.as_deref(), false)?;
    Ok(engine::Setup {
        host,
        disk_path,
        stop_at,
        walk,
        held: None,
        net,
        record: args.record.clone(),
    })
}

fn run_with(args: TuiArgs, walk: Option<crate::walk::format::Walk>) -> Result<i32> {
    run_setup(setup(&args, None, walk)?)
}

/// The TUI on a session that is already booted (a recording opened by `xv6scope replay`).
/// It starts stopped, saying `why`, with `console` shown.
pub fn run_session(session: session::Session, why: String, console: Vec<u8>) -> Result<i32> {
    run_setup(engine::Setup {
        host: crate::gdb::Host::new(session, None, false)?,
        disk_path: None,
        stop_at: None,
        walk: None,
        held: Some((why, console)),
        net: None,
        record: None,
    })
}

fn run_setup(setup: engine::Setup) -> Result<i32> {
    let (ev_tx, ev_rx) = channel();
    let (req_tx, req_rx) = channel();
    let machine_thread = engine::spawn(setup, req_rx, ev_tx.clone());

    let mut terminal = ratatui::init();
    // Mouse capture: clicks focus panes, the wheel scrolls. Released before `restore`, and
    // by the panic hook below (ratatui's own hook only restores the screen and raw mode).
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        hook(info);
    }));
    let keys_tx = ev_tx;
    std::thread::spawn(move || {
        use crossterm::event::{Event as CEvent, KeyEventKind, MouseEventKind, read};
        loop {
            let ev = match read() {
                Ok(CEvent::Key(k)) if k.kind != KeyEventKind::Release => Event::Key(k),
                Ok(CEvent::Mouse(m))
                    if matches!(
                        m.kind,
                        MouseEventKind::Down(_)
                            | MouseEventKind::Drag(_)
                            | MouseEventKind::Up(_)
                            | MouseEventKind::ScrollUp
                            | MouseEventKind::ScrollDown
                    ) =>
                {
                    Event::Mouse(m)
                }
                Ok(CEvent::Resize(..)) => Event::Resize,
                Ok(_) => continue,
                Err(_) => return,
            };
            if keys_tx.send(ev).is_err() {
                return;
            }
        }
    });

    let config = config::path();
    let (settings, warning) = config::load(config.as_deref());
    let mut app = App::with_settings(settings, warning);
    let result = ui_loop(
        &mut terminal,
        &ev_rx,
        &req_tx,
        &mut app,
        None,
        config.as_deref(),
    );
    let _ = req_tx.send(Request::Quit);
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    let _ = machine_thread.join();
    let mut code = result?;
    // A quit ends the UI loop before the machine thread's last word (a recording written,
    // or why it could not be): read it now.
    while let Ok(ev) = ev_rx.try_recv() {
        if let Event::Exited { code: c, why } = ev {
            code = code.max(c);
            app.on_event(Event::Exited { code: c, why });
        }
    }
    if let Some(why) = &app.exited
        && why != "quit"
    {
        eprintln!("xv6scope: {why}");
    }
    Ok(code)
}

/// The UI thread's loop: draws at most every [`FRAME`] after a change, folds in events,
/// sends requests, saves the layout settings to `config` when they changed (not in the
/// middle of a drag); until the user quits or the machine thread ends. `frames` counts
/// draws.
fn ui_loop<B: ratatui::backend::Backend>(
    terminal: &mut ratatui::Terminal<B>,
    ev_rx: &std::sync::mpsc::Receiver<Event>,
    req_tx: &std::sync::mpsc::Sender<Request>,
    app: &mut App,
    mut frames: Option<&mut u64>,
    config: Option<&Path>,
) -> Result<i32>
where
    B::Error: Send + Sync + 'static,
{
    let mut code = 0;
    let mut dirty = true;
    let mut visible = None;
    loop {
        if dirty {
            let mut area = Rect::default();
            terminal.draw(|f| {
                area = f.area();
                draw(app, f)
            })?;
            if let Some(n) = frames.as_deref_mut() {
                *n += 1;
            }
            dirty = false;
            // Tell the machine thread which costly views are on screen.
            app.area = area;
            let shown = layout_of(app, area).shown();
            let v = (
                shown.contains(&Pane::Processes),
                shown.contains(&Pane::PageTable),
                shown.contains(&Pane::Syscalls),
            );
            if visible != Some(v) {
                visible = Some(v);
                let _ = req_tx.send(Request::Visible {
                    procs: v.0,
                    pagetable: v.1,
                    syscalls: v.2,
                });
            }
        }
        let first = match ev_rx.recv_timeout(FRAME) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // Everything that arrived during the frame, then one draw.
        let mut pending = vec![first];
        let deadline = std::time::Instant::now() + FRAME;
        while let Ok(ev) =
            ev_rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            pending.push(ev);
            if pending.len() > 256 {
                break;
            }
        }
        let area = terminal
            .size()
            .map(|s| Rect::new(0, 0, s.width, s.height))?;
        app.area = area;
        for ev in pending {
            dirty = true;
            match ev {
                Event::Key(k) => {
                    for r in app.update(keys::map(app.key_mode(), k)) {
                        let _ = req_tx.send(r);
                    }
                }
                Event::Mouse(m) => {
                    for r in mouse(app, m, area) {
                        let _ = req_tx.send(r);
                    }
                }
                Event::Exited { code: c, why } => {
                    code = c;
                    app.on_event(Event::Exited { code: c, why });
                }
                other => app.on_event(other),
            }
        }
        if app.settings_dirty && app.drag.is_none() {
            app.settings_dirty = false;
            if let Some(path) = config
                && let Err(e) = config::save(path, &app.settings)
            {
                app.message = Some((
                    format!("cannot save the layout to {}: {e}", path.display()),
                    true,
                ));
            }
        }
        if app.quit || app.exited.is_some() {
            break;
        }
    }
    Ok(code)
}

/// What [`measure`] found.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Instructions the guest retired (at least the number asked for).
    pub instructions: u64,
    /// Host time from the start of the machine thread to its end.
    pub wall: Duration,
    /// Frames drawn.
    pub frames: u64,
}

/// Runs the TUI as a user would have it, minus the terminal: the real machine thread, the
/// real [`App`] and drawing (into a 160x48 `TestBackend`), the real frame pacing, with
/// `input` typed into the console at the start, until the guest retired `instructions`.
/// The page-table and process panes are on screen (the wide layout shows the processes
/// pane), so their refresh cost counts. For `xv6scope bench`: the guest speed with the TUI
/// open against `xv6scope run` on the same workload.
pub fn measure(args: TuiArgs, input: &[u8], instructions: u64) -> Result<Measured> {
    let setup = setup(&args, Some(instructions), None)?;
    let (ev_tx, ev_rx) = channel();
    let (req_tx, req_rx) = channel();
    let started = std::time::Instant::now();
    let machine_thread = engine::spawn(setup, req_rx, ev_tx);
    let _ = req_tx.send(Request::Input(input.to_vec()));
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48))?;
    let mut app = App::new();
    let mut frames = 0;
    ui_loop(
        &mut terminal,
        &ev_rx,
        &req_tx,
        &mut app,
        Some(&mut frames),
        None,
    )?;
    let wall = started.elapsed();
    let _ = req_tx.send(Request::Quit);
    let _ = machine_thread.join();
    let instret = app.snap.as_ref().map_or(0, |s| s.instret);
    match &app.exited {
        Some(_) if instret >= instructions => Ok(Measured {
            instructions: instret,
            wall,
            frames,
        }),
        Some(why) => anyhow::bail!("the machine stopped after {instret} instructions: {why}"),
        None => anyhow::bail!("the UI ended before the machine"),
    }
}

/// Where everything goes on a screen of `area`.
pub struct Screen {
    /// The panes drawn, with their places.
    pub panes: Vec<(Pane, Rect)>,
    /// The tab bar (tab layout), its tabs' places.
    pub tabs: Vec<(Pane, Rect)>,
    /// The walkthrough's narrative, when one is played.
    pub narrative: Option<Rect>,
    pub status: Rect,
    /// The splits of a multi-pane layout (for dragging borders and the resize keys).
    pub splits: Vec<layout::Placed>,
}

impl Screen {
    /// The panes on screen.
    pub fn shown(&self) -> Vec<Pane> {
        self.panes.iter().map(|(p, _)| *p).collect()
    }
}

/// The layout: zoomed, or the layout chosen (by size or by `:layout`): a multi-pane one
/// (split, full) placed by [`layout::place`], or tabs; with a walkthrough, its narrative
/// has a place in the tree (split, full) or at the bottom (tabs).
pub fn layout_of(app: &App, area: Rect) -> Screen {
    let status_rows = if app.snap.as_ref().is_some_and(|s| s.timeline.is_some()) {
        3
    } else {
        2
    };
    let [main, status] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(status_rows)]).areas(area);
    let kind = app.settings.choice.kind(area);
    let mut s = Screen {
        panes: Vec::new(),
        tabs: Vec::new(),
        narrative: None,
        status,
        splits: Vec::new(),
    };
    let inputs = layout::Inputs {
        walk: app.walk.is_some(),
        detail: app.detail,
        extra: app.extra,
    };
    if app.zoom {
        s.panes.push((app.focus, main));
    } else if let Some(tree) = layout::tree(kind, inputs) {
        let (leaves, splits) = layout::place(&tree, main, &app.settings);
        for (slot, r) in leaves {
            match slot {
                layout::Slot::Pane(p) => s.panes.push((p, r)),
                layout::Slot::Narrative => s.narrative = Some(r),
            }
        }
        s.splits = splits;
        // Every pane hidden: the console still shows.
        if s.panes.is_empty() && s.narrative.is_none() {
            s.panes.push((Pane::Console, main));
        }
    } else {
        // The narrative gets the rows it needs, up to half the screen.
        let narr_h = if app.walk.is_some() {
            panes::walk::height(app, main.width).clamp(6, (main.height / 2).max(6))
        } else {
            0
        };
        let [tabs, pane, narr] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(narr_h),
        ])
        .areas(main);
        let mut x = tabs.x;
        for (p, label) in tab_labels(tabs.width) {
            let w = label.chars().count() as u16;
            let w = w.min((tabs.x + tabs.width).saturating_sub(x));
            s.tabs.push((p, Rect::new(x, tabs.y, w, 1)));
            x += w;
        }
        s.panes.push((app.focus, pane));
        if narr_h > 0 {
            s.narrative = Some(narr);
        }
    }
    s
}

/// A click focuses the pane (or tab) under the pointer; the wheel scrolls the pane under it.
/// A press on a border between two panes starts a drag that moves it (the split's sizes
/// change as the pointer moves; they are saved when the button is released).
pub fn mouse(app: &mut App, m: crossterm::event::MouseEvent, area: Rect) -> Vec<Request> {
    use crossterm::event::MouseEventKind;
    let screen = layout_of(app, area);
    let at = ratatui::layout::Position::new(m.column, m.row);
    let tab = screen
        .tabs
        .iter()
        .find(|(_, r)| r.contains(at))
        .map(|(p, _)| *p);
    let pane = screen
        .panes
        .iter()
        .find(|(_, r)| r.contains(at))
        .map(|(p, _)| *p);
    match m.kind {
        // A click anywhere closes the help overlay, as a key does.
        MouseEventKind::Down(_) if app.help => {
            app.help = false;
            Vec::new()
        }
        MouseEventKind::Drag(_) => {
            if let Some(d) = app.drag
                && layout::drag(&screen.splits, &mut app.settings, d, (m.column, m.row))
            {
                app.settings_dirty = true;
            }
            Vec::new()
        }
        MouseEventKind::Up(_) => {
            app.drag = None;
            Vec::new()
        }
        MouseEventKind::Down(_) => {
            app.drag = layout::border_at(&screen.splits, m.column, m.row);
            let Some(p) = tab.or(pane) else {
                return Vec::new();
            };
            let was = app.focus;
            app.focus(p);
            if tab.is_some() {
                return Vec::new();
            }
            let area = screen
                .panes
                .iter()
                .find(|(q, _)| *q == p)
                .map(|(_, r)| *r)
                .unwrap_or_default();
            // A click on a row selects it: a process (the fd and page-table panes follow),
            // a page-table row (a second click on the selected branch toggles it).
            match p {
                Pane::Processes => match panes::processes::row_at(app, area, m.row) {
                    Some(r) => {
                        let d = r as i32 - app.proc_row as i32;
                        app.update(keys::Command::Select(d))
                    }
                    None => Vec::new(),
                },
                Pane::PageTable => {
                    if let Some(r) = panes::pagetable::row_at(app, area, m.row) {
                        if was == Pane::PageTable && r == app.pt_row {
                            app.update(keys::Command::Toggle);
                        } else {
                            app.pt_row = r;
                        }
                    }
                    Vec::new()
                }
                _ => Vec::new(),
            }
        }
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let Some(p) = pane else {
                return Vec::new();
            };
            let up = m.kind == MouseEventKind::ScrollUp;
            let old = app.focus;
            app.focus = p;
            let out = app.update(keys::Command::Scroll(if up { 3 } else { -3 }));
            app.focus = old;
            out
        }
        _ => Vec::new(),
    }
}

/// Draws the whole screen.
pub fn draw(app: &App, f: &mut Frame) {
    let area = f.area();
    let screen = layout_of(app, area);
    let buf = f.buffer_mut();
    use ratatui::widgets::Widget;
    panes::status::StatusBar(app).render(screen.status, buf);
    for (p, r) in &screen.panes {
        panes::render(app, *p, *r, buf);
    }
    if let Some(r) = screen.tabs.first().map(|(_, r)| *r) {
        tab_bar(app, Rect::new(r.x, r.y, area.width, 1), buf);
    }
    if let Some(r) = screen.narrative {
        panes::walk::NarrativePane(app).render(r, buf);
    }
    if app.help {
        panes::help::HelpOverlay.render(area, buf);
    }
}

/// The tab bar's labels (` 1 console `...) for a bar `width` wide: when they do not all
/// fit, the last ones lose their names (` 9 `), so that the first eight stay as they were
/// before the memory pane came.
fn tab_labels(width: u16) -> Vec<(Pane, String)> {
    let mut labels: Vec<(Pane, String)> = Pane::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, format!(" {} {} ", i + 1, p.short())))
        .collect();
    let len = |l: &[(Pane, String)]| l.iter().map(|(_, s)| s.chars().count()).sum::<usize>();
    for i in (0..labels.len()).rev() {
        if len(&labels) <= width as usize {
            break;
        }
        labels[i].1 = format!(" {} ", i + 1);
    }
    labels
}

fn tab_bar(app: &App, area: Rect, buf: &mut ratatui::buffer::Buffer) {
    let spans: Vec<Span> = tab_labels(area.width)
        .into_iter()
        .map(|(p, label)| {
            if p == app.focus {
                Span::styled(
                    label,
                    Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
                )
            } else {
                Span::raw(label)
            }
        })
        .collect();
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{app, has, rows};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(app, f)).unwrap();
        rows(t.backend().buffer())
    }

    #[test]
    fn small_terminals_get_tabs() {
        let mut app = app();
        let s = screen(&app, 80, 24);
        assert!(
            s[0].contains("1 console") && s[0].contains("5 pt") && s[0].contains("8 output"),
            "{s:?}"
        );
        assert!(
            has(&s, "$ echo hi") && !has(&s, "sys_exec() -> u64"),
            "{s:?}"
        );
        app.update(keys::Command::Focus(Pane::Source));
        assert!(has(&screen(&app, 80, 24), "sys_exec() -> u64"));
    }

    #[test]
    fn large_terminals_get_panes_side_by_side() {
        let app = app();
        let s = screen(&app, 140, 40);
        for want in [
            "1 console",
            "2 source",
            "3 registers",
            "4 processes",
            "$ echo hi",
            "412 pub fn sys_exec",
            "stopped: breakpoint",
        ] {
            assert!(has(&s, want), "missing {want}: {s:?}");
        }
    }

    #[test]
    fn each_size_gets_its_layout_80x24_120x40_200x60() {
        let mut app = app();
        // 80x24: today's tabs, the memory pane's tab a bare number at the end.
        let s = screen(&app, 80, 24);
        assert_eq!(
            s[0],
            " 1 console  2 source  3 regs  4 procs  5 pt  6 syscalls  7 breaks  8 output  9"
        );
        assert!(has(&s, "┌ 1 console"), "{s:#?}");
        assert!(!has(&s, "3 registers"), "{s:#?}");
        // 120x40: console and source on the left, registers and a detail pane on the right.
        let s = screen(&app, 120, 40);
        for want in ["1 console", "2 source", "3 registers", "4 processes"] {
            assert!(has(&s, want), "missing {want}: {s:#?}");
        }
        for gone in ["5 page table", "6 syscalls", "9 memory"] {
            assert!(!has(&s, gone), "{gone} on 120x40: {s:#?}");
        }
        // 200x60: everything at once, with no key pressed.
        let s = screen(&app, 200, 60);
        for want in [
            "1 console",
            "2 source",
            "3 registers",
            "4 processes",
            "5 page table",
            "6 syscalls",
            "9 memory",
            "$ echo hi",
            "▶  412 pub fn sys_exec",
            "mode S (supervisor)",
            "sstatus SIE=0 SPIE=1 SPP=U SUM=0 MXR=0",
            "satp    Sv39 asid=0 root=0x87fff000",
            "scause  ecall from U-mode",
            "sleeping  sh",
            "0  device console",
            "L2[  0] 0x0-0x40000000",
            "trampoline",
            "sh: fork() = 3",
            "stopped: breakpoint",
        ] {
            assert!(has(&s, want), "missing {want}: {s:#?}");
        }
        // The choice beats the size.
        app.settings.choice = layout::Choice::Fixed(layout::Kind::Tabs);
        assert!(screen(&app, 200, 60)[0].starts_with(" 1 console  2 source"));
    }

    fn command(app: &mut App, line: &str) -> Vec<Request> {
        app.update(keys::Command::OpenCmdline);
        line.chars().for_each(|c| {
            app.update(keys::Command::CmdChar(c));
        });
        app.update(keys::Command::CmdSubmit)
    }

    #[test]
    fn layout_command_switches_and_is_saved() {
        let mut app = app();
        app.area = Rect::new(0, 0, 200, 60);
        command(&mut app, "layout split");
        assert_eq!(app.kind(), layout::Kind::Split);
        assert!(app.settings_dirty);
        assert!(matches!(&app.message, Some((m, false)) if m.contains("layout split")));
        assert!(!has(&screen(&app, 200, 60), "5 page table"));
        command(&mut app, "layout bogus");
        assert!(matches!(&app.message, Some((m, true)) if m.contains("bogus")));
        command(&mut app, "layout auto");
        assert_eq!(app.kind(), layout::Kind::Full);
        command(&mut app, "layout");
        assert!(
            matches!(&app.message, Some((m, false)) if m.contains("layout auto (full on this terminal)")),
            "{:?}",
            app.message
        );
    }

    #[test]
    fn a_pane_hides_and_comes_back() {
        let mut app = app();
        app.area = Rect::new(0, 0, 200, 60);
        app.update(keys::Command::Focus(Pane::PageTable));
        app.update(keys::Command::Hide);
        assert!(app.hidden(Pane::PageTable) && app.settings_dirty);
        let s = screen(&app, 200, 60);
        assert!(!has(&s, "5 page table"), "{s:#?}");
        assert!(has(&s, "6 syscalls"), "{s:#?}");
        assert_ne!(app.focus, Pane::PageTable);
        // Its key brings it back.
        app.update(keys::Command::Focus(Pane::PageTable));
        assert!(has(&screen(&app, 200, 60), "5 page table"));
        // `:hide`, `:show all`.
        command(&mut app, "hide syscalls");
        command(&mut app, "hide registers");
        let s = screen(&app, 200, 60);
        assert!(!has(&s, "6 syscalls") && !has(&s, "3 registers"), "{s:#?}");
        command(&mut app, "show all");
        let s = screen(&app, 200, 60);
        assert!(has(&s, "6 syscalls") && has(&s, "3 registers"), "{s:#?}");
        // The tab layout has every tab: nothing to hide.
        app.area = Rect::new(0, 0, 80, 24);
        app.update(keys::Command::Hide);
        assert!(app.settings.hidden.is_empty());
    }

    fn mouse_at(
        kind: crossterm::event::MouseEventKind,
        col: u16,
        row: u16,
    ) -> crossterm::event::MouseEvent {
        crossterm::event::MouseEvent {
            kind,
            ..click(col, row)
        }
    }

    #[test]
    fn dragging_a_border_and_the_resize_keys_change_sizes() {
        use crossterm::event::{MouseButton, MouseEventKind};
        let mut app = app();
        let area = Rect::new(0, 0, 200, 60);
        app.area = area;
        let width = |app: &App, p: Pane| {
            layout_of(app, area)
                .panes
                .iter()
                .find(|(q, _)| *q == p)
                .map(|(_, r)| r.width)
                .unwrap()
        };
        let console = width(&app, Pane::Console);
        // Press on the console's right border, drag 10 columns right, release.
        mouse(&mut app, click(console - 1, 10), area);
        assert!(app.drag.is_some());
        mouse(
            &mut app,
            mouse_at(MouseEventKind::Drag(MouseButton::Left), console + 9, 10),
            area,
        );
        assert_eq!(width(&app, Pane::Console), console + 10);
        mouse(
            &mut app,
            mouse_at(MouseEventKind::Up(MouseButton::Left), console + 9, 10),
            area,
        );
        assert!(app.drag.is_none() && app.settings_dirty);
        // A click inside a pane starts no drag.
        mouse(&mut app, click(5, 5), area);
        assert!(app.drag.is_none());
        // Ctrl-A Left on the console: narrower by the step.
        app.update(keys::Command::Resize {
            horizontal: true,
            grow: false,
        });
        assert_eq!(width(&app, Pane::Console), console + 10 - 4);
    }

    #[test]
    fn help_overlay_on_top() {
        let mut app = app();
        app.update(keys::Command::Help);
        assert!(has(&screen(&app, 120, 40), "Ctrl-A x  quit"));
    }

    fn click(col: u16, row: u16) -> crossterm::event::MouseEvent {
        use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
        MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: col,
            row,
            modifiers: KeyModifiers::NONE,
        }
    }

    #[test]
    fn clicks_focus_panes_and_tabs_and_the_wheel_scrolls_under_the_pointer() {
        use crossterm::event::MouseEventKind;
        let mut app = app();
        let wide = Rect::new(0, 0, 140, 40);
        // The source pane is at the bottom left of the wide layout.
        mouse(&mut app, click(5, 30), wide);
        assert_eq!(app.focus, Pane::Source);
        // The registers, top right.
        mouse(&mut app, click(100, 3), wide);
        assert_eq!(app.focus, Pane::Registers);
        // A click on sh's row in the processes pane (detail, bottom right) selects it.
        let procs = layout_of(&app, wide)
            .panes
            .iter()
            .find(|(p, _)| *p == Pane::Processes)
            .map(|(_, r)| *r)
            .expect("processes shown");
        let reqs = mouse(&mut app, click(procs.x + 5, procs.y + 3), wide);
        assert_eq!(app.focus, Pane::Processes);
        assert_eq!(app.proc_row, 1);
        assert_eq!(reqs, vec![Request::Select(Some(2))]);
        // On 80x24, the tab bar: " 1 console  2 source  3 regs  4 procs  5 pt ..."
        let narrow = Rect::new(0, 0, 80, 24);
        let s = screen(&app, 80, 24);
        let col = s[0].find("5 pt").expect("pt tab") as u16;
        mouse(&mut app, click(col, 0), narrow);
        assert_eq!(app.focus, Pane::PageTable);
        // The wheel over the console scrolls it, and leaves the focus where it was.
        let mut wheel = click(5, 5);
        wheel.kind = MouseEventKind::ScrollUp;
        mouse(&mut app, wheel, wide);
        assert_eq!(app.scroll[Pane::Console.index()], 3);
        assert_eq!(app.focus, Pane::PageTable);
    }

    #[test]
    fn a_walk_puts_its_narrative_beside_the_panes() {
        let mut app = app();
        app.on_event(Event::Walk(Box::new(event::WalkView {
            title: "fork".into(),
            step: 1,
            total: 4,
            name: "the shell forks".into(),
            text: "sh calls fork.".into(),
            outcomes: vec![(true, "reg.a7 = 1".into()), (true, "mode = \"S\"".into())],
            pane: Some("procs".into()),
            ..event::WalkView::default()
        })));
        for (w, h) in [(140, 40), (80, 24)] {
            let s = screen(&app, w, h);
            assert!(has(&s, "walkthrough: fork"), "{w}x{h}: {s:#?}");
            assert!(has(&s, "step 1/4: the shell forks"), "{w}x{h}: {s:#?}");
            assert!(has(&s, "ok   mode = \"S\""), "{w}x{h}: {s:#?}");
            assert!(has(&s, "4 processes"), "{w}x{h}: {s:#?}");
        }
    }
}
