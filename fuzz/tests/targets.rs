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
