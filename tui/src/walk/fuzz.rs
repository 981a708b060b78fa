//! Fuzz target for walkthrough files (issue 19): arbitrary bytes as a walkthrough's TOML must
//! parse or be refused with an error, never panic. The seeds are the shipped walkthroughs
//! (docs/walkthroughs/*.toml); `cargo test --release -p xv6scope --bin xv6scope walk::fuzz`
//! runs them and seeded mutations, `XV6SCOPE_FUZZ_SECONDS=N ... -- --ignored` fuzzes for N
//! seconds. [`drive`] is the timed driver the binary crate's targets share.

use std::time::{Duration, Instant};

pub fn walk_toml(data: &[u8]) {
    let _ = super::format::Walk::parse(&String::from_utf8_lossy(data));
}

/// Feeds `target` mutations of `seeds` for XV6SCOPE_FUZZ_SECONDS (default 60) seconds from
/// seed XV6SCOPE_FUZZ_SEED; a panicking input is saved and fails the run.
pub fn drive(name: &str, seeds: Vec<Vec<u8>>, mut target: impl FnMut(&[u8])) {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (seconds, mut rng) = (
        env("XV6SCOPE_FUZZ_SECONDS", 60),
        env("XV6SCOPE_FUZZ_SEED", 1),
    );
    let start = Instant::now();
    let mut execs = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        let input = xv6scope_fuzz::mutate(&seeds, &mut rng);
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(&input))).is_err() {
            let p = std::env::temp_dir().join(format!("xv6scope-fuzz-{name}-crash-{execs}"));
            std::fs::write(&p, &input).unwrap();
            panic!("{name}: input {execs} panics (saved in {})", p.display());
        }
        execs += 1;
    }
    println!(
        "{name}: {execs} executions in {:.0} s, no findings",
        start.elapsed().as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn seeds() -> Vec<Vec<u8>> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/walkthroughs");
        let seeds: Vec<Vec<u8>> = xv6scope_fuzz::corpus(&dir)
            .into_iter()
            .filter(|s| s.starts_with(b"title"))
            .collect();
        assert!(seeds.len() >= 5, "walkthroughs in {}", dir.display());
        seeds
    }

    #[test]
    fn the_corpus_and_seeded_mutations_never_panic() {
        let seeds = seeds();
        for s in &seeds {
            walk_toml(s);
        }
        let mut rng = 0x7a1c;
        for _ in 0..2000 {
            walk_toml(&xv6scope_fuzz::mutate(&seeds, &mut rng));
        }
    }

    #[test]
    #[ignore = "long: XV6SCOPE_FUZZ_SECONDS of random walkthrough files"]
    fn fuzz_walk_toml() {
        drive("walk", seeds(), walk_toml);
    }
}
