//! Builds the guest side — the Rust xv6 kernel, the user programs, the bare-metal ISA tests —
//! for riscv64gc-unknown-none-elf, makes the bundled fs.img with `mkfs`, and hands their paths
//! to the `xv6scope` crate, which embeds the kernel and fs.img (`include_bytes!`).
//!
//! The guest workspaces (`kernel/`, `user/`, `machine/isa-tests/`) are separate Cargo
//! workspaces with their own `.cargo/config.toml` (target and linker script), so each is built
//! by a child `cargo build --release` run in its own directory, into `<target>/guest/<name>`.
//! The child must not inherit the variables Cargo sets for this build script (they describe the
//! host build), only the toolchain choice.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_TARGET: &str = "riscv64gc-unknown-none-elf";

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let guest_dir = target_dir(&out).join("guest");

    ensure_target_installed();
    let workspaces = [
        ("kernel", root.join("kernel")),
        ("user", root.join("user")),
        ("isa", root.join("machine/isa-tests")),
    ];
    for (_, dir) in &workspaces {
        for watched in [
            "src",
            "Cargo.toml",
            "build.rs",
            ".cargo",
            "kernel.ld",
            "user.ld",
            "link.ld",
            "abi/src",
        ] {
            let p = dir.join(watched);
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("kernel/abi/src").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join("README.md").display()
    );
    println!("cargo:rerun-if-changed=build.rs");

    // Build the three guest workspaces concurrently; each is a separate cargo process.
    let handles: Vec<_> = workspaces
        .iter()
        .map(|(name, dir)| {
            let (name, dir, target) = (name.to_string(), dir.clone(), guest_dir.join(name));
            std::thread::spawn(move || (name.clone(), build_guest(&name, &dir, &target)))
        })
        .collect();
    let mut built = std::collections::HashMap::new();
    for h in handles {
        let (name, dir) = h.join().expect("guest build thread");
        built.insert(name, dir);
    }

    let kernel_elf = built["kernel"].join("kernel");
    let user_dir = built["user"].clone();
    let isa_dir = built["isa"].clone();

    // fs.img: README plus every user program, as MIT's Makefile puts them.
    let mut files = vec![(
        "README".to_string(),
        std::fs::read(root.join("README.md")).expect("read README.md"),
    )];
    // The user ELFs with their debug information are embedded too, for `xv6scope image` and
    // for the debugger's user-level symbols; fs.img gets them stripped (xv6 files are small).
    let mut embed = String::from(
        "/// The bundled user programs with symbols, by name.\npub static USER_ELFS: &[(&str, &[u8])] = &[\n",
    );
    for name in user_programs(&root.join("user/src/bin")) {
        let elf = user_dir.join(&name);
        let bytes = std::fs::read(&elf)
            .unwrap_or_else(|e| fail(&format!("cannot read user program {}: {e}", elf.display())));
        files.push((name.clone(), mkfs::strip_elf(&bytes)));
        embed.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            elf.display().to_string()
        ));
    }
    embed.push_str("];\n");
    std::fs::write(out.join("user_elfs.rs"), embed).expect("write user_elfs.rs");
    let image = mkfs::build(&files).unwrap_or_else(|e| fail(&format!("mkfs failed: {e}")));
    std::fs::write(out.join("fs.img"), image).expect("write fs.img");
    std::fs::copy(&kernel_elf, out.join("kernel"))
        .unwrap_or_else(|e| fail(&format!("cannot copy {}: {e}", kernel_elf.display())));

    println!("cargo:rustc-cfg=xv6scope_bundled");
    println!(
        "cargo:rustc-env=XV6SCOPE_BUNDLED_KERNEL={}",
        out.join("kernel").display()
    );
    println!(
        "cargo:rustc-env=XV6SCOPE_BUNDLED_FS={}",
        out.join("fs.img").display()
    );
    println!(
        "cargo:rustc-env=XV6SCOPE_USER_ELF_DIR={}",
        user_dir.display()
    );
    println!(
        "cargo:rustc-env=XV6SCOPE_ISA_TEST_DIR={}",
        isa_dir.display()
    );
}

/// `<target>` of the host build, found from OUT_DIR = <target>/<profile>/build/<pkg>/out.
fn target_dir(out: &Path) -> PathBuf {
    out.ancestors()
        .nth(4)
        .expect("OUT_DIR has the usual shape")
        .to_path_buf()
}

/// Names of the user programs: one per `user/src/bin/NAME.rs`.
fn user_programs(bin_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(bin_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|n| n.strip_suffix(".rs"))
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Runs `cargo build --release` in a guest workspace; returns the directory holding its ELFs.
fn build_guest(name: &str, dir: &Path, target: &Path) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .args([
            "build",
            "--release",
            "--target",
            GUEST_TARGET,
            "--target-dir",
        ])
        .arg(target);
    // Forget the host build's configuration; keep the toolchain (RUSTUP_TOOLCHAIN, RUSTC).
    for (key, _) in env::vars() {
        let host_only = key.starts_with("CARGO_")
            || key.starts_with("DEP_")
            || matches!(
                key.as_str(),
                "RUSTFLAGS"
                    | "RUSTDOCFLAGS"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
                    | "NUM_JOBS"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "RUSTC_LINKER"
                    | "MAKEFLAGS"
                    | "MFLAGS"
            );
        if host_only && key != "CARGO_HOME" {
            cmd.env_remove(&key);
        }
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run cargo for the {name} guest build: {e}")));
    if !status.success() {
        fail(&format!(
            "building the guest workspace {} failed (see the errors above)",
            dir.display()
        ));
    }
    target.join(GUEST_TARGET).join("release")
}

/// Installs the riscv64 target with rustup when the toolchain lacks it.
fn ensure_target_installed() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", GUEST_TARGET])
        .output();
    let installed = libdir
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).exists())
        .unwrap_or(false);
    if installed {
        return;
    }
    println!("cargo:warning=installing the {GUEST_TARGET} target with rustup");
    let ok = Command::new("rustup")
        .args(["target", "add", GUEST_TARGET])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        fail(&format!(
            "the Rust target {GUEST_TARGET} is missing and `rustup target add {GUEST_TARGET}` failed; install it by hand"
        ));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1)
}
