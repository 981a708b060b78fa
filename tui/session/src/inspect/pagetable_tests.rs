use super::*;
use crate::inspect::MemImage;

const BASE: u64 = 0x8000_0000;

/// Builds a tree in a 64-page image: root at page 0, tables allocated upwards.
struct Builder {
    mem: MemImage,
    next: u64,
}

impl Builder {
    fn new() -> Self {
        Builder {
            mem: MemImage::new(BASE, 64 * PGSIZE as usize),
            next: BASE + PGSIZE,
        }
    }
    /// Maps one 4 KiB page, creating tables as needed (as xv6's `mappages`).
    fn map(&mut self, va: u64, pa: u64, flags: u64) {
        let mut table = BASE;
        for level in [2u64, 1] {
            let slot = table + ((va >> (12 + 9 * level)) & 0x1ff) * 8;
            let pte = self.mem.read_u64(slot).unwrap();
            table = if pte & PTE_V != 0 {
                pte_pa(pte)
            } else {
                let t = self.next;
                self.next += PGSIZE;
                self.mem.write_u64(slot, (t >> 12) << 10 | PTE_V);
                t
            };
        }
        let slot = table + ((va >> 12) & 0x1ff) * 8;
        self.mem.write_u64(slot, (pa >> 12) << 10 | flags | PTE_V);
    }
}

/// xv6's layout of a small process: text+data at 0 (2 pages), guard, stack, one heap
/// page, trapframe and trampoline.
fn process() -> Builder {
    let mut b = Builder::new();
    let urx = PTE_R | PTE_X | PTE_U;
    b.map(0x0, 0x8700_0000, urx);
    b.map(0x1000, 0x8700_1000, PTE_R | PTE_W | PTE_U);
    b.map(0x2000, 0x8700_5000, PTE_R | PTE_W); // guard: U cleared
    b.map(0x3000, 0x8700_3000, PTE_R | PTE_W | PTE_U);
    b.map(0x4000, 0x8700_9000, PTE_R | PTE_W | PTE_U);
    b.map(TRAPFRAME, 0x8770_0000, PTE_R | PTE_W);
    b.map(TRAMPOLINE, 0x8000_7000, PTE_R | PTE_X);
    b
}

#[test]
fn walk_finds_tables_and_leaves_in_order() {
    let b = process();
    let t = walk(&b.mem, BASE);
    let leaves: Vec<u64> = t.leaves().map(|e| e.va).collect();
    assert_eq!(
        leaves,
        vec![0, 0x1000, 0x2000, 0x3000, 0x4000, TRAPFRAME, TRAMPOLINE]
    );
    // Two level-2 and two level-1 pointers (low and high halves), then 7 leaves.
    assert_eq!(t.entries.len(), 2 + 2 + 7);
    assert_eq!(t.entries[0].level, 2);
    assert_eq!(t.entries[0].index, 0);
    let top: Vec<u16> = t
        .entries
        .iter()
        .filter(|e| e.level == 2)
        .map(|e| e.index)
        .collect();
    assert_eq!(
        top,
        vec![0, 255],
        "TRAMPOLINE is in the last slot of the low half"
    );
    assert!(t.unreadable.is_empty());
    assert_eq!(t.user_guard(), Some(0x2000));
}

#[test]
fn names_and_runs_for_a_process() {
    let b = process();
    let t = walk(&b.mem, BASE);
    let runs = t.runs(&Names::user(0x5000));
    let named: Vec<(u64, u64, &str)> = runs
        .iter()
        .map(|r| (r.va, r.count, r.name.as_str()))
        .collect();
    assert_eq!(
        named,
        vec![
            (0, 1, "text"),
            (0x1000, 1, "data"),
            (0x2000, 1, "guard page"),
            (0x3000, 1, "user stack"),
            (0x4000, 1, "heap"),
            (TRAPFRAME, 1, "trapframe"),
            (TRAMPOLINE, 1, "trampoline"),
        ]
    );
    // The 2021+ pgtbl lab's page below the trapframe: named, not "beyond sz".
    let mut b = b;
    b.map(abi::memlayout::USYSCALL, 0x8760_0000, PTE_R | PTE_U);
    let t = walk(&b.mem, BASE);
    let runs = t.runs(&Names::user(0x5000));
    let top: Vec<&str> = runs.iter().rev().take(3).map(|r| r.name.as_str()).collect();
    assert_eq!(top, ["trampoline", "trapframe", "usyscall"]);
    let lines = t.render(&Names::user(0x5000));
    assert!(lines[2].starts_with("0x0000000000000000-0x0000000000001000  0x0000000087000000"));
    assert!(lines[2].contains("V R - X U - - -"), "{}", lines[2]);
    assert!(lines[2].ends_with("text"));
}

