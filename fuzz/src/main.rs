//! The coverage-free fuzz driver: feeds one target random inputs mutated from its corpus for a
//! given time, and saves any input that panics, takes over 5 s (slow) or over 30 s (a hang,
//! which ends the run): the emulator must neither panic nor hang on guest or file input. Runs on the stable toolchain with nothing to install; why not cargo-afl is
//! in docs/reliability.md.
//!
//! ```text
//! xv6scope-fuzz TARGET [--seconds N] [--seed S]     fuzz; crashes go to fuzz/crashes/TARGET/
//! xv6scope-fuzz TARGET --input FILE                  runs one saved input
//! xv6scope-fuzz TARGET --seed S --from N            resumes seed S's stream at input N,
//!                                                    keeping each in crashes/TARGET/current
//! xv6scope-fuzz --write-seeds                        (re)writes the generated seed corpus
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An input running this long is a hang.
const HANG: Duration = Duration::from_secs(30);
use xv6scope_fuzz::{TARGETS, corpus, mutate};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if args.first().map(String::as_str) == Some("--write-seeds") {
        for (name, bytes) in xv6scope_fuzz::generated_seeds() {
            let p = dir.join("corpus").join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, bytes).unwrap();
            println!("{}", p.display());
        }
        return;
    }
    let Some(name) = args.first() else {
        eprintln!(
            "usage: xv6scope-fuzz TARGET [--seconds N] [--seed S]; targets: {}",
            TARGETS.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
        );
        std::process::exit(2);
    };
    let Some(&(_, target)) = TARGETS.iter().find(|t| t.0 == name) else {
        eprintln!("xv6scope-fuzz: no target {name}");
        std::process::exit(2);
    };
    let opt = |k: &str, d: u64| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    if let Some(i) = args.iter().position(|a| a == "--input") {
        // Reproduce one saved input: a panic shows as usual, a hang as a hang.
        let path = args.get(i + 1).expect("--input FILE");
        let input = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let t = Instant::now();
        target(&input);
        println!("{name}: {path} ran in {:?}", t.elapsed());
        return;
    }
    let (seconds, seed) = (opt("--seconds", 60), opt("--seed", 1));
    let seeds = corpus(&dir.join("corpus").join(name));
    let crashes = dir.join("crashes").join(name);
    // Panics are caught and counted; the default hook would print each one.
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let (mut execs, mut found) = (0u64, 0u64);
    let mut rng = seed;
    let mut last_report = Instant::now();
    // A hang never returns to this loop: a watchdog saves the input and ends the run.
    let current: Arc<Mutex<(Instant, Vec<u8>)>> =
        Arc::new(Mutex::new((Instant::now(), Vec::new())));
    {
        let (current, crashes, name) = (current.clone(), crashes.clone(), name.clone());
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let c = current.lock().unwrap();
                if c.0.elapsed() > HANG {
                    save(&crashes, &c.1, "hang");
                    println!(
                        "{name}: an input runs over {HANG:?}: saved in {}",
                        crashes.display()
                    );
                    std::process::exit(1);
                }
            }
        });
    }
    // `--from N`: draw and drop the first N inputs of this seed's stream (which does not
    // depend on the target), then keep each input in crashes/TARGET/current while it runs:
    // to catch an input that kills the process (a stack overflow aborts, past catch_unwind).
    let from = opt("--from", 0);
    for _ in 0..from {
        mutate(&seeds, &mut rng);
    }
    let keep = from > 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        let input = mutate(&seeds, &mut rng);
        if keep {
            std::fs::create_dir_all(&crashes).unwrap();
            std::fs::write(crashes.join("current"), &input).unwrap();
        }
        *current.lock().unwrap() = (Instant::now(), input.clone());
        let t = Instant::now();
        let ok = std::panic::catch_unwind(|| target(&input)).is_ok();
        execs += 1;
        let slow = t.elapsed() > Duration::from_secs(5);
        if !ok || slow {
            found += 1;
            save(&crashes, &input, if ok { "slow" } else { "crash" });
        }
        if last_report.elapsed() > Duration::from_secs(60) {
            last_report = Instant::now();
            println!(
                "{name}: {execs} execs, {found} findings, {:.0} s",
                start.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "{name}: {execs} executions in {:.0} s from seed {seed}, {found} findings{}",
        start.elapsed().as_secs_f64(),
        if found > 0 {
            format!(" (in {})", crashes.display())
        } else {
            String::new()
        }
    );
    std::process::exit(if found > 0 { 1 } else { 0 });
}

fn save(dir: &Path, input: &[u8], kind: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let h = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let _ = std::fs::write(dir.join(format!("{kind}-{h:016x}")), input);
}
