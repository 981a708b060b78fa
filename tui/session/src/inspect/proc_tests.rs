use super::*;
use crate::inspect::testboot::Booted;

#[test]
fn mit_ps_and_fds_at_the_prompt() {
    let Some(b) = Booted::mit(3) else { return };
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
    assert_eq!(
        (f0.kind.as_deref(), f0.major, f0.readable, f0.writable),
        (Some("device"), Some(1), Some(true), Some(true))
    );
    assert_eq!(f0.itype, Some(3), "console inode is T_DEVICE");
    // init made /console with mknod at boot: names come from the disk as it is now.
    let names = InodeNames::from_disk(b.m.bus.virtio.disk());
    let lines = render_fds(&p, &files, Some(&names));
    assert!(lines[2].contains("console (major 1)"), "{lines:#?}");
    assert_eq!(names.name(f0.inum.unwrap() as u32), Some("/console"));
    assert!(k.files(&b.m, 99).is_none());
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