#[test]
fn like_pages_fold() {
    let mut b = Builder::new();
    for i in 0..4 {
        b.map(
            0x10_0000 + i * PGSIZE,
            0x8100_0000 + i * PGSIZE,
            PTE_R | PTE_W,
        );
    }
    b.map(0x10_4000, 0x8200_0000, PTE_R | PTE_W); // same flags, pa elsewhere
    b.map(0x10_5000, 0x8200_1000, PTE_R); // different flags
    let t = walk(&b.mem, BASE);
    let runs = t.runs(&Names::none());
    assert_eq!(runs.len(), 2);
    assert_eq!((runs[0].count, runs[0].pa_contiguous), (5, false));
    assert_eq!((runs[1].va, runs[1].count), (0x10_5000, 1));
    let tree = t.render_tree(&Names::none());
    assert!(tree.iter().any(|l| l.contains("L0[256..260]")), "{tree:?}");
}

#[test]
fn vmprint_matches_the_lab_format() {
    let mut b = Builder::new();
    b.map(0x0, 0x8700_0000, PTE_R | PTE_X | PTE_U);
    let t = walk(&b.mem, BASE);
    assert_eq!(
        t.vmprint(),
        vec![
            "page table 0x0000000080000000",
            " ..0: pte 0x0000000020000401 pa 0x0000000080001000",
            " .. ..0: pte 0x0000000020000801 pa 0x0000000080002000",
            " .. .. ..0: pte 0x0000000021c0001b pa 0x0000000087000000",
        ]
    );
}

/// The two handout formats: 2020-2023 print the index, 2024 the virtual address (not
/// sign-extended) instead.
#[test]
fn vmprint_in_each_years_format() {
    let mut b = Builder::new();
    b.map(0x1000, 0x8700_0000, PTE_R | PTE_U);
    b.map(TRAMPOLINE, 0x8000_7000, PTE_R | PTE_X);
    let t = walk(&b.mem, BASE);
    let index = t.vmprint_as(Vmprint::Index);
    let va = t.vmprint_as(Vmprint::Va);
    assert_eq!(index, t.vmprint());
    assert!(index[3].starts_with(" .. .. ..1: pte "), "{index:?}");
    assert!(index[6].starts_with(" .. .. ..511: pte "), "{index:?}");
    assert_eq!(
        va[1..]
            .iter()
            .map(|l| l.split(": ").next().unwrap())
            .collect::<Vec<_>>(),
        [
            " ..0x0000000000000000",
            " .. ..0x0000000000000000",
            " .. .. ..0x0000000000001000",
            " ..0x0000003fc0000000",
            " .. ..0x0000003fffe00000",
            " .. .. ..0x0000003ffffff000",
        ]
    );
    assert_eq!(va[0], index[0]);
    assert_eq!(va[3].split(": ").nth(1), index[3].split(": ").nth(1));
    assert_eq!(
        [2020, 2021, 2023, 2024, 2025].map(Vmprint::of_year),
        [
            Vmprint::Index,
            Vmprint::Index,
            Vmprint::Index,
            Vmprint::Va,
            Vmprint::Va
        ]
    );
}

