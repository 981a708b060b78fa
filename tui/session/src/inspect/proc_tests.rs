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

/// The bundled kernel with the labs' options: `ps -l` finds its per-process kernel page
/// table, its VMAs, its page reference counts and its alarm fields through DWARF, by
/// shape, as it would a student's.
#[test]
fn rust_lab_structures_in_ps_long() {
    use abi::lab::{ALARM, COW, KPGTBL, MMAP, USYSCALL};
    let Some(disk) = crate::inspect::testboot::rust_fs_img() else {
        return;
    };
    let Some(mut b) = Booted::rust_lab(3, &disk, COW | KPGTBL | MMAP | ALARM | USYSCALL) else {
        return;
    };
    let syms = Symbols::parse("kernel", &b.kernel_elf).unwrap();
    let k = Kernel::new(&syms).unwrap();
    let refs = k.refcounts.as_ref().expect("page_refcnt found");
    assert_eq!(refs.describe(), "page_refcnt[(pa - KERNBASE) / PGSIZE]");
    let names = InodeNames::from_disk(b.m.bus.virtio.disk());
    let ps = |b: &Booted, only| {
        render_ps_long(&k.procs(&b.m), &k.cpus(&b.m), &b.m, &k, Some(&names), only).join("\n")
    };
    let procs = k.procs(&b.m);
    let sh = procs.iter().find(|p| p.pid == Some(2)).unwrap();
    let (field, kpt) = sh.lab.kpagetable.clone().expect("kpagetable");
    assert_eq!(field, "kpagetable");
    assert!(kpt != 0 && Some(kpt) != sh.pagetable);
    assert_eq!(sh.lab.vma_field.as_deref(), Some("vma"));
    assert!(sh.lab.vmas.is_empty());
    let other: Vec<&str> = sh.lab.other.iter().map(|(n, _)| n.as_str()).collect();
    for f in [
        "alarm_interval",
        "alarm_handler",
        "alarm_active",
        "alarm_trapframe.epc",
    ] {
        assert!(other.contains(&f), "{f} in {other:?}");
    }
    let out = ps(&b, None);
    assert!(
        out.contains(&format!("kernel page table (kpagetable) {kpt:#x}")),
        "{out}"
    );
    assert!(out.contains("no mappings (vma[])"), "{out}");
    assert!(out.contains("alarm_interval=0 alarm_handler=0x0"), "{out}");
    assert!(
        out.contains("reference counts (page_refcnt[(pa - KERNBASE) / PGSIZE]): "),
        "{out}"
    );

    // sh forks for `echo`; in the child's exec, before the new image replaces the old, the
    // two shells share every user page (copy-on-write).
    let sys_exec = syms.lookup("sys_exec").unwrap().addr;
    b.type_line("echo hi\n");
    assert!(b.run_to(sys_exec, 2_000_000_000), "{}", b.console);
    let out = ps(&b, Some(3));
    let line = out
        .lines()
        .find(|l| l.contains("user pages"))
        .unwrap_or_else(|| panic!("{out}"));
    let n: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(n.len() == 2 && n[0] > 2 && n[1] > 2, "{line}");
    assert!(
        n[1] < n[0],
        "the stack's page was copied at its first write: {line}"
    );

    // mmaptest maps README: at its first munmap the mapping is in the table, with the file.
    let sys_munmap = syms.lookup("sys_munmap").unwrap().addr;
    assert!(b.run_until("$ ", 1_000_000_000), "{}", b.console);
    b.type_line("mmaptest\n");
    assert!(b.run_to(sys_munmap, 4_000_000_000), "{}", b.console);
    let p = k
        .procs(&b.m)
        .into_iter()
        .find(|p| p.in_use() && p.name.as_deref() == Some("mmaptest"))
        .expect("mmaptest");
    let v = p.lab.vmas.first().unwrap_or_else(|| panic!("{p:?}"));
    assert!(v.len >= 4096 && v.file.is_some_and(|f| f != 0), "{v:?}");
    let out = ps(&b, p.pid);
    let vma = out
        .lines()
        .find(|l| l.contains("vma["))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(vma.contains(" file 0x") && vma.contains(" inum "), "{vma}");
}
