//! Passes the linker script to the kernel link: the image must start with `_entry` at
//! 0x8000_0000 (where QEMU's `-bios none` jumps) and keep the trampoline in its own page.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/kernel.ld");
    println!("cargo:rerun-if-changed=kernel.ld");
    println!("cargo:rerun-if-changed=build.rs");
}
