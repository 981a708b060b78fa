//! Where the panes go: three layouts chosen by the terminal's size, pane sizes the user can
//! drag, and panes the user hid.
//!
//! - **tabs** (below [`SPLIT_MIN`], e.g. 80x24): one pane at a time under a tab bar.
//! - **split** (from [`SPLIT_MIN`], e.g. 120x40): console and source on the left, registers
//!   and one detail pane (processes, page table, syscalls, ...: the one used last) on the
//!   right.
//! - **full** (from [`FULL_MIN`], about 200x50): everything a kernel student reads on a stop
//!   at once, in two bands — console, registers and processes with their fds on top (as
//!   tall as the registers need); source, page table, and the syscall trace over one extra
//!   pane (memory, breakpoints or output) below.
//!
//! `auto` picks by size; `:layout NAME` fixes one (saved in the config file, see
//! [`super::config`]).
//!
//! A multi-pane layout is a tree ([`Node`]): splits (rows or columns) whose children have a
//! [`Size`], leaves that are a pane, the detail or extra pane, or a walkthrough's narrative.
//! Each split has a stable id (`full.cols`, `split.left`...) under which the user's sizes are
//! kept: a size vector replaces the defaults only when it has as many entries, so a config
//! written by another version never misplaces a pane. Hidden panes leave the tree and their
//! siblings take the room; a split left with one child is replaced by it.
//!
//! Invariants: [`place`] is a pure function of the tree, the sizes and the area; every
//! placed split records its children's rectangles and their index among the split's full
//! list of children (`orig`), so that dragging a border or a resize key changes the right
//! entry of the saved sizes even while a sibling is hidden.

use super::app::Pane;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use std::collections::{BTreeMap, BTreeSet};

/// The smallest terminal that gets the split layout.
pub const SPLIT_MIN: (u16, u16) = (110, 32);
/// The smallest terminal that gets the full layout.
pub const FULL_MIN: (u16, u16) = (190, 48);
/// Fewest cells a child of a split keeps when a border is dragged.
const MIN_CELLS: u16 = 4;

/// A layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Tabs,
    Split,
    Full,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Tabs, Kind::Split, Kind::Full];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Tabs => "tabs",
            Kind::Split => "split",
            Kind::Full => "full",
        }
    }

    /// A layout by name (`small`, `medium`, `large` are accepted too).
    pub fn named(s: &str) -> Option<Kind> {
        match s {
            "tabs" | "small" => Some(Kind::Tabs),
            "split" | "medium" => Some(Kind::Split),
            "full" | "large" | "big" => Some(Kind::Full),
            _ => None,
        }
    }

    /// The layout `auto` picks for a terminal of `area`.
    pub fn for_size(area: Rect) -> Kind {
        if area.width >= FULL_MIN.0 && area.height >= FULL_MIN.1 {
            Kind::Full
        } else if area.width >= SPLIT_MIN.0 && area.height >= SPLIT_MIN.1 {
            Kind::Split
        } else {
            Kind::Tabs
        }
    }
}

/// The user's choice: by size, or one layout whatever the size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Choice {
    #[default]
    Auto,
    Fixed(Kind),
}

impl Choice {
    pub fn name(self) -> &'static str {
        match self {
            Choice::Auto => "auto",
            Choice::Fixed(k) => k.name(),
        }
    }

    pub fn named(s: &str) -> Option<Choice> {
        match s {
            "auto" => Some(Choice::Auto),
            k => Kind::named(k).map(Choice::Fixed),
        }
    }

    /// The layout for a terminal of `area`.
    pub fn kind(self, area: Rect) -> Kind {
        match self {
            Choice::Auto => Kind::for_size(area),
            Choice::Fixed(k) => k,
        }
    }
}

/// The layout state the user controls, saved in the config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub choice: Choice,
    /// Sizes by split id, overriding the defaults (same count of entries only).
    pub sizes: BTreeMap<String, Vec<u16>>,
    /// Panes hidden from the multi-pane layouts (the tab layout shows every tab).
    pub hidden: BTreeSet<Pane>,
}

