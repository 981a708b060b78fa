//! QEMU's command line as xv6 lab Makefiles write it, parsed into what xv6scope's machine
//! needs — or refused, one option at a time, with the reason.
//!
//! The grammar is QEMU's: options start with `-` (or `--`), those that take a value take the
//! next argument, and values are comma lists of `key=value` properties where `,,` stands for
//! a comma. What is accepted is exactly what the Makefiles of 2019-2024 pass
//! (`-machine virt -bios none -kernel K -m 128M -smp 3 -nographic -drive ... -device
//! virtio-blk-device,... [-global virtio-mmio.force-legacy=false] [-S -gdb tcp::PORT]`) plus
//! the few options a student adds by hand. Every other option, and every property of an
//! accepted option that would change what the guest sees, is an error naming it: never a
//! silent difference from QEMU.
//!
//! Semantics kept from QEMU: the virtio-mmio transport is legacy unless
//! `-global virtio-mmio.force-legacy=false`; `-m` without a suffix is MiB; `-s` is
//! `-gdb tcp::1234`; the old `-s -p PORT` form names the port; a `-drive` without a
//! `-device` that uses it attaches nothing (`if=none`). The disk must sit on
//! `virtio-mmio-bus.0` (0x1000_1000, where xv6 looks): QEMU would put a device without `bus=`
//! in another slot, where xv6 would not find it, so that is refused too.
//!
//! The net lab's lines (2020-2024): `-netdev user,id=ID[,hostfwd=udp::HOST-:2000]...`,
//! `-object filter-dump,id=X,netdev=ID,file=packets.pcap` and `-device
//! e1000,netdev=ID,bus=pcie.0` give the board its PCIe e1000 on QEMU's user network (see
//! `crate::net`). A `-netdev` that no e1000 uses attaches nothing, as in QEMU.

use std::fmt;
use std::path::PathBuf;

/// The program name QEMU's messages start with.
pub const PROG: &str = "qemu-system-riscv64";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Boot a machine.
    Run(Config),
    /// `-version`.
    Version,
    /// `-help`.
    Help,
}

/// Where the console and the machine's controls go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// The console on stdin/stdout, as `-nographic` (the default for scripts).
    Headless,
    /// xv6scope's terminal debugger (`-display xv6scope`).
    Tui,
}

/// A machine as a QEMU command line describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub kernel: PathBuf,
    pub mem_mib: u64,
    pub smp: usize,
    /// The image of the virtio-blk device on virtio-mmio-bus.0, if one is attached.
    pub disk: Option<PathBuf>,
    /// `-snapshot` or the drive's `snapshot=on`: writes stay in memory.
    pub snapshot: bool,
    /// virtio-mmio version 1 (QEMU's default) instead of 2.
    pub legacy: bool,
    /// The gdb server's address (`tcp::26000` as QEMU writes it).
    pub gdb: Option<String>,
    /// `-S`: hold the harts until gdb continues them.
    pub wait: bool,
    pub display: Display,
    /// The net lab's e1000 on QEMU's user network, with its forwarded ports and capture.
    pub net: Option<crate::net::NetSpec>,
}

/// Why a command line is refused: the option (as written) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub option: String,
    pub why: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.option.is_empty() {
            write!(f, "{}", self.why)
        } else {
            write!(f, "{}: {}", self.option, self.why)
        }
    }
}

impl std::error::Error for ParseError {}

fn err(option: &str, why: impl Into<String>) -> ParseError {
    ParseError {
        option: option.to_string(),
        why: why.into(),
    }
}

