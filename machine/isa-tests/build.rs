//! Points the linker at this crate's directory so `-Tlink.ld` (from .cargo/config.toml) is
//! found regardless of the directory cargo runs in, and relinks when the script changes.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-search={dir}");
    println!("cargo:rerun-if-changed=link.ld");
}
