//! The page-table pane's tree: a walked Sv39 [`Tree`] turned into expandable rows.
//!
//! Interface: [`build`] takes the tree of one address space, the names of its pages and the
//! leaf changes since the previous stop, and returns a [`PtView`]; [`visible`] picks the
//! rows the pane shows given the collapsed branches. Both are pure, so the pane is tested on
//! hand-made trees.
//!
//! Shape (Sv39, privileged spec §4.4): a level-2 table of 512 entries, each a pointer to a
//! level-1 table or a 1 GiB leaf; level-1 entries point to level-0 tables or map 2 MiB;
//! level-0 entries map 4 KiB. [`session::inspect::pagetable::walk`] lists entries depth
//! first, so a table pointer's children follow it. Leaves of one table with consecutive
//! indexes, like flags (A and D aside: the hardware sets them page by page) and one name
//! fold into one row, as `mon pt PID tree` prints them.
//!
//! Invariant: a row's key is its virtual address plus its level (addresses of table
//! entries are page-aligned), so the same branch keeps its key from one snapshot to the
//! next and stays collapsed.

use super::event::{PtRow, PtView};
use session::inspect::pagetable::{self, Change, Names, Tree};
use std::collections::{BTreeMap, HashSet};

/// The rows of `tree`; `changes` marks leaves added or changed since the previous stop.
pub fn build(title: String, tree: &Tree, names: &Names, changes: &BTreeMap<u64, Change>) -> PtView {
    let guard = tree.user_guard();
    let mut rows = Vec::new();
    let e = &tree.entries;
    let mut i = 0;
    while i < e.len() {
        let first = e[i];
        let depth = 2 - first.level.min(2);
        if !first.is_leaf() {
            rows.push(PtRow {
                depth,
                text: format!(
                    "L{}[{:3}] {:#x}-{:#x} table {:#x}",
                    first.level,
                    first.index,
                    first.va,
                    first.va.wrapping_add(first.size()),
                    first.pa()
                ),
                branch: true,
                key: first.va | u64::from(first.level),
                mark: ' ',
            });
            i += 1;
            continue;
        }
        let name = names.name(first.va, first.pte, guard);
        let j = tree.run_end(i, names, guard);
        let run = &e[i..j];
        let last = run[run.len() - 1];
        let all = run.iter().fold(0xff, |a, x| a & x.pte);
        let any = run.iter().fold(0, |a, x| a | x.pte);
        let idx = if run.len() == 1 {
            format!("[{:3}]", first.index)
        } else {
            format!("[{}..{}]", first.index, last.index)
        };
        let mark = run
            .iter()
            .filter_map(|x| changes.get(&x.va))
            .fold(' ', |m, c| match (m, c) {
                ('+', _) | (_, Change::Added(..)) => '+',
                _ => '~',
            });
        rows.push(PtRow {
            depth,
            text: format!(
                "L{}{idx} {:#x}-{:#x} pa {:#x}{} {} {}",
                first.level,
                first.va,
                last.va.wrapping_add(last.size()),
                first.pa(),
                if run.len() > 1 { ".." } else { "" },
                pagetable::run_flags_str(all, any),
                name
            ),
            branch: false,
            key: first.va | u64::from(first.level),
            mark,
        });
        i = j;
    }
    for (level, pa) in &tree.unreadable {
        rows.push(PtRow {
            depth: 0,
            text: format!("!! level-{level} table at {pa:#x} is outside RAM"),
            branch: false,
            key: u64::MAX,
            mark: ' ',
        });
    }
    let changes = if changes.is_empty() {
        Vec::new()
    } else {
        pagetable::render_diff(changes)
    };
    PtView {
        title: format!("{title}, root {:#x}", tree.root),
        rows,
        changes,
    }
}