/// What a leaf shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Pane(Pane),
    /// The walkthrough's narrative.
    Narrative,
}

/// A child's share of its split: a weight (of the room the fixed children leave) or a
/// fixed count of cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Fill(u16),
    Len(u16),
}

impl Size {
    fn value(self) -> u16 {
        match self {
            Size::Fill(v) | Size::Len(v) => v,
        }
    }

    fn with(self, v: u16) -> Size {
        match self {
            Size::Fill(_) => Size::Fill(v.max(1)),
            Size::Len(_) => Size::Len(v.max(1)),
        }
    }

    fn constraint(self) -> Constraint {
        match self {
            Size::Fill(w) => Constraint::Fill(w),
            Size::Len(n) => Constraint::Length(n),
        }
    }
}

/// A layout tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Leaf(Slot),
    Split {
        id: &'static str,
        dir: Direction,
        kids: Vec<(Size, Node)>,
    },
}

fn leaf(p: Pane) -> Node {
    Node::Leaf(Slot::Pane(p))
}

fn split(id: &'static str, dir: Direction, kids: Vec<(Size, Node)>) -> Node {
    Node::Split { id, dir, kids }
}

/// What the trees depend on besides the kind.
#[derive(Clone, Copy, Debug)]
pub struct Inputs {
    /// A walkthrough plays (its narrative needs a place).
    pub walk: bool,
    /// The split layout's detail pane.
    pub detail: Pane,
    /// The full layout's extra pane (memory, breakpoints or output).
    pub extra: Pane,
}

/// The panes the full layout always has; the others take turns in its extra slot.
pub const FULL_FIXED: [Pane; 6] = [
    Pane::Console,
    Pane::Source,
    Pane::Registers,
    Pane::Processes,
    Pane::PageTable,
    Pane::Syscalls,
];

/// The default tree of a multi-pane layout (None for tabs).
pub fn tree(kind: Kind, i: Inputs) -> Option<Node> {
    use Direction::{Horizontal as H, Vertical as V};
    Some(match kind {
        Kind::Tabs => return None,
        Kind::Split => {
            let right = if i.walk {
                split(
                    "split.right.walk",
                    V,
                    vec![
                        (Size::Fill(45), Node::Leaf(Slot::Narrative)),
                        (Size::Fill(55), leaf(i.detail)),
                    ],
                )
            } else {
                split(
                    "split.right",
                    V,
                    vec![
                        (Size::Len(14), leaf(Pane::Registers)),
                        (Size::Fill(1), leaf(i.detail)),
                    ],
                )
            };
            split(
                "split.cols",
                H,
                vec![
                    (
                        Size::Fill(55),
                        split(
                            "split.left",
                            V,
                            vec![
                                (Size::Fill(55), leaf(Pane::Console)),
                                (Size::Fill(45), leaf(Pane::Source)),
                            ],
                        ),
                    ),
                    (Size::Fill(45), right),
                ],
            )
        }
        Kind::Full => {
            // Two bands: what a stop changes in place (console, registers, processes) on
            // top, at the registers' height; below, the long-lined views (source, page
            // table, syscalls) with room to grow.
            let corner = if i.walk {
                // The narrative takes the extra pane's place; the syscalls give way to a
                // detail pane the walk or the user asks for.
                let x = match i.detail {
                    Pane::Breakpoints | Pane::Output | Pane::Memory => i.detail,
                    _ => Pane::Syscalls,
                };
                split(
                    "full.corner.walk",
                    V,
                    vec![
                        (Size::Fill(60), Node::Leaf(Slot::Narrative)),
                        (Size::Fill(40), leaf(x)),
                    ],
                )
            } else {
                split(
                    "full.corner",
                    V,
                    vec![
                        (Size::Fill(60), leaf(Pane::Syscalls)),
                        (Size::Fill(40), leaf(i.extra)),
                    ],
                )
            };
            let bottom = if i.walk {
                ("full.bottom.walk", [30, 38, 32])
            } else {
                ("full.bottom", [32, 44, 24])
            };
            split(
                "full.rows",
                V,
                vec![
                    (
                        Size::Len(26),
                        split(
                            "full.top",
                            H,
                            vec![
                                (Size::Fill(32), leaf(Pane::Console)),
                                (Size::Fill(32), leaf(Pane::Registers)),
                                (Size::Fill(36), leaf(Pane::Processes)),
                            ],
                        ),
                    ),
                    (
                        Size::Fill(1),
                        split(
                            bottom.0,
                            H,
                            vec![
                                (Size::Fill(bottom.1[0]), leaf(Pane::Source)),
                                (Size::Fill(bottom.1[1]), leaf(Pane::PageTable)),
                                (Size::Fill(bottom.1[2]), corner),
                            ],
                        ),
                    ),
                ],
            )
        }
    })
}