/// Parses the arguments after the program name. `tui` is the environment's choice of front
/// end (`XV6SCOPE_TUI=1`); `-display xv6scope` chooses it too.
pub fn parse(args: &[String], tui: bool) -> Result<Invocation, ParseError> {
    let mut p = Parsed::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if !arg.starts_with('-') || arg == "-" {
            return Err(err(
                arg,
                "a disk image given without an option: xv6scope attaches disks only as \
                 -drive ...,if=none + -device virtio-blk-device",
            ));
        }
        // QEMU accepts `--opt` for `-opt`.
        let opt = if arg.starts_with("--") {
            &arg[1..]
        } else {
            arg.as_str()
        };
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| err(opt, "requires an argument"))
        };
        match opt {
            "-version" => return Ok(Invocation::Version),
            "-help" | "-h" => return Ok(Invocation::Help),
            "-machine" | "-M" => p.machine(opt, &value()?)?,
            "-bios" => {
                let v = value()?;
                if v != "none" {
                    return Err(err(
                        opt,
                        format!(
                            "{v}: xv6scope has no firmware; it starts the kernel in M-mode at \
                             its entry, as QEMU does with -bios none"
                        ),
                    ));
                }
                p.bios_none = true;
            }
            "-kernel" => p.kernel = Some(PathBuf::from(value()?)),
            "-m" => p.mem_mib = Some(mem(opt, &value()?)?),
            "-smp" => p.smp = Some(smp(opt, &value()?)?),
            "-nographic" => p.nographic = true,
            "-display" => {
                let v = value()?;
                match v.as_str() {
                    "none" => p.display_none = true,
                    "xv6scope" => p.tui = true,
                    _ => {
                        return Err(err(
                            opt,
                            format!(
                                "{v}: xv6scope has no graphical display (-nographic for the \
                                 console, -display xv6scope for its debugger)"
                            ),
                        ));
                    }
                }
            }
            "-serial" => {
                let v = value()?;
                match v.as_str() {
                    "mon:stdio" | "stdio" => p.serial_stdio = true,
                    _ => {
                        return Err(err(
                            opt,
                            format!("{v}: the console can only be mon:stdio or stdio"),
                        ));
                    }
                }
            }
            "-monitor" => {
                let v = value()?;
                if v != "none" {
                    return Err(err(
                        opt,
                        format!(
                            "{v}: only -monitor none (with -nographic, Ctrl-A c reaches \
                             xv6scope's monitor)"
                        ),
                    ));
                }
            }
            "-drive" => p.drive(opt, &value()?)?,
            "-device" => p.device(opt, &value()?)?,
            "-global" => p.global(opt, &value()?)?,
            "-S" => p.wait = true,
            "-s" => p.gdb_s = true,
            "-p" => p.gdb_port = Some(port(opt, &value()?)?),
            "-gdb" => {
                let v = value()?;
                p.gdb = if v == "none" {
                    None
                } else {
                    Some(gdb_dev(opt, &v)?)
                };
            }
            "-snapshot" => p.snapshot = true,
            "-no-reboot" => {}
            "-netdev" => p.netdev(opt, &value()?)?,
            "-nic" | "-net" => {
                value()?;
                return Err(err(
                    opt,
                    "xv6scope takes the net lab's form: -netdev user,id=ID,... with \
                     -device e1000,netdev=ID,bus=pcie.0",
                ));
            }
            "-object" => p.object(opt, &value()?)?,
            _ => return Err(err(opt, "not supported by xv6scope")),
        }
    }
    p.finish(tui).map(Invocation::Run)
}

/// A `-drive` as given.
#[derive(Debug, Default)]
struct Drive {
    id: Option<String>,
    file: PathBuf,
    snapshot: bool,
}

#[derive(Debug, Default)]
struct Parsed {
    machine_virt: bool,
    bios_none: bool,
    kernel: Option<PathBuf>,
    mem_mib: Option<u64>,
    smp: Option<usize>,
    nographic: bool,
    display_none: bool,
    tui: bool,
    /// `-serial mon:stdio` or `stdio`.
    serial_stdio: bool,
    drives: Vec<Drive>,
    /// `drive=` of the virtio-blk-device.
    blk_drive: Option<String>,
    legacy: Option<bool>,
    wait: bool,
    gdb_s: bool,
    gdb_port: Option<u16>,
    gdb: Option<String>,
    snapshot: bool,
    /// `-netdev user` backends: id and forwarded (host, guest) UDP ports.
    netdevs: Vec<(String, Vec<(u16, u16)>)>,
    /// `-object filter-dump`: the netdev it watches and its file.
    dumps: Vec<(String, PathBuf)>,
    /// The netdev of `-device e1000`.
    nic: Option<String>,
}

