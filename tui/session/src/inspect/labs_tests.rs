use super::*;
use crate::inspect::MemImage;
use crate::inspect::dwarf::{Member, Ty, Var};

const U64: usize = 0;
const INT: usize = 1;

fn member(name: &str, offset: u64, ty: usize) -> Member {
    Member {
        name: name.into(),
        offset,
        ty: Some(ty),
    }
}

/// A type arena with u64 (0) and int (1), then `more`; returns it and the index of the first
/// of `more`.
fn arena(more: Vec<Ty>) -> (Types, usize) {
    let mut types = vec![
        Ty::Base {
            size: 8,
            signed: false,
        },
        Ty::Base {
            size: 4,
            signed: true,
        },
    ];
    let first = types.len();
    types.extend(more);
    (
        Types {
            types,
            vars: Default::default(),
        },
        first,
    )
}

/// A student's 2020-pgtbl + mmap + alarm `struct proc`: the stock fields (some), then
/// `pagetable_t kpagetable`, `struct vma vma[4]` (fields `valid`, `start`, `length`, `perm`,
/// `flags`, `f`, `offset`), `int alarm_interval`, `uint64 alarm_handler` and a saved
/// `struct trapframe alarm_tf`.
#[test]
fn a_students_proc_shows_kernel_page_table_vmas_and_alarm() {
    let b = 2; // first index of `more`
    let (mut t, _) = arena(vec![
        // b+0: pagetable_t
        Ty::Pointer(Some(U64)),
        // b+1: struct file { int ref; }
        Ty::Struct {
            name: "file".into(),
            size: 8,
            members: vec![member("ref", 0, INT)],
        },
        // b+2: struct file *
        Ty::Pointer(Some(b + 1)),
        // b+3: struct vma
        Ty::Struct {
            name: "vma".into(),
            size: 48,
            members: vec![
                member("valid", 0, INT),
                member("start", 8, U64),
                member("length", 16, INT),
                member("perm", 20, INT),
                member("flags", 24, INT),
                member("f", 32, b + 2),
                member("offset", 40, INT),
            ],
        },
        // b+4: struct vma[4]
        Ty::Array {
            elem: Some(b + 3),
            count: Some(4),
        },
        // b+5: struct trapframe (epc at 24)
        Ty::Struct {
            name: "trapframe".into(),
            size: 288,
            members: vec![member("kernel_satp", 0, U64), member("epc", 24, U64)],
        },
        // b+6: struct proc
        Ty::Struct {
            name: "proc".into(),
            size: 1024,
            members: vec![
                member("pid", 0, INT),
                member("pagetable", 8, b),
                member("kpagetable", 16, b),
                member("vma", 32, b + 4),
                member("alarm_interval", 224, INT),
                member("alarm_handler", 232, U64),
                member("alarm_tf", 240, b + 5),
                member("saved", 528, b + 7),
                member("spare", 536, b + 7),
            ],
        },
        // b+7: struct trapframe *
        Ty::Pointer(Some(b + 5)),
    ]);
    t.vars.insert(
        "p".into(),
        Var {
            addr: 0x8000_1000,
            ty: b + 6,
        },
    );
    let base = 0x8000_1000;
    let mut m = MemImage::new(0x8000_0000, 0x4000);
    m.write_u64(base + 8, 0x8700_0000);
    m.write_u64(base + 16, 0x8701_0000);
    // vma[1] in use: 2 pages at 0x4000_0000, rw, MAP_SHARED, file at 0x8000_3000, offset 0.
    let v1 = base + 32 + 48;
    m.write(v1, &1i32.to_le_bytes());
    m.write_u64(v1 + 8, 0x4000_0000);
    m.write(v1 + 16, &8192i32.to_le_bytes());
    m.write(v1 + 20, &3i32.to_le_bytes());
    m.write(v1 + 24, &1i32.to_le_bytes());
    m.write_u64(v1 + 32, 0x8000_3000);
    // vma[2]: not valid, though its fields are left over.
    m.write_u64(base + 32 + 96 + 8, 0x5000_0000);
    m.write(base + 32 + 96 + 16, &4096i32.to_le_bytes());
    m.write(base + 224, &2i32.to_le_bytes());
    m.write_u64(base + 232, 0x11a);
    m.write_u64(base + 240 + 24, 0x64);
    // Saved registers behind a pointer (a page of their own, as many 2021 solutions have):
    // where they would resume; a null one by its value.
    m.write_u64(base + 528, 0x8000_3800);
    m.write_u64(0x8000_3800 + 24, 0x1f0);
    let p = t.var(&m, "p").unwrap();
    let l = read(&p);
    assert_eq!(l.kpagetable, Some(("kpagetable".into(), 0x8701_0000)));
    assert_eq!(l.vma_field.as_deref(), Some("vma"));
    assert_eq!(
        l.vmas,
        vec![VmaInfo {
            slot: 1,
            addr: 0x4000_0000,
            len: 8192,
            prot: Some(3),
            flags: Some(1),
            file: Some(0x8000_3000),
            off: Some(0),
        }]
    );
    assert_eq!(
        l.other,
        vec![
            ("alarm_interval".to_string(), "2".to_string()),
            ("alarm_handler".into(), "0x11a".into()),
            ("alarm_tf.epc".into(), "0x64".into()),
            ("saved->epc".into(), "0x1f0".into()),
            ("spare".into(), "0x0".into()),
        ]
    );
    assert_eq!(
        (prot_str(Some(3)), map_str(Some(1))),
        ("rw-".into(), "shared".into())
    );
}

