use super::*;
use crate::inspect::pagetable::{self, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X};
use crate::inspect::testboot::Booted;

/// The views at the first prompt, on either kernel: init (pid 1) and the shell it started
/// (pid 2) sleep; sh's fds 0, 1 and 2 are the one console file init opened and dup'ed; sh's
/// page table has the trapframe and the trampoline at the top of its address space, as
/// kernel-only leaves with xv6's flags. Returns the kernel's tables and sh.
fn check_prompt(b: &Booted) -> (Kernel, ProcInfo) {
    let syms = Symbols::parse("kernel", &b.kernel_elf).unwrap();
    let k = Kernel::new(&syms).unwrap();
    let procs = k.procs(&b.m);
    type Row<'a> = (Option<i64>, Option<i64>, Option<&'a str>, Option<&'a str>);
    let live: Vec<Row> = procs
        .iter()
        .filter(|p| p.in_use())
        .map(|p| (p.pid, p.ppid, p.state.as_deref(), p.name.as_deref()))
        .collect();
    assert_eq!(
        live,
        vec![
            (Some(1), None, Some("sleeping"), Some("init")),
            (Some(2), Some(1), Some("sleeping"), Some("sh"))
        ]
    );
    let cpus = k.cpus(&b.m);
    assert_eq!(cpus.len(), 8);
    let ps = render_ps(&procs, &cpus);
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert!(
        ps[2].contains(" sleeping ") && ps[2].ends_with(" sh"),
        "{}",
        ps[2]
    );

    let (p, files) = k.files(&b.m, 2).expect("pid 2");
    assert_eq!(p.name.as_deref(), Some("sh"));
    let fds: Vec<usize> = files.iter().map(|f| f.0).collect();
    assert_eq!(fds, vec![0, 1, 2]);
    let f0 = &files[0].1;
    for (fd, f) in &files {
        assert_eq!(f.addr, f0.addr, "fd {fd} is the file of fd 0 (dup)");
    }
    assert_eq!(
        (f0.kind.as_deref(), f0.major, f0.readable, f0.writable),
        (Some("device"), Some(1), Some(true), Some(true))
    );
    // Three descriptors in init and three in sh, which inherited them.
    assert_eq!(f0.refcnt, Some(6), "{f0:?}");
    assert_eq!(f0.itype, Some(3), "console inode is T_DEVICE");
    // init made /console with mknod at boot: names come from the disk as it is now.
    let names = InodeNames::from_disk(b.m.bus.virtio.disk());
    let lines = render_fds(&p, &files, Some(&names));
    for fd in 0..3 {
        assert!(
            lines[2 + fd].starts_with(&format!("  {fd} device"))
                && lines[2 + fd].contains("console (major 1)"),
            "{lines:#?}"
        );
    }
    assert_eq!(names.name(f0.inum.unwrap() as u32), Some("/console"));
    assert!(k.files(&b.m, 99).is_none());

    // The top of sh's address space: L2[255] -> L1[511] -> L0[510] (trapframe) and L0[511]
    // (trampoline), mapped without PTE_U; the trapframe is sh's own page, the trampoline the
    // kernel's page of that name.
    let tree = pagetable::walk(&b.m, p.pagetable.expect("sh's page table"));
    assert!(tree.unreadable.is_empty() && !tree.truncated);
    let path: Vec<(u8, u16)> = tree
        .entries
        .iter()
        .filter(|e| e.va + e.size() > abi::memlayout::TRAPFRAME)
        .map(|e| (e.level, e.index))
        .collect();
    assert_eq!(path, [(2, 255), (1, 511), (0, 510), (0, 511)]);
    let leaf = |va: u64| {
        *tree
            .leaves()
            .find(|e| e.va == va)
            .unwrap_or_else(|| panic!("no leaf at {va:#x}"))
    };
    let rwxu = PTE_V | PTE_R | PTE_W | PTE_X | PTE_U;
    let trapframe = leaf(abi::memlayout::TRAPFRAME);
    assert_eq!(
        trapframe.pte & rwxu,
        PTE_V | PTE_R | PTE_W,
        "trapframe {}",
        pagetable::flags_str(trapframe.pte)
    );
    assert_eq!(Some(trapframe.pa()), p.trapframe, "sh's own trapframe");
    let trampoline = leaf(abi::memlayout::TRAMPOLINE);
    assert_eq!(
        trampoline.pte & rwxu,
        PTE_V | PTE_R | PTE_X,
        "trampoline {}",
        pagetable::flags_str(trampoline.pte)
    );
    assert_eq!(
        Some(trampoline.pa()),
        syms.lookup("trampoline").map(|s| s.addr),
        "the kernel's trampoline page"
    );
    (k, p)
}

#[test]
fn mit_ps_and_fds_at_the_prompt() {
    let Some(b) = Booted::mit(3) else { return };
    let (k, p) = check_prompt(&b);
    // The tracer's fast lookup agrees with the full read.
    let lay = k.layout.expect("proc layout");
    assert_eq!(
        lay.pid.0, 48,
        "MIT's struct proc: pid after a 24-byte lock and 24 bytes of fields"
    );
    assert_eq!(
        lay.find(&b.m, p.pagetable.unwrap()),
        Some((2, "sh".to_string()))
    );
    assert_eq!(lay.find(&b.m, 0x1234_5000), None);
    assert!(k.ticks(&b.m).is_some());
}

/// The same on the bundled Rust kernel and user programs.
#[test]
fn rust_ps_and_fds_at_the_prompt() {
    let Some(b) = Booted::rust(3) else { return };
    let (k, p) = check_prompt(&b);
    let lay = k.layout.expect("proc layout");
    assert_eq!(
        lay.find(&b.m, p.pagetable.unwrap()),
        Some((2, "sh".to_string()))
    );
    assert_eq!(lay.find(&b.m, 0x1234_5000), None);
    assert!(k.ticks(&b.m).is_some());
}

#[test]
fn inode_names_from_mit_image() {
    let Some(dir) = crate::inspect::testboot::mit_dir() else {
        return;
    };
    let disk = std::fs::read(dir.join("fs.img")).unwrap();
    let n = InodeNames::from_disk(&disk);
    assert_eq!(n.name(1), Some("/"));
    assert!((2..200).any(|i| n.name(i) == Some("/README")));
    assert!(InodeNames::from_disk(&[0u8; 4096]).name(1).is_none());
    assert!(InodeNames::from_disk(b"short").name(1).is_none());
}