/// Splits a QEMU option value into its comma-separated parts (`,,` is a literal comma).
pub fn split_props(value: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                parts.last_mut().unwrap_or(&mut String::new()).push(',');
            } else {
                parts.push(String::new());
            }
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// `on`/`off` and QEMU's other spellings of a boolean property.
fn boolean(opt: &str, key: &str, v: &str) -> Result<bool, ParseError> {
    match v {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(err(opt, format!("{key}={v}: expected on or off"))),
    }
}

impl Parsed {
    fn machine(&mut self, opt: &str, value: &str) -> Result<(), ParseError> {
        for (i, part) in split_props(value).iter().enumerate() {
            let ty = if i == 0 {
                part.strip_prefix("type=").unwrap_or(part)
            } else {
                part.strip_prefix("type=").ok_or_else(|| {
                    err(
                        opt,
                        format!("{part}: machine properties are not supported by xv6scope"),
                    )
                })?
            };
            if ty != "virt" {
                return Err(err(
                    opt,
                    format!("{ty}: xv6scope emulates only the virt board"),
                ));
            }
            self.machine_virt = true;
        }
        Ok(())
    }

    fn drive(&mut self, opt: &str, value: &str) -> Result<(), ParseError> {
        let mut d = Drive::default();
        let mut file = None;
        for part in split_props(value) {
            let (key, v) = part.split_once('=').unwrap_or((part.as_str(), ""));
            match key {
                "file" => file = Some(PathBuf::from(v)),
                "id" => d.id = Some(v.to_string()),
                "if" if v == "none" => {}
                "if" => {
                    return Err(err(
                        opt,
                        format!(
                            "if={v}: xv6scope attaches a drive only as if=none with -device \
                             virtio-blk-device"
                        ),
                    ));
                }
                "format" if v == "raw" => {}
                "format" => {
                    return Err(err(opt, format!("format={v}: only raw images")));
                }
                "media" if v == "disk" => {}
                "snapshot" => d.snapshot = boolean(opt, key, v)?,
                // Host-side caching does not change what the guest sees.
                "cache" | "aio" => {}
                _ => {
                    return Err(err(
                        opt,
                        format!("{part}: drive property not supported by xv6scope"),
                    ));
                }
            }
        }
        d.file = file.ok_or_else(|| err(opt, "no file= (xv6scope needs a disk image)"))?;
        self.drives.push(d);
        Ok(())
    }

    fn device(&mut self, opt: &str, value: &str) -> Result<(), ParseError> {
        let parts = split_props(value);
        let driver = parts[0].strip_prefix("driver=").unwrap_or(&parts[0]);
        match driver {
            "virtio-blk-device" => {}
            "e1000" => return self.e1000(opt, &parts[1..]),
            "e1000e" => {
                return Err(err(
                    opt,
                    "e1000e: xv6scope's NIC is the net lab's e1000 (82540EM); use -device e1000",
                ));
            }
            _ => {
                return Err(err(
                    opt,
                    format!("{driver}: xv6scope's board has one device to add, virtio-blk-device"),
                ));
            }
        }
        if self.blk_drive.is_some() {
            return Err(err(
                opt,
                "a second virtio-blk-device: xv6scope has one virtio slot",
            ));
        }
        let mut bus = None;
        for part in &parts[1..] {
            let (key, v) = part.split_once('=').unwrap_or((part.as_str(), ""));
            match key {
                "drive" => self.blk_drive = Some(v.to_string()),
                "bus" => bus = Some(v.to_string()),
                _ => {
                    return Err(err(
                        opt,
                        format!("{part}: virtio-blk-device property not supported by xv6scope"),
                    ));
                }
            }
        }
        match bus.as_deref() {
            Some("virtio-mmio-bus.0") => {}
            Some(b) => {
                return Err(err(
                    opt,
                    format!(
                        "bus={b}: xv6scope's one virtio slot is virtio-mmio-bus.0 (0x10001000)"
                    ),
                ));
            }
            None => {
                return Err(err(
                    opt,
                    "no bus=: QEMU would pick another slot than 0x10001000, where xv6 looks; \
                     add bus=virtio-mmio-bus.0",
                ));
            }
        }
        if self.blk_drive.is_none() {
            return Err(err(opt, "no drive= (name the -drive's id)"));
        }
        Ok(())
    }