/// A split as placed on screen: for dragging its borders and for the resize keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub id: &'static str,
    pub dir: Direction,
    /// The split's whole area.
    pub area: Rect,
    /// The children shown, in order: their rectangles...
    pub rects: Vec<Rect>,
    /// ...their index among all the split's children (as the sizes are saved)...
    pub orig: Vec<usize>,
    /// ...and the slots each one holds.
    pub slots: Vec<Vec<Slot>>,
    /// The sizes of all the split's children (hidden ones included).
    pub sizes: Vec<Size>,
}

/// Places `node` in `area`: the leaves with their rectangles, and the splits. Hidden panes
/// are left out (see the module's invariants).
pub fn place(node: &Node, area: Rect, settings: &Settings) -> (Vec<(Slot, Rect)>, Vec<Placed>) {
    let mut leaves = Vec::new();
    let mut splits = Vec::new();
    if let Some(n) = prune(node, &settings.hidden) {
        place_in(&n, area, settings, &mut leaves, &mut splits);
    }
    (leaves, splits)
}

/// The tree without hidden panes: None when nothing is left. Each kept child remembers its
/// index among the original children (in `orig` of the pruned split, see [`Pruned`]).
fn prune(node: &Node, hidden: &BTreeSet<Pane>) -> Option<Pruned> {
    match node {
        Node::Leaf(Slot::Pane(p)) if hidden.contains(p) => None,
        Node::Leaf(s) => Some(Pruned::Leaf(*s)),
        Node::Split { id, dir, kids } => {
            let all: Vec<Size> = kids.iter().map(|(s, _)| *s).collect();
            let kept: Vec<(usize, Pruned)> = kids
                .iter()
                .enumerate()
                .filter_map(|(i, (_, n))| prune(n, hidden).map(|p| (i, p)))
                .collect();
            match kept.len() {
                0 => None,
                1 => kept.into_iter().next().map(|(_, p)| p),
                _ => Some(Pruned::Split {
                    id,
                    dir: *dir,
                    all,
                    kids: kept,
                }),
            }
        }
    }
}

enum Pruned {
    Leaf(Slot),
    Split {
        id: &'static str,
        dir: Direction,
        /// Default sizes of every original child.
        all: Vec<Size>,
        kids: Vec<(usize, Pruned)>,
    },
}

impl Pruned {
    fn slots(&self, out: &mut Vec<Slot>) {
        match self {
            Pruned::Leaf(s) => out.push(*s),
            Pruned::Split { kids, .. } => kids.iter().for_each(|(_, k)| k.slots(out)),
        }
    }
}

/// The sizes of split `id`: the user's when they fit the default's shape, else the default.
fn sizes_of(id: &str, default: &[Size], settings: &Settings) -> Vec<Size> {
    match settings.sizes.get(id) {
        Some(v) if v.len() == default.len() => {
            default.iter().zip(v).map(|(d, v)| d.with(*v)).collect()
        }
        _ => default.to_vec(),
    }
}