#[test]
fn a_stock_proc_has_no_lab_fields() {
    let (mut t, b) = arena(vec![
        Ty::Pointer(Some(U64)),
        Ty::Struct {
            name: "proc".into(),
            size: 16,
            members: vec![member("pid", 0, INT), member("pagetable", 8, 2)],
        },
    ]);
    t.vars.insert(
        "p".into(),
        Var {
            addr: 0x8000_0000,
            ty: b + 1,
        },
    );
    let m = MemImage::new(0x8000_0000, 0x100);
    assert!(read(&t.var(&m, "p").unwrap()).is_empty());
    // Page-table names: a hint only (the type must be a uint64 pointer too).
    assert!(is_pagetable_name("kpagetable") && is_pagetable_name("kernel_pgtbl"));
    assert!(is_pagetable_name("k_pagetable") && is_pagetable_name("kpt"));
    assert!(!is_pagetable_name("pagetable") && !is_pagetable_name("ustack"));
}

/// Two common cow shapes: `struct { struct spinlock lock; int refcount[PHYSTOP/PGSIZE]; }
/// ref` indexed from physical 0, and `struct { uint8 cnt; ... } pgref[(PHYSTOP-KERNBASE) >>
/// 12]` indexed from KERNBASE.
#[test]
fn reference_counts_are_found_by_shape_and_indexed_by_their_length() {
    let abs = PHYSTOP / PGSIZE;
    let (mut t, b) = arena(vec![
        Ty::Array {
            elem: Some(INT),
            count: Some(abs),
        },
        Ty::Struct {
            name: "".into(),
            size: 8 + 4 * abs,
            members: vec![member("lock", 0, U64), member("refcount", 8, 2)],
        },
    ]);
    t.vars.insert(
        "ref".into(),
        Var {
            addr: 0x8000_0000,
            ty: b + 1,
        },
    );
    t.vars.insert(
        "kmem".into(),
        Var {
            addr: 0x8000_0000,
            ty: U64,
        },
    );
    let r = RefCounts::among(t).expect("found");
    assert_eq!(r.describe(), "ref.refcount[pa / PGSIZE]");
    let mut m = MemImage::new(0x8000_0000, (8 + 4 * abs) as usize);
    let pa = 0x8765_4000u64;
    m.write(0x8000_0000 + 8 + 4 * (pa / PGSIZE), &2i32.to_le_bytes());
    m.write(
        0x8000_0000 + 8 + 4 * (KERNBASE / PGSIZE),
        &1i32.to_le_bytes(),
    );
    assert_eq!(r.count(&m, pa + 0x10), Some(2));
    assert_eq!(r.count(&m, pa + PGSIZE), Some(0));
    assert_eq!(r.totals(&m), Some((1, 2)));

    let rel = (PHYSTOP - KERNBASE) / PGSIZE;
    let (mut t, b) = arena(vec![
        Ty::Base {
            size: 1,
            signed: false,
        },
        Ty::Struct {
            name: "".into(),
            size: 32,
            members: vec![member("cnt", 0, 2), member("lock", 8, U64)],
        },
        Ty::Array {
            elem: Some(3),
            count: Some(rel),
        },
    ]);
    t.vars.insert(
        "phyPageRefcnt".into(),
        Var {
            addr: 0x8000_0000,
            ty: b + 2,
        },
    );
    let r = RefCounts::among(t).expect("found");
    assert_eq!(r.describe(), "phyPageRefcnt[(pa - KERNBASE) / PGSIZE].cnt");
    let mut m = MemImage::new(0x8000_0000, (32 * rel) as usize);
    m.write(0x8000_0000 + 32 * 5, &[3]);
    assert_eq!(r.count(&m, KERNBASE + 5 * PGSIZE), Some(3));
    assert_eq!(r.count(&m, 0x1000), None, "below KERNBASE");
    assert_eq!(r.totals(&m), Some((1, 1)));

    // A ref-named array of another length is not a table of pages.
    let (mut t, b) = arena(vec![Ty::Array {
        elem: Some(INT),
        count: Some(100),
    }]);
    t.vars.insert(
        "refcnt".into(),
        Var {
            addr: 0x8000_0000,
            ty: b,
        },
    );
    assert!(RefCounts::among(t).is_none());
}