    /// `-netdev user,id=ID[,hostfwd=udp::HOSTPORT-:GUESTPORT]...`.
    fn netdev(&mut self, opt: &str, value: &str) -> Result<(), ParseError> {
        let parts = split_props(value);
        let backend = parts[0].strip_prefix("type=").unwrap_or(&parts[0]);
        if backend != "user" {
            return Err(err(
                opt,
                format!("{backend}: xv6scope's network is QEMU's user network (-netdev user)"),
            ));
        }
        let mut id = None;
        let mut forwards = Vec::new();
        for part in &parts[1..] {
            let (key, v) = part.split_once('=').unwrap_or((part.as_str(), ""));
            match key {
                "id" => id = Some(v.to_string()),
                "hostfwd" => forwards.push(crate::net::hostfwd(v).map_err(|e| err(opt, e))?),
                _ => {
                    return Err(err(
                        opt,
                        format!("{part}: user network property not supported by xv6scope"),
                    ));
                }
            }
        }
        let id = id.ok_or_else(|| err(opt, "no id= (the e1000 names its netdev)"))?;
        self.netdevs.push((id, forwards));
        Ok(())
    }

    /// `-object filter-dump,id=X,netdev=ID,file=FILE`.
    fn object(&mut self, opt: &str, value: &str) -> Result<(), ParseError> {
        let parts = split_props(value);
        let kind = parts[0].strip_prefix("qom-type=").unwrap_or(&parts[0]);
        if kind != "filter-dump" {
            return Err(err(opt, format!("{kind}: not supported by xv6scope")));
        }
        let (mut netdev, mut file) = (None, None);
        for part in &parts[1..] {
            let (key, v) = part.split_once('=').unwrap_or((part.as_str(), ""));
            match key {
                "id" => {}
                "netdev" => netdev = Some(v.to_string()),
                "file" => file = Some(PathBuf::from(v)),
                _ => {
                    return Err(err(
                        opt,
                        format!("{part}: filter-dump property not supported by xv6scope"),
                    ));
                }
            }
        }
        let netdev = netdev.ok_or_else(|| err(opt, "filter-dump without netdev="))?;
        let file = file.ok_or_else(|| err(opt, "filter-dump without file="))?;
        self.dumps.push((netdev, file));
        Ok(())
    }

    /// `-device e1000,netdev=ID[,bus=pcie.0]`: QEMU puts it on pcie.0 at 00:01.0 either way.
    fn e1000(&mut self, opt: &str, props: &[String]) -> Result<(), ParseError> {
        if self.nic.is_some() {
            return Err(err(opt, "a second e1000: xv6scope's board has one"));
        }
        let mut netdev = None;
        for part in props {
            let (key, v) = part.split_once('=').unwrap_or((part.as_str(), ""));
            match key {
                "netdev" => netdev = Some(v.to_string()),
                "bus" if v == "pcie.0" => {}
                "bus" => return Err(err(opt, format!("bus={v}: the e1000 sits on pcie.0"))),
                // xv6 programs QEMU's default MAC into the receive address itself.
                "mac" if v.eq_ignore_ascii_case("52:54:00:12:34:56") => {}
                _ => {
                    return Err(err(
                        opt,
                        format!("{part}: e1000 property not supported by xv6scope"),
                    ));
                }
            }
        }
        self.nic = Some(netdev.ok_or_else(|| err(opt, "e1000 without netdev="))?);
        Ok(())
    }