fn place_in(
    node: &Pruned,
    area: Rect,
    settings: &Settings,
    leaves: &mut Vec<(Slot, Rect)>,
    splits: &mut Vec<Placed>,
) {
    match node {
        Pruned::Leaf(s) => leaves.push((*s, area)),
        Pruned::Split { id, dir, all, kids } => {
            let sizes = sizes_of(id, all, settings);
            let mut shown: Vec<Size> = kids.iter().map(|(i, _)| sizes[*i]).collect();
            // Something must take the room fixed children leave.
            if !shown.iter().any(|s| matches!(s, Size::Fill(_)))
                && let Some(last) = shown.last_mut()
            {
                *last = Size::Fill(1);
            }
            let rects = Layout::default()
                .direction(*dir)
                .constraints(shown.iter().map(|s| s.constraint()))
                .split(area);
            splits.push(Placed {
                id,
                dir: *dir,
                area,
                rects: rects.to_vec(),
                orig: kids.iter().map(|(i, _)| *i).collect(),
                slots: kids
                    .iter()
                    .map(|(_, k)| {
                        let mut v = Vec::new();
                        k.slots(&mut v);
                        v
                    })
                    .collect(),
                sizes,
            });
            for ((_, k), r) in kids.iter().zip(rects.iter()) {
                place_in(k, *r, settings, leaves, splits);
            }
        }
    }
}

/// The border under the pointer at `(x, y)`: the split and the index `b` of the boundary
/// between its shown children `b` and `b + 1`. Either child's border cell on that side
/// counts (each pane draws its own border). The innermost split wins.
pub fn border_at(splits: &[Placed], x: u16, y: u16) -> Option<(&'static str, usize)> {
    let at = ratatui::layout::Position::new(x, y);
    splits.iter().rev().find_map(|s| {
        if !s.area.contains(at) {
            return None;
        }
        (0..s.rects.len().saturating_sub(1)).find_map(|b| {
            let (a, c) = (s.rects[b], s.rects[b + 1]);
            let hit = match s.dir {
                Direction::Horizontal => x + 1 == a.right() || x == c.x,
                Direction::Vertical => y + 1 == a.bottom() || y == c.y,
            };
            hit.then_some((s.id, b))
        })
    })
}

/// Moves boundary `b` of split `id` so that it falls at the pointer `(x, y)` (its column for
/// columns, its row for rows): the two children beside it share their room anew, each
/// keeping at least [`MIN_CELLS`]. Writes the split's sizes into `settings`; false when
/// nothing moved.
pub fn drag(
    splits: &[Placed],
    settings: &mut Settings,
    (id, b): (&str, usize),
    (x, y): (u16, u16),
) -> bool {
    let Some(s) = splits.iter().find(|s| s.id == id) else {
        return false;
    };
    let at = match s.dir {
        Direction::Horizontal => x,
        Direction::Vertical => y,
    };
    if b + 1 >= s.rects.len() {
        return false;
    }
    let (start, len) = span(s.dir, s.rects[b]);
    let (_, len2) = span(s.dir, s.rects[b + 1]);
    let pair = len + len2;
    if pair < 2 * MIN_CELLS {
        return false;
    }
    // The first child ends where the pointer is (its border cell under the pointer).
    let first = (at.saturating_sub(start) + 1).clamp(MIN_CELLS, pair - MIN_CELLS);
    if first == len {
        return false;
    }
    set_pair(s, settings, b, first, pair - first);
    true
}

/// Where `r` starts and how long it is along `dir`.
fn span(dir: Direction, r: Rect) -> (u16, u16) {
    match dir {
        Direction::Horizontal => (r.x, r.width),
        Direction::Vertical => (r.y, r.height),
    }
}