/// Indexes into `rows` of the rows shown: those with no collapsed branch above them.
pub fn visible(rows: &[PtRow], collapsed: &HashSet<u64>) -> Vec<usize> {
    let mut out = Vec::with_capacity(rows.len());
    let mut hide_below: Option<u8> = None;
    for (i, r) in rows.iter().enumerate() {
        if let Some(d) = hide_below {
            if r.depth > d {
                continue;
            }
            hide_below = None;
        }
        out.push(i);
        if r.branch && collapsed.contains(&r.key) {
            hide_below = Some(r.depth);
        }
    }
    out
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use session::inspect::pagetable::{Entry, PTE_A, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X};

    fn pte(pa: u64, flags: u64) -> u64 {
        (pa >> 12) << 10 | flags
    }

    /// A small user address space: text (2 pages), a guard page, the stack, the trampoline.
    pub fn user_tree() -> Tree {
        let l = |level, index, va, pte| Entry {
            level,
            index,
            va,
            pte,
        };
        let urx = PTE_V | PTE_R | PTE_X | PTE_U | PTE_A;
        let urw = PTE_V | PTE_R | PTE_W | PTE_U | PTE_A;
        Tree {
            root: 0x8700_0000,
            entries: vec![
                l(2, 0, 0, pte(0x8700_1000, PTE_V)),
                l(1, 0, 0, pte(0x8700_2000, PTE_V)),
                l(0, 0, 0, pte(0x8710_0000, urx)),
                l(0, 1, 0x1000, pte(0x8710_1000, urx)),
                l(0, 2, 0x2000, pte(0x8710_2000, PTE_V | PTE_R | PTE_W)),
                l(0, 3, 0x3000, pte(0x8710_3000, urw)),
                l(2, 255, 0x3f_c000_0000, pte(0x8700_3000, PTE_V)),
                l(1, 511, 0x3f_ffe0_0000, pte(0x8700_4000, PTE_V)),
                l(
                    0,
                    511,
                    0x3f_ffff_f000,
                    pte(0x8000_7000, PTE_V | PTE_R | PTE_X),
                ),
            ],
            unreadable: Vec::new(),
            truncated: false,
        }
    }

    #[test]
    fn tables_are_branches_and_like_leaves_fold_with_names() {
        let t = user_tree();
        let mut changes = BTreeMap::new();
        changes.insert(0x3000, Change::Added(0, t.entries[5].pte));
        let v = build("pid 3 (sh)".into(), &t, &Names::user(0x4000), &changes);
        assert_eq!(v.title, "pid 3 (sh), root 0x87000000");
        let text: Vec<&str> = v.rows.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(v.rows.len(), 8, "{text:#?}");
        assert!(v.rows[0].branch && v.rows[0].depth == 0, "{text:#?}");
        assert!(
            text[2].starts_with("L0[0..1] 0x0-0x2000 pa 0x87100000.."),
            "{text:#?}"
        );
        assert!(text[2].ends_with("text"), "{text:#?}");
        assert!(text[3].ends_with("guard page"), "{text:#?}");
        assert!(text[4].ends_with("user stack"), "{text:#?}");
        assert_eq!(v.rows[4].mark, '+');
        assert_eq!(v.rows[2].mark, ' ');
        assert!(text[7].ends_with("trampoline"), "{text:#?}");
        assert_eq!(v.changes.len(), 1, "{:?}", v.changes);
        assert!(v.changes[0].contains("+ pa 0x87103000"), "{:?}", v.changes);
    }

    #[test]
    fn collapsing_a_branch_hides_what_is_under_it() {
        let v = build(
            "x".into(),
            &user_tree(),
            &Names::user(0x4000),
            &BTreeMap::new(),
        );
        assert_eq!(
            visible(&v.rows, &HashSet::new()),
            (0..8).collect::<Vec<_>>()
        );
        let mut c = HashSet::new();
        c.insert(v.rows[0].key);
        assert_eq!(visible(&v.rows, &c), vec![0, 5, 6, 7]);
        c.insert(v.rows[6].key);
        assert_eq!(visible(&v.rows, &c), vec![0, 5, 6]);
        c.remove(&v.rows[0].key);
        assert_eq!(visible(&v.rows, &c), vec![0, 1, 2, 3, 4, 5, 6]);
    }
}