    fn global(&mut self, opt: &str, value: &str) -> Result<(), ParseError> {
        let (key, v) = value.split_once('=').unwrap_or((value, ""));
        if key != "virtio-mmio.force-legacy" {
            return Err(err(
                opt,
                format!("{key}: only virtio-mmio.force-legacy is supported by xv6scope"),
            ));
        }
        self.legacy = Some(boolean(opt, key, v)?);
        Ok(())
    }

    fn finish(self, tui_env: bool) -> Result<Config, ParseError> {
        if !self.machine_virt {
            return Err(err(
                "",
                "no -machine virt (xv6scope emulates QEMU's virt board)",
            ));
        }
        if !self.bios_none {
            return Err(err(
                "",
                "no -bios none: xv6scope has no firmware and boots the kernel as -bios none does",
            ));
        }
        let kernel = self
            .kernel
            .ok_or_else(|| err("", "no -kernel (xv6scope boots the kernel ELF given there)"))?;
        let display = if self.tui || tui_env {
            Display::Tui
        } else if self.nographic || self.serial_stdio {
            Display::Headless
        } else if self.display_none {
            return Err(err(
                "-display",
                "none without -serial stdio: the console would go nowhere",
            ));
        } else {
            return Err(err(
                "",
                "no -nographic: QEMU would open a window, xv6scope has none (-nographic for \
                 the console, -display xv6scope for its debugger)",
            ));
        };
        let disk = match &self.blk_drive {
            None => None,
            Some(id) => {
                let d = self
                    .drives
                    .iter()
                    .find(|d| d.id.as_deref() == Some(id))
                    .ok_or_else(|| err("-device", format!("drive={id}: no -drive with id={id}")))?;
                Some(d)
            }
        };
        let gdb = match (self.gdb, self.gdb_s) {
            (Some(g), _) => Some(g),
            (None, true) => Some(format!("tcp::{}", self.gdb_port.unwrap_or(1234))),
            (None, false) => None,
        };
        if self.gdb_port.is_some() && !self.gdb_s {
            return Err(err("-p", "without -s"));
        }
        for (netdev, _) in &self.dumps {
            if !self.netdevs.iter().any(|(id, _)| id == netdev) {
                return Err(err(
                    "-object",
                    format!("netdev={netdev}: no -netdev with that id"),
                ));
            }
        }
        let net = match &self.nic {
            None => None,
            Some(nic) => {
                let (_, forwards) =
                    self.netdevs
                        .iter()
                        .find(|(id, _)| id == nic)
                        .ok_or_else(|| {
                            err("-device", format!("netdev={nic}: no -netdev with that id"))
                        })?;
                Some(crate::net::NetSpec {
                    forwards: forwards.clone(),
                    dump: self
                        .dumps
                        .iter()
                        .find(|(id, _)| id == nic)
                        .map(|(_, f)| f.clone()),
                })
            }
        };
        Ok(Config {
            kernel,
            mem_mib: self.mem_mib.unwrap_or(machine::board::DEFAULT_RAM_MIB),
            smp: self.smp.unwrap_or(1),
            snapshot: self.snapshot || disk.is_some_and(|d| d.snapshot),
            disk: disk.map(|d| d.file.clone()),
            legacy: self.legacy.unwrap_or(true),
            gdb,
            wait: self.wait,
            display,
            net,
        })
    }
}