/// Gives shown children `b` and `b + 1` of `s` `first` and `second` cells.
fn set_pair(s: &Placed, settings: &mut Settings, b: usize, first: u16, second: u16) {
    let (i, j) = (s.orig[b], s.orig[b + 1]);
    let mut sizes = s.sizes.clone();
    match (sizes[i], sizes[j]) {
        (Size::Fill(w1), Size::Fill(w2)) => {
            // Weights in proportion to the cells, keeping the pair's total weight (scaled up
            // when small, so that one cell still moves the border).
            let total = (u32::from(w1) + u32::from(w2)).max(u32::from(first + second) * 4);
            let w1 = (total * u32::from(first) / u32::from(first + second)).max(1);
            sizes[i] = Size::Fill(w1 as u16);
            sizes[j] = Size::Fill((total - w1).max(1) as u16);
            // The other shown weights scale with the pair when it was scaled.
            let old = u32::from(s.sizes[i].value()) + u32::from(s.sizes[j].value());
            if total != old {
                for (k, sz) in sizes.iter_mut().enumerate() {
                    if k != i
                        && k != j
                        && let Size::Fill(w) = *sz
                    {
                        *sz = Size::Fill((u32::from(w) * total / old.max(1)).max(1) as u16);
                    }
                }
            }
        }
        (Size::Len(_), _) => sizes[i] = Size::Len(first),
        (_, Size::Len(_)) => sizes[j] = Size::Len(second),
    }
    settings
        .sizes
        .insert(s.id.to_string(), sizes.iter().map(|s| s.value()).collect());
}