/// A 2020 mmap solution's shape: `struct vm_area_struct head` embedded in `struct proc`,
/// a circular list through `vm_next` (fields `vm_start`, `vm_end`, `prot`, `flags`,
/// `pgoff`, `file`), the head itself not a mapping.
#[test]
fn a_circular_list_with_an_embedded_head() {
    let b = 2;
    let (mut t, _) = arena(vec![
        // b+0: struct vm_area_struct
        Ty::Struct {
            name: "vm_area_struct".into(),
            size: 56,
            members: vec![
                member("vm_start", 0, U64),
                member("vm_end", 8, U64),
                member("prot", 16, INT),
                member("flags", 20, INT),
                member("pgoff", 24, U64),
                member("file", 32, U64),
                member("vm_next", 40, b + 1),
                member("vm_prev", 48, b + 1),
            ],
        },
        // b+1: struct vm_area_struct *
        Ty::Pointer(Some(b)),
        // b+2: struct proc
        Ty::Struct {
            name: "proc".into(),
            size: 64,
            members: vec![member("pid", 0, INT), member("head", 8, b)],
        },
    ]);
    let base = 0x8000_0000u64;
    t.vars.insert(
        "p".into(),
        Var {
            addr: base,
            ty: b + 2,
        },
    );
    let mut m = MemImage::new(base, 0x1000);
    let head = base + 8;
    // Empty: the head points to itself.
    m.write_u64(head + 40, head);
    let l = read(&t.var(&m, "p").unwrap());
    assert_eq!((l.vma_field.as_deref(), l.vmas.len()), (Some("head"), 0));
    // head -> a (0x4000_0000..+3 pages) -> c (one page) -> head.
    let (a, c) = (base + 0x100, base + 0x200);
    m.write_u64(head + 40, a);
    m.write_u64(a, 0x4000_0000);
    m.write_u64(a + 8, 0x4000_3000);
    m.write(a + 16, &1i32.to_le_bytes());
    m.write(a + 20, &2i32.to_le_bytes());
    m.write_u64(a + 40, c);
    m.write_u64(c, 0x5000_0000);
    m.write_u64(c + 8, 0x5000_1000);
    m.write_u64(c + 40, head);
    let l = read(&t.var(&m, "p").unwrap());
    let got: Vec<(u64, u64, Option<i64>)> =
        l.vmas.iter().map(|v| (v.addr, v.len, v.flags)).collect();
    assert_eq!(
        got,
        [
            (0x4000_0000, 0x3000, Some(2)),
            (0x5000_0000, 0x1000, Some(0))
        ]
    );
    // A cycle that never comes back to the head stops at the bound.
    m.write_u64(c + 40, c);
    assert_eq!(read(&t.var(&m, "p").unwrap()).vmas.len(), MAX_VMAS as usize);
}

