//! The bundled guest: the Rust xv6 kernel and its fs.img, built by `build.rs` and embedded in
//! the binary so that `xv6scope` boots with no arguments.

use anyhow::Result;

#[cfg(xv6scope_bundled)]
static KERNEL: &[u8] = include_bytes!(env!("XV6SCOPE_BUNDLED_KERNEL"));
#[cfg(xv6scope_bundled)]
static FS_IMG: &[u8] = include_bytes!(env!("XV6SCOPE_BUNDLED_FS"));

#[cfg(xv6scope_bundled)]
include!(concat!(env!("OUT_DIR"), "/user_elfs.rs"));
#[cfg(not(xv6scope_bundled))]
pub static USER_ELFS: &[(&str, &[u8])] = &[];

/// The bundled kernel ELF (with debug info).
pub fn kernel() -> Result<&'static [u8]> {
    #[cfg(xv6scope_bundled)]
    return Ok(KERNEL);
    #[cfg(not(xv6scope_bundled))]
    anyhow::bail!("this build of xv6scope has no bundled kernel; pass --kernel ELF --disk IMG")
}

/// The bundled file system image.
pub fn fs_img() -> Result<&'static [u8]> {
    #[cfg(xv6scope_bundled)]
    return Ok(FS_IMG);
    #[cfg(not(xv6scope_bundled))]
    anyhow::bail!("this build of xv6scope has no bundled fs.img; pass --disk IMG")
}

/// Writes the bundled kernel ELF, fs.img and the user ELFs (with symbols, in `user/`) into
/// `dir`, so that gdb, QEMU and other tools can use them.
pub fn write_image(dir: &std::path::Path) -> Result<()> {
    use anyhow::Context;
    let user = dir.join("user");
    std::fs::create_dir_all(&user).with_context(|| format!("cannot create {}", user.display()))?;
    let write = |path: std::path::PathBuf, bytes: &[u8]| {
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    write(dir.join("kernel"), kernel()?)?;
    write(dir.join("fs.img"), fs_img()?)?;
    for (name, elf) in USER_ELFS {
        write(user.join(name), elf)?;
    }
    Ok(())
}
