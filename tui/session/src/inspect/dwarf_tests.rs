use super::*;
use crate::inspect::MemImage;

fn mit_kernel() -> Option<Symbols> {
    let dir = crate::inspect::testboot::mit_dir()?;
    Some(Symbols::load("kernel", &dir.join("kernel/kernel")).expect("MIT kernel"))
}

fn rust_kernel() -> Option<Symbols> {
    let path = crate::inspect::testboot::rust_kernel_path()?;
    Some(Symbols::load("kernel", &path).expect("the bundled Rust kernel"))
}

fn member_offset(t: &Types, ty: TyId, name: &str) -> Option<u64> {
    match t.resolve(ty)? {
        Ty::Struct { members, .. } => members.iter().find(|m| m.name == name).map(|m| m.offset),
        _ => None,
    }
}

#[test]
fn enum_names_normalise() {
    assert_eq!(norm_enum("SLEEPING"), "sleeping");
    assert_eq!(norm_enum("Sleeping"), "sleeping");
    assert_eq!(norm_enum("FD_PIPE"), "pipe");
    assert_eq!(norm_enum("FdInode"), "inode");
    assert_eq!(norm_enum("Fd"), "fd");
}

/// MIT's `struct proc` layout as the C compiler lays it out on RV64 (kernel/proc.h): a
/// 24-byte spinlock, then state, chan, killed, xstate, pid...
#[test]
fn mit_tables_and_layout() {
    let Some(k) = mit_kernel() else { return };
    let t = Types::for_vars(&k, &["proc", "cpus", "ftable", "nonexistent"]).unwrap();
    assert!(!t.vars.contains_key("nonexistent"));
    let mem = MemImage::new(0, 0);
    let proc = t.var(&mem, "proc").expect("proc[]");
    assert_eq!(proc.len(), Some(64));
    assert_eq!(proc.addr, k.lookup("proc").unwrap().addr);
    let p0 = proc.index(0).unwrap();
    assert_eq!(member_offset(&t, p0.ty, "state"), Some(24));
    assert_eq!(member_offset(&t, p0.ty, "pid"), Some(48));
    assert_eq!(p0.field(&["pid"]).unwrap().addr, proc.addr + 48);
    let p1 = proc.index(1).unwrap();
    assert_eq!(p1.addr - p0.addr, proc.stride().unwrap());
    assert!(proc.index(64).is_none());
    assert_eq!(t.var(&mem, "cpus").and_then(|c| c.len()), Some(8));
    let ftable = t.var(&mem, "ftable").unwrap();
    assert_eq!(ftable.field(&["file"]).and_then(|f| f.len()), Some(100));
    assert!(ftable.field(&["no_such_field"]).is_none());
    match t.resolve(p0.field(&["state"]).unwrap().ty) {
        Some(Ty::Enum { variants, .. }) => assert_eq!(variants[2], ("SLEEPING".to_string(), 2)),
        other => panic!("state is {other:?}"),
    }
}

#[test]
fn mit_values_read_from_memory() {
    let Some(k) = mit_kernel() else { return };
    let t = Types::for_vars(&k, &["proc"]).unwrap();
    let base = t.vars["proc"].addr;
    let stride = t
        .var(&MemImage::new(0, 0), "proc")
        .unwrap()
        .stride()
        .unwrap();
    let mut mem = MemImage::new(base, 2 * stride as usize);
    // Slot 1: pid 7, SLEEPING, name "sh", parent = slot 0.
    let probe = MemImage::new(0, 0);
    let p1 = t.var(&probe, "proc").unwrap().index(1).unwrap();
    let off = |n: &str| p1.field(&[n]).unwrap().addr;
    mem.write(off("pid"), &7i32.to_le_bytes());
    mem.write(off("state"), &2u32.to_le_bytes());
    mem.write(off("name"), b"sh\0");
    mem.write_u64(off("parent"), base);
    let p = t.var(&mem, "proc").unwrap().index(1).unwrap();
    assert_eq!(p.field(&["pid"]).unwrap().int(), Some(7));
    assert_eq!(
        p.field(&["state"]).unwrap().enum_name().as_deref(),
        Some("sleeping")
    );
    assert_eq!(p.field(&["name"]).unwrap().cstring().as_deref(), Some("sh"));
    let parent = p.field(&["parent"]).unwrap().deref().unwrap();
    assert_eq!(parent.addr, base);
    assert_eq!(parent.field(&["pid"]).unwrap().int(), Some(0));
    // Outside the image: None, not a panic.
    assert!(
        t.var(&mem, "proc")
            .unwrap()
            .index(2)
            .unwrap()
            .field(&["pid"])
            .unwrap()
            .int()
            .is_none()
    );
}

#[test]
fn rust_tables_through_the_shared_wrapper() {
    let Some(k) = rust_kernel() else { return };
    let t = Types::for_vars(&k, &["proc", "cpus", "ftable", "itable"]).unwrap();
    let mem = MemImage::new(0, 0);
    let proc = t.var(&mem, "proc").expect("proc");
    assert_eq!(
        proc.len(),
        Some(64),
        "Shared<[Proc; NPROC]> peeled to the array"
    );
    let p0 = proc.index(0).unwrap();
    for f in [
        "state",
        "pid",
        "parent",
        "sz",
        "pagetable",
        "trapframe",
        "ofile",
        "name",
        "killed",
    ] {
        assert!(p0.field(&[f]).is_some(), "Proc.{f}");
    }
    match t.resolve(p0.field(&["state"]).unwrap().ty) {
        Some(Ty::Enum { variants, .. }) => assert_eq!(
            variants.iter().map(|v| norm_enum(&v.0)).collect::<Vec<_>>(),
            [
                "unused", "used", "sleeping", "runnable", "running", "zombie"
            ]
        ),
        other => panic!("state is {other:?}"),
    }
    assert_eq!(t.var(&mem, "cpus").and_then(|c| c.len()), Some(8));
    let file = t.var(&mem, "ftable").unwrap().field(&["file"]).unwrap();
    assert_eq!(file.len(), Some(100));
    assert!(file.index(0).unwrap().field(&["type", "typ"]).is_some());
    assert!(file.index(0).unwrap().field(&["ref", "refcnt"]).is_some());
}