/// `-m 128M`, `-m 128`, `-m 1G`, `-m size=128M`: MiB.
fn mem(opt: &str, value: &str) -> Result<u64, ParseError> {
    let v = value.strip_prefix("size=").unwrap_or(value);
    if v.contains(',') {
        return Err(err(
            opt,
            format!("{value}: only a size (slots= and maxmem= are not supported)"),
        ));
    }
    let bad = || err(opt, format!("{value}: expected a size like 128M or 1G"));
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, suffix) = v.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let bytes = match suffix {
        "" | "M" | "m" | "MB" | "MiB" => n.checked_mul(1 << 20),
        "G" | "g" | "GB" | "GiB" => n.checked_mul(1 << 30),
        "K" | "k" | "KB" | "KiB" => n.checked_mul(1 << 10),
        "B" | "b" => Some(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    if bytes == 0 || bytes % (1 << 20) != 0 {
        return Err(err(
            opt,
            format!("{value}: xv6scope's RAM is a whole number of MiB"),
        ));
    }
    Ok(bytes >> 20)
}

/// `-smp 3` or `-smp cpus=3` (other topology properties are refused).
fn smp(opt: &str, value: &str) -> Result<usize, ParseError> {
    let parts = split_props(value);
    let mut n = None;
    for (i, part) in parts.iter().enumerate() {
        let v = match part.split_once('=') {
            Some(("cpus", v)) => v,
            None if i == 0 => part.as_str(),
            _ => {
                return Err(err(
                    opt,
                    format!("{part}: only the number of CPUs (N or cpus=N)"),
                ));
            }
        };
        n = Some(
            v.parse::<usize>()
                .ok()
                .filter(|n| (1..=machine::board::MAX_HARTS).contains(n))
                .ok_or_else(|| err(opt, format!("{v}: 1 to {} CPUs", machine::board::MAX_HARTS)))?,
        );
    }
    n.ok_or_else(|| err(opt, "requires a number of CPUs"))
}

fn port(opt: &str, value: &str) -> Result<u16, ParseError> {
    value
        .parse()
        .map_err(|_| err(opt, format!("{value}: not a port number")))
}

/// `-gdb tcp::PORT`, `tcp:HOST:PORT` (`,server`, `,nowait` and `,wait=off` allowed).
fn gdb_dev(opt: &str, value: &str) -> Result<String, ParseError> {
    let parts = split_props(value);
    let addr = parts[0].strip_prefix("tcp:").ok_or_else(|| {
        err(
            opt,
            format!("{value}: xv6scope serves gdb on tcp::PORT only"),
        )
    })?;
    let (_, p) = addr
        .rsplit_once(':')
        .ok_or_else(|| err(opt, format!("{value}: expected tcp::PORT or tcp:HOST:PORT")))?;
    port(opt, p)?;
    for part in &parts[1..] {
        if !matches!(
            part.as_str(),
            "server" | "server=on" | "nowait" | "wait=off" | "ipv4" | "ipv4=on"
        ) {
            return Err(err(
                opt,
                format!("{part}: not supported by xv6scope's gdb server"),
            ));
        }
    }
    Ok(format!("tcp:{addr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn props_split_on_single_commas() {
        assert_eq!(split_props("a=1,b=2"), vec!["a=1", "b=2"]);
        assert_eq!(
            split_props("file=a,,b.img,id=x"),
            vec!["file=a,b.img", "id=x"]
        );
        assert_eq!(split_props("virt"), vec!["virt"]);
    }

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    /// The lines of lab Makefiles, 2019-2024 (`make qemu` and `make qemu-gdb`).
    const BASE: &str = "-machine virt -bios none -kernel kernel/kernel -m 128M -smp 3 -nographic \
                        -drive file=fs.img,if=none,format=raw,id=x0 \
                        -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0";

    fn config(line: &str) -> Config {
        match parse(&words(line), false) {
            Ok(Invocation::Run(c)) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn real_makefile_lines_become_machines() {
        let legacy = Config {
            kernel: "kernel/kernel".into(),
            mem_mib: 128,
            smp: 3,
            disk: Some("fs.img".into()),
            snapshot: false,
            legacy: true,
            gdb: None,
            wait: false,
            display: Display::Headless,
            net: None,
        };
        // 2020, 2021: QEMU's default transport, legacy.
        assert_eq!(config(BASE), legacy);
        // 2022 on.
        let modern = Config {
            legacy: false,
            ..legacy.clone()
        };
        let line = format!("{BASE} -global virtio-mmio.force-legacy=false");
        assert_eq!(config(&line), modern);
        // make qemu-gdb, as every Makefile writes it.
        assert_eq!(
            config(&format!("{line} -S -gdb tcp::26000")),
            Config {
                gdb: Some("tcp::26000".into()),
                wait: true,
                ..modern.clone()
            }
        );
        // The old -s -p PORT form, and -s alone.
        assert_eq!(
            config(&format!("{BASE} -S -s -p 25501")).gdb.as_deref(),
            Some("tcp::25501")
        );
        assert_eq!(
            config(&format!("{BASE} -s")).gdb.as_deref(),
            Some("tcp::1234")
        );
        // 2024 pgtbl: -m 256M; CPUS=1 for the fs lab.
        let line = BASE
            .replace("-m 128M", "-m 256M")
            .replace("-smp 3", "-smp 1");
        let c = config(&line);
        assert_eq!((c.mem_mib, c.smp), (256, 1));
        // Hand-written forms: cpus=N, -M, --options, -serial mon:stdio, -monitor none,
        // -snapshot, -no-reboot, a drive with snapshot=on and a comma in its file name.
        let c = config(
            "-M virt -bios none --kernel k -m 1G -smp cpus=2 -serial mon:stdio -monitor none \
             -drive file=my,,fs.img,if=none,format=raw,id=d,snapshot=on \
             -device virtio-blk-device,drive=d,bus=virtio-mmio-bus.0 -no-reboot",
        );
        assert_eq!(
            (c.mem_mib, c.smp, c.disk, c.snapshot),
            (1024, 2, Some("my,fs.img".into()), true)
        );
        assert!(config(&format!("{BASE} -snapshot")).snapshot);
        // The front end: -display xv6scope, or the environment.
        assert_eq!(
            config(&format!("{BASE} -display xv6scope")).display,
            Display::Tui
        );
        assert!(matches!(
            parse(&words(BASE), true),
            Ok(Invocation::Run(Config {
                display: Display::Tui,
                ..
            }))
        ));
        // No disk attached: a drive nobody uses.
        let line = "-machine virt -bios none -kernel k -nographic -drive file=f,if=none,id=x";
        assert_eq!(config(line).disk, None);
        assert_eq!(config(line).smp, 1, "QEMU's default");
        // The net lab, 2020-2023: one forwarded port and a capture file.
        let net = format!(
            "{BASE} -netdev user,id=net0,hostfwd=udp::25999-:2000 \
             -object filter-dump,id=net0,netdev=net0,file=packets.pcap \
             -device e1000,netdev=net0,bus=pcie.0"
        );
        assert_eq!(
            config(&net).net,
            Some(crate::net::NetSpec {
                forwards: vec![(25999, 2000)],
                dump: Some("packets.pcap".into()),
            })
        );
        // 2024: two forwarded ports; and a netdev without hostfwd or capture.
        let net24 = net.replace(
            "hostfwd=udp::25999-:2000",
            "hostfwd=udp::25999-:2000,hostfwd=udp::30999-:2001",
        );
        assert_eq!(
            config(&net24).net.unwrap().forwards,
            [(25999, 2000), (30999, 2001)]
        );
        let plain = format!("{BASE} -netdev user,id=n -device e1000,netdev=n,bus=pcie.0");
        assert_eq!(config(&plain).net, Some(crate::net::NetSpec::default()));
        // A netdev no NIC uses attaches nothing.
        assert_eq!(config(&format!("{BASE} -netdev user,id=n")).net, None);
        assert_eq!(parse(&words("-version"), false), Ok(Invocation::Version));
        assert_eq!(parse(&words("-help"), false), Ok(Invocation::Help));
    }

    #[test]
    fn bad_lines_are_refused_naming_the_option() {
        let refused = |line: &str, option: &str, says: &str| {
            let e = parse(&words(line), false).expect_err(line);
            assert_eq!(e.option, option, "{line}: {e}");
            assert!(e.to_string().contains(says), "{line}: {e}");
        };
        refused(
            &format!("{BASE} -device e1000,netdev=net0,bus=pcie.0"),
            "-device",
            "netdev=net0: no -netdev",
        );
        refused(
            &format!("{BASE} -netdev user,id=n -object filter-dump,id=f,netdev=n"),
            "-object",
            "without file=",
        );
        refused(
            &format!("{BASE} -netdev user,id=n -object filter-dump,id=f,netdev=m,file=p"),
            "-object",
            "netdev=m",
        );
        refused(
            &format!("{BASE} -netdev tap,id=n"),
            "-netdev",
            "user network",
        );
        refused(
            &format!("{BASE} -netdev user,id=n,hostfwd=tcp::1-:2"),
            "-netdev",
            "only UDP",
        );
        refused(
            &format!("{BASE} -netdev user,id=n,net=10.1.0.0/24"),
            "-netdev",
            "net=10.1.0.0/24",
        );
        refused(&format!("{BASE} -netdev user"), "-netdev", "no id=");
        refused(
            &format!("{BASE} -netdev user,id=n -device e1000,netdev=n,bus=pcie.1"),
            "-device",
            "pcie.0",
        );
        refused(
            &format!("{BASE} -netdev user,id=n -device e1000e,netdev=n"),
            "-device",
            "82540EM",
        );
        refused(&format!("{BASE} -nic user"), "-nic", "-netdev user");
        refused(
            &format!("{BASE} -object memory-backend-ram,id=m"),
            "-object",
            "not supported",
        );
        refused(&format!("{BASE} -cpu rv64"), "-cpu", "not supported");
        refused(&format!("{BASE} -d int"), "-d", "not supported");
        refused(
            &BASE.replace("virt", "sifive_u"),
            "-machine",
            "only the virt board",
        );
        refused(
            &BASE.replace("-bios none", "-bios default"),
            "-bios",
            "no firmware",
        );
        refused(&BASE.replace("-bios none", ""), "", "no -bios none");
        refused(&BASE.replace("-kernel kernel/kernel", ""), "", "no -kernel");
        refused(&BASE.replace("-nographic", ""), "", "no -nographic");
        refused(&BASE.replace("-m 128M", "-m lots"), "-m", "a size");
        refused(&BASE.replace("-smp 3", "-smp 9"), "-smp", "1 to 8");
        refused(
            &BASE.replace("-smp 3", "-smp 2,sockets=2"),
            "-smp",
            "sockets=2",
        );
        refused(
            &BASE.replace("format=raw", "format=qcow2"),
            "-drive",
            "only raw",
        );
        refused(&BASE.replace("if=none", "if=virtio"), "-drive", "if=virtio");
        refused(
            &BASE.replace(",bus=virtio-mmio-bus.0", ""),
            "-device",
            "no bus=",
        );
        refused(
            &BASE.replace("bus.0", "bus.1"),
            "-device",
            "virtio-mmio-bus.0",
        );
        refused(
            &BASE.replace("drive=x0,", "drive=y,"),
            "-device",
            "no -drive with id=y",
        );
        refused(
            &format!("{BASE} -global virtio-mmio.foo=1"),
            "-global",
            "force-legacy",
        );
        refused(
            &format!("{BASE} -global virtio-mmio.force-legacy=maybe"),
            "-global",
            "on or off",
        );
        refused(&format!("{BASE} -gdb unix:/tmp/s"), "-gdb", "tcp::PORT");
        refused(
            &format!("{BASE} -display gtk"),
            "-display",
            "no graphical display",
        );
        refused(
            &format!("{BASE} -kernel"),
            "-kernel",
            "requires an argument",
        );
        refused(&format!("{BASE} fs.img"), "fs.img", "without an option");
    }

    #[test]
    fn sizes() {
        assert_eq!(mem("-m", "128M"), Ok(128));
        assert_eq!(mem("-m", "256"), Ok(256));
        assert_eq!(mem("-m", "1G"), Ok(1024));
        assert_eq!(mem("-m", "size=512M"), Ok(512));
        assert!(mem("-m", "12.5M").is_err());
        assert!(mem("-m", "1000K").is_err());
        assert!(mem("-m", "128M,maxmem=1G").is_err());
    }
}