/// A table named for nothing in particular is taken when it is the only one of its shape
/// (masks aside): `struct { struct spinlock lock; int mem_map[(PHYSTOP-KERNBASE)>>12]; }
/// umem` beside `int kmem_mask[...]`.
#[test]
fn an_unnamed_table_is_taken_when_it_is_the_only_one() {
    let rel = (PHYSTOP - KERNBASE) / PGSIZE;
    let (mut t, b) = arena(vec![
        Ty::Array {
            elem: Some(INT),
            count: Some(rel),
        },
        Ty::Struct {
            name: "".into(),
            size: 8 + 4 * rel,
            members: vec![member("lock", 0, U64), member("mem_map", 8, 2)],
        },
    ]);
    for (name, ty) in [("umem", b + 1), ("kmem_mask", b)] {
        t.vars.insert(
            name.into(),
            Var {
                addr: 0x8000_0000,
                ty,
            },
        );
    }
    // `char stack0[4096 * NCPU]`: as many slots, but bytes.
    let (mut t, _) = {
        let mut more = t.types.split_off(2);
        more.push(Ty::Base {
            size: 1,
            signed: true,
        });
        more.push(Ty::Array {
            elem: Some(b + 2),
            count: Some(rel),
        });
        let (mut a, _) = arena(more);
        a.vars = t.vars.clone();
        (a, ())
    };
    t.vars.insert(
        "stack0".into(),
        Var {
            addr: 0x8000_0000,
            ty: b + 3,
        },
    );
    let r = RefCounts::among(t.clone()).expect("found");
    assert_eq!(r.describe(), "umem.mem_map[(pa - KERNBASE) / PGSIZE]");
    // Two such tables: neither is taken.
    t.vars.insert(
        "pages".into(),
        Var {
            addr: 0x8000_0000,
            ty: b,
        },
    );
    assert!(RefCounts::among(t).is_none());
}

/// A type that points to itself through a one-member struct (`struct run { struct run
/// *next; }`, which looks like a wrapper) has a shape; asking does not recurse forever.
#[test]
fn self_referential_pointers_have_a_shape() {
    let (mut t, b) = arena(vec![
        Ty::Struct {
            name: "run".into(),
            size: 8,
            members: vec![member("next", 0, 3)],
        },
        Ty::Pointer(Some(2)),
    ]);
    t.vars.insert(
        "freelist".into(),
        Var {
            addr: 0x8000_0000,
            ty: b + 1,
        },
    );
    let m = MemImage::new(0x8000_0000, 8);
    let v = t.var(&m, "freelist").unwrap();
    assert_eq!(
        v.shape(),
        Shape::Pointer {
            to_int: None,
            to_struct: true
        }
    );
    assert!(RefCounts::among(t).is_none());
}

/// A 2024 cow solution's shape: `struct refcnt { int refcnt; struct spinlock lock; }
/// *refcnts`, a table the kernel places at `end` at boot, indexed from KERNBASE; a
/// ref-named pointer to a struct whose one integer is not a count is not one.
#[test]
fn a_table_behind_a_pointer() {
    let (mut t, b) = arena(vec![
        Ty::Struct {
            name: "refcnt".into(),
            size: 32,
            members: vec![member("refcnt", 0, INT), member("lock", 8, U64)],
        },
        Ty::Pointer(Some(2)),
        Ty::Struct {
            name: "spinlock".into(),
            size: 24,
            members: vec![member("locked", 0, INT), member("name", 8, U64)],
        },
        Ty::Pointer(Some(4)),
    ]);
    t.vars.insert(
        "reflock".into(),
        Var {
            addr: 0x8000_0010,
            ty: b + 3,
        },
    );
    assert!(
        RefCounts::among(t.clone()).is_none(),
        "a lock is not a count"
    );
    t.vars.insert(
        "refcnts".into(),
        Var {
            addr: 0x8000_0000,
            ty: b + 1,
        },
    );
    let r = RefCounts::among(t).expect("found");
    assert_eq!(r.describe(), "refcnts[(pa - KERNBASE) / PGSIZE].refcnt");
    let mut m = MemImage::new(0x8000_0000, 0x2000);
    // Not set yet (before kinit): no counts.
    assert_eq!(r.count(&m, KERNBASE + 0x1000), None);
    m.write_u64(0x8000_0000, 0x8000_1000);
    m.write(0x8000_1000 + 32 * 3, &2i32.to_le_bytes());
    assert_eq!(r.count(&m, KERNBASE + 3 * PGSIZE + 8), Some(2));
    assert_eq!(r.count(&m, KERNBASE + 2 * PGSIZE), Some(0));
    assert_eq!(
        r.count(&m, KERNBASE + 4096 * PGSIZE),
        None,
        "past the image"
    );
}
