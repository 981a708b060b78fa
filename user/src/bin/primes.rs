//! `primes` (util lab): the concurrent prime sieve of McIlroy and Hoare with one process per
//! prime. The first process feeds 2..=35 into a pipe; each stage prints the first number it
//! reads (`prime N`, a prime), then passes on those not divisible by it to the next stage,
//! which it creates on demand. Output: `prime 2` through `prime 31`. Numbers travel as 4-byte
//! little-endian ints; every stage waits for its successor, so the first process exits last.
#![no_std]
#![no_main]

use user::*;

entry!(main);

/// Largest number fed in, as in the 2020-2022 handouts.
const LIMIT: u32 = 35;

fn get(fd: Fd) -> Option<u32> {
    let mut b = [0u8; 4];
    (read(fd, &mut b) == Ok(4)).then(|| u32::from_le_bytes(b))
}

fn put(fd: Fd, n: u32) {
    if write(fd, &n.to_le_bytes()) != Ok(4) {
        eprintln!("primes: write failed");
        exit(1);
    }
}

/// Runs one stage reading from `input`; returns when the input ends and the rest of the
/// pipeline has finished.
fn stage(input: Fd) {
    let Some(p) = get(input) else { return };
    println!("prime {p}");
    let mut next: Option<Fd> = None;
    while let Some(n) = get(input) {
        if n % p == 0 {
            continue;
        }
        let w = *next.get_or_insert_with(|| spawn_stage(Some(input)));
        put(w, n);
    }
    let _ = close(input);
    if let Some(w) = next {
        let _ = close(w);
        let _ = wait(None);
    }
}

/// Starts the next stage: a pipe, and a child that runs `stage` on its read end and exits.
/// The child closes the write end and `inherited` (its parent's input, which it must not
/// hold open); the parent closes the read end. Returns the write end.
fn spawn_stage(inherited: Option<Fd>) -> Fd {
    let [r, w] = pipe().unwrap_or_else(|_| {
        eprintln!("primes: pipe failed");
        exit(1)
    });
    match fork() {
        Ok(0) => {
            let _ = close(w);
            if let Some(fd) = inherited {
                let _ = close(fd);
            }
            stage(r);
            exit(0);
        }
        Ok(_) => {}
        Err(_) => {
            eprintln!("primes: fork failed");
            exit(1);
        }
    }
    let _ = close(r);
    w
}

fn main(_args: Args) {
    let w = spawn_stage(None);
    for n in 2..=LIMIT {
        put(w, n);
    }
    let _ = close(w);
    let _ = wait(None);
}