#[test]
fn translate_and_read_virt_cross_pages() {
    let mut b = Builder::new();
    b.map(0x0, BASE + 40 * PGSIZE, PTE_R | PTE_U);
    b.map(0x1000, BASE + 50 * PGSIZE, PTE_R | PTE_U);
    b.map(0x2000, BASE + 51 * PGSIZE, PTE_R);
    b.mem.write(BASE + 41 * PGSIZE - 2, b"ab");
    b.mem.write(BASE + 50 * PGSIZE, b"cd");
    assert_eq!(
        translate(&b.mem, BASE, 0xffe).map(|x| x.0),
        Some(BASE + 41 * PGSIZE - 2)
    );
    let mut buf = [0u8; 4];
    assert!(read_virt(&b.mem, BASE, 0xffe, &mut buf, true));
    assert_eq!(&buf, b"abcd");
    assert!(
        !read_virt(&b.mem, BASE, 0x1ffe, &mut buf, true),
        "no U on the third page"
    );
    assert!(read_virt(&b.mem, BASE, 0x1ffe, &mut buf, false));
    assert!(translate(&b.mem, BASE, 0x3000).is_none());
    assert!(translate(&b.mem, BASE, 1 << 40).is_none(), "not canonical");
}

#[test]
fn bad_pointers_are_reported_not_followed() {
    let mut mem = MemImage::new(BASE, PGSIZE as usize);
    // Root entry 3 points outside the image; entry 4 points back at the root itself.
    mem.write_u64(BASE + 3 * 8, (0x1234_5000u64 >> 12) << 10 | PTE_V);
    mem.write_u64(BASE + 4 * 8, (BASE >> 12) << 10 | PTE_V);
    let t = walk(&mem, BASE);
    assert_eq!(t.unreadable, vec![(1, 0x1234_5000), (0, 0x1234_5000)]);
    // The self-loop is followed for the two remaining levels only, then stops.
    assert!(t.entries.len() < 16, "{}", t.entries.len());
    assert!(walk(&mem, 0x10).unreadable.len() == 1);
}

#[test]
fn diff_shows_cow_and_sbrk() {
    let before = process();
    let mut after = process();
    // A copy-on-write style change: the data page loses W; sbrk adds a heap page.
    after.map(0x1000, 0x8700_1000, PTE_R | PTE_U);
    after.map(0x5000, 0x8700_a000, PTE_R | PTE_W | PTE_U);
    let d = diff(&walk(&before.mem, BASE), &walk(&after.mem, BASE));
    assert_eq!(d.len(), 2);
    assert!(matches!(d[&0x1000], Change::Changed(_, _)));
    assert!(matches!(d[&0x5000], Change::Added(0, _)));
    let lines = render_diff(&d);
    assert!(lines[0].contains("~ flags :"), "{lines:?}");
    assert!(
        lines[1].starts_with("0x0000000000005000-0x0000000000006000     1 pages  + pa 0x8700a000")
    );
    assert_eq!(render_diff(&BTreeMap::new()), vec!["(no differences)"]);
}

#[test]
fn kernel_names() {
    let n = Names::kernel(Some(0x8000_8000));
    assert_eq!(n.name(UART0, PTE_R | PTE_W, None), "UART0");
    assert_eq!(n.name(0x8000_1000, PTE_R | PTE_X, None), "kernel text");
    assert!(
        n.name(0x8000_9000, PTE_R | PTE_W, None)
            .starts_with("direct map")
    );
    assert_eq!(n.name(TRAMPOLINE, PTE_R | PTE_X, None), "trampoline");
    assert_eq!(
        n.name(TRAMPOLINE - 3 * PGSIZE, PTE_R | PTE_W, None),
        "kernel stacks"
    );
}

#[test]
fn accessed_and_dirty_do_not_split_runs() {
    let mut b = Builder::new();
    b.map(0x0, 0x8700_0000, PTE_R | PTE_X | PTE_U | PTE_A);
    b.map(0x1000, 0x8700_1000, PTE_R | PTE_X | PTE_U);
    let t = walk(&b.mem, BASE);
    let runs = t.runs(&Names::none());
    assert_eq!(runs.len(), 1);
    assert_eq!(run_flags_str(runs[0].flags, runs[0].any), "V R - X U - a -");
    assert!(
        t.render_tree(&Names::none())[3].contains("L0[0..1]"),
        "{:?}",
        t.render_tree(&Names::none())
    );
}
