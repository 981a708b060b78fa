//! Every fuzz target as a short deterministic property test: the committed corpus, then 300
//! seeded mutations of it (a few seconds each in release). A target must neither panic nor
//! take long on any of them.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use xv6scope_fuzz::{TARGETS, corpus, mutate};

const MUTATIONS: u64 = 300;

fn check(name: &str) {
    let (_, target) = *TARGETS.iter().find(|t| t.0 == name).unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name);
    let seeds = corpus(&dir);
    assert!(!seeds.is_empty(), "no corpus in {}", dir.display());
    for (i, s) in seeds.iter().enumerate() {
        let t = Instant::now();
        target(s);
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "seed {i} took {:?}",
            t.elapsed()
        );
    }
    let mut rng = 0x5eed ^ name.len() as u64;
    for n in 0..MUTATIONS {
        let input = mutate(&seeds, &mut rng);
        let t = Instant::now();
        if std::panic::catch_unwind(|| target(&input)).is_err() {
            let p = std::env::temp_dir().join(format!("xv6scope-fuzz-{name}-{n}"));
            std::fs::write(&p, &input).unwrap();
            panic!(
                "{name}: mutation {n} panics (input saved in {})",
                p.display()
            );
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{name}: mutation {n} took {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn execute() {
    check("execute");
}

#[test]
fn elf() {
    check("elf");
}

#[test]
fn fsimage() {
    check("fsimage");
}

#[test]
fn recording() {
    check("recording");
}

#[test]
fn virtio() {
    check("virtio");
}

#[test]
fn the_generated_seeds_are_the_committed_ones() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, bytes) in xv6scope_fuzz::generated_seeds() {
        let committed = std::fs::read(dir.join(&name)).unwrap_or_default();
        assert!(
            committed == bytes,
            "corpus/{name} is stale: run xv6scope-fuzz --write-seeds"
        );
    }
}

#[test]
fn the_virtio_seed_completes_its_request() {
    // The seed is a whole read request: mutations start from a chain the device serves.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/virtio/read");
    let m = xv6scope_fuzz::virtio_machine(&std::fs::read(dir).unwrap()).expect("a machine");
    let base = machine::board::RAM_BASE + 0x1000;
    let mut used_idx = [0u8; 2];
    assert!(m.read_phys(base + 0x102, &mut used_idx));
    assert_eq!(u16::from_le_bytes(used_idx), 1, "used.idx");
    let mut status = [0xffu8];
    assert!(m.read_phys(machine::board::RAM_BASE + 0x3300, &mut status));
    assert_eq!(status[0], 0, "the request's status byte: OK");
}

#[test]
fn the_dwarf_seed_reaches_the_kernel_views() {
    // The seed's DWARF has a `proc` table the views accept: mutations start deep in them.
    let elf =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/elf/tiny-dwarf"))
            .unwrap();
    let v = session::inspect::monitor::Views::new(Some(&elf));
    assert!(v.kernel.is_some(), "{:?}", v.kernel_error);
}

#[test]
fn mutated_recordings_get_past_the_checksum() {
    // With the checksum made right, a one-byte change in the console still decodes, rather
    // than failing the checksum every time.
    let seed =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/recording/small"))
            .unwrap();
    assert!(session::Recording::decode(&seed).is_ok());
    let mut m = seed.clone();
    let at = m.windows(4).position(|w| w == b"CONS").unwrap() + 12;
    m[at] ^= 0x20; // the console's first byte
    assert_eq!(
        session::Recording::decode(&m),
        Err(session::RecordingError::Checksum)
    );
    let fixed = session::Recording::decode(&xv6scope_fuzz::fix_checksum(&m)).expect("decodes");
    assert_eq!(fixed.console[0], b'$' ^ 0x20);
}

/// Inputs the long runs found, kept with the fix they led to (docs/reliability.md).
#[test]
fn regressions_stay_fixed() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("regressions");
    // A mutated DWARF seed whose function symbol claims a huge size: `line_address` scanned
    // it two bytes at a time, for ever; it now walks the line table's rows.
    let t = Instant::now();
    xv6scope_fuzz::elf(&std::fs::read(dir.join("elf-line-address-hang")).unwrap());
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    // A mutated DWARF seed whose array type is its own element: `Types::size` recursed
    // until the stack overflowed (an abort, past any catch_unwind); the nesting is bounded.
    xv6scope_fuzz::elf(&std::fs::read(dir.join("elf-dwarf-array-cycle")).unwrap());
}

#[test]
fn the_fsimage_seed_is_an_image_with_files() {
    let seed =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/fsimage/small"))
            .unwrap();
    let img = mkfs::Image::open(seed).expect("opens");
    let names: Vec<String> = img.tree().into_iter().map(|(n, _, _)| n).collect();
    assert!(names.iter().any(|n| n.ends_with("README")), "{names:?}");
}