/// The resize keys: makes the child holding `pane` of the innermost split in direction
/// `dir` that can change `step` cells bigger (or smaller, when negative), taking them from
/// (or giving them to) its next sibling, or its previous one when it is the last. False
/// when no split can.
pub fn grow(
    splits: &[Placed],
    settings: &mut Settings,
    pane: Pane,
    dir: Direction,
    step: i32,
) -> bool {
    for s in splits.iter().rev().filter(|s| s.dir == dir) {
        let Some(k) = s.slots.iter().position(|v| v.contains(&Slot::Pane(pane))) else {
            continue;
        };
        if s.rects.len() < 2 {
            continue;
        }
        let extent = |r: Rect| span(dir, r).1;
        let (b, mine_first) = if k + 1 < s.rects.len() {
            (k, true)
        } else {
            (k - 1, false)
        };
        let (a, c) = (extent(s.rects[b]), extent(s.rects[b + 1]));
        let pair = i32::from(a + c);
        let mine = i32::from(if mine_first { a } else { c });
        let new = (mine + step).clamp(i32::from(MIN_CELLS), pair - i32::from(MIN_CELLS));
        if new == mine {
            continue;
        }
        let other = pair - new;
        let (first, second) = if mine_first {
            (new, other)
        } else {
            (other, new)
        };
        set_pair(s, settings, b, first as u16, second as u16);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            walk: false,
            detail: Pane::Processes,
            extra: Pane::Memory,
        }
    }

    fn panes(leaves: &[(Slot, Rect)]) -> Vec<Pane> {
        leaves
            .iter()
            .filter_map(|(s, _)| match s {
                Slot::Pane(p) => Some(*p),
                Slot::Narrative => None,
            })
            .collect()
    }

    #[test]
    fn sizes_pick_the_layout() {
        assert_eq!(Kind::for_size(Rect::new(0, 0, 80, 24)), Kind::Tabs);
        assert_eq!(Kind::for_size(Rect::new(0, 0, 120, 40)), Kind::Split);
        assert_eq!(Kind::for_size(Rect::new(0, 0, 200, 60)), Kind::Full);
        assert_eq!(Kind::for_size(Rect::new(0, 0, 200, 40)), Kind::Split);
        assert_eq!(
            Choice::Fixed(Kind::Tabs).kind(Rect::new(0, 0, 200, 60)),
            Kind::Tabs
        );
        assert_eq!(Choice::named("large"), Some(Choice::Fixed(Kind::Full)));
        assert_eq!(Choice::named("auto"), Some(Choice::Auto));
        assert_eq!(Choice::named("huge"), None);
    }

    #[test]
    fn the_full_layout_has_everything_and_hiding_gives_the_room_away() {
        let t = tree(Kind::Full, inputs()).unwrap();
        let area = Rect::new(0, 0, 200, 58);
        let mut st = Settings::default();
        let (leaves, splits) = place(&t, area, &st);
        let mut want = FULL_FIXED.to_vec();
        want.push(Pane::Memory);
        let mut got = panes(&leaves);
        got.sort_by_key(|p| p.index());
        want.sort_by_key(|p| p.index());
        assert_eq!(got, want);
        // The bands tile the width, the registers get their rows.
        let top = splits.iter().find(|s| s.id == "full.top").unwrap();
        assert_eq!(top.rects.iter().map(|r| r.width).sum::<u16>(), 200);
        assert_eq!(top.rects[1].height, 26);
        let rect = |leaves: &[(Slot, Rect)], p| {
            leaves
                .iter()
                .find(|(s, _)| *s == Slot::Pane(p))
                .map(|(_, r)| *r)
                .unwrap()
        };
        // The page table has the width of its longest rows.
        assert!(rect(&leaves, Pane::PageTable).width >= 86);
        // Hiding the extra pane: the syscalls take the corner.
        st.hidden.insert(Pane::Memory);
        let (leaves, _) = place(&t, area, &st);
        assert_eq!(rect(&leaves, Pane::Syscalls).height, 58 - 26);
        // Hiding a whole column gives its width to the others.
        st.hidden.insert(Pane::Syscalls);
        let (leaves, splits) = place(&t, area, &st);
        assert_eq!(panes(&leaves).len(), 5);
        let bottom = splits.iter().find(|s| s.id == "full.bottom").unwrap();
        assert_eq!(bottom.orig, vec![0, 1]);
        assert_eq!(bottom.rects.iter().map(|r| r.width).sum::<u16>(), 200);
    }

    #[test]
    fn dragging_a_border_moves_it_and_keys_grow_a_pane() {
        let t = tree(Kind::Split, inputs()).unwrap();
        let area = Rect::new(0, 0, 140, 38);
        let mut st = Settings::default();
        let (_, splits) = place(&t, area, &st);
        let cols = splits.iter().find(|s| s.id == "split.cols").unwrap();
        let border = cols.rects[0].right() - 1;
        assert_eq!(border_at(&splits, border, 10), Some(("split.cols", 0)));
        assert_eq!(border_at(&splits, border + 1, 10), Some(("split.cols", 0)));
        assert_eq!(border_at(&splits, border - 5, 10), None);
        // Drag the column border to x = 99: the left column is 100 wide.
        assert!(drag(&splits, &mut st, ("split.cols", 0), (99, 10)));
        let (_, splits) = place(&t, area, &st);
        let cols = splits.iter().find(|s| s.id == "split.cols").unwrap();
        assert_eq!(cols.rects[0].width, 100, "{:?}", st.sizes);
        // The registers (a fixed height) get taller by two rows with the keys.
        let before = splits.iter().find(|s| s.id == "split.right").unwrap().rects[0].height;
        assert!(grow(
            &splits,
            &mut st,
            Pane::Registers,
            Direction::Vertical,
            2
        ));
        assert_eq!(st.sizes["split.right"][0], before + 2);
        // Never below the minimum.
        let (_, splits) = place(&t, area, &st);
        assert!(drag(&splits, &mut st, ("split.cols", 0), (0, 10)));
        let (_, splits) = place(&t, area, &st);
        let cols = splits.iter().find(|s| s.id == "split.cols").unwrap();
        assert_eq!(cols.rects[0].width, MIN_CELLS);
    }

    #[test]
    fn saved_sizes_of_another_shape_are_ignored() {
        let t = tree(Kind::Full, inputs()).unwrap();
        let area = Rect::new(0, 0, 200, 58);
        let mut st = Settings::default();
        let (_, default) = place(&t, area, &st);
        st.sizes.insert("full.cols".into(), vec![1, 2]);
        let (_, splits) = place(&t, area, &st);
        assert_eq!(splits, default);
    }
}
