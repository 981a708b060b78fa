#!/usr/bin/env python3
"""Boot an xv6 kernel on qemu-system-riscv64 with a disk image and drive its shell.

    qemu.py [--kernel K] [--timeout S] IMG 'cmd 1' 'cmd 2' ...

Waits for the first `$ ` prompt, then for each command sends the line and collects output
until the next prompt (or the per-command timeout). Echoes the console as it comes (so long
runs can be watched with tail -f), and exits 0 when
every command got its prompt back, 1 otherwise. Used to check the Rust user programs against
MIT's C kernel (the default --kernel) and against ours.
"""
import argparse, os, select, subprocess, sys, time

MIT_KERNEL = "/work/ext/xv6-riscv/kernel/kernel"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default=MIT_KERNEL)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per command")
    ap.add_argument("img")
    ap.add_argument("cmds", nargs="*")
    a = ap.parse_args()
    qemu = subprocess.Popen(
        ["qemu-system-riscv64", "-machine", "virt", "-bios", "none", "-kernel", a.kernel,
         "-m", "128M", "-smp", "3", "-nographic", "-global", "virtio-mmio.force-legacy=false",
         "-drive", f"file={a.img},if=none,format=raw,id=x0",
         "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""

    def until_prompt(limit):
        nonlocal out
        start, deadline = len(out), time.time() + limit
        while time.time() < deadline:
            r, _, _ = select.select([qemu.stdout], [], [], 0.2)
            if r:
                chunk = os.read(qemu.stdout.fileno(), 4096)
                if not chunk:
                    return False
                out += chunk
                sys.stdout.write(chunk.decode(errors="replace").replace("\r", ""))
                sys.stdout.flush()
                if out[start:].endswith(b"$ "):
                    return True
        return False

    ok = until_prompt(a.timeout)
    for cmd in a.cmds:
        if not ok:
            break
        qemu.stdin.write(cmd.encode() + b"\n")
        qemu.stdin.flush()
        ok = until_prompt(a.timeout)
    qemu.kill()
    qemu.wait()
    if not ok:
        print("\n[qemu.py: timed out waiting for the prompt]")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
